"""Running sessions: the engine's rules and clock joined to the store, then fanned out.

`Live` is the one place where a command becomes stored events: it validates through the
engine, appends to the store (the database is the truth: a claim makes every release happen
once, across workers), folds the new events into its cached state and only then publishes
them, with that state (so that publishing needs no query). With several workers (`shared`) each
append also writes outbox rows, and every worker's scheduler loop publishes what a dead writer did
not (`outbox_pass`, docs/architecture.md). It knows nothing of Flask: `publish` is given by the web
layer, `time` by the caller.
"""

from __future__ import annotations

import logging
import threading
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tabletop.engine import Actor, Event, NewEvent, Refused, SessionState, TimeSource, handle, schedule
from tabletop.engine import events as ev
from tabletop.engine.commands import client_id_of
from tabletop.engine.rules import client_key
from tabletop.script.models import from_snapshot
from tabletop.store import Claimed, Stale, Store

log = logging.getLogger(__name__)

#: publish(session_id, event, state): `state` has folded `event` (and everything before it). It raises
#: when the event may not have reached every worker: its outbox row then stays for the sweep.
Publish = Callable[[str, Event, SessionState], None]
#: Times a command is decided again when another worker appended first (several workers).
ATTEMPTS = 10
#: Seconds a worker's scheduler may leave a session's log unread while nothing is due by its state.
FOLLOW = 2.0
#: Seconds between two looks at the outbox for events nobody published (several workers only).
OUTBOX_SWEEP = 1.0
#: Events that can change what is due and when; a chat message, an acknowledgement or a note cannot
#: make anything due (they can only end a condition's window: the scheduler then finds nothing).
PLAN_EVENTS = {
    ev.CLOCK_STARTED,
    ev.CLOCK_PAUSED,
    ev.CLOCK_RESUMED,
    ev.SPEED_CHANGED,
    ev.SESSION_ENDED,
    ev.INJECT_WRITTEN,
    ev.INJECT_RELEASED,
    ev.INJECT_HELD,
    ev.INJECT_UNHELD,
    ev.INJECT_SKIPPED,
    ev.INJECT_MOVED,
    ev.DECISION_MADE,
    ev.CHANNEL_JAMMED,
    ev.CHANNEL_CLEARED,
    ev.MESSAGE_SENT,
    ev.MESSAGE_RELAYED,
    ev.MOVE_STARTED,
    ev.MOVE_ENDED,
    # Conditions (engine/conditions.py): a level crossing a threshold, or a choice, can release an inject
    # at once. Messages and acknowledgements only ever end a condition's window: they are not here.
    ev.ESCALATION_CHANGED,
    ev.CHOICE_MADE,
    ev.INJECT_CANCELLED,
}
STATUS_BY_EVENT = {
    ev.CLOCK_STARTED: "running",
    ev.CLOCK_RESUMED: "running",
    ev.CLOCK_PAUSED: "paused",
    ev.MOVE_STARTED: "running",
    ev.MOVE_ENDED: "paused",
    ev.SESSION_ENDED: "ended",
}


@dataclass
class Result:
    events: list[Event] = field(default_factory=list)
    duplicate: bool = False

    @property
    def seq(self) -> int | None:
        return self.events[0].seq if self.events else None


