"""Rehearsal: the real speedboat scenario played by bots through the real engine, and its report."""

from __future__ import annotations

from collections import Counter

import pytest

from tabletop import ROOT
from tabletop.engine import events as ev
from tabletop.rehearse import rehearse
from tabletop.report.build import build_files

from .report_helpers import pdf_text, squeeze
from .test_report import SECTIONS

SPEEDBOAT = ROOT / "exercises" / "speedboat-harassment-2020.yaml"
# Test strings the bots slip in (markup that must stay text, other scripts): never rehearsal content.
PERSIAN = "پیام شما دریافت شد. قایق‌ها تا هزار یارد عقب می‌کشند و در کانال ۱۶ پاسخ می‌دهند."
ARABIC = "تم استلام الرسالة، وسننقلها إلى الطرف الآخر فوراً ونطلب تأكيد الاستلام."
SCRIPT_TAG = "<script>alert(1)</script> please ignore this line"
IMG_TAG = '<img src="http://127.0.0.1:9/x.png"> see attached chart'
HOSTILE = (SCRIPT_TAG, PERSIAN, ARABIC, IMG_TAG)


@pytest.fixture(scope="module")
def rehearsal():
    return rehearse(SPEEDBOAT, players=2, seed=3, extra_lines=HOSTILE)


def test_bots_play_every_kind_of_move(rehearsal):
    events = rehearsal.events()
    kinds = Counter(e.type for e in events)
    assert kinds[ev.SESSION_ENDED] == 1 and kinds[ev.CLOCK_PAUSED] == 1 and kinds[ev.CLOCK_RESUMED] == 1
    assert kinds[ev.INJECT_RELEASED] >= 20 and kinds[ev.INJECT_ACKNOWLEDGED] >= 20
    assert kinds[ev.DECISION_MADE] >= 5
    actions = Counter(e.payload.action for e in events if isinstance(e.payload, ev.MessageRelayed))
    assert {"forward", "edit", "hold", "decline"} <= set(actions)
    channels = {e.payload.channel for e in events if isinstance(e.payload, ev.Message | ev.MessageSent)}
    assert {"team", "bridge", "oman-line", "public"} <= channels
    texts = [e.payload_json.get("text") for e in events]
    assert SCRIPT_TAG in texts and PERSIAN in texts
    assert kinds[ev.NOTE] >= 3 and kinds[ev.OBSERVATION] >= 5 and kinds[ev.IMPROVEMENT_PLAN] == 1
    assert kinds[ev.FEEDBACK] == 2 * 3 + 2  # every player, the observer and control
    decided = [e.payload for e in events if isinstance(e.payload, ev.DecisionMade) and not e.payload.by_default]
    assert decided and all(d.position for d in decided)  # by authorised positions only
    assert sum(rehearsal.refused.values()) <= 3


def test_bots_answer_the_key_questions_they_are_asked(rehearsal):
    """At an `ask_at` inject a bot of each team asked gives its picture, then updates it: the report's
    misperception section has something to set beside the truth."""
    from tabletop.engine.beliefs import teams_asked

    events = rehearsal.events()
    released = {e.payload.inject: set(e.payload.to) for e in events if isinstance(e.payload, ev.InjectReleased)}
    asked = {
        (q.id, team)
        for q in rehearsal.exercise.key_questions
        for inject in q.ask_at
        for team in released.get(inject, set()) & set(teams_asked(rehearsal.exercise, q))
    }
    answers = Counter((e.payload.question, e.payload.team) for e in events if isinstance(e.payload, ev.Assessment))
    assert asked and set(answers) == asked
    assert all(n >= 2 for n in answers.values())  # a first picture, then an update


def test_same_seed_same_game():
    def shape(game):
        return [(e.type, round(e.t, 3), e.payload_json.get("text")) for e in game.events()]

    first = rehearse(SPEEDBOAT, players=1, seed=11, exchanges=40)
    again = rehearse(SPEEDBOAT, players=1, seed=11, exchanges=40)
    assert shape(first) == shape(again)
    messages = first.summary()["messages"]
    assert 40 <= messages <= 41  # the players' 40, and control's one spoofed call


