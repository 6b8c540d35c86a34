"""The MSEL as a spreadsheet: export a script's injects to CSV and import them back.

Facilitators keep the Master Scenario Events List in a spreadsheet. `export_msel` writes one CSV
row per inject, in the order of `timeline()`, under these columns (the HSEEP MSEL columns plus
`Inject ID` and `Released by`, which an import needs to find its way back without loss):

    Event number, Inject ID, Exercise time, Scenario time, From, To, Method of delivery,
    Inject title, Inject text, Expected player action, Objective, Controller notes, Released by

`import_msel` reads such a file and returns the plain data of a script (ready for
`yaml.safe_dump`). It is normally given a *base*: the raw data of the script the MSEL came from.
Each row updates the inject of the base with the same `Inject ID`; what the columns do not hold
(decisions, effects, attachments, `ack`, and format 2's `when` and `unless` conditions, `choose`,
`fiction`, `source` and `move`) is kept from the base. A row with a new id makes a
new inject, an inject of the base that no row names is dropped, and the order of the rows is the
order of the injects. A base entry that is an `include:` and that its row leaves unchanged stays
exactly as written; a changed one keeps its `include:` and overrides only what changed (or is
written out in full when a library field would have to be removed). Without a base, a minimal
skeleton is built: teams from the `To` column (one position `<team>-lead` each), placeholder
objectives; edit it before use. The YAML comments of a base are not kept.

Cells, both ways
----------------
- `Event number` and `Scenario time` are computed on export and ignored on import (change the
  `Exercise time` to move an inject). Column names are matched case-insensitively; the columns
  of `REQUIRED` must all be present, and unknown columns are refused (the script has no place
  for them). Comma, semicolon and tab delimited files are accepted (chosen from the header).
- `Exercise time` is the offset of a timed inject, *without* the `+` of the script format:
  `00:15`, `01:05:30` (a leading `+` would make a spreadsheet read a formula). On import,
  `H:MM`, `HH:MM`, `HHH:MM` with optional `:SS` and an optional leading `+` are accepted, so
  `0:15:00` (how a spreadsheet may save a time it recognised) reads as `00:15`. The cell is
  empty for every inject that is not timed; keep the column formatted as text if you can.
- `Scenario time` is `YYYY-MM-DD HH:MM[:SS]` in the time zone of the scenario start, for timed
  injects of a script with a `scenario`, or with `moves` (each inject's move's clock).
- `To` is `all` or team ids separated by `; ` (`,` is accepted too); `Objective` likewise. It is
  empty for a choice (an inject with `choose:`), which goes to no team itself.
- `Method of delivery` is the medium (`news`, `intel`, ...; any case; empty means `other`).
- `From` empty means no originator. `Inject text`, `Expected player action` and `Controller
  notes` are kept exactly, line breaks and spaces included.
- `Released by` says how the inject is released, in this grammar (keywords in any case, any
  run of spaces where one is shown, and an optional comma before `+DELAY`, the way `flask
  exercise timeline` prints it):

      time                            timed: at its Exercise time
      by hand                         a contingency inject, released by a controller
      inject ID [+DELAY]              when inject ID is released, DELAY later
      decision ID: OPTION [+DELAY]    when the decision of inject ID is answered with OPTION
      condition [+DELAY]              format 2: when its `when:` condition holds (the condition
                                      itself is written in the script, and kept from the base)
      choice ID                       format 2: an alternative of the choice ID (its `choose:` is
                                      kept from the base)

  DELAY is a duration like `90s`, `5m` or `1h30m`; export leaves it out when it is zero. An
  empty cell means `time` when the Exercise time is set and `by hand` otherwise.
  `parse_release(format_release(r)) == r` for every release.
- Formula injection: any exported cell whose text starts with `=`, `+`, `-`, `@`, a tab or a
  carriage return, after any run of `'`, gets one more leading `'`, so that a spreadsheet shows
  it as text; on import, a cell that starts with `'` followed by such text loses that one `'`.
  `unguard(guard(text)) == text` for every text.

Every problem of a file is collected and raised at once as `MselError`, each message naming the
row as a spreadsheet numbers it (the header is row 1) and the column:
`msel.csv: row 4, column 'Exercise time': '1:5' is not an offset like 00:15 or 01:05:30`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import typing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from .durations import OFFSET_RE, parse_duration
from .errors import ScriptError
from .loader import EXERCISES, LIBRARY, load_exercise, load_exercise_bytes
from .models import ID_PATTERN, Condition, Exercise, Inject, Markdown, Medium, Name, ShortText, Trigger
from .paths import resolve_include
from .timeline import timeline
from .times import format_duration, format_offset, msel_exercise_cell, msel_scenario_cell
from .yamlsrc import MAX_BYTES as MAX_SCRIPT_BYTES
from .yamlsrc import parse_yaml, read_yaml

COLUMNS: tuple[str, ...] = (
    "Event number",
    "Inject ID",
    "Exercise time",
    "Scenario time",
    "From",
    "To",
    "Method of delivery",
    "Inject title",
    "Inject text",
    "Expected player action",
    "Objective",
    "Controller notes",
    "Released by",
)
EVENT, INJECT_ID, EX_TIME, SC_TIME, FROM, TO, MEDIUM, TITLE, TEXT, EXPECT, OBJECTIVE, NOTES, RELEASED = COLUMNS
DERIVED: tuple[str, ...] = (EVENT, SC_TIME)
REQUIRED: tuple[str, ...] = tuple(c for c in COLUMNS if c not in DERIVED)
MAX_CSV_BYTES = 5 * 1024 * 1024
SCHEMA_LINE = "# yaml-language-server: $schema=../schema/exercise.schema.json"
MEDIA: tuple[str, ...] = typing.get_args(Medium)

_ID_RE = re.compile(ID_PATTERN)
_ID_HINT = "use lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 64"
_TIME_RE = re.compile(r"^\+?(\d{1,3}):([0-5]\d)(?::([0-5]\d))?$")
_TIME_HINT = "an offset like 00:15 or 01:05:30"
_GUARDED_RE = re.compile(r"^'*[=+\-@\t\r]")
_RELEASE_RE = re.compile(
    r"^(?:(?P<time>time)|(?P<hand>by\s+hand)|inject\s+(?P<inject>[^\s,]+)"
    r"|decision\s+(?P<decision>[^\s:,]+)\s*:\s*(?P<option>[^\s,]+)"
    r"|(?P<condition>condition)|choice\s+(?P<choice>[^\s,]+))"
    r"(?:(?:\s*,\s*|\s+)\+(?P<delay>\S+))?$",
    re.IGNORECASE,
)
_RELEASE_HINT = "time, by hand, inject ID [+DELAY], decision ID: OPTION [+DELAY], condition [+DELAY] or choice ID"
# Inject fields in the order the model declares them; new keys are placed by it.
_ORDER: list[str] = ["include", *(field.alias or name for name, field in Inject.model_fields.items())]
_RELEASE_KEYS = ("at", "trigger", "delay", "when")
# What a field's empty value is when it has to be written out (to override a library inject).
_EMPTY: dict[str, Any] = {"from": None, "medium": "other", "body": "", "expect": "", "notes": "", "objectives": []}
_FLOW_KEYS = {"inject", "decision", "option", "channel", "for", "id", "action", "team", "within", "after"}
_FLOW_KEYS |= {"at_least", "at_most", "otherwise"}
_REMOVE = object()  # marks a field whose value is its default: no key in the script
_KEEP = object()  # marks the condition of a `condition` row: the base inject's `when`, as written


class MselError(Exception):
    """Every problem of an MSEL import, each a line naming the file, row and column."""

    def __init__(self, problems: list[str]) -> None:
        self.problems: list[str] = list(problems)
        super().__init__("\n".join(self.problems))


# --- cells ---------------------------------------------------------------------------------


def guard(text: str) -> str:
    """Neutralise a cell a spreadsheet would read as a formula: a leading `'` makes it text."""
    return "'" + text if _GUARDED_RE.match(text) else text


def unguard(text: str) -> str:
    """Undo `guard`: drop the one `'` it added."""
    return text[1:] if text.startswith("'") and _GUARDED_RE.match(text) else text


def parse_exercise_time(text: str) -> int:
    """Seconds of `[+]H:MM[:SS]`, or ValueError."""
    match = _TIME_RE.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not {_TIME_HINT}")
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


@dataclass(frozen=True)
class Release:
    """How an inject is released: the `Released by` column."""

    kind: Literal["time", "hand", "inject", "decision", "condition", "choice"]
    source: str | None = None  # the inject released first, the one asking the decision, or the choice
    option: str | None = None
    delay: int = 0

    @classmethod
    def of(cls, inject: Inject, choice: str | None = None) -> Release:
        """How inject is released; choice is the choice it is an alternative of, if any."""
        if inject.at is not None:
            return cls("time")
        trigger = inject.trigger
        if trigger is None and inject.when is not None:
            return cls("condition", None, None, inject.delay)
        if trigger is None and choice is not None:
            return cls("choice", choice)
        if trigger is None:
            return cls("hand")
        if trigger.inject is not None:
            return cls("inject", trigger.inject, None, inject.delay)
        return cls("decision", trigger.decision, trigger.option, inject.delay)

    @property
    def trigger(self) -> Trigger | None:
        if self.kind == "inject":
            return Trigger(inject=self.source)
        if self.kind == "decision":
            return Trigger(decision=self.source, option=self.option)
        return None


def format_release(release: Release) -> str:
    after = f" +{format_duration(release.delay)}" if release.delay else ""
    if release.kind == "time":
        return "time"
    if release.kind == "hand":
        return "by hand"
    if release.kind == "inject":
        return f"inject {release.source}{after}"
    if release.kind == "condition":
        return f"condition{after}"
    if release.kind == "choice":
        return f"choice {release.source}"
    return f"decision {release.source}: {release.option}{after}"


def parse_release(text: str) -> Release:
    """A `Released by` cell (see the module docstring), or ValueError."""
    match = _RELEASE_RE.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not one of: {_RELEASE_HINT}")
    delay = 0
    if match["delay"] is not None:
        if match["time"] or match["hand"] or match["choice"]:
            raise ValueError(f"'{text}': a delay goes only with an inject or decision trigger, or a condition")
        try:
            delay = parse_duration(match["delay"])
        except ValueError:
            raise ValueError(f"'{text}': '+{match['delay']}' is not a delay like +90s, +5m or +1h30m") from None
    for name in ("inject", "decision", "option", "choice"):
        value = match[name]
        if value is not None and not _valid_id(value):
            raise ValueError(f"'{text}': '{value}' is not a valid id ({_ID_HINT})")
    if match["time"]:
        return Release("time")
    if match["hand"]:
        return Release("hand")
    if match["inject"]:
        return Release("inject", match["inject"], None, delay)
    if match["condition"]:
        return Release("condition", None, None, delay)
    if match["choice"]:
        return Release("choice", match["choice"])
    return Release("decision", match["decision"], match["option"], delay)


def _valid_id(value: str) -> bool:
    return bool(_ID_RE.match(value)) and len(value) <= 64


def _max_length(annotation: Any) -> int:
    return next(m.max_length for m in typing.get_args(annotation)[1:] if getattr(m, "max_length", None))


_LIMITS: dict[str, int] = {
    FROM: _max_length(Name),
    TITLE: _max_length(Name),
    TEXT: _max_length(Markdown),
    EXPECT: _max_length(ShortText),
    NOTES: _max_length(Markdown),
}


# --- export --------------------------------------------------------------------------------


def export_msel(exercise: Exercise) -> str:
    """The MSEL of a script as CSV text (`\\r\\n` line ends), one row per inject in timeline order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    slots = {c.target: i.id for i in exercise.injects for c in i.choose}
    for row in timeline(exercise):
        inject = row.inject
        cells = (
            str(row.number),
            inject.id,
            msel_exercise_cell(inject.at) if inject.at is not None else "",
            msel_scenario_cell(exercise.clock_at(inject.at), inject.at),
            inject.from_ or "",
            "; ".join(inject.to),
            inject.medium,
            inject.title,
            inject.body,
            inject.expect,
            "; ".join(inject.objectives),
            inject.notes,
            format_release(Release.of(inject, slots.get(inject.id))),
        )
        writer.writerow([guard(cell) for cell in cells])
    return buffer.getvalue()


