"""End to end, the intermediary's voice: a real server process, real python-socketio clients.

What each seat's client receives, live and by `sync`, is checked event by event: a note to one
half never reaches the other, instructions never reach the receiver, and the sender's client is
never sent the edited text nor the `edited` flag (tests/data/relay.yaml, `oman-line` with the
default disclosure).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .live_game import Game, open_game, seats_of
from .live_server import Client, Server

pytestmark = pytest.mark.slow

ORIGINAL = "We hold Tehran responsible for the drone."
EDITED = "Washington asks for calm and a call."
NOTE = "Muscat asks: do you mean 'responsible' or 'accountable'?"
INSTRUCTIONS = "Pass it only if Tehran has not gone public."
READ_BACK = "Understood: calm, and a call."


def seat_clients(server: Server) -> Game:
    return open_game(server, "relay", seats_of("us", "iran", "oman"))


def resynced(server: Server, token: str) -> list[dict[str, Any]]:
    """Everything a fresh connection of this seat is sent by `sync` from the start."""
    fresh = Client(server, token)
    try:
        return fresh.connect(after=0)["events"]
    finally:
        fresh.disconnect()


def test_a_note_to_the_us_half_never_reaches_iran(server):
    g = seat_clients(server)
    control, us, iran, oman = g["control"], g["us"], g["iran"], g["oman"]
    assert control.call("clock", {"action": "start"})["ok"]
    sent = us.call("send_message", {"channel": "oman-line", "text": ORIGINAL, "instructions": INSTRUCTIONS})
    assert sent["ok"] and sent["type"] == "message_sent"
    waiting = oman.wait_for(lambda e: e["type"] == "message_sent")
    assert waiting["payload"]["instructions"] == INSTRUCTIONS
    answer = oman.call("write_relay_note", {"channel": "oman-line", "to": "us", "text": NOTE, "message": sent["seq"]})
    assert answer["ok"] and answer["type"] == "relay_note"
    note = us.wait_for(lambda e: e["type"] == "relay_note")
    assert note["payload"]["text"] == NOTE and note["payload"]["to"] == "us"
    control.wait_for(lambda e: e["type"] == "relay_note")
    # A refusal for the wrong seat, with a clear reason.
    refused = iran.call("write_relay_note", {"channel": "oman-line", "to": "us", "text": "Not mine to write"})
    assert not refused["ok"] and refused["error"]["code"] == "forbidden"
    # Oman forwards, so Iran has something on the line; then a marker shows Iran's client is caught up.
    assert oman.call("relay", {"message": sent["seq"], "action": "forward"})["ok"]
    iran.wait_for(lambda e: e["type"] == "message_delivered")
    assert iran.call("send_message", {"channel": "team", "text": "marker"})["ok"]
    iran.wait_for(lambda e: e["type"] == "message" and e["payload"]["text"] == "marker")
    for events in (iran.events, resynced(server, g.tokens["iran"])):
        text = json.dumps(events, ensure_ascii=False)
        assert "relay_note" not in {e["type"] for e in events}
        assert NOTE not in text and INSTRUCTIONS not in text
        [delivered] = [e for e in events if e["type"] == "message_delivered"]
        assert delivered["payload"] == {"message": sent["seq"], "channel": "oman-line", "text": ORIGINAL}
    assert any(e["type"] == "relay_note" for e in resynced(server, g.tokens["us"]))


def test_the_sender_is_never_sent_the_edit_and_hears_of_the_read_back(server):
    g = seat_clients(server)
    control, us, iran, oman = g["control"], g["us"], g["iran"], g["oman"]
    assert control.call("clock", {"action": "start"})["ok"]
    sent = us.call("send_message", {"channel": "oman-line", "text": ORIGINAL, "readback": True})
    assert sent["ok"]
    oman.wait_for(lambda e: e["type"] == "message_sent")
    assert oman.call("relay", {"message": sent["seq"], "action": "edit", "text": EDITED})["ok"]
    delivered = iran.wait_for(lambda e: e["type"] == "message_delivered")
    assert delivered["payload"]["text"] == EDITED and delivered["payload"]["readback"] is True
    assert iran.call("read_back", {"message": sent["seq"], "text": READ_BACK})["ok"]
    oman.wait_for(lambda e: e["type"] == "message_read_back" and e["payload"]["text"] == READ_BACK)
    told = us.wait_for(lambda e: e["type"] == "message_read_back")
    assert told["payload"] == {
        "message": sent["seq"],
        "channel": "oman-line",
        "relay": "oman",
        "team": "iran",
        "sender": "us",
    }
    us.wait_for(lambda e: e["type"] == "message_relayed")
    receipt = us.wait_for(lambda e: e["type"] == "message_delivered")
    assert receipt["payload"] == {"message": sent["seq"], "channel": "oman-line", "from_team": "us"}
    for events in (us.events, resynced(server, g.tokens["us"])):
        text = json.dumps(events, ensure_ascii=False)
        assert EDITED not in text and READ_BACK not in text
        assert not any("edited" in e["payload"] for e in events)
        [relayed] = [e for e in events if e["type"] == "message_relayed"]
        assert relayed["payload"]["action"] == "forward"
    # Control sees all of it.
    full = control.wait_for(lambda e: e["type"] == "message_relayed")
    assert full["payload"]["edited"] is True and full["payload"]["text"] == EDITED
