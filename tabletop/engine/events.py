"""Events: the one record of everything that happens in a session (an append-only log).

Every event has an audience: the teams that may see it (control sees everything). `ALL` means
every team. Payloads are plain JSON-able dicts; `redact` removes what a viewer may not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ALL = "*"

# Event types (nouns of what happened).
PARTICIPANT_JOINED = "participant_joined"
CLOCK_STARTED = "clock_started"
CLOCK_PAUSED = "clock_paused"
CLOCK_RESUMED = "clock_resumed"
SPEED_CHANGED = "speed_changed"
SESSION_ENDED = "session_ended"
INJECT_WRITTEN = "inject_written"
INJECT_RELEASED = "inject_released"
INJECT_HELD = "inject_held"
INJECT_UNHELD = "inject_unheld"
INJECT_SKIPPED = "inject_skipped"
INJECT_MOVED = "inject_moved"
INJECT_ACKNOWLEDGED = "inject_acknowledged"
MESSAGE = "message"  # delivered at once to every reader of its channel
MESSAGE_SENT = "message_sent"  # on its way: with the intermediary, or held by a channel delay
MESSAGE_RELAYED = "message_relayed"  # the intermediary forwarded, edited, held or declined it
MESSAGE_DELIVERED = "message_delivered"  # reached the readers after a relay or a delay
MESSAGE_JAMMED = "message_jammed"  # the channel was jammed: delivered to nobody
CHANNEL_JAMMED = "channel_jammed"
CHANNEL_CLEARED = "channel_cleared"
DECISION_MADE = "decision_made"
ESCALATION_CHANGED = "escalation_changed"
NOTE = "note"
OBSERVATION = "observation"
FEEDBACK = "feedback"
IMPROVEMENT_PLAN = "improvement_plan"  # the facilitator's improvement-plan table for the report

#: Fields that only control (the facilitators) ever sees.
CONTROL_ONLY_FIELDS = {"notes", "spoofed", "spoofed_by"}
#: Events whose payload names the sending participant.
MESSAGE_TYPES = {"message", "message_sent", "message_delivered", "message_jammed"}


@dataclass(frozen=True)
class NewEvent:
    """An event the engine wants appended; the store gives it its sequence number."""

    type: str
    payload: dict[str, Any]
    audience: tuple[str, ...] = ()  # team ids; () = control only; (ALL,) = every team
    t: float = 0.0  # exercise seconds when it happened
    actor: int | None = None  # participant id
    claim: str | None = None  # unique per session: at most one event ever carries it
    client_id: str | None = None  # the sender's id for idempotent sends


@dataclass(frozen=True)
class Event:
    """An event as stored: with its sequence number and wall time."""

    seq: int
    type: str
    payload: dict[str, Any]
    audience: tuple[str, ...]
    t: float
    wall: float
    actor: int | None = None
    client_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "type": self.type,
            "t": round(self.t, 3),
            "wall": self.wall,
            "audience": list(self.audience),
            "payload": self.payload,
        }


@dataclass(frozen=True)
class Viewer:
    """Who is looking: control, a player of one team, or an observer of some teams."""

    kind: str  # control | player | observer
    team: str | None = None
    teams: frozenset[str] = field(default_factory=frozenset)
    participant: int | None = None

    @property
    def sees_teams(self) -> frozenset[str]:
        if self.kind == "player" and self.team:
            return frozenset({self.team})
        return self.teams


def visible(event: Event, viewer: Viewer) -> bool:
    if viewer.kind == "control":
        return True
    if ALL in event.audience:
        return True
    if viewer.participant is not None and event.actor == viewer.participant:
        return True  # one's own observations and feedback
    return bool(viewer.sees_teams.intersection(event.audience))


def redact(event: Event, viewer: Viewer) -> dict[str, Any] | None:
    """The event as this viewer may see it, or None."""
    if not visible(event, viewer):
        return None
    data = event.as_dict()
    if viewer.kind == "control":
        return data
    payload = {k: v for k, v in event.payload.items() if k not in CONTROL_ONLY_FIELDS}
    if event.type in MESSAGE_TYPES and payload.get("participant") != viewer.participant:
        # Whose seat sent it is shown only to the sender: a spoofed message looks like any other.
        payload.pop("participant", None)
    if event.type == INJECT_RELEASED and viewer.kind == "player":
        # The escalation bookkeeping is control's instrument.
        payload.pop("expect", None)
        payload.pop("effects", None)
        if payload.get("decision"):
            options = [{k: v for k, v in o.items() if k != "escalation"} for o in payload["decision"]["options"]]
            payload["decision"] = {**payload["decision"], "options": options}
    if event.type == DECISION_MADE and viewer.kind == "player":
        payload.pop("escalation", None)
    if event.type == MESSAGE_RELAYED and viewer.kind == "player" and viewer.team != event.payload.get("relay"):
        # The sender learns whether it went on, never what the intermediary made of it.
        payload.pop("text", None)
    data["payload"] = payload
    data.pop("audience", None)
    return data
