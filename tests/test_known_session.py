"""`auth.known_session`: the JSON routes of one session answer an unknown session alike (404
`unknown_session`), after the facilitator check; a known one reaches the view."""

from __future__ import annotations

from pathlib import Path

import pytest

from tabletop.sessions import create_session

DATA = Path(__file__).parent / "data"

ROUTES = [
    ("PUT", "/api/sessions/{}/observers", {"teams": ["us"]}),
    ("GET", "/api/sessions/{}/participants", None),
    ("DELETE", "/api/sessions/{}/participants/1", None),
    ("POST", "/api/sessions/{}/participants/1/seat", {"team": "us", "position": "potus"}),
    ("GET", "/api/sessions/{}/ai", None),
    ("POST", "/api/sessions/{}/ai", {"team": "oman", "position": "j3"}),
    ("POST", "/api/sessions/{}/ai/settings", {"told": True}),
    ("POST", "/api/sessions/{}/ai/1", {"action": "pause"}),
]


@pytest.fixture
def facilitator(app) -> dict[str, str]:
    store = app.extensions["tabletop"].store
    fid = store.create_facilitator("ctl", "correct horse battery")
    return {"Authorization": f"Bearer {store.issue_token('facilitator', fid)}"}


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_an_unknown_session_is_404_after_the_login_check(client, facilitator, method, path, body):
    assert client.open(path.format("nope"), method=method, json=body).status_code == 401
    answer = client.open(path.format("nope"), method=method, json=body, headers=facilitator)
    assert answer.status_code == 404
    assert answer.get_json() == {
        "ok": False,
        "error": {"code": "unknown_session", "message": "unknown session 'nope'"},
    }
    longer = client.open(path.format("n" * 40), method=method, json=body, headers=facilitator)
    assert longer.get_json()["error"]["message"] == f"unknown session '{'n' * 32}'"


def test_a_known_session_reaches_the_view(app, client, facilitator):
    store = app.extensions["tabletop"].store
    session = create_session(store, "relay", DATA, DATA / "lib", None)["session"]
    listed = client.get(f"/api/sessions/{session}/participants", headers=facilitator)
    assert listed.status_code == 200 and listed.get_json() == {"ok": True, "participants": []}
    chosen = client.put(f"/api/sessions/{session}/observers", json={"teams": ["oman"]}, headers=facilitator)
    assert chosen.status_code == 200
    assert [c.teams for c in store.codes(session) if c.kind == "observer"] == [["oman"]]
    assert client.get(f"/api/sessions/{session}/ai", headers=facilitator).get_json()["seats"] == []
    moved = client.post(f"/api/sessions/{session}/participants/99/seat", json={}, headers=facilitator)
    assert moved.status_code == 404 and moved.get_json()["error"]["code"] != "unknown_session"
