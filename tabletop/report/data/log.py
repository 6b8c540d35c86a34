"""The one pass over the log: every event the report reads, indexed by what it is, its payload typed.

`read_log(events)` sorts the events by sequence number and files each under its kind, with its
payload as its own class (`tabletop.engine.events`); the sections read only this index.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from tabletop.engine import events as ev
from tabletop.engine.events import Event
from tabletop.script.models import Scenario

P = TypeVar("P", bound=ev.Payload, covariant=True)

#: An exchange: one message somebody wrote.
Exchange = ev.Message | ev.MessageSent | ev.MessageJammed
#: What happened to the clock.
ClockChange = ev.ClockStarted | ev.ClockPaused | ev.ClockResumed | ev.SpeedChanged | ev.SessionEnded
#: A move began, or the clock stopped for a plenary at a move boundary (format 2).
MoveChange = ev.MoveStarted | ev.MoveEnded
#: A channel opened or closed in play (format 2).
ChannelChange = ev.ChannelOpened | ev.ChannelClosed
#: The scenario clock in force at an exercise time: `Exercise.clock_at` (the script's one clock without moves).
ScenarioClock = Callable[[float | None], Scenario | None]


@dataclass(frozen=True)
class Logged(Generic[P]):
    """An event of the log with its payload as its own class."""

    event: Event
    p: P

    @property
    def seq(self) -> int:
        return self.event.seq

    @property
    def t(self) -> float:
        return self.event.t


@dataclass
class ReportLog:
    count: int = 0  # events read
    participants: dict[int, ev.ParticipantJoined] = field(default_factory=dict)
    facilitators: dict[str, None] = field(default_factory=dict)  # names, in order of appearance
    written: dict[str, ev.InjectDefinition] = field(default_factory=dict)  # injects written live
    released: dict[str, Logged[ev.InjectReleased]] = field(default_factory=dict)
    acks: dict[tuple[str, str], float] = field(default_factory=dict)  # (inject, team) -> first ack
    exchanges: list[Logged[Exchange]] = field(default_factory=list)
    relay_actions: dict[int, list[Logged[ev.MessageRelayed]]] = field(default_factory=lambda: defaultdict(list))
    deliveries: dict[int, float] = field(default_factory=dict)  # message seq -> first delivery
    read_backs: dict[int, list[Logged[ev.MessageReadBack]]] = field(default_factory=lambda: defaultdict(list))
    relay_notes: list[Logged[ev.RelayNote]] = field(default_factory=list)  # the intermediaries' own words
    decisions: list[Logged[ev.DecisionMade]] = field(default_factory=list)
    escalations: list[Logged[ev.EscalationChanged]] = field(default_factory=list)
    notes: list[Logged[ev.Note]] = field(default_factory=list)
    observations: list[Logged[ev.Observation]] = field(default_factory=list)
    feedback: list[Logged[ev.Feedback]] = field(default_factory=list)
    clock: list[Logged[ClockChange]] = field(default_factory=list)
    jams: list[Logged[ev.ChannelJammed]] = field(default_factory=list)
    channel_changes: list[Logged[ChannelChange]] = field(default_factory=list)
    moves: list[Logged[MoveChange]] = field(default_factory=list)
    # Format 2: what conditions and choices made of injects, and control's posts as personas.
    cancelled: list[Logged[ev.InjectCancelled]] = field(default_factory=list)
    choices: list[Logged[ev.ChoiceMade]] = field(default_factory=list)
    persona_posts: list[Logged[ev.PersonaPosted]] = field(default_factory=list)
    plan: tuple[ev.PlanItem, ...] = ()  # the improvement plan control last sent
    key_findings: ev.KeyFindings | None = None  # the facilitator's key findings, the last sent from the console
    played: float = 0.0  # exercise seconds: to the end, or to the last event
    first_wall: float | None = None  # when the clock started
    last_wall: float | None = None  # when it ended, or the last event

    def release_order(self) -> list[Logged[ev.InjectReleased]]:
        return sorted(self.released.values(), key=lambda x: x.seq)


def read_log(events: Sequence[Event]) -> ReportLog:
    """Index the log (in sequence order, whatever order it is given in)."""
    log = ReportLog(count=len(events))
    ended: float | None = None
    last_t = 0.0
    ordered = sorted(events, key=lambda e: e.seq)
    for e in ordered:
        last_t = max(last_t, e.t)
        for name in _control_names(e):
            log.facilitators[name] = None
        if isinstance(e.payload, ev.SessionEnded):
            ended, log.last_wall = e.t, e.wall
        elif isinstance(e.payload, ev.ClockStarted) and log.first_wall is None:
            log.first_wall = e.wall
        _file(log, e)
    log.played = ended if ended is not None else last_t
    if log.last_wall is None and ordered:
        log.last_wall = ordered[-1].wall
    return log


def _file(log: ReportLog, e: Event) -> None:
    """File one event under its kind."""
    match e.payload:
        case ev.ParticipantJoined() as p:
            log.participants[p.participant] = p
        case ev.ClockStarted() | ev.ClockPaused() | ev.ClockResumed() | ev.SpeedChanged() | ev.SessionEnded() as p:
            log.clock.append(Logged(e, p))
        case ev.InjectWritten() as p:
            log.written[p.definition.inject] = p.definition
        case ev.InjectReleased() as p:
            log.released[p.inject] = Logged(e, p)
        case ev.InjectAcknowledged() as p:
            log.acks.setdefault((p.inject, p.team), e.t)
        case ev.Message() | ev.MessageSent() | ev.MessageJammed() as p:
            log.exchanges.append(Logged(e, p))
        case ev.MessageRelayed() as p:
            log.relay_actions[p.message].append(Logged(e, p))
        case ev.MessageDelivered() as p:
            log.deliveries.setdefault(p.message, e.t)
        case ev.MessageReadBack() as p:
            log.read_backs[p.message].append(Logged(e, p))
        case ev.RelayNote() as p:
            log.relay_notes.append(Logged(e, p))
        case ev.DecisionMade() as p:
            log.decisions.append(Logged(e, p))
        case ev.EscalationChanged() as p:
            log.escalations.append(Logged(e, p))
        case ev.Note() as p:
            log.notes.append(Logged(e, p))
        case ev.Observation() as p:
            log.observations.append(Logged(e, p))
        case ev.Feedback() as p:
            log.feedback.append(Logged(e, p))
        case ev.ChannelJammed() as p:
            log.jams.append(Logged(e, p))
        case ev.ChannelOpened() | ev.ChannelClosed() as p:
            log.channel_changes.append(Logged(e, p))
        case ev.MoveStarted() | ev.MoveEnded() as p:
            log.moves.append(Logged(e, p))
        case ev.ImprovementPlan() as p:
            log.plan = p.items
        case ev.InjectCancelled() as p:
            log.cancelled.append(Logged(e, p))
        case ev.ChoiceMade() as p:
            log.choices.append(Logged(e, p))
        case ev.PersonaPosted() as p:
            log.persona_posts.append(Logged(e, p))
        case ev.KeyFindings() as p:
            log.key_findings = p


def _control_names(e: Event) -> Iterator[str]:
    """The facilitators an event names: control acts without a seat (no actor)."""
    if e.actor is not None:
        return
    match e.payload:
        case (
            ev.ClockStarted(by=by)
            | ev.ClockPaused(by=by)
            | ev.ClockResumed(by=by)
            | ev.SpeedChanged(by=by)
            | ev.SessionEnded(by=by)
            | ev.InjectWritten(by=by)
            | ev.InjectHeld(by=by)
            | ev.InjectUnheld(by=by)
            | ev.InjectSkipped(by=by)
            | ev.InjectMoved(by=by)
            | ev.EscalationChanged(by=by)
            | ev.ImprovementPlan(by=by)
            | ev.ChannelOpened(by=by)
            | ev.ChannelClosed(by=by)
            | ev.ChannelJammed(by=by)
            | ev.ChannelCleared(by=by)
            | ev.MoveStarted(by=by)
            | ev.MessageRelayed(relay="control", by=by)
            | ev.PersonaPosted(spoofed_by=by)
        ) if by:
            yield by  # what a facilitator did by hand (an intermediary team's relay is a player's)
        case ev.Message(spoofed_by=spoofed_by, name=name):
            if spoofed_by:
                yield spoofed_by
            if name:
                yield name
        case ev.Note(name=name) | ev.Observation(name=name) | ev.Feedback(name=name) if name:
            yield name
