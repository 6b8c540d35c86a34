"""The AI seats' "players are told" setting lives in the log (`ai_disclosure`, control only): a restarted
server, or another worker on the same database, reads it back, and the seats it adds follow it."""

from __future__ import annotations

from pathlib import Path

from tabletop.engine import events as ev

DATA = Path(__file__).parent / "data"
PASSWORD = "correct horse battery"


def _facilitator(app) -> dict[str, str]:
    client = app.test_client()
    token = client.post("/api/login", json={"username": "ctl", "password": PASSWORD}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_the_told_setting_outlives_the_server_that_set_it(make_app) -> None:
    settings = {"EXERCISES_DIR": str(DATA), "INJECTS_DIR": str(DATA / "lib")}
    first = make_app(**settings)
    first.extensions["tabletop"].store.create_facilitator("ctl", PASSWORD)
    auth = _facilitator(first)
    client = first.test_client()
    session = client.post("/api/sessions", json={"exercise": "relay"}, headers=auth).get_json()["session"]
    assert client.get(f"/api/sessions/{session}/ai", headers=auth).get_json()["told"] is True  # the default
    for _ in range(2):
        answer = client.post(f"/api/sessions/{session}/ai/settings", json={"told": False}, headers=auth)
        assert answer.status_code == 200 and answer.get_json()["told"] is False
    store = first.extensions["tabletop"].store
    (setting,) = [e for e in store.events_after(session) if e.type == ev.AI_DISCLOSURE]  # a change only
    assert setting.payload == ev.AIDisclosure(told=False, by="ctl") and setting.audience == ()  # control only

    second = make_app(**settings)  # the same database: a restart, or another worker
    auth = _facilitator(second)
    client = second.test_client()
    assert client.get(f"/api/sessions/{session}/ai", headers=auth).get_json()["told"] is False
    answer = client.post(
        f"/api/sessions/{session}/ai", json={"team": "oman", "position": "omani-liaison", "kind": "bot"}, headers=auth
    )
    assert answer.status_code == 201, answer.get_json()
    joined = [e for e in store.events_after(session) if e.type == ev.PARTICIPANT_JOINED]
    assert joined[-1].payload.ai == ev.AISeat(model="scripted bot", told=False)
    assert "bot" not in joined[-1].payload.name  # a plain name: players are not told

    answer = client.post(f"/api/sessions/{session}/ai/settings", json={"told": True}, headers=auth)
    assert answer.get_json()["told"] is True
    assert second.extensions["tabletop.ai"].told(session) is True
    assert [e.payload.told for e in store.events_after(session) if e.type == ev.AI_DISCLOSURE] == [False, True]


def test_the_event_round_trips_to_the_same_json() -> None:
    from tabletop.engine.events import from_json

    stored = {"told": False, "by": "ctl"}
    assert from_json(ev.AI_DISCLOSURE, stored).to_json() == stored
