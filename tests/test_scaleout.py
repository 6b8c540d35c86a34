"""Two workers on PostgreSQL and Redis: one game across workers, a worker killed, Redis restarted."""

from __future__ import annotations

import secrets

import pytest

from .live_server import PASSWORD, Client, Server
from .services import postgres_url, redis_url

pytestmark = pytest.mark.slow


@pytest.fixture
def workers(tmp_path):
    env = {"DATABASE_URL": postgres_url(), "MESSAGE_QUEUE": redis_url()}
    first, second = Server(tmp_path, **env), Server(tmp_path, **env)
    name = f"ctl-{secrets.token_hex(4)}"
    created = first.flask("facilitator", "create", name, "--password-stdin", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    first.start()
    second.start()
    yield first, second, name
    first.stop()
    second.stop()


def test_two_workers_share_one_game_and_survive_a_killed_worker(workers):
    first, second, name = workers
    token = first.login(name)
    info = first.post("/api/sessions", {"exercise": "minimal"}, token).json()
    control = Client(second, token, info["session"])
    control.connect()
    us = Client(first, first.join(info["codes"]["us"], "Alice", "j3")["token"])
    iran = Client(second, second.join(info["codes"]["iran"], "Reza", "irgcn")["token"])
    oman = Client(first, first.join(info["codes"]["oman"], "Salim", "omani-liaison")["token"])
    for client in (us, iran, oman):
        client.connect()

    assert control.call("clock", {"action": "start"})["ok"]  # appended on the second worker
    for client in (us, iran, oman):  # delivered through Redis to clients of both workers
        client.wait_for(lambda e: e["type"] == "inject_released" and e["payload"]["inject"] == "shootdown")
    sent = us.call("send_message", {"channel": "oman-line", "text": "Across workers"})
    queued = oman.wait_for(lambda e: e["type"] == "message_sent")
    assert oman.call("relay", {"message": sent["seq"], "action": "forward"})["ok"]
    iran.wait_for(lambda e: e["type"] == "message_delivered" and e["payload"]["text"] == "Across workers")
    assert queued["seq"] == sent["seq"]

    # An inject due in a moment; the worker its U.S. client is on dies before it is released.
    elapsed = control.call("sync", {"after": 0})["state"]["clock"]["elapsed"]
    assert control.call("move_inject", {"inject": "tanker", "at": elapsed + 2})["ok"]
    through = us.through
    first.kill()
    us = Client(second, us.token)
    us.through = through
    us.connect()  # reconnects to the surviving worker and replays what it missed (after its last sync)
    us.wait_for(lambda e: e["type"] == "inject_released" and e["payload"]["inject"] == "tanker", timeout=15)
    iran.wait_for(lambda e: e["type"] == "clock_started")
    everything = control.call("sync", {"after": 0})["events"]
    releases = [e["payload"]["inject"] for e in everything if e["type"] == "inject_released"]
    assert releases.count("tanker") == 1 and releases.count("shootdown") == 1
    assert [e["seq"] for e in everything] == list(range(1, len(everything) + 1))

    def tankers(client: Client) -> int:
        return sum(1 for e in client.events if e["type"] == "inject_released" and e["payload"]["inject"] == "tanker")

    control.wait_for(lambda e: e["type"] == "inject_released" and e["payload"]["inject"] == "tanker")
    assert tankers(us) == 1 and tankers(control) == 1, "every addressed client receives the inject exactly once"
    assert tankers(iran) == 0, "and nobody else"
