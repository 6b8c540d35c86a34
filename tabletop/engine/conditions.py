"""The script's conditions during play (format 2): `when`, `unless` and the entries of `choose`.

Conditions are decided by the fold, from the log alone, so every worker that folds the same log
comes to the same answer, and the release a condition sets off is claimed like any other
(`release:ID`): it happens once across workers.

`Conditions` (one per `SessionState`) keeps what conditions look at: the messages of the
(team, channel) pairs some condition watches, first acknowledgements, decisions. It indexes each
conditional inject by what its `when` depends on, so an event reconsiders only the injects that
wait on it: a chat message on a channel no condition watches costs two set look-ups, and no event
scans every inject.

A conditional inject (with `when`) is in one of three states:

- its condition cannot hold yet, nor would by the clock alone: pending, without a due time;
- it will hold at a known exercise time if nothing happens first (a `within` window closes with no
  message, acknowledgement or decision in it): it is *waiting*, scheduled at that time plus its
  `delay` like a timed inject, so the scheduler wakes for it, a paused clock freezes it, and it is
  released at its time and not before; an event it depends on makes the engine look again;
- it held (*met*): scheduled at that moment plus `delay`, whatever happens next (a `when` releases
  its inject the first time it holds). A condition that holds at an event (an escalation level, an
  option taken) with no `delay` is released with that event, whatever the clock, like a trigger.

Before each event is folded, every waiting inject whose time has come is marked met at its time:
the clock passed it with nothing in between that could change it.

`unless` and the entries of `choose` are looked at when their inject falls due (`holds`).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tabletop.script.models import TEAM_CHANNEL, Choice, Condition, Exercise
from tabletop.script.times import format_duration

from . import events as ev
from .events import Event

if TYPE_CHECKING:
    from .state import SessionState

#: What a `when` depends on: ("release", inject), ("message", team, channel), ("ack", inject),
#: ("decision", inject) or ("escalation",).
Key = tuple[str, ...]
ESCALATION: Key = ("escalation",)
#: Statuses in which a conditional inject still waits for its condition.
OPEN = ("pending", "scheduled", "held")


def depends_on(condition: Condition) -> set[Key]:
    """The events that can change whether a condition holds."""
    keys: set[Key] = set()
    for c in condition.walk():
        if c.no_message:
            m = c.no_message
            keys.add(("message", m.team, m.channel))
            if m.after:
                keys.add(("release", m.after))
        elif c.no_ack:
            keys |= {("release", c.no_ack.inject), ("ack", c.no_ack.inject)}
        elif c.no_decision:
            keys |= {("release", c.no_decision.inject), ("decision", c.no_decision.inject)}
        elif c.escalation:
            keys.add(ESCALATION)
        elif c.option:
            keys.add(("decision", c.option.decision))
    return keys


@dataclass
class Conditions:
    """What the script's conditions look at, folded from the log, and the conditional injects waiting."""

    when: dict[str, Condition] = field(default_factory=dict)  # conditional inject -> its `when`
    unless: dict[str, Condition] = field(default_factory=dict)  # inject -> its `unless`
    choices: dict[str, tuple[Choice, ...]] = field(default_factory=dict)  # choice -> its entries
    depends: dict[Key, set[str]] = field(default_factory=dict)  # key -> conditional injects
    watched: set[tuple[str, str]] = field(default_factory=set)  # (team, channel) pairs some condition watches
    sent: dict[tuple[str, str], list[tuple[int, float]]] = field(default_factory=dict)  # -> (seq, t) of each send
    acked: dict[tuple[str, str], float] = field(default_factory=dict)  # (inject, team) -> first acknowledgement
    decided: dict[str, tuple[float, str | None]] = field(default_factory=dict)  # inject -> (t, option or None)
    waiting: dict[str, float] = field(default_factory=dict)  # conditional inject -> when it will hold
    met: dict[str, float] = field(default_factory=dict)  # conditional inject -> when its `when` held
    settled: set[str] = field(default_factory=set)  # conditional injects not looked at again (met, or decided)
    cancelled: dict[str, int] = field(default_factory=dict)  # inject -> seq of its `inject_cancelled`
    soonest: float | None = None  # the earliest time in `waiting`

    # ------------------------------------------------------------------ set-up
    def setup(self, state: SessionState) -> None:
        """Index the script's conditions and look at every `when` once (before play: t = 0)."""
        for inject in state.exercise.injects:
            if inject.unless is not None:
                self.unless[inject.id] = inject.unless
            if inject.choose:
                self.choices[inject.id] = inject.choose
            for condition in (inject.when, inject.unless, *(c.when for c in inject.choose)):
                if condition is None:
                    continue
                for c in condition.walk():
                    if c.no_message:
                        self.watched.add((c.no_message.team, c.no_message.channel))
            if inject.when is not None:
                self.when[inject.id] = inject.when
                for key in depends_on(inject.when):
                    self.depends.setdefault(key, set()).add(inject.id)
        for ident in self.when:
            self.reconsider(state, ident, 0.0, at_event=False)

    # ----------------------------------------------------------------- folding
    def before(self, state: SessionState, event: Event) -> None:
        """Before an event is folded: the waiting conditions whose time has come held at their time."""
        if self.soonest is None or self.soonest > event.t:
            return
        for ident, at in sorted(self.waiting.items(), key=lambda item: item[1]):
            if at <= event.t:
                self._latch(state, ident, at, immediate=False)
        self._soonest()

    def after(self, state: SessionState, event: Event) -> None:
        """After an event is folded: record what conditions look at, and look again at what waits on it."""
        t = event.t
        match event.payload:
            case ev.InjectReleased(inject=ident):
                self.forget(ident)
                self._touch(state, ("release", ident), t)
            case ev.ChoiceMade(choice=ident):
                self.forget(ident)
                self._touch(state, ("release", ident), t)
            case ev.InjectCancelled(inject=ident):
                self.cancelled[ident] = event.seq
                self.forget(ident)
            case ev.InjectSkipped(inject=ident) | ev.InjectMoved(inject=ident):
                self.forget(ident)  # the facilitator decides for it now
            case ev.Message(spoofed=False) | ev.MessageSent() | ev.MessageJammed() as p:
                self._sent(state, p.from_team, p.channel, event)
            case ev.MessageRelayed(action="forward" | "edit") as p:
                self._sent(state, p.relay, p.channel, event)  # the intermediary's forwards and notes count
            case ev.RelayNote() as p:
                self._sent(state, p.relay, p.channel, event)
            case ev.InjectAcknowledged(inject=ident, team=team):
                self.acked.setdefault((ident, team), t)
                self._touch(state, ("ack", ident), t)
            case ev.DecisionMade(inject=ident, option=option):
                self.decided.setdefault(ident, (t, option))
                self._touch(state, ("decision", ident), t)
            case ev.EscalationChanged():
                self._touch(state, ESCALATION, t)
            case _:
                pass

    def _sent(self, state: SessionState, team: str, channel: str, event: Event) -> None:
        if channel == TEAM_CHANNEL or (team, channel) not in self.watched:
            return
        self.sent.setdefault((team, channel), []).append((event.seq, event.t))
        self._touch(state, ("message", team, channel), event.t)

    def _touch(self, state: SessionState, key: Key, t: float) -> None:
        for ident in sorted(self.depends.get(key, ())):
            self.reconsider(state, ident, t)

    def forget(self, ident: str) -> None:
        """An inject no longer waits for its condition (released, skipped, moved, cancelled)."""
        if self.waiting.pop(ident, None) is not None:
            self._soonest()
        if ident in self.when:
            self.settled.add(ident)  # released, or decided by the facilitator: never looked at again

    def reconsider(self, state: SessionState, ident: str, t: float, *, at_event: bool = True) -> None:
        """Look again at a conditional inject's `when` at exercise time t (after the event at t)."""
        inject = state.injects[ident]
        if ident in self.settled or inject.status not in OPEN:
            return
        at = first_hold(self.when[ident], state, t)
        if at is not None and at <= t:
            self._latch(state, ident, at, immediate=at_event and at == t)
        elif at is None:
            self.waiting.pop(ident, None)
            inject.due, inject.immediate = None, False
            if inject.status == "scheduled":
                inject.status = "pending"
        else:
            self.waiting[ident] = at
            inject.due, inject.immediate = at + inject.delay, False
            if inject.status == "pending":
                inject.status = "scheduled"
        self._soonest()

    def _latch(self, state: SessionState, ident: str, at: float, *, immediate: bool) -> None:
        inject = state.injects[ident]
        self.met[ident] = at
        self.settled.add(ident)
        self.waiting.pop(ident, None)
        inject.due, inject.immediate = at + inject.delay, immediate and inject.delay == 0
        if inject.status == "pending":
            inject.status = "scheduled"

    def _soonest(self) -> None:
        self.soonest = min(self.waiting.values(), default=None)

    # ------------------------------------------------------------------ views
    def view(self, ident: str, t: float | None = None) -> dict[str, str]:
        """How a conditional inject stands at exercise time t, for control's summary: `waiting` (its
        condition will hold at a known time if nothing happens first), `met`, `pending` (it cannot hold
        yet), or `settled` (released or decided by the facilitator before it held)."""
        if ident not in self.when:
            return {}
        if ident in self.waiting:
            return {"condition": "met" if t is not None and self.waiting[ident] <= t else "waiting"}
        if ident in self.met:
            return {"condition": "met"}
        return {"condition": "settled" if ident in self.settled else "pending"}


