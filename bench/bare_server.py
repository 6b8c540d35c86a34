"""The floor for the load benchmark: a bare Flask-SocketIO broadcast server.

No persistence, no authorisation, no engine: `python bench/bare_server.py --port P`, with
ASYNC_MODE=threading|gevent served exactly as app.py serves it (Werkzeug, or gevent's WSGI server
after monkey patching). A client connects with `?rooms=r1,r2` and joins those rooms.
`send_message` {text[, to: [rooms]][, kind: "inject"]} emits one `event` shaped like Tabletop's
to the sender's first room (or to the rooms named) and acknowledges {"ok": true, "seq": N}.

BARE_DIRECT=1: `send_message` is called by python-socketio directly, without Flask-SocketIO's request
context per event, as Tabletop's commands are since session 4 (tabletop/web/sockets.py): the floor
for that part of the path too (docs/benchmarks.md).
"""

from __future__ import annotations

import os

if os.environ.get("ASYNC_MODE", "threading") == "gevent":  # must come before every other import
    from gevent import monkey

    monkey.patch_all()

import argparse
import itertools
import time
from typing import Any

from flask import Flask, request, session
from flask_socketio import SocketIO, join_room

MODE = os.environ.get("ASYNC_MODE", "threading")
app = Flask(__name__)
app.config["SECRET_KEY"] = "bare-bench"
socketio = SocketIO(app, async_mode=MODE, cors_allowed_origins=None)
sequence = itertools.count(1)


@socketio.on("connect")
def connect(auth: Any = None) -> None:
    rooms = [r for r in request.args.get("rooms", "").split(",") if r][:8]
    for name in rooms:
        join_room(name)
    session["rooms"] = rooms


@socketio.on("send_message")
def send_message(data: Any) -> dict[str, Any]:
    return _send(data, session.get("rooms", []))


def send_message_direct(sid: str, data: Any = None) -> dict[str, Any]:
    """`send_message` as python-socketio calls it (BARE_DIRECT): the rooms from the Socket.IO session."""
    environ = socketio.server.get_environ(sid, namespace="/") or {}  # type: ignore[union-attr]
    return _send(data, (environ.get("saved_session") or {}).get("rooms", []))


def _send(data: Any, rooms: list[str]) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return {"ok": False, "error": {"code": "bad_payload"}}
    to = data.get("to") if isinstance(data.get("to"), list) else rooms[:1]
    seq = next(sequence)
    if data.get("kind") == "inject":
        kind, payload = "inject_released", {"inject": f"live-{seq}", "title": data["text"], "to": to, "body": ""}
    else:
        kind, payload = "message", {"channel": "team", "team": to[0] if to else None, "name": "p", "text": data["text"]}
    event = {"session": "bare", "seq": seq, "type": kind, "t": 0.0, "wall": time.time(), "payload": payload}
    socketio.emit("event", event, to=to)
    return {"ok": True, "seq": seq, "duplicate": False, "type": kind}


if os.environ.get("BARE_DIRECT") and socketio.server is not None:
    socketio.server.on("send_message", send_message_direct, namespace="/")


def main() -> None:
    parser = argparse.ArgumentParser(description="A bare Flask-SocketIO broadcast server (benchmark floor).")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    print(f"bare server ({MODE}) on 127.0.0.1:{args.port}", flush=True)
    if MODE == "gevent":
        socketio.run(app, host="127.0.0.1", port=args.port, log_output=False)
    else:
        socketio.run(app, host="127.0.0.1", port=args.port, allow_unsafe_werkzeug=True, log_output=False)


if __name__ == "__main__":
    main()