# --- import: reading the rows --------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    """One data row, checked; `values` are in model terms, keyed by the script's field names."""

    number: int
    id: str
    release: Release
    values: dict[str, Any]


class _Problems:
    """Problems of one file, given back in the order of the file: by row, then by column."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: list[tuple[int, int, str]] = []

    def file(self, message: str) -> None:
        self.lines.append((0, 0, f"{self.source}: {message}"))

    def row(self, number: int, message: str) -> None:
        self.lines.append((number, 0, f"{self.source}: row {number}: {message}"))

    def cell(self, number: int, column: str, message: str) -> None:
        self.lines.append(
            (number, COLUMNS.index(column) + 1, f"{self.source}: row {number}, column '{column}': {message}")
        )

    def raise_any(self) -> None:
        if self.lines:
            ordered = sorted(self.lines, key=lambda line: line[:2])  # stable: same cell, order found
            raise MselError([text for _, _, text in ordered])


def _decode(data: bytes | str, problems: _Problems) -> str:
    if isinstance(data, str):
        if len(data.encode("utf-8", "surrogatepass")) > MAX_CSV_BYTES:
            problems.file(f"the file is larger than {MAX_CSV_BYTES // 1024 // 1024} MiB")
        return data.removeprefix("\ufeff")
    if len(data) > MAX_CSV_BYTES:
        problems.file(f"the file is larger than {MAX_CSV_BYTES // 1024 // 1024} MiB")
        return ""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.file(f"not UTF-8 text (bad byte at offset {exc.start}): save it as 'CSV UTF-8' from the spreadsheet")
        return ""


def _delimiter(text: str) -> str:
    """`,`, `;` or tab: whichever splits the header line into the most known column names."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    known = {c.casefold() for c in COLUMNS}

    def score(delimiter: str) -> int:
        cells = next(csv.reader([first], delimiter=delimiter), [])
        return sum(1 for cell in cells if cell.strip().casefold() in known)

    return max((",", ";", "\t"), key=score)