# ------------------------------------------------------------------ evaluation
def _anchor(state: SessionState, inject: str | None) -> tuple[float, int] | None:
    """When (exercise time, seq) a window opens: an inject's release, or the start without one."""
    if inject is None:
        return 0.0, 0
    found = state.injects.get(inject)
    if found is None or found.released_t is None or found.released_seq is None:
        return None
    return found.released_t, found.released_seq


def first_hold(condition: Condition, state: SessionState, t: float) -> float | None:
    """The first exercise time, at or after the windows it depends on close, at which a condition
    holds if nothing else happens: t when it holds now; the end of a `within` window still open with
    nothing in it; None when it does not hold and the clock alone will not make it."""
    s = state.conditions
    if condition.no_message is not None:
        m = condition.no_message
        anchor = _anchor(state, m.after)
        if anchor is None:
            return None
        end = anchor[0] + m.within
        sent = s.sent.get((m.team, m.channel), [])
        first = bisect_left(sent, (anchor[1] + 1,))  # the first message after the window opened (in seq order)
        return None if first < len(sent) and sent[first][1] <= end else end
    if condition.no_ack is not None:
        a = condition.no_ack
        anchor = _anchor(state, a.inject)
        if anchor is None:
            return None
        end = anchor[0] + a.within
        teams = (a.team,) if a.team is not None else state.injects[a.inject].definition.to
        silent = [team for team in teams if s.acked.get((a.inject, team), end + 1) > end]
        return end if silent else None
    if condition.no_decision is not None:
        d = condition.no_decision
        anchor = _anchor(state, d.inject)
        if anchor is None:
            return None
        end = anchor[0] + d.within
        taken = s.decided.get(d.inject)
        return None if taken is not None and taken[1] is not None and taken[0] <= end else end
    if condition.escalation is not None:
        band = condition.escalation
        low = band.at_least if band.at_least is not None else state.escalation
        high = band.at_most if band.at_most is not None else state.escalation
        return t if low <= state.escalation <= high else None
    if condition.option is not None:
        taken = s.decided.get(condition.option.decision)
        return t if taken is not None and taken[1] == condition.option.option else None
    parts = [first_hold(part, state, t) for part in condition.parts]
    if condition.all is not None:
        return None if any(p is None for p in parts) else max(p for p in parts if p is not None)
    times = [p for p in parts if p is not None]
    return min(times) if times else None


