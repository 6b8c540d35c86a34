"""Rewrite a format-1 script as format 2: `flask --app app exercise upgrade PATH`.

The rewrite is textual, so comments, blank lines, quoting and the order of fields stay as written:
`format: 1` becomes `format: 2`, and a `scenario:` block becomes a `moves:` list of one move that
starts at `+00:00` with the scenario's start and time scale. Nothing else changes. The result is
loaded with the real loader and compared with the original (the same script, and the same
scenario time at every moment) before it is returned.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from .errors import ScriptError
from .loader import LIBRARY, load_exercise, load_exercise_bytes
from .models import Exercise, snapshot
from .yamlsrc import MAX_BYTES

MOVE_ID = "move-1"
MOVE_TITLE = "Move 1"


class UpgradeError(ValueError):
    """The script could not be rewritten safely (the message says what to do by hand)."""


def upgrade(path: Path | str, *, library: Path | str = LIBRARY, display: str | None = None) -> str:
    """The text of the script at path, rewritten as format 2 (unchanged if it already is).

    Raises ScriptError when the script does not load as it is, UpgradeError when the rewrite would
    not mean the same."""
    path, library = Path(path), Path(library)
    shown = display or str(path)
    original = load_exercise(path, library=library, display=shown)
    raw = path.read_bytes()[: MAX_BYTES + 1]  # it loaded, so it is UTF-8 text of at most MAX_BYTES
    text = raw.decode("utf-8-sig")
    if original.format == 2:
        return text
    top = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(top, MappingNode):  # pragma: no cover - a script that loads is a mapping
        raise UpgradeError(f"{shown}: expected a mapping at the top")
    fields = {k.value: (k, v) for k, v in top.value if isinstance(k, ScalarNode)}
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) in text offsets
    _, value = fields["format"]
    edits.append((value.start_mark.index, value.end_mark.index, "2"))
    if "scenario" in fields:
        key, value = fields["scenario"]
        edits.append(_moves_edit(text, key, value))
    upgraded = text
    for start, end, new in sorted(edits, reverse=True):
        upgraded = upgraded[:start] + new + upgraded[end:]
    _same_meaning(original, upgraded, shown, path.parent, library)
    return upgraded


def _moves_edit(text: str, key: Node, value: Node) -> tuple[int, int, str]:
    """Replace `scenario:` and its mapping by `moves:` with one move, keeping the values as written and
    the comments inside the block."""
    assert isinstance(value, MappingNode)
    entries = {k.value: v for k, v in value.value if isinstance(k, ScalarNode)}
    start_node, scale_node = entries["start"], entries.get("time_scale")
    leaves = [n for n in (start_node, scale_node) if n is not None]
    end = value.end_mark.index if value.flow_style else max(n.end_mark.index for n in leaves)
    item = " " * key.start_mark.column + "  "
    head = "moves:" + _comment(text[key.end_mark.index : value.start_mark.index])
    lines = [f"{head}\n{item}- id: {MOVE_ID}", f'{item}  title: {MOVE_TITLE}\n{item}  at: "+00:00"']
    if not value.flow_style:
        inner = text[key.start_mark.index : end].splitlines()[1:]
        lines += [f"{item}  {line.strip()}" for line in inner if line.strip().startswith("#")]
    named = [("scenario_start", start_node), ("time_scale", scale_node)]
    for name, node in sorted(((n, v) for n, v in named if v is not None), key=lambda nv: nv[1].start_mark.index):
        # The comment after the last value stays where it is (after the replaced text).
        line_end = text.find("\n", node.end_mark.index)
        after = text[node.end_mark.index : line_end if line_end >= 0 else len(text)]
        inline = _comment(after) if not value.flow_style and node.end_mark.index < end else ""
        lines.append(f"{item}  {name}: {_source(text, node)}{inline}")
    return key.start_mark.index, end, "\n".join(lines)


def _comment(segment: str) -> str:
    """The comment of a stretch of text that holds no value (`  # Gulf time`), kept with its spacing."""
    first = segment.split("\n", 1)[0]
    at = first.find("#")
    return "  " + first[at:].rstrip() if at >= 0 and not first[:at].strip(" :") else ""


def _source(text: str, node: Node) -> str:
    """The value as written (quotes included)."""
    return text[node.start_mark.index : node.end_mark.index]


def _same_meaning(original: Exercise, text: str, shown: str, script_dir: Path, library: Path) -> None:
    try:
        upgraded = load_exercise_bytes(text.encode("utf-8"), shown, script_dir=script_dir, library=library)
    except ScriptError as exc:  # pragma: no cover - a bug of the rewrite, not of the script
        raise UpgradeError(f"{shown}: the rewritten script does not load ({exc}); upgrade it by hand") from None
    before = {k: v for k, v in snapshot(original).items() if k not in ("format", "scenario")}
    after = {k: v for k, v in snapshot(upgraded).items() if k not in ("format", "moves")}
    moments = range(0, max(original.duration, 1) + 1, max(original.duration // 50, 1))
    if before != after or any(original.scenario_at(t) != upgraded.scenario_at(t) for t in moments):
        raise UpgradeError(f"{shown}: the rewritten script would not mean the same; upgrade it by hand")


__all__ = ["upgrade", "UpgradeError"]
