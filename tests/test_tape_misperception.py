"""The report's misperception section (issue 14): each team's gap to the truth over time, and whether
it narrowed after messages through the line; in ReportData.extras only for scripts with key questions."""

from __future__ import annotations

import pytest

from tabletop.report.data import build_report
from tabletop.report.render import document

from .engine_helpers import DATA, make_game


@pytest.fixture
def played(tmp_path):
    game = make_game(tmp_path, DATA / "key-questions.yaml")
    game.do("control", "clock", action="start")
    game.advance(6 * 60)  # the shootdown asks where and intent
    game.do("us", "assess", question="intent", answer="Yes", confidence=90)
    game.do("iran", "assess", question="where", answer="26.4, 56.9", confidence=80)
    sent = game.do("iran", "send_message", channel="oman-line", text="We did not mean to attack you.")
    game.do("oman", "relay", message=sent.seq, action="forward")
    game.advance(60)
    game.do("us", "assess", question="intent", answer="No", confidence=60)  # after the line
    game.do("us", "assess", question="intent", answer="No", confidence=80)  # nothing new through the line
    game.do("iran", "assess", question="where", answer="26.0, 56.9", confidence=80)
    game.do("us", "assess", question="motive", answer="A mistake", confidence=40)
    return game


def test_the_gap_over_time_and_after_the_line(played):
    exercise = played.state.exercise
    data = build_report(exercise, played.store.events_after(played.session, 0))
    mis = data.extras["misperception"]
    assert mis.line == ("Oman line",)
    intent = next(q for q in mis.questions if q.id == "intent")
    us = next(t for t in intent.teams if t.team == "us")
    assert [(p.answer, p.confidence, p.gap, p.line_before) for p in us.points] == [
        ("Yes", 90, 0.95, 0),
        ("No", 60, 0.4, 1),
        ("No", 80, 0.2, 0),
    ]
    assert us.first_gap == 0.95 and us.last_gap == 0.2 and us.change == -0.75
    assert us.after_line == -0.55 and us.otherwise == -0.2 and us.line_updates == 1 and us.line_received == 1
    assert "narrowed from 0.95 to 0.20" in us.verdict and "narrowed after messages through the line" in us.verdict
    iran = next(t for t in intent.teams if t.team == "iran")
    assert iran.points == () and iran.verdict == "never answered"
    where = next(q for q in mis.questions if q.id == "where")
    iran_where = next(t for t in where.teams if t.team == "iran")
    assert iran_where.first_gap > iran_where.last_gap and iran_where.line_updates == 0  # Iran sent, it received nothing
    motive = next(q for q in mis.questions if q.id == "motive")
    text = next(t for t in motive.teams if t.team == "us")
    assert text.points[0].gap is None and text.verdict.startswith("no gap to measure")
    assert mis.summary[0].startswith("3 team pictures of 4 key questions: the gap narrowed in 2")
    html = document(data)
    assert 'id="misperception"' in html and "after 1 message through the line" in html
    assert "They believed the drone was in their airspace." in html


def test_a_script_without_key_questions_has_no_section(tmp_path):
    game = make_game(tmp_path, DATA / "relay.yaml")
    game.do("control", "clock", action="start")
    data = build_report(game.state.exercise, game.store.events_after(game.session, 0))
    assert "misperception" not in data.extras


def test_the_report_timeline_links_each_time_to_the_tape(played):
    events = played.store.events_after(played.session, 0)
    data = build_report(played.state.exercise, events, session_id=played.session)
    html = document(data)
    released = next(e for e in events if e.type == "inject_released" and e.payload.inject == "shootdown")
    assert f'<a href="/sessions/{played.session}/tape?seq={released.seq}">+0:06:00</a>' in html
    # Without a session (a report built from a bare log) the lines stay plain text.
    assert "/tape?seq=" not in document(build_report(played.state.exercise, events))
