"""A real server process and real python-socketio clients, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
import socketio

from tabletop import ROOT

DATA = Path(__file__).parent / "data"
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python app.py` in a subprocess, on its own database."""

    def __init__(self, workdir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{workdir / 'server.db'}",
            "SECRET_KEY": "e2e-secret",
            "EXERCISES_DIR": str(DATA),
            "INJECTS_DIR": str(DATA / "lib"),
            "REPORTS_DIR": str(workdir / "reports"),
            "JOIN_RATE_LIMIT": "1000 per minute",
            **env,
        }
        self.log = workdir / f"server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def flask(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def start(self) -> Server:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "app.py", "--port", str(self.port)], cwd=ROOT, env=self.env, stdout=out, stderr=out
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited: {self.log.read_text()}") from None
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        """SIGKILL: no chance to clean up."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def post(self, path: str, body: Any, token: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.post(self.url + path, json=body, headers=headers, timeout=10)

    def get(self, path: str, token: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(self.url + path, headers=headers, timeout=10)

    def login(self, username: str = "ctl") -> str:
        response = self.post("/api/login", {"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return response.json()["token"]

    def join(self, code: str, name: str, position: str | None = None) -> dict[str, Any]:
        response = self.post("/api/join", {"code": code, "name": name, "position": position})
        assert response.status_code == 200, response.text
        return response.json()


class Client:
    """A python-socketio client that keeps every event it receives, once per seq, and (re)connects as
    docs/protocol.md says: live events wait in a buffer until the sync after `through` (the `through` of
    its last complete sync, never the highest seq it holds) has answered every page."""

    def __init__(self, server: Server, token: str, session: str | None = None) -> None:
        self.server, self.token, self.session = server, token, session
        self.sio = socketio.Client(reconnection=False)
        self.events: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.seen: set[int] = set()
        self.last_seq = 0  # the highest seq held (not a cursor: see `through`)
        self.through = 0  # every event it may see up to here, it holds
        self.buffer: list[dict[str, Any]] | None = None  # live events waiting for a sync to answer
        self.answer: dict[str, Any] = {}  # the sync answer of its last connect (its state, its events)
        self.cond = threading.Condition()
        self.sio.on("event", self._on_event)
        self.sio.on("error", self._on_error)

    def _on_event(self, data: dict[str, Any]) -> None:
        with self.cond:
            if self.buffer is not None:
                self.buffer.append(data)
            else:
                self._keep(data)
            self.cond.notify_all()

    def _keep(self, data: dict[str, Any]) -> None:
        if data["seq"] not in self.seen:
            self.seen.add(data["seq"])
            self.events.append(data)
            self.last_seq = max(self.last_seq, data["seq"])

    def _on_error(self, data: dict[str, Any]) -> None:
        with self.cond:
            self.errors.append(data)
            self.cond.notify_all()

    def connect(self, after: int | None = None) -> dict[str, Any]:
        """Connect and sync after `through` (or `after`): the reconnect procedure of docs/protocol.md."""
        with self.cond:
            self.buffer = []  # from the moment the connection opens
        self.sio.connect(self.server.url, auth={"token": self.token}, transports=["websocket"], wait_timeout=10)
        if self.session is not None:
            assert self.call("watch", {"session": self.session})["ok"]
        self.answer = self.sync(self.through if after is None else after)
        return self.answer

    def sync(self, after: int) -> dict[str, Any]:
        """Every page after `after`, then the buffered live events; `through` moves to the last page's.
        The answer is the last page's, with the events of every page."""
        events: list[dict[str, Any]] = []
        while True:
            answer = self.call("sync", {"after": after})
            if not answer["ok"] and answer["error"]["code"] == "rate_limited":
                time.sleep(1)  # the connection's budget of sync events refills (not game time)
                continue
            assert answer["ok"], answer
            events += answer["events"]
            if not answer.get("more"):
                break
            after = answer["through"]
        with self.cond:
            for event in sorted(events + (self.buffer or []), key=lambda e: e["seq"]):
                self._keep(event)
            self.buffer = None
            self.through = max(self.through, answer.get("through", answer["last_seq"]))
            self.cond.notify_all()
        return {**answer, "events": events}

    def disconnect(self) -> None:
        self.sio.disconnect()

    def call(self, event: str, data: Any = None) -> Any:
        if self.session is not None and isinstance(data, dict) and event not in ("watch",):
            data = {"session": self.session, **data}
        return self.sio.call(event, data, timeout=10)

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
        """The first received event matching predicate (waiting on the socket, not sleeping)."""
        with self.cond:
            ok = self.cond.wait_for(lambda: any(predicate(e) for e in self.events), timeout)
            assert ok, f"no matching event; got {[e['type'] for e in self.events]}"
            return next(e for e in self.events if predicate(e))

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        with self.cond:
            return [e for e in self.events if e["type"] == kind]


@contextmanager
def running_server(workdir: Path, **env: str) -> Iterator[Server]:
    """A started server with the facilitator 'ctl' (password PASSWORD), stopped on leaving: the module
    fixture of the end-to-end and browser tests (`yield from` it, or use it in a `with`)."""
    srv = Server(workdir, **env)
    created = srv.flask("facilitator", "create", "ctl", "--password-stdin", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
