"""`exercise upgrade`: a format-1 script rewritten as format 2 means the same and keeps its comments."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tabletop import ROOT
from tabletop.script import ScriptError, load_exercise, load_exercise_bytes
from tabletop.script.models import snapshot
from tabletop.script.upgrade import upgrade

DATA = Path(__file__).parent / "data"
MINIMAL = (DATA / "minimal.yaml").read_text(encoding="utf-8")
SCENARIO = "scenario:\n  start: 2019-06-20T04:05:00+04:00\n  time_scale: 2\n"
SCRIPTS = [
    (DATA / "minimal.yaml", DATA / "lib"),
    # The shipped scenarios that are still format 1 (a format-2 script is printed unchanged, tested below).
    *((p, ROOT / "injects") for p in sorted((ROOT / "exercises").glob("*.yaml")) if "\nformat: 1\n" in p.read_text()),
]


def _same(before, after) -> None:
    assert after.format == 2 and before.format == 1
    assert len(after.moves) == (1 if before.scenario else 0) and after.scenario is None
    drop = ("format", "scenario", "moves")
    assert {k: v for k, v in snapshot(before).items() if k not in drop} == {
        k: v for k, v in snapshot(after).items() if k not in drop
    }
    for t in range(0, before.duration + 1, 60):
        assert after.scenario_at(t) == before.scenario_at(t)


@pytest.mark.parametrize(("path", "library"), SCRIPTS, ids=lambda p: getattr(p, "name", ""))
def test_every_script_upgrades_to_the_same_exercise(path, library):
    text = upgrade(path, library=library)
    # loaded as if it stood beside the original, so that its attachments resolve
    upgraded = load_exercise_bytes(text.encode("utf-8"), path.name, script_dir=path.parent, library=library)
    _same(load_exercise(path, library=library), upgraded)
    original = path.read_text(encoding="utf-8").splitlines()
    diff = list(difflib.ndiff(original, text.splitlines()))
    added = [line[2:] for line in diff if line.startswith("+ ")]
    removed = [line[2:] for line in diff if line.startswith("- ")]
    assert added == ["format: 2", *_move_lines(path)]
    assert removed == ["format: 1", *original[original.index("scenario:") :][:3]]


def _move_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    at = lines.index("scenario:")
    start = lines[at + 1].split(": ", 1)[1]
    scale = lines[at + 2].split(": ", 1)[1]
    return [
        "moves:",
        "  - id: move-1",
        "    title: Move 1",
        '    at: "+00:00"',
        f"    scenario_start: {start}",
        f"    time_scale: {scale}",
    ]


@pytest.mark.parametrize(
    ("scenario", "moves"),
    [
        (
            "scenario:   # in-game clock\n  # Gulf time\n  start: 2019-06-20T04:05:00+04:00  # dawn\n"
            "  time_scale: 2 # fast\n# after the block\n",
            'moves:  # in-game clock\n  - id: move-1\n    title: Move 1\n    at: "+00:00"\n    # Gulf time\n'
            "    scenario_start: 2019-06-20T04:05:00+04:00  # dawn\n    time_scale: 2 # fast\n# after the block\n",
        ),
        (
            "scenario: {start: '2019-06-20T04:05:00+04:00', time_scale: 2}  # flow\n",
            'moves:\n  - id: move-1\n    title: Move 1\n    at: "+00:00"\n'
            "    scenario_start: '2019-06-20T04:05:00+04:00'\n    time_scale: 2  # flow\n",
        ),
        (
            "scenario:\n  time_scale: 2\n  start: 2019-06-20T04:05:00+04:00 # last\n",
            'moves:\n  - id: move-1\n    title: Move 1\n    at: "+00:00"\n'
            "    time_scale: 2\n    scenario_start: 2019-06-20T04:05:00+04:00 # last\n",
        ),
        (
            "scenario:\n  start: 2019-06-20T04:05:00+04:00\n",
            'moves:\n  - id: move-1\n    title: Move 1\n    at: "+00:00"\n'
            "    scenario_start: 2019-06-20T04:05:00+04:00\n",
        ),
        ("", ""),
    ],
    ids=["comments", "flow", "order", "no scale", "no scenario"],
)
def test_comments_and_layout_are_kept(tmp_path, library, scenario, moves):
    path = tmp_path / "s.yaml"
    path.write_text(MINIMAL.replace("format: 1", "format: 1  # the first").replace(SCENARIO, scenario), "utf-8")
    text = upgrade(path, library=library)
    assert text == MINIMAL.replace("format: 1", "format: 2  # the first").replace(SCENARIO, moves)
    out = tmp_path / "out.yaml"
    out.write_text(text, encoding="utf-8")
    _same(load_exercise(path, library=library), load_exercise(out, library=library))


def test_a_format2_script_is_left_as_it_is(library):
    assert upgrade(DATA / "format2.yaml", library=library) == (DATA / "format2.yaml").read_text(encoding="utf-8")


def test_a_broken_script_is_not_upgraded(tmp_path, library):
    path = tmp_path / "broken.yaml"
    path.write_text(MINIMAL.replace("to: [us, oman]", "to: [us, teheran]"), encoding="utf-8")
    with pytest.raises(ScriptError):
        upgrade(path, library=library)


def test_upgrade_command(runner, app, tmp_path):
    app.config["INJECTS_DIR"] = str(DATA / "lib")
    printed = runner.invoke(args=["exercise", "upgrade", str(DATA / "minimal.yaml")])
    assert printed.exit_code == 0, printed.output
    assert printed.output == upgrade(DATA / "minimal.yaml", library=DATA / "lib")
    out = tmp_path / "up.yaml"
    written = runner.invoke(args=["exercise", "upgrade", str(DATA / "minimal.yaml"), "-o", str(out)])
    assert written.exit_code == 0 and f"wrote {out}" in written.output
    assert out.read_text(encoding="utf-8") == printed.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(MINIMAL.replace("to: [us, oman]", "to: [us, teheran]"), encoding="utf-8")
    failed = runner.invoke(args=["exercise", "upgrade", str(broken)])
    assert failed.exit_code == 1 and "unknown team 'teheran'" in failed.output and "Traceback" not in failed.output


def test_timeline_command_dates_rows_by_their_move(runner, app):
    app.config["INJECTS_DIR"] = str(DATA / "lib")
    result = runner.invoke(args=["exercise", "timeline", str(DATA / "format2.yaml")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[-1] == "move"
    opener = next(line for line in lines if "Move 2 opener" in line)
    assert "18 Jul 2019 10:00" in opener and opener.split()[-1] == "m2"
    options = next(line for line in lines if "Options" in line)
    assert "20 Jun 2019 07:25" in options and options.split()[-1] == "m1"
