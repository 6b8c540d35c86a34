"""The state of a session: a fold of its event log over the exercise script.

`SessionState.apply` takes events in sequence order and hands each to the fold handler of its
payload class (`FOLDS`, checked against `events.EVENT_TYPES` at import: a type without a handler,
or a handler for no type, fails at import). This module only folds; what the clock makes happen
(releases, deliveries, deadlines, the end of jams) is made in `schedule.py`.

`relay_status` and `relay_outcome` are the one relay rule (what a relay action makes of a
message), shared by the fold and the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tabletop.script import Exercise
from tabletop.script.models import TEAM_CHANNEL as TEAM_CHANNEL  # re-exported for code not yet updated
from tabletop.script.models import Effect as ScriptEffect
from tabletop.script.models import Inject, LevelChange, Trigger
from tabletop.script.models import Option as ScriptOption

from . import events as ev
from .access import ChannelAccess
from .beliefs import teams_asked
from .clock import ExerciseClock
from .conditions import Conditions
from .events import (
    ChannelChangeSpec,
    DecisionSpec,
    Effect,
    Event,
    InjectDefinition,
    JamSpec,
    LevelSpec,
    OptionSpec,
    Payload,
)


# ----------------------------------------------------------- the script's injects
def decision_spec(inject: Inject) -> DecisionSpec | None:
    """An inject's decision as events and pages carry it."""
    d = inject.decision
    if d is None:
        return None
    return DecisionSpec(
        prompt=d.prompt,
        by=d.by,
        deadline=d.deadline,
        default=d.default,
        options=tuple(option_spec(o) for o in d.options),
    )


def decision_payload(inject: Inject) -> dict[str, Any] | None:
    """An inject's decision as JSON (for pages)."""
    spec = decision_spec(inject)
    return None if spec is None else spec.to_json()


def inject_definition(exercise: Exercise, inject: Inject) -> InjectDefinition:
    """What a released scripted inject carries (control-only fields are redacted on the way out)."""
    return InjectDefinition(
        inject=inject.id,
        title=inject.title,
        body=inject.body,
        from_=inject.from_ or "",
        medium=inject.medium,
        to=exercise.recipients(inject),
        attachments=inject.attachments,
        ack=inject.ack,
        decision=decision_spec(inject),
        objectives=inject.objectives,
        classification=exercise.classification,
        expect=inject.expect,
        notes=inject.notes,
        effects=tuple(effect_spec(e) for e in inject.effects),
        **({"fiction": True} if inject.fiction else {}),
        **({"source": inject.source} if inject.source else {}),
    )


def level_spec(change: LevelChange) -> LevelSpec:
    """A script's `escalation: {...}` mapping as events carry it (only the keys it gave)."""
    return LevelSpec(**change.model_dump(exclude_none=True))


def option_spec(option: ScriptOption) -> OptionSpec:
    """An option as events carry it: a number added to the level, or (format 2) where it places it."""
    if option.level is not None:
        return OptionSpec(id=option.id, label=option.label, escalation=0, level=level_spec(option.level))
    return OptionSpec(id=option.id, label=option.label, escalation=option.escalation)


def effect_spec(effect: ScriptEffect) -> Effect:
    """A script effect as events carry it (a jam, an escalation, or a channel opened or closed)."""
    if effect.jam:
        return Effect(jam=JamSpec(channel=effect.jam.channel, for_=effect.jam.for_))
    if effect.channel:
        return Effect(channel=ChannelChangeSpec(id=effect.channel.id, action=effect.channel.action))
    if effect.level is not None:
        return Effect(level=level_spec(effect.level))
    return Effect(escalation=effect.escalation)


# ------------------------------------------------------------------ the relay rule
RELAY_STATUS = {"forward": "forwarded", "edit": "edited", "hold": "held", "decline": "declined"}


def relay_status(relayed: ev.MessageRelayed) -> str:
    """What one relay action makes of a message: forwarded, edited, held or declined.

    An edit that changed nothing (`edited` false) is a forward.
    """
    if relayed.action == "edit" and relayed.has("edited") and not relayed.edited:
        return "forwarded"
    return RELAY_STATUS[relayed.action]


