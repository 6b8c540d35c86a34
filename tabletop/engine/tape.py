"""The tape: a session's log replayed as any viewer saw it, at any sequence number (issue 14).

Pure: no Flask, no database. The web layer (web/tape.py) hands it the log and the function that
live play and `sync` send events through (`web.feed.view`: the engine's `redact`, then `present`),
so the tape shows a viewer exactly what its live client was sent, by the same code, not a copy.

The caller gives `view` (what a viewer is sent of an event) and `personal` (the participants whose
view of an event may differ from their class's): the web layer gives `web.feed.view` and
`web.feed.personal_to`, the very functions live publishing and `sync` use.

- **What a viewer had seen at seq N** (`seen`): the views of the events up to N it may see. A view
  depends on the viewer's class (kind, team, position, teams) and, for events personal to a
  participant (its own messages, observations), on the participant: as in `web.feed`, each class's
  views are computed once, on first use, and a participant's personal events are viewed for it. A
  move to another moment is then a binary search, never a replay of the log.
- **The state at seq N** (`state_at`): the engine's fold (`SessionState`) of the events up to N,
  from the nearest checkpoint at or before N (a copy of the fold every `every` events, made in one
  pass when the tape is built), plus at most `every - 1` events folded in. The page's clock,
  escalation, relay and belief panels come from it, through the engine's own state views.
- **Marks** (`marks`): moves, incidents, decisions, escalation, clock changes and assessments, each
  with its seq, among the events the viewer may see: the scrubber's ticks.
"""

from __future__ import annotations

import copy
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, is_dataclass, replace
from typing import Any

from pydantic import BaseModel

from tabletop.script.models import Exercise

from . import events as ev
from .events import Event, Viewer
from .state import SessionState

View = dict[str, Any]
ViewFn = Callable[[Event, Viewer, Exercise], View | None]
#: Events between two checkpoints of the fold: a moment costs one copy and at most this many folds.
EVERY = 256

#: Event types the scrubber marks, and as what.
MARKED = {
    ev.MOVE_STARTED: "move",
    ev.MOVE_ENDED: "move",
    ev.INJECT_RELEASED: "inject",
    ev.DECISION_MADE: "decision",
    ev.ESCALATION_CHANGED: "escalation",
    ev.CLOCK_STARTED: "clock",
    ev.CLOCK_PAUSED: "clock",
    ev.CLOCK_RESUMED: "clock",
    ev.SESSION_ENDED: "clock",
    ev.ASSESSMENT: "assessment",
}


_ATOMS = (str, int, float, bool, type(None), bytes)
_ATOM_TYPES = frozenset(_ATOMS)


def clone(value: Any, memo: dict[int, Any]) -> Any:
    """A deep copy of a fold that shares what cannot change: text and numbers, frozen pydantic models
    (the script's, the events' payloads) and whatever `memo` holds (the script, the channel access,
    computed once per session). Several times cheaper than `copy.deepcopy` for a state of 2,000
    relayed messages; anything it does not know (a field added later of another kind) is deep-copied."""
    kind = type(value)
    if kind in _ATOM_TYPES or isinstance(value, _ATOMS):
        return value
    found = memo.get(id(value))
    if found is not None:
        return found
    if isinstance(value, BaseModel) and value.model_config.get("frozen"):
        return value
    out: Any
    if kind is tuple:
        out = value if all(type(x) in _ATOM_TYPES for x in value) else tuple(clone(x, memo) for x in value)
    elif kind is dict:
        out = {k: v if type(v) in _ATOM_TYPES else clone(v, memo) for k, v in value.items()}
    elif kind is list:
        out = [v if type(v) in _ATOM_TYPES else clone(v, memo) for v in value]
    elif kind is set:
        out = set(value)  # members are hashable: text, numbers, tuples of them
    elif kind is frozenset:
        out = value
    elif is_dataclass(value) and not isinstance(value, type) and hasattr(value, "__dict__"):
        out = object.__new__(kind)
        memo[id(value)] = out
        out.__dict__.update({k: v if type(v) in _ATOM_TYPES else clone(v, memo) for k, v in value.__dict__.items()})
        return out
    else:
        out = copy.deepcopy(value, memo)
    memo[id(value)] = out
    return out


