"""What a Socket.IO connection may send: sizes and budgets checked on the raw frame, before any parsing.

Every frame a client sends reaches `FrameGuard.message` first (it stands in front of python-socketio's
own dispatcher). There, without decoding the JSON:

- the frame's bytes are charged to the connection's byte budget and, for events, one token to its
  command budget (`Budget`): unknown events, `watch` and `sync` included. Over budget, the frame is
  refused (`rate_limited`) and never parsed;
- the event name is read from the frame's first bytes: an unknown name is refused (`unknown_event`),
  a name that is not a string (`bad_frame`), a frame larger than its event can legally be
  (`bad_payload`, from `event_limits`, computed from the command models);
- what then fails to decode (invalid JSON, nesting too deep, an integer of thousands of digits, a
  binary frame, an event that is not a list) is answered `bad_frame`.

Each refusal is answered through the frame's acknowledgement when it asked for one, and as an
`error` event, like every other refusal (docs/protocol.md); a frame from a connection not yet in
the namespace is dropped and logged. The transport is guarded too (`guard_websocket`): a WebSocket
message larger than the largest legal frame closes the connection while it arrives, not after it
was buffered whole, and a closed WebSocket no longer leaves its last bytes to be read as an HTTP
request (gevent logged them as "Invalid HTTP method").
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import time
import types
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from tabletop.engine import COMMANDS

log = logging.getLogger(__name__)

# ------------------------------------------------------------------ budgets
RATE = 20.0  # frames (commands, syncs, anything) a second per connection, sustained
BURST = 40.0
BYTE_RATE = 256 * 1024  # bytes a second per connection, sustained
SYNC_RATE = 1000.0  # events a second that `sync` sends one connection, sustained
SYNC_BURST = 5000.0
DROP_AFTER = 4  # a connection refused this many largest frames' worth of bytes in a row is closed

# ------------------------------------------------------------------ sizes
#: Bytes one character may take in a frame: 4 in UTF-8, 6 as a JSON `\\uXXXX` escape (Python's
#: default). A text of astral characters sent as escaped surrogate pairs (12 bytes each) fits only
#: at half its legal length in the very largest command (`improvement_plan`).
CHAR_BYTES = 6
SMALL = 1024  # `watch`, `sync`: a session id and a few numbers
ENVELOPE = 256  # `42`, an acknowledgement id, the event name, brackets


def wire_size(tp: Any, metadata: tuple[Any, ...] = ()) -> int:
    """The most bytes a legal JSON value of this type can take (strings at CHAR_BYTES a character)."""
    limit = next((m.max_length for m in metadata if getattr(m, "max_length", None) is not None), None)
    origin = get_origin(tp)
    if origin is Annotated:
        base, *extra = get_args(tp)
        inner = [m for e in extra for m in (getattr(e, "metadata", None) or [e])]
        return wire_size(base, (*metadata, *inner))
    if tp is str:
        return 2 + (limit or 4000) * CHAR_BYTES
    if tp is bool or tp is type(None):
        return 5
    if tp in (int, float):
        return 24
    if origin is Literal:
        return max(len(json.dumps(a)) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return max(wire_size(a, metadata) for a in get_args(tp))
    if origin in (list, tuple):
        return 2 + (limit or 100) * (wire_size(get_args(tp)[0]) + 1)
    if origin is dict:
        key, value = get_args(tp)
        return 2 + (limit or 100) * (wire_size(key) + wire_size(value) + 2)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return 2 + sum(
            len(f.alias or name) + 4 + wire_size(f.annotation, tuple(f.metadata)) for name, f in tp.model_fields.items()
        )
    return 2 + 4000 * CHAR_BYTES  # a type this function does not know: as large as a text


def event_limits() -> dict[str, int]:
    """The largest legal frame of each client event: the command's payload, `session`, the envelope."""
    session = len('"session":') + wire_size(str, (_MaxLen(64),)) + 1
    limits = {name: ENVELOPE + session + wire_size(entry.model) for name, entry in COMMANDS.items()}
    limits.update({"watch": SMALL, "sync": SMALL})
    return limits


@dataclass(frozen=True)
class _MaxLen:
    max_length: int


def largest_frame() -> int:
    """The Socket.IO message size limit: the largest legal frame (`improvement_plan`'s, today)."""
    return max(event_limits().values())