class Live:
    def __init__(self, store: Store, time: TimeSource, publish: Publish | None = None) -> None:
        self.store = store
        self.time = time
        self.publish: Publish = publish or (lambda session_id, event, state: None)
        self._states: dict[str, SessionState] = {}
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()
        self.wakeup = threading.Event()
        # Several workers (a message queue): the state is caught up with the log before acting, and every
        # append also goes into the outbox, so that what is committed is published even if its writer dies.
        self.shared = False
        #: Called with the events of each append once committed, before they are published (tests only:
        #: the web layer sets it to kill the worker there, TABLETOP_TEST_CRASH_AFTER_COMMIT).
        self.after_commit: Callable[[list[Event]], None] | None = None
        self._next_sweep = 0.0
        #: When the scheduler looks again at the latest (its `time`): sooner than that, a command wakes it.
        self._tick_at = 0.0
        self._heard: dict[str, int] = {}  # session -> the highest seq other workers published
        self._followed: dict[str, float] = {}  # session -> when the scheduler last caught up with its log

    # ------------------------------------------------------------------ state
    def lock(self, session_id: str) -> threading.RLock:
        found = self._locks.get(session_id)  # every command asks: no new RLock and no guard once made
        if found is not None:
            return found
        with self._guard:
            return self._locks.setdefault(session_id, threading.RLock())

    def state(self, session_id: str, known_seq: int | None = None) -> SessionState:
        """The session's state, caught up with the log (events other workers appended too)."""
        with self.lock(session_id):
            state = self._states.get(session_id)
            if state is None:
                row = self.store.get_session(session_id)
                if row is None:
                    raise Refused("unknown_session", f"unknown session '{session_id}'")
                state = SessionState(from_snapshot(row.script))
                for event in self.store.events_after(session_id, 0):
                    state.apply(event)
                # Shown to others only once folded: `current` reads the cache without the lock.
                self._states[session_id] = state
                return state
            if known_seq is None or known_seq > state.seq:
                for event in self.store.events_after(session_id, state.seq):
                    state.apply(event)
            return state

    def current(self, session_id: str) -> SessionState:
        """The state to act on. One worker: the cache is the truth (every append goes through it);
        several (a message queue): caught up with the log first, as `state` does."""
        if not self.shared and session_id in self._states:
            return self._states[session_id]
        return self.state(session_id)

    def _cached(self, session_id: str) -> SessionState:
        """The state to decide a command on. Several workers: caught up with the log only when another
        worker's event was heard of since (`heard`); else as cached, and should the log have moved
        meanwhile the append says so (`Stale`) and the command is decided again."""
        found = self._states.get(session_id)
        if found is None or (self.shared and self._heard.get(session_id, 0) > found.seq):
            return self.state(session_id)
        return found

    def heard(self, session_id: str, seq: int) -> None:
        """Another worker published this seq of the session (the message queue tells every worker)."""
        if seq > self._heard.get(session_id, 0):
            self._heard[session_id] = seq

    def _expected(self, state: SessionState, attempt: int) -> int | None:
        """Several workers: the seq the first append of a command must find at the end of the log (None:
        any; one worker's cache is the log). The state was caught up when another worker's event was
        heard of; if the log moved meanwhile (Stale), the command is decided again on the caught-up state
        and appended whatever came since, as before: insisting every time made two workers on one busy
        session refuse commands as `busy`."""
        return state.seq if self.shared and attempt == 0 else None

    # --------------------------------------------------------------- commands
    def command(self, session_id: str, actor: Actor, name: str, data: Any) -> Result:
        """Carry out a client's command; Refused says why not."""
        client_id = client_id_of(data)  # only one the store can hold is looked up
        with self.lock(session_id):
            state = self._cached(session_id)
            for _attempt in range(ATTEMPTS):
                wall = self.time.now()
                try:
                    made = handle(state, actor, name, data, state.elapsed(wall))
                except Refused:
                    if self.shared and self._caught_up(session_id, state):
                        continue  # decided on a state behind the log: decide again on the log's
                    if client_id is not None:
                        # A resend the rules now refuse: answer with what the first send stored.
                        key = client_key(actor, client_id)
                        earlier = self.store.events_by_client(session_id, actor.participant, key)
                        if earlier is not None:
                            return Result([earlier], duplicate=True)
                    raise
                if not made:
                    return Result()
                try:  # decided on the log's latest state, if it can be had at once (see `_expected`)
                    result = self._append(session_id, state, made, wall, self._expected(state, _attempt))
                except Claimed:  # someone else did it first, or appended since (Stale): look again
                    state = self.state(session_id)
                    continue
                if not result.duplicate and any(e.type in PLAN_EVENTS for e in result.events):
                    self.run_due(session_id, state)  # what it set off at once (a trigger with no delay)
                    self._plan_changed(state)
                return result
            raise Refused("busy", f"{name}: the session is busy, try again")

    def record(self, session_id: str, new: NewEvent) -> Event:
        """Append an event the web layer makes itself (a participant joined)."""
        with self.lock(session_id):
            state = self._cached(session_id)
            for _attempt in range(ATTEMPTS):
                wall = self.time.now()
                made = NewEvent(new.type, new.payload, new.audience, state.elapsed(wall), new.actor)
                try:
                    return self._append(session_id, state, [made], wall, self._expected(state, _attempt)).events[0]
                except Stale:
                    state = self.state(session_id)
            raise Refused("busy", f"{new.type}: the session is busy, try again")

    def _plan_changed(self, state: SessionState) -> None:
        """Wake the scheduler if the session now has something due before the scheduler's next look
        (a chat message changes nothing due: waking it for every message cost a pass over every session)."""
        upcoming = schedule.next_due_wall(state, self.time.now())
        if upcoming is not None and upcoming < self._tick_at:
            self.wakeup.set()

    def _caught_up(self, session_id: str, state: SessionState) -> bool:
        """Fold what other workers appended; whether there was anything."""
        before = state.seq
        return self.state(session_id).seq != before

    def _append(
        self, session_id: str, state: SessionState, batch: list[NewEvent], wall: float, expected: int | None = None
    ) -> Result:
        appended = self.store.append(session_id, batch, wall, outbox=self.shared, expected=expected)
        if appended.duplicate:
            return Result(appended.events, duplicate=True)
        if self.after_commit is not None:
            self.after_commit(appended.events)
        if appended.events[0].seq == state.seq + 1:
            for event in appended.events:
                state.apply(event)
        else:
            state = self.state(session_id)  # other workers appended in between: fold theirs and ours in order
        for event in appended.events:
            status = STATUS_BY_EVENT.get(event.type)
            if status:
                self.store.set_status(session_id, status)
        self._publish(session_id, appended.events, state)
        return Result(appended.events)

    def _publish(self, session_id: str, events: list[Event], state: SessionState) -> bool:
        """Publish stored events; with the outbox, mark them published (False: they stay for the sweep)."""
        try:
            for event in events:
                self.publish(session_id, event, state)
        except Exception:  # the events are stored: the command stands, the sweep publishes them again
            log.exception("publishing session %s seq %s failed: left for the outbox sweep", session_id, events[0].seq)
            return False
        if self.shared:
            self.store.published(session_id, [e.seq for e in events])
        return True

    # -------------------------------------------------------------- the outbox
    def outbox_pass(self, force: bool = False) -> int:
        """Several workers: forget the outbox rows of what was published here, and (every OUTBOX_SWEEP s)
        publish what nobody published in time, each event claimed by one worker. How many it published."""
        self.store.flush_published()
        now = _time.monotonic()
        if not force and now < self._next_sweep:
            return 0
        self._next_sweep = now + OUTBOX_SWEEP
        claimed: dict[str, list[int]] = {}
        for session_id, seq in self.store.claim_unpublished():
            claimed.setdefault(session_id, []).append(seq)
        count = 0
        for session_id, seqs in claimed.items():
            try:
                with self.lock(session_id):
                    state = self.state(session_id)  # caught up with the log: it has folded these events
                    events = self.store.events_at(session_id, seqs)
                    if self._publish(session_id, events, state):
                        count += len(events)
                        log.warning(
                            "published %d events of session %s that their writer did not (seq %s)",
                            len(events),
                            session_id,
                            ", ".join(str(s) for s in seqs[:20]),
                        )
            except Exception:
                log.exception("outbox: session %s", session_id)
        self.store.flush_published()
        return count

    # -------------------------------------------------------------- the clock
    def run_due(self, session_id: str, state: SessionState | None = None) -> list[Event]:
        """Append what the clock makes happen now in one session; each thing once only."""
        released: list[Event] = []
        with self.lock(session_id):
            state = state or self.state(session_id)
            for _round in range(100):
                wall = self.time.now()
                batches = schedule.due(state, wall)
                if not batches:
                    break
                for batch in batches:
                    try:
                        released += self._append(session_id, state, batch, wall).events
                    except Claimed:
                        state = self.state(session_id)
                        break
        return released

    def tick(self) -> float | None:
        """One pass over the active sessions; returns the wall time of the next thing due."""
        soonest: float | None = None
        for session_id, last_seq in self.store.active_sessions_seq():
            try:
                with self.lock(session_id):
                    now = self.time.now()
                    state = self._states.get(session_id)
                    if state is None or not self._may_wait(session_id, state, last_seq, now):
                        state = self.state(session_id, known_seq=last_seq)  # a query only if the log moved
                        self._followed[session_id] = _time.monotonic()
                    upcoming = schedule.next_due_wall(state, now)
                    if upcoming is not None and upcoming <= now:
                        self.run_due(session_id, state)
                        upcoming = schedule.next_due_wall(state, self.time.now())
            except Exception:
                log.exception("scheduler: session %s", session_id)
                continue
            if upcoming is not None and (soonest is None or upcoming < soonest):
                soonest = upcoming
        return soonest

    def _may_wait(self, session_id: str, state: SessionState, last_seq: int, now: float) -> bool:
        """Several workers: whether the scheduler may leave a session's log unread for now, although it
        moved. Whoever appended decided on the log's latest state and ran what its events made due (a
        command runs `run_due`), so this worker reads the log only when its own state has something due,
        and every FOLLOW seconds (for a writer that died before running what it made due)."""
        if state.seq >= last_seq:
            return True  # nothing to read
        if not self.shared:
            return False  # one worker: something appended outside `Live` (a test, the command line)
        if _time.monotonic() - self._followed.get(session_id, 0.0) >= FOLLOW:
            return False
        upcoming = schedule.next_due_wall(state, now)
        return upcoming is None or upcoming > now

    def run_scheduler(self, stop: threading.Event, sleep: Callable[[float], None] | None = None) -> None:
        """The background loop: wakes when something is due or a command changed the plan."""
        while not stop.is_set():
            self._tick_at = float("inf")  # while it looks, any change may come after its look at that session
            try:
                soonest = self.tick()
            except Exception:
                log.exception("scheduler tick failed")
                soonest = None
            if self.shared:
                try:
                    self.outbox_pass()
                except Exception:
                    log.exception("outbox pass failed")
            now = self.time.now()
            wait = 0.25 if soonest is None else min(0.25, max(0.0, soonest - now))
            self._tick_at = now + wait
            if sleep is not None:
                sleep(max(wait, 0.001))
            else:
                self.wakeup.wait(wait)
                self.wakeup.clear()
