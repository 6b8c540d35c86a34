"""Events: the one record of everything that happens in a session (an append-only log).

Transition note: `Event.payload` is the typed, frozen payload object (read `event.payload.text`),
`Event.as_dict()` / `Event.payload_json` give the wire and stored JSON, and payload objects still
answer dict-style reads (`payload["text"]`, `payload.get("to", [])`, `"text" in payload`, always
the JSON form) so that code written before the classes kept working while it moved to them (nothing
in tabletop/ uses them now; a few tests do): new code reads attributes.

One frozen pydantic class per event type, registered in `EVENT_TYPES` (type name -> class). The
JSON they write is the JSON written before the classes existed, key for key (see `Payload`), so
stored logs need no migration. `from_json` is the one mapper from stored JSON to a typed payload:
the store and every `Event` built from a dict go through it. Every class has a `VERSION`; when a
payload's shape changes, bump it and register an upcaster (see `UPCASTERS`).

Every event has an audience: the teams that may see it (control sees everything). `ALL` means
every team; an entry `team/position` names one seat, where a channel's `read` list leaves other
positions of the team out (engine/access.py). `redact` gives what a viewer may see of an event,
as the JSON sent to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tabletop.script.models import Channel, Exercise, place

ALL = "*"
#: An audience entry `team/position` names one seat of a team (see engine/access.py).
SEAT = "/"

#: A number kept as written: an int stays an int and a float a float (so the JSON is unchanged).
Number = int | float
Teams = tuple[str, ...]


# ============================================================== the base classes
class Shape(BaseModel):
    """A frozen JSON shape: checked on the way in, the same JSON on the way out.

    - Field order is the JSON key order. Fields with a default are *optional*: a key that was not
      given stays absent from the JSON (`exclude_unset`); a key given as null is written as null.
    - Numbers typed `Number` keep int or float as given, so `json.dumps` gives the same bytes.
    - `to_json()` is the stored and wire form.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    #: JSON key -> attribute name (they differ only for keys that are Python keywords: `from`, `for`).
    _KEYS: ClassVar[dict[str, str]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._KEYS = {(f.alias or name): name for name, f in cls.model_fields.items()}

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types, absent optional keys left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def has(self, name: str) -> bool:
        """Whether an optional field was given (by attribute name): absent keys read as their default."""
        return name in self.__pydantic_fields_set__

    # -- dict-style reads, for code not yet migrated to attributes (always the JSON form) --
    def __getitem__(self, key: str) -> Any:
        name = self._KEYS.get(key)
        if name is None or name not in self.__pydantic_fields_set__:
            raise KeyError(key)
        return _json_value(getattr(self, name))

    def get(self, key: str, default: Any = None) -> Any:
        name = self._KEYS.get(key)
        if name is None or name not in self.__pydantic_fields_set__:
            return default
        return _json_value(getattr(self, name))

    def __contains__(self, key: object) -> bool:
        name = self._KEYS.get(key) if isinstance(key, str) else None
        return name is not None and name in self.__pydantic_fields_set__


def _json_value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, (tuple, list)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value


class Part(Shape):
    """A nested shape inside a payload (inject definition, decision, option, effect, plan item).

    The generated docs spell its keys out (`{"id", "label"}`) unless `EXPAND` is false; `DOC`
    replaces that spelling where it would mislead.
    """

    EXPAND: ClassVar[bool] = True
    DOC: ClassVar[str] = ""


class Payload(Shape):
    """The payload of one event type.

    `TYPE` is the event type name, `VERSION` the payload's version (see `UPCASTERS`), `MADE_BY`
    and `AUDIENCE` describe it in docs/protocol.md (the generated event table);
    `from_json(type, data)` is the way from JSON back to a payload.
    """

    TYPE: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1
    MADE_BY: ClassVar[str] = ""
    AUDIENCE: ClassVar[str] = ""
    NOTE: ClassVar[str] = ""  # said after the fields in the docs


# ============================================================== nested shapes
class LevelSpec(Part):
    """Where an option or effect places the escalation level (format 2's `escalation: {...}`): `to` a level,
    or the level changed `by` N and kept `at_least` / `at_most` a level."""

    to: int | None = None
    by: int | None = None
    at_least: int | None = None
    at_most: int | None = None

    def apply(self, level: int) -> int:
        return place(level, to=self.to, by=self.by, at_least=self.at_least, at_most=self.at_most)


class OptionSpec(Part):
    """An option of a decision."""

    id: str
    label: str
    escalation: int = Field(description="control and observers only")
    level: LevelSpec | None = Field(
        None, description="format 2: where it places the level, instead of adding to it; control and observers only"
    )

    def next_level(self, level: int) -> int:
        """The escalation level after this option is taken."""
        return self.level.apply(level) if self.level is not None else level + self.escalation


class DecisionSpec(Part):
    """The decision an inject asks for, as events and pages carry it."""

    prompt: str
    by: Teams = Field(description="position ids that may decide; empty: anyone of the team")
    deadline: Number | None = Field(description="exercise seconds after the release, or null")
    default: str | None = Field(description="the option taken at the deadline, or null")
    options: tuple[OptionSpec, ...]

    def option(self, option_id: str | None) -> OptionSpec | None:
        return next((o for o in self.options if o.id == option_id), None)


class JamSpec(Part):
    channel: str
    for_: Number = Field(alias="for", description="exercise seconds")


class ChannelChangeSpec(Part):
    """A channel opened or closed by an inject's effect (format 2)."""

    id: str
    action: str = Field(description="open or close")


class Effect(Part):
    """One effect of an inject's release: `{"jam": {"channel", "for"}}`, `{"escalation": N}`,
    `{"level": {"to", "by", "at_least", "at_most"}}` (format 2's `escalation: {...}`) or
    `{"channel": {"id", "action"}}`."""

    DOC = (
        '`{"jam": {"channel", "for"}}`, `{"escalation": N}`, `{"level": {"to", "by", "at_least", "at_most"}}` '
        'or `{"channel": {"id", "action"}}`'
    )

    jam: JamSpec | None = None
    escalation: int | None = None
    channel: ChannelChangeSpec | None = None
    level: LevelSpec | None = None


class InjectDefinition(Part):
    """What a released inject carries (scripted, or written live: `live` true)."""

    EXPAND = False  # the fields of `inject_released`

    inject: str
    title: str
    body: str = Field(description="Markdown")
    from_: str = Field(alias="from")
    medium: str
    to: Teams
    attachments: Teams
    ack: bool
    decision: DecisionSpec | None
    objectives: Teams
    classification: str
    expect: str = Field(description="control and observers only")
    notes: str = Field(description="control only")
    effects: tuple[Effect, ...] = Field(description="control and observers only")
    live: bool = Field(False, description="true for written injects")
    fiction: bool = Field(False, description="format 2: an exercise event, not history")
    source: str = Field("", description="format 2: where its facts come from; control and observers only")


class PlanItem(Part):
    """A row of the improvement plan."""

    issue: str
    action: str
    organisation: str
    due: str = Field(description="the end date")
    objective: str | None
    capability: str = Field("", description="a capability in words, for an issue outside the objectives")
    contact: str = Field("", description="the responsible organisation's point of contact")
    start: str = Field("", description="the start date")


class AISeat(Part):
    """A seat played by a language model (docs/ai-seats.md): its model, and whether players are told."""

    model: str = Field(description="the model's name, as the operator's endpoint calls it")
    told: bool = Field(description="whether players see that this seat is an AI; false: control only")


# ============================================================== event payloads
class ParticipantJoined(Payload):
    TYPE = "participant_joined"
    MADE_BY = "`/api/join`"
    AUDIENCE = "player: their team; observer: control"

    participant: int
    kind: str = Field(description="player or observer")
    name: str
    team: str | None = Field(None, description="players")
    position: str | None = Field(None, description="players")
    teams: Teams = Field((), description="observers: the teams they watch")
    ai: AISeat | None = Field(None, description="an AI seat: the model that plays it (absent for people)")


class ParticipantRemoved(Payload):
    TYPE = "participant_removed"
    MADE_BY = "a facilitator: `DELETE /api/sessions/ID/participants/PID`, or a move (`POST .../PID/seat`)"
    AUDIENCE = "player: their team; observer: control"
    NOTE = "Its tokens stop working at once and its open connections are closed (`revoked`)."

    participant: int
    kind: str = Field(description="player or observer")
    name: str
    team: str | None = Field(None, description="players")
    position: str | None = Field(None, description="players")
    by: str = Field(description="the facilitator who removed or moved it")
    moved_to: int | None = Field(
        None, description="a move: the participant id of its new seat, whose `participant_joined` follows"
    )


class ClockStarted(Payload):
    TYPE = "clock_started"
    MADE_BY = "`clock start`"
    AUDIENCE = "all"

    speed: Number
    by: str


class ClockPaused(Payload):
    TYPE = "clock_paused"
    MADE_BY = "`clock pause`"
    AUDIENCE = "all"

    by: str


class ClockResumed(Payload):
    TYPE = "clock_resumed"
    MADE_BY = "`clock resume`"
    AUDIENCE = "all"

    by: str


class SpeedChanged(Payload):
    TYPE = "speed_changed"
    MADE_BY = "`clock speed`"
    AUDIENCE = "all"

    speed: Number
    by: str


class SessionEnded(Payload):
    TYPE = "session_ended"
    MADE_BY = "`clock end`"
    AUDIENCE = "all"

    by: str


class InjectWritten(Payload):
    TYPE = "inject_written"
    MADE_BY = "`write_inject`"
    AUDIENCE = "control"

    definition: InjectDefinition = Field(description="the future release payload, `inject` = `live-N`")
    at: Number | None = Field(description="exercise seconds, or null: now")
    by: str


class InjectReleased(InjectDefinition, Payload):
    """The inject definition as released, and how."""

    TYPE = "inject_released"
    MADE_BY = "scheduler, trigger, `release_inject`, `write_inject`"
    AUDIENCE = "the inject's `to` teams"

    how: str = Field(description="`scheduled` or `by hand`")
    NOTE = (
        "`body_html` (the Markdown as safe HTML) is added when it is sent. Players do not receive `effects`, "
        "`expect` or the options' `escalation` and `level`"
    )

    @classmethod
    def of(cls, definition: InjectDefinition, how: str) -> InjectReleased:
        return cls.model_validate({**definition.to_json(), "how": how})


class InjectHeld(Payload):
    TYPE = "inject_held"
    MADE_BY = "`hold_inject`"
    AUDIENCE = "control"

    inject: str
    by: str


class InjectUnheld(Payload):
    TYPE = "inject_unheld"
    MADE_BY = "`unhold_inject`"
    AUDIENCE = "control"

    inject: str
    by: str


class InjectSkipped(Payload):
    TYPE = "inject_skipped"
    MADE_BY = "`skip_inject`"
    AUDIENCE = "control"

    inject: str
    by: str


class InjectMoved(Payload):
    TYPE = "inject_moved"
    MADE_BY = "`move_inject`"
    AUDIENCE = "control"

    inject: str
    at: Number = Field(description="exercise seconds")
    from_: Number | None = Field(alias="from", description="the previous due time, or null")
    by: str


class InjectAcknowledged(Payload):
    TYPE = "inject_acknowledged"
    MADE_BY = "`ack_inject`"
    AUDIENCE = "the player's team"

    inject: str
    team: str
    from_position: str | None
    name: str
    participant: int | None


class Message(Payload):
    """A message delivered at once to every reader of its channel.

    A spoofed team-chat message written before the classes stored `team` last; the class writes it
    second, as `send_message` always did (same JSON, another key order: see tests/test_events.py).
    """

    TYPE = "message"
    MADE_BY = "`send_message`, `spoof`"
    AUDIENCE = "readers; spoof: see `spoof`"
    NOTE = "`spoofed` and `spoofed_by` only when control spoofed it"

    channel: str
    team: str | None = Field(None, description="in team chat: whose chat")
    from_team: str = Field(description="`control` when a facilitator writes in team chat")
    from_position: str | None
    name: str
    participant: int | None = Field(None, description="shown to the sender only; absent when spoofed")
    text: str
    spoofed: bool = Field(False, description="control only")
    spoofed_by: str | None = Field(None, description="control only")


class MessageSent(Payload):
    """A message on its way: with the intermediary, or held by a channel delay."""

    TYPE = "message_sent"
    MADE_BY = "`send_message` on a relay or delayed channel"
    AUDIENCE = "sender's team, plus the relay team when it is a team"

    channel: str
    from_team: str
    from_position: str | None
    name: str
    participant: int | None
    text: str
    relay: str | None = Field(description="team id, `control`, or null for a plain delay")
    to: Teams = Field(
        description="relay: the other members; plain delay: every reader, the sender's team included, "
        'or `["*"]` for broadcast'
    )
    delay: Number = Field(description="exercise seconds")
    instructions: str | None = Field(
        None, description="relay: handling instructions for the intermediary alone, never forwarded"
    )
    readback: bool = Field(False, description="relay: the sender asks the receiver for a read-back")


class MessageRelayed(Payload):
    """The intermediary forwarded, edited, held or declined a message."""

    TYPE = "message_relayed"
    MADE_BY = "`relay`"
    AUDIENCE = "sender's team (per `sender_learns`), plus the relay team when it is a team"

    message: int = Field(description="seq of the `message_sent`")
    channel: str
    relay: str
    from_team: str
    action: str = Field(description="forward, edit, hold or decline")
    by: str
    waited: Number = Field(description="exercise seconds")
    text: str | None = Field(
        None, description="forward/edit; the sender's team only with `forwarded_with_changes` in `sender_learns`"
    )
    edited: bool = Field(
        False, description="forward/edit; the sender's team only with `forwarded_with_changes` in `sender_learns`"
    )
    delay: Number = Field(0, description="forward/edit")
    readback: bool = Field(False, description="forward/edit: the intermediary asks the receiver for a read-back")
    NOTE = "The sender's team is sent only what the channel's `sender_learns` lists (see Relay disclosure)"


class MessageDelivered(Payload):
    """A message reached its readers after a relay or a delay."""

    TYPE = "message_delivered"
    MADE_BY = "`relay`, or the scheduler after a delay"
    AUDIENCE = (
        "the `to` teams of the `message_sent`; on a relay channel also the sender's team (per `sender_learns`) "
        "and the relay team when it is a team"
    )
    NOTE = (
        "On a relay channel the receiving teams see the origin per `receiver_sees` (`via`: no `from_team`, "
        "`from_position`, `name`; `team`: no `from_position`, `name`; `position`: no `name`, and `from_title`, "
        "the position's title, is added when it is sent); the sender's team sees only `message`, `channel`, "
        "`from_team`"
    )

    message: int
    channel: str
    from_team: str
    from_position: str | None
    name: str
    participant: int | None
    text: str = Field(description="as forwarded")
    readback: bool = Field(False, description="relay: a read-back is asked for (answer with `read_back`)")


class MessageJammed(Payload):
    """A message on a jammed channel: delivered to nobody."""

    TYPE = "message_jammed"
    MADE_BY = "`send_message` on a jammed channel"
    AUDIENCE = "sender's team"
    NOTE = "Delivered to nobody"

    channel: str
    from_team: str
    from_position: str | None
    name: str
    participant: int | None
    text: str
    reason: str


# -------------------------------------------------- the intermediary's voice (relay channels)
class RelayNote(Payload):
    """The intermediary writes to one half of a relay channel: never forwarded to the other half."""

    TYPE = "relay_note"
    MADE_BY = "`write_relay_note`"
    AUDIENCE = "the `to` team, plus the relay team when it is a team"

    channel: str
    relay: str = Field(description="team id, or `control`")
    to: str = Field(description="the member team written to")
    by: str = Field(description="the writer's name")
    from_position: str | None = Field(description="the writer's position (null for control)")
    participant: int | None = Field(description="shown to the writer only")
    text: str
    message: int | None = Field(None, description="the seq of the `message_sent` it is about")


class MessageReadBack(Payload):
    """The receiving team reads back a relayed message it was asked to read back."""

    TYPE = "message_read_back"
    MADE_BY = "`read_back`"
    AUDIENCE = "the reading team, the sender's team (per `sender_learns`), the relay team when it is a team"
    NOTE = (
        "The sender's team is sent it only when `sender_learns` lists `delivered`, and then only `message`, "
        "`channel`, `relay`, `team`, `sender`: that it was read back, not the text"
    )

    message: int = Field(description="seq of the `message_sent`")
    channel: str
    relay: str
    sender: str = Field(description="the team that sent the message")
    team: str = Field(description="the team reading back")
    position: str | None
    name: str
    participant: int | None = Field(description="shown to the reader only")
    text: str


class ChannelJammed(Payload):
    TYPE = "channel_jammed"
    MADE_BY = "an inject's `jam` effect, `channel` (jam)"
    AUDIENCE = "channel readers"

    channel: str
    until: Number = Field(description="exercise seconds")
    for_: Number = Field(alias="for")
    inject: str | None = Field(None, description="the inject whose effect jammed it")
    by: str | None = Field(None, description="the facilitator who jammed it")


class ChannelCleared(Payload):
    TYPE = "channel_cleared"
    MADE_BY = "the scheduler when a jam ends, `channel` (clear)"
    AUDIENCE = "channel readers"

    channel: str
    by: str | None = Field(None, description="the facilitator who cleared it early")


# -------------------------------------------------- channels opened and closed, moves (format 2)
class ChannelOpened(Payload):
    """A channel opens: messages may be sent on it again (or for the first time: `initially: closed`)."""

    TYPE = "channel_opened"
    MADE_BY = "an inject's `channel` effect, `channel` (open)"
    AUDIENCE = "channel readers"

    channel: str
    inject: str | None = Field(None, description="the inject whose effect opened it")
    by: str | None = Field(None, description="the facilitator who opened it")


class ChannelClosed(Payload):
    """A channel closes: it refuses messages until it is opened."""

    TYPE = "channel_closed"
    MADE_BY = "an inject's `channel` effect, `channel` (close)"
    AUDIENCE = "channel readers"

    channel: str
    inject: str | None = Field(None, description="the inject whose effect closed it")
    by: str | None = Field(None, description="the facilitator who closed it")


class MoveStarted(Payload):
    """A move of the script begins: its scenario clock is in force from here."""

    TYPE = "move_started"
    MADE_BY = "`clock start` (the first move), the scheduler (a move without `stop_clock`), `start_move`"
    AUDIENCE = "all"
    NOTE = "After a `move_ended`, the clock runs again from the move's `at`"

    move: str = Field(description="the move's id")
    title: str
    at: Number = Field(description="the move's start, exercise seconds")
    by: str | None = Field(None, description="the facilitator who started it (a stopped clock's move)")


class MoveEnded(Payload):
    """The clock reached a move with `stop_clock`: it stops there for a plenary until `start_move`."""

    TYPE = "move_ended"
    MADE_BY = "the scheduler, when the clock reaches a move with `stop_clock`"
    AUDIENCE = "all"
    NOTE = "The clock stops at `at`, before anything due then is released"

    move: str = Field(description="the move that ended")
    next: str = Field(description="the move waiting for the facilitator")
    at: Number = Field(description="exercise seconds: where the clock stands")


class DecisionMade(Payload):
    TYPE = "decision_made"
    MADE_BY = "`decide`, or the deadline"
    AUDIENCE = "the inject's `to` teams"

    inject: str
    option: str | None = Field(description="null when it lapsed without a default")
    label: str | None
    escalation: int = Field(description="control and observers only")
    by_default: bool
    lapsed: bool
    rationale: str | None = Field(None, description="when a player chose")
    team: str | None = Field(None, description="when a player chose")
    position: str | None = Field(None, description="when a player chose")
    name: str | None = Field(None, description="when a player chose")
    participant: int | None = Field(None, description="when a player chose")


class EscalationChanged(Payload):
    TYPE = "escalation_changed"
    MADE_BY = "`escalate`, a decision, an inject effect"
    AUDIENCE = "control"

    delta: int
    level: int = Field(description="the new total")
    reason: str
    by: str | None = Field(None, description="`escalate`")


class Note(Payload):
    TYPE = "note"
    MADE_BY = "`note`"
    AUDIENCE = "control"

    text: str
    name: str


class Observation(Payload):
    TYPE = "observation"
    MADE_BY = "`observe`"
    AUDIENCE = "control, and its author"

    objective: str | None
    rating: str = Field(description="P, S, M or U")
    text: str
    team: str | None
    name: str
    participant: int | None
    finding: str | None = Field(None, description="`strength` or `improvement`, beside the rating (optional)")


class Feedback(Payload):
    TYPE = "feedback"
    MADE_BY = "`feedback`"
    AUDIENCE = "control, and its author"

    participant: int | None
    name: str
    kind: str
    team: str | None
    position: str | None
    strengths: str
    improvements: str
    channels: dict[str, int] = Field(description="channel id -> rating 1 to 5")
    key: str | None = Field(None, description="who sent it, one per sender")
    answers: dict[str, int | str] = Field(
        default_factory=dict,
        description="the script's hotwash questions answered: question id -> text, or 1 to 5 for a scale",
    )


# ------------------------------------------------ conditions, choices, personas (format 2)
class InjectCancelled(Payload):
    """An inject fell due and its `unless` held: it is never released (a facilitator may still send it by hand)."""

    TYPE = "inject_cancelled"
    MADE_BY = "the scheduler, when an inject with `unless` falls due"
    AUDIENCE = "control"

    inject: str
    reason: str = Field(description="the `unless` condition that held, in words")


class ChoiceMade(Payload):
    """A choice fell due (or was sent by hand): the alternative it releases, or none."""

    TYPE = "choice_made"
    MADE_BY = "the scheduler, when a choice falls due; `release_inject` on a choice"
    AUDIENCE = "control"
    NOTE = "The alternative's own `inject_released` follows (or its `inject_cancelled`, if its `unless` holds)"

    choice: str = Field(description="the inject with `choose`")
    inject: str | None = Field(description="the alternative released, or null when none was")
    reason: str = Field(description="the condition that held, `otherwise`, or why none was chosen")
    how: str = Field(description="`scheduled` or `by hand`")


class PersonaPosted(Payload):
    """Control posts on a public (broadcast) channel as one of the script's personas."""

    TYPE = "persona_posted"
    MADE_BY = "`post_as_persona`"
    AUDIENCE = "the channel's readers (all, without a `read` list)"
    NOTE = "Players and observers are not sent `spoofed_by`: nothing tells them control wrote it"

    channel: str
    persona: str = Field(description="the persona's id")
    name: str = Field(description="the persona's name, as shown on the feed")
    team: str | None = Field(description="the team the persona speaks for, or null")
    text: str
    spoofed_by: str = Field(description="control only: the facilitator who wrote it")


class ImprovementPlan(Payload):
    TYPE = "improvement_plan"
    MADE_BY = "`improvement_plan`"
    AUDIENCE = "control"

    items: tuple[PlanItem, ...]
    by: str


class KeyFindings(Payload):
    """The facilitator's key findings for the report's summary; the last one counts."""

    TYPE = "key_findings"
    MADE_BY = "`key_findings`"
    AUDIENCE = "control"

    text: str
    by: str


class Assessment(Payload):
    """A team's answer to one of the script's key questions, with its confidence (format 2): its
    picture, which the console, the tape and the report set beside control's truth."""

    TYPE = "assessment"
    MADE_BY = "`assess`"
    AUDIENCE = "the team, and control"
    NOTE = "The latest of a team for a question is its picture; the truth is never sent to players"

    question: str = Field(description="the key question's id")
    team: str
    answer: Number | str = Field(description="an option, `LAT, LON`, a number or a text, per the question's kind")
    confidence: int = Field(description="0 to 100")
    by: str = Field(description="the player's name")
    position: str | None = Field(None, description="the player's position")


class AIDisclosure(Payload):
    """The facilitator's setting for AI seats added from now on: are players told which seats are AI
    (docs/ai-seats.md)? Without one, they are."""

    TYPE = "ai_disclosure"
    MADE_BY = "the AI seats' settings (`POST /api/sessions/ID/ai/settings`)"
    AUDIENCE = "control"

    told: bool = Field(description="whether players see that a seat added later is an AI; false: control only")
    by: str = Field(description="the facilitator's name")


# ============================================================== the registry
#: Every event type, by name: the one list the fold, the store, the docs and the JS are checked against.
EVENT_TYPES: dict[str, type[Payload]] = {
    cls.TYPE: cls
    for cls in (
        ParticipantJoined,
        ParticipantRemoved,
        ClockStarted,
        ClockPaused,
        ClockResumed,
        SpeedChanged,
        SessionEnded,
        InjectReleased,
        InjectWritten,
        InjectHeld,
        InjectUnheld,
        InjectSkipped,
        InjectMoved,
        InjectAcknowledged,
        Message,
        MessageSent,
        MessageRelayed,
        MessageDelivered,
        MessageJammed,
        RelayNote,
        MessageReadBack,
        ChannelJammed,
        ChannelCleared,
        ChannelOpened,
        ChannelClosed,
        MoveStarted,
        MoveEnded,
        DecisionMade,
        EscalationChanged,
        Note,
        Observation,
        Feedback,
        ImprovementPlan,
        KeyFindings,
        InjectCancelled,
        ChoiceMade,
        PersonaPosted,
        Assessment,
        AIDisclosure,
    )
}

# Event type names, for code that compares `event.type`.
PARTICIPANT_JOINED = ParticipantJoined.TYPE
PARTICIPANT_REMOVED = ParticipantRemoved.TYPE  # removed by a facilitator, or moved to another seat
CLOCK_STARTED = ClockStarted.TYPE
CLOCK_PAUSED = ClockPaused.TYPE
CLOCK_RESUMED = ClockResumed.TYPE
SPEED_CHANGED = SpeedChanged.TYPE
SESSION_ENDED = SessionEnded.TYPE
INJECT_WRITTEN = InjectWritten.TYPE
INJECT_RELEASED = InjectReleased.TYPE
INJECT_HELD = InjectHeld.TYPE
INJECT_UNHELD = InjectUnheld.TYPE
INJECT_SKIPPED = InjectSkipped.TYPE
INJECT_MOVED = InjectMoved.TYPE
INJECT_ACKNOWLEDGED = InjectAcknowledged.TYPE
MESSAGE = Message.TYPE  # delivered at once to every reader of its channel
MESSAGE_SENT = MessageSent.TYPE  # on its way: with the intermediary, or held by a channel delay
MESSAGE_RELAYED = MessageRelayed.TYPE  # the intermediary forwarded, edited, held or declined it
MESSAGE_DELIVERED = MessageDelivered.TYPE  # reached the readers after a relay or a delay
MESSAGE_JAMMED = MessageJammed.TYPE  # the channel was jammed: delivered to nobody
RELAY_NOTE = RelayNote.TYPE  # the intermediary to one half of a relay channel
MESSAGE_READ_BACK = MessageReadBack.TYPE  # the receiver read a relayed message back
CHANNEL_JAMMED = ChannelJammed.TYPE
CHANNEL_CLEARED = ChannelCleared.TYPE
CHANNEL_OPENED = ChannelOpened.TYPE
CHANNEL_CLOSED = ChannelClosed.TYPE
MOVE_STARTED = MoveStarted.TYPE
MOVE_ENDED = MoveEnded.TYPE
DECISION_MADE = DecisionMade.TYPE
ESCALATION_CHANGED = EscalationChanged.TYPE
NOTE = Note.TYPE
OBSERVATION = Observation.TYPE
FEEDBACK = Feedback.TYPE
IMPROVEMENT_PLAN = ImprovementPlan.TYPE  # the facilitator's improvement-plan table for the report
KEY_FINDINGS = KeyFindings.TYPE  # the facilitator's key findings for the report's summary
INJECT_CANCELLED = InjectCancelled.TYPE  # an `unless` held when the inject fell due
CHOICE_MADE = ChoiceMade.TYPE  # a choice released one of its alternatives, or none
PERSONA_POSTED = PersonaPosted.TYPE  # control posted on a public channel as a persona
ASSESSMENT = Assessment.TYPE  # a team's answer to a key question, with its confidence
AI_DISCLOSURE = AIDisclosure.TYPE  # whether players are told which seats added later are AI

# Groups of event types (exported to the pages by static/js/events.js).
#: Events that move the exercise clock: pages apply them to their clock.
CLOCK_EVENTS = (CLOCK_STARTED, CLOCK_PAUSED, CLOCK_RESUMED, SPEED_CHANGED, SESSION_ENDED, MOVE_STARTED, MOVE_ENDED)
#: Events that change whether a channel carries messages: pages show the change and ask for their channel list again.
CHANNEL_EVENTS = (CHANNEL_OPENED, CHANNEL_CLOSED, CHANNEL_JAMMED, CHANNEL_CLEARED)
#: Events that change control's state summary (inject statuses, escalation, clock): the console asks for it again.
SUMMARY_EVENTS = (
    INJECT_RELEASED,
    INJECT_HELD,
    INJECT_UNHELD,
    INJECT_SKIPPED,
    INJECT_MOVED,
    INJECT_WRITTEN,
    INJECT_CANCELLED,
    CHOICE_MADE,
    DECISION_MADE,
    ESCALATION_CHANGED,
    *CLOCK_EVENTS,
    *CHANNEL_EVENTS,
)
#: Events a participant wrote (or control spoofed) on a channel or in team chat, or its delivery.
MESSAGE_EVENTS = (MESSAGE, MESSAGE_SENT, MESSAGE_DELIVERED, MESSAGE_JAMMED, RELAY_NOTE, MESSAGE_READ_BACK)
GROUPS = {
    "CLOCK_EVENTS": CLOCK_EVENTS,
    "SUMMARY_EVENTS": SUMMARY_EVENTS,
    "MESSAGE_EVENTS": MESSAGE_EVENTS,
    "CHANNEL_EVENTS": CHANNEL_EVENTS,
}

#: Fields that only control (the facilitators) ever sees.
CONTROL_ONLY_FIELDS = {"notes", "spoofed", "spoofed_by"}
#: Events whose payload names the sending participant.
MESSAGE_TYPES = set(MESSAGE_EVENTS)


# ============================================================== the mapper
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
#: (type, from_version) -> a function taking that version's JSON and returning the next version's.
#: Stored rows carry no version yet: every row written so far is version 1. The first change of a
#: payload's shape: bump the class's VERSION to 2, register UPCASTERS[(type, 1)] (old JSON -> new
#: JSON), and add a `version` column to the events table (null meaning 1) that `Store` passes to
#: `from_json`. `from_json` applies the chain up to the class's VERSION; `check_upcasters` (run at
#: import) fails when a step of a chain is missing.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class BadEvent(ValueError):
    """A stored event this code cannot read: an unknown type or a payload that does not fit its class."""


def from_json(type: str, data: Mapping[str, Any], *, version: int = 1, seq: int | None = None) -> Payload:
    """The typed payload of a stored (or received) event: upcast to the newest version, then checked."""
    where = f"event {seq} ({type})" if seq is not None else f"event '{type}'"
    cls = EVENT_TYPES.get(type)
    if cls is None:
        raise BadEvent(f"{where}: unknown event type (known: {', '.join(sorted(EVENT_TYPES))})")
    body = data
    while version < cls.VERSION:
        body = UPCASTERS[(type, version)](dict(body))
        version += 1
    try:
        return cls.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in e['loc']) or 'payload'}: {e['msg']}" for e in exc.errors(include_url=False)[:5]
        )
        raise BadEvent(f"{where}: the payload does not fit {cls.__name__}: {problems}") from None