# ------------------------------------------------------------------ the budget of one connection
@dataclass
class Budget:
    """Token buckets of one connection: frames, bytes, and events that `sync` sends."""

    byte_burst: float
    frames: float = BURST
    bytes: float = 0.0
    events: float = SYNC_BURST
    refused: float = 0.0  # bytes refused since the last frame let in
    last: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.bytes = self.byte_burst

    def refill(self) -> None:
        now = time.monotonic()
        passed, self.last = now - self.last, now
        self.frames = min(BURST, self.frames + passed * RATE)
        self.bytes = min(self.byte_burst, self.bytes + passed * BYTE_RATE)
        self.events = min(SYNC_BURST, self.events + passed * SYNC_RATE)

    def take(self, size: int, frames: int) -> bool:
        """Charge a frame; False (and nothing charged but the bytes) when over either budget."""
        self.refill()
        if self.frames < frames or self.bytes < size:
            self.bytes = max(self.bytes - size, 0.0)  # bytes read are spent all the same, down to none
            self.refused += size
            return False
        self.refused = 0.0
        self.frames -= frames
        self.bytes -= size
        return True

    def sync_allowance(self) -> int:
        """How many events the next `sync` page may hold (0: none now)."""
        self.refill()
        return int(self.events)

    def spend_events(self, count: int) -> None:
        self.events -= count


# ------------------------------------------------------------------ the frame guard
#: `2` (event) or `5` (binary event), attachments `N-`, namespace `/ns,`, acknowledgement id, then the data.
_HEAD = re.compile(r"([25])(?:\d{1,10}-)?(/[^,]{0,100},)?(\d{1,20})?")
_NAME = re.compile(r'\[\s*"((?:[^"\\]|\\.){0,100})"\s*[,\]]')
_EVENT, _ACK = 2, 3  # python-socketio's packet types


class FrameGuard:
    """Stands in front of python-socketio's dispatcher: budgets, names and sizes first, parsing after."""

    def __init__(self, server: Any, limits: dict[str, int], max_frame: int) -> None:
        self.server = server
        self.limits = limits
        self.max_frame = max_frame
        self.budgets: dict[str, Budget] = {}
        self.lock = threading.Lock()
        self.dispatch = server._handle_eio_message
        self.on_disconnect = server._handle_eio_disconnect
        self.verbs = ", ".join(["watch", "sync", *sorted(COMMANDS)])

    def install(self) -> None:
        # Both ways in: the Engine.IO server's handler, and the attribute Flask-SocketIO's test client calls.
        self.server._handle_eio_message = self.message
        self.server.eio.on("message", self.message)
        self.server._handle_eio_disconnect = self.disconnect
        self.server.eio.on("disconnect", self.disconnect)

    # -- budgets --------------------------------------------------------------------------------
    def budget(self, eio_sid: str) -> Budget:
        with self.lock:
            found = self.budgets.get(eio_sid)
            if found is None:
                found = self.budgets[eio_sid] = Budget(byte_burst=float(self.max_frame))
            return found

    def budget_of(self, sid: str, namespace: str = "/") -> Budget | None:
        """The budget of a connection by its Socket.IO sid (what a handler knows as `request.sid`)."""
        eio_sid = self.server.manager.eio_sid_from_sid(sid, namespace)
        return self.budget(eio_sid) if eio_sid else None

    def disconnect(self, eio_sid: str, *args: Any) -> Any:
        with self.lock:
            self.budgets.pop(eio_sid, None)
        return self.on_disconnect(eio_sid, *args)

    # -- frames ---------------------------------------------------------------------------------
    def message(self, eio_sid: str, data: Any) -> None:
        if eio_sid in self.server._binary_packet:  # an attachment of a binary event already let in
            if self.budget(eio_sid).take(len(data), 0):
                self._dispatch(eio_sid, data, None, "/", "unknown")
            else:
                self.server._binary_packet.pop(eio_sid, None)
            return
        if not isinstance(data, str):
            self._refuse(eio_sid, "/", None, "unknown", "bad_frame", "binary frames are not part of the protocol")
            self.budget(eio_sid).take(len(data), 1)
            return
        head = _HEAD.match(data) if data[:1] in ("2", "5") else None
        if head is None:  # connect, disconnect, acknowledgements: small, parsed as usual
            if self.budget(eio_sid).take(len(data), 0):
                self._dispatch(eio_sid, data, None, "/", "unknown")
            return
        namespace = (head.group(2) or "/,")[:-1]
        ack = int(head.group(3)) if head.group(3) else None
        rest = data[head.end() : head.end() + 256]
        named = _NAME.match(rest)
        name = _unescape(named.group(1)) if named else None
        shown = (name or "unknown")[:64]
        budget = self.budget(eio_sid)
        if not budget.take(len(data), 1):
            message = f"{shown}: too much at once: at most {RATE:g} events and {BYTE_RATE // 1024} KiB a second"
            self._refuse(eio_sid, namespace, ack, shown, "rate_limited", message)
            if budget.refused > DROP_AFTER * self.max_frame:
                self._drop(eio_sid, budget)
            return
        if head.group(1) == "5":
            self._refuse(eio_sid, namespace, ack, shown, "bad_frame", "binary events are not part of the protocol")
            return
        if name is None:
            self._refuse(eio_sid, namespace, ack, shown, "bad_frame", "an event is a list whose first item is its name")
            return
        limit = self.limits.get(name)
        if limit is None:
            message = f"unknown event '{shown}' (events: {self.verbs})"
            self._refuse(eio_sid, namespace, ack, shown, "unknown_event", message)
            return
        if len(data) > limit:
            message = f"{shown}: the message is too large ({len(data)} bytes; at most {limit} for this event)"
            self._refuse(eio_sid, namespace, ack, shown, "bad_payload", message)
            return
        self._dispatch(eio_sid, data, ack, namespace, shown)

    def _drop(self, eio_sid: str, budget: Budget) -> None:
        """Close a connection that goes on flooding after its refusals: reading what it sends costs
        every other connection of this worker time, refused or not."""
        budget.refused = 0.0
        log.warning("closed a connection that kept sending over its budget (%s)", eio_sid)
        self.server.eio.start_background_task(self.server.eio.disconnect, eio_sid)

    def _dispatch(self, eio_sid: str, data: Any, ack: int | None, namespace: str, name: str) -> None:
        try:
            self.dispatch(eio_sid, data)
        except (ValueError, TypeError, KeyError, IndexError, RecursionError, UnicodeError) as exc:
            reason = f"{type(exc).__name__}: {str(exc)[:200]}"
            self._refuse(eio_sid, namespace, ack, name, "bad_frame", f"{name}: the server could not read this message")
            log.info("refused a frame it could not read (%s): %s", eio_sid, reason)

    def _refuse(self, eio_sid: str, namespace: str, ack: int | None, name: str, code: str, message: str) -> None:
        sid = self.server.manager.sid_from_eio_sid(eio_sid, namespace or "/")
        if sid is None:
            log.warning("dropped a frame from a connection not in namespace %s (%s): %s", namespace, code, message)
            return
        body = {"code": code, "message": message, "command": name}
        packet_class = self.server.packet_class
        try:
            self.server._send_packet(eio_sid, packet_class(_EVENT, namespace=namespace, data=["error", body]))
            if ack is not None:
                answer = {"ok": False, "error": body}
                self.server._send_packet(eio_sid, packet_class(_ACK, namespace=namespace, id=ack, data=[answer]))
        except Exception:  # noqa: BLE001 - the connection went away meanwhile: nothing to answer
            log.info("could not answer a refused frame (%s)", eio_sid)


