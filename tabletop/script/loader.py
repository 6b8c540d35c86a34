"""Load an exercise script: YAML -> includes -> models -> cross-field rules.

`load_exercise` returns an immutable `Exercise` or raises `ScriptError` with every problem of
the file, each as `path:line:column: message`.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from tabletop import ROOT

from .checks import FORMAT2_CHANNEL, FORMAT2_EFFECT, FORMAT2_INJECT, FORMAT2_TOP, Checker
from .durations import describe
from .errors import Mark, Problem, ScriptError
from .models import Exercise
from .paths import PathRefused, resolve_include
from .yamlsrc import Path_, Positions, parse_yaml, read_yaml

LIBRARY = ROOT / "injects"
EXERCISES = ROOT / "exercises"


def load_exercise(path: Path | str, *, library: Path | str = LIBRARY, display: str | None = None) -> Exercise:
    """Load and validate the script at path."""
    path, library = Path(path), Path(library)
    doc = read_yaml(path, display or str(path))
    return _validate(doc.data, doc.positions, doc.problems, display or str(path), path.parent, library)


def load_exercise_located(
    path: Path | str, *, library: Path | str = LIBRARY, display: str | None = None
) -> tuple[Exercise, Positions]:
    """Load as `load_exercise`, and say where each value of the merged script was written (base file
    and library injects included): `exercise lint` points its warnings there."""
    path, library = Path(path), Path(library)
    doc = read_yaml(path, display or str(path))
    places: list[Positions] = []
    exercise = _validate(doc.data, doc.positions, doc.problems, display or str(path), path.parent, library, places)
    return exercise, places[0]


def load_exercise_bytes(
    raw: bytes, display: str, *, script_dir: Path | str = EXERCISES, library: Path | str = LIBRARY
) -> Exercise:
    """Load and validate a script given as bytes (an upload), as if it stood in script_dir."""
    script_dir, library = Path(script_dir), Path(library)
    doc = parse_yaml(raw, display)
    return _validate(doc.data, doc.positions, doc.problems, display, script_dir, library)


def _validate(
    data: Any,
    positions: Positions,
    problems: list[Problem],
    display: str,
    script_dir: Path,
    library: Path,
    places: list[Positions] | None = None,
) -> Exercise:
    start = Mark(display, 1, 1)
    if problems and data is None:
        raise ScriptError(problems)
    if data is None:
        raise ScriptError(
            [Problem(start, "the file is empty: expected an exercise script (format, id, title, teams ...)")]
        )
    if not isinstance(data, dict):
        raise ScriptError(
            [
                Problem(
                    start,
                    f"expected a mapping of fields (format, id, title, teams ...) at the top, found {describe(data)}",
                )
            ]
        )
    problems = list(problems)
    data, positions = _resolve_base(data, positions, library, problems)
    data = _resolve_includes(data, positions, library, problems)
    if places is not None:
        places.append(positions)
    exercise = None
    try:
        exercise = Exercise.model_validate(data)
    except ValidationError as exc:
        problems.extend(_translate(exc, positions, data.get("format")))
    problems.extend(Checker(data, positions, script_dir, library).run())
    if problems or exercise is None:
        raise ScriptError(problems)
    return exercise


# What a base file may hold; lists merge by id, mappings are replaced whole by the script's.
BASE_LISTS = ("teams", "channels", "personas")
BASE_MAPPINGS = ("escalation", "hotwash")
BASE_KEYS = BASE_LISTS + BASE_MAPPINGS


def _resolve_base(
    data: dict[str, Any], positions: Positions, library: Path, problems: list[Problem]
) -> tuple[dict[str, Any], Positions]:
    """Merge the base file a format-2 script names: its teams, channels and personas come first, an
    entry of the script with the same id replaces the base's in its place, and the script's other
    entries follow; the script's escalation and hotwash replace the base's whole. Every value keeps
    the place (file, line, column) it was written at."""
    if "base" not in data:
        return data, positions
    name = data["base"]
    if not isinstance(name, str):
        problems.append(Problem(positions.value(("base",)), f"'base' takes a path in injects/, found {describe(name)}"))
        return {k: v for k, v in data.items() if k != "base"}, positions
    try:
        target = resolve_include(name, library, "base")
    except PathRefused as exc:
        problems.append(Problem(positions.value(("base",)), str(exc)))
        return data, positions
    display = f"injects/{name}"
    doc = read_yaml(target, display)
    problems.extend(doc.problems)
    if not isinstance(doc.data, dict):
        if doc.data is not None or not doc.problems:
            problems.append(
                Problem(
                    Mark(display, 1, 1),
                    f"a base file must be a mapping of {', '.join(BASE_KEYS)}, found {describe(doc.data)}",
                )
            )
        return data, positions
    base = doc.data
    for key in base:
        if key == "base":
            problems.append(Problem(doc.positions.key((key,)), "a base file cannot name another base"))
        elif key not in BASE_KEYS:
            problems.append(
                Problem(
                    doc.positions.key((key,)),
                    f"unknown field '{key}' in a base file (expected one of: {', '.join(BASE_KEYS)})",
                )
            )
    merged = dict(data)
    places = Positions(
        {p: m for p, m in positions.values.items() if not p or p[0] not in BASE_KEYS or p[0] not in base},
        {p: m for p, m in positions.keys.items() if p[0] not in BASE_KEYS or p[0] not in base},
    )
    for key in BASE_KEYS:
        if key not in base:
            continue
        own = data.get(key)
        if key in BASE_MAPPINGS or not isinstance(base[key], list) or (key in data and not isinstance(own, list)):
            source = (positions, data[key]) if key in data else (doc.positions, base[key])
            merged[key] = source[1]
            _copy(source[0], places, key, lambda i: i)
            if key in data and key in BASE_LISTS and not isinstance(base[key], list):
                problems.append(
                    Problem(doc.positions.value((key,)), f"expected a list for '{key}', found {describe(base[key])}")
                )
            continue
        entries, origin = _merge_by_id(base[key], own if isinstance(own, list) else [])
        base_at = {old: new for new, (side, old) in enumerate(origin) if side == "base"}
        own_at = {old: new for new, (side, old) in enumerate(origin) if side == "script"}
        if key == "teams":
            entries = _add_to_base_teams(base[key], entries, origin, doc.positions, places)
        merged[key] = entries
        _copy(positions, places, key, own_at.get)
        _copy(doc.positions, places, key, base_at.get)
        if key not in data:
            places.values[(key,)] = doc.positions.value((key,))
            places.keys[(key,)] = doc.positions.key((key,))
    return merged, places


def _merge_by_id(base: list[Any], own: list[Any]) -> tuple[list[Any], list[tuple[str, int]]]:
    """The merged entries, and where each came from: ("base" or "script", its index there)."""
    replacing: dict[str, int] = {}
    for j, entry in enumerate(own):
        ident = entry.get("id") if isinstance(entry, dict) else None
        if isinstance(ident, str):
            replacing.setdefault(ident, j)
    origin: list[tuple[str, int]] = []
    used: set[int] = set()
    for i, entry in enumerate(base):
        ident = entry.get("id") if isinstance(entry, dict) else None
        if isinstance(ident, str) and ident in replacing and replacing[ident] not in used:
            used.add(replacing[ident])
            origin.append(("script", replacing[ident]))
        else:
            origin.append(("base", i))
    origin += [("script", j) for j in range(len(own)) if j not in used]
    entries = [base[i] if side == "base" else own[i] for side, i in origin]
    return entries, origin


def _add_to_base_teams(
    base: list[Any], entries: list[Any], origin: list[tuple[str, int]], places: Positions, into: Positions
) -> list[Any]:
    """A team of the script without `positions` adds to the base's team of the same id: its fields
    (a brief, a name) replace the base's, and the base's positions, and its other fields, stay."""
    by_id = {e["id"]: (i, e) for i, e in enumerate(base) if isinstance(e, dict) and isinstance(e.get("id"), str)}
    out = list(entries)
    for new, (side, _) in enumerate(origin):
        own = entries[new]
        if side != "script" or not isinstance(own, dict) or "positions" in own or own.get("id") not in by_id:
            continue
        old, team = by_id[own["id"]]
        out[new] = {**team, **own}
        for table, target in ((places.values, into.values), (places.keys, into.keys)):
            for path, mark in table.items():
                if len(path) > 2 and path[:2] == ("teams", old) and path[2] not in own:
                    target[("teams", new, *path[2:])] = mark
    return out


def _copy(source: Positions, target: Positions, key: str, index: Any) -> None:
    """Copy the places under key of one document into the merged one, renumbering list entries."""
    for table, into in ((source.values, target.values), (source.keys, target.keys)):
        for path, mark in table.items():
            if not path or path[0] != key:
                continue
            if len(path) == 1:
                into.setdefault(path, mark)
                continue
            new = index(path[1]) if isinstance(path[1], int) else path[1]
            if new is not None:
                into[(key, new, *path[2:])] = mark


def _resolve_includes(
    data: dict[str, Any], positions: Positions, library: Path, problems: list[Problem]
) -> dict[str, Any]:
    injects = data.get("injects")
    if not isinstance(injects, list):
        return data
    merged_list: list[Any] = []
    for index, entry in enumerate(injects):
        if not isinstance(entry, dict) or "include" not in entry:
            merged_list.append(entry)
            continue
        name = entry["include"]
        where = ("injects", index, "include")
        if not isinstance(name, str):
            problems.append(
                Problem(positions.value(where), f"'include' takes a path in injects/, found {describe(name)}")
            )
            merged_list.append({k: v for k, v in entry.items() if k != "include"})
            continue
        try:
            target = resolve_include(name, library)
        except PathRefused as exc:
            problems.append(Problem(positions.value(where), str(exc)))
            merged_list.append({k: v for k, v in entry.items() if k != "include"})
            continue
        display = f"injects/{name}"
        lib = read_yaml(target, display)
        problems.extend(lib.problems)
        base: dict[str, Any] = {}
        if isinstance(lib.data, dict):
            base = lib.data
            if "include" in base:
                problems.append(Problem(lib.positions.key(("include",)), "a library inject cannot include another"))
                base = {k: v for k, v in base.items() if k != "include"}
            # The including entry's own fields win, and keep their own places.
            positions.graft(lib.positions, ("injects", index), skip=set(entry))
        elif lib.data is not None or not lib.problems:
            problems.append(
                Problem(
                    Mark(display, 1, 1),
                    f"a library inject must be a mapping of inject fields, found {describe(lib.data)}",
                )
            )
        merged = {**base, **{k: v for k, v in entry.items() if k != "include"}}
        merged_list.append(merged)
    return {**data, "injects": merged_list}


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Exercise
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None:
            return None
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        model = _inner_model(field.annotation)
    return model


def _field_names(model: type[BaseModel], fmt: Any) -> list[str]:
    names = [f.alias or n for n, f in model.model_fields.items()]
    if fmt == 1:  # a format-1 script is offered only what format 1 knows
        newer = dict(Exercise=FORMAT2_TOP, Channel=FORMAT2_CHANNEL, Inject=FORMAT2_INJECT, Effect=FORMAT2_EFFECT)
        names = [n for n in names if n not in newer.get(model.__name__, ())]
    return names


def _noun(loc: Path_) -> str:
    for part in reversed(loc):
        if isinstance(part, str):
            return part
    return "value"


UNION_TAGS = ("number", "mapping")


def _translate(exc: ValidationError, positions: Positions, fmt: Any = 2) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        # The tags of a tagged union (`escalation`: a number or a mapping) are no keys of the script.
        loc: Path_ = tuple(p for p in error["loc"] if isinstance(p, (str, int)) and p not in UNION_TAGS)
        kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
        name = _noun(loc)
        if kind == "extra_forbidden":
            model = _model_at(loc[:-1])
            allowed = ", ".join(_field_names(model, fmt)) if model else "see docs/exercise-format.md"
            problems.append(Problem(positions.key(loc), f"unknown field '{loc[-1]}' (expected one of: {allowed})"))
            continue
        if kind == "missing":
            problems.append(Problem(positions.value(loc[:-1]), f"missing required field '{loc[-1]}'"))
            continue
        mark = positions.value(loc)
        if loc == ("format",):
            message = f"format {describe(value)} is not supported: this platform reads format 1 and format 2"
        elif kind == "value_error":
            message = str(ctx.get("error", error["msg"]))
        elif kind == "string_pattern_mismatch":
            message = (
                f"'{value}' is not a valid id for '{name}': use lowercase letters, digits, '-' and '_', "
                "starting with a letter or digit"
            )
        elif kind in ("string_type",):
            message = f"expected text for '{name}', found {describe(value)}"
        elif kind in ("int_type", "int_parsing", "int_from_float"):
            message = f"expected a whole number for '{name}', found {describe(value)}"
        elif kind in ("float_type", "float_parsing"):
            message = f"expected a number for '{name}', found {describe(value)}"
        elif kind in ("bool_type", "bool_parsing"):
            message = f"expected true or false for '{name}', found {describe(value)}"
        elif kind in ("list_type", "tuple_type"):
            message = f"expected a list for '{name}', found {describe(value)}"
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            message = f"expected a mapping of fields for '{name}', found {describe(value)}"
        elif kind == "literal_error":
            message = f"{describe(value)} is not a valid '{name}' (expected one of: {ctx.get('expected', '')})"
        elif kind in ("datetime_type", "datetime_parsing", "datetime_from_date_parsing"):
            message = f"expected a date and time for '{name}' like 2019-06-20T04:05:00+04:00, found {describe(value)}"
        elif kind == "too_short" and isinstance(value, list) and len(value) >= int(ctx.get("min_length", 0)):
            continue  # reported through the entries that did not validate
        elif kind == "too_short":
            if isinstance(value, str) or (ctx.get("min_length") == 1 and not isinstance(value, (list, tuple))):
                message = f"'{name}' must not be empty"
            else:
                found = len(value) if value is not None else 0
                message = f"'{name}' needs at least {ctx.get('min_length')} entries, found {found}"
        elif kind in ("string_too_short",):
            message = f"'{name}' must not be empty"
        elif kind in ("string_too_long", "too_long"):
            message = (
                f"'{name}' is too long ({len(value) if value is not None else '?'}; at most {ctx.get('max_length')})"
            )
        elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
            bound = next(iter(ctx.values()), "")
            relation = {"greater_than": "more than", "greater_than_equal": "at least", "less_than": "less than"}.get(
                kind, "at most"
            )
            message = f"'{name}' must be {relation} {bound}, found {describe(value)}"
        else:
            message = f"{error['msg']} for '{name}' (found {describe(value)})"
        problems.append(Problem(mark, message))
    return problems


__all__ = ["load_exercise", "load_exercise_bytes", "ScriptError", "Exercise"]
