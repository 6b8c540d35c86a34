"""Safe YAML reading that keeps the place of every key and value.

Only plain YAML values are built (mappings, lists, text, numbers, booleans, null, timestamps):
any tag such as `!!python/object` is refused, aliases may not expand past a bound, deep nesting
and huge files are refused, and duplicate keys are reported rather than silently overwritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .durations import describe
from .errors import Mark, Problem

MAX_BYTES = 2 * 1024 * 1024
MAX_VALUES = 100_000
MAX_DEPTH = 40

_T = "tag:yaml.org,2002:"
SCALAR_TAGS = {_T + t for t in ("str", "null", "bool", "int", "float", "timestamp")}
KEY = "<key>"

Path_ = tuple[str | int, ...]


@dataclass
class Positions:
    """Where each value (and each mapping key) of a document stands."""

    values: dict[Path_, Mark] = field(default_factory=dict)
    keys: dict[Path_, Mark] = field(default_factory=dict)

    def value(self, path: Path_) -> Mark:
        """The place of the value at path, or of its nearest enclosing value."""
        for end in range(len(path), -1, -1):
            mark = self.values.get(tuple(path[:end]))
            if mark is not None:
                return mark
        raise KeyError(path)

    def key(self, path: Path_) -> Mark:
        """The place of the key naming path (falls back to the value)."""
        return self.keys.get(tuple(path)) or self.value(path)

    def graft(self, other: Positions, prefix: Path_, skip: set[str]) -> None:
        """Copy another document's places under prefix (for included files), but for top keys in skip."""
        for p, m in other.values.items():
            if p and p[0] not in skip:
                self.values[prefix + p] = m
        for p, m in other.keys.items():
            if p[0] not in skip:
                self.keys[prefix + p] = m


class _TooLarge(Exception):
    pass


#: Lone UTF-16 surrogates, which a YAML escape (`"\ud800"`) can produce.
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Builder:
    def __init__(self, display: str) -> None:
        self.display = display
        self.positions = Positions()
        self.problems: list[Problem] = []
        self.count = 0
        self.constructor = SafeConstructor()

    def mark(self, node: Node) -> Mark:
        return Mark(self.display, node.start_mark.line + 1, node.start_mark.column + 1)

    def problem(self, node: Node, message: str) -> None:
        self.problems.append(Problem(self.mark(node), message))

    def build(self, node: Node, path: Path_, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise _TooLarge(f"the document holds more than {MAX_VALUES} values (are YAML aliases expanding?)")
        if depth > MAX_DEPTH:
            self.problem(node, f"nesting deeper than {MAX_DEPTH} levels")
            return None
        self.positions.values[path] = self.mark(node)
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if isinstance(node, SequenceNode):
            if node.tag != _T + "seq":
                self.problem(node, f"the tag '{node.tag}' is not allowed: use plain YAML lists")
                return None
            return [self.build(child, path + (i,), depth + 1) for i, child in enumerate(node.value)]
        if isinstance(node, MappingNode):
            if node.tag != _T + "map":
                self.problem(node, f"the tag '{node.tag}' is not allowed: use plain YAML mappings")
                return None
            return self.mapping(node, path, depth)
        self.problem(node, "unexpected YAML node")
        return None

    def scalar(self, node: ScalarNode) -> Any:
        found = _SURROGATE.search(node.value)
        if found:  # a quoted "\ud800": text with no UTF-8 form would break every page, export and report
            self.problem(node, f"the text holds U+{ord(found.group()):04X}, a lone UTF-16 surrogate: not valid Unicode")
            return None
        tag = node.tag
        if tag not in SCALAR_TAGS:
            self.problem(node, f"the tag '{tag}' is not allowed: only plain text, numbers, booleans and dates")
            return None
        # YAML 1.1 reads 1:30 as a base-60 number; keep anything with a colon as written.
        if tag in (_T + "int", _T + "float") and ":" in node.value:
            return node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except (ValueError, OverflowError, yaml.YAMLError):
            self.problem(node, f"cannot read the value {describe(node.value)}")
            return None

    def mapping(self, node: MappingNode, path: Path_, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _T + "merge":
                self.problem(key_node, "keys must be plain names (no lists, mappings or '<<' merges)")
                continue
            key = key_node.value
            if key in first:
                line = first[key].start_mark.line + 1
                self.problem(key_node, f"duplicate key '{key}' (first at line {line})")
                continue
            first[key] = key_node
            self.positions.keys[path + (key,)] = self.mark(key_node)
            result[key] = self.build(value_node, path + (key,), depth + 1)
        return result


@dataclass
class Document:
    data: Any
    positions: Positions
    problems: list[Problem]


def read_yaml(path: Path, display: str) -> Document:
    """Read one YAML document from path; problems are returned, never raised."""
    start = Mark(display, 1, 1)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        return Document(None, Positions(), [Problem(start, f"cannot read the file: {exc.strerror}")])
    if len(raw) > MAX_BYTES:
        return Document(None, Positions(), [Problem(start, f"the file is larger than {MAX_BYTES // 1024 // 1024} MiB")])
    return parse_yaml(raw, display)


def _at_end(mark: Any, text: str) -> bool:
    """Whether a PyYAML mark is at the end of the text (only blank space after it)."""
    return mark is None or not text[getattr(mark, "index", 0) :].strip()


def parse_yaml(raw: bytes, display: str) -> Document:
    """Parse YAML bytes (UTF-8) into plain data with positions."""
    start = Mark(display, 1, 1)
    if len(raw) > MAX_BYTES:
        return Document(None, Positions(), [Problem(start, f"the file is larger than {MAX_BYTES // 1024 // 1024} MiB")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Document(None, Positions(), [Problem(start, f"not UTF-8 text (bad byte at offset {exc.start})")])
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(s for s in (exc.context, exc.problem) if s)
        if exc.context_mark is not None and _at_end(exc.problem_mark, text):
            # Nothing is wrong at the end of the file: the problem starts where the unfinished thing
            # (an unclosed quote, bracket or block) began, which is the context mark.
            mark = exc.context_mark
            message = f"{exc.context}, which is never closed: {exc.problem} (at the end of the file)"
        where = Mark(display, mark.line + 1, mark.column + 1) if mark else start
        return Document(None, Positions(), [Problem(where, f"YAML syntax error: {message}")])
    except yaml.reader.ReaderError as exc:
        return Document(None, Positions(), [Problem(start, f"not a text file: {exc.reason} (byte {exc.position})")])
    except yaml.YAMLError as exc:
        return Document(None, Positions(), [Problem(start, f"YAML error: {exc}")])
    except RecursionError:
        return Document(None, Positions(), [Problem(start, "nesting too deep to read")])
    if node is None:
        return Document(None, Positions(), [])
    builder = _Builder(display)
    try:
        data = builder.build(node, (), 0)
    except _TooLarge as exc:
        return Document(None, Positions(), [Problem(builder.mark(node), str(exc))])
    return Document(data, builder.positions, builder.problems)
