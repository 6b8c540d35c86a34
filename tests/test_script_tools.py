"""The authoring tools and the committed JSON Schema."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest

from tabletop import ROOT
from tabletop.script import load_exercise
from tabletop.script.schema import exercise_schema
from tabletop.script.yamlsrc import read_yaml

DATA = Path(__file__).parent / "data"
SCRIPTS = sorted((ROOT / "exercises").glob("*.yaml"))
BASES = sorted((ROOT / "injects" / "bases").glob("*.yaml")) + [DATA / "lib" / "bases" / "three-teams.yaml"]


def test_committed_schema_is_in_sync():
    committed = json.loads((ROOT / "schema" / "exercise.schema.json").read_text(encoding="utf-8"))
    assert committed == exercise_schema(), "run: flask --app app exercise schema"


def test_schema_command_writes_the_schema(runner, tmp_path):
    out = tmp_path / "s.json"
    result = runner.invoke(args=["exercise", "schema", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8")) == exercise_schema()


def _as_editor_sees(value):
    """YAML timestamps are datetimes; JSON Schema sees the text an editor sees."""
    if isinstance(value, dict):
        return {k: _as_editor_sees(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_editor_sees(v) for v in value]
    return value.isoformat() if isinstance(value, datetime) else value


@pytest.mark.parametrize("path", [DATA / "minimal.yaml", DATA / "format2.yaml", *SCRIPTS, *BASES], ids=lambda p: p.name)
def test_valid_scripts_satisfy_the_json_schema(path):
    """What editors check as authors type agrees with the loader on valid scripts (and on base files, read
    as the part of a script they are)."""
    jsonschema.Draft202012Validator.check_schema(exercise_schema())
    data = _as_editor_sees(read_yaml(path, path.name).data)
    if "bases" in path.parts:
        data = {"format": 2, "id": "x", "title": "x", "base": path.name, **data}
    jsonschema.validate(data, exercise_schema())


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda d: d.pop("base"), "'teams' is a required property"),
        (lambda d: d["injects"][0].pop("to"), "'to' is a required property"),
        (lambda d: d["moves"][0].update(stop_clock="no"), "'no' is not of type 'boolean'"),
        (lambda d: d["injects"][3].update(when={"escalation": {"at_least": 1}, "no_ack": {}}), "too many properties"),
    ],
)
def test_the_json_schema_refuses_broken_format2(change, complaint):
    data = _as_editor_sees(read_yaml(DATA / "format2.yaml", "format2.yaml").data)
    change(data)
    with pytest.raises(jsonschema.ValidationError) as info:
        jsonschema.validate(data, exercise_schema())

    def messages(error: jsonschema.ValidationError) -> list[str]:
        return [error.message, *(m for e in error.context or [] for m in messages(e))]

    assert any(complaint in m for m in messages(info.value)), messages(info.value)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_seed_scripts_load_and_point_editors_at_the_schema(path):
    exercise = load_exercise(path)
    assert path.read_text(encoding="utf-8").splitlines()[0] == (
        "# yaml-language-server: $schema=../schema/exercise.schema.json"
    )
    assert exercise.id == path.stem


def test_validate_summarises_valid_files(runner, app):
    app.config["INJECTS_DIR"] = str(DATA / "lib")
    result = runner.invoke(args=["exercise", "validate", str(DATA / "minimal.yaml")])
    assert result.exit_code == 0, result.output
    assert (
        "minimal.yaml: ok: 'Minimal', 3 teams (us, iran, oman), 3 channels, 6 injects (1 decisions), duration 1h"
        in (result.output)
    )


def test_validate_lists_errors_and_exits_1(runner, app, tmp_path):
    app.config["INJECTS_DIR"] = str(DATA / "lib")
    bad = tmp_path / "bad.yaml"
    bad.write_text((DATA / "minimal.yaml").read_text(encoding="utf-8").replace("to: [us, oman]", "to: [us, teheran]"))
    result = runner.invoke(args=["exercise", "validate", str(DATA / "minimal.yaml"), str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:79:14: unknown team 'teheran' in 'to' (teams: us, iran, oman, or all)" in result.output
    assert f"{bad}: 1 problem" in result.output
    assert "minimal.yaml: ok" in result.output


def test_validate_never_shows_a_traceback(runner, tmp_path):
    junk = tmp_path / "junk.yaml"
    junk.write_bytes(b"\xff\xfe\x00junk")
    result = runner.invoke(args=["exercise", "validate", str(junk), str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "not UTF-8 text" in result.output and "cannot read the file" in result.output


def test_timeline_prints_the_msel(runner, app):
    app.config["INJECTS_DIR"] = str(DATA / "lib")
    result = runner.invoke(args=["exercise", "timeline", str(DATA / "minimal.yaml")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "#",
        "ex.",
        "time",
        "scenario",
        "time",
        "to",
        "from",
        "medium",
        "title",
        "released",
        "by",
    ]
    body = "\n".join(lines[2:])
    # time_scale 2: +00:30 of exercise time is 05:05 in the scenario
    assert " ".join(["+00:30", "20", "Jun", "2019", "05:05"]) in " ".join(body.split())
    order = [line.split()[0] for line in lines[2:]]
    assert order == ["1", "2", "3", "4", "5", "6"]
    titles = [line for line in lines[2:]]
    assert "Drone down" in titles[0] and "Follow-up" in titles[1] and "time +00:00" in titles[0]
    assert "inject shootdown" in titles[1]
    assert "decision options: strike, +5m" in titles[4]
    assert "Tanker seized" in titles[5] and "by hand" in titles[5]


def test_timeline_gives_each_move_its_true_date(runner, app):
    """Format 2: a branch row carries its move's date, and the moves are listed with their own clocks."""
    app.config["INJECTS_DIR"] = str(DATA / "lib")
    result = runner.invoke(args=["exercise", "timeline", str(DATA / "format2.yaml")])
    assert result.exit_code == 0, result.output
    after_strike = next(line for line in result.output.splitlines() if "Four weeks after the strikes" in line)
    assert "18 Jul 2019" in after_strike and after_strike.rstrip().endswith("m2")  # released by its choice, in m2
    moves = result.output.split("\nmoves:\n")[1].splitlines()
    assert moves[0].split() == ["m1", "+00:00", "20", "Jun", "2019", "04:05", "(x20)", "Move", "1,", "the", "shootdown"]
    assert moves[1].split()[:6] == ["m2", "+01:00", "18", "Jul", "2019", "10:00"] and "clock stops" in moves[1]
    assert moves[2].split()[:6] == ["m3", "+01:30", "18", "Jul", "2019", "10:30"] and "(x2)" in moves[2]
