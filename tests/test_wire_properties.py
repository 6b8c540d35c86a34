"""Property: whatever a client sends (arbitrary Unicode, arbitrary JSON shapes) through any command
or any HTTP route, it gets a clear error, or what it sent is stored and the session's record still
exports (log.json, log.csv) and reports (build_report). In process through Flask-SocketIO's test
client, and a few examples through a real server."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tabletop.engine import COMMANDS
from tabletop.report.data import build_report
from tabletop.report.export import log_csv, log_json
from tabletop.script.models import from_snapshot

from .live_server import PASSWORD, Client, Server

DATA = Path(__file__).parent / "data"
POISON = ["\ud800", "a\udfffb", "\x00", "\U0001f600", "\u202e", "\ufeff", "\r\n", "=cmd|' /C calc'!A0", "\\ud800"]
VALID = ["Cc", "Cf", "Lo", "Ll", "Lu", "Mn", "Nd", "Po", "So", "Zs", "Co"]
TEXT = st.one_of(
    st.text(st.characters(categories=VALID), min_size=1, max_size=40),  # any valid Unicode, controls included
    st.text(st.characters(categories=[*VALID, "Cs"]), max_size=40),  # lone surrogates too
    st.sampled_from(POISON),
)
NUMBER = st.one_of(
    st.integers(), st.integers(min_value=2**52, max_value=2**70), st.floats(allow_nan=True, allow_infinity=True)
)
JSON = st.recursive(
    st.none() | st.booleans() | NUMBER | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=10,
)
#: Payloads that are mostly valid, so that odd text gets as far as the log.
SHAPED = {
    "send_message": st.fixed_dictionaries(
        {"channel": st.sampled_from(["team", "bridge", "public", "oman-line"]), "text": TEXT},
        optional={"client_id": TEXT},
    ),
    "note": st.fixed_dictionaries({"text": TEXT}),
    "observe": st.fixed_dictionaries({"rating": st.sampled_from("PSMU"), "text": TEXT}),
    "spoof": st.fixed_dictionaries(
        {"channel": st.sampled_from(["team", "bridge"]), "as_team": st.just("iran"), "name": TEXT, "text": TEXT}
    ),
    "write_inject": st.fixed_dictionaries({"to": st.just("all"), "title": TEXT}, optional={"body": TEXT, "from": TEXT}),
    "escalate": st.fixed_dictionaries({"delta": st.integers(-3, 3), "reason": TEXT}),
    "improvement_plan": st.fixed_dictionaries(
        {"items": st.lists(st.fixed_dictionaries({"issue": TEXT}, optional={"action": TEXT, "due": TEXT}), max_size=3)}
    ),
    "feedback": st.fixed_dictionaries({}, optional={"strengths": TEXT, "improvements": TEXT}),
}
CODE = re.compile(r"^[a-z_]+$")


def payloads(name: str) -> st.SearchStrategy[Any]:
    model = COMMANDS[name].model
    keys = [f.alias or n for n, f in model.model_fields.items()]
    shaped = st.fixed_dictionaries({}, optional={k: JSON for k in keys})
    if name in SHAPED:
        return st.one_of(SHAPED[name], SHAPED[name], shaped, JSON)
    return st.one_of(shaped, JSON)


def utf8_throughout(value: Any) -> None:
    """Every string inside a report's data encodes as UTF-8 (what the PDF layout does with it)."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            utf8_throughout(getattr(value, f.name))
    elif hasattr(value, "model_dump"):
        utf8_throughout(value.model_dump())
    elif isinstance(value, dict):
        for k, v in value.items():
            utf8_throughout(k)
            utf8_throughout(v)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            utf8_throughout(v)


