"""The organiser's hand-off (issue 13): key findings and the full improvement plan written by control,
and an observation marked a strength or an area for improvement beside its rating."""

from __future__ import annotations

import pytest

from tabletop.engine import Refused
from tabletop.engine import events as ev

from .engine_helpers import make_game


def test_key_findings_are_stored_for_control_only_and_the_last_one_counts(tmp_path):
    game = make_game(tmp_path)
    game.do("control", "key_findings", text="The Oman line carried the crisis.")
    game.do("control", "clock", action="start")
    game.do("control", "clock", action="end")
    last = game.do("control", "key_findings", text="Contact held; the relay was slow.")  # after the end too
    event = last.events[0]
    assert event.type == ev.KEY_FINDINGS
    assert event.payload.to_json() == {"text": "Contact held; the relay was slow.", "by": "White Cell"}
    assert all(e["type"] != ev.KEY_FINDINGS for e in game.seen_by("us"))
    assert all(e["type"] != ev.KEY_FINDINGS for e in game.seen_by("observer"))
    with pytest.raises(Refused):
        game.do("us", "key_findings", text="Players cannot.")


def test_the_improvement_plan_keeps_contact_start_and_capability_and_old_plans_keep_their_json(tmp_path):
    game = make_game(tmp_path)
    full = {
        "issue": "Late first message",
        "action": "Drill the first call",
        "organisation": "CENTCOM J3",
        "due": "2027-03-31",
        "objective": "obj-contact",
        "capability": "Operational coordination",
        "contact": "Col. Dana Reed",
        "start": "2027-01-15",
    }
    plan = game.do("control", "improvement_plan", items=[full, {"issue": "Relay was slow"}]).events[0].payload
    assert plan.to_json()["items"][0] == full
    assert plan.to_json()["items"][1] == {
        "issue": "Relay was slow",
        "action": "",
        "organisation": "",
        "due": "",
        "objective": None,
    }  # no contact, start or capability given: the keys of plans written before them


def test_an_observation_may_be_marked_a_strength_or_an_improvement(tmp_path):
    game = make_game(tmp_path)
    marked = game.do("observer", "observe", rating="S", text="Held the message.", finding="improvement")
    assert marked.events[0].payload.finding == "improvement"
    plain = game.do("observer", "observe", rating="P", text="Quick.")
    assert "finding" not in plain.events[0].payload.to_json()
    with pytest.raises(Refused):
        game.do("observer", "observe", rating="P", text="x", finding="maybe")


def test_the_report_shows_the_plan_in_full_and_files_observations_by_their_finding(tmp_path):
    from tabletop.report.data.compose import build_report

    game = make_game(tmp_path)
    game.do(
        "observer", "observe", objective="obj-contact", rating="S", text="Held it, told nobody.", finding="improvement"
    )
    game.do(
        "observer", "observe", objective="obj-contact", rating="M", text="Asked for a read-back.", finding="strength"
    )
    game.do("observer", "observe", objective="obj-contact", rating="P", text="Quick answer.")
    item = {"issue": "Late first call", "objective": "obj-contact", "contact": "Col. Reed", "start": "2027-01-15"}
    game.do("control", "improvement_plan", items=[item, {"issue": "No map", "capability": "Situational awareness"}])
    data = build_report(game.live.current(game.session).exercise, game.store.events_after(game.session, 0))
    (goal,) = data.objectives
    assert [x.text for x in goal.strengths] == ["Asked for a read-back.", "Quick answer."]
    assert [x.text for x in goal.improvements] == ["Held it, told nobody."]
    first, second = data.plan
    assert (first.contact, first.start, first.objective_text) == (
        "Col. Reed",
        "2027-01-15",
        "Open contact through Oman.",
    )
    assert second.capability == "Situational awareness" and second.objective == ""