def check_upcasters() -> None:
    for name, cls in EVENT_TYPES.items():
        missing = [v for v in range(1, cls.VERSION) if (name, v) not in UPCASTERS]
        if missing:
            raise TypeError(f"{cls.__name__} is version {cls.VERSION} but has no upcaster from version {missing}")


check_upcasters()


def _typed(type: str, payload: Payload | Mapping[str, Any], seq: int | None = None) -> Payload:
    if isinstance(payload, Payload):
        if type != payload.TYPE:
            raise BadEvent(f"event '{type}' given a {payload.__class__.__name__} payload")
        return payload
    return from_json(type, payload, seq=seq)


# ============================================================== events
@dataclass(frozen=True)
class NewEvent:
    """An event the engine wants appended; the store gives it its sequence number.

    `payload` is a typed payload (a dict is accepted and mapped by `from_json`: for tests and old callers);
    `NewEvent.of(payload, ...)` takes the type from the payload's class.
    """

    type: str
    payload: Payload
    audience: tuple[str, ...] = ()  # team ids or seats (team/position); () = control only; (ALL,) = every team
    t: float = 0.0  # exercise seconds when it happened
    actor: int | None = None  # participant id
    claim: str | None = None  # unique per session: at most one event ever carries it
    client_id: str | None = None  # the sender's id for idempotent sends

    def __post_init__(self) -> None:
        if not isinstance(self.payload, Payload) or self.type != self.payload.TYPE:
            object.__setattr__(self, "payload", _typed(self.type, self.payload))

    @classmethod
    def of(
        cls,
        payload: Payload,
        audience: tuple[str, ...] = (),
        t: float = 0.0,
        actor: int | None = None,
        claim: str | None = None,
        client_id: str | None = None,
    ) -> NewEvent:
        return cls(payload.TYPE, payload, tuple(audience), t, actor, claim, client_id)