class World:
    """An app in process with one session, a facilitator and a seat of each kind, on Socket.IO test clients."""

    def __init__(self, tmp_path: Path) -> None:
        from tabletop import seats
        from tabletop.sessions import create_session
        from tabletop.web import create_app, socketio

        self.app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'wire.db'}",
                "REPORTS_DIR": str(tmp_path / "reports"),
                "EXERCISES_DIR": str(DATA),
                "INJECTS_DIR": str(DATA / "lib"),
                "JOIN_RATE_LIMIT": "100000 per minute",
                "PROPAGATE_EXCEPTIONS": False,
            }
        )
        self.rt = self.app.extensions["tabletop"]
        store = self.rt.store
        fid = store.create_facilitator("ctl", PASSWORD)
        self.token = store.issue_token("facilitator", fid)
        self.session = create_session(store, "minimal", DATA, DATA / "lib", fid)["session"]
        info = self.http().get(f"/api/sessions/{self.session}").get_json()
        player = seats.join(self.rt.live, info["codes"]["us"], "Alice", "j3")
        observer = seats.join(self.rt.live, info["observer_code"], "Eve", None)
        self.clients = {
            "control": socketio.test_client(self.app, auth={"token": self.token}),
            "player": socketio.test_client(self.app, auth={"token": player.token}),
            "observer": socketio.test_client(self.app, auth={"token": observer.token}),
        }
        assert self.clients["control"].emit("watch", {"session": self.session}, callback=True)["ok"]
        assert self.clients["control"].emit("clock", {"session": self.session, "action": "start"}, callback=True)

    def http(self) -> Any:
        client = self.app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        return client

    def send(self, role: str, name: str, payload: Any) -> Any:
        if role == "control" and isinstance(payload, dict):
            payload = {**payload, "session": self.session}
        return self.clients[role].emit(name, payload, callback=True)

    def check_record(self) -> None:
        store = self.rt.store
        events = store.events_after(self.session, 0)
        log_json(events, session=self.session).encode("utf-8")
        log_csv(events).encode("utf-8")
        row = store.get_session(self.session)
        utf8_throughout(build_report(from_snapshot(row.script), events, session_id=self.session))

    def close(self) -> None:
        for client in self.clients.values():
            client.disconnect()
        self.rt.close()


@pytest.fixture
def world(tmp_path, monkeypatch):
    from tabletop.web import guard

    monkeypatch.setattr(guard, "RATE", 1e9)  # the budget is tested elsewhere: here every example is served
    monkeypatch.setattr(guard, "BURST", 1e9)
    made = World(tmp_path)
    yield made
    made.close()


def test_any_payload_of_any_command_is_a_clear_error_or_an_exportable_event(world):
    seen: dict[str, int] = {}

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(SHAPED)) | st.sampled_from(sorted(COMMANDS)), label="command")
        allowed = sorted(COMMANDS[name].roles)
        role = data.draw(st.sampled_from(allowed) | st.sampled_from(["control", "player", "observer"]), label="role")
        payload = data.draw(payloads(name), label="payload")
        answer = world.send(role, name, payload)
        assert isinstance(answer, dict), answer
        key = "stored" if answer["ok"] else answer["error"]["code"]
        seen[key] = seen.get(key, 0) + 1
        if answer["ok"]:
            world.check_record()
        else:
            error = answer["error"]
            assert CODE.match(error["code"]) and error["code"] != "internal", error
            assert isinstance(error["message"], str) and error["message"], error

    run()
    print(f"\n[commands] {dict(sorted(seen.items()))}")
    assert seen.get("stored", 0) >= 10 and seen.get("bad_payload", 0) >= 10, seen
    world.check_record()


def test_any_body_of_any_route_is_json_and_never_a_server_error(world):
    routes = [
        ("POST", "/api/login"),
        ("POST", "/api/join"),
        ("POST", "/api/sessions"),
        ("PUT", f"/api/sessions/{world.session}/observers"),
        ("POST", "/api/reports/1/share"),
        ("GET", f"/api/sessions/{world.session}"),
    ]

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(route=st.sampled_from(routes), body=JSON, auth=st.booleans())
    def run(route: tuple[str, str], body: Any, auth: bool) -> None:
        method, path = route
        client = world.http() if auth else world.app.test_client()
        response = client.open(path, method=method, data=json.dumps(body), content_type="application/json")
        assert response.status_code < 500, (route, body, response.get_data(as_text=True)[:300])
        assert response.is_json and "ok" in response.get_json(), (route, response.get_data(as_text=True)[:200])
        if not response.get_json()["ok"]:
            assert CODE.match(response.get_json()["error"]["code"])

    run()
    world.check_record()


@pytest.mark.slow
def test_a_few_arbitrary_texts_through_a_real_server_are_refused_or_exported(tmp_path):
    server = Server(tmp_path)
    assert server.flask("facilitator", "create", "ctl", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    server.start()
    try:
        token = server.login()
        info = server.post("/api/sessions", {"exercise": "minimal"}, token).json()
        player = Client(server, server.join(info["codes"]["us"], "Alice", "j3")["token"])
        player.connect()

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        @given(text=TEXT, channel=st.sampled_from(["team", "bridge"]))
        def run(text: str, channel: str) -> None:
            answer = player.call("send_message", {"channel": channel, "text": text})
            while not answer["ok"] and answer["error"]["code"] == "rate_limited":
                answer = player.call("send_message", {"channel": channel, "text": text})
            assert answer["ok"] or answer["error"]["code"] == "bad_payload", answer

        run()
        for name in ("log.json", "log.csv"):
            response = server.get(f"/api/sessions/{info['session']}/{name}", token)
            assert response.status_code == 200 and response.content.decode("utf-8")
        player.disconnect()
    finally:
        server.stop()