def relay_outcome(actions: Iterable[ev.MessageRelayed]) -> str | None:
    """What a message's relay actions (in order) came to: the last action that was not a hold
    decides (forwarded, edited, declined); only holds: held; no action yet: None."""
    outcome = None
    for action in actions:
        status = relay_status(action)
        if status != "held" or outcome is None:
            outcome = status
    return outcome


# --------------------------------------------------------------------- the state
@dataclass
class InjectState:
    definition: InjectDefinition  # what it is released with
    trigger: Trigger | None = None
    delay: float = 0.0
    status: str = "pending"  # pending | scheduled | released | held | skipped
    due: float | None = None
    immediate: bool = False  # released with its trigger, whatever the clock
    released_t: float | None = None
    released_seq: int | None = None


@dataclass
class DecisionState:
    inject: str
    teams: tuple[str, ...]
    opened_t: float
    deadline_t: float | None
    option: str | None = None
    decided: bool = False


@dataclass
class MessageState:
    seq: int
    channel: str
    from_team: str
    status: str  # with_relay | held | in_transit | forwarded | edited | declined | delivered
    text: str
    deliver_at: float | None = None
    audience: tuple[str, ...] = ()
    from_position: str | None = None
    name: str = ""
    participant: int | None = None
    sent_t: float = 0.0
    relay: str | None = None  # the intermediary (team id or control), None for a plain delay
    readback: bool = False  # a read-back was asked for (by the sender or the intermediary)
    read_back: list[str] = field(default_factory=list)  # the teams that read it back
    told: tuple[str, ...] = ()  # relay: the audience of the sender's side and the intermediary (their readers)