@dataclass(frozen=True)
class Event:
    """An event as stored: with its sequence number and wall time.

    `payload` is the typed payload (a dict is accepted and mapped by `from_json`).
    """

    seq: int
    type: str
    payload: Payload
    audience: tuple[str, ...]
    t: float
    wall: float
    actor: int | None = None
    client_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.payload, Payload) or self.type != self.payload.TYPE:
            object.__setattr__(self, "payload", _typed(self.type, self.payload, self.seq))

    @cached_property
    def payload_json(self) -> dict[str, Any]:
        """The payload as stored and sent (computed once per event; do not change it)."""
        return self.payload.to_json()

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "type": self.type,
            "t": round(self.t, 3),
            "wall": self.wall,
            "audience": list(self.audience),
            "payload": self.payload_json,
        }


@dataclass(frozen=True)
class Viewer:
    """Who is looking: control, a player of one team, or an observer of some teams."""

    kind: str  # control | player | observer
    team: str | None = None
    teams: frozenset[str] = field(default_factory=frozenset)
    participant: int | None = None
    position: str | None = None  # a player's seat: events whose audience names seats (engine/access.py)

    @property
    def sees_teams(self) -> frozenset[str]:
        if self.kind == "player" and self.team:
            return frozenset({self.team})
        return self.teams


