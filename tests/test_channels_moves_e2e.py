"""End to end with real Socket.IO clients: who may use which channel, channels opened in play, moves.

A real server process (tests/live_server.py) runs tests/data/moves-live.yaml (format 2): the Oman
line with named writers and readers, a flag-level line that starts closed, the generals' hotline
that only the two generals read, and a Move 2 four seconds into play where the clock stops.
"""

from __future__ import annotations

import pytest

from .live_game import Game, Seat, open_game
from .live_server import Client, Server

pytestmark = pytest.mark.slow

SEATS: dict[str, Seat] = {
    "us-colonel": ("us", "Cora", "us-colonel"),
    "us-general": ("us", "Gus", "us-general"),
    "us-ship": ("us", "Sam", "us-ship"),
    "ir-colonel": ("iran", "Ramin", "ir-colonel"),
    "ir-general": ("iran", "Gholam", "ir-general"),
    "om-colonel": ("oman", "Omar", "om-colonel"),
    "observer": (None, "Eve", None),
}


def new_game(server: Server) -> Game:
    return open_game(server, "moves-live", SEATS)


def texts(client: Client) -> list[str]:
    with client.cond:
        return [e["payload"].get("text") for e in client.events if "text" in e["payload"]]


def fence(clients: list[Client], team_chats: dict[str, Client], word: str) -> None:
    """A team-chat message after everything else: once each client has it, it has had all that came before."""
    for sender in team_chats.values():
        assert sender.call("send_message", {"channel": "team", "text": word})["ok"]
    for client in clients:
        client.wait_for(lambda e: e["type"] == "message" and e["payload"].get("text") == word)


def test_a_position_outside_the_write_list_is_refused_with_a_clear_error(server):
    g = new_game(server)
    ship = g["us-ship"]
    answer = ship.call("send_message", {"channel": "oman-line", "text": "Patch me through to Tehran"})
    assert not answer["ok"] and answer["error"]["code"] == "forbidden"
    message = answer["error"]["message"]
    assert "'Oman line'" in message and "Line officer (Colonel) (United States)" in message, message
    with ship.cond:
        assert ship.cond.wait_for(lambda: ship.errors, 5)
    assert ship.errors[-1]["message"] == message  # also told as an `error` event
    general = g["us-general"].call("send_message", {"channel": "bridge", "text": "This is the general"})
    assert not general["ok"] and "Tactical action officer (United States)" in general["error"]["message"]
    assert g["us-ship"].call("send_message", {"channel": "bridge", "text": "Alter course"})["ok"]


def test_a_position_outside_the_read_list_never_receives_the_channel_live_or_by_sync(server):
    g = new_game(server)
    readers, others = [g["ir-general"], g["observer"], g["control"]], [g["us-colonel"], g["ir-colonel"], g["us-ship"]]
    assert g["us-general"].call("send_message", {"channel": "generals", "text": "General to general"})["ok"]
    for client in readers:
        client.wait_for(lambda e: e["payload"].get("text") == "General to general")
    # The Oman line: the colonel writes, the Omani colonel forwards, Iran's readers receive it.
    sent = g["us-colonel"].call("send_message", {"channel": "oman-line", "text": "Washington seeks calm"})
    assert sent["ok"]
    queued = g["om-colonel"].wait_for(lambda e: e["type"] == "message_sent")
    assert g["om-colonel"].call("relay", {"message": queued["seq"], "action": "forward"})["ok"]
    g["ir-general"].wait_for(lambda e: e["type"] == "message_delivered")
    fence(
        readers + others,
        {"us": g["us-ship"], "iran": g["ir-colonel"]},
        "fence",
    )
    for client in others:
        assert "General to general" not in texts(client)
        assert not any(e["payload"].get("channel") == "generals" for e in client.events)
    assert "Washington seeks calm" not in texts(g["us-ship"])  # not on the Oman line's lists
    assert "Washington seeks calm" in texts(g["ir-colonel"])  # Iran's line officer reads what Oman passes
    # A fresh connection, synced from the start, is sent no more than the live events were.
    for position in ("us-colonel", "us-ship", "ir-colonel"):
        again = Client(server, g[position].token)
        answer = again.connect(after=0)
        assert not any(e["payload"].get("channel") == "generals" for e in answer["events"]), position
        assert "generals" not in [c["id"] for c in answer["state"]["channels"]], position
        again.disconnect()
    synced = Client(server, g["us-ship"].token).connect(after=0)
    assert not any(e["payload"].get("channel") == "oman-line" for e in synced["events"])
    assert [c["id"] for c in synced["state"]["channels"]] == ["team", "bridge", "public"]
    general = Client(server, g["ir-general"].token).connect(after=0)
    assert "General to general" in [e["payload"].get("text") for e in general["events"]]


