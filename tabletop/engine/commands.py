"""The payloads of client commands, validated with precise messages."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, ValidationError

from tabletop.script.durations import describe, parse_duration, parse_offset
from tabletop.script.models import ID_PATTERN

MAX_TEXT = 4000
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: object) -> object:
    """Text arrives without control characters (newlines and tabs stay) and trimmed."""
    if isinstance(value, str):
        return _CONTROL_CHARS.sub("", value).strip()
    return value


# ------------------------------------------------------------ what the log can hold
#: Whole numbers a payload may carry, anywhere: no field needs more, and every store and client can hold them.
MAX_INT = 2**53 - 1
#: How deep a payload may nest (the deepest legal command nests 4 levels).
MAX_DEPTH = 16
_SURROGATE = re.compile("[\ud800-\udfff]")
_CLIENT_ID = re.compile(r"[^\x00-\x1f\x7f]{1,64}")


def unstorable(data: Any, where: str = "payload", depth: int = 0) -> str | None:
    """Why a decoded JSON value cannot be stored and exported as it is, or None.

    Text holding a lone UTF-16 surrogate (JSON's `"\\ud800"`) has no UTF-8 form: stored, it would
    break `log.json`, `log.csv` and the report for good. Whole numbers beyond +-(2**53 - 1), numbers
    that are not finite and nesting deeper than MAX_DEPTH are refused too. Keys are checked like values.
    Every command goes through here (`parse`), and so does every JSON body of the HTTP API.
    """
    if isinstance(data, str):
        found = _SURROGATE.search(data)
        if found:
            return (
                f"'{where}' holds U+{ord(found.group()):04X}, a lone UTF-16 surrogate: "
                "text must be valid Unicode (it is stored and exported as UTF-8)"
            )
        return None
    if isinstance(data, bool) or data is None:
        return None
    if isinstance(data, int):
        return None if -MAX_INT <= data <= MAX_INT else f"'{where}' is a number too large (at most {MAX_INT})"
    if isinstance(data, float):
        return None if math.isfinite(data) else f"'{where}' must be a finite number"
    if depth >= MAX_DEPTH:
        return f"'{where}' is nested too deeply (at most {MAX_DEPTH} levels)"
    if isinstance(data, dict):
        for key, value in data.items():
            inner = f"{where}.{key}" if where != "payload" else str(key)
            problem = unstorable(key, where, depth + 1) or unstorable(value, inner, depth + 1)
            if problem:
                return problem
    elif isinstance(data, (list, tuple)):
        for n, value in enumerate(data):
            problem = unstorable(value, f"{where}.{n}", depth + 1)
            if problem:
                return problem
    return None


def client_id_of(data: Any) -> str | None:
    """The payload's `client_id` when it is one the store can hold (what `ClientId` accepts), else None."""
    found = data.get("client_id") if isinstance(data, dict) else None
    if isinstance(found, str) and _CLIENT_ID.fullmatch(found) and not _SURROGATE.search(found):
        return found
    return None


MAX_OFFSET = 1000 * 3600.0


def _offset(value: object) -> object:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or not 0 <= value <= MAX_OFFSET:
            raise ValueError("'at' must be a number of exercise seconds from 0 to 3600000, or \"+HH:MM\"")
        return float(value)
    return float(parse_offset(value))


Text = Annotated[str, BeforeValidator(clean_text), Field(min_length=1, max_length=MAX_TEXT)]
OptionalText = Annotated[str, BeforeValidator(clean_text), Field(max_length=MAX_TEXT)]
Ident = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
ClientId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
Offset = Annotated[float, BeforeValidator(_offset)]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)
    client_id: ClientId | None = None


class SendMessage(Command):
    channel: Annotated[str, Field(max_length=64)]
    text: Text
    team: Ident | None = None  # control writing in a team's chat
    instructions: OptionalText | None = None  # relay channels: for the intermediary alone
    readback: bool = False  # relay channels: ask the receiver for a read-back


class Relay(Command):
    message: Annotated[int, Field(ge=1)]
    action: Literal["forward", "edit", "hold", "decline"]
    text: OptionalText | None = None
    readback: bool = False  # forward/edit: ask the receiver for a read-back


class RelayNote(Command):
    """The intermediary writes to one half of a relay channel."""

    channel: Annotated[str, Field(max_length=64)]
    to: Ident
    text: Text
    message: Annotated[int, Field(ge=1)] | None = None


class ReadBack(Command):
    """The receiver reads a relayed message back."""

    message: Annotated[int, Field(ge=1)]
    text: Text


class InjectRef(Command):
    inject: Ident


class MoveInject(InjectRef):
    at: Offset


class Decide(InjectRef):
    option: Ident
    rationale: OptionalText = ""


class ClockCommand(Command):
    action: Literal["start", "pause", "resume", "speed", "end"]
    speed: Annotated[float, Field(ge=1, le=10)] | None = None


class WriteInject(Command):
    to: list[Ident] | Literal["all"]
    title: Annotated[str, BeforeValidator(clean_text), Field(min_length=1, max_length=200)]
    body: OptionalText = ""
    medium: Literal["news", "intel", "email", "phone", "radio", "order", "social", "other"] = "other"
    from_: Annotated[str, BeforeValidator(clean_text), Field(max_length=200, alias="from")] = ""
    ack: bool = False
    at: Offset | None = None


