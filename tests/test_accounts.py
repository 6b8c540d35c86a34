"""Facilitator accounts, sessions from the CLI, the JSON API's login and join, rate limits."""

from __future__ import annotations

import json

from tabletop.store import normalise_code


def _facilitator(runner, name="white", password="a long password"):
    result = runner.invoke(args=["facilitator", "create", name, "--password-stdin"], input=password + "\n")
    assert result.exit_code == 0, result.output
    return password


def test_facilitator_create_hashes_the_password(app, runner):
    _facilitator(runner)
    store = app.extensions["tabletop"].store
    with store.sessions() as s:
        from tabletop.store.models import Facilitator

        row = s.query(Facilitator).one()
    assert row.password_hash.startswith(("scrypt:", "pbkdf2:")) and "a long password" not in row.password_hash
    again = runner.invoke(args=["facilitator", "create", "white", "--password-stdin"], input="another password\n")
    assert again.exit_code == 1 and "exists already" in again.output
    short = runner.invoke(args=["facilitator", "create", "other", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 8 characters" in short.output


def test_facilitator_create_asks_for_the_password_twice(runner):
    result = runner.invoke(args=["facilitator", "create", "asker"], input="a long password\na long password\n")
    assert result.exit_code == 0 and "created" in result.output


def test_session_create_prints_codes_and_urls(runner):
    result = runner.invoke(args=["session", "create", "speedboat-harassment-2020"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert set(info["codes"]) == {"us", "iran", "oman"}
    for code in [*info["codes"].values(), info["observer_code"]]:
        assert len(code) == 9 and code[4] == "-" and normalise_code(code.lower().replace("-", " ")) == code
    assert info["urls"]["console"].endswith(f"/console/{info['session']}")
    missing = runner.invoke(args=["session", "create", "no-such-game"])
    assert missing.exit_code == 1 and "no exercise 'no-such-game'" in missing.output


def test_login_and_join_through_the_api(client, runner):
    password = _facilitator(runner)
    assert client.post("/api/login", json={"username": "white", "password": "wrong"}).status_code == 401
    token = client.post("/api/login", json={"username": "white", "password": password}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/sessions", json={"exercise": "global-hawk-2019"}).status_code == 401
    info = client.post("/api/sessions", json={"exercise": "global-hawk-2019"}, headers=headers).get_json()
    code = info["codes"]["iran"]
    positions = client.post("/api/join", json={"code": code, "name": "Reza", "position": "nope"}).get_json()
    assert positions["error"]["code"] == "bad_position"
    joined = client.post("/api/join", json={"code": code.lower(), "name": "Reza", "position": "irgcn-commander"})
    body = joined.get_json()
    assert joined.status_code == 200, body
    assert body["team"] == "iran" and body["position"] == "irgcn-commander" and body["token"]
    listing = client.get("/api/sessions", headers=headers).get_json()
    assert listing["sessions"][0]["session"] == info["session"]
    assert client.post("/api/join", data="not json").status_code == 400


def test_wrong_join_codes_are_rate_limited(app, client):
    app.config["JOIN_RATE_LIMIT"] = "5 per minute"
    codes = [client.post("/api/join", json={"code": f"AAAA-AAA{n}", "name": "x"}).status_code for n in range(8)]
    assert codes[:5] == [404] * 5
    assert codes[5:] == [429] * 3
