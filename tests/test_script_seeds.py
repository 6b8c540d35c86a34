"""Both seed scenarios load; a broken copy of each for each kind of rule gives the error at the right line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tabletop import ROOT
from tabletop.script import ScriptError, load_exercise

SEEDS = sorted((ROOT / "exercises").glob("*.yaml"))

# (rule, regex matching the first line to break, replacement for that line, expected message (regex))
BREAKS = [
    (
        "unknown team",
        r"^(\s+to: )\[(\w+)\]$",
        r"\1[teheran]",
        r"unknown team 'teheran' in 'to' \(teams: us, iran, oman, or all\)",
    ),
    ("unknown field", r"^(\s+)title: (.*)$", r"\1titel: \2", r"unknown field 'titel' \(expected one of: .*\)"),
    ("duplicate team id", r"^  - id: iran$", "  - id: us", r"duplicate team id 'us' \(first at line \d+\)"),
    ("relay team is a member", r"^(\s+)relay: oman$", r"\1relay: us", r"relay team 'us' is also a member of channel"),
    (
        "bad default",
        r"^(\s+)default: ([\w-]+)$",
        r"\1default: no-such-option",
        r"default 'no-such-option' is not one of the options",
    ),
    ("bad offset", r'^(\s+)at: "\+00:(\d\d)"$', r'\1at: "00:\2"', r"is not an offset of exercise time"),
    ("bad medium", r"^(\s+)medium: (\w+)$", r"\1medium: pigeon", r"'pigeon' is not a valid 'medium'"),
    ("unknown channel", r"^(\s+- jam: \{channel: )(\w[\w-]*)", r"\1nowhere", r"unknown channel 'nowhere' in 'jam'"),
]


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_seed_scenario_loads(path: Path):
    exercise = load_exercise(path)
    kinds = {i.release for i in exercise.injects}
    assert {"timed", "triggered", "contingency"} <= kinds <= {"timed", "triggered", "contingency", "conditional"}
    assert len(exercise.injects) >= 15 and sum(1 for i in exercise.injects if i.decision) >= 2
    assert 60 * 60 <= exercise.duration <= 120 * 60


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
@pytest.mark.parametrize(("rule", "pattern", "replacement", "message"), BREAKS, ids=[b[0] for b in BREAKS])
def test_broken_seed_reports_the_rule_at_its_line(tmp_path, path, rule, pattern, replacement, message):
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    regex = re.compile(pattern)
    index = next((i for i, line in enumerate(lines) if regex.match(line.rstrip("\n"))), None)
    if index is None:  # a script on a base file keeps its relay channels (or teams) in the base
        pytest.skip(f"{path.name} has no line for the rule {rule!r}")
    lines[index] = regex.sub(replacement, lines[index].rstrip("\n")) + "\n"
    broken = tmp_path / path.name
    broken.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ScriptError) as info:
        load_exercise(broken, display=path.name)
    hits = [p for p in info.value.problems if re.search(message, p.message)]
    assert hits, [str(p) for p in info.value.problems]
    assert hits[0].mark.file == path.name and hits[0].mark.line == index + 1, str(hits[0])