def test_rehearsal_report_reads_back(rehearsal, tmp_path):
    built = build_files(rehearsal.store, rehearsal.session, tmp_path)
    text = pdf_text(built.pdf)
    flat = squeeze(text)
    for title in SECTIONS:
        assert squeeze(title) in flat, title
    assert squeeze(SCRIPT_TAG) in flat
    # pdftotext puts the runs of a right-to-left sentence with digits in its own order: compare one clause.
    assert squeeze("قایق‌ها تا هزار یارد عقب می‌کشند و در کانال") in flat
    assert "Speedboat harassment" in text and "EDITED" in text and "DECLINED" in text
    assert built.timings["pages"] == text.count("\f")


def test_rehearse_command(runner, tmp_path):
    out = tmp_path / "rehearsal.pdf"
    result = runner.invoke(
        args=["exercise", "rehearse", str(SPEEDBOAT), "--players", "1", "--seed", "2", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "injects released" in result.output and "decisions" in result.output and "[100%]" in result.output
    assert out.read_bytes().startswith(b"%PDF")
    missing = runner.invoke(args=["exercise", "rehearse", str(tmp_path / "nope.yaml")])
    assert missing.exit_code != 0 and "Traceback" not in missing.output


# --- bots speak the scenario ---------------------------------------------------------------------

DATA = ROOT / "tests" / "data"
GLOBAL_HAWK = ROOT / "exercises" / "global-hawk-2019.yaml"
# What the bots of earlier versions said in every scenario, whatever it was about.
SPEEDBOAT_PHRASES = (
    "keep your boats beyond 1,000 yards",
    "29 10N 049 40E",
    "rules of engagement have changed after the post",
    "four fast boats closing from the north-east",
    "Keeps the crews safe and leaves room to talk through Muscat.",
    "Tension after the post",
    "Muscat passes on:",
)


def _texts(game, team=None):
    return [
        e.payload.text
        for e in game.events()
        if isinstance(e.payload, ev.Message | ev.MessageSent)
        and not getattr(e.payload, "spoofed", False)
        and (team is None or e.payload.from_team == team)
    ]


@pytest.fixture(scope="module")
def lines_game():
    return rehearse(DATA / "rehearsal.yaml", players=2, seed=2)


def test_bots_say_the_injects_rehearsal_lines(lines_game):
    from tabletop.script import load_exercise

    script = load_exercise(DATA / "rehearsal.yaml")
    authored = {line.text: line for i in script.injects for line in i.rehearsal if line.option is None}
    said = [t for t in _texts(lines_game) if t.split('". ')[-1] in authored]
    assert len({t.split('". ')[-1] for t in said}) >= 2, _texts(lines_game)
    for e in lines_game.events():  # a line for one team and one channel is said by that team, there
        if isinstance(e.payload, ev.Message | ev.MessageSent) and e.payload.text.split('". ')[-1] in authored:
            line = authored[e.payload.text.split('". ')[-1]]
            assert line.team in (None, e.payload.from_team) and line.channel in (None, e.payload.channel)
    rationales = {line.text for i in script.injects for line in i.rehearsal if line.option}
    decided = [e.payload for e in lines_game.events() if isinstance(e.payload, ev.DecisionMade) and e.payload.rationale]
    assert decided and all(d.rationale in rationales for d in decided)
    for d in decided:  # the rationale given is the one written for the option taken
        assert next(line.option for i in script.injects for line in i.rehearsal if line.text == d.rationale) == d.option


def test_without_lines_bots_speak_from_the_scripts_text(tmp_path):
    import yaml

    data = yaml.safe_load((DATA / "rehearsal.yaml").read_text(encoding="utf-8"))
    for inject in data["injects"]:
        inject.pop("rehearsal", None)
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert "rehearsal:" not in plain.read_text(encoding="utf-8")
    game = rehearse(plain, players=1, seed=2)
    said = _texts(game)
    assert said
    words = ("Marigold", "lighthouse", "tug", "pilot", "Blue Coast Guard", "Red Navy", "broker's line", "brief")
    assert all(any(w.lower() in t.lower() for w in words) for t in said), said
    assert not any(p.lower() in t.lower() for t in said for p in SPEEDBOAT_PHRASES)


def test_a_contingency_inject_is_released_in_a_rehearsal(lines_game):
    released = [e.payload for e in lines_game.events() if isinstance(e.payload, ev.InjectReleased)]
    assert [p.how for p in released if p.inject == "pilot-missing"] == ["by hand"]


def test_the_observer_rates_what_happened(lines_game):
    observations = [e.payload for e in lines_game.events() if isinstance(e.payload, ev.Observation)]
    rated = [(o.objective, o.team) for o in observations if o.objective]
    assert rated and len(rated) == len(set(rated))  # one rating per objective and team: no contradictions
    for o in observations:
        if o.objective:
            assert o.text.startswith("Tested by ") and o.rating in "PSMU"
            if o.rating == "P":
                assert "held, declined or jammed" not in o.text and "left to the default" not in o.text.replace(
                    "0 left to the default", ""
                )
            if o.rating == "U":
                assert "Nothing reached the other side." in o.text


def test_no_speedboat_phrase_and_no_test_string_in_a_global_hawk_rehearsal():
    game = rehearse(GLOBAL_HAWK, players=2, seed=7)
    texts = [str(v) for e in game.events() for v in e.payload_json.values() if isinstance(v, str)]
    for phrase in SPEEDBOAT_PHRASES:
        assert not any(phrase in t for t in texts), phrase
    for hostile in HOSTILE:
        assert not any(hostile in t for t in texts)
    assert not any("<script" in t or "<img" in t for t in _texts(game))
    released = {e.payload.inject: e.payload.how for e in game.events() if isinstance(e.payload, ev.InjectReleased)}
    groups: dict[tuple, list[str]] = {}  # contingencies of a move titled "Same head: ..." are alternatives
    for i in game.exercise.injects:
        if i.release == "contingency" and not i.is_choice and game.exercise.choice_of(i.id) is None:
            head = i.title.split(":", 1)[0].lower() if ":" in i.title else i.id
            groups.setdefault((i.move, head), []).append(i.id)
    assert groups
    for ids in groups.values():
        assert [released.get(i) for i in ids].count("by hand") == 1, ids


def test_a_seat_can_be_played_by_another_player():
    """The bot seat is one `Player`; another (an AI seat) takes any seat through `player_for`."""
    from tabletop.rehearse import ScriptPlayer

    class Scripted(ScriptPlayer):
        def say(self, seat, channel, cue):
            return f"{seat.position} speaking on {channel}"

    game_script = DATA / "rehearsal.yaml"
    made = []

    def player_for(seat):
        if seat.team != "red":
            return None
        from tabletop.script import load_exercise

        player = Scripted(load_exercise(game_script), __import__("random").Random(1))
        made.append(seat)
        return player

    game = rehearse(game_script, players=1, seed=4, player_for=player_for)
    assert [s.team for s in made] == ["red"]
    red = _texts(game, "red")
    assert red and all(t.startswith("red-hq speaking on ") for t in red)
    assert not any(t.startswith("red-hq speaking on") for t in _texts(game, "blue"))  # blue may quote red


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "        team: blue\n        channel: line",
            "        team: broker\n        channel: line",
            "team 'broker' does not receive this inject (blue, red): its bots never say it",
        ),
        (
            "        channel: line",
            "        channel: fax",
            "unknown channel 'fax' in 'channel' (channels: team, line, radio)",
        ),
        ("        option: cutter", "        option: frigate", "unknown option 'frigate' (options: tug, cutter)"),
        (
            "        option: cutter",
            "        option: cutter\n        channel: radio",
            "a rationale ('option') is given with the decision, on no channel",
        ),
        ("      - Marigold drifting", "      - text: ''\n      - Marigold drifting", "'text' must not be empty"),
        ("format: 2", "format: 1", "'rehearsal' needs format: 2 (this script says format: 1)"),
    ],
)
def test_rehearsal_lines_are_checked(old, new, message):
    from tabletop.script import ScriptError
    from tabletop.script.loader import load_exercise_bytes

    text = (DATA / "rehearsal.yaml").read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(ScriptError) as info:
        load_exercise_bytes(text.replace(old, new, 1).encode(), "r.yaml", script_dir=DATA)
    assert any(message in p.message for p in info.value.problems), [p.message for p in info.value.problems]
