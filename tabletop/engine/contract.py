"""The event contract, generated from the event classes (`events.EVENT_TYPES`).

Two files are written from the classes, and committed: the event table of `docs/protocol.md`
(between its `events:begin` and `events:end` comments) and `static/js/events.js`, the ES module of
event type names, their payload fields and the groups the pages use. `tests/test_contract.py`
regenerates both in memory and fails when a file and the classes disagree.

Regenerate after changing an event class: `python -m tabletop.engine.contract`.
"""

from __future__ import annotations

import json
import types
import typing
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from .events import EVENT_TYPES, GROUPS, Part, Payload

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "docs" / "protocol.md"
EVENTS_JS = ROOT / "static" / "js" / "events.js"
BEGIN = "<!-- events:begin (generated from tabletop/engine/events.py by `python -m tabletop.engine.contract`) -->"
END = "<!-- events:end -->"


# ------------------------------------------------------------------ the docs table
def _optional_of(annotation: Any) -> tuple[Any, bool]:
    """(the annotation without None, whether None is allowed)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(annotation))
        return (args[0] if len(args) == 1 else annotation), nullable
    return annotation, False


def _shape(annotation: Any) -> str | None:
    """How a nested shape looks in JSON (`{"id", "label"}`, `[...]`), or None for a plain value."""
    inner, nullable = _optional_of(annotation)
    text = None
    if isinstance(inner, type) and issubclass(inner, Part):
        if inner.DOC:
            text = inner.DOC
        elif inner.EXPAND:
            text = "`{" + ", ".join(_key(name, f) for name, f in inner.model_fields.items()) + "}`"
    elif typing.get_origin(inner) is tuple:
        item = typing.get_args(inner)[0]
        shape = _shape(item)
        if shape is not None:
            text = f"list of {shape}"
    if text is not None and nullable:
        text = f"`null` or {text}"
    return text


def _key(name: str, info: FieldInfo) -> str:
    """A key inside a nested shape: `"options": [{"id", "label", "escalation"}]`."""
    key = json.dumps(info.alias or name)
    inner, _nullable = _optional_of(info.annotation)
    if isinstance(inner, type) and issubclass(inner, Part) and inner.EXPAND and not inner.DOC:
        return f"{key}: {{" + ", ".join(_key(n, f) for n, f in inner.model_fields.items()) + "}"
    if typing.get_origin(inner) is tuple:
        item = typing.get_args(inner)[0]
        if isinstance(item, type) and issubclass(item, Part) and item.EXPAND and not item.DOC:
            return f"{key}: [{{" + ", ".join(_key(n, f) for n, f in item.model_fields.items()) + "}]"
    return key


def _field(name: str, info: FieldInfo) -> str:
    """One payload field in the table: `name` (its shape; what it means), in brackets when optional."""
    notes = [n for n in (_shape(info.annotation), info.description) if n]
    text = f"`{info.alias or name}`" + (f" ({'; '.join(notes)})" if notes else "")
    return text if info.is_required() else f"[{text}]"


def payload_cell(cls: type[Payload]) -> str:
    fields = ", ".join(_field(name, info) for name, info in cls.model_fields.items())
    return fields + (f". {cls.NOTE}" if cls.NOTE else "")


def event_table() -> str:
    """The Markdown table of every event type: who makes it, who sees it, its payload."""
    rows = ["| Type | Made by | Audience | Payload |", "|---|---|---|---|"]
    for name, cls in EVENT_TYPES.items():
        cell = payload_cell(cls).replace("|", "\\|")
        rows.append(f"| `{name}` | {cls.MADE_BY} | {cls.AUDIENCE} | {cell} |")
    return "\n".join(rows)


def protocol_with_table(text: str) -> str:
    """docs/protocol.md with its event table replaced by the generated one."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"docs/protocol.md has no {BEGIN!r} ... {END!r} section for the event table")
    return text[: start + len(BEGIN)] + "\n" + event_table() + "\n" + text[end:]


# ------------------------------------------------------------------ the JS module
def _js_name(event_type: str) -> str:
    return event_type.upper()


def events_js() -> str:
    """static/js/events.js: one named export per type (a typo fails when the module loads), fields, groups."""
    lines = [
        "// Generated from tabletop/engine/events.py by `python -m tabletop.engine.contract`: do not edit by hand.",
        "// The event types the server sends (`event.type`), each type's payload fields, and groups of types.",
        '// Import the names (`import { INJECT_RELEASED } from "./events.js"`): a misspelt name fails to load.',
        "",
    ]
    lines += [f'export const {_js_name(name)} = "{name}";' for name in EVENT_TYPES]
    lines += ["", "/** Every event type, in the order of docs/protocol.md. */"]
    lines += ["export const EVENT_TYPES = Object.freeze(["]
    lines += [f"  {_js_name(name)}," for name in EVENT_TYPES]
    lines += ["]);", "", "/** Each type's payload fields, in order; optional ones appear only sometimes. */"]
    lines += ["export const EVENT_FIELDS = Object.freeze({"]
    for name, cls in EVENT_TYPES.items():
        keys = ", ".join(json.dumps(f.alias or n) for n, f in cls.model_fields.items())
        lines.append(f"  [{_js_name(name)}]: Object.freeze([{keys}]),")
    lines += ["});", "", "/** Each type's optional payload fields: absent unless they apply. */"]
    lines += ["export const OPTIONAL_FIELDS = Object.freeze({"]
    for name, cls in EVENT_TYPES.items():
        keys = ", ".join(json.dumps(f.alias or n) for n, f in cls.model_fields.items() if not f.is_required())
        lines.append(f"  [{_js_name(name)}]: Object.freeze([{keys}]),")
    lines.append("});")
    docs = {
        "CLOCK_EVENTS": "Events that move the exercise clock: pages apply them to their clock.",
        "SUMMARY_EVENTS": "Events that change control's state summary (inject statuses, escalation, clock).",
        "MESSAGE_EVENTS": "Events a participant wrote (or control spoofed), or its delivery.",
        "CHANNEL_EVENTS": "Events that change whether a channel carries messages (opened, closed, jammed, cleared).",
    }
    for group, names in GROUPS.items():
        members = ", ".join(_js_name(n) for n in names)
        lines += ["", f"/** {docs[group]} */", f"export const {group} = new Set([{members}]);"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ writing
def generated() -> dict[Path, str]:
    """Each generated file and what it must hold now."""
    return {PROTOCOL: protocol_with_table(PROTOCOL.read_text()), EVENTS_JS: events_js()}


def write() -> list[Path]:
    """Write the files that differ from the classes; returns them."""
    changed = []
    for path, text in generated().items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(path)
    return changed


if __name__ == "__main__":
    for path in write():
        print(f"wrote {path.relative_to(ROOT)}")
