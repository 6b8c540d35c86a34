"""AI seats on the web (issue 15): the facilitator's routes, against a small OpenAI-compatible peer."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tabletop.engine import events as ev

from .ai_helpers import chat_reply, fake_endpoint

DATA = Path(__file__).parent / "data"
PASSWORD = "correct horse battery"


@pytest.fixture
def peer():
    def answer(body):
        """Forward the first message the schema offers (what a constrained model could answer)."""
        items = body["response_format"]["json_schema"]["schema"]["properties"]["actions"]["items"]
        relay = next(v for v in items.get("anyOf", [items]) if v["properties"]["do"]["const"] == "relay")
        first = relay["properties"]["message"]["enum"][0]
        return 200, chat_reply(json.dumps({"actions": [{"do": "relay", "message": first, "action": "forward"}]}))

    with fake_endpoint(answer) as (url, requests):
        yield url, requests


@pytest.fixture
def app(peer, make_app):  # peer first: the app (its AI seats) is closed before the peer stops
    app = make_app(EXERCISES_DIR=str(DATA), INJECTS_DIR=str(DATA / "lib"), AI_BASE_URL=peer[0], AI_MODEL="peer-model")
    app.extensions["tabletop"].store.create_facilitator("ctl", PASSWORD)
    return app


def test_a_facilitator_seats_an_ai_intermediary_that_relays_and_controls_it(app):
    client = app.test_client()
    assert client.get("/api/sessions/x/ai").status_code == 401
    token = client.post("/api/login", json={"username": "ctl", "password": PASSWORD}).get_json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    session = client.post("/api/sessions", json={"exercise": "relay"}, headers=auth).get_json()["session"]
    answer = client.post(f"/api/sessions/{session}/ai", json={"team": "oman", "position": "j3"}, headers=auth)
    assert answer.status_code == 400
    answer = client.post(
        f"/api/sessions/{session}/ai",
        json={"team": "oman", "position": "omani-liaison", "relay_actions": ["forward"]},
        headers=auth,
    )
    assert answer.status_code == 201, answer.get_json()
    seat = answer.get_json()["seat"]
    assert seat["model"] == "peer-model" and "AI: peer-model" in seat["name"]
    rt = app.extensions["tabletop"]
    from tabletop.engine import Actor

    us = rt.store.add_participant(session, "player", "Alice", "us", "j3", [])
    alice = Actor("player", us, "Alice", "us", "j3")
    rt.live.command(session, Actor("control", None, "ctl"), "clock", {"action": "start"})
    sent = rt.live.command(session, alice, "send_message", {"channel": "oman-line", "text": "Calm, please."})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        relayed = [e for e in rt.store.events_after(session) if e.type == ev.MESSAGE_RELAYED]
        if relayed:
            break
        time.sleep(0.05)
    assert [(e.payload.message, e.payload.by) for e in relayed] == [(sent.seq, seat["name"])]
    listing = client.get(f"/api/sessions/{session}/ai", headers=auth).get_json()
    assert listing["seats"][0]["recent"][0]["command"] == "relay" and listing["budget"]["spent"] == 50
    pid = seat["participant"]
    paused = client.post(f"/api/sessions/{session}/ai/{pid}", json={"action": "pause"}, headers=auth).get_json()
    assert paused["seat"]["status"] == "paused"
    taken = client.post(f"/api/sessions/{session}/ai/{pid}", json={"action": "take_over"}, headers=auth).get_json()
    assert taken["seat"]["status"] == "taken_over"
    room = client.get(taken["room"])  # this browser now sits in the seat
    assert room.status_code == 200 and seat["name"] in room.get_data(as_text=True)
    handed = client.post(f"/api/sessions/{session}/ai/{pid}", json={"action": "hand_over"}, headers=auth).get_json()
    assert handed["seat"]["status"] == "handed_over" and handed["code"]
    assert any(
        e.type == ev.PARTICIPANT_REMOVED and e.payload.participant == pid for e in rt.store.events_after(session)
    )
    assert client.post(f"/api/sessions/{session}/ai/{pid}", json={"action": "resume"}, headers=auth).status_code == 409


def test_the_told_setting_is_the_sessions_whatever_url_set_it(app, monkeypatch):
    """Every AI route keys the session's seats, budget and `told` by the one session id (the store's, at
    most 32 characters): a setting made through a URL that names a 32-character session with more
    characters after it is the setting the seat gets, and the seat is listed under either URL."""
    import secrets

    token_hex = secrets.token_hex
    monkeypatch.setattr(secrets, "token_hex", lambda n=None: token_hex(16 if n == 5 else n))  # a full-length id
    client = app.test_client()
    token = client.post("/api/login", json={"username": "ctl", "password": PASSWORD}).get_json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    session = client.post("/api/sessions", json={"exercise": "relay"}, headers=auth).get_json()["session"]
    assert len(session) == 32
    longer = session + "-and-more"
    answer = client.post(f"/api/sessions/{longer}/ai/settings", json={"told": False}, headers=auth)
    assert answer.status_code == 200 and answer.get_json()["told"] is False
    answer = client.post(
        f"/api/sessions/{session}/ai", json={"team": "oman", "position": "omani-liaison", "kind": "bot"}, headers=auth
    )
    assert answer.status_code == 201, answer.get_json()
    joined = [e for e in app.extensions["tabletop"].store.events_after(session) if e.type == ev.PARTICIPANT_JOINED]
    assert joined[-1].payload.ai is not None and joined[-1].payload.ai.told is False
    for url in (session, longer):
        listing = client.get(f"/api/sessions/{url}/ai", headers=auth).get_json()
        seated = [s["participant"] for s in listing["seats"]]
        assert listing["told"] is False and seated == [joined[-1].payload.participant]
    assert client.get("/api/sessions/nope/ai", headers=auth).status_code == 404
