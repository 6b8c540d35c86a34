"""Socket.IO handlers: thin. Parse, authorise, call the engine, append, emit.

Client -> server events are verbs (`sync`, `watch`, and every command of the engine:
`send_message`, `relay`, `ack_inject`, `decide`, `clock` ...); server -> client events are
nouns (`event`, `presence`, `error`). Every command answers through its acknowledgement:
{"ok": true, "seq": N, "duplicate": bool, "type": T} or {"ok": false, "error": {...}},
and a refusal is also emitted as an `error` event to the sender. See docs/protocol.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app, request, session
from flask_socketio import ConnectionRefusedError, emit, join_room
from socketio import packet as sio_packet

from tabletop.engine import COMMANDS, Refused, Viewer
from tabletop.engine.access import seat
from tabletop.engine.commands import unstorable
from tabletop.engine.views import summary
from tabletop.store import Identity

from .auth import NOT_THEIRS, actor_for, may_run
from .cluster import cluster
from .extensions import socketio
from .feed import MAX_PAGE, MAX_SEQ, PAGE, Page, feed
from .guard import SYNC_RATE
from .runtime import room, runtime

log = logging.getLogger(__name__)


class JSONPacket(sio_packet.Packet):
    """python-socketio's packet (the server's `serializer`), without the walk of every outgoing payload
    for bytes: Tabletop sends JSON. The walk (`data_is_binary`, a list built per dict and list) cost more
    than encoding the event. The same bytes go out: a payload holding bytes cannot be JSON-encoded, and
    only then is it checked and sent as a binary packet, as python-socketio would have sent it."""

    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        return False  # decided in `encode`, only for a payload JSON cannot encode

    def encode(self) -> Any:
        try:
            return super().encode()
        except TypeError:
            binary = {sio_packet.EVENT: sio_packet.BINARY_EVENT, sio_packet.ACK: sio_packet.BINARY_ACK}
            kind: int = self.packet_type  # type: ignore[has-type]  # python-socketio is untyped
            if kind not in binary or not sio_packet.Packet.data_is_binary(self.data):
                raise
            self.packet_type = binary[kind]
            return super().encode()


def _identity() -> Identity | None:
    return session.get("identity")


def _refuse(command: str, code: str, message: str, to: str | None = None) -> dict[str, Any]:
    """The refusal's acknowledgement; the same body goes to the sender as an `error` event (`to`: its sid,
    where there is no Flask-SocketIO request context to answer in)."""
    body = {"code": code, "message": message, "command": command}
    if to is None:
        emit("error", body)
    else:
        socketio.emit("error", body, to=to)
    return {"ok": False, "error": body}


def _session_for(identity: Identity, data: Any, command: str, held: Mapping[str, Any] | None = None) -> str:
    """The session a command is about: a participant's own; for facilitators the one they watch.
    `held`: the connection's Socket.IO session (Flask's `session` within a Flask-SocketIO handler)."""
    asked = data.get("session") if isinstance(data, dict) else None
    if identity.kind == "facilitator":
        watching = (session if held is None else held).get("watching", set())
        if not isinstance(asked, str) or asked not in watching:
            raise Refused("not_watching", f"{command}: name a session you watch ('session'; send 'watch' first)")
        return asked
    if asked is not None and asked != identity.session_id:
        raise Refused("forbidden", f"{command}: you belong to another session")
    assert identity.session_id is not None
    return identity.session_id


@socketio.on("connect")
def connect(auth: Any) -> None:
    """Anyone with a token from /api/login or /api/join; players and observers join their rooms."""
    token = auth.get("token") if isinstance(auth, dict) else None
    identity = runtime().store.identify(token) if isinstance(token, str) else None
    if identity is None:
        raise ConnectionRefusedError("unauthorised: connect with auth={'token': ...} from /api/login or /api/join")
    session["identity"] = identity
    session["watching"] = set()
    cluster().opened(request.sid, str(token), identity)  # type: ignore[attr-defined]  # revoking it drops it
    if identity.kind == "player":
        join_room(room(identity.session_id or "", "team", identity.team))
        if identity.team and identity.position:  # events that only some positions of the team may see
            join_room(room(identity.session_id or "", "seat", seat(identity.team, identity.position)))
    elif identity.kind == "observer":
        for team in identity.teams:
            join_room(room(identity.session_id or "", "observe", team))
    if identity.kind != "facilitator" and identity.session_id:
        join_room(room(identity.session_id, "participant", str(identity.id)))  # events personal to it (feed.py)
        _presence(identity, online=True)


def _presence(identity: Identity, online: bool) -> None:
    """Tell control when a participant's first connection opens or last one closes."""
    assert identity.session_id is not None
    if cluster().presence.connected(identity.session_id, identity.id, 1 if online else -1):
        socketio.emit(
            "presence",
            {
                "session": identity.session_id,
                "participant": identity.id,
                "name": identity.name,
                "team": identity.team,
                "online": online,
            },
            to=room(identity.session_id, "control"),
        )