def visible(event: Event, viewer: Viewer) -> bool:
    """Whether a viewer may see an event at all: control always; players when the audience names their
    team, or their seat (`team/position`, see engine/access.py); observers when it names a team they
    watch, or a seat of one (observers see every channel whatever its `read` list)."""
    if viewer.kind == "control":
        return True
    audience = event.audience
    if ALL in audience:
        return True
    if viewer.participant is not None and event.actor == viewer.participant:
        return True  # one's own observations and feedback
    if viewer.kind == "player":
        if viewer.team is None:
            return False
        return viewer.team in audience or (
            viewer.position is not None and f"{viewer.team}{SEAT}{viewer.position}" in audience
        )
    teams = viewer.sees_teams
    return any(entry.partition(SEAT)[0] in teams for entry in audience)


def redact(event: Event, viewer: Viewer, exercise: Exercise) -> dict[str, Any] | None:
    """The event as this viewer may see it (its JSON), or None. `exercise` is the session's script:
    what each side of a relay channel is told follows the channel's `receiver_sees` and `sender_learns`."""
    if not visible(event, viewer):
        return None
    data = event.as_dict()
    if viewer.kind == "control":
        return data
    payload = {k: v for k, v in data["payload"].items() if k not in CONTROL_ONLY_FIELDS}
    if event.type in MESSAGE_TYPES and payload.get("participant") != viewer.participant:
        # Whose seat sent it is shown only to the sender: a spoofed message looks like any other.
        payload.pop("participant", None)
    if event.type == INJECT_RELEASED and viewer.kind == "player":
        # The escalation bookkeeping is control's instrument.
        payload.pop("expect", None)
        payload.pop("effects", None)
        payload.pop("source", None)  # the script's citation: facilitators, observers and the report
        if payload.get("decision"):
            options = [
                {k: v for k, v in o.items() if k not in ("escalation", "level")} for o in payload["decision"]["options"]
            ]
            payload["decision"] = {**payload["decision"], "options": options}
    if event.type == DECISION_MADE and viewer.kind == "player":
        payload.pop("escalation", None)
    if event.type == PARTICIPANT_JOINED and viewer.kind == "player" and not (payload.get("ai") or {}).get("told", True):
        payload.pop("ai", None)  # an AI seat players are not told about (docs/ai-seats.md)
    if event.type in RELAY_DISCLOSED and viewer.kind == "player":
        told = disclosed(event.type, payload, viewer.team, exercise)
        if told is None:
            return None
        payload = told
    data["payload"] = payload
    data.pop("audience", None)
    return data