@dataclass
class SessionState:
    exercise: Exercise
    seq: int = 0
    clock: ExerciseClock = field(default_factory=ExerciseClock)
    injects: dict[str, InjectState] = field(default_factory=dict)
    decisions: dict[str, DecisionState] = field(default_factory=dict)
    messages: dict[int, MessageState] = field(default_factory=dict)  # relayed or delayed ones, by seq
    transit: set[int] = field(default_factory=set)  # seqs of messages waiting out a channel delay
    jams: dict[str, tuple[float, int]] = field(default_factory=dict)  # channel -> (until, jam seq)
    escalation: int = 0
    acks: dict[str, dict[str, list[int | None]]] = field(default_factory=dict)  # inject -> team -> participants
    participants: dict[int, ev.ParticipantJoined] = field(default_factory=dict)
    observed: set[str] = field(default_factory=set)  # teams some observer of the session watches
    feedback: set[str] = field(default_factory=set)  # who has sent hotwash feedback (rules.feedback_key)
    live_count: int = 0
    # Channels and moves during play (format 2: engine/access.py, engine/moves.py).
    closed: set[str] = field(default_factory=set)  # channels that refuse messages now
    move: int = 0  # the index of the last move that started
    waiting: str | None = None  # the move the clock is stopped for, until the facilitator starts it
    access: ChannelAccess = field(init=False, repr=False)  # who reads each channel, as audiences
    # Key questions (format 2, engine/beliefs.py): the questions each team was asked by an `ask_at`
    # inject's release, and each team's latest answer, (team, question) -> (answer, confidence, by, t, seq).
    asked: dict[str, set[str]] = field(default_factory=dict)
    beliefs: dict[tuple[str, str], tuple[Any, int, str, float, int]] = field(default_factory=dict)
    # AI seats (docs/ai-seats.md): are players told which seats added from now on are AI (`ai_disclosure`)?
    ai_told: bool = True
    # The script's `when`, `unless` and `choose` during play (format 2: engine/conditions.py).
    conditions: Conditions = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ex = self.exercise
        self.access = ChannelAccess(ex)
        self.closed = {ch.id for ch in ex.channels if ch.initially == "closed"}
        for inject in ex.injects:
            state = InjectState(definition=inject_definition(ex, inject), trigger=inject.trigger, delay=inject.delay)
            if inject.at is not None:
                state.status, state.due = "scheduled", float(inject.at)
            self.injects[inject.id] = state
        self.escalation = ex.escalation.start
        self.conditions = Conditions()
        self.conditions.setup(self)

    # ----------------------------------------------------------------- folding
    def apply(self, event: Event) -> None:
        """Fold one event in (events at or before `seq` were folded already)."""
        if event.seq <= self.seq:
            return
        self.seq = event.seq
        self.conditions.before(self, event)
        FOLDS[type(event.payload)](self, event, event.payload)
        self.conditions.after(self, event)

    def _nothing(self, event: Event, p: Payload) -> None:
        """Events after which nothing is left to happen (a message delivered at once, a note): the log keeps them."""

    def _on_ai_disclosure(self, event: Event, p: ev.AIDisclosure) -> None:
        self.ai_told = p.told

    def _on_participant_joined(self, event: Event, p: ev.ParticipantJoined) -> None:
        self.participants[p.participant] = p
        if p.kind == "observer":
            self.observed.update(p.teams)

    def _on_clock_started(self, event: Event, p: ev.ClockStarted) -> None:
        self.clock.start(event.wall)

    def _on_clock_paused(self, event: Event, p: ev.ClockPaused) -> None:
        self.clock.pause(event.wall)

    def _on_clock_resumed(self, event: Event, p: ev.ClockResumed) -> None:
        self.clock.resume(event.wall)

    def _on_speed_changed(self, event: Event, p: ev.SpeedChanged) -> None:
        self.clock.set_speed(float(p.speed), event.wall)

    def _on_session_ended(self, event: Event, p: ev.SessionEnded) -> None:
        self.clock.end(event.wall)

    def _on_inject_written(self, event: Event, p: ev.InjectWritten) -> None:
        self.live_count += 1
        state = InjectState(definition=p.definition)
        if p.at is not None:
            state.status, state.due = "scheduled", float(p.at)
        else:  # written to go out now
            state.status, state.due, state.immediate = "scheduled", event.t, True
        self.injects[p.definition.inject] = state

    def _on_inject_released(self, event: Event, p: ev.InjectReleased) -> None:
        state = self.injects[p.inject]
        state.status, state.released_t, state.released_seq = "released", event.t, event.seq
        decision = state.definition.decision
        if decision:
            self.decisions[p.inject] = DecisionState(
                inject=p.inject,
                teams=tuple(state.definition.to),
                opened_t=event.t,
                deadline_t=event.t + decision.deadline if decision.deadline else None,
            )
        for child in self._children(inject=p.inject):
            self._schedule_child(child, event.t)
        for question in self.exercise.key_questions:  # format 2: the teams it reaches are asked
            if p.inject in question.ask_at:
                for team in set(p.to) & set(teams_asked(self.exercise, question)):
                    self.asked.setdefault(team, set()).add(question.id)

    def _on_inject_cancelled(self, event: Event, p: ev.InjectCancelled) -> None:
        self.injects[p.inject].status = "cancelled"

    def _on_choice_made(self, event: Event, p: ev.ChoiceMade) -> None:
        """A choice is made as an inject is released (what it triggers follows); its alternative is
        then released at once, like a trigger with no delay."""
        state = self.injects[p.choice]
        state.status, state.released_t, state.released_seq = "released", event.t, event.seq
        for child in self._children(inject=p.choice):
            self._schedule_child(child, event.t)
        if p.inject is not None and p.inject in self.injects:
            self._schedule_child(p.inject, event.t)

    def _on_inject_held(self, event: Event, p: ev.InjectHeld) -> None:
        self.injects[p.inject].status = "held"

    def _on_inject_unheld(self, event: Event, p: ev.InjectUnheld) -> None:
        state = self.injects[p.inject]
        state.status = "scheduled" if state.due is not None else "pending"

    def _on_inject_skipped(self, event: Event, p: ev.InjectSkipped) -> None:
        self.injects[p.inject].status = "skipped"

    def _on_inject_moved(self, event: Event, p: ev.InjectMoved) -> None:
        state = self.injects[p.inject]
        state.due, state.immediate = float(p.at), False
        if state.status == "pending":
            state.status = "scheduled"

    def _on_inject_acknowledged(self, event: Event, p: ev.InjectAcknowledged) -> None:
        self.acks.setdefault(p.inject, {}).setdefault(p.team, []).append(p.participant)

    def _on_decision_made(self, event: Event, p: ev.DecisionMade) -> None:
        decision = self.decisions[p.inject]
        decision.decided, decision.option = True, p.option
        if p.option is not None:
            for child in self._children(decision=p.inject, option=p.option):
                self._schedule_child(child, event.t)

    def _on_escalation_changed(self, event: Event, p: ev.EscalationChanged) -> None:
        self.escalation = p.level

    def _on_channel_jammed(self, event: Event, p: ev.ChannelJammed) -> None:
        until = float(p.until)
        current = self.jams.get(p.channel)
        self.jams[p.channel] = (max(until, current[0]) if current else until, event.seq)

    def _on_channel_cleared(self, event: Event, p: ev.ChannelCleared) -> None:
        self.jams.pop(p.channel, None)

    def _on_message_sent(self, event: Event, p: ev.MessageSent) -> None:
        status = "with_relay" if p.relay else "in_transit"
        deliver_at = None if p.relay else event.t + float(p.delay)
        self.messages[event.seq] = MessageState(
            event.seq,
            p.channel,
            p.from_team,
            status,
            p.text,
            deliver_at,
            self.readers(p.channel, p.to),
            p.from_position,
            p.name,
            p.participant,
            event.t,
            relay=p.relay,
            readback=p.readback,
            told=self.readers(p.channel, (p.from_team,) if p.relay == "control" else (p.from_team, p.relay))
            if p.relay
            else (),
        )
        if status == "in_transit":
            self.transit.add(event.seq)

    def _on_message_relayed(self, event: Event, p: ev.MessageRelayed) -> None:
        message = self.messages[p.message]
        message.status = relay_status(p)
        if p.action in ("forward", "edit"):
            message.text = p.text or ""
            message.readback = message.readback or p.readback
            if p.delay:
                message.status, message.deliver_at = "in_transit", event.t + float(p.delay)
                self.transit.add(message.seq)

    def _on_message_delivered(self, event: Event, p: ev.MessageDelivered) -> None:
        if p.message in self.messages:
            self.messages[p.message].status = "delivered"
        self.transit.discard(p.message)

    def _on_message_read_back(self, event: Event, p: ev.MessageReadBack) -> None:
        if p.message in self.messages:
            self.messages[p.message].read_back.append(p.team)

    def _on_assessment(self, event: Event, p: ev.Assessment) -> None:
        """A team's latest answer to a key question is its picture (engine/beliefs.py)."""
        self.beliefs[(p.team, p.question)] = (p.answer, p.confidence, p.by, event.t, event.seq)

    def _on_feedback(self, event: Event, p: ev.Feedback) -> None:
        self.feedback.add(p.key or str(p.participant))

    # -------------------------------------------- channels opened and closed, moves
    def _on_channel_opened(self, event: Event, p: ev.ChannelOpened) -> None:
        self.closed.discard(p.channel)

    def _on_channel_closed(self, event: Event, p: ev.ChannelClosed) -> None:
        self.closed.add(p.channel)

    def _on_move_started(self, event: Event, p: ev.MoveStarted) -> None:
        index = next((n for n, m in enumerate(self.exercise.moves) if m.id == p.move), self.move)
        self.move = max(self.move, index)
        if self.waiting == p.move:
            self.waiting = None
            self.clock.resume(event.wall)

    def _on_move_ended(self, event: Event, p: ev.MoveEnded) -> None:
        self.waiting = p.next
        self.clock.stop_at(float(p.at), event.wall)

    # --------------------------------------------------------------- triggers
    def _children(
        self, *, inject: str | None = None, decision: str | None = None, option: str | None = None
    ) -> list[str]:
        found = []
        for ident, state in self.injects.items():
            trig = state.trigger
            if trig is None:
                continue
            if inject is not None and trig.inject == inject:
                found.append(ident)
            elif decision is not None and trig.decision == decision and trig.option == option:
                found.append(ident)
        return found

    def _schedule_child(self, child: str, t: float) -> None:
        state = self.injects[child]
        state.due, state.immediate = t + state.delay, state.delay == 0
        if state.status == "pending":
            state.status = "scheduled"

    # ------------------------------------------------------------------ views
    @property
    def ended(self) -> bool:
        return self.clock.ended

    def elapsed(self, wall: float) -> float:
        return self.clock.elapsed(wall)

    def jammed(self, channel: str, t: float) -> bool:
        jam = self.jams.get(channel)
        return jam is not None and jam[0] > t

    def channel_audience(self, channel: str) -> tuple[str, ...]:
        """Who reads a channel: every position that may (every team for a broadcast without `read`;
        its members and its relay team, or the seats of a `read` list)."""
        return self.access.readers(channel)

    def readers(self, channel: str, teams: Iterable[str] | None = None) -> tuple[str, ...]:
        """The audience of a channel's readers in the teams given (all of them without `teams`, or
        with `ALL` among them); team chat is read by its team (`teams`)."""
        if channel == TEAM_CHANNEL:
            return tuple(teams or ())
        return self.access.readers(channel, teams)

    def is_open(self, channel: str) -> bool:
        """Whether a channel carries messages (it may still be jammed): not closed by the script or in play."""
        return channel not in self.closed