@socketio.on("disconnect")
def disconnect(*_args: Any) -> None:
    cluster().closed(request.sid)  # type: ignore[attr-defined]
    identity = _identity()
    if identity is not None and identity.kind != "facilitator" and identity.session_id:
        _presence(identity, online=False)


@socketio.on("watch")
def watch(data: Any = None) -> dict[str, Any]:
    """Facilitator -> {session}: join the session's control room (sees every event, every channel)."""
    identity = _identity()
    if identity is None or identity.kind != "facilitator":
        return _refuse("watch", "forbidden", "watch: only facilitators watch sessions")
    session_id = data.get("session") if isinstance(data, dict) else None
    if (
        not isinstance(session_id, str)
        or unstorable(session_id)
        or (row := runtime().store.get_session(session_id[:32])) is None  # one query: `may_run` reads it too
    ):
        return _refuse("watch", "unknown_session", f"watch: unknown session {session_id!r}")
    if not may_run(identity, row):
        return _refuse("watch", "forbidden", f"watch: {NOT_THEIRS}")
    join_room(room(session_id, "control"))
    session["watching"] = session.get("watching", set()) | {session_id}
    return {"ok": True}


@socketio.on("sync")
def sync(data: Any = None) -> dict[str, Any]:
    """Client -> {after: SEQ[, session]}: the events after SEQ this client may see, and the current state.

    Live events may also arrive for seq <= last_seq while a sync is answered: clients drop any
    event whose seq they have already seen.
    """
    identity = _identity()
    if identity is None:
        return _refuse("sync", "unauthorised", "sync: not connected with a token")
    try:
        session_id = _session_for(identity, data, "sync")
    except Refused as exc:
        return _refuse("sync", exc.code, exc.message)
    rt = runtime()
    viewer: Viewer = actor_for(identity).viewer
    try:
        after, limit = _sync_bounds(data)
    except Refused as exc:
        return _refuse("sync", exc.code, exc.message)
    with rt.live.lock(session_id):
        state = rt.live.current(session_id)
        authority = state.exercise.position(identity.position)[1].authority if identity.position else 0
        current = summary(state, viewer, rt.live.time.now(), authority)
    page = feed_page(session_id, viewer, state.exercise, after, current["last_seq"], limit)
    if page is None:
        return _refuse("sync", "rate_limited", f"sync: too many events at once: at most {SYNC_RATE:g} a second")
    if identity.kind == "facilitator":
        current["presence"] = cluster().presence.online(session_id)  # connected to any worker
    me = {
        "kind": identity.kind,
        "name": identity.name,
        "team": identity.team,
        "position": identity.position,
        "participant": identity.id if identity.kind != "facilitator" else None,
    }
    return {
        "ok": True,
        "session": session_id,
        "events": page.events,
        "more": page.more,
        "through": page.through,
        "last_seq": current["last_seq"],
        "state": current,
        "me": me,
    }


def _sync_bounds(data: Any) -> tuple[int, int]:
    """`after` (0 to MAX_SEQ) and `limit` (1 to MAX_PAGE, default PAGE) of a `sync`, or Refused."""
    asked = data if isinstance(data, dict) else {}
    after, limit = asked.get("after", 0), asked.get("limit", PAGE)
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_SEQ:
        raise Refused("bad_payload", f"sync: 'after' must be the last seq you hold (0 for all, at most {MAX_SEQ})")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
        raise Refused("bad_payload", f"sync: 'limit' must be a whole number of events from 1 to {MAX_PAGE}")
    return after, limit


