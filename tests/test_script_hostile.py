"""No input of any kind gives a traceback, hangs, or reads anything outside the tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tabletop import ROOT
from tabletop.script import ScriptError, load_exercise, load_exercise_bytes

DATA = Path(__file__).parent / "data"

BOMB = b"""
a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
"""

HOSTILE = {
    "empty": (b"", "the file is empty"),
    "only a comment": (b"# nothing here\n", "the file is empty"),
    "a list": (b"- a\n- b\n", "expected a mapping of fields (format, id, title, teams ...) at the top, found a list"),
    "a number": (b"42\n", "found the number 42"),
    "binary junk": (bytes(range(256)) * 4, "not UTF-8 text"),
    "nul bytes": (b"format: 1\x00\x00\n", "not a text file"),
    "alias bomb": (BOMB, "more than 100000 values"),
    "python tag": (b"!!python/object/apply:os.system ['touch /tmp/pwned']\n", "is not allowed"),
    "python name tag": (b"format: !!python/name:os.system\n", "is not allowed"),
    "local tag": (b"format: !include /etc/passwd\n", "is not allowed"),
    "deep nesting": (b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", "nest"),
    "deep mappings": (b"".join(b"  " * i + b"k:\n" for i in range(200)), "nesting deeper than 40 levels"),
    "huge integer": (b"format: " + b"9" * 10000 + b"\n", "cannot read the value"),
    "recursive alias": (b"a: &a [*a]\n", "nesting deeper than 40 levels"),
    "two documents": (b"format: 1\n---\nformat: 1\n", "YAML syntax error"),
    "tab indentation": (b"format: 1\n\tid: x\n", "YAML syntax error"),
    "merge key": (b"base: &b {a: 1}\nx:\n  <<: *b\n", "'<<' merges"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_is_refused_cleanly(name):
    raw, expected = HOSTILE[name]
    with pytest.raises(ScriptError) as info:
        load_exercise_bytes(raw, "hostile.yaml")
    text = str(info.value)
    assert text.startswith("hostile.yaml:")
    assert expected in text


def test_python_tag_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    raw = f"!!python/object/apply:os.system ['touch {marker}']\n".encode()
    with pytest.raises(ScriptError):
        load_exercise_bytes(raw, "x.yaml")
    assert not marker.exists()


def test_huge_file_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.write(b"format: 1\nsummary: |\n")
        for _ in range(3000):
            handle.write(b"  " + b"x" * 1000 + b"\n")
    with pytest.raises(ScriptError) as info:
        load_exercise(path)
    assert "larger than 2 MiB" in str(info.value)


def test_missing_file_is_an_error_not_a_traceback(tmp_path):
    with pytest.raises(ScriptError) as info:
        load_exercise(tmp_path / "nope.yaml")
    assert "cannot read the file" in str(info.value)


def test_attachment_symlink_out_of_the_tree_is_refused(tmp_path, library):
    text = (DATA / "minimal.yaml").read_text(encoding="utf-8").replace("maps/map.svg", "leak.svg")
    (tmp_path / "leak.svg").symlink_to("/etc/hostname")
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError) as info:
        load_exercise(tmp_path / "s.yaml", library=library)
    assert "attachment 'leak.svg' points outside" in str(info.value)


def _seeds() -> list[Path]:
    return [DATA / "minimal.yaml", *sorted((ROOT / "exercises").glob("*.yaml"))]


@st.composite
def mutations(draw: st.DrawFn) -> tuple[Path, bytes]:
    """A seed script with a few random edits: lines dropped, doubled, swapped, characters changed."""
    path = draw(st.sampled_from(_seeds()))
    lines = path.read_bytes().splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["drop", "double", "swap", "char", "indent", "truncate", "junk"]))
        if op == "drop":
            del lines[i]
        elif op == "double":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "char" and lines[i]:
            k = draw(st.integers(0, len(lines[i]) - 1))
            c = draw(st.sampled_from(list(b":-[]{}&*!|>'\"#%@`,?\t \x00\xff0aZ")))
            lines[i] = lines[i][:k] + bytes([c]) + lines[i][k + 1 :]
        elif op == "indent":
            lines[i] = b"  " + lines[i]
        elif op == "truncate":
            lines = lines[:i]
        else:
            lines.insert(i, draw(st.binary(max_size=40)))
    return path, b"".join(lines)


@settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(mutations())
def test_mutated_scripts_load_or_raise_our_error(case):
    path, raw = case
    try:
        load_exercise_bytes(
            raw,
            "mutated.yaml",
            script_dir=path.parent,
            library=DATA / "lib" if path.parent == DATA else ROOT / "injects",
        )
    except ScriptError as exc:
        assert exc.problems, "a ScriptError always carries at least one problem"
        for problem in exc.problems:
            assert str(problem).startswith(("mutated.yaml:", "injects/"))