def holds(condition: Condition, state: SessionState, t: float) -> bool:
    """Whether a condition holds at exercise time t (for `unless` and `choose`, when their inject falls due)."""
    at = first_hold(condition, state, t)
    return at is not None and at <= t


def choose(state: SessionState, ident: str, t: float) -> tuple[str | None, str]:
    """The alternative a choice releases now, and why: the first entry whose condition holds, else
    its `otherwise`, else none."""
    entries = state.conditions.choices[ident]
    for entry in entries:
        if entry.when is None:
            return entry.target, "otherwise: no condition above held"
        if holds(entry.when, state, t):
            return entry.target, describe(entry.when, state.exercise)
    return None, "no condition held, and the choice has no 'otherwise'"


# ------------------------------------------------------------------ words
def describe(condition: Condition, exercise: Exercise) -> str:
    """A condition in words, for the log, the console and the report: titles and names, never ids."""
    return _Words(exercise).say(condition, nested=False)


class _Words:
    def __init__(self, exercise: Exercise) -> None:
        self.ex = exercise
        self.teams = {t.id: t.name for t in exercise.teams}
        self.channels = {c.id: c.name for c in exercise.channels}

    def inject(self, ident: str) -> str:
        try:
            return f"“{self.ex.inject(ident).title}”"
        except KeyError:
            return f"'{ident}'"

    def option(self, inject: str, option: str) -> str:
        try:
            decision = self.ex.inject(inject).decision
        except KeyError:
            decision = None
        labels = {o.id: o.label for o in decision.options} if decision is not None else {}
        return labels.get(option, option)

    def say(self, c: Condition, *, nested: bool) -> str:
        if c.no_message is not None:
            m = c.no_message
            since = f"{self.inject(m.after)} was released" if m.after else "the start"
            team, channel = self.teams.get(m.team, m.team), self.channels.get(m.channel, m.channel)
            return f"no message from {team} on {channel} within {format_duration(m.within)} after {since}"
        if c.no_ack is not None:
            a = c.no_ack
            who = self.teams.get(a.team, a.team) if a.team else "every team it went to"
            return f"{self.inject(a.inject)} not acknowledged by {who} within {format_duration(a.within)}"
        if c.no_decision is not None:
            d = c.no_decision
            return f"no decision on {self.inject(d.inject)} within {format_duration(d.within)}"
        if c.escalation is not None:
            low, high = c.escalation.at_least, c.escalation.at_most
            if low is not None and high is not None:
                return f"escalation level from {low} to {high}"
            return f"escalation level at least {low}" if low is not None else f"escalation level at most {high}"
        if c.option is not None:
            o = c.option
            return f"{self.inject(o.decision)} decided: {self.option(o.decision, o.option)}"
        joined = (" and " if c.all is not None else " or ").join(self.say(p, nested=True) for p in c.parts)
        return f"({joined})" if nested and len(c.parts) > 1 else joined