def _records(text: str, problems: _Problems) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    records: list[list[str]] = []
    try:
        records.extend(reader)
    except csv.Error as exc:
        problems.row(len(records) + 1, f"not valid CSV ({exc}): is a quote inside a cell not doubled?")
    return records


def _header(record: list[str], number: int, problems: _Problems) -> dict[str, int]:
    """Column name -> index; reports unknown, duplicate and missing columns."""
    by_key = {c.casefold(): c for c in COLUMNS}
    index: dict[str, int] = {}
    while record and not record[-1].strip():
        record = record[:-1]
    for k, cell in enumerate(record):
        name = by_key.get(cell.strip().casefold())
        if not cell.strip():
            problems.row(number, f"column {k + 1} has no name (expected one of: {', '.join(COLUMNS)})")
        elif name is None:
            problems.row(
                number,
                f"unknown column '{cell.strip()}': the script has no place for it (columns: {', '.join(COLUMNS)})",
            )
        elif name in index:
            problems.row(number, f"column '{name}' appears twice (columns {index[name] + 1} and {k + 1})")
        else:
            index[name] = k
    missing = [c for c in REQUIRED if c not in index]
    if missing:
        names = ", ".join(f"'{c}'" for c in missing)
        problems.row(
            number, f"missing column{'s' if len(missing) > 1 else ''} {names} (required: {', '.join(REQUIRED)})"
        )
    return index


