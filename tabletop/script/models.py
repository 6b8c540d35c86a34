"""The exercise script, version 1, as immutable typed models.

These models are the contract of `shared/exercise-format.md`. They check the shape of each
field; rules that span several fields (references, duplicates, cycles) live in `checks.py`.
Durations and offsets are held as whole seconds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
)

from .durations import DURATION_RE, OFFSET_RE, parse_duration, parse_offset

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
Id = Annotated[str, Strict(), StringConstraints(pattern=ID_PATTERN, max_length=64)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Markdown = Annotated[str, StringConstraints(max_length=20_000)]
ShortText = Annotated[str, StringConstraints(max_length=2_000)]


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


Recipients = Annotated[
    tuple[str, ...],
    BeforeValidator(_to_list),
    Field(min_length=1),
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


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, coerce_numbers_to_str=True)


class Scenario(Model):
    """In-game time: what players see as the date and time."""

    start: Annotated[datetime, AfterValidator(_aware)]
    time_scale: float = Field(1.0, gt=0, le=10_000, description="scenario seconds per exercise second")


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


class Channel(Model):
    id: Id
    name: Name
    kind: ChannelKind
    members: tuple[Id, ...] = Field(min_length=1)
    relay: Id | None = None
    delay: Duration = 0
    min_authority: int = Field(1, ge=0, le=100)


class Option(Model):
    id: Id
    label: Name
    escalation: int = Field(0, ge=-100, le=100)


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


class Effect(Model):
    """One of `jam: {channel, for}` or `escalation: N`."""

    jam: Jam | None = None
    escalation: int | None = Field(None, ge=-100, le=100)


class Inject(Model):
    id: Id
    at: Offset | None = None
    trigger: Trigger | None = None
    delay: Duration = 0
    to: Recipients
    from_: Name | None = Field(None, alias="from")
    medium: Medium = "other"
    title: Name
    body: Markdown = ""
    attachments: tuple[Annotated[str, StringConstraints(min_length=1, max_length=300)], ...] = ()
    expect: ShortText = ""
    objectives: tuple[Id, ...] = ()
    notes: Markdown = ""
    ack: bool = False
    decision: Decision | None = None
    effects: tuple[Effect, ...] = ()

    @property
    def release(self) -> Literal["timed", "triggered", "contingency"]:
        if self.at is not None:
            return "timed"
        if self.trigger is not None:
            return "triggered"
        return "contingency"


def _find(items: tuple[Any, ...], ident: str) -> Any:
    """The item with this id; KeyError when there is none."""
    for item in items:
        if item.id == ident:
            return item
    raise KeyError(ident)


class Exercise(Model):
    format: Literal[1]
    id: Id
    title: Name
    summary: Markdown = ""
    classification: Annotated[str, StringConstraints(max_length=200)] = ""
    duration: Duration = 3600
    scenario: Scenario | None = None
    objectives: tuple[Objective, ...] = ()
    teams: tuple[Team, ...] = Field(min_length=2)
    channels: tuple[Channel, ...] = ()
    injects: tuple[Inject, ...] = ()

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

    def recipients(self, inject: Inject) -> tuple[str, ...]:
        """The team ids an inject goes to (`all` expanded)."""
        return tuple(t.id for t in self.teams) if "all" in inject.to else inject.to


def snapshot(exercise: Exercise) -> dict[str, object]:
    """A JSON-able copy of a loaded exercise, kept with a session so later edits of the file do not change it."""
    return exercise.model_dump(mode="json", by_alias=True, exclude_none=True)


def from_snapshot(data: dict[str, object]) -> Exercise:
    return Exercise.model_validate(data, context={"stored": True})
