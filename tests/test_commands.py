"""Promised command behaviour that one-line mutations used to slip past (review, problem 8)."""

from __future__ import annotations

import pytest

from tabletop.engine import COMMANDS, Actor, Refused
from tabletop.engine import events as ev


@pytest.fixture
def game(new_game):
    return new_game()


def _stored(game, kind: str) -> list[ev.Event]:
    return [e for e in game.store.events_after(game.session) if e.type == kind]


def test_a_facilitators_resend_with_the_same_client_id_is_stored_once(game):
    """Facilitators have no participant id: the store finds their resends by client id itself."""
    first = game.do("control", "send_message", channel="team", team="us", text="Control here.", client_id="c-1")
    again = game.do("control", "send_message", channel="team", team="us", text="Control here.", client_id="c-1")
    assert not first.duplicate and again.duplicate
    assert again.seq == first.seq and again.events[0].type == ev.MESSAGE
    assert [e.payload.text for e in _stored(game, ev.MESSAGE)] == ["Control here."]
    note = game.do("control", "note", text="Once.", client_id="n-1")
    assert game.do("control", "note", text="Once.", client_id="n-1").duplicate
    assert [e.seq for e in _stored(game, ev.NOTE)] == [note.seq]
    assert [e.seq for e in game.published if e.type == ev.NOTE] == [note.seq], "a duplicate is not published"
    # another facilitator's client id is another key
    other = game.live.command(game.session, Actor("control", None, "Other"), "note", {"text": "x", "client_id": "n-1"})
    assert not other.duplicate and len(_stored(game, ev.NOTE)) == 2


def test_after_the_end_notes_observations_feedback_and_the_plan_are_accepted_and_nothing_else(game):
    game.do("control", "clock", action="start")
    game.do("control", "clock", action="end")
    assert game.state.ended
    assert game.do("control", "note", text="After the end.").events[0].type == ev.NOTE
    assert game.do("observer", "observe", rating="S", text="Calm.").events[0].type == ev.OBSERVATION
    assert game.do("us", "feedback", strengths="Roles").events[0].type == ev.FEEDBACK
    plan = game.do("control", "improvement_plan", items=[{"issue": "Relay was slow"}])
    assert plan.events[0].type == ev.IMPROVEMENT_PLAN
    refused = {
        "send_message": ("us", {"channel": "team", "text": "late"}),
        "escalate": ("control", {"delta": 1, "reason": "late"}),
        "write_inject": ("control", {"to": "all", "title": "late"}),
        "release_inject": ("control", {"inject": "tanker"}),
        "clock": ("control", {"action": "pause"}),
        "spoof": ("control", {"channel": "team", "as_team": "us", "text": "late"}),
    }
    for command, (who, data) in refused.items():
        with pytest.raises(Refused, match=f"{command}: the session has ended") as caught:
            game.do(who, command, **data)
        assert caught.value.code == "ended"


def test_the_commands_accepted_after_the_end_are_the_documented_ones():
    after_end = {name for name, spec in COMMANDS.items() if spec.after_end}
    assert after_end == {"feedback", "note", "observe", "improvement_plan", "key_findings"}  # docs/protocol.md, `ended`
