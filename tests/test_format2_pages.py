"""Format 2 on the pages (Flask's test client): the hotwash asks the script's own questions and the
`feedback` command checks the answers; the console gets the escalation ladder, the personas and the
MSEL's conditions, choices, fiction and sources."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tabletop.engine import Actor

from .test_pages import PASSWORD, csrf, log_in, take_seat

DATA = Path(__file__).parent / "data"
CONTROL = Actor("control", None, "ctl")


@pytest.fixture
def app(tmp_path: Path):
    from tabletop.web import create_app

    exercises = tmp_path / "exercises"
    exercises.mkdir()
    shutil.copy(DATA / "conditions.yaml", exercises / "conditions.yaml")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}",
            "REPORTS_DIR": str(tmp_path / "reports"),
            "EXERCISES_DIR": str(exercises),
            "INJECTS_DIR": str(DATA / "lib"),
            "JOIN_RATE_LIMIT": "1000 per minute",
        }
    )
    app.extensions["tabletop"].store.create_facilitator("ctl", PASSWORD)
    yield app
    app.extensions["tabletop"].close()


def new_session(client) -> str:
    token = csrf(client, "/library")
    response = client.post("/sessions", data={"exercise": "conditions", "csrf_token": token})
    assert response.status_code == 302
    return response.headers["Location"].split("/")[-2]


def codes(rt, session_id: str) -> dict[str, str]:
    return {c.team or "observers": c.code for c in rt.store.codes(session_id)}


def test_the_hotwash_asks_the_scripts_questions_and_the_answers_reach_the_log(client, app):
    rt = app.extensions["tabletop"]
    log_in(client)
    session_id = new_session(client)
    player = app.test_client()
    take_seat(player, codes(rt, session_id)["us"], "Alice", "us-general")
    rt.live.command(session_id, CONTROL, "clock", {"action": "start"})
    rt.live.command(session_id, CONTROL, "clock", {"action": "end"})
    page = player.get(f"/hotwash/{session_id}").get_data(as_text=True)
    assert "Name one thing that worked on the Oman line." in page
    assert 'name="answer-q-line"' in page
    assert len(re.findall(r'type="radio" name="answer-q-trust" value="[1-5]"', page)) == 5
    token = csrf(player, f"/hotwash/{session_id}")
    tampered = {"csrf_token": token, "answer-q-line": "Read-backs", "answer-q-trust": "9"}
    refused = player.post(f"/hotwash/{session_id}", data=tampered)
    assert refused.status_code == 400 and "rating from 1 to 5" in refused.get_data(as_text=True)
    assert "Read-backs" in refused.get_data(as_text=True), "what was typed is kept"
    form = {"csrf_token": token, "strengths": "Clear", "answer-q-line": "Read-backs", "answer-q-trust": "4"}
    response = player.post(f"/hotwash/{session_id}", data=form)
    assert response.headers["Location"] == f"/thanks/{session_id}"
    (feedback,) = [e for e in rt.store.events_after(session_id) if e.type == "feedback"]
    assert feedback.payload.answers == {"q-line": "Read-backs", "q-trust": 4}


def test_the_console_gets_the_ladder_the_personas_and_the_conditions(client, app):
    log_in(client)
    session_id = new_session(client)
    page = client.get(f"/console/{session_id}").get_data(as_text=True)
    script = json.loads(re.search(r'<script type="application/json" id="script-data">(.*?)</script>', page, re.S)[1])
    assert script["escalation"]["start"] == 1
    assert [r["name"] for r in script["escalation"]["rungs"]] == ["Routine presence", "Incident at sea", "Force used"]
    assert [p["name"] for p in script["personas"]] == ["IRNA", "@POTUS", "International wire service"]
    rows = {row["inject"]: row for row in script["msel"]}
    assert rows["opening"]["fiction"] is True and rows["opening"]["source"].startswith("ICG")
    assert rows["chase"]["when"] == (
        "no message from United States on Oman line within 15m after “Iran says it shot down a U.S. drone” was released"
    )
    assert rows["nudge-decision"]["unless"] == "escalation level at least 3"
    assert rows["opener"]["choose"] == [
        "after-strike if “The President asks for options” decided: Strike",
        "crisis-open if escalation level at least 4",
        "quiet-month otherwise",
    ]
    assert "fiction" not in rows["options"] and "when" not in rows["options"]
    assert 'id="persona-form"' in page and 'id="esc-to"' in page and 'id="esc-rungs"' in page
