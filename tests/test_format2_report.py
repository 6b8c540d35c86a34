"""Format 2 in the after-action report: rung names beside levels, the script's hotwash questions with
their answers, exercise events marked, what conditions and choices made of injects, persona posts."""

from __future__ import annotations

import pytest

from tabletop.report.data import build_report
from tabletop.report.render import document

from .test_conditions import at, make


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    game = make(tmp_path_factory.mktemp("report2"))
    game.do("control", "clock", action="start")
    game.do("control", "post_as_persona", persona="irna", text="The drone violated our airspace.")
    at(game, 11 * 60)
    game.do("us", "decide", inject="options", option="strike", rationale="Deterrence")
    game.do("control", "escalate", level=4, reason="Adjudicated: force used")
    at(game, 50 * 60)
    game.do("control", "clock", action="end")
    game.do("us", "feedback", strengths="Clear", answers={"q-line": "The read-backs", "q-trust": 2})
    game.do("iran", "feedback", answers={"q-trust": 4})
    data = build_report(game.state.exercise, game.store.events_after(game.session), session_id=game.session)
    yield data
    game.store.dispose()


def test_levels_carry_their_rung_names(played):
    ladder = played.extras["escalation"]
    assert (ladder.start, ladder.start_rung) == (1, "Routine presence")
    assert (played.peak_escalation, ladder.peak_rung) == (4, "Force used")
    assert ladder.rungs[1] == (2, "Incident at sea", "")
    titles = [i.title for i in played.timeline if i.kind == "escalation"]
    assert titles == ["Escalation +2 to 3 (Incident at sea)", "Escalation +1 to 4 (Force used)"]
    assert played.escalation.points[0] == (0.0, 1.0), "the curve starts at the script's start level"


def test_the_scripts_questions_and_their_answers(played):
    line, trust = played.extras["questions"]
    assert (line.id, [a.text for a in line.answers], line.mean) == ("q-line", ["The read-backs"], None)
    assert (trust.kind, trust.mean, [a.rating for a in trust.answers]) == ("scale", 3.0, [2, 4])
    assert trust.counts == ((1, 0), (2, 1), (3, 0), (4, 1), (5, 0))


def test_exercise_events_branches_and_persona_posts(played):
    by_title = {i.title: i for i in played.timeline}
    opening = by_title["[Exercise event] Iran says it shot down a U.S. drone"]
    assert "source: ICG 000_1337e7dcf9fe2420.txt:59-62" in opening.detail
    assert any(r.title.startswith("[Exercise event] ") for r in played.responses)
    decided = "“The President asks for options” decided: Strike"  # titles and labels, never ids
    assert by_title["Cancelled: Debris found inside the 12-mile limit"].detail == f"unless {decided}"
    assert by_title["The next phase: chose Four weeks after the strikes"].detail == decided
    (public,) = [log for log in played.logs if log.id == "public"]
    (post,) = public.messages
    assert (post.name, post.from_team, post.from_team_name) == ("IRNA", "control", "a persona played by control")
    assert "persona, posted by White Cell" in post.sender


def test_the_report_html_shows_them(played):
    html = document(played)
    assert "Peak 4 (Force used), final 4 (Force used). Play started at 1 (Routine presence)." in html
    assert "Rung of the script's ladder" in html and "Incident at sea" in html
    assert "The exercise's own questions" in html and "Mean 3.0 on a scale of 1 to 5, 2 answers" in html
    assert "IRNA (a persona played by control): The drone violated our airspace." in html
    assert "The read-backs" in html
    assert "[Exercise event] Iran says it shot down a U.S. drone" in html
    assert "2: Incident at sea" in html, "the chart draws the named rungs"
