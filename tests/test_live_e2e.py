"""End to end: a real server process, real python-socketio clients, a whole game."""

from __future__ import annotations

import time

import pytest
import socketio

from .live_game import SEATS, open_game, seats_of
from .live_server import PASSWORD, Client, Server

pytestmark = pytest.mark.slow


def released(client: Client, inject: str) -> bool:
    return any(e["type"] == "inject_released" and e["payload"]["inject"] == inject for e in client.events)


def test_full_game_through_the_relay_and_a_decision_branch(server):
    g = open_game(server, "minimal", SEATS)
    control, us, iran, oman, observer = g["control"], g["us"], g["iran"], g["oman"], g["observer"]
    presence = control.call("sync", {"after": control.last_seq})["state"]["presence"]
    joined = {e["payload"]["participant"] for e in control.of_type("participant_joined")}
    assert set(presence) == joined and len(joined) == 5
    assert control.call("clock", {"action": "start"})["ok"]
    for client in (us, iran, oman):
        shootdown = client.wait_for(lambda e: e["type"] == "inject_released" and e["payload"]["inject"] == "shootdown")
        assert shootdown["payload"]["classification"] == "UNCLASSIFIED // EXERCISE ONLY"
        assert "notes" not in shootdown["payload"] and "expect" not in shootdown["payload"]
    iran.wait_for(lambda e: e["type"] == "inject_released" and e["payload"]["inject"] == "follow-up")
    assert not released(us, "follow-up") and not released(oman, "follow-up")

    # The Oman line: the U.S. writes, Oman edits and forwards, Iran sees only the edit.
    ack = us.call("send_message", {"channel": "oman-line", "text": "We hold you responsible.", "client_id": "u1"})
    assert ack["ok"] and ack["type"] == "message_sent"
    queued = oman.wait_for(lambda e: e["type"] == "message_sent")
    assert queued["payload"]["text"] == "We hold you responsible."
    assert oman.call("relay", {"message": queued["seq"], "action": "edit", "text": "Washington seeks calm."})["ok"]
    delivered = iran.wait_for(lambda e: e["type"] == "message_delivered")
    # The air gap of the default disclosure: Iran reads it "via Oman"; the U.S. is told it went on.
    assert delivered["payload"]["text"] == "Washington seeks calm." and "from_team" not in delivered["payload"]
    us.wait_for(lambda e: e["type"] == "message_relayed" and e["payload"]["action"] == "forward")
    assert "We hold you responsible" not in str(iran.events)
    control.wait_for(lambda e: e["type"] == "message_relayed" and e["payload"]["text"] == "Washington seeks calm.")

    # A decision branch: the facilitator sends the options now; only the J3 may choose.
    assert control.call("release_inject", {"inject": "options"})["ok"]
    us.wait_for(lambda e: e["type"] == "inject_released" and e["payload"]["inject"] == "options")
    refused = g["us2"].call("decide", {"inject": "options", "option": "strike"})
    assert not refused["ok"] and refused["error"]["code"] == "forbidden"
    assert us.call("decide", {"inject": "options", "option": "strike", "rationale": "Deterrence"})["ok"]
    state = control.call("sync", {"after": control.last_seq})["state"]
    assert state["injects"]["retaliation"]["status"] == "scheduled"
    assert state["escalation"] == 3
    assert control.call("release_inject", {"inject": "retaliation"})["ok"]
    oman.wait_for(lambda e: e["type"] == "inject_released" and e["payload"]["inject"] == "retaliation")
    assert not released(iran, "retaliation")
    jammed = us.call("send_message", {"channel": "bridge", "text": "Alter course"})
    assert jammed["ok"] and jammed["type"] == "message_jammed"

    # Observers see their teams' traffic and write observations only.
    observer.wait_for(lambda e: e["type"] == "message_delivered")
    assert observer.call("observe", {"objective": "obj-contact", "rating": "S", "text": "Slow"})["ok"]
    assert not observer.call("send_message", {"channel": "team", "text": "x"})["ok"]

    # Pause, end, hotwash.
    assert control.call("clock", {"action": "pause"})["ok"]
    us.wait_for(lambda e: e["type"] == "clock_paused")
    assert control.call("clock", {"action": "end"})["ok"]
    for key in ("us", "iran", "oman"):
        g[key].wait_for(lambda e: e["type"] == "session_ended")
        answer = g[key].call("feedback", {"strengths": "Clear", "improvements": "Faster", "channels": {"oman-line": 4}})
        assert answer["ok"], answer
    control.wait_for(lambda e: e["type"] == "feedback" and e["payload"]["team"] == "oman")
    control.wait_for(lambda e: e["type"] == "feedback" and e["payload"]["team"] == "iran")
    control.wait_for(lambda e: e["type"] == "feedback" and e["payload"]["team"] == "us")
    assert len({e["payload"]["participant"] for e in control.of_type("feedback")}) == 3
    # Hotwash answers reach control and their author only (live as in sync): not a teammate.
    assert [e["payload"]["team"] for e in us.events if e["type"] == "feedback"] == ["us"]
    assert not any(e["type"] == "feedback" for e in g["us2"].events), "hotwash answers go to control and author"