def feed_page(session_id: str, viewer: Viewer, exercise: Any, after: int, last_seq: int, limit: int) -> Page | None:
    """A page of `sync` within the connection's budget of events (None: none now), through the feed's cache."""
    guard = current_app.extensions.get("tabletop.guard")
    budget = guard.budget_of(request.sid) if guard is not None else None  # type: ignore[attr-defined]
    if budget is not None:
        allowance = budget.sync_allowance()
        if allowance < 1:
            return None
        limit = min(limit, allowance)
    page = feed().page(session_id, viewer, exercise, after, last_seq, limit)
    if budget is not None:
        budget.spend_events(len(page.events))
    return page


Refuse = Callable[[str, str, str], dict[str, Any]]


def _command(name: str, identity: Identity | None, held: Mapping[str, Any], data: Any, rt: Any, refuse: Refuse):
    """Carry out a client's command: the acknowledgement (`refuse` also tells the sender in an `error`)."""
    if identity is None:
        return refuse(name, "unauthorised", f"{name}: not connected with a token")
    try:
        session_id = _session_for(identity, data, name, held)
        payload = {k: v for k, v in data.items() if k != "session"} if isinstance(data, dict) else data
        result = rt.live.command(session_id, actor_for(identity), name, payload)
    except Refused as exc:
        return refuse(name, exc.code, exc.message)
    except Exception:
        log.exception("command %s failed", name)
        return refuse(name, "internal", f"{name}: the server could not carry this out; nothing was stored")
    return {
        "ok": True,
        "seq": result.seq,
        "duplicate": result.duplicate,
        "type": result.events[0].type if result.events else None,
    }


def _one(data: Any = None) -> Any:
    return data


def _direct_command_handler(name: str):
    """The command's handler as python-socketio calls it, without Flask-SocketIO's request context: pushing
    one per event (the cookie session opened and dropped, URL matching, every extension's teardown) cost
    more CPU than the command. The same answers: the identity and `watching` come from the connection's
    Socket.IO session (what `session` is inside a Flask-SocketIO handler), `current_app` is there (an app
    context), and a failure answers as `on_error` does."""

    def handler(sid: str, *args: Any) -> Any:
        server = socketio.server
        environ = server.get_environ(sid, namespace="/") if server is not None else None
        if not environ:
            return "", 400  # what Flask-SocketIO answers for a connection it has no record of

        def refuse(command: str, code: str, message: str) -> dict[str, Any]:
            return _refuse(command, code, message, to=sid)

        app = environ["flask.app"]
        with app.app_context():
            held = environ.get("saved_session") or {}  # made by `connect`, which every connection went through
            try:
                return _command(name, held.get("identity"), held, _one(*args), app.extensions["tabletop"], refuse)
            except Exception:
                log.exception("socket handler failed: %s", name)
                return refuse("unknown", "internal", "the server could not handle that event")

    handler.__name__ = f"on_{name}"
    handler.__doc__ = f"Client -> `{name}` command; see docs/protocol.md."
    return handler


def install_commands(server: Any) -> None:
    """Register the commands' handlers with python-socketio itself (`_direct_command_handler`), for every
    app after `init_app`: Flask-SocketIO never wraps them, so no request context is pushed per event."""
    for name in COMMANDS:
        server.on(name, _direct_command_handler(name), namespace="/")


@socketio.on_error_default
def on_error(exc: Exception) -> dict[str, Any]:
    log.exception("socket handler failed: %s", request.event.get("message") if hasattr(request, "event") else "")
    return _refuse("unknown", "internal", "the server could not handle that event")


@socketio.on("*")
def unknown_event(event: str, *_data: Any) -> dict[str, Any]:
    """Any event name the server does not know: refused, with the list of verbs."""
    verbs = ", ".join(["watch", "sync", *sorted(COMMANDS)])
    return _refuse(str(event)[:64], "unknown_event", f"unknown event '{str(event)[:64]}' (events: {verbs})")
