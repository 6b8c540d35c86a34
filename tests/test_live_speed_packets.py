"""The server's Socket.IO packets (sockets.JSONPacket) encode exactly as python-socketio's own,
without walking every outgoing payload for bytes first (issue 16, the cost per message)."""

from __future__ import annotations

from typing import Any

import pytest
from socketio import packet as sio_packet

from tabletop.web.extensions import socketio
from tabletop.web.sockets import JSONPacket

PAYLOADS: list[Any] = [
    ["event", {"session": "s", "seq": 3, "payload": {"text": "héllo", "to": ["a", "b"], "n": None}}],
    ["event", {"nested": [[{"deep": [1, 2.5, True]}]]}],
    ["event", {"blob": b"\x00\x01"}],  # bytes: sent as a binary packet, as before
    ["event", b"raw", {"more": [b"x", {"y": bytearray(b"z")}]}],
]


@pytest.mark.parametrize("data", PAYLOADS)
@pytest.mark.parametrize("kind", [sio_packet.EVENT, sio_packet.ACK])
def test_the_same_bytes_as_python_socketio(data: Any, kind: int) -> None:
    ours = JSONPacket(kind, data=data, namespace="/", id=7 if kind == sio_packet.ACK else None)
    theirs = sio_packet.Packet(kind, data=data, namespace="/", id=7 if kind == sio_packet.ACK else None)
    assert ours.encode() == theirs.encode()


def test_what_json_cannot_encode_still_fails() -> None:
    with pytest.raises(TypeError):
        JSONPacket(sio_packet.EVENT, data=["event", {"a set": {1, 2}}]).encode()


def test_a_received_packet_decodes_as_before() -> None:
    encoded = '2["send_message",{"channel":"team","text":"hi"}]'
    assert JSONPacket(encoded_packet=encoded).data == sio_packet.Packet(encoded_packet=encoded).data


def test_the_app_sends_with_it(app: Any) -> None:
    assert socketio.server is not None and socketio.server.packet_class is JSONPacket


# ------------------------------------------------- commands called by python-socketio directly
@pytest.fixture
def world(tmp_path):
    from .test_wire_properties import World

    made = World(tmp_path)
    yield made
    made.close()


def test_commands_are_called_without_flask_socketios_wrapper(world) -> None:
    from tabletop.engine import COMMANDS
    from tabletop.web.sockets import _direct_command_handler

    handlers = socketio.server.handlers["/"]
    assert all(handlers[name].__code__ is _direct_command_handler(name).__code__ for name in COMMANDS)


def test_direct_commands_answer_as_before(world) -> None:
    player, control = world.clients["player"], world.clients["control"]
    player.get_received()
    sent = world.send("player", "send_message", {"channel": "team", "text": "hello", "client_id": "x1"})
    assert sent["ok"] and sent["type"] == "message" and sent["duplicate"] is False
    again = world.send("player", "send_message", {"channel": "team", "text": "hello", "client_id": "x1"})
    assert again == {**sent, "duplicate": True}
    assert [e["args"][0]["seq"] for e in player.get_received() if e["name"] == "event"] == [sent["seq"]]
    # Refusals: the acknowledgement, and an `error` event to the sender only.
    control.get_received()
    refused = world.send("player", "decide", {"inject": "nope", "option": "x"})
    assert refused["ok"] is False and refused["error"]["command"] == "decide"
    errors = [e["args"][0] for e in player.get_received() if e["name"] == "error"]
    assert errors == [refused["error"]]
    assert not [e for e in control.get_received() if e["name"] == "error"]
    # A facilitator's command names a session it watches (the connection's Socket.IO session holds them).
    assert world.send("control", "write_inject", {"to": "all", "title": "Now"})["ok"]
    other = control.emit("write_inject", {"to": "all", "title": "Now", "session": "elsewhere"}, callback=True)
    assert other["error"]["code"] == "not_watching"
    # Two arguments: what Flask-SocketIO's wrapper answered (on_error), not a frame the server cannot read.
    two = player.emit("send_message", {"channel": "team", "text": "a"}, {"b": 1}, callback=True)
    assert two["error"] == {
        "code": "internal",
        "message": "the server could not handle that event",
        "command": "unknown",
    }


def test_a_connection_without_a_token_is_refused_before_any_command(world) -> None:
    from tabletop.web import socketio as app_socketio

    stranger = app_socketio.test_client(world.app, auth={"token": "nope"})
    assert not stranger.is_connected()
