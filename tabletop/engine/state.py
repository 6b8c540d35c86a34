"""The state of a session: a fold of its event log over the exercise script.

`SessionState.apply` takes events in sequence order; `SessionState.due` says what the clock
makes happen now (timed and triggered injects, delayed deliveries, decision deadlines, the end
of jams). Everything is in exercise time, so a paused clock freezes all of it, and after a
pause each thing happens when its exercise time comes, never all at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tabletop.script import Exercise
from tabletop.script.models import Inject

from . import events as ev
from .clock import ExerciseClock
from .events import ALL, Event, NewEvent

TEAM_CHANNEL = "team"


def decision_payload(inject: Inject) -> dict[str, Any] | None:
    """An inject's decision as events and pages carry it."""
    d = inject.decision
    if d is None:
        return None
    return {
        "prompt": d.prompt,
        "by": list(d.by),
        "deadline": d.deadline,
        "default": d.default,
        "options": [{"id": o.id, "label": o.label, "escalation": o.escalation} for o in d.options],
    }


def inject_payload(exercise: Exercise, inject: Inject) -> dict[str, Any]:
    """What a released scripted inject carries (control-only fields are redacted on the way out)."""
    decision = decision_payload(inject)
    return {
        "inject": inject.id,
        "title": inject.title,
        "body": inject.body,
        "from": inject.from_ or "",
        "medium": inject.medium,
        "to": list(exercise.recipients(inject)),
        "attachments": list(inject.attachments),
        "ack": inject.ack,
        "decision": decision,
        "objectives": list(inject.objectives),
        "classification": exercise.classification,
        "expect": inject.expect,
        "notes": inject.notes,
        "effects": [
            {"jam": {"channel": e.jam.channel, "for": e.jam.for_}} if e.jam else {"escalation": e.escalation}
            for e in inject.effects
        ],
    }


def _sender(p: dict[str, Any]) -> dict[str, Any]:
    return {k: p[k] for k in ("from_position", "name", "participant") if k in p}