# ============================================================== relay disclosure
#: Events whose payload a player sees according to the relay channel's `receiver_sees` and `sender_learns`.
RELAY_DISCLOSED = {MESSAGE_RELAYED, MESSAGE_DELIVERED, MESSAGE_READ_BACK}
#: What the sender's team may be sent of each: the rest of the payload is never sent to it.
SENDER_KEYS = {
    MESSAGE_RELAYED: ("message", "channel", "relay", "from_team", "action", "by", "waited", "delay"),
    MESSAGE_DELIVERED: ("message", "channel", "from_team"),
    MESSAGE_READ_BACK: ("message", "channel", "relay", "team", "sender"),
}
#: What a receiving team is not sent of a delivered message's origin, per `receiver_sees`.
HIDDEN_ORIGIN = {
    "via": ("from_team", "from_position", "name", "participant"),
    "team": ("from_position", "name", "participant"),
    "position": ("name", "participant"),
}
#: The news a relay action is to the sender (`sender_learns` values).
RELAY_NEWS = {"forward": "forwarded", "edit": "forwarded", "hold": "held", "decline": "declined"}


def _relay_channel(exercise: Exercise, channel_id: Any) -> Channel | None:
    channel = next((c for c in exercise.channels if c.id == channel_id), None)
    return channel if channel is not None and channel.kind == "relay" else None