def test_reconnect_replays_exactly_what_was_missed(server):
    g = open_game(server, "minimal", SEATS)
    us, iran = g["us"], g["iran"]
    us.call("send_message", {"channel": "team", "text": "before"})
    us.wait_for(lambda e: e["type"] == "message" and e["payload"]["text"] == "before")
    seen_before = list(us.seen)
    us.disconnect()
    for n in range(5):
        assert g["us2"].call("send_message", {"channel": "team", "text": f"missed {n}"})["ok"]
    iran.call("send_message", {"channel": "team", "text": "iran only"})
    again = Client(server, us.token)
    again.seen, again.through = set(seen_before), us.through  # resumes after its last complete sync
    answer = again.connect()
    fresh = [e for e in answer["events"] if e["seq"] not in seen_before]
    assert [e["payload"].get("text") for e in fresh] == [f"missed {n}" for n in range(5)]
    assert all(e["seq"] > us.last_seq for e in fresh)
    assert "iran only" not in str(answer)


def test_sending_twice_with_one_client_id_is_stored_once(server):
    g = open_game(server, "minimal", SEATS)
    first = g["us"].call("send_message", {"channel": "team", "text": "once", "client_id": "dup-1"})
    second = g["us"].call("send_message", {"channel": "team", "text": "once", "client_id": "dup-1"})
    assert first["seq"] == second["seq"] and second["duplicate"]
    g["us2"].wait_for(lambda e: e["payload"].get("text") == "once")
    sync = g["us2"].call("sync", {"after": 0})
    assert sum(1 for e in sync["events"] if e["payload"].get("text") == "once") == 1


def test_hostile_client_is_refused_and_the_server_carries_on(server):
    g = open_game(server, "minimal", SEATS)
    other = open_game(server, "minimal", SEATS)
    us = g["us"]
    checks = [
        ("clock", {"action": "start"}, "forbidden"),
        ("watch", {"session": other.session}, "forbidden"),
        ("sync", {"after": 0, "session": other.session}, "forbidden"),
        ("send_message", {"channel": "team", "text": "x", "session": other.session}, "forbidden"),
        ("release_inject", {"inject": "tanker"}, "forbidden"),
        ("spoof", {"channel": "bridge", "as_team": "iran", "text": "x"}, "forbidden"),
        ("send_message", "not an object", "bad_payload"),
        ("send_message", {"channel": "team", "text": "y" * 100_000}, "bad_payload"),
        ("send_message", {"channel": "team", "text": 42}, "bad_payload"),
        ("send_message", {"channel": "bridge\u0000", "text": "x"}, "unknown_channel"),
        ("relay", {"message": 1, "action": "forward"}, "unknown_message"),
        ("join_room", {"room": f"{other.session}:control"}, "unknown_event"),
        ("decide", {"inject": "options", "option": "strike"}, "unknown_decision"),
    ]
    for event, data, code in checks:
        answer = us.call(event, data)
        assert not answer["ok"] and answer["error"]["code"] == code, (event, answer)
        assert answer["error"]["message"]
    assert len(us.errors) == len(checks)
    # The other session never saw anything of this one, and both still work.
    assert other["control"].call("clock", {"action": "start"})["ok"]
    other["us"].wait_for(lambda e: e["type"] == "clock_started")
    assert us.call("send_message", {"channel": "team", "text": "still here"})["ok"]
    # A wrong token cannot connect at all; a wrong join code is a clear 404.
    with pytest.raises(socketio.exceptions.ConnectionError):
        socketio.Client(reconnection=False).connect(server.url, auth={"token": "x" * 40}, transports=["websocket"])
    response = server.post("/api/join", {"code": "ZZZZ-ZZZZ", "name": "Mallory", "position": "j3"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "bad_code"
    response = server.post("/api/join", {"code": g.code("us"), "name": "Mallory", "position": "irgcn"})
    assert response.status_code == 400 and "choose a position of United States" in response.json()["error"]["message"]


def test_sigkill_and_restart_mid_game_loses_nothing_and_releases_once(tmp_path):
    srv = Server(tmp_path)
    assert srv.flask("facilitator", "create", "ctl", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    srv.start()
    try:
        g = open_game(srv, "minimal", seats_of("us"))
        token, info, control, us = g.token, g.info, g.control, g["us"]
        control.call("clock", {"action": "start"})
        control.call("clock", {"action": "speed", "speed": 10})
        # Two injects due 1.5 s and 2 s of wall time from now (exercise seconds at 10x).
        elapsed = control.call("sync", {"after": 0})["state"]["clock"]["elapsed"]
        control.call("move_inject", {"inject": "options", "at": elapsed + 15})
        control.call("move_inject", {"inject": "jamming", "at": elapsed + 20})
        acked = us.call("send_message", {"channel": "team", "text": "acknowledged before the crash", "client_id": "c1"})
        assert acked["ok"]
        us.disconnect()
        control.disconnect()
        srv.kill()
        killed_at = time.monotonic()
        srv.start()
        control = Client(srv, token, info["session"])
        control.connect()
        control.wait_for(lambda e: e["type"] == "inject_released" and e["payload"]["inject"] == "jamming", timeout=15)
        assert time.monotonic() - killed_at < 30
        events = control.call("sync", {"after": 0})["events"]
        releases = [e["payload"]["inject"] for e in events if e["type"] == "inject_released"]
        assert sorted(releases) == sorted(set(releases)), "no inject released twice"
        assert {"shootdown", "follow-up", "options", "jamming"} <= set(releases)
        assert any(e["payload"].get("text") == "acknowledged before the crash" for e in events)
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        state = control.call("sync", {"after": 0})["state"]
        assert state["clock"]["status"] == "running" and state["clock"]["speed"] == 10
        assert state["clock"]["elapsed"] > elapsed + 20
        us = Client(srv, us.token)
        assert us.connect()["ok"]
        assert us.call("send_message", {"channel": "team", "text": "acknowledged before the crash", "client_id": "c1"})[
            "duplicate"
        ]
    finally:
        srv.stop()