def _ids(cell: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;,]", cell) if part.strip()]


def _parse_row(
    number: int, record: list[str], index: dict[str, int], problems: _Problems, choices: frozenset[str] = frozenset()
) -> _Row | None:
    """Check the cells of one row; None when a cell is wrong (its problems are reported). choices are the
    ids of the base's choices (injects with `choose`), which go to no team."""
    raw = {name: unguard(record[k]) if k < len(record) else "" for name, k in index.items()}
    found = len(problems.lines)

    def bad(column: str, message: str) -> None:
        problems.cell(number, column, message)

    ident = raw[INJECT_ID].strip()
    if not ident:
        bad(INJECT_ID, "is empty: every row needs the id of its inject")
    elif not _valid_id(ident):
        bad(INJECT_ID, f"'{ident}' is not a valid id ({_ID_HINT})")

    at: int | None = None
    if raw[EX_TIME].strip():
        try:
            at = parse_exercise_time(raw[EX_TIME])
        except ValueError as exc:
            bad(EX_TIME, str(exc))
    release: Release | None = None
    released = raw[RELEASED].strip()
    try:
        release = parse_release(released) if released else Release("time" if raw[EX_TIME].strip() else "hand")
    except ValueError as exc:
        bad(RELEASED, str(exc))
    if release is not None:
        if release.kind == "time" and not raw[EX_TIME].strip():
            bad(EX_TIME, "is empty, but 'Released by' says time: give the offset, like 00:15")
        elif release.kind != "time" and raw[EX_TIME].strip():
            bad(
                EX_TIME,
                f"'{raw[EX_TIME].strip()}' is set, but 'Released by' says '{format_release(release)}': "
                "only timed injects have an exercise time (clear the cell, or set 'Released by' to time)",
            )
        elif release.source is not None and release.source == ident:
            bad(RELEASED, f"inject '{ident}' cannot be released by itself")

    to = _ids(raw[TO])
    if not to and ident not in choices:
        bad(TO, "is empty: name the teams (like us; iran) or all")
    for team in to:
        if team != "all" and not _valid_id(team):
            bad(TO, f"'{team}' is not a valid team id ({_ID_HINT})")
    if "all" in to and len(to) > 1:
        bad(TO, f"'{raw[TO].strip()}': 'all' cannot be combined with team ids")

    medium = raw[MEDIUM].strip().lower() or "other"
    if medium not in MEDIA:
        bad(MEDIUM, f"'{raw[MEDIUM].strip()}' is not a method of delivery (expected one of: {', '.join(MEDIA)})")

    if not raw[TITLE].strip():
        bad(TITLE, "is empty: every inject needs a title")
    for column, limit in _LIMITS.items():
        if len(raw[column]) > limit:
            bad(column, f"is too long ({len(raw[column])} characters; at most {limit})")

    objectives = _ids(raw[OBJECTIVE])
    for objective in objectives:
        if not _valid_id(objective):
            bad(OBJECTIVE, f"'{objective}' is not a valid objective id ({_ID_HINT})")

    if len(problems.lines) > found or release is None:
        return None
    values = {
        "at": at,
        "trigger": release.trigger,
        "delay": release.delay,
        "to": tuple(to),
        "from": raw[FROM] if raw[FROM].strip() else None,
        "medium": medium,
        "title": raw[TITLE],
        "body": raw[TEXT],
        "expect": raw[EXPECT],
        "objectives": tuple(objectives),
        "notes": raw[NOTES],
        "when": _KEEP if release.kind == "condition" else None,
    }
    return _Row(number, ident, release, values)