@dataclass
class InjectState:
    definition: dict[str, Any]  # the payload it is released with
    trigger: dict[str, Any] | None = None
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
    status: str  # delivered | with_relay | held | in_transit | declined | jammed
    text: str
    deliver_at: float | None = None
    audience: tuple[str, ...] = ()
    sender: dict[str, Any] = field(default_factory=dict)  # from_position, name, participant
    sent_t: float = 0.0


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
    acks: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # inject -> team -> participants
    participants: dict[int, dict[str, Any]] = field(default_factory=dict)
    feedback: set[str] = field(default_factory=set)  # who has sent hotwash feedback (rules.feedback_key)
    live_count: int = 0

    def __post_init__(self) -> None:
        ex = self.exercise
        for inject in ex.injects:
            state = InjectState(
                definition=inject_payload(ex, inject),
                trigger=inject.trigger.model_dump(exclude_none=True) if inject.trigger else None,
                delay=float(inject.delay),
            )
            if inject.at is not None:
                state.status, state.due = "scheduled", float(inject.at)
            self.injects[inject.id] = state

    # ----------------------------------------------------------------- folding
    def apply(self, event: Event) -> None:
        """Fold one event in. Events after which nothing is left to happen (a message delivered at
        once, a jammed one, a note) have no handler: the log keeps them."""
        if event.seq <= self.seq:
            return
        self.seq = event.seq
        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            handler(event, event.payload)

    def _on_participant_joined(self, event: Event, p: dict[str, Any]) -> None:
        self.participants[p["participant"]] = dict(p)

    def _on_clock_started(self, event: Event, p: dict[str, Any]) -> None:
        self.clock.start(event.wall)

    def _on_clock_paused(self, event: Event, p: dict[str, Any]) -> None:
        self.clock.pause(event.wall)

    def _on_clock_resumed(self, event: Event, p: dict[str, Any]) -> None:
        self.clock.resume(event.wall)

    def _on_speed_changed(self, event: Event, p: dict[str, Any]) -> None:
        self.clock.set_speed(float(p["speed"]), event.wall)

    def _on_session_ended(self, event: Event, p: dict[str, Any]) -> None:
        self.clock.end(event.wall)

    def _on_inject_written(self, event: Event, p: dict[str, Any]) -> None:
        self.live_count += 1
        definition = dict(p["definition"])
        state = InjectState(definition=definition)
        if p.get("at") is not None:
            state.status, state.due = "scheduled", float(p["at"])
        else:  # written to go out now
            state.status, state.due, state.immediate = "scheduled", event.t, True
        self.injects[definition["inject"]] = state

    def _on_inject_released(self, event: Event, p: dict[str, Any]) -> None:
        inject_id = p["inject"]
        state = self.injects[inject_id]
        state.status, state.released_t, state.released_seq = "released", event.t, event.seq
        decision = state.definition.get("decision")
        if decision:
            deadline = decision.get("deadline")
            self.decisions[inject_id] = DecisionState(
                inject=inject_id,
                teams=tuple(state.definition["to"]),
                opened_t=event.t,
                deadline_t=event.t + deadline if deadline else None,
            )
        for child in self._children(inject=inject_id):
            self._schedule_child(child, event.t)

    def _on_inject_held(self, event: Event, p: dict[str, Any]) -> None:
        self.injects[p["inject"]].status = "held"

    def _on_inject_unheld(self, event: Event, p: dict[str, Any]) -> None:
        state = self.injects[p["inject"]]
        state.status = "scheduled" if state.due is not None else "pending"

    def _on_inject_skipped(self, event: Event, p: dict[str, Any]) -> None:
        self.injects[p["inject"]].status = "skipped"

    def _on_inject_moved(self, event: Event, p: dict[str, Any]) -> None:
        state = self.injects[p["inject"]]
        state.due, state.immediate = float(p["at"]), False
        if state.status == "pending":
            state.status = "scheduled"

    def _on_inject_acknowledged(self, event: Event, p: dict[str, Any]) -> None:
        self.acks.setdefault(p["inject"], {}).setdefault(p["team"], []).append(p["participant"])

    def _on_decision_made(self, event: Event, p: dict[str, Any]) -> None:
        decision = self.decisions[p["inject"]]
        decision.decided, decision.option = True, p.get("option")
        if decision.option is not None:
            for child in self._children(decision=p["inject"], option=decision.option):
                self._schedule_child(child, event.t)

    def _on_escalation_changed(self, event: Event, p: dict[str, Any]) -> None:
        self.escalation = int(p["level"])

    def _on_channel_jammed(self, event: Event, p: dict[str, Any]) -> None:
        until = float(p["until"])
        current = self.jams.get(p["channel"])
        self.jams[p["channel"]] = (max(until, current[0]) if current else until, event.seq)

    def _on_channel_cleared(self, event: Event, p: dict[str, Any]) -> None:
        self.jams.pop(p["channel"], None)

    def _on_message_sent(self, event: Event, p: dict[str, Any]) -> None:
        relay = p.get("relay")
        status = "with_relay" if relay else "in_transit"
        deliver_at = None if relay else event.t + float(p.get("delay", 0))
        self.messages[event.seq] = MessageState(
            event.seq, p["channel"], p["from_team"], status, p["text"], deliver_at, tuple(p["to"]), _sender(p), event.t
        )
        if status == "in_transit":
            self.transit.add(event.seq)

    def _on_message_relayed(self, event: Event, p: dict[str, Any]) -> None:
        message = self.messages[p["message"]]
        action = p["action"]
        if action in ("forward", "edit"):
            message.text = p["text"]
            delay = float(p.get("delay", 0))
            message.status, message.deliver_at = ("in_transit", event.t + delay) if delay else ("forwarded", None)
            if delay:
                self.transit.add(message.seq)
        else:
            message.status = {"hold": "held", "decline": "declined"}[action]

    def _on_message_delivered(self, event: Event, p: dict[str, Any]) -> None:
        if p.get("message") in self.messages:
            self.messages[p["message"]].status = "delivered"
        self.transit.discard(p.get("message"))

    def _on_feedback(self, event: Event, p: dict[str, Any]) -> None:
        self.feedback.add(p.get("key") or str(p["participant"]))

    # --------------------------------------------------------------- triggers
    def _children(
        self, *, inject: str | None = None, decision: str | None = None, option: str | None = None
    ) -> list[str]:
        found = []
        for ident, state in self.injects.items():
            trig = state.trigger
            if not trig:
                continue
            if inject is not None and trig.get("inject") == inject:
                found.append(ident)
            elif decision is not None and trig.get("decision") == decision and trig.get("option") == option:
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

    # ------------------------------------------------------------- what is due
    def due(self, wall: float) -> list[list[NewEvent]]:
        """Batches of events the clock makes happen now; each batch is appended on its own."""
        if self.ended:
            return []
        t = self.clock.elapsed(wall)
        running = self.clock.running
        batches: list[list[NewEvent]] = []
        for ident, state in self.injects.items():
            if (
                state.status == "scheduled"
                and state.due is not None
                and (state.immediate or (running and state.due <= t))
            ):
                batches.append(self.release(ident, t))
        if running:
            for decision in self.decisions.values():
                if not decision.decided and decision.deadline_t is not None and decision.deadline_t <= t:
                    batches.append(self.decide_batch(decision.inject, None, t, by_default=True))
            for message in (self.messages[seq] for seq in sorted(self.transit)):
                if message.deliver_at is not None and message.deliver_at <= t:
                    batches.append([self.delivery(message, t)])
            for channel, (until, jam_seq) in self.jams.items():
                if until <= t:
                    batches.append(
                        [
                            NewEvent(
                                ev.CHANNEL_CLEARED,
                                {"channel": channel},
                                self.channel_audience(channel),
                                t,
                                claim=f"clear:{channel}:{jam_seq}",
                            )
                        ]
                    )
        return batches

    def next_due_wall(self, wall: float) -> float | None:
        """The wall time of the next thing the clock will make happen (for the scheduler's sleep)."""
        if self.ended:
            return None
        times: list[float] = []
        for state in self.injects.values():
            if state.status == "scheduled" and state.due is not None:
                if state.immediate:
                    return wall
                times.append(state.due)
        times += [d.deadline_t for d in self.decisions.values() if not d.decided and d.deadline_t is not None]
        times += [d for d in (self.messages[seq].deliver_at for seq in self.transit) if d is not None]
        times += [until for until, _ in self.jams.values()]
        if not times or not self.clock.running:
            return None
        return self.clock.wall_at(min(times))

    # ------------------------------------------------------- batch builders
    def channel_audience(self, channel: str) -> tuple[str, ...]:
        ch = self.exercise.channel(channel)
        return (ALL,) if ch.kind == "broadcast" else tuple(ch.members)

    def release(self, inject_id: str, t: float, actor: int | None = None, how: str = "scheduled") -> list[NewEvent]:
        """The release of an inject with its effects, as one batch."""
        state = self.injects[inject_id]
        definition = state.definition
        payload = {**definition, "how": how}
        batch = [NewEvent(ev.INJECT_RELEASED, payload, tuple(definition["to"]), t, actor, claim=f"release:{inject_id}")]
        level = self.escalation
        for effect in definition.get("effects", []):
            if "jam" in effect:
                channel, length = effect["jam"]["channel"], float(effect["jam"]["for"])
                batch.append(
                    NewEvent(
                        ev.CHANNEL_JAMMED,
                        {"channel": channel, "until": t + length, "for": length, "inject": inject_id},
                        self.channel_audience(channel),
                        t,
                    )
                )
            elif effect.get("escalation"):
                level += int(effect["escalation"])
                batch.append(
                    NewEvent(
                        ev.ESCALATION_CHANGED,
                        {"delta": int(effect["escalation"]), "level": level, "reason": f"inject {inject_id}"},
                        (),
                        t,
                    )
                )
        return batch

    def decide_batch(
        self,
        inject_id: str,
        choice: dict[str, Any] | None,
        t: float,
        actor: int | None = None,
        by_default: bool = False,
    ) -> list[NewEvent]:
        """A decision (a team's choice, or the default at the deadline) and its escalation."""
        decision = self.injects[inject_id].definition["decision"]
        option_id = choice["option"] if choice else decision.get("default")
        option = next((o for o in decision["options"] if o["id"] == option_id), None)
        payload: dict[str, Any] = {
            "inject": inject_id,
            "option": option_id,
            "label": option["label"] if option else None,
            "escalation": option["escalation"] if option else 0,
            "by_default": by_default,
            "lapsed": option is None,
        }
        if choice:
            payload.update({k: choice[k] for k in ("rationale", "team", "position", "name", "participant")})
        audience = tuple(self.decisions[inject_id].teams)
        batch = [NewEvent(ev.DECISION_MADE, payload, audience, t, actor, claim=f"decision:{inject_id}")]
        if option and option["escalation"]:
            batch.append(
                NewEvent(
                    ev.ESCALATION_CHANGED,
                    {
                        "delta": option["escalation"],
                        "level": self.escalation + option["escalation"],
                        "reason": f"decision {inject_id}: {option_id}",
                    },
                    (),
                    t,
                )
            )
        return batch

    def delivery(self, message: MessageState, t: float) -> NewEvent:
        payload = {
            "message": message.seq,
            "channel": message.channel,
            "from_team": message.from_team,
            **message.sender,
            "text": message.text,
        }
        return NewEvent(ev.MESSAGE_DELIVERED, payload, message.audience, t, claim=f"deliver:{message.seq}")
