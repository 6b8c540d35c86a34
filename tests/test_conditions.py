"""Format 2 in play: conditions (`when`, `unless`), choices, escalation rungs, hotwash questions,
personas and fiction, on a real store with time driven by a test clock (no sleeping).

The script is tests/data/conditions.yaml (on the base tests/data/lib/bases/three-teams.yaml).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tabletop.engine import Actor, ManualTime, Refused, schedule
from tabletop.engine.conditions import Conditions
from tabletop.live import Live
from tabletop.script import load_exercise
from tabletop.script.models import snapshot
from tabletop.store import Store

from .engine_helpers import DATA, Game

SCRIPT = DATA / "conditions.yaml"
SEATS = {
    "us": ("us", "us-general", "Alice"),  # decides the options
    "us-colonel": ("us", "us-colonel", "Carl"),  # writes on the Oman line
    "us-ship": ("us", "us-ship", "Sam"),  # writes on the bridge
    "iran": ("iran", "ir-colonel", "Reza"),
    "iran-boat": ("iran", "ir-boat", "Bahram"),
    "oman": ("oman", "om-colonel", "Salim"),
}


def make(tmp_path: Path, script: Path = SCRIPT, name: str = "game") -> Game:
    store = Store(f"sqlite:///{tmp_path / f'{name}.db'}")
    store.migrate()
    exercise = load_exercise(script, library=DATA / "lib")
    session = store.create_session(
        exercise.id, exercise.title, snapshot(exercise), [t.id for t in exercise.teams], None
    )
    time = ManualTime()
    published: list = []
    live = Live(store, time, lambda sid, e, state: published.append(e))
    actors = {"control": Actor("control", None, "White Cell")}
    for key, (team, position, person) in SEATS.items():
        pid = store.add_participant(session, "player", person, team, position, [])
        actors[key] = Actor("player", pid, person, team, position)
    oid = store.add_participant(session, "observer", "Eve", None, None, ["us", "iran"])
    actors["observer"] = Actor("observer", oid, "Eve", teams=frozenset({"us", "iran"}))
    return Game(store, live, time, session, actors, published)


@pytest.fixture
def game(tmp_path):
    made = make(tmp_path)
    yield made
    made.store.dispose()


def released_at(game: Game) -> dict[str, float]:
    return {e.payload.inject: e.t for e in game.store.events_after(game.session) if e.type == "inject_released"}


def of_type(game: Game, kind: str) -> list:
    return [e for e in game.store.events_after(game.session) if e.type == kind]


def at(game: Game, seconds: float) -> None:
    """Move the running clock to exercise time `seconds`, the scheduler waking for everything due on
    the way, at its time (as its loop does: it sleeps until `next_due_wall`)."""
    state = game.state
    target = state.clock.wall_at(seconds)
    assert target is not None and target >= game.time.now()
    while True:
        upcoming = schedule.next_due_wall(game.state, game.time.now())
        if upcoming is None or upcoming > target:
            break
        game.time.value = max(game.time.value, upcoming)
        if not game.live.run_due(game.session):
            break
    game.time.value = target
    game.live.run_due(game.session)


# ------------------------------------------------------------------ windows
def test_a_no_message_window_releases_at_its_time_and_not_before(game):
    game.do("control", "clock", action="start")
    assert game.state.injects["silence"].status == "scheduled"  # it will hold at +40 s if nothing happens
    assert game.state.injects["silence"].due == 40
    at(game, 39.9)
    assert "silence" not in released_at(game)
    at(game, 40)
    assert released_at(game)["silence"] == 40
    # With a delay: the window closes at 15 min, the inject follows a minute later.
    at(game, 15 * 60 - 1)
    assert game.state.conditions.view("chase") == {"condition": "waiting"}
    at(game, 16 * 60 - 0.5)
    assert "chase" not in released_at(game)
    assert game.state.conditions.view("chase") == {"condition": "met"}
    at(game, 16 * 60)
    assert released_at(game)["chase"] == 16 * 60


def test_a_message_in_the_window_keeps_it_shut_and_a_later_one_changes_nothing(game):
    game.do("us-colonel", "send_message", channel="oman-line", text="Before the window opened")
    game.do("control", "clock", action="start")
    assert game.state.injects["chase"].due == 16 * 60, "a message before the window opened does not count"
    at(game, 20)
    game.do("control", "spoof", channel="bridge", as_team="us", as_position="us-ship", name="Sam", text="Fake")
    assert game.state.injects["silence"].due == 40, "control's spoof is not the team writing"
    game.do("us-ship", "send_message", channel="bridge", text="Bridge to bridge: we hear you")
    assert game.state.injects["silence"].status == "pending" and game.state.injects["silence"].due is None
    at(game, 120)
    assert "silence" not in released_at(game)
    assert released_at(game)["silence-iran"] == 40  # Iran wrote nothing
    # Once a window has closed empty, a message afterwards does not undo it (the delay runs on).
    at(game, 15 * 60 + 30)
    game.do("us-colonel", "send_message", channel="oman-line", text="Late, but here")
    at(game, 16 * 60)
    assert released_at(game)["chase"] == 16 * 60


def test_a_paused_clock_freezes_a_window(game):
    game.do("control", "clock", action="start")
    at(game, 20)
    game.do("control", "clock", action="pause")
    game.advance(3 * 3600)
    assert "silence" not in released_at(game)
    game.do("control", "clock", action="resume")
    game.live.run_due(game.session)
    assert "silence" not in released_at(game), "nothing fires at once after a pause"
    game.advance(19.5)
    assert "silence" not in released_at(game)
    game.advance(0.5)
    assert released_at(game)["silence"] == pytest.approx(40)


def test_no_ack_holds_when_a_team_has_not_acknowledged_in_time(game):
    game.do("control", "clock", action="start")
    at(game, 4 * 60)
    game.do("oman", "ack_inject", inject="opening")
    at(game, 5 * 60)
    released = released_at(game)
    assert released["nudge-ack"] == 300  # Iran never acknowledged
    assert "quiet-oman" not in released  # Oman did, in time


def test_no_ack_does_not_hold_after_an_acknowledgement_in_the_window(tmp_path):
    game = make(tmp_path)
    game.do("control", "clock", action="start")
    at(game, 4 * 60 + 59)
    game.do("iran", "ack_inject", inject="opening")
    at(game, 10 * 60)
    released = released_at(game)
    assert "nudge-ack" not in released
    assert released["quiet-oman"] == 300  # all of: Oman silent within 5 min, and the level at most 1
    game.store.dispose()


def test_no_decision_and_an_unless_that_cancels_when_it_falls_due(game):
    game.do("control", "clock", action="start")
    at(game, 14 * 60)
    game.do("control", "escalate", level=3, reason="Boats close on the ships")
    assert released_at(game)["tension"] == 14 * 60  # a threshold crossed: released with the change
    at(game, 15 * 60)
    assert "nudge-decision" not in released_at(game)
    (cancelled,) = of_type(game, "inject_cancelled")
    assert cancelled.payload.inject == "nudge-decision" and cancelled.t == 15 * 60
    assert cancelled.payload.reason == "unless escalation level at least 3"
    assert cancelled.audience == ()  # control only
    assert game.state.injects["nudge-decision"].status == "cancelled"
    # A facilitator may still send it by hand: that release ignores `unless`, once.
    game.do("control", "release_inject", inject="nudge-decision")
    assert "nudge-decision" in released_at(game)
    with pytest.raises(Refused, match="already released"):
        game.do("control", "release_inject", inject="nudge-decision")


def test_no_decision_holds_when_the_decision_was_not_taken_in_time(game):
    game.do("control", "clock", action="start")
    at(game, 14 * 60 + 59)
    assert "nudge-decision" not in released_at(game)
    at(game, 15 * 60)
    assert released_at(game)["nudge-decision"] == 15 * 60


def test_a_decision_in_the_window_keeps_no_decision_from_holding(game):
    game.do("control", "clock", action="start")
    at(game, 12 * 60)
    game.do("us", "decide", inject="options", option="warn", rationale="Talk first")
    at(game, 20 * 60)
    assert "nudge-decision" not in released_at(game)


# ------------------------------------------------------------ thresholds, options, all/any
def test_an_escalation_threshold_releases_with_the_change_even_on_a_paused_clock(game):
    game.do("control", "clock", action="start")
    at(game, 60)
    game.do("control", "clock", action="pause")
    game.do("control", "escalate", delta=1, reason="A laser on a helicopter")
    assert "tension" not in released_at(game)  # level 2
    game.do("control", "escalate", delta=1, reason="Warning shots")
    assert released_at(game)["tension"] == 60
    game.do("control", "escalate", delta=-2, reason="Calm returns")
    game.do("control", "escalate", delta=2, reason="Again")
    assert len([e for e in of_type(game, "inject_released") if e.payload.inject == "tension"]) == 1


def test_an_option_taken_releases_after_its_delay_and_drives_unless_and_choose(game):
    game.do("control", "clock", action="start")
    at(game, 11 * 60)
    game.do("us", "decide", inject="options", option="strike", rationale="Deterrence")
    assert game.state.escalation == 3
    assert released_at(game)["tension"] == 11 * 60  # 1 + 2 reached 3
    at(game, 13 * 60 - 1)
    assert "strike-news" not in released_at(game)
    at(game, 13 * 60)
    assert released_at(game)["strike-news"] == 13 * 60
    assert "either" not in released_at(game)  # warn was not taken, and the level stays below 5
    at(game, 40 * 60)
    assert [e.payload.inject for e in of_type(game, "inject_cancelled")] == ["debris"]
    at(game, 50 * 60)
    (made,) = of_type(game, "choice_made")
    assert (made.payload.choice, made.payload.inject, made.payload.how) == ("opener", "after-strike", "scheduled")
    assert made.payload.reason == "“The President asks for options” decided: Strike"
    released = released_at(game)
    assert released["after-strike"] == 50 * 60 and released["after-opener"] == 50 * 60
    assert "crisis-open" not in released and "quiet-month" not in released


def test_any_holds_when_one_of_its_parts_does(game):
    game.do("control", "clock", action="start")
    at(game, 11 * 60)
    game.do("control", "clock", action="pause")
    game.do("us", "decide", inject="options", option="warn")
    assert released_at(game)["either"] == 11 * 60  # no delay: with the decision, whatever the clock


def test_all_needs_every_part_at_once(game):
    game.do("control", "clock", action="start")
    at(game, 4 * 60)
    game.do("control", "escalate", delta=1, reason="Tension")  # level 2: 'at most 1' no longer holds
    at(game, 6 * 60)
    assert "quiet-oman" not in released_at(game)
    game.do("control", "escalate", delta=-1, reason="Calmer")  # both hold again: the window closed empty
    assert released_at(game)["quiet-oman"] == 6 * 60


def test_a_choice_picks_by_condition_or_otherwise(tmp_path):
    crisis = make(tmp_path, name="crisis")
    crisis.do("control", "clock", action="start")
    at(crisis, 30 * 60)
    crisis.do("control", "escalate", level=4, reason="Force used")
    at(crisis, 50 * 60)
    assert [(e.payload.inject, e.payload.reason) for e in of_type(crisis, "choice_made")] == [
        ("crisis-open", "escalation level at least 4")
    ]
    assert "crisis-open" in released_at(crisis) and "debris" in released_at(crisis)  # warn by default: no cancel
    quiet = make(tmp_path, name="quiet")
    quiet.do("control", "clock", action="start")
    at(quiet, 50 * 60)
    assert [(e.payload.inject, e.payload.reason) for e in of_type(quiet, "choice_made")] == [
        ("quiet-month", "otherwise: no condition above held")
    ]
    crisis.store.dispose()
    quiet.store.dispose()


def test_a_choice_without_otherwise_records_that_none_was_chosen(tmp_path):
    text = SCRIPT.read_text(encoding="utf-8").replace("      - otherwise: quiet-month\n", "")
    script = tmp_path / "no-otherwise.yaml"
    script.write_text(text, encoding="utf-8")
    game = make(tmp_path, script=script)
    game.do("control", "clock", action="start")
    at(game, 50 * 60)
    (made,) = of_type(game, "choice_made")
    assert made.payload.inject is None and "no 'otherwise'" in made.payload.reason
    assert released_at(game)["after-opener"] == 50 * 60  # what the choice triggers still follows
    assert not {"after-strike", "crisis-open", "quiet-month"} & set(released_at(game))
    game.store.dispose()


def test_send_now_on_a_choice_makes_it_now(game):
    game.do("control", "clock", action="start")
    game.do("control", "clock", action="pause")
    game.do("control", "release_inject", inject="opener")
    (made,) = of_type(game, "choice_made")
    assert (made.payload.inject, made.payload.how) == ("quiet-month", "by hand")
    assert "quiet-month" in released_at(game)
    with pytest.raises(Refused, match="already released"):
        game.do("control", "release_inject", inject="opener")


# ------------------------------------------------------------ exactly once
def test_exactly_once_when_two_workers_race(game):
    other = Live(game.store, game.time)  # a second worker on the same database
    game.do("control", "clock", action="start")
    for target in (40, 40 * 60, 50 * 60):
        game.time.advance(target - game.state.elapsed(game.time.now()))
        mine, theirs = game.live.state(game.session), other.state(game.session)
        assert schedule.due(mine, game.time.now()) and schedule.due(theirs, game.time.now())
        game.live.run_due(game.session, mine)
        other.run_due(game.session, theirs)  # computed on a state that had not seen the first worker's events
    events = game.store.events_after(game.session)
    releases = [e.payload.inject for e in events if e.type == "inject_released"]
    assert sorted(releases) == sorted(set(releases)), "nothing released twice"
    assert releases.count("silence") == 1 and releases.count("quiet-month") == 1
    assert len([e for e in events if e.type == "choice_made"]) == 1
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


def test_a_cancellation_races_once(game):
    other = Live(game.store, game.time)
    game.do("control", "clock", action="start")
    game.do("control", "escalate", level=3, reason="Hot")
    at(game, 15 * 60 - 1)
    game.time.advance(1)
    mine, theirs = game.live.state(game.session), other.state(game.session)
    game.live.run_due(game.session, mine)
    other.run_due(game.session, theirs)
    assert [e.payload.inject for e in of_type(game, "inject_cancelled")] == ["nudge-decision"]


def test_a_restarted_worker_folds_the_same_conditions(game):
    game.do("control", "clock", action="start")
    at(game, 15 * 60 + 10)
    game.do("us-colonel", "send_message", channel="oman-line", text="Now")
    restarted = Live(game.store, game.time).state(game.session)
    mine = game.state
    assert restarted.conditions.met == mine.conditions.met and restarted.conditions.met["chase"] == 15 * 60
    assert restarted.injects["chase"].due == mine.injects["chase"].due == 16 * 60


def test_a_chat_message_looks_at_no_condition(game, monkeypatch):
    game.do("control", "clock", action="start")
    looked: list[str] = []
    original = Conditions.reconsider

    def counting(self, state, ident, t, **kw):
        looked.append(ident)
        return original(self, state, ident, t, **kw)

    monkeypatch.setattr(Conditions, "reconsider", counting)
    for n in range(20):
        game.do("us", "send_message", channel="team", text=f"chat {n}")
        game.do("iran", "send_message", channel="public", text=f"statement {n}")
    assert looked == []
    game.do("us-ship", "send_message", channel="bridge", text="Watched")
    assert looked == ["silence"]  # only the inject that waits on (us, bridge)


# ------------------------------------------------------------ escalation rungs
def test_the_level_starts_at_the_scripts_start_and_control_sets_it_with_a_reason(game):
    assert game.state.escalation == 1
    changed = game.do("control", "escalate", level=4, reason="Adjudicated: force used").events[0]
    assert (changed.payload.delta, changed.payload.level, changed.payload.by) == (3, 4, "White Cell")
    assert game.state.exercise.escalation.rung(game.state.escalation).name == "Force used"
    with pytest.raises(Refused, match="already 4"):
        game.do("control", "escalate", level=4, reason="Again")
    with pytest.raises(Refused, match="not both"):
        game.do("control", "escalate", level=2, delta=1, reason="Both")
    with pytest.raises(Refused, match="not both"):
        game.do("control", "escalate", reason="Neither")
    with pytest.raises(Refused, match="reason"):
        game.do("control", "escalate", level=2)
    with pytest.raises(Refused, match="only facilitators"):
        game.do("us", "escalate", level=2, reason="Players do not adjudicate")


# ------------------------------------------------------------ hotwash questions
def test_hotwash_answers_are_checked_against_the_scripts_questions(game):
    game.do("control", "clock", action="end")
    for answers, message in (
        ({"q-nope": "x"}, "unknown question 'q-nope' \\(questions: q-line, q-trust\\)"),
        ({"q-trust": 6}, "rating from 1 to 5"),
        ({"q-trust": "4"}, "rating from 1 to 5"),
        ({"q-trust": True}, "q-trust"),
        ({"q-line": 3}, "text answer"),
    ):
        with pytest.raises(Refused, match=message):
            game.do("us", "feedback", answers=answers)
    game.do("us", "feedback", strengths="Clear", answers={"q-line": "The read-backs", "q-trust": 2})
    game.do("iran", "feedback", answers={"q-line": "", "q-trust": 5})
    game.do("oman", "feedback", strengths="Quiet")
    us, iran, oman = (e.payload for e in of_type(game, "feedback"))
    assert us.answers == {"q-line": "The read-backs", "q-trust": 2}
    assert iran.answers == {"q-trust": 5}, "an empty answer is left out"
    assert "answers" not in oman.to_json(), "no answers: the feedback JSON of format 1"
    assert all(v["type"] != "feedback" for v in game.seen_by("iran") if v["payload"].get("team") == "us")


# ------------------------------------------------------------ personas
def test_control_posts_as_a_persona_and_players_never_learn_who_wrote_it(game):
    posted = game.do("control", "post_as_persona", persona="irna", text="IRGC: the drone violated our airspace")
    event = posted.events[0]
    assert event.type == "persona_posted" and event.audience == ("*",)
    assert (event.payload.channel, event.payload.name, event.payload.team) == ("public", "IRNA", "iran")
    assert event.payload.spoofed_by == "White Cell"
    for who in ("us", "oman", "observer"):
        (seen,) = [v["payload"] for v in game.seen_by(who) if v["type"] == "persona_posted"]
        assert seen["name"] == "IRNA" and seen["text"].startswith("IRGC")
        assert "spoofed_by" not in seen and "White Cell" not in str(seen)
    game.do("control", "post_as_persona", persona="wire", channel="public", text="Oil rises 4%")
    with pytest.raises(Refused, match="unknown persona 'potus2'"):
        game.do("control", "post_as_persona", persona="potus2", text="x")
    with pytest.raises(Refused, match="not a public channel"):
        game.do("control", "post_as_persona", persona="irna", channel="bridge", text="x")
    with pytest.raises(Refused, match="unknown channel"):
        game.do("control", "post_as_persona", persona="irna", channel="nowhere", text="x")
    with pytest.raises(Refused, match="only facilitators"):
        game.do("iran", "post_as_persona", persona="irna", text="We are IRNA now")
    game.do("control", "channel", channel="public", action="close")
    with pytest.raises(Refused, match="is closed"):
        game.do("control", "post_as_persona", persona="irna", text="x")


# ------------------------------------------------------------ fiction and source
def test_fiction_reaches_players_and_the_source_stays_with_control_and_observers(game):
    game.do("control", "clock", action="start")
    (player,) = [v["payload"] for v in game.seen_by("us") if v["type"] == "inject_released"]
    assert player["fiction"] is True and "source" not in player
    (observer,) = [v["payload"] for v in game.seen_by("observer") if v["type"] == "inject_released"]
    assert observer["source"] == "ICG 000_1337e7dcf9fe2420.txt:59-62"
    (stored,) = of_type(game, "inject_released")
    assert stored.payload.fiction and stored.payload.source.startswith("ICG")
    assert "fiction" not in released_payload(game, "options") and "source" not in released_payload(game, "options")


def released_payload(game: Game, inject: str) -> dict:
    game.do("control", "release_inject", inject=inject) if inject not in released_at(game) else None
    return next(e.payload.to_json() for e in of_type(game, "inject_released") if e.payload.inject == inject)
