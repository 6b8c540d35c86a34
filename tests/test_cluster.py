"""Two workers on PostgreSQL and Redis (one pair of servers for the module): what every client receives
when a worker dies between commit and publish, reconnects under traffic, presence every worker sees,
and revocations (logout, a removed or moved participant, a disabled account) that close the token's
connections on every worker at once."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import socketio

from .live_server import PASSWORD, Client, Server
from .services import postgres_url, redis_url

pytestmark = pytest.mark.slow

MARK = "CRASH-AFTER-COMMIT"  # worker 1 SIGKILLs itself after committing an event with this text
AT_ONCE = 1.5  # seconds: a revocation travels through the queue; each worker's own sweep (2 s) is slower


@pytest.fixture(scope="module")
def workers(tmp_path_factory) -> Iterator[tuple[Server, Server, str]]:
    env = {"DATABASE_URL": postgres_url(), "MESSAGE_QUEUE": redis_url()}
    workdir = tmp_path_factory.mktemp("cluster")
    first = Server(workdir, TABLETOP_TEST_CRASH_AFTER_COMMIT=MARK, **env)
    second = Server(workdir, **env)
    name = f"ctl-{secrets.token_hex(4)}"
    created = first.flask("facilitator", "create", name, "--password-stdin", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    first.start()
    second.start()
    yield first, second, name
    first.stop()
    second.stop()


def new_session(server: Server, token: str) -> dict[str, Any]:
    response = server.post("/api/sessions", {"exercise": "minimal"}, token)
    assert response.status_code == 201, response.text
    return response.json()


def full_view(server: Server, client: Client, upto: int) -> set[int]:
    """Every seq this client's token may see up to `upto`, from a fresh connection syncing from 0."""
    fresh = Client(server, client.token, client.session)
    fresh.connect()
    fresh.disconnect()
    return {seq for seq in fresh.seen if seq <= upto}


def release_final(control: Client) -> int:
    """An inject to every team, released at once: the seq of its `inject_released` (after it, nothing)."""
    answer = control.call("write_inject", {"to": "all", "title": "Final"})
    assert answer["ok"], answer
    return control.wait_for(lambda e: e["type"] == "inject_released" and e["payload"]["title"] == "Final")["seq"]


def watch_drops(client: Client) -> tuple[threading.Event, list[str]]:
    """Set when the server closes this connection; the reasons its `revoked` events gave."""
    dropped, reasons = threading.Event(), []
    client.sio.on("revoked", lambda data: reasons.append(data["reason"]))
    client.sio.on("disconnect", lambda *_: dropped.set())
    return dropped, reasons