def disclosed(kind: str, payload: dict[str, Any], team: str | None, exercise: Exercise) -> dict[str, Any] | None:
    """What a player of `team` is sent of a relay event's payload (already without control-only
    fields), or None when the script says its side is not told. The intermediary sees it all; the
    sender's team learns only the news its channel's `sender_learns` lists, and never the text the
    intermediary passed on nor that it changed it, unless `forwarded_with_changes` is listed; the
    receiving team sees the origin of a delivered message only as far as `receiver_sees` says."""
    channel = _relay_channel(exercise, payload.get("channel"))
    if channel is None or team == channel.relay:
        return payload  # a delayed direct or broadcast channel: nothing is relayed
    sender = payload.get("sender") if kind == MESSAGE_READ_BACK else payload.get("from_team")
    if team == sender:
        if kind == MESSAGE_RELAYED:
            return _relayed_to_sender(payload, channel)
        if not channel.sender_told("delivered"):
            return None  # a read-back tells that it was delivered: both go with `delivered`
        return {k: v for k, v in payload.items() if k in SENDER_KEYS[kind]}
    if kind == MESSAGE_DELIVERED:
        hidden = HIDDEN_ORIGIN[channel.receiver_sees]
        shown = {k: v for k, v in payload.items() if k not in hidden}
        if channel.receiver_sees == "position" and payload.get("from_position"):
            shown["from_title"] = _title(exercise, payload["from_position"])
        return shown
    if kind == MESSAGE_READ_BACK and team == payload.get("team"):
        return payload  # the reading team's own read-back
    return None  # no other team is in these events' audience: should one be, it learns nothing


def _relayed_to_sender(payload: dict[str, Any], channel: Channel) -> dict[str, Any] | None:
    """A relay action as the sender's team is told it: an edit that changed the text is
    `forwarded_with_changes` when listed (with the text passed on), else a plain `forwarded`."""
    action = payload.get("action", "")
    if action == "edit" and payload.get("edited") and channel.sender_told("forwarded_with_changes"):
        return {k: v for k, v in payload.items() if k in (*SENDER_KEYS[MESSAGE_RELAYED], "text", "edited")}
    if not channel.sender_told(RELAY_NEWS.get(action, action)):
        return None
    shown = {k: v for k, v in payload.items() if k in SENDER_KEYS[MESSAGE_RELAYED]}
    if action == "edit":
        shown["action"] = "forward"  # that the intermediary touched the text is not the sender's to know
    return shown


def _title(exercise: Exercise, position_id: str) -> str:
    try:
        return exercise.position(position_id)[1].title
    except KeyError:
        return position_id
