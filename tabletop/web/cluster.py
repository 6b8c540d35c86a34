"""What the workers of one deployment share, beside the database: presence, revocations, publishing.

One worker (the default, no message queue) keeps all of it in memory and pays nothing for it. With a
message queue (Redis, several workers; docs/deployment.md):

- **Publishing** goes through `QueueManager`, Flask-SocketIO's Redis manager, which also counts the
  publishes Redis refused: `Live` then leaves the event in the outbox, and a worker publishes it
  again (tabletop/live.py, `Live.outbox_pass`; docs/architecture.md).
- **Revocations** (a logout, a removed or moved participant, a disabled facilitator) travel on the
  same Redis channel as a control message that every worker handles itself, never emitted to a
  client: each drops its own open connections of the revoked token at once. A sweep
  (`REVALIDATE` seconds) drops any connection whose token is no longer valid: a revocation made
  while the queue was down, by `flask facilitator disable` without a queue, or an expired token.
- **Presence** is kept in Redis (`RedisPresence`): a hash per session and worker of open connections
  per participant, which the worker rewrites every `HEARTBEAT` seconds and which expires `PRESENCE_TTL`
  seconds after its worker died. A participant is online when some live worker counts it.

Test hook: `TABLETOP_TEST_CRASH_AFTER_COMMIT=MARKER` (refused in production) makes the worker SIGKILL
itself right after committing an event whose text holds MARKER, before publishing it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import socketio as sio
from flask import Flask, current_app

from tabletop.engine import Event
from tabletop.store import Identity

from .extensions import socketio

log = logging.getLogger(__name__)

CONTROL = "tabletop:control"  # the event name of control messages between workers (never sent to clients)
BATCH = "tabletop:batch"  # the event name of several emits sent to the other workers as one message
CHANNEL = "flask-socketio"  # Flask-SocketIO's default channel: the CLI and every worker use it
HEARTBEAT = 5.0  # seconds between two rewrites of a worker's presence
PRESENCE_TTL = 15.0  # seconds a dead worker's presence outlives it
REVALIDATE = 2.0  # seconds between two checks of the tokens of this worker's open connections


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PublishFailed(RuntimeError):
    """The message queue did not take an event: it stays in the outbox for the sweep."""


class QueueManager(sio.RedisManager):
    """Flask-SocketIO's Redis manager, plus: a count of the publishes Redis refused; control messages
    between workers handed to `on_control` on every worker (the sender's included) instead of emitted;
    and batches (`batch()`): the emits of one event (control, each team, seats, observers, its author)
    go to the other workers as one Redis message instead of one each."""

    def __init__(self, url: str, write_only: bool = False) -> None:
        super().__init__(url, channel=CHANNEL, write_only=write_only)
        self.failures = 0
        self.on_control: Callable[[dict[str, Any]], None] | None = None
        #: Told (session, seq) of each event another worker published: Live then knows its state is behind.
        self.on_heard: Callable[[str, int], None] | None = None
        self._local = threading.local()  # greenlet-local under gevent: the batch being gathered

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Emits inside go out here at once, and to the other workers together when it ends."""
        if getattr(self._local, "batch", None) is not None:  # nested: the outer batch sends them
            yield
            return
        gathered: list[dict[str, Any]] = []
        self._local.batch = gathered
        try:
            yield
        finally:
            self._local.batch = None
            if len(gathered) == 1:
                self._publish(gathered[0])
            elif gathered:
                self._publish({"method": "emit", "event": BATCH, "data": [gathered], "host_id": self.host_id})

    def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        gathered = getattr(self._local, "batch", None)
        if gathered is None or callback is not None or kwargs.get("ignore_queue") or isinstance(data, tuple):
            return super().emit(
                event, data, namespace=namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kwargs
            )
        # PubSubManager.emit's message (no callbacks, no binary: Tabletop sends neither), published later.
        message = {
            "method": "emit",
            "event": event,
            "data": [data],
            "binary": False,
            "namespace": namespace or "/",
            "room": to or room,
            "skip_sid": skip_sid,
            "callback": None,
            "host_id": self.host_id,
        }
        self._handle_emit(message)  # this worker's clients, now
        gathered.append(message)
        return None

    def _publish(self, data: Any) -> Any:
        result = super()._publish(data)
        if result is None:  # python-socketio gave up after its retry (and logged it)
            self.failures += 1
        return result

    def _handle_emit(self, message: dict[str, Any]) -> None:
        if message.get("event") == BATCH:
            data = message.get("data")
            for inner in data[0] if isinstance(data, list) and data and isinstance(data[0], list) else []:
                if isinstance(inner, dict) and inner.get("event") not in (BATCH, CONTROL):
                    self._heard(inner)
                    super()._handle_emit(inner)
            return
        if message.get("event") == CONTROL:
            data = message.get("data")
            payload = data[0] if isinstance(data, list) and data else None
            if isinstance(payload, dict) and self.on_control is not None:
                try:
                    self.on_control(payload)
                except Exception:
                    log.exception("control message failed: %s", payload.get("op"))
            return
        self._heard(message)
        super()._handle_emit(message)

    def _heard(self, message: dict[str, Any]) -> None:
        """Another worker's `event` emit: tell Live the session's log reached its seq."""
        data = message.get("data")
        event = data[0] if message.get("event") == "event" and isinstance(data, list) and data else None
        if isinstance(event, dict) and self.on_heard is not None:
            session, seq = event.get("session"), event.get("seq")
            if isinstance(session, str) and isinstance(seq, int):
                self.on_heard(session, seq)


# ------------------------------------------------------------------ presence
class LocalPresence:
    """Open connections per participant per session, in this process (one worker)."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[int, int]] = {}
        self.lock = threading.Lock()

    def connected(self, session_id: str, participant: int, delta: int) -> bool:
        """Count a connection opening (+1) or closing (-1); True when the participant came or went."""
        with self.lock:
            counts = self.counts.setdefault(session_id, {})
            before = counts.get(participant, 0)
            after = max(0, before + delta)
            if after:
                counts[participant] = after
            else:
                counts.pop(participant, None)
                if not counts:
                    self.counts.pop(session_id, None)
            return (before == 0) != (after == 0)

    def online(self, session_id: str) -> list[int]:
        with self.lock:
            return sorted(self.counts.get(session_id, {}))

    def snapshot(self) -> dict[str, dict[int, int]]:
        with self.lock:
            return {s: dict(c) for s, c in self.counts.items()}

    def heartbeat(self) -> None:
        """Nothing to refresh in memory."""


#: KEYS: the session's set of workers, this worker's hash. ARGV: prefix of worker hashes, this worker,
#: participant, delta, ttl. Returns {total before, total after} over every live worker, atomically.
_CONNECTED = """
local function total()
  local n = 0
  for _, w in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    local key = ARGV[1] .. w
    if w ~= ARGV[2] and redis.call('EXISTS', key) == 0 then
      redis.call('SREM', KEYS[1], w)
    else
      n = n + tonumber(redis.call('HGET', key, ARGV[3]) or '0')
    end
  end
  return n
end
redis.call('SADD', KEYS[1], ARGV[2])
local before = total()
local mine = redis.call('HINCRBY', KEYS[2], ARGV[3], ARGV[4])
if mine <= 0 then redis.call('HDEL', KEYS[2], ARGV[3]) end
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('EXPIRE', KEYS[1], 86400)
return {before, total()}
"""


class RedisPresence:
    """Presence every worker sees: in Redis, a hash per session and worker (participant -> open
    connections), rewritten from this worker's own counts every HEARTBEAT seconds and expiring
    PRESENCE_TTL seconds after its worker stops (a dead worker's connections vanish by themselves)."""

    def __init__(self, url: str, worker: str, prefix: str = "tabletop:presence") -> None:
        import redis

        self.redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.worker = worker
        self.prefix = prefix
        self.local = LocalPresence()  # this worker's own counts: the truth it rewrites into Redis
        self.script = self.redis.register_script(_CONNECTED)

    def _keys(self, session_id: str) -> tuple[str, str]:
        return f"{self.prefix}:{session_id}", f"{self.prefix}:{session_id}:"

    def connected(self, session_id: str, participant: int, delta: int) -> bool:
        changed_here = self.local.connected(session_id, participant, delta)
        workers, hashes = self._keys(session_id)
        try:
            before, after = self.script(
                keys=[workers, hashes + self.worker],
                args=[hashes, self.worker, participant, delta, int(PRESENCE_TTL)],
            )
        except Exception:
            log.exception("presence: Redis unreachable; counting this worker only")
            return changed_here
        return (int(before) > 0) != (int(after) > 0)

    def online(self, session_id: str) -> list[int]:
        workers, hashes = self._keys(session_id)
        try:
            members = [m.decode() if isinstance(m, bytes) else str(m) for m in self.redis.smembers(workers)]
            pipe = self.redis.pipeline(transaction=False)
            for member in members:
                pipe.hgetall(hashes + member)
            found: set[int] = set()
            for counts in pipe.execute():
                found.update(int(p) for p, n in counts.items() if int(n) > 0)
            return sorted(found | set(self.local.online(session_id)))
        except Exception:
            log.exception("presence: Redis unreachable; this worker's connections only")
            return self.local.online(session_id)

    def heartbeat(self) -> None:
        """Rewrite this worker's counts (they survive a Redis restart) and push their expiry on."""
        counts = self.local.snapshot()
        if not counts:
            return
        pipe = self.redis.pipeline(transaction=False)
        for session_id, people in counts.items():
            workers, hashes = self._keys(session_id)
            key = hashes + self.worker
            pipe.delete(key)
            pipe.hset(key, mapping={str(p): n for p, n in people.items()})
            pipe.expire(key, int(PRESENCE_TTL))
            pipe.sadd(workers, self.worker)
            pipe.expire(workers, 86400)
        pipe.execute()


# ------------------------------------------------------------------ connections and revocation
@dataclass(frozen=True)
class Connection:
    sid: str
    digest: str
    kind: str  # facilitator | player | observer
    id: int


@dataclass
class Cluster:
    """This worker's view of the others: presence, its open connections by token, revocations."""

    presence: LocalPresence | RedisPresence
    manager: QueueManager | None = None
    connections: dict[str, Connection] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    revalidate: Callable[[list[str]], set[str]] | None = None  # the store's live_digests
    started: bool = False

    # -- connections ----------------------------------------------------------------------------
    def opened(self, sid: str, token: str, identity: Identity) -> None:
        with self.lock:
            self.connections[sid] = Connection(sid, digest(token), identity.kind, identity.id)

    def closed(self, sid: str) -> None:
        with self.lock:
            self.connections.pop(sid, None)

    def matching(self, match: dict[str, Any]) -> list[Connection]:
        """This worker's connections a revocation names: {"digest": D} (one token), {"facilitator": ID} or
        {"participant": ID} (every token of an account or a seat)."""
        with self.lock:
            found = list(self.connections.values())
        if "digest" in match:
            return [c for c in found if c.digest == match["digest"]]
        if "facilitator" in match:
            return [c for c in found if c.kind == "facilitator" and c.id == match["facilitator"]]
        if "participant" in match:
            return [c for c in found if c.kind != "facilitator" and c.id == match["participant"]]
        return []

    # -- revocation -----------------------------------------------------------------------------
    def revoke(self, match: dict[str, Any], reason: str) -> None:
        """Drop the open connections a revocation names, on every worker: through the queue when there
        is one (every worker, this one too, handles the control message), else here at once."""
        message = {"op": "drop", "match": match, "reason": reason}
        if self.manager is not None:
            socketio.emit(CONTROL, message)
        else:
            self.control(message)

    def control(self, message: dict[str, Any]) -> None:
        """A control message from any worker (or the command line)."""
        if message.get("op") == "drop" and isinstance(message.get("match"), dict):
            self.drop(self.matching(message["match"]), str(message.get("reason", "revoked")))

    def drop(self, connections: list[Connection], reason: str) -> None:
        """Tell each connection why (`revoked`), then close it: its token no longer opens anything."""
        server = socketio.server
        if server is None:
            return
        for conn in connections:
            self.closed(conn.sid)
            try:
                server.emit("revoked", {"reason": reason}, to=conn.sid, ignore_queue=True)
                server.disconnect(conn.sid, ignore_queue=True)
            except Exception:  # noqa: BLE001 - it went away meanwhile
                log.info("could not drop connection %s", conn.sid)
        if connections:
            log.info("dropped %d connections (%s)", len(connections), reason)

    def sweep(self) -> int:
        """Drop this worker's connections whose token is no longer valid; how many."""
        if self.revalidate is None:
            return 0
        with self.lock:
            held = list(self.connections.values())
        if not held:
            return 0
        valid = self.revalidate(sorted({c.digest for c in held}))
        stale = [c for c in held if c.digest not in valid]
        self.drop(stale, "revoked")
        return len(stale)

    # -- the background loop --------------------------------------------------------------------
    def run(self) -> None:
        """Heartbeat the presence and check the open connections' tokens, until stopped."""
        next_beat = next_check = 0.0
        while not self.stop.is_set():
            now = time.monotonic()
            try:
                if now >= next_beat:
                    next_beat = now + HEARTBEAT
                    self.presence.heartbeat()
                if now >= next_check:
                    next_check = now + REVALIDATE
                    self.sweep()
            except Exception:
                log.exception("cluster: background pass failed")
            socketio.sleep(0.5)

    def start(self) -> None:
        if not self.started:
            self.started = True
            socketio.start_background_task(self.run)


def client_manager(app: Flask) -> sio.Manager:
    """The Socket.IO client manager: ours on Redis; the in-memory one otherwise (always passed explicitly:
    Flask-SocketIO would otherwise keep the manager of an earlier app of the same process)."""
    url = app.config.get("MESSAGE_QUEUE")
    if url and str(url).startswith(("redis://", "rediss://", "unix://")):
        return QueueManager(url)
    return sio.Manager()


def init_cluster(app: Flask) -> Cluster:
    """After init_sockets: presence, revocations and publishing failures for this app's workers."""
    rt = app.extensions["tabletop"]
    server = socketio.server
    manager = server.manager if server is not None and isinstance(server.manager, QueueManager) else None
    url = app.config.get("MESSAGE_QUEUE")
    presence = RedisPresence(url, manager.host_id) if manager is not None and url else LocalPresence()
    cluster = Cluster(presence, manager, revalidate=rt.store.live_digests)
    if manager is not None:
        manager.on_control = cluster.control
        manager.on_heard = rt.live.heard
        inner = rt.live.publish

        def publish(session_id: str, event: Event, state: Any) -> None:
            before = manager.failures
            with manager.batch():  # one Redis message for all the rooms of this event
                inner(session_id, event, state)
            if manager.failures != before:
                raise PublishFailed(f"the message queue did not take seq {event.seq}")

        rt.live.publish = publish
    marker = app.config.get("CRASH_AFTER_COMMIT")
    if marker and app.config.get("ENV_NAME") != "production":
        rt.live.after_commit = crash_after_commit(str(marker))
    app.extensions["tabletop.cluster"] = cluster
    return cluster


def cluster() -> Cluster:
    return current_app.extensions["tabletop.cluster"]


def revoke_token(token: str, reason: str) -> bool:
    """Revoke one token (a logout) and close its open connections on every worker; whether it existed."""
    found = current_app.extensions["tabletop"].store.revoke_token(token)
    cluster().revoke({"digest": digest(token)}, reason)
    return found


def crash_after_commit(marker: str) -> Callable[[list[Event]], None]:
    """Test only: SIGKILL this worker right after it committed an event whose payload holds `marker`."""

    def check(events: list[Event]) -> None:
        for event in events:
            if any(isinstance(v, str) and marker in v for v in event.payload_json.values()):
                log.warning("TABLETOP_TEST_CRASH_AFTER_COMMIT: killing this worker after seq %s", event.seq)
                os.kill(os.getpid(), signal.SIGKILL)

    return check


def publish_control(url: str, message: dict[str, Any]) -> bool:
    """Send a control message to every worker from outside a server (the command line)."""
    manager = QueueManager(url, write_only=True)
    manager._publish({"method": "emit", "event": CONTROL, "data": [message], "namespace": "/", "host_id": "cli"})
    return manager.failures == 0