def _unescape(name: str) -> str | None:
    try:
        found = json.loads(f'"{name}"')
    except ValueError:
        return None
    return found if isinstance(found, str) else None


# ------------------------------------------------------------------ the WebSocket transport
def guard_websocket(eio_server: Any, max_message: int) -> None:
    """Give this Engine.IO server a WebSocket class that limits messages as they arrive, reads in
    larger chunks, logs abnormal closes, and ends the HTTP connection with the WebSocket."""
    base = eio_server._async.get("websocket")
    if base is None or not _is_simple(base):
        return

    class GuardedWebSocket(base):  # type: ignore[misc, valid-type]
        def __init__(self, handler: Any, server: Any, **kwargs: Any) -> None:
            super().__init__(handler, server, **kwargs)
            self.server_args.update(max_message_size=max_message, receive_bytes=65536)

        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            try:
                return super().__call__(environ, start_response)
            finally:
                ws = getattr(self, "ws", None)
                reason = getattr(ws, "close_reason", None)
                if reason not in (None, 1000, 1001, 1005):
                    log.warning(
                        "dropped a WebSocket from %s: close code %s (%s)",
                        environ.get("REMOTE_ADDR"),
                        reason,
                        getattr(ws, "close_message", ""),
                    )
                if getattr(ws, "mode", "") == "gevent":
                    _end_http_connection(environ)

    eio_server._async = {**eio_server._async, "websocket": GuardedWebSocket}


def _is_simple(cls: type) -> bool:
    try:
        from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
    except ImportError:  # pragma: no cover
        return False
    return issubclass(cls, SimpleWebSocketWSGI)


def _end_http_connection(environ: dict[str, Any]) -> None:
    """The cause of gevent's "Invalid HTTP method" lines: simple-websocket speaks on a duplicate of the
    request's socket, and when the WebSocket ends, gevent's server goes on reading the original as a
    keep-alive HTTP connection, finding the client's last WebSocket bytes (its close frame) where it
    expects a request line. Closing the request's reader here ends that: gevent's handler stops at a
    closed reader (`if self.rfile.closed: return`) and closes the connection without reading again."""
    wsgi_input = environ.get("wsgi.input")  # gevent passes its reader itself for an upgrade request
    rfile = wsgi_input if hasattr(wsgi_input, "raw") else getattr(wsgi_input, "rfile", None)
    if rfile is not None:
        # Engine.IO answers a polling connection's upgrade request, once its WebSocket has ended, with a
        # "200 OK" that gevent would write after the close frame: a page whose connection the server
        # closed (a revoked token) sees "Invalid frame header". Nothing more may go out: the WebSocket
        # has sent its close frame, so the connection's sending side is shut (gevent ignores the EPIPE).
        sock = getattr(getattr(rfile, "raw", None), "_sock", None)
        with contextlib.suppress(OSError, ValueError):
            rfile.close()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