def test_control_opens_a_closed_channel_and_its_readers_see_it(server):
    g = new_game(server)
    general, colonel, control = g["us-general"], g["ir-colonel"], g["control"]
    flag = next(c for c in general.answer["state"]["channels"] if c["id"] == "flag-line")
    assert flag["open"] is False and flag["reason"] == "the channel is closed"
    refused = general.call("send_message", {"channel": "flag-line", "text": "Open up"})
    assert not refused["ok"] and refused["error"]["code"] == "closed"
    assert "'Flag-level line' is closed" in refused["error"]["message"]
    assert not g["ir-general"].call("channel", {"channel": "flag-line", "action": "open"})["ok"]  # control only
    assert control.call("channel", {"channel": "flag-line", "action": "open"})["ok"]
    opened = general.wait_for(lambda e: e["type"] == "channel_opened")
    assert opened["payload"] == {"channel": "flag-line", "by": "ctl"}
    g["ir-general"].wait_for(lambda e: e["type"] == "channel_opened")
    assert general.call("send_message", {"channel": "flag-line", "text": "Open up"})["ok"]
    state = general.call("sync", {"after": general.last_seq})["state"]
    assert next(c for c in state["channels"] if c["id"] == "flag-line")["open"] is True
    fence([colonel], {"iran": g["ir-general"]}, "after the flag line")
    assert not any(e["type"] == "channel_opened" for e in colonel.events)  # not a reader of the flag line
    assert control.call("channel", {"channel": "flag-line", "action": "close"})["ok"]
    general.wait_for(lambda e: e["type"] == "channel_closed")


def test_the_clock_stops_at_the_move_and_control_starts_the_next_move(server):
    g = new_game(server)
    control, ship = g["control"], g["us-ship"]
    clock = ship.answer["state"]["clock"]
    assert clock["move"]["title"] == "Move 1: the shootdown" and clock["scenario_time"] == "2019-06-20T04:05:00+04:00"
    assert control.call("clock", {"action": "start"})["ok"]
    ship.wait_for(lambda e: e["type"] == "move_started" and e["payload"]["move"] == "m1")
    ended = ship.wait_for(lambda e: e["type"] == "move_ended", timeout=15)
    assert ended["payload"] == {"move": "m1", "next": "m2", "at": 4}
    state = control.call("sync", {"after": control.last_seq})["state"]
    assert state["clock"]["status"] == "paused" and state["clock"]["waiting"]["id"] == "m2"
    assert state["injects"]["boxer"]["status"] == "scheduled"  # due at the boundary: not before the move starts
    resumed = control.call("clock", {"action": "resume"})
    assert not resumed["ok"] and "start the move" in resumed["error"]["message"]
    assert not ship.call("start_move", {"move": "m2"})["ok"]
    assert control.call("start_move", {"move": "m2"})["ok"]
    started = ship.wait_for(lambda e: e["type"] == "move_started" and e["payload"]["move"] == "m2")
    assert started["payload"]["title"] == "Move 2: USS Boxer" and started["t"] == 4
    ship.wait_for(lambda e: e["type"] == "inject_released" and e["payload"]["inject"] == "boxer")
    clock = ship.call("sync", {"after": ship.last_seq})["state"]["clock"]
    assert clock["status"] == "running" and clock["move"]["id"] == "m2"
    assert clock["scenario_time"].startswith("2019-07-18T10:00")