def _listing(ids: list[str], limit: int = 12) -> str:
    shown = ", ".join(ids[:limit])
    return (shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")) if ids else "none defined"


def _read(data: bytes | str, source: str, base: Exercise | None) -> list[_Row]:
    """Every row of the file, checked on its own and against the others and the base."""
    problems = _Problems(source)
    text = _decode(data, problems)
    problems.raise_any()
    records = _records(text, problems)
    start = next((n for n, r in enumerate(records) if any(c.strip() for c in r)), None)
    if start is None:
        problems.file("no rows: expected a header row naming the MSEL columns, then one row per inject")
        problems.raise_any()
        return []
    index = _header(records[start], start + 1, problems)
    if any(c not in index for c in REQUIRED):
        problems.raise_any()
    width = len(records[start])
    choices = frozenset(i.id for i in base.injects if i.choose) if base is not None else frozenset()
    rows: list[_Row] = []
    first_row: dict[str, int] = {}
    numbered = [(n + 1, r) for n, r in enumerate(records) if n > start and any(c.strip() for c in r)]
    if not numbered:
        problems.file("no rows: the header is not followed by any inject")
    for number, record in numbered:
        extra = [c for c in record[width:] if c.strip()]
        if extra:
            problems.row(
                number,
                f"{len(record)} cells, but the header names {width} columns "
                "(is a cell holding a comma or a line break not in quotes?)",
            )
            continue
        ident = unguard(record[index[INJECT_ID]]).strip() if index[INJECT_ID] < len(record) else ""
        if _valid_id(ident):
            if ident in first_row:
                problems.cell(number, INJECT_ID, f"duplicate id '{ident}' (first in row {first_row[ident]})")
            else:
                first_row[ident] = number
        row = _parse_row(number, record, index, problems, choices)
        if row is not None and first_row.get(row.id) == number:
            rows.append(row)
    _check_references(rows, list(first_row), base, problems)
    problems.raise_any()
    return rows


def _when_of(base: Exercise, ident: str) -> Condition | None:
    try:
        return base.inject(ident).when
    except KeyError:
        return None


def _check_references(rows: list[_Row], ids: list[str], base: Exercise | None, problems: _Problems) -> None:
    """Teams, objectives and triggers named by the rows must exist (in the base, or among the rows)."""
    decisions = {i.id: i.decision for i in base.injects if i.decision is not None} if base else {}
    for row in rows:
        if base is not None:
            teams = [t.id for t in base.teams]
            for team in row.values["to"]:
                if team != "all" and team not in teams:
                    problems.cell(row.number, TO, f"unknown team '{team}' (teams: {_listing(teams)}, or all)")
            objectives = [o.id for o in base.objectives]
            for objective in row.values["objectives"]:
                if objective not in objectives:
                    problems.cell(
                        row.number, OBJECTIVE, f"unknown objective '{objective}' (objectives: {_listing(objectives)})"
                    )
        release = row.release
        where = "the base script" if base is not None else "a base script (give one with --base)"
        if release.kind == "condition" and (base is None or _when_of(base, row.id) is None):
            problems.cell(
                row.number,
                RELEASED,
                f"inject '{row.id}' has no condition in {where}: a condition is written in the script "
                "(when:), not in the MSEL",
            )
            continue
        if release.kind == "choice" and (base is None or getattr(base.choice_of(row.id), "id", None) != release.source):
            problems.cell(
                row.number,
                RELEASED,
                f"inject '{row.id}' is not an alternative of '{release.source}' in {where}: choices are written "
                "in the script (choose:), not in the MSEL",
            )
            continue
        if release.source is None:
            continue
        if release.source not in ids:
            problems.cell(
                row.number,
                RELEASED,
                f"unknown inject '{release.source}' (no row has this id; injects: {_listing(ids)})",
            )
            continue
        if release.kind != "decision":
            continue
        decision = decisions.get(release.source)
        if decision is None:
            problems.cell(
                row.number,
                RELEASED,
                f"inject '{release.source}' asks for no decision (decisions come from {where}; "
                f"injects with decisions: {_listing([i for i in decisions if i in ids])})",
            )
            continue
        options = [o.id for o in decision.options]
        if release.option not in options:
            problems.cell(
                row.number,
                RELEASED,
                f"unknown option '{release.option}' of decision '{release.source}' (options: {_listing(options)})",
            )


# --- import: building the script -----------------------------------------------------------


def _raw(key: str, value: Any) -> Any:
    """The YAML value of a field, or _REMOVE when it is the default (no key)."""
    if key == "at":
        return _REMOVE if value is None else format_offset(value)
    if key == "trigger":
        if value is None:
            return _REMOVE
        return value.model_dump(exclude_none=True)
    if key == "delay":
        return format_duration(value) if value else _REMOVE
    if key == "to":
        return "all" if value == ("all",) else list(value)
    if key == "objectives":
        return list(value) if value else _REMOVE
    if key == "medium":
        return _REMOVE if value == "other" else value
    if key in ("from", "body", "expect", "notes"):
        return value if value else _REMOVE
    if key == "when":
        return _REMOVE if value is None else _condition_yaml(value.model_dump(exclude_none=True))
    return value


def _condition_yaml(value: Any) -> Any:
    """A condition as the script writes it (durations as `15m`, not seconds)."""
    if isinstance(value, dict):
        return {k: format_duration(v) if k == "within" else _condition_yaml(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_condition_yaml(v) for v in value]
    return value


def _put(entry: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Set key (in its place when it exists; else before the first field the model declares after it)."""
    if key in entry:
        return {**entry, key: value}
    rank = _ORDER.index(key)
    out: dict[str, Any] = {}
    for k, v in entry.items():
        if key not in out and k in _ORDER and _ORDER.index(k) > rank:
            out[key] = value
        out[k] = v
    out.setdefault(key, value)
    return out


def _model_values(inject: Inject) -> dict[str, Any]:
    return {
        "at": inject.at,
        "trigger": inject.trigger,
        "delay": inject.delay,
        "to": inject.to,
        "from": inject.from_,
        "medium": inject.medium,
        "title": inject.title,
        "body": inject.body,
        "expect": inject.expect,
        "objectives": inject.objectives,
        "notes": inject.notes,
        "when": inject.when,
    }


def _changed(row: _Row, inject: Inject) -> list[str]:
    old = _model_values(inject)
    changed = [key for key, value in row.values.items() if old[key] != value]
    if any(key in _RELEASE_KEYS for key in changed):
        # A new way of release rewrites all three keys: no stale `delay` or `at` may stay behind.
        changed += [k for k in _RELEASE_KEYS if k not in changed and _raw(k, row.values[k]) is _REMOVE]
    return changed


def _apply(entry: dict[str, Any], row: _Row, keys: list[str]) -> dict[str, Any]:
    for key in keys:
        value = _raw(key, row.values[key])
        entry = _drop(entry, key) if value is _REMOVE else _put(entry, key, value)
    return entry


def _drop(entry: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != key}


def _update(entry: dict[str, Any], inject: Inject, row: _Row, library: Path) -> dict[str, Any]:
    """The base entry of an inject, updated with what its row changes."""
    if row.values["when"] is _KEEP:  # a `condition` row keeps the base's condition as written
        row = dataclasses.replace(row, values={**row.values, "when": inject.when})
    keys = _changed(row, inject)
    if not keys:
        return entry
    if "include" not in entry:
        return _apply(entry, row, keys)
    name = entry["include"]
    lib = read_yaml(resolve_include(name, library), f"injects/{name}").data
    lib = lib if isinstance(lib, dict) else {}
    out = dict(entry)
    for key in keys:
        value = _raw(key, row.values[key])
        if value is _REMOVE and key in lib:
            if key in _RELEASE_KEYS:
                # The library sets a way of release the row takes away: write the inject out in full.
                merged = {**lib, **{k: v for k, v in entry.items() if k != "include"}}
                full = _apply(merged, row, keys)
                return {k: full[k] for k in sorted(full, key=lambda k: _ORDER.index(k) if k in _ORDER else 99)}
            value = _EMPTY[key]
        same_as_library = value is _REMOVE or (key in lib and lib[key] == value)
        out = _drop(out, key) if same_as_library else _put(out, key, value)
    return out


def _new(row: _Row) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": row.id}
    return _apply(entry, row, list(row.values))


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")
    return slug[:64].rstrip("-_") or "imported-msel"


def _skeleton(rows: list[_Row], source: str) -> dict[str, Any]:
    """A minimal script around rows read without a base: placeholder teams and objectives."""
    problems = _Problems(source)
    teams: list[str] = []
    objectives: list[str] = []
    for row in rows:
        teams += [t for t in row.values["to"] if t != "all" and t not in teams]
        objectives += [o for o in row.values["objectives"] if o not in objectives]
    if len(teams) < 2:
        found = f" ({', '.join(teams)})" if teams else ""
        problems.file(
            f"column '{TO}' names {len(teams)} team{'s' if len(teams) != 1 else ''}{found}; a script needs at "
            "least two: name them in the To column, or import onto a base script (--base)"
        )
    problems.raise_any()
    stem = Path(source).stem
    data: dict[str, Any] = {
        "format": 1,
        "id": _slug(stem),
        "title": (stem.replace("-", " ").replace("_", " ").strip() or "Imported MSEL")[:200],
        "summary": f"Imported from the MSEL {Path(source).name} without a base script: "
        "teams, positions and objectives are placeholders to complete.",
        "teams": [
            {"id": t, "name": t.upper() if len(t) <= 3 else t, "positions": [{"id": f"{t[:59]}-lead", "title": "Lead"}]}
            for t in teams
        ],
    }
    if objectives:
        data["objectives"] = [
            {"id": o, "text": f"Objective {o} (imported from the MSEL: describe it)"} for o in objectives
        ]
    data["injects"] = [_new(row) for row in rows]
    return data


def import_msel(
    csv_text: bytes | str,
    base: dict[str, Any] | None,
    source_name: str,
    *,
    base_exercise: Exercise | None = None,
    library: Path = LIBRARY,
    script_dir: Path = EXERCISES,
) -> dict[str, Any]:
    """The plain data of a script whose injects come from an MSEL CSV (bytes: UTF-8, BOM or not).

    base is the raw data of the script the MSEL came from (see `read_base`), base_exercise its
    loaded form (loaded here when not given). Raises MselError with every problem of the file.
    """
    if base is not None and base_exercise is None:
        try:
            base_exercise = load_exercise_bytes(
                dump_script(base).encode("utf-8"), "base script", script_dir=script_dir, library=library
            )
        except ScriptError as exc:
            raise MselError(["the base script does not load:", *(str(p) for p in exc.problems)]) from None
    rows = _read(csv_text, source_name, base_exercise if base is not None else None)
    if base is None or base_exercise is None:
        return _skeleton(rows, source_name)
    entries = [e for e in base.get("injects") or [] if isinstance(e, dict)]
    by_id = {inject.id: (entry, inject) for entry, inject in zip(entries, base_exercise.injects, strict=True)}
    injects = []
    for row in rows:
        if row.id in by_id:
            injects.append(_update(*by_id[row.id], row, library))
        else:
            injects.append(_new(row))
    return {**base, "injects": injects}


# --- reading a base, writing and checking the result ----------------------------------------


def read_base(
    path: Path | str, *, library: Path = LIBRARY, display: str | None = None
) -> tuple[dict[str, Any], Exercise]:
    """The raw data and the loaded form of a base script; MselError when it does not load."""
    shown = display or str(path)
    try:
        exercise = load_exercise(path, library=library, display=shown)
    except ScriptError as exc:
        raise MselError([f"{shown}: the base script does not load:", *(str(p) for p in exc.problems)]) from None
    data = read_yaml(Path(path), shown).data
    return data, exercise


class _Dumper(yaml.SafeDumper):
    """Safe YAML in the style of the hand-written scripts: indented lists, short lists of ids on one
    line, offsets in quotes, text of several lines as literal blocks, timestamps as written; no anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if OFFSET_RE.match(value) else "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    flow = all(isinstance(v, (str, int, float)) and "\n" not in str(v) for v in value) and len(str(value)) <= 80
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


def _represent_dict(dumper: yaml.SafeDumper, value: dict[str, Any]) -> yaml.MappingNode:
    # Triggers and jams on one line, as the format documents them: {inject: ID}, {channel: ID, for: 10m}.
    flow = bool(value) and set(value) <= _FLOW_KEYS and all(isinstance(v, (str, int)) for v in value.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=flow)


def _represent_datetime(dumper: yaml.SafeDumper, value: datetime) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", value.isoformat())


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(datetime, _represent_datetime)


def dump_script(data: dict[str, Any]) -> str:
    """The YAML text of a script, with the schema line editors use, fields in their order."""
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return f"{SCHEMA_LINE}\n{text}"


def check_script(text: str, display: str, *, script_dir: Path = EXERCISES, library: Path = LIBRARY) -> Exercise:
    """Load the YAML text of an imported script with the real loader; MselError naming the inject otherwise."""
    raw = text.encode("utf-8")
    if len(raw) > MAX_SCRIPT_BYTES:
        raise MselError([f"{display}: the imported script would be larger than {MAX_SCRIPT_BYTES // 1024 // 1024} MiB"])
    try:
        return load_exercise_bytes(raw, display, script_dir=script_dir, library=library)
    except ScriptError as exc:
        doc = parse_yaml(raw, display)
        data = doc.data if isinstance(doc.data, dict) else {}
        starts = [
            (doc.positions.values[("injects", i)].line, e.get("id") if isinstance(e, dict) else None)
            for i, e in enumerate(data.get("injects") or [])
            if ("injects", i) in doc.positions.values
        ]
        after = [m.line for k, m in doc.positions.keys.items() if len(k) == 1 and starts and m.line > starts[-1][0]]
        end = min(after, default=None)
        lines = []
        for problem in exc.problems:
            line = problem.mark.line
            inside = problem.mark.file == display and (end is None or line < end)
            within = [ident for start, ident in starts if start <= line] if inside else []
            lines.append(f"{problem} (inject '{within[-1]}')" if within and within[-1] else str(problem))
        raise MselError(lines) from None
