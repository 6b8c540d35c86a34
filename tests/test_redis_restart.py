"""Redis restarted during play: workers reconnect, and nothing stored is lost."""

from __future__ import annotations

import secrets
import subprocess
import time

import pytest
import redis

from .live_server import PASSWORD, Client, Server, free_port
from .services import need_program, postgres_url

pytestmark = pytest.mark.slow


class PrivateRedis:
    """A Redis server of this test's own on a free loopback port, so restarting it disturbs nobody."""

    def __init__(self, workdir) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


def test_workers_reconnect_after_a_redis_restart(tmp_path):
    need_program("redis-server", "the machine's Redis package")
    queue = PrivateRedis(tmp_path)
    queue.start()
    env = {"DATABASE_URL": postgres_url(), "MESSAGE_QUEUE": queue.url}
    first, second = Server(tmp_path, **env), Server(tmp_path, **env)
    name = f"ctl-{secrets.token_hex(4)}"
    assert first.flask("facilitator", "create", name, "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    first.start()
    second.start()
    try:
        token = first.login(name)
        info = first.post("/api/sessions", {"exercise": "minimal"}, token).json()
        sender = Client(first, first.join(info["codes"]["us"], "Alice", "j3")["token"])
        reader = Client(second, second.join(info["codes"]["us"], "Bob", "liaison-us")["token"])
        sender.connect()
        reader.connect()
        sender.call("send_message", {"channel": "team", "text": "before"})
        reader.wait_for(lambda e: e["payload"].get("text") == "before")

        queue.stop()
        during = sender.call("send_message", {"channel": "team", "text": "during the outage"})
        assert during["ok"], "the event is stored even while Redis is down"
        queue.start()

        deadline = time.monotonic() + 30
        delivered = False
        n = 0
        while time.monotonic() < deadline and not delivered:
            n += 1
            sender.call("send_message", {"channel": "team", "text": f"after {n}"})
            try:
                reader.wait_for(lambda e: e["payload"].get("text", "").startswith("after"), timeout=1)
                delivered = True
            except AssertionError:
                continue
        assert delivered, "live delivery across workers resumes after Redis comes back"
        missed = reader.call("sync", {"after": 0})
        texts = [e["payload"].get("text") for e in missed["events"] if e["type"] == "message"]
        assert "during the outage" in texts, "a resync finds what was stored during the outage"
    finally:
        first.stop()
        second.stop()
        queue.stop()
