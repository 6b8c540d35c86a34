"""The exercise script, formats 1 and 2, as immutable typed models.

These models are the contract of `shared/exercise-format.md` (format 1) and of
`docs/exercise-format.md` (format 2 adds moves, conditions, choices, channel access, escalation
rungs, hotwash questions, personas and a base file). They check the shape of each field; rules
that span several fields (references, duplicates, cycles, what needs format 2) live in
`checks.py`. Durations and offsets are held as whole seconds.

Fields added by format 2 are left out of a snapshot while they hold their default, so that the
snapshot of a format-1 script is exactly what it always was.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    Strict,
    StringConstraints,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    model_serializer,
    model_validator,
)

from .durations import DURATION_RE, OFFSET_RE, parse_duration, parse_offset

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
Id = Annotated[str, Strict(), StringConstraints(pattern=ID_PATTERN, max_length=64)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Markdown = Annotated[str, StringConstraints(max_length=20_000)]
ShortText = Annotated[str, StringConstraints(max_length=2_000)]
FilePath = Annotated[str, StringConstraints(min_length=1, max_length=300)]
FORMATS = (1, 2)
TEAM_CHANNEL = "team"  # the id of every team's private chat (declared by no script)
MAX_CONDITION_DEPTH = 5


def _stored(value: object, info: ValidationInfo) -> bool:
    """A snapshot written by the platform holds seconds, not duration strings."""
    return bool(info.context and info.context.get("stored")) and isinstance(value, int) and not isinstance(value, bool)


def _duration(value: object, info: ValidationInfo) -> object:
    return value if _stored(value, info) else parse_duration(value)


def _offset(value: object, info: ValidationInfo) -> object:
    return value if _stored(value, info) else parse_offset(value)


Duration = Annotated[
    int,
    BeforeValidator(_duration),
    WithJsonSchema(
        {"type": "string", "pattern": "^(?=.)" + DURATION_RE.pattern[1:], "examples": ["90s", "15m", "1h30m"]}
    ),
]
Offset = Annotated[
    int,
    BeforeValidator(_offset),
    WithJsonSchema({"type": "string", "pattern": OFFSET_RE.pattern, "examples": ["+00:15", "+01:05:30"]}),
]


def _to_list(value: object) -> object:
    """`to: all` or `to: us` are shorthands for a list."""
    return [value] if isinstance(value, str) else value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("the scenario start needs a UTC offset, e.g. 2019-06-20T04:05:00+04:00")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
TimeScale = Annotated[float, Field(gt=0, le=10_000, description="scenario seconds per exercise second")]

Recipients = Annotated[
    tuple[str, ...],
    BeforeValidator(_to_list),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "string", "pattern": ID_PATTERN, "description": "a team id, or all"},
                {"type": "array", "items": {"type": "string", "pattern": ID_PATTERN}, "minItems": 1},
            ]
        }
    ),
]
Medium = Literal["news", "intel", "email", "phone", "radio", "order", "social", "other"]
ChannelKind = Literal["direct", "relay", "broadcast"]
ReceiverSees = Literal["team", "position", "via"]
SenderNews = Literal["forwarded", "forwarded_with_changes", "held", "declined", "delivered"]
SENDER_LEARNS_DEFAULT: tuple[SenderNews, ...] = ("forwarded", "held", "declined", "delivered")
QuestionKind = Literal["text", "scale"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, coerce_numbers_to_str=True)


class Grown(Model):
    """A model of format 1 that format 2 gave new fields: those are not dumped while at their default."""

    format2_fields: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _without_format2_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            fields = type(self).model_fields
            for name in self.format2_fields:
                if getattr(self, name) == fields[name].get_default(call_default_factory=True):
                    data.pop(name, None)
        return data


class Scenario(Model):
    """In-game time: what players see as the date and time (one clock for the whole exercise)."""

    start: AwareDatetime
    time_scale: TimeScale = 1.0


class Move(Model):
    """A part of the exercise with its own scenario clock (format 2).

    A move runs from its `at` to the next move's `at`. Its scenario clock starts at
    `scenario_start` (or, without one, runs on from the previous move's clock) and runs at
    `time_scale`. With `stop_clock`, the exercise clock stops when it reaches the move's `at`, and
    the facilitator starts the move (and releases what is due at its start).
    """

    id: Id
    title: Name
    at: Offset
    scenario_start: AwareDatetime | None = None
    time_scale: TimeScale = 1.0
    stop_clock: bool = Field(True, description="default: false for the first move, true for every later one")


class Objective(Model):
    id: Id
    text: ShortText
    capability: Name | None = None


class Position(Model):
    id: Id
    title: Name
    authority: int = Field(1, ge=0, le=100)


class Team(Model):
    id: Id
    name: Name
    brief: Markdown = ""
    intermediary: bool = False
    positions: tuple[Position, ...] = Field(min_length=1)


class Channel(Grown):
    format2_fields: ClassVar[tuple[str, ...]] = ("initially", "receiver_sees", "sender_learns")

    id: Id
    name: Name
    kind: ChannelKind
    members: tuple[Id, ...] = Field(min_length=1)
    relay: Id | None = None
    delay: Duration = 0
    min_authority: int = Field(1, ge=0, le=100)
    # Format 2: who may use it, whether it starts open, what each side of a relay is told.
    read: tuple[Id, ...] | None = Field(None, min_length=1, max_length=200)
    write: tuple[Id, ...] | None = Field(None, min_length=1, max_length=200)
    initially: Literal["open", "closed"] = "open"
    receiver_sees: ReceiverSees = "via"
    sender_learns: tuple[SenderNews, ...] = Field(SENDER_LEARNS_DEFAULT, max_length=5)

    def sender_told(self, news: SenderNews) -> bool:
        """Whether the sender of a relayed message is told this about it."""
        return news in self.sender_learns


#: A change of the escalation level, added to it.
Delta = Annotated[int, Field(ge=-100, le=100)]


def place(
    level: int, *, to: int | None = None, by: int | None = None, at_least: int | None = None, at_most: int | None = None
) -> int:
    """Where an escalation effect leaves the level (the one rule for inject effects and options).

    `to` sets it. Otherwise the level moves `by` N (0 if left out) and is kept between `at_least` and
    `at_most`; without `by` the bounds place it (raise it to `at_least`, lower it to `at_most`); with
    `by` they bound the move and never turn it round: a rise capped at 3 leaves a level of 5 at 5, a
    fall floored at 1 leaves a level of 0 at 0."""
    if to is not None:
        return to
    found = level + (by or 0)
    if at_least is not None:
        found = max(found, at_least)
    if at_most is not None:
        found = min(found, at_most)
    if by is not None and by > 0:
        found = max(found, level)
    elif by is not None and by < 0:
        found = min(found, level)
    return found


class LevelChange(Model):
    """`escalation: {to: N}`, `{at_least: N}`, `{at_most: N}` or `{by: N, at_most: M}` (format 2): an effect
    or an option that places the escalation level on the ladder, where a number only adds to it (see
    `place`)."""

    to: int | None = Field(None, ge=-1000, le=1000)
    by: int | None = Field(None, ge=-100, le=100)
    at_least: int | None = Field(None, ge=-1000, le=1000)
    at_most: int | None = Field(None, ge=-1000, le=1000)

    @model_validator(mode="after")
    def _one_reading(self) -> LevelChange:
        given = [k for k in ("to", "by", "at_least", "at_most") if getattr(self, k) is not None]
        if not given:
            raise ValueError("an escalation mapping needs to, at_least, at_most or by")
        if self.to is not None and len(given) > 1:
            raise ValueError("'to' sets the level: write it alone, without by, at_least or at_most")
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError(f"at_least {self.at_least} is above at_most {self.at_most}")
        return self

    def apply(self, level: int) -> int:
        return place(level, to=self.to, by=self.by, at_least=self.at_least, at_most=self.at_most)

    def words(self) -> str:
        """`to 4`, `at least 4`, `+1, at most 3`."""
        if self.to is not None:
            return f"to {self.to}"
        parts = [f"{self.by:+d}"] if self.by else []
        if self.at_least is not None:
            parts.append(f"at least {self.at_least}")
        if self.at_most is not None:
            parts.append(f"at most {self.at_most}")
        return ", ".join(parts)


def _escalation_kind(value: Any) -> str:
    return "mapping" if isinstance(value, dict | LevelChange) else "number"


#: `escalation:` of an option or an effect: a number added to the level, or a mapping that places it.
EscalationChange = Annotated[
    Annotated[Delta, Tag("number")] | Annotated[LevelChange, Tag("mapping")], Discriminator(_escalation_kind)
]


class Option(Model):
    """`escalation` is a number added to the level, or (format 2) a `LevelChange` mapping; read the
    number as `escalation` (0 for a mapping) and the mapping as `level`."""

    id: Id
    label: Name
    escalation_change: EscalationChange = Field(0, alias="escalation")

    @property
    def escalation(self) -> int:
        """The number added to the level (0 when the option places it with a mapping)."""
        return self.escalation_change if isinstance(self.escalation_change, int) else 0

    @property
    def level(self) -> LevelChange | None:
        return self.escalation_change if isinstance(self.escalation_change, LevelChange) else None

    @property
    def score(self) -> int:
        """Which way the option moves the level, for comparing options: the number, or a mapping's `by`,
        else 1 for one that raises it (`at_least`), -1 for one that lowers it (`at_most`), 0 for `to`."""
        change = self.level
        if change is None:
            return self.escalation
        if change.by is not None:
            return change.by
        return 1 if change.at_least is not None else -1 if change.at_most is not None else 0


class Decision(Model):
    prompt: ShortText
    by: tuple[Id, ...] = ()
    deadline: Duration | None = None
    default: Id | None = None
    options: tuple[Option, ...] = Field(min_length=1)


class Trigger(Model):
    """`{decision: ID, option: ID}` or `{inject: ID}`."""

    decision: Id | None = None
    option: Id | None = None
    inject: Id | None = None


class Jam(Model):
    channel: Id
    for_: Duration = Field(alias="for")


class ChannelChange(Model):
    """`{id: CHANNEL, action: open | close}` (format 2)."""

    id: Id
    action: Literal["open", "close"]


class Effect(Model):
    """One of `jam: {channel, for}`, `escalation: N` (or, format 2, `escalation: {to | by | at_least |
    at_most}`: a `LevelChange`) or (format 2) `channel: {id, action}`. The number is `escalation` (None
    for a mapping), the mapping `level`."""

    jam: Jam | None = None
    escalation_change: EscalationChange | None = Field(None, alias="escalation")
    channel: ChannelChange | None = None

    @property
    def escalation(self) -> int | None:
        """The number added to the level (None without one, or when a mapping places it)."""
        return self.escalation_change if isinstance(self.escalation_change, int) else None

    @property
    def level(self) -> LevelChange | None:
        return self.escalation_change if isinstance(self.escalation_change, LevelChange) else None


# --- conditions (format 2) -----------------------------------------------------------------


class NoMessage(Model):
    """Team has sent nothing on channel within `within` after inject `after` was released (or the start)."""

    team: Id
    channel: Id
    within: Duration
    after: Id | None = None


class NoAck(Model):
    """Inject was not acknowledged within `within` of its release (by `team`, or by every recipient team)."""

    inject: Id
    team: Id | None = None
    within: Duration


class NoDecision(Model):
    """The decision of inject was not taken within `within` of its release."""

    inject: Id
    within: Duration


class Level(Model):
    """The escalation level is at least / at most a number (one or both)."""

    at_least: int | None = Field(None, ge=-1000, le=1000)
    at_most: int | None = Field(None, ge=-1000, le=1000)


class OptionTaken(Model):
    """The decision of inject `decision` was taken with `option`."""

    decision: Id
    option: Id


ConditionKind = Literal["no_message", "no_ack", "no_decision", "escalation", "option", "all", "any"]
CONDITION_KINDS: tuple[ConditionKind, ...] = (
    "no_message",
    "no_ack",
    "no_decision",
    "escalation",
    "option",
    "all",
    "any",
)


class Condition(Model):
    """Exactly one of its fields is set (the loader checks it); `all` and `any` combine conditions."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})

    no_message: NoMessage | None = None
    no_ack: NoAck | None = None
    no_decision: NoDecision | None = None
    escalation: Level | None = None
    option: OptionTaken | None = None
    all: tuple[Condition, ...] | None = Field(None, min_length=1, max_length=20)
    any: tuple[Condition, ...] | None = Field(None, min_length=1, max_length=20)

    @property
    def kind(self) -> ConditionKind:
        return next(k for k in CONDITION_KINDS if getattr(self, k) is not None)

    @property
    def parts(self) -> tuple[Condition, ...]:
        """The conditions an `all` or `any` combines (empty for the others)."""
        return self.all or self.any or ()

    def walk(self) -> Iterator[Condition]:
        """This condition and every condition inside it, depth first."""
        yield self
        for part in self.parts:
            yield from part.walk()

    def injects(self) -> tuple[str, ...]:
        """The inject ids the condition refers to (in order, once each)."""
        found: dict[str, None] = {}
        for c in self.walk():
            for ref in (
                c.no_message.after if c.no_message else None,
                c.no_ack.inject if c.no_ack else None,
                c.no_decision.inject if c.no_decision else None,
                c.option.decision if c.option else None,
            ):
                if ref is not None:
                    found[ref] = None
        return tuple(found)


class Choice(Model):
    """One entry of `choose`: `{when: CONDITION, inject: ID}`, or `{otherwise: ID}` last."""

    when: Condition | None = None
    inject: Id | None = None
    otherwise: Id | None = None

    @property
    def target(self) -> str:
        """The inject this entry releases."""
        return self.inject if self.inject is not None else self.otherwise or ""


def _bot_line(value: object) -> object:
    """A plain string in `rehearsal:` is a line any recipient may say."""
    return {"text": value} if isinstance(value, str) else value


class BotLine(Model):
    """A line a rehearsal bot may say in answer to the inject (format 2, field `rehearsal`): by any
    recipient team on any channel it may use, or only by `team`, only on `channel` (`team` is the
    team chat); with `option`, the rationale a bot gives when it picks that option of the inject's
    decision."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=2_000)]
    team: Id | None = None
    channel: Id | None = None
    option: Id | None = None


BOT_LINE_SCHEMA = {
    "oneOf": [
        {"type": "string", "minLength": 1, "maxLength": 2000, "description": "a line any recipient may say"},
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["text"],
            "properties": {
                "text": {"type": "string", "minLength": 1, "maxLength": 2000},
                "team": {"type": "string", "pattern": ID_PATTERN},
                "channel": {"type": "string", "pattern": ID_PATTERN},
                "option": {"type": "string", "pattern": ID_PATTERN},
            },
        },
    ]
}
RehearsalLine = Annotated[BotLine, BeforeValidator(_bot_line), WithJsonSchema(BOT_LINE_SCHEMA)]


class Inject(Grown):
    format2_fields: ClassVar[tuple[str, ...]] = ("fiction", "source", "choose", "rehearsal", "incident")

    id: Id
    at: Offset | None = None
    trigger: Trigger | None = None
    delay: Duration = 0
    to: Recipients = ()
    from_: Name | None = Field(None, alias="from")
    medium: Medium = "other"
    title: Name
    body: Markdown = ""
    attachments: tuple[FilePath, ...] = ()
    expect: ShortText = ""
    objectives: tuple[Id, ...] = ()
    notes: Markdown = ""
    ack: bool = False
    decision: Decision | None = None
    effects: tuple[Effect, ...] = ()
    # Format 2.
    fiction: bool = False
    source: ShortText = ""
    move: Id | None = None
    when: Condition | None = None
    unless: Condition | None = None
    choose: tuple[Choice, ...] = Field((), max_length=20)
    rehearsal: tuple[RehearsalLine, ...] = Field((), max_length=100)
    incident: bool = Field(False, description="starts the report's contact-time clocks (format 2)")

    @property
    def release(self) -> Literal["timed", "triggered", "conditional", "contingency"]:
        """How it is released: `at`, `trigger`, `when`, or by hand (alternatives of a choice are released
        by their choice; see `Exercise.choice_of`)."""
        if self.at is not None:
            return "timed"
        if self.trigger is not None:
            return "triggered"
        if self.when is not None:
            return "conditional"
        return "contingency"

    @property
    def is_choice(self) -> bool:
        """A slot that releases one of its alternatives instead of content of its own."""
        return bool(self.choose)


class Rung(Model):
    level: int = Field(ge=-1000, le=1000)
    name: Name
    description: ShortText = ""


class Escalation(Model):
    """The escalation ladder: the level play starts at and the names of its rungs (format 2)."""

    start: int = Field(0, ge=-1000, le=1000)
    rungs: tuple[Rung, ...] = Field((), max_length=50)

    def rung(self, level: int) -> Rung | None:
        """The rung a level stands on: the highest rung at or below it (None below the lowest)."""
        found = None
        for rung in self.rungs:
            if rung.level <= level:
                found = rung
        return found


class Question(Model):
    id: Id
    text: Annotated[str, StringConstraints(min_length=1, max_length=2_000)]
    kind: QuestionKind = "text"


class Hotwash(Model):
    """The script's own hotwash questions (format 2)."""

    questions: tuple[Question, ...] = Field((), max_length=30)


KeyQuestionKind = Literal["choice", "position", "number", "text"]


class KeyQuestion(Model):
    """A question control knows the answer to, put to the teams during play (format 2): each team's
    answer and confidence are its picture, set beside `truth` on the console, the tape and the report.

    `kind`: `choice` (one of `options`), `position` ("LAT, LON" in decimal degrees), `number`, `text`.
    `truth` is control's ground truth, never sent to players. `ask_at`: the injects whose release
    prompts the teams that receive them. `tolerance`: the error that counts as entirely wrong (a
    number's units; kilometres for a position; default: the truth's size, or 100 km).
    """

    id: Id
    question: Annotated[str, StringConstraints(min_length=1, max_length=2_000)]
    kind: KeyQuestionKind = "choice"
    options: tuple[Annotated[str, StringConstraints(min_length=1, max_length=200)], ...] = Field((), max_length=20)
    truth: float | Annotated[str, StringConstraints(max_length=2_000)] | None = None
    ask_at: tuple[Id, ...] = Field((), max_length=50)
    teams: tuple[Id, ...] = Field((), description="the teams asked (default: every team)")
    tolerance: Annotated[float, Field(gt=0, le=1e9)] | None = None


ResearchAnswer = Literal[
    "first_contact",
    "first_answer",
    "relay_fidelity",
    "rank_pairing",
    "decisions_informed",
    "peak_escalation",
    "public_signals",
    "line_share",
]
RESEARCH_ANSWERS: tuple[ResearchAnswer, ...] = get_args(ResearchAnswer)


class ResearchQuestion(Model):
    """A question the sponsor asks of the exercise (format 2), answered in the report's executive
    summary by the measure `answer` names, computed from the log (see docs/report.md)."""

    id: Id
    question: Annotated[str, StringConstraints(min_length=1, max_length=2_000)]
    answer: ResearchAnswer


class Benchmarks(Model):
    """What the report compares play with (format 2): scenario-time spans after an incident."""

    first_contact: Duration | None = Field(None, description="incident to the first message delivered through the line")
    first_answer: Duration | None = Field(None, description="incident to the first answer back delivered")


class Persona(Model):
    """A named voice of the public feed: a news agency, a president's account (format 2)."""

    id: Id
    name: Name
    team: Id | None = None
    description: ShortText = ""


def _find(items: tuple[Any, ...], ident: str) -> Any:
    """The item with this id; KeyError when there is none."""
    for item in items:
        if item.id == ident:
            return item
    raise KeyError(ident)


class Exercise(Grown):
    format2_fields: ClassVar[tuple[str, ...]] = (
        "moves",
        "escalation",
        "hotwash",
        "personas",
        "key_questions",
        "research_questions",
        "benchmarks",
    )

    format: Literal[1, 2]
    base: FilePath | None = None
    id: Id
    title: Name
    summary: Markdown = ""
    classification: Annotated[str, StringConstraints(max_length=200)] = ""
    duration: Duration = 3600
    scenario: Scenario | None = None
    moves: tuple[Move, ...] = Field((), max_length=50)
    objectives: tuple[Objective, ...] = ()
    teams: tuple[Team, ...] = Field(min_length=2)
    channels: tuple[Channel, ...] = ()
    personas: tuple[Persona, ...] = ()
    escalation: Escalation = Escalation()
    hotwash: Hotwash = Hotwash()
    key_questions: tuple[KeyQuestion, ...] = Field((), max_length=30)
    research_questions: tuple[ResearchQuestion, ...] = Field((), max_length=30)
    benchmarks: Benchmarks = Benchmarks()
    injects: tuple[Inject, ...] = ()

    _anchors: tuple[datetime | None, ...] = PrivateAttr(default=())
    _clocks: tuple[Scenario | None, ...] = PrivateAttr(default=())
    _starts: tuple[int, ...] = PrivateAttr(default=())
    _choice_of: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _first_move_runs_on(cls, data: Any) -> Any:
        """`stop_clock` defaults to false for the first move (the exercise starts with it)."""
        if isinstance(data, dict):
            moves = data.get("moves")
            if isinstance(moves, list) and moves and isinstance(moves[0], dict) and "stop_clock" not in moves[0]:
                data = {**data, "moves": [{**moves[0], "stop_clock": False}, *moves[1:]]}
        return data

    def model_post_init(self, context: Any) -> None:
        anchors: list[datetime | None] = []
        for n, move in enumerate(self.moves):
            if move.scenario_start is not None or n == 0:
                anchors.append(move.scenario_start)
            else:
                before, start = self.moves[n - 1], anchors[-1]
                anchors.append(
                    None if start is None else start + timedelta(seconds=(move.at - before.at) * before.time_scale)
                )
        self._anchors = tuple(anchors)
        self._starts = tuple(move.at for move in self.moves)
        self._clocks = tuple(
            None
            if start is None
            else Scenario(start=start - timedelta(seconds=move.at * move.time_scale), time_scale=move.time_scale)
            for move, start in zip(self.moves, anchors, strict=True)
        )
        self._choice_of = {c.target: inject.id for inject in self.injects for c in inject.choose}

    # Look-ups used by the engine, the tools and the report.
    def team(self, team_id: str) -> Team:
        return _find(self.teams, team_id)

    def position(self, position_id: str) -> tuple[Team, Position]:
        for team in self.teams:
            for position in team.positions:
                if position.id == position_id:
                    return team, position
        raise KeyError(position_id)

    def channel(self, channel_id: str) -> Channel:
        return _find(self.channels, channel_id)

    def inject(self, inject_id: str) -> Inject:
        return _find(self.injects, inject_id)

    def persona(self, persona_id: str) -> Persona:
        return _find(self.personas, persona_id)

    def move(self, move_id: str) -> Move:
        return _find(self.moves, move_id)

    def key_question(self, question_id: str) -> KeyQuestion:
        return _find(self.key_questions, question_id)

    def recipients(self, inject: Inject) -> tuple[str, ...]:
        """The team ids an inject goes to (`all` expanded)."""
        return tuple(t.id for t in self.teams) if "all" in inject.to else inject.to

    def choice_of(self, inject_id: str) -> Inject | None:
        """The choice (slot) whose alternatives include this inject, if any."""
        slot = self._choice_of.get(inject_id)
        return None if slot is None else self.inject(slot)

    # Moves and the scenario clock.
    def _move_index(self, seconds: float) -> int:
        """The index of the move an offset falls in (0 before the first move's start); moves exist."""
        return max(bisect_right(self._starts, seconds) - 1, 0)

    def move_at(self, seconds: float) -> Move | None:
        """The move an exercise offset falls in (a move runs from its `at` up to the next move's);
        None for a script without moves."""
        return self.moves[self._move_index(seconds)] if self.moves else None

    def move_anchor(self, move: Move) -> datetime | None:
        """The scenario time at the start of a move: its `scenario_start`, or where the previous
        move's clock stands at its `at`; None without a scenario date."""
        return self._anchors[self.moves.index(move)]

    def clock_at(self, seconds: float | None) -> Scenario | None:
        """The scenario clock in force at an exercise offset, as a `Scenario` (start at exercise
        time zero, and time scale) that every function of `times.py` taking a scenario accepts:
        the script's `scenario` without moves, the offset's move's clock with them."""
        if not self.moves:
            return self.scenario
        return self._clocks[self._move_index(seconds or 0)]

    def scenario_at(self, seconds: float | None) -> datetime | None:
        """The in-game moment at an exercise offset; None without a scenario date or an offset."""
        if seconds is None:
            return None
        clock = self.clock_at(seconds)
        return None if clock is None else clock.start + timedelta(seconds=seconds * clock.time_scale)

    def clock_stops(self) -> tuple[int, ...]:
        """The exercise offsets where the clock stops for a plenary (the starts of moves with `stop_clock`)."""
        return tuple(m.at for m in self.moves if m.stop_clock)

    # Who may use a channel (format 2 lists, beside membership and min_authority).
    def can_read(self, channel: Channel, position_id: str) -> bool:
        """Whether a position sees a channel. Without `read`: every position of a team that can see it
        (its members, its relay team; every team for a broadcast). With `read`: the positions in `read`
        or in `write`."""
        try:
            team, _ = self.position(position_id)
        except KeyError:
            return False
        if channel.read is not None:
            return position_id in channel.read or (channel.write is not None and position_id in channel.write)
        return channel.kind == "broadcast" or team.id in channel.members or team.id == channel.relay

    def can_write(self, channel: Channel, position_id: str) -> bool:
        """Whether a position may write on a channel: its team is a member, its authority reaches
        `min_authority`, and it is in `write` (without `write`: it can read the channel)."""
        try:
            team, position = self.position(position_id)
        except KeyError:
            return False
        if team.id not in channel.members or position.authority < channel.min_authority:
            return False
        if channel.write is not None:
            return position_id in channel.write
        return channel.read is None or position_id in channel.read

    def can_relay(self, channel: Channel, position_id: str) -> bool:
        """Whether a position handles a relay channel's messages (forward, edit, hold, decline, notes):
        a position of its relay team that can read it."""
        try:
            team, _ = self.position(position_id)
        except KeyError:
            return False
        return channel.kind == "relay" and team.id == channel.relay and self.can_read(channel, position_id)


def snapshot(exercise: Exercise) -> dict[str, object]:
    """A JSON-able copy of a loaded exercise, kept with a session so later edits of the file do not change it."""
    return exercise.model_dump(mode="json", by_alias=True, exclude_none=True)


def from_snapshot(data: dict[str, object]) -> Exercise:
    return Exercise.model_validate(data, context={"stored": True})