def refused(server: Server, token: str) -> bool:
    probe = socketio.Client(reconnection=False)
    try:
        probe.connect(server.url, auth={"token": token}, transports=["websocket"], wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        return True
    probe.disconnect()
    return False


# ------------------------------------------------------------------ presence
def test_the_console_sees_everyone_online_on_any_worker(workers):
    first, second, name = workers
    token = first.login(name)
    info = new_session(first, token)
    controls = [Client(server, token, info["session"]) for server in (first, second)]
    notices: list[list[dict[str, Any]]] = [[], []]
    for control, got in zip(controls, notices, strict=True):
        control.sio.on("presence", got.append)
        control.connect()
    alice = Client(first, first.join(info["codes"]["us"], "Alice", "j3")["token"])
    reza = Client(second, second.join(info["codes"]["iran"], "Reza", "irgcn")["token"])
    alice_id = alice.connect()["me"]["participant"]
    reza_id = reza.connect()["me"]["participant"]
    for control in controls:  # the sync of either worker counts the participants of both
        state = control.call("sync", {"after": control.last_seq})["state"]
        assert state["presence"] == sorted([alice_id, reza_id])
    listed = second.get(f"/api/sessions/{info['session']}/participants", token).json()["participants"]
    assert {p["participant"]: p["online"] for p in listed} == {alice_id: True, reza_id: True}

    # Alice opens a second connection on the other worker, then closes the first: she is still online.
    again = Client(second, alice.token)
    again.connect()
    alice.disconnect()
    time.sleep(AT_ONCE)  # long enough for a wrong "offline" to arrive through the queue
    assert [n["online"] for n in notices[1] if n["participant"] == alice_id] == [True]
    again.disconnect()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(
        any(n["participant"] == alice_id and not n["online"] for n in got) for got in notices
    ):
        time.sleep(0.05)
    for got in notices:  # the last connection closed: offline, once, seen by control on both workers
        assert [n["online"] for n in got if n["participant"] == alice_id] == [True, False]
    assert controls[0].call("sync", {"after": 0})["state"]["presence"] == [reza_id]
    for client in (reza, *controls):
        client.disconnect()


# ------------------------------------------------------------------ revocation
def test_logout_closes_every_connection_of_the_token_on_every_worker(workers):
    first, second, name = workers
    token = first.login(name)
    info = new_session(first, token)
    other = second.login(name)  # the same account's other login stays
    on_first, on_second = Client(first, token, info["session"]), Client(second, token, info["session"])
    survivor = Client(second, other, info["session"])
    drops = [watch_drops(c) for c in (on_first, on_second, survivor)]
    for client in (on_first, on_second, survivor):
        client.connect()
    answer = requests.post(second.url + "/api/logout", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200 and answer.json() == {"ok": True}
    for dropped, reasons in drops[:2]:
        assert dropped.wait(AT_ONCE), "the token's connections close at once, on both workers"
        assert reasons == ["logout"]
    assert not drops[2][0].is_set() and survivor.call("sync", {"after": 0})["ok"]
    assert first.get("/api/sessions", token).status_code == 401
    assert refused(first, token) and refused(second, token)
    again = requests.post(first.url + "/api/logout", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert again.status_code == 401
    survivor.disconnect()


def test_a_removed_participant_is_closed_out_everywhere_and_its_token_refused(workers):
    first, second, name = workers
    token = first.login(name)
    info = new_session(first, token)
    control = Client(first, token, info["session"])
    control.connect()
    seat = first.join(info["codes"]["us"], "Mallory", "liaison-us")
    mate = Client(first, first.join(info["codes"]["us"], "Alice", "j3")["token"])
    mate.connect()
    here, there = Client(first, seat["token"]), Client(second, seat["token"])
    drops = [watch_drops(here), watch_drops(there)]
    here.connect()
    there.connect()
    response = requests.delete(
        f"{second.url}/api/sessions/{info['session']}/participants/{seat['participant']}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    for dropped, reasons in drops:
        assert dropped.wait(AT_ONCE)
        assert reasons == ["removed"]
    assert refused(first, seat["token"]) and refused(second, seat["token"])
    removed = control.wait_for(lambda e: e["type"] == "participant_removed")
    assert removed["payload"]["participant"] == seat["participant"] and removed["payload"]["by"] == name
    assert mate.wait_for(lambda e: e["type"] == "participant_removed")["payload"]["name"] == "Mallory"
    listed = first.get(f"/api/sessions/{info['session']}/participants", token).json()["participants"]
    assert seat["participant"] not in {p["participant"] for p in listed}
    again = requests.delete(
        f"{first.url}/api/sessions/{info['session']}/participants/{seat['participant']}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert again.status_code == 404 and again.json()["error"]["code"] == "unknown_participant"
    # The join code still seats the person anew (issue 13: not with the old token).
    assert first.join(info["codes"]["us"], "Mallory", "liaison-us")["participant"] != seat["participant"]
    for client in (control, mate):
        client.disconnect()


def test_a_moved_player_comes_back_as_its_new_seat_with_the_same_token(workers):
    first, second, name = workers
    token = first.login(name)
    info = new_session(first, token)
    seat = first.join(info["codes"]["us"], "Bob", "liaison-us")
    bob = Client(second, seat["token"])
    dropped, reasons = watch_drops(bob)
    bob.connect()
    moved = first.post(
        f"/api/sessions/{info['session']}/participants/{seat['participant']}/seat",
        {"team": "oman", "position": "omani-liaison"},
        token,
    )
    assert moved.status_code == 200, moved.text
    new_id = moved.json()["seat"]["participant"]
    assert dropped.wait(AT_ONCE) and reasons == ["moved"]
    back = Client(first, seat["token"])  # the same token, now the new seat
    me = back.connect()["me"]
    assert (me["team"], me["position"], me["participant"]) == ("oman", "omani-liaison", new_id)
    salim = Client(second, second.join(info["codes"]["oman"], "Salim", "omani-liaison")["token"])
    salim.connect()
    assert salim.call("send_message", {"channel": "team", "text": "welcome"})["ok"]
    back.wait_for(lambda e: e["payload"].get("text") == "welcome")  # in Oman's room now
    bad = first.post(
        f"/api/sessions/{info['session']}/participants/{new_id}/seat", {"team": "oman", "position": "j3"}, token
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_position"
    for client in (back, salim):
        client.disconnect()


def test_a_disabled_facilitator_is_closed_out_on_every_worker(workers):
    first, second, _name = workers
    name = f"gone-{secrets.token_hex(4)}"
    assert first.flask("facilitator", "create", name, "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    token = first.login(name)
    info = new_session(first, token)
    clients = [Client(first, token, info["session"]), Client(second, token, info["session"])]
    drops = [watch_drops(c) for c in clients]
    for client in clients:
        client.connect()
    done = first.flask("facilitator", "disable", name)
    assert done.returncode == 0, done.stderr
    assert "connections closed" in done.stdout
    for dropped, reasons in drops:
        assert dropped.wait(AT_ONCE), "closed through the queue as soon as the command returns"
        assert reasons == ["disabled"]
    assert refused(second, token)
    login = second.post("/api/login", {"username": name, "password": PASSWORD})
    assert login.status_code == 401
    assert first.flask("facilitator", "enable", name).returncode == 0
    assert second.login(name)


# ------------------------------------------------------------------ reconnecting under traffic
def test_a_client_reconnecting_under_traffic_ends_with_every_event_it_may_see(workers):
    """Live events reach the new connection before its sync answers (made certain here: the sync waits
    for one). The documented procedure (sync after `through`) loses nothing; the old one (after the
    highest seq held) would have skipped what was sent while the client was away."""
    first, second, name = workers
    token = first.login(name)
    info = new_session(first, token)
    control = Client(second, token, info["session"])
    control.connect()
    writer = Client(first, first.join(info["codes"]["us"], "Alice", "j3")["token"])
    iran = Client(second, second.join(info["codes"]["iran"], "Reza", "irgcn")["token"])
    reader = Client(second, second.join(info["codes"]["us"], "Bob", "liaison-us")["token"])
    for client in (writer, iran, reader):
        client.connect()
    assert control.call("clock", {"action": "start"})["ok"]
    stop = threading.Event()
    sent: list[int] = []

    def traffic() -> None:
        n = 0
        while not stop.is_set() and n < 400:
            n += 1
            answer = writer.call("send_message", {"channel": "team", "text": f"traffic {n}"})
            sent.append(answer["seq"])
            iran.call("send_message", {"channel": "team", "text": f"not for the reader {n}"})
            time.sleep(0.03)  # a player's pace, not game time

    thread = threading.Thread(target=traffic)
    thread.start()
    try:
        reader.wait_for(lambda e: e["payload"].get("text") == "traffic 3")
        reader.disconnect()
        away_from = max(sent)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(sent) < 3 + 20:  # missed while away
            time.sleep(0.02)
        back = Client(first, reader.token)  # comes back on the other worker
        back.seen, back.events, back.through = set(reader.seen), list(reader.events), reader.through
        with back.cond:
            back.buffer = []
        back.sio.connect(first.url, auth={"token": back.token}, transports=["websocket"], wait_timeout=10)
        with back.cond:  # a live event arrives before the sync (the race of the old procedure, made certain)
            assert back.cond.wait_for(lambda: back.buffer, 10)
            highest = max(e["seq"] for e in back.buffer)
        old_rule = back.call("sync", {"after": max(highest, max(back.seen))})["events"]
        back.sync(back.through)
    finally:
        stop.set()
        thread.join(30)
    away = [seq for seq in sent if away_from < seq < highest]
    assert away, "messages were sent while the reader was away"
    assert not set(away) & {e["seq"] for e in old_rule}, "syncing after the highest seq held skips them"
    assert set(away) <= back.seen, "the documented procedure receives them"
    final = release_final(control)
    back.wait_for(lambda e: e["seq"] == final)
    assert back.seen == full_view(first, back, final), "every event it may see, and nothing else"
    for client in (control, writer, iran, back):
        client.disconnect()


# ------------------------------------------------------------------ a worker dies between commit and publish
def test_an_event_committed_by_a_dying_worker_reaches_every_client_of_the_other(workers):
    """Worker 1 commits a team-chat message and is SIGKILLed before publishing it (test hook). Nobody on
    worker 2 reconnects or syncs: the outbox sweep of worker 2 publishes it, once, within seconds."""
    first, second, name = workers
    token = second.login(name)
    info = new_session(second, token)
    control = Client(second, token, info["session"])
    sender = Client(first, first.join(info["codes"]["us"], "Alice", "j3")["token"])
    mate = Client(second, second.join(info["codes"]["us"], "Bob", "liaison-us")["token"])
    iran = Client(second, second.join(info["codes"]["iran"], "Reza", "irgcn")["token"])
    observer = Client(second, second.join(info["observer_code"], "Eve")["token"])
    watchers = (control, mate, iran, observer)
    for client in (sender, *watchers):
        client.connect()
    assert control.call("clock", {"action": "start"})["ok"]
    for n in range(3):
        assert sender.call("send_message", {"channel": "team", "text": f"before {n}"})["ok"]
    mate.wait_for(lambda e: e["payload"].get("text") == "before 2")

    started = time.monotonic()
    with pytest.raises(socketio.exceptions.TimeoutError):  # the worker dies under the call: no answer
        sender.sio.call("send_message", {"channel": "team", "text": f"{MARK} last", "client_id": "last-1"}, timeout=5)
    assert first.proc is not None and first.proc.wait(10) == -9, "the test hook killed worker 1"
    for client in (mate, control, observer):  # delivered live, with no reconnect and no sync
        got = client.wait_for(lambda e: MARK in str(e["payload"].get("text", "")), timeout=20)
    print(f"\n[outbox] delivered {time.monotonic() - started:.1f} s after the commit")
    assert not any(MARK in str(e["payload"]) for e in iran.events), "and to nobody else"

    # The sender comes back on worker 2: its resend is the same event, once.
    sender = Client(second, sender.token)
    sender.connect()
    resent = sender.call("send_message", {"channel": "team", "text": f"{MARK} last", "client_id": "last-1"})
    assert resent["ok"] and resent["duplicate"] and resent["seq"] == got["seq"]
    assert iran.call("send_message", {"channel": "team", "text": "after"})["ok"]
    final = release_final(control)
    for client in watchers:
        client.wait_for(lambda e: e["seq"] == final)
        assert client.seen == full_view(second, client, final), client.token
    assert sum(1 for e in mate.events if MARK in str(e["payload"].get("text", ""))) == 1
    said = re.findall(
        rf"of session {info['session']} that their writer did not \(seq ([0-9, ]+)\)", second.log.read_text()
    )
    assert str(got["seq"]) in ", ".join(said).split(", "), "the worker says what it published for another"
    for client in (sender, *watchers):
        client.disconnect()
    first.start()  # for any test after this one
