"""The third scenario (exercises/riverine-boats-2016.yaml) and the risk injects of the library.

The scenario and every library inject in injects/risks/ validate; the two rounds play the same
incident and differ as designed, through the real engine: the ministers' line carries messages in
Round 1 and is closed in Round 2, while the Oman line, VHF 16 and the Swiss channel stay open; the
ladder restarts at the same rung in each round; the morning follows the Iranian decision.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tabletop import ROOT
from tabletop.engine import Actor, ManualTime, Refused
from tabletop.engine import events as ev
from tabletop.live import Live
from tabletop.script import load_exercise
from tabletop.script.lint import lint_file
from tabletop.script.models import snapshot
from tabletop.store import Store

from .engine_helpers import Game

SCRIPT = ROOT / "exercises" / "riverine-boats-2016.yaml"
LIBRARY = ROOT / "injects"
RISKS = sorted((LIBRARY / "risks").glob("*.yaml"))
# Every library inject: each file of injects/ but the base files (one inject per file).
LIBRARY_INJECTS = sorted(p for p in LIBRARY.rglob("*.yaml") if p.parent.name != "bases")
SEATS = {
    "us-state": ("us", "Sec"),
    "us-line-colonel": ("us", "Cora"),
    "centcom-j3": ("us", "Jim"),
    "us-bridge-watch": ("us", "Tao"),
    "iran-mfa": ("iran", "Min"),
    "afgs-colonel": ("iran", "Ramin"),
    "afgs-deputy": ("iran", "Dep"),
    "irgcn-commander": ("iran", "Ali"),
    "irgcn-boat-leader": ("iran", "Bahram"),
    "oman-liaison": ("oman", "Omar"),
    "sof-cos": ("oman", "Chief"),
}
ROUND_2 = 30 * 60


# ------------------------------------------------------------------ the script and the library
def test_the_scenario_validates_with_two_rounds_of_true_or_marked_dates() -> None:
    ex = load_exercise(SCRIPT)
    assert ex.format == 2 and ex.duration == 75 * 60
    assert [(m.id, m.at) for m in ex.moves] == [("r1-day", 0), ("r1-night", 1200), ("r2-day", 1800), ("r2-night", 3300)]
    assert ex.moves[2].stop_clock and not ex.moves[1].stop_clock  # a plenary between the rounds only
    assert str(ex.moves[0].scenario_start).startswith("2016-01-12")
    ministers = next(c for c in ex.channels if c.id == "ministers")
    assert ministers.kind == "direct" and ministers.initially == "open"
    assert set(ministers.write or ()) == {"us-state", "iran-mfa"}
    # Every library inject of the briefing's risks is played, and every Round 2 inject with content
    # is marked as an exercise event (the night and the end are the facilitator's announcements).
    text = SCRIPT.read_text(encoding="utf-8")
    for path in RISKS:
        assert f"include: risks/{path.name}" in text, path.name
    announcements = {"r2-night", "r2-endex"}
    for inject in ex.injects:
        if inject.id.startswith("r2-") and not inject.choose and not inject.id.startswith("r2-ladder-"):
            assert inject.fiction or inject.id in announcements, inject.id


def test_the_scenario_lints_clean_in_a_120_minute_slot() -> None:
    assert [str(f) for f in lint_file(SCRIPT)] == []


def _decisions(ex) -> dict[str, object]:
    return {i.id: i.decision for i in ex.injects if i.decision}


def test_options_score_by_what_they_do_with_neutral_defaults_and_strategic_deadlines() -> None:
    ex = load_exercise(SCRIPT)
    for inject_id, decision in _decisions(ex).items():
        assert decision.deadline is not None and 10 * 60 <= decision.deadline <= 15 * 60, inject_id
        default = next(o for o in decision.options if o.id == decision.default)
        assert default.escalation == 0, inject_id  # the deadline never pushes play up or down
        for option in decision.options:  # no option is scored for the channel it names
            assert "oman" not in option.label.lower() or option.escalation == 0, (inject_id, option.id)


def test_the_rounds_play_the_same_incident() -> None:
    ex = load_exercise(SCRIPT)
    by_id = {i.id: i for i in ex.injects}
    pairs = ["boats-lost", "boats-held", "vhf", "oman-offer", "posture", "withholding", "state-media", "us-public"]
    pairs += ["telephone", "disposition", "ships-seen", "rescue-ready", "regret-cost", "demand-read", "flag-opens"]
    pairs += ["legitimacy"]
    for name in pairs:
        one, two = by_id[f"r1-{name}"], by_id[f"r2-{name}"]
        assert one.body == two.body and one.to == two.to, name
        assert (one.decision is None) == (two.decision is None), name
        if one.decision:
            assert [(o.id, o.escalation) for o in one.decision.options] == [
                (o.id, o.escalation) for o in two.decision.options
            ]
        if one.at is not None:
            assert two.at - one.at == ROUND_2, name  # the same minute of each round
    assert by_id["r1-boats-lost"].incident and by_id["r2-boats-lost"].incident


def _script_with(tmp_path: Path, include: str) -> Path:
    script = tmp_path / "one.yaml"
    script.write_text(
        "format: 2\nbase: bases/gulf-three-teams.yaml\nid: one\ntitle: One library inject\nduration: 30m\n"
        f'injects:\n  - include: {include}\n    id: probe\n    at: "+00:05"\n    to: [us, iran, oman]\n',
        encoding="utf-8",
    )
    return script


@pytest.mark.parametrize("path", LIBRARY_INJECTS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_each_library_inject_validates_on_its_own_with_the_shared_base(tmp_path: Path, path: Path) -> None:
    ex = load_exercise(_script_with(tmp_path, path.relative_to(LIBRARY).as_posix()), library=LIBRARY)
    inject = ex.injects[0]
    assert inject.title and inject.body and inject.expect and inject.notes
    if path in RISKS:  # the risk injects are exercise events, citing the briefing's risk
        assert inject.fiction and "000_1337e7dcf9fe2420.txt:" in (inject.source or "")


def test_the_library_holds_at_least_eight_risk_injects() -> None:
    names = {p.stem for p in RISKS}
    assert len(names) >= 8
    assert {
        "telephone-game",
        "rank-mismatch",
        "withholding-commander",
        "faction-leak",
        "patch-us-through",
        "un-offer",
        "congressional-inquiry",
        "career-risk",
        "legitimacy-trap",
    } <= names


# ------------------------------------------------------------------ the two rounds in play
def make(tmp_path: Path) -> Game:
    store = Store(f"sqlite:///{tmp_path / 'game.db'}")
    store.migrate()
    exercise = load_exercise(SCRIPT)
    session = store.create_session(
        exercise.id, exercise.title, snapshot(exercise), [t.id for t in exercise.teams], None
    )
    time = ManualTime()
    published: list[ev.Event] = []
    live = Live(store, time, lambda sid, e, state: published.append(e))
    actors = {"control": Actor("control", None, "White Cell")}
    for position, (team, name) in SEATS.items():
        pid = store.add_participant(session, "player", name, team, position, [])
        actors[position] = Actor("player", pid, name, team, position)
    return Game(store, live, time, session, actors, published)


@pytest.fixture
def game(tmp_path: Path) -> Game:
    g = make(tmp_path)
    g.do("control", "clock", action="start")
    return g


def texts_seen_by(game: Game, who: str) -> list[str]:
    return [v["payload"].get("text") for v in game.seen_by(who) if "text" in v["payload"]]


def test_the_ministers_line_is_open_in_round_1_and_closed_in_round_2(game: Game) -> None:
    game.advance(60)
    assert game.state.escalation == 2  # the crew held: the ladder starts at its rung
    assert game.state.is_open("ministers") and not game.state.is_open("flag-line")
    sent = game.do("us-state", "send_message", channel="ministers", text="Ten of our sailors: are they with you?")
    assert sent.events[0].type == ev.MESSAGE
    assert "Ten of our sailors: are they with you?" in texts_seen_by(game, "iran-mfa")
    assert "Ten of our sailors: are they with you?" not in texts_seen_by(game, "afgs-deputy")  # ministers only
    with pytest.raises(Refused) as no:
        game.do("centcom-j3", "send_message", channel="ministers", text="J3 here")
    assert no.value.code == "forbidden"

    game.advance(15 * 60)  # +00:16: the line was used, so it can leak
    assert "r1-leak" in game.released()
    game.advance(ROUND_2 - 16 * 60)  # +00:30: the plenary stops the clock before Round 2
    assert game.state.waiting == "r2-day" and game.state.is_open("ministers")
    game.do("control", "start_move", move="r2-day")
    assert {"r2-ministers-closed", "r2-boats-lost"} <= set(game.released())
    assert not game.state.is_open("ministers")
    with pytest.raises(Refused) as no:
        game.do("iran-mfa", "send_message", channel="ministers", text="We hold them")
    assert no.value.code == "closed"
    # What is left: the Oman line, VHF 16, the Swiss channel, public statements.
    for channel in ("oman-line", "bridge", "swiss", "public"):
        assert game.state.is_open(channel), channel
    assert game.do("us-line-colonel", "send_message", channel="oman-line", text="Ten crew?").events[0].type == (
        ev.MESSAGE_SENT
    )
    assert game.do("us-state", "send_message", channel="swiss", text="A note for Tehran").events
    assert game.state.escalation == 2  # the ladder restarts where Round 1 started


def test_round_2_restarts_the_ladder_whatever_round_1_did(game: Game) -> None:
    game.advance(5 * 60)
    game.do("centcom-j3", "decide", inject="r1-posture", option="rescue", rationale="Be ready.")
    game.advance(5 * 60)
    game.do("centcom-j3", "decide", inject="r1-us-public", option="demand", rationale="Firm.")
    assert game.state.escalation == 4  # a rescue force readied; words do not move the ladder
    game.advance(ROUND_2 - 10 * 60)
    game.do("control", "start_move", move="r2-day")
    assert game.state.escalation == 2
    assert "r2-ladder-down2" in game.released()


def test_the_morning_follows_the_iranian_decision_in_each_round(game: Game) -> None:
    game.advance(16 * 60)
    game.do("afgs-deputy", "decide", inject="r1-disposition", option="release", rationale="Nothing to gain.")
    game.advance(ROUND_2 - 16 * 60)
    assert "r1-released" in game.released() and "r1-still-held" not in game.released()
    assert game.state.escalation == -1  # released, no force used: "Contained"
    game.do("control", "start_move", move="r2-day")
    assert game.state.escalation == 2 and "r2-ladder-up3" in game.released()
    game.advance(45 * 60)  # +01:15: the end; Round 2's decisions took their defaults (hold)
    released = game.released()
    assert "r2-still-held" in released and "r2-released" not in released
    assert "r2-morning-decision" in released
    # Nobody wrote on the ministers' line in Round 1, nor on the Oman line in Round 2: neither
    # leak has anything to expose, and both are cancelled.
    assert "r1-leak" not in released and "r2-leak" not in released
