"""Belief against truth (issue 14): key questions in scripts, the `assess` command, the pictures and gaps."""

from __future__ import annotations

import pytest

from tabletop.engine import Refused, Viewer, beliefs, redact
from tabletop.engine import events as ev
from tabletop.engine.views import summary
from tabletop.script import load_exercise
from tabletop.script.models import snapshot

from .engine_helpers import DATA, make_game

SCRIPT = DATA / "key-questions.yaml"


@pytest.fixture
def game(tmp_path):
    game = make_game(tmp_path, SCRIPT)
    game.do("control", "clock", action="start")
    return game


def test_key_questions_parse_and_snapshot():
    exercise = load_exercise(SCRIPT)
    kinds = {q.id: q.kind for q in exercise.key_questions}
    assert kinds == {"where": "position", "intent": "choice", "casualties": "number", "motive": "text"}
    assert exercise.key_question("intent").truth == "No"
    assert "key_questions" in snapshot(exercise)
    # a script without key questions keeps its snapshot as it was
    assert "key_questions" not in snapshot(load_exercise(DATA / "relay.yaml"))


def test_format_1_refuses_key_questions(tmp_path):
    from tabletop.script.errors import ScriptError

    path = tmp_path / "f1.yaml"
    text = (DATA / "minimal.yaml").read_text()
    path.write_text(text + "\nkey_questions:\n  - id: q\n    question: Q?\n    options: [a, b]\n")
    with pytest.raises(ScriptError) as caught:
        load_exercise(path)
    assert "needs format: 2" in str(caught.value)


def test_gap_by_kind():
    exercise = load_exercise(SCRIPT)
    intent, where, casualties, motive = (exercise.key_question(q) for q in ("intent", "where", "casualties", "motive"))
    assert beliefs.gap(intent, "No", 100) == 0
    assert beliefs.gap(intent, "No", 60) == pytest.approx(0.4)
    assert beliefs.gap(intent, "Yes", 100) == 1
    assert beliefs.gap(intent, "Yes", 60) == pytest.approx(0.8)  # 40 spread over two other options
    assert beliefs.gap(where, "25.96, 56.88", 10) == 0
    assert 0.4 < beliefs.gap(where, "25.96, 56.6", 90) < 0.7  # about 28 km of 50
    assert beliefs.gap(where, "27, 52", 90) == 1
    assert beliefs.gap(casualties, 75, 50) == pytest.approx(0.5)
    assert beliefs.gap(motive, "anything", 50) is None


def test_assess_is_stored_seen_by_the_team_and_control_only(game):
    game.do("us", "assess", question="intent", answer="Yes", confidence=70)
    event = game.store.events_after(game.session, 0)[-1]
    assert event.type == ev.ASSESSMENT and event.audience == ("us",)
    assert event.payload.to_json() == {
        "question": "intent", "team": "us", "answer": "Yes", "confidence": 70, "by": "Alice", "position": "j3",
    }  # fmt: skip
    exercise = game.state.exercise
    assert redact(event, game.actors["us2"].viewer, exercise) is not None
    assert redact(event, game.actors["iran"].viewer, exercise) is None
    assert redact(event, game.actors["oman"].viewer, exercise) is None
    assert redact(event, Viewer("control"), exercise) is not None
    assert game.state.beliefs[("us", "intent")][:2] == ("Yes", 70)


def test_assess_checks_question_team_and_answer(game):
    cases = [
        ("us", {"question": "nope", "answer": "Yes", "confidence": 5}, "bad_payload"),
        ("oman", {"question": "intent", "answer": "Yes", "confidence": 5}, "forbidden"),  # intermediary
        ("iran", {"question": "casualties", "answer": 3, "confidence": 5}, "forbidden"),  # not put to Iran
        ("us", {"question": "intent", "answer": "Maybe", "confidence": 5}, "bad_payload"),
        ("us", {"question": "where", "answer": "north", "confidence": 5}, "bad_payload"),
        ("us", {"question": "casualties", "answer": "lots", "confidence": 5}, "bad_payload"),
        ("us", {"question": "intent", "answer": "Yes", "confidence": 101}, "bad_payload"),
        ("us", {"question": "intent", "answer": "Yes", "confidence": True}, "bad_payload"),
        ("control", {"question": "intent", "answer": "Yes", "confidence": 5}, "forbidden"),
        ("observer", {"question": "intent", "answer": "Yes", "confidence": 5}, "forbidden"),
    ]
    for who, data, code in cases:
        with pytest.raises(Refused) as caught:
            game.do(who, "assess", **data)
        assert caught.value.code == code, (who, data, caught.value.message)
    game.do("us", "assess", question="casualties", answer="12", confidence=40)
    game.do("iran", "assess", question="where", answer=" 26.1 ,56.5 ", confidence=40)
    answers = [e.payload.answer for e in game.store.events_after(game.session, 0) if e.type == ev.ASSESSMENT]
    assert answers == [12, "26.1, 56.5"]


def test_asked_at_release_and_the_summary_hides_the_truth_from_players(game):
    state = game.state
    us = summary(state, game.actors["us"].viewer, game.time.now())["key_questions"]
    assert {q["id"]: q["asked"] for q in us} == {"where": False, "intent": False, "casualties": True, "motive": False}
    assert all("truth" not in q for q in us)
    game.advance(6 * 60)  # the shootdown asks where and intent of us and iran
    game.do("us", "assess", question="intent", answer="Yes", confidence=80)
    us = summary(game.state, game.actors["us"].viewer, game.time.now())["key_questions"]
    assert {q["id"]: q["asked"] for q in us}["intent"] is True
    assert [p["answer"] for q in us for p in q["pictures"]] == ["Yes"]
    iran = summary(game.state, game.actors["iran"].viewer, game.time.now())["key_questions"]
    assert "casualties" not in {q["id"] for q in iran} and not any(q["pictures"] for q in iran)
    assert summary(game.state, game.actors["oman"].viewer, game.time.now())["key_questions"] == []
    control = summary(game.state, Viewer("control"), game.time.now())["key_questions"]
    intent = next(q for q in control if q["id"] == "intent")
    assert intent["truth"] == "No" and intent["pictures"][0]["gap"] == pytest.approx(0.9)
    assert intent["asked_teams"] == ["iran", "us"]