def class_of(viewer: Viewer) -> Viewer:
    """The viewer without its participant: what everyone of its kind, team, position and teams shares."""
    return replace(viewer, participant=None) if viewer.participant is not None else viewer


@dataclass(frozen=True)
class Mark:
    seq: int
    t: float
    kind: str  # move | incident | inject | decision | escalation | clock | assessment
    label: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "t": round(self.t, 3), "kind": self.kind, "label": self.label}


class Tape:
    """One session's log, ready to be shown as any viewer at any seq."""

    def __init__(
        self,
        exercise: Exercise,
        events: Iterable[Event] = (),
        *,
        view: ViewFn,
        personal: Callable[[Event], set[int]],
        every: int = EVERY,
    ) -> None:
        self.exercise = exercise
        self.view = view
        self.personal = personal
        self.every = every
        self.events: list[Event] = []
        self.seqs: list[int] = []
        self._fold = SessionState(exercise)  # the fold of every event so far
        self._checkpoints: list[SessionState] = []  # the fold after events[k * every - 1]; [0] is empty
        self._checkpoints.append(self._copy(self._fold))
        self._views: dict[Viewer, tuple[list[int], list[View]]] = {}  # per class: seqs and views seen
        self._scratch: tuple[SessionState | None, int] = (None, 0)  # `state_for`'s fold, of events[:n]
        self.lock = threading.Lock()  # held while a moment is made (`state_for` lends its state)
        self._seen_upto: dict[Viewer, int] = {}  # per class: how many events of the log it has viewed
        self.extend(events)

    # ------------------------------------------------------------------ the log
    def _copy(self, state: SessionState) -> SessionState:
        """An independent copy of a fold (checkpoints and moments must not share anything mutable)."""
        return clone(state, {id(self.exercise): self.exercise, id(state.access): state.access})

    def extend(self, events: Iterable[Event]) -> None:
        """Events appended since (a running session): folded in, checkpointed; views follow on use."""
        for event in events:
            if self.seqs and event.seq <= self.seqs[-1]:
                continue
            self.events.append(event)
            self.seqs.append(event.seq)
            self._fold.apply(event)
            if len(self.events) % self.every == 0:
                self._checkpoints.append(self._copy(self._fold))

    @property
    def participants(self) -> dict[int, ev.ParticipantJoined]:
        """Everyone who joined the session (so far)."""
        return self._fold.participants

    @property
    def last_seq(self) -> int:
        return self.seqs[-1] if self.seqs else 0

    def count_upto(self, seq: int) -> int:
        """How many events of the log have seq <= `seq`."""
        return bisect_right(self.seqs, seq)

    def clamp(self, seq: int | None) -> int:
        """A seq within the log (None or beyond the end: the last)."""
        if seq is None or seq > self.last_seq:
            return self.last_seq
        return max(0, seq)

    def event_at(self, seq: int) -> Event | None:
        """The last event at or before `seq`."""
        n = self.count_upto(seq)
        return self.events[n - 1] if n else None

    # ---------------------------------------------------------------- the state
    def state_for(self, seq: int) -> SessionState:
        """The fold of the events up to `seq`, *borrowed*: read it, do not change it, and do not keep it
        past the next call (callers hold `lock`). Moving forward within a stretch of the log folds on
        in place, without a copy (playing the tape); a jump copies the nearest checkpoint."""
        n = self.count_upto(seq)
        scratch, done = self._scratch
        if scratch is None or not (done <= n and n - done < 2 * self.every):
            k = n // self.every
            scratch, done = self._copy(self._checkpoints[k]), k * self.every
        for event in self.events[done:n]:
            scratch.apply(event)
        self._scratch = (scratch, n)
        return scratch

    def state_at(self, seq: int) -> SessionState:
        """The fold of the events up to `seq`: a copy of the nearest checkpoint, plus what follows it."""
        n = self.count_upto(seq)
        if n == len(self.events):
            return self._copy(self._fold)
        k = n // self.every
        state = self._copy(self._checkpoints[k])
        for event in self.events[k * self.every : n]:
            state.apply(event)
        return state

    # -------------------------------------------------------------- what was seen
    def _class_views(self, klass: Viewer) -> tuple[list[int], list[View]]:
        """The class's views of every event it may see, computed once and extended as the log grows."""
        seqs, views = self._views.setdefault(klass, ([], []))
        done = self._seen_upto.get(klass, 0)
        for event in self.events[done:]:
            seen = self.view(event, klass, self.exercise)
            if seen is not None:
                seqs.append(event.seq)
                views.append(seen)
        self._seen_upto[klass] = len(self.events)
        return seqs, views

    def views_of(self, viewer: Viewer) -> tuple[list[int], list[View]]:
        """Every view `viewer` was sent, with its seq, in order. A participant's own personal events
        are viewed for it (as live publishing and `sync` do); the rest are its class's views."""
        klass = class_of(viewer)
        seqs, views = self._class_views(klass)
        me = viewer.participant
        if me is None:
            return seqs, views
        if self._seen_upto.get(viewer) != len(self.events):
            merged = dict(zip(seqs, views, strict=True))
            for event in self.events:
                if me in self.personal(event):
                    own = self.view(event, viewer, self.exercise)
                    if own is None:
                        merged.pop(event.seq, None)
                    else:
                        merged[event.seq] = own
            order = sorted(merged)
            self._views[viewer] = (order, [merged[s] for s in order])
            self._seen_upto[viewer] = len(self.events)
        return self._views[viewer]

    def step(self, viewer: Viewer, seq: int, *, forward: bool) -> int:
        """The seq of the next (or previous) event this viewer saw after (before) `seq`; where it
        stands when there is none (0 before the first)."""
        seqs, _views = self.views_of(viewer)
        if forward:
            n = bisect_right(seqs, seq)
            return seqs[n] if n < len(seqs) else seq
        n = bisect_right(seqs, seq - 1)
        return seqs[n - 1] if n else 0

    def seen(self, viewer: Viewer, seq: int, limit: int | None = None) -> tuple[list[View], int]:
        """What `viewer` had been sent by `seq`: the last `limit` views (all: None), in order, and how many in all."""
        seqs, views = self.views_of(viewer)
        end = bisect_right(seqs, seq)
        start = 0 if limit is None else max(0, end - limit)
        return views[start:end], end

    # ------------------------------------------------------------------ marks
    def marks(self, viewer: Viewer) -> list[Mark]:
        """The scrubber's ticks among the events this viewer may see (its class's views)."""
        _seqs, views = self._class_views(class_of(viewer))
        found = []
        incidents = {i.id for i in self.exercise.injects if getattr(i, "incident", False)}
        for view in views:
            kind = MARKED.get(view["type"])
            if kind is None:
                continue
            p = view["payload"]
            label = view["type"].replace("_", " ")
            if view["type"] == ev.INJECT_RELEASED:
                kind = "incident" if p.get("inject") in incidents else "inject"
                label = p.get("title", "")
            elif view["type"] == ev.DECISION_MADE:
                label = f"{p.get('inject')}: {p.get('label') or 'no decision'}"
            elif view["type"] == ev.ESCALATION_CHANGED:
                label = f"level {p.get('level')} ({p.get('delta'):+d}): {p.get('reason', '')}"
            elif view["type"] in (ev.MOVE_STARTED,):
                label = f"{p.get('title', p.get('move'))} started"
            elif view["type"] == ev.MOVE_ENDED:
                label = f"clock stopped for {p.get('next')}"
            elif view["type"] == ev.ASSESSMENT:
                label = f"{p.get('team')} on {p.get('question')}: {p.get('answer')} ({p.get('confidence')}%)"
            found.append(Mark(view["seq"], view["t"], kind, label))
        return found

    # --------------------------------------------------------- belief over time
    def assessments(self, teams: Sequence[str] | None = None) -> list[Event]:
        """Every assessment of the teams given (all: None), in order."""
        return [
            e
            for e in self.events
            if e.type == ev.ASSESSMENT and (teams is None or e.payload.team in teams)  # type: ignore[attr-defined]
        ]