Fold = Callable[[SessionState, Event, Any], None]
S = SessionState
#: The fold handler of every payload class; `_nothing` where the state does not change.
FOLDS: dict[type[Payload], Fold] = {
    ev.ParticipantJoined: S._on_participant_joined,
    ev.ParticipantRemoved: S._nothing,  # its seat's events keep their participant; its token is gone
    ev.ClockStarted: S._on_clock_started,
    ev.ClockPaused: S._on_clock_paused,
    ev.ClockResumed: S._on_clock_resumed,
    ev.SpeedChanged: S._on_speed_changed,
    ev.SessionEnded: S._on_session_ended,
    ev.InjectWritten: S._on_inject_written,
    ev.InjectReleased: S._on_inject_released,
    ev.InjectHeld: S._on_inject_held,
    ev.InjectUnheld: S._on_inject_unheld,
    ev.InjectSkipped: S._on_inject_skipped,
    ev.InjectMoved: S._on_inject_moved,
    ev.InjectAcknowledged: S._on_inject_acknowledged,
    ev.Message: S._nothing,
    ev.MessageSent: S._on_message_sent,
    ev.MessageRelayed: S._on_message_relayed,
    ev.MessageDelivered: S._on_message_delivered,
    ev.MessageJammed: S._nothing,
    ev.RelayNote: S._nothing,
    ev.MessageReadBack: S._on_message_read_back,
    ev.ChannelJammed: S._on_channel_jammed,
    ev.ChannelCleared: S._on_channel_cleared,
    ev.ChannelOpened: S._on_channel_opened,
    ev.ChannelClosed: S._on_channel_closed,
    ev.MoveStarted: S._on_move_started,
    ev.MoveEnded: S._on_move_ended,
    ev.DecisionMade: S._on_decision_made,
    ev.EscalationChanged: S._on_escalation_changed,
    ev.Note: S._nothing,
    ev.Observation: S._nothing,
    ev.Feedback: S._on_feedback,
    ev.ImprovementPlan: S._nothing,
    ev.KeyFindings: S._nothing,
    ev.InjectCancelled: S._on_inject_cancelled,
    ev.ChoiceMade: S._on_choice_made,
    ev.PersonaPosted: S._nothing,
    ev.Assessment: S._on_assessment,
    ev.AIDisclosure: S._on_ai_disclosure,
}


def check_folds(folds: dict[type[Payload], Fold], types: Iterable[type[Payload]]) -> None:
    """Every event type has a fold handler, every handler folds a registered type, none is left unused."""
    registered = set(types)
    missing = sorted(cls.__name__ for cls in registered - set(folds))
    if missing:
        raise TypeError(f"SessionState: no fold handler for {', '.join(missing)} (add it to FOLDS)")
    extra = sorted(cls.__name__ for cls in set(folds) - registered)
    if extra:
        raise TypeError(f"SessionState: fold handlers for unregistered types {', '.join(extra)}")
    handlers = {name for name in vars(SessionState) if name.startswith("_on_")}
    unused = sorted(handlers - {f.__name__ for f in folds.values()})
    if unused:
        raise TypeError(f"SessionState: handlers {', '.join(unused)} fold no event type (add them to FOLDS)")


check_folds(FOLDS, ev.EVENT_TYPES.values())