class Spoof(Command):
    channel: Annotated[str, Field(max_length=64)]
    as_team: Ident
    as_position: Ident | None = None
    name: Annotated[str, BeforeValidator(clean_text), Field(max_length=80)] = ""
    text: Text
    team: Ident | None = None  # for the team chat of as_team


MAX_JAM = 24 * 3600.0


def _jam_length(value: object) -> object:
    """Seconds (a number), or a duration like "10m"; more than 0 and at most a day."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        seconds = float(parse_duration(value))
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_JAM:
        raise ValueError("'for' must be more than 0 and at most 24h (e.g. \"10m\" or 600)")
    return seconds


class ChannelCommand(Command):
    """Control opens, closes, jams or clears a channel during play."""

    channel: Annotated[str, Field(max_length=64)]
    action: Literal["open", "close", "jam", "clear"]
    for_: Annotated[float, BeforeValidator(_jam_length)] | None = Field(None, alias="for")


class StartMove(Command):
    """Control starts the move the clock stopped for."""

    move: Ident


class Escalate(Command):
    """A change of the escalation level (`delta`), or the level itself (`level`): one of them."""

    delta: Annotated[int, Field(ge=-20, le=20)] | None = None
    level: Annotated[int, Field(ge=-1000, le=1000)] | None = None
    reason: Text


class Note(Command):
    text: Text


class Observe(Command):
    objective: Ident | None = None
    rating: Literal["P", "S", "M", "U"]
    text: OptionalText = ""
    team: Ident | None = None
    finding: Literal["strength", "improvement"] | None = None  # beside the rating, not instead of it


class Feedback(Command):
    strengths: OptionalText = ""
    improvements: OptionalText = ""
    channels: dict[Annotated[str, Field(max_length=64)], Annotated[int, Field(ge=1, le=5)]] = Field(
        default_factory=dict, max_length=50
    )
    # The script's own questions (format 2): question id -> a text answer, or a whole number for a scale.
    answers: dict[Annotated[str, Field(max_length=64)], Annotated[int, Strict()] | OptionalText] = Field(
        default_factory=dict, max_length=30
    )


class PostAsPersona(Command):
    """Control posts on a public (broadcast) channel as one of the script's personas."""

    persona: Ident
    channel: Annotated[str, Field(max_length=64)] | None = None
    text: Text


class Assess(Command):
    """A team's answer to a key question of the script and its confidence (format 2)."""

    question: Ident
    answer: (
        Annotated[float, Strict()]
        | Annotated[int, Strict()]
        | Annotated[str, BeforeValidator(clean_text), Field(min_length=1, max_length=2000)]
    )
    confidence: Annotated[int, Strict(), Field(ge=0, le=100)]


class BadPayload(ValueError):
    pass


def parse(model: type[Command], command: str, data: Any) -> Command:
    """Validate a payload; BadPayload names the command, the field and what was expected."""
    if not isinstance(data, dict):
        raise BadPayload(f"{command}: expected an object with fields, found {describe(data)}")
    problem = unstorable(data)
    if problem:
        raise BadPayload(f"{command}: {problem}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        parts = []
        for error in exc.errors(include_url=False)[:5]:
            field = ".".join(str(p) for p in error["loc"]) or "payload"
            kind = error["type"]
            if kind == "extra_forbidden":
                allowed = ", ".join(f.alias or n for n, f in model.model_fields.items())
                parts.append(f"unknown field '{field}' (fields: {allowed})")
            elif kind == "missing":
                parts.append(f"missing field '{field}'")
            elif kind in ("string_too_long", "too_long"):
                limit = (error.get("ctx") or {}).get("max_length")
                parts.append(f"'{field}' is too long (at most {limit} characters)")
            elif kind in ("string_too_short", "too_short"):
                parts.append(f"'{field}' must not be empty")
            else:
                message = str((error.get("ctx") or {}).get("error", error["msg"]))
                parts.append(f"'{field}': {message} (found {describe(error.get('input'))})")
        raise BadPayload(f"{command}: " + "; ".join(parts)) from None


class PlanItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    issue: Annotated[str, BeforeValidator(clean_text), Field(min_length=1, max_length=1000)]
    action: OptionalText = ""
    organisation: Annotated[str, BeforeValidator(clean_text), Field(max_length=200)] = ""
    due: Annotated[str, BeforeValidator(clean_text), Field(max_length=40)] = ""
    objective: Ident | None = None
    capability: Annotated[str, BeforeValidator(clean_text), Field(max_length=200)] = ""
    contact: Annotated[str, BeforeValidator(clean_text), Field(max_length=200)] = ""
    start: Annotated[str, BeforeValidator(clean_text), Field(max_length=40)] = ""


class ImprovementPlan(Command):
    items: list[PlanItem] = Field(max_length=100)


class KeyFindings(Command):
    """The facilitator's key findings for the report's summary (empty clears them)."""

    text: OptionalText = ""
