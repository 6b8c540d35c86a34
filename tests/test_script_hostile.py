"""No input of any kind gives a traceback, hangs, or reads anything outside the tree."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
import yaml
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
    return [DATA / "minimal.yaml", DATA / "format2.yaml", *sorted((ROOT / "exercises").glob("*.yaml"))]


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


# --- format 2: the base file and conditions ---------------------------------------------------

FORMAT2 = (DATA / "format2.yaml").read_text(encoding="utf-8")


def _with_base(tmp_path: Path, content: bytes | None = None) -> Path:
    """A copy of the test library whose base file holds content."""
    lib = tmp_path / "lib"
    shutil.copytree(DATA / "lib", lib)
    if content is not None:
        (lib / "bases" / "three-teams.yaml").write_bytes(content)
    return lib


HOSTILE_BASES = {
    "alias bomb": (BOMB, "more than 100000 values"),
    "binary junk": (bytes(range(256)) * 4, "not UTF-8 text"),
    "python tag": (b"teams: !!python/object/apply:os.system ['true']\n", "is not allowed"),
    "deep nesting": (b"teams: " + b"[" * 5000 + b"]" * 5000 + b"\n", "nest"),
    "empty": (b"", "a base file must be a mapping"),
    "huge": (b"teams: |\n" + b"  " + b"x" * (3 * 1024 * 1024) + b"\n", "larger than 2 MiB"),
}


@pytest.mark.parametrize("name", list(HOSTILE_BASES))
def test_hostile_base_file_is_refused_cleanly(tmp_path, name):
    raw, expected = HOSTILE_BASES[name]
    lib = _with_base(tmp_path, raw)
    with pytest.raises(ScriptError) as info:
        load_exercise_bytes(FORMAT2.encode(), "hostile.yaml", script_dir=DATA, library=lib)
    text = str(info.value)
    assert expected in text
    assert any(str(p).startswith("injects/bases/three-teams.yaml:") for p in info.value.problems), text


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("/etc/passwd", "must be a path relative"),
        ("../../../../etc/hosts.yaml", "points outside injects/"),
        ("bases", "must name a .yaml file"),
        ("bases/../../format2.yaml", "points outside injects/"),
        ("bases\\three-teams.yaml", "with '/' separators"),
        ("bases/three-teams.yaml\x00", "with '/' separators"),
    ],
)
def test_a_base_is_never_read_outside_the_tree(base, expected):
    text = FORMAT2.replace("base: bases/three-teams.yaml", f"base: {json.dumps(base)}")
    with pytest.raises(ScriptError) as info:
        load_exercise_bytes(text.encode(), "hostile.yaml", script_dir=DATA, library=DATA / "lib")
    assert expected in str(info.value)


def test_a_base_symlink_out_of_the_tree_is_refused(tmp_path):
    lib = _with_base(tmp_path)
    outside = tmp_path / "outside.yaml"
    outside.write_text((DATA / "lib" / "bases" / "three-teams.yaml").read_text(encoding="utf-8"))
    (lib / "bases" / "leak.yaml").symlink_to(outside)
    text = FORMAT2.replace("bases/three-teams.yaml", "bases/leak.yaml")
    with pytest.raises(ScriptError) as info:
        load_exercise_bytes(text.encode(), "hostile.yaml", script_dir=DATA, library=lib)
    assert "base 'bases/leak.yaml' points outside injects/" in str(info.value)


def test_a_directory_named_yaml_is_not_a_base(tmp_path):
    lib = _with_base(tmp_path)
    (lib / "bases" / "dir.yaml").mkdir()
    text = FORMAT2.replace("bases/three-teams.yaml", "bases/dir.yaml")
    with pytest.raises(ScriptError) as info:
        load_exercise_bytes(text.encode(), "hostile.yaml", script_dir=DATA, library=lib)
    assert "base 'bases/dir.yaml' does not exist in injects/" in str(info.value)


def test_conditions_nested_past_the_yaml_limit_are_refused(tmp_path):
    deep = "{any: [" * 30 + "{escalation: {at_least: 1}}" + "]}" * 30
    text = FORMAT2.replace("unless: {escalation: {at_least: 3}}", f"unless: {deep}")
    with pytest.raises(ScriptError) as info:
        load_exercise_bytes(text.encode(), "hostile.yaml", script_dir=DATA, library=DATA / "lib")
    assert "nest" in str(info.value)


def test_a_wide_condition_is_bounded():
    wide = "{any: [" + ", ".join(["{escalation: {at_least: 1}}"] * 21) + "]}"
    text = FORMAT2.replace("unless: {escalation: {at_least: 3}}", f"unless: {wide}")
    with pytest.raises(ScriptError) as info:
        load_exercise_bytes(text.encode(), "hostile.yaml", script_dir=DATA, library=DATA / "lib")
    assert "'any' is too long (21; at most 20)" in str(info.value)


def test_long_chains_of_conditions_and_triggers_load_fast():
    """A cycle check that walks every chain from every inject would take minutes here."""
    chain = []
    for n in range(3000):
        if n == 0:
            chain.append('  - {id: c0, at: "+00:00", to: all, title: c}')
        elif n % 2:
            chain.append(f"  - {{id: c{n}, trigger: {{inject: c{n - 1}}}, to: all, title: c}}")
        else:
            condition = f"{{no_message: {{team: us, channel: public, within: 1m, after: c{n - 1}}}}}"
            chain.append(f"  - {{id: c{n}, when: {condition}, to: all, title: c}}")
    text = FORMAT2 + "\n".join(chain) + "\n"
    started = time.perf_counter()
    exercise = load_exercise_bytes(text.encode(), "long.yaml", script_dir=DATA, library=DATA / "lib")
    assert len(exercise.injects) == 3010
    assert time.perf_counter() - started < 20


_teams = st.sampled_from(["us", "iran", "oman", "uk", 7, None])
_injects = st.sampled_from(["shootdown", "options", "chase", "debris", "boxer-opener", "nope", "", ["x"]])
_durations = st.sampled_from(["1m", "15m", "10m", "0s", "-1m", "1h99m", 5, True])
_leaves = st.one_of(
    st.fixed_dictionaries(
        {
            "no_message": st.fixed_dictionaries(
                {"team": _teams, "channel": st.sampled_from(["oman-line", "bridge", "radio"]), "within": _durations},
                optional={"after": _injects},
            )
        }
    ),
    st.fixed_dictionaries(
        {"no_ack": st.fixed_dictionaries({"inject": _injects, "within": _durations}, optional={"team": _teams})}
    ),
    st.fixed_dictionaries({"no_decision": st.fixed_dictionaries({"inject": _injects, "within": _durations})}),
    st.fixed_dictionaries(
        {
            "escalation": st.fixed_dictionaries(
                {}, optional={"at_least": st.integers(-2000, 2000), "at_most": st.sampled_from([0, 3, "x", None])}
            )
        }
    ),
    st.fixed_dictionaries(
        {
            "option": st.fixed_dictionaries(
                {"decision": _injects}, optional={"option": st.sampled_from(["strike", "warn", "nuke"])}
            )
        }
    ),
    st.just({}),
    st.just({"silence": {}}),
    st.just([]),
)
_conditions = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.fixed_dictionaries({"all": st.lists(inner, max_size=4)}),
        st.fixed_dictionaries({"any": st.lists(inner, max_size=4)}),
        st.tuples(inner, inner).map(
            lambda pair: {
                **(pair[0] if isinstance(pair[0], dict) else {}),
                **(pair[1] if isinstance(pair[1], dict) else {}),
            }
        ),
    ),
    max_leaves=12,
)


@settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    when=_conditions,
    unless=_conditions,
    choice=st.lists(
        st.one_of(
            st.fixed_dictionaries({"when": _conditions, "inject": _injects}),
            st.fixed_dictionaries({"otherwise": _injects}),
        ),
        max_size=3,
    ),
    field=st.sampled_from(["when", "unless", "choose", "moves"]),
)
def test_generated_format2_fields_load_or_raise_our_error(when, unless, choice, field):
    """Random conditions, choices and moves in the format-2 test script: a clean load or located errors."""
    data = yaml.safe_load(FORMAT2)
    target = data["injects"][3]
    if field == "when":
        target["when"] = when
    elif field == "unless":
        target["unless"] = unless
    elif field == "choose":
        data["injects"][6]["choose"] = choice
    else:
        data["moves"][1]["at"] = yaml.safe_dump(when)[:8]
    raw = yaml.safe_dump(data, allow_unicode=True).encode()
    try:
        load_exercise_bytes(raw, "generated.yaml", script_dir=DATA, library=DATA / "lib")
    except ScriptError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert str(problem).startswith(("generated.yaml:", "injects/"))


@st.composite
def mutated_bases(draw: st.DrawFn) -> tuple[Path, bytes]:
    """A base file with a few random edits (the same edits as for scripts)."""
    path = draw(st.sampled_from([DATA / "lib" / "bases" / "three-teams.yaml", *sorted(BASES.glob("*.yaml"))]))
    lines = path.read_bytes().splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["drop", "double", "char", "indent", "truncate"]))
        if op == "drop":
            del lines[i]
        elif op == "double":
            lines.insert(i, lines[i])
        elif op == "char" and lines[i]:
            k = draw(st.integers(0, len(lines[i]) - 1))
            c = draw(st.sampled_from(list(b":-[]{}&*!|>'\"#%@`,?\t \x00\xff0aZ")))
            lines[i] = lines[i][:k] + bytes([c]) + lines[i][k + 1 :]
        elif op == "indent":
            lines[i] = b"  " + lines[i]
        else:
            lines = lines[:i]
    return path, b"".join(lines)


BASES = ROOT / "injects" / "bases"


@settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "150")) // 3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(mutated_bases())
def test_mutated_base_files_load_or_raise_our_error(tmp_path, case):
    path, raw = case
    lib = tmp_path / "lib"
    if not lib.exists():
        shutil.copytree(DATA / "lib", lib)
    (lib / "bases" / "mutated.yaml").write_bytes(raw)
    script = FORMAT2.replace("bases/three-teams.yaml", "bases/mutated.yaml")
    if path.parent == BASES:  # the gulf base: a script that only names it
        script = "format: 2\nbase: bases/mutated.yaml\nid: m\ntitle: M\n"
    try:
        load_exercise_bytes(script.encode(), "mutated.yaml", script_dir=DATA, library=lib)
    except ScriptError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert str(problem).startswith(("mutated.yaml:", "injects/bases/mutated.yaml:"))
