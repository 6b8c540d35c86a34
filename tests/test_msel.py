"""MSEL spreadsheets: `exercise export-msel` / `import-msel` and the pure functions behind them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tabletop import ROOT
from tabletop.script import load_exercise
from tabletop.script.msel import (
    COLUMNS,
    SCHEMA_LINE,
    MselError,
    Release,
    check_script,
    dump_script,
    export_msel,
    format_release,
    guard,
    import_msel,
    parse_exercise_time,
    parse_release,
    read_base,
    unguard,
)
from tabletop.script.yamlsrc import read_yaml

SCENARIOS = sorted((ROOT / "exercises").glob("*.yaml"))

LIBRARY_INJECT = """\
title: GPS jamming reported
medium: intel
from: NAVCENT
body: Ships report GPS position jumps.
effects:
  - jam: {channel: bridge, for: 5m}
"""

SCRIPT = """\
# yaml-language-server: $schema=../schema/exercise.schema.json
format: 1
id: drill
title: Drill
duration: 1h
scenario:
  start: 2019-06-20T04:05:00+04:00
objectives:
  - id: obj-contact
    text: Open contact through Oman.
  - id: obj-calm
    text: Nobody fires first.
teams:
  - id: us
    name: United States
    positions:
      - id: j3
        title: J3
  - id: iran
    name: Iran
    positions:
      - id: irgcn
        title: IRGC Navy
  - id: oman
    name: Oman
    intermediary: true
    positions:
      - id: omani-liaison
        title: Omani liaison
channels:
  - id: bridge
    name: Bridge-to-bridge
    kind: direct
    members: [us, iran]
injects:
  - id: shootdown
    at: "+00:00"
    to: all
    from: IRNA
    medium: news
    title: Drone down
    body: |
      خبرگزاری: پهپاد سرنگون شد

      A second paragraph, with "quotes", commas; and semicolons.
    attachments: [maps/map.svg]
    expect: Both sides check their facts.
    objectives: [obj-contact, obj-calm]
    notes: Watch the clock.
    ack: true
  - id: options
    at: "+00:15:30"
    to: [us]
    title: Options
    decision:
      prompt: What now?
      by: [j3]
      default: warn
      options:
        - id: strike
          label: Strike
        - id: warn
          label: Warn
  - id: retaliation
    trigger: {decision: options, option: strike}
    delay: 5m
    to: [us, oman]
    title: Retaliation
    effects:
      - escalation: 1
  - id: follow-up
    trigger: {inject: shootdown}
    delay: 90s
    to: [iran]
    medium: radio
    title: Follow-up
  - include: gulf/jamming.yaml
    id: jamming
    at: "+00:30"
    to: [us]
  - id: tanker
    to: [us]
    title: Tanker seized
"""


@pytest.fixture
def library(tmp_path: Path) -> Path:
    lib = tmp_path / "injects"
    (lib / "gulf").mkdir(parents=True)
    (lib / "maps").mkdir()
    (lib / "gulf" / "jamming.yaml").write_text(LIBRARY_INJECT, encoding="utf-8")
    (lib / "maps" / "map.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    return lib


@pytest.fixture
def script(tmp_path: Path, library: Path) -> Path:
    path = tmp_path / "exercises" / "drill.yaml"
    path.parent.mkdir()
    path.write_text(SCRIPT, encoding="utf-8")
    return path


@pytest.fixture
def cli(library: Path, tmp_path: Path):
    from tabletop.web import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "INJECTS_DIR": str(library),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        }
    )
    yield app.test_cli_runner()
    app.extensions["tabletop"].close()


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...] | list[str] = COLUMNS) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def export(cli, script: Path, out: Path) -> bytes:
    result = cli.invoke(args=["exercise", "export-msel", str(script), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out.read_bytes()


def import_(cli, csv_path: Path, out: Path, *extra: str):
    return cli.invoke(args=["exercise", "import-msel", str(csv_path), "-o", str(out), *extra])


def inject_entries(path: Path) -> dict[str, dict]:
    data = read_yaml(path, path.name).data
    return {e.get("id"): e for e in data["injects"]}


# --- export ----------------------------------------------------------------------------------


def test_export_writes_the_msel_in_timeline_order(cli, script, tmp_path):
    raw = export(cli, script, tmp_path / "drill.csv")
    assert raw.startswith(b"\xef\xbb\xbf"), "a UTF-8 BOM, so that Excel reads Persian right"
    text = raw.decode("utf-8-sig")
    assert text.split("\r\n")[0] == ",".join(COLUMNS)
    rows = rows_of(text)
    assert [r["Inject ID"] for r in rows] == ["shootdown", "follow-up", "options", "jamming", "retaliation", "tanker"]
    assert [r["Event number"] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    first, follow_up, options, jamming, retaliation, tanker = rows
    assert first["Exercise time"] == "00:00" and first["Scenario time"] == "2019-06-20 04:05"
    assert options["Exercise time"] == "00:15:30" and options["Scenario time"] == "2019-06-20 04:20:30"
    assert first["To"] == "all" and retaliation["To"] == "us; oman"
    assert first["Objective"] == "obj-contact; obj-calm"
    assert first["Inject text"].startswith("خبرگزاری") and first["Inject text"].endswith("semicolons.\n")
    assert (first["From"], first["Method of delivery"], first["Expected player action"]) == (
        "IRNA",
        "news",
        "Both sides check their facts.",
    )
    assert first["Controller notes"] == "Watch the clock."
    assert jamming["Inject title"] == "GPS jamming reported" and jamming["Method of delivery"] == "intel"
    assert [r["Released by"] for r in rows] == [
        "time",
        "inject shootdown +90s",
        "time",
        "time",
        "decision options: strike +5m",
        "by hand",
    ]
    # Only timed injects have an exercise time (a chained one is placed by its projected time, which is not its own).
    assert follow_up["Exercise time"] == follow_up["Scenario time"] == tanker["Exercise time"] == ""


def test_export_to_stdout_without_bom(cli, script):
    result = cli.invoke(args=["exercise", "export-msel", str(script)])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"Event number,") and b"\r\n1,shootdown," in result.stdout_bytes
    expected = export_msel(load_exercise(script, library=Path(cli.app.config["INJECTS_DIR"])))
    assert result.stdout_bytes == expected.encode("utf-8")


def test_export_of_a_broken_script_exits_1(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: 1\nid: bad\n", encoding="utf-8")
    result = cli.invoke(args=["exercise", "export-msel", str(bad), "-o", str(tmp_path / "x.csv")])
    assert result.exit_code == 1
    assert "missing required field 'title'" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "x.csv").exists()


# --- round trip ------------------------------------------------------------------------------


def test_round_trip_export_import_export_is_byte_identical(cli, script, tmp_path):
    first = export(cli, script, tmp_path / "one.csv")
    out = script.parent / "imported.yaml"
    result = import_(cli, tmp_path / "one.csv", out, "--base", str(script))
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stdout and "6 injects" in result.stdout
    assert out.read_text(encoding="utf-8").splitlines()[0] == SCHEMA_LINE
    assert export(cli, out, tmp_path / "two.csv") == first
    # Nothing the columns do not hold was lost, and the untouched include is still an include.
    before, after = inject_entries(script), inject_entries(out)
    assert after == before
    assert after["jamming"] == {"include": "gulf/jamming.yaml", "id": "jamming", "at": "+00:30", "to": ["us"]}
    base = read_yaml(script, "drill.yaml").data
    imported = read_yaml(out, "imported.yaml").data
    assert {k: v for k, v in imported.items() if k != "injects"} == {k: v for k, v in base.items() if k != "injects"}
    assert list(imported) == list(base), "top-level fields keep their order"


def test_round_trip_of_the_pure_functions(script, library):
    base, exercise = read_base(script, library=library)
    text = export_msel(exercise)
    data = import_msel(text.encode("utf-8-sig"), base, "drill.csv", base_exercise=exercise, library=library)
    loaded = check_script(dump_script(data), "drill.yaml", script_dir=script.parent, library=library)
    assert export_msel(loaded) == text
    assert loaded == exercise.model_copy(update={"injects": tuple(row.inject for row in _timeline(exercise))})


def _timeline(exercise):
    from tabletop.script.timeline import timeline

    return timeline(exercise)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_round_trip_of_every_scenario(path, seed_library):
    base, exercise = read_base(path, library=seed_library)
    first = export_msel(exercise)
    data = import_msel(first.encode("utf-8-sig"), base, "msel.csv", base_exercise=exercise, library=seed_library)
    # Checked as if it stood where the original does, so that attachments beside it resolve.
    loaded = check_script(dump_script(data), path.name, script_dir=path.parent, library=seed_library)
    assert export_msel(loaded) == first
    assert sorted(map(repr, data["injects"])) == sorted(map(repr, base["injects"])), "every inject entry as written"


# --- edits -----------------------------------------------------------------------------------


def test_import_applies_edited_title_and_time(cli, script, tmp_path):
    rows = rows_of(export(cli, script, tmp_path / "drill.csv").decode("utf-8-sig"))
    rows[0]["Inject title"] = "Drone down over the Strait"
    rows[2]["Exercise time"] = "0:20:00"  # as a spreadsheet saves a time it recognised
    rows[3]["Inject title"] = "GPS jamming in the Strait"  # the include
    edited = tmp_path / "edited.csv"
    edited.write_text(to_csv(rows), encoding="utf-8-sig", newline="")
    result = import_(cli, edited, script)  # the base defaults to the output
    assert result.exit_code == 0, result.output
    exercise = load_exercise(script, library=cli.app.config["INJECTS_DIR"])
    assert exercise.inject("shootdown").title == "Drone down over the Strait"
    assert exercise.inject("options").at == 20 * 60
    assert exercise.inject("options").decision is not None, "what the columns do not hold is kept"
    entries = inject_entries(script)
    assert entries["options"]["at"] == "+00:20"
    assert entries["jamming"] == {
        "include": "gulf/jamming.yaml",
        "id": "jamming",
        "at": "+00:30",
        "to": ["us"],
        "title": "GPS jamming in the Strait",
    }
    assert exercise.inject("jamming").effects, "the library inject's effects still apply"
    assert entries["shootdown"]["attachments"] == ["maps/map.svg"] and entries["shootdown"]["ack"] is True


def test_import_changes_how_injects_are_released(script, library):
    base, exercise = read_base(script, library=library)
    rows = rows_of(export_msel(exercise))
    by_id = {r["Inject ID"]: r for r in rows}
    by_id["tanker"].update({"Exercise time": "+00:45", "Released by": "time"})
    by_id["follow-up"].update({"Released by": "by hand"})
    by_id["options"].update({"Exercise time": "", "Released by": "Inject shootdown, +2m"})
    by_id["jamming"].update({"Exercise time": "", "Released by": "decision options: warn"})
    rows.append({"Inject ID": "new-one", "To": "iran; oman", "Inject title": "New", "Released by": "by hand"})
    data = import_msel(to_csv(rows), base, "drill.csv", base_exercise=exercise, library=library)
    entries = {e["id"]: e for e in data["injects"]}
    assert entries["tanker"] == {"id": "tanker", "at": "+00:45", "to": ["us"], "title": "Tanker seized"}
    assert entries["follow-up"] == {"id": "follow-up", "to": ["iran"], "medium": "radio", "title": "Follow-up"}
    assert list(entries["options"])[:4] == ["id", "trigger", "delay", "to"]
    assert entries["options"]["trigger"] == {"inject": "shootdown"} and entries["options"]["delay"] == "2m"
    assert entries["jamming"]["trigger"] == {"decision": "options", "option": "warn"} and "at" not in entries["jamming"]
    assert entries["new-one"] == {"id": "new-one", "to": ["iran", "oman"], "title": "New"}
    assert [e["id"] for e in data["injects"]][-1] == "new-one", "row order is inject order"
    loaded = check_script(dump_script(data), "drill.yaml", script_dir=script.parent, library=library)
    assert loaded.inject("options").trigger.inject == "shootdown" and loaded.inject("options").delay == 120


def test_a_changed_include_is_written_out_only_when_it_must(script, library):
    (library / "gulf" / "timed.yaml").write_text(
        'at: "+00:05"\ntitle: Timed in the library\nbody: Library text.\n', encoding="utf-8"
    )
    script.write_text(SCRIPT + "  - include: gulf/timed.yaml\n    id: timed\n    to: [us]\n", encoding="utf-8")
    base, exercise = read_base(script, library=library)
    rows = rows_of(export_msel(exercise))
    by_id = {r["Inject ID"]: r for r in rows}
    by_id["jamming"]["Inject text"] = ""  # the library's body: overridden with an empty one
    by_id["timed"].update({"Exercise time": "", "Released by": "by hand"})  # the library's `at` cannot stay
    data = import_msel(to_csv(rows), base, "drill.csv", base_exercise=exercise, library=library)
    entries = {e["id"]: e for e in data["injects"]}
    assert entries["jamming"] == {
        "include": "gulf/jamming.yaml",
        "id": "jamming",
        "at": "+00:30",
        "to": ["us"],
        "body": "",
    }
    assert entries["timed"] == {"id": "timed", "to": ["us"], "title": "Timed in the library", "body": "Library text."}
    loaded = check_script(dump_script(data), "drill.yaml", script_dir=script.parent, library=library)
    assert loaded.inject("jamming").body == "" and loaded.inject("jamming").effects
    assert loaded.inject("timed").release == "contingency"


def test_import_drops_injects_without_a_row(script, library):
    base, exercise = read_base(script, library=library)
    rows = [r for r in rows_of(export_msel(exercise)) if r["Inject ID"] != "tanker"]
    data = import_msel(to_csv(rows), base, "drill.csv", base_exercise=exercise, library=library)
    assert "tanker" not in [e["id"] for e in data["injects"]]


def test_formula_cells_are_neutralised_and_restored(cli, script, tmp_path):
    hostile = {
        "title: Drone down": 'title: "=HYPERLINK(\\"http://evil.invalid\\",\\"click\\")"',
        "from: IRNA": 'from: "@SUM(1+1)"',
        "notes: Watch the clock.": 'notes: "-2+3"',
        "expect: Both sides check their facts.": 'expect: "\\tcmd|calc"',
        "title: Tanker seized": 'title: "\'=already quoted"',
    }
    text = SCRIPT
    for old, new in hostile.items():
        text = text.replace(old, new)
    script.write_text(text, encoding="utf-8")
    raw = export(cli, script, tmp_path / "drill.csv").decode("utf-8-sig")
    first = rows_of(raw)[0]
    assert first["Inject title"] == '\'=HYPERLINK("http://evil.invalid","click")'
    assert first["From"] == "'@SUM(1+1)" and first["Controller notes"] == "'-2+3"
    assert first["Expected player action"] == "'\tcmd|calc"
    assert rows_of(raw)[-1]["Inject title"] == "''=already quoted"
    for row in rows_of(raw):
        for cell in row.values():
            assert not cell or cell[0] not in "=+-@\t\r", cell
    out = tmp_path / "exercises" / "back.yaml"
    assert import_(cli, tmp_path / "drill.csv", out, "--base", str(script)).exit_code == 0
    back = load_exercise(out, library=cli.app.config["INJECTS_DIR"])
    assert back.inject("shootdown").title == '=HYPERLINK("http://evil.invalid","click")'
    assert back.inject("shootdown").from_ == "@SUM(1+1)"
    assert back.inject("shootdown").notes == "-2+3" and back.inject("shootdown").expect == "\tcmd|calc"
    assert back.inject("tanker").title == "'=already quoted"


@given(st.text(max_size=30))
def test_unguard_undoes_guard(text):
    assert unguard(guard(text)) == text
    assert not guard(text) or guard(text)[0] not in "=+-@\t\r"


_ids = st.from_regex(r"\A[a-z0-9][a-z0-9_-]{0,20}\Z")
_releases = st.one_of(
    st.just(Release("time")),
    st.just(Release("hand")),
    st.builds(lambda s, d: Release("inject", s, None, d), _ids, st.integers(0, 50_000)),
    st.builds(lambda s, o, d: Release("decision", s, o, d), _ids, _ids, st.integers(0, 50_000)),
    st.builds(lambda d: Release("condition", None, None, d), st.integers(0, 50_000)),
    st.builds(lambda s: Release("choice", s), _ids),
)


@given(_releases)
def test_release_grammar_round_trips(release):
    assert parse_release(format_release(release)) == release


@pytest.mark.parametrize(
    ("text", "release"),
    [
        ("time", Release("time")),
        ("By  Hand", Release("hand")),
        ("inject shootdown", Release("inject", "shootdown")),
        ("inject shootdown +1h30m", Release("inject", "shootdown", None, 5400)),
        ("decision options: strike, +5m", Release("decision", "options", "strike", 300)),
        ("decision options:strike", Release("decision", "options", "strike")),
        ("condition", Release("condition")),
        ("Condition, +1m", Release("condition", None, None, 60)),
        ("choice boxer-opener", Release("choice", "boxer-opener")),
    ],
)
def test_release_grammar_accepts(text, release):
    assert parse_release(text) == release


@pytest.mark.parametrize(
    "text",
    [
        "timed",
        "time +5m",
        "inject",
        "inject Shootdown",
        "decision options",
        "inject a +5",
        "by hand +1m",
        "choice",
        "choice a +5m",
        "condition x",
    ],
)
def test_release_grammar_refuses(text):
    with pytest.raises(ValueError, match="'"):
        parse_release(text)


@pytest.mark.parametrize(
    ("text", "seconds"), [("00:15", 900), ("+00:15", 900), ("0:15:00", 900), ("100:00:01", 360001)]
)
def test_exercise_time_forms(text, seconds):
    assert parse_exercise_time(text) == seconds


def test_import_reads_semicolon_separated_files(script, library):
    base, exercise = read_base(script, library=library)
    text = export_msel(exercise)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    data = import_msel(buffer.getvalue(), base, "drill.csv", base_exercise=exercise, library=library)
    assert data == import_msel(text, base, "drill.csv", base_exercise=exercise, library=library)


# --- errors ----------------------------------------------------------------------------------


def _edit(rows: list[dict[str, str]], row: int, column: str, value: str) -> list[dict[str, str]]:
    rows[row - 2][column] = value  # spreadsheet rows: the header is row 1
    return rows


@pytest.mark.parametrize(
    ("row", "column", "value", "message"),
    [
        (4, "Exercise time", "1:5", "row 4, column 'Exercise time': '1:5' is not an offset like 00:15"),
        (2, "Method of delivery", "fax", "row 2, column 'Method of delivery': 'fax' is not a method of delivery "),
        (6, "Inject ID", "options", "row 6, column 'Inject ID': duplicate id 'options' (first in row 4)"),
        (5, "Released by", "when ready", "row 5, column 'Released by': 'when ready' is not one of: time, by hand"),
        (7, "Released by", "inject ghost", "row 7, column 'Released by': unknown inject 'ghost'"),
        (6, "Released by", "decision options: nuke", "row 6, column 'Released by': unknown option 'nuke'"),
        (7, "Inject title", " ", "row 7, column 'Inject title': is empty"),
        (7, "Inject ID", "", "row 7, column 'Inject ID': is empty"),
        (7, "Inject ID", "Tanker!", "row 7, column 'Inject ID': 'Tanker!' is not a valid id"),
        (7, "To", "us; teheran", "row 7, column 'To': unknown team 'teheran' (teams: us, iran, oman, or all)"),
        (2, "Objective", "obj-peace", "row 2, column 'Objective': unknown objective 'obj-peace'"),
        (
            7,
            "Exercise time",
            "00:20",
            "row 7, column 'Exercise time': '00:20' is set, but 'Released by' says 'by hand'",
        ),
        (2, "Exercise time", "", "row 2, column 'Exercise time': is empty, but 'Released by' says time"),
    ],
)
def test_import_error_names_row_and_column(cli, script, tmp_path, row, column, value, message):
    rows = rows_of(export(cli, script, tmp_path / "drill.csv").decode("utf-8-sig"))
    bad = tmp_path / "bad.csv"
    bad.write_text(to_csv(_edit(rows, row, column, value)), encoding="utf-8-sig", newline="")
    before = script.read_bytes()
    result = import_(cli, bad, script)
    assert result.exit_code == 1
    assert f"{bad}: {message}" in result.stderr
    assert f"{script}: not written" in result.stderr
    assert "Traceback" not in result.output
    assert script.read_bytes() == before


def test_missing_columns_are_named(cli, script, tmp_path):
    rows = rows_of(export(cli, script, tmp_path / "drill.csv").decode("utf-8-sig"))
    columns = [c for c in COLUMNS if c not in ("Inject ID", "Released by", "Scenario time")]
    bad = tmp_path / "bad.csv"
    bad.write_text(to_csv([{c: r[c] for c in columns} for r in rows], columns), encoding="utf-8", newline="")
    result = import_(cli, bad, script)
    assert result.exit_code == 1
    assert f"{bad}: row 1: missing columns 'Inject ID', 'Released by' (required: " in result.stderr


def test_every_problem_is_reported_at_once(script, library):
    base, exercise = read_base(script, library=library)
    rows = rows_of(export_msel(exercise))
    _edit(rows, 2, "Exercise time", "soon")
    _edit(rows, 4, "Method of delivery", "pigeon")
    _edit(rows, 7, "Released by", "inject")
    text = to_csv(rows) + "x,extra,,,,,,,,,,,,,surplus\r\n"
    with pytest.raises(MselError) as caught:
        import_msel(text, base, "m.csv", base_exercise=exercise, library=library)
    assert [p.split(":")[1] for p in caught.value.problems] == [" row 2, column 'Exercise time'"] + [
        " row 4, column 'Method of delivery'",
        " row 7, column 'Released by'",
        " row 8",
    ]
    assert "15 cells, but the header names 13 columns" in caught.value.problems[-1]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"Event number,Inject ID\r\n\xff\xfe,x\r\n", "m.csv: not UTF-8 text (bad byte at offset 24)"),
        (b"", "m.csv: no rows"),
        (",".join(COLUMNS).encode() + b"\r\n", "m.csv: no rows: the header is not followed by any inject"),
        (b"x" * (5 * 1024 * 1024 + 1), "m.csv: the file is larger than 5 MiB"),
        (",".join([*COLUMNS, "Status"]).encode() + b"\r\n", "m.csv: row 1: unknown column 'Status'"),
        (b'Inject ID,"Inject title\r\n', "m.csv: row 1: not valid CSV"),
    ],
)
def test_import_refuses_unreadable_files(raw, message, script, library):
    base, exercise = read_base(script, library=library)
    with pytest.raises(MselError) as caught:
        import_msel(raw, base, "m.csv", base_exercise=exercise, library=library)
    assert any(p.startswith(message) for p in caught.value.problems), caught.value.problems


def test_loader_errors_of_the_result_are_reported_and_nothing_is_written(cli, script, tmp_path):
    rows = rows_of(export(cli, script, tmp_path / "drill.csv").decode("utf-8-sig"))
    _edit(rows, 4, "To", "iran")  # the decision is for position j3, a U.S. position
    bad = tmp_path / "bad.csv"
    bad.write_text(to_csv(rows), encoding="utf-8", newline="")
    out = tmp_path / "exercises" / "new.yaml"
    result = import_(cli, bad, out, "--base", str(script))
    assert result.exit_code == 1
    assert "position 'j3' belongs to team 'us', which this inject does not go to (iran) (inject 'options')" in (
        result.stderr
    )
    assert not out.exists() and "Traceback" not in result.output


def test_a_broken_base_is_reported(cli, script, tmp_path):
    export(cli, script, tmp_path / "drill.csv")
    script.write_text(SCRIPT.replace("to: [us, oman]", "to: [us, nowhere]"), encoding="utf-8")
    result = import_(cli, tmp_path / "drill.csv", script)
    assert result.exit_code == 1
    assert "the base script does not load" in result.stderr and "unknown team 'nowhere'" in result.stderr


def test_missing_csv_exits_1(cli, tmp_path):
    result = import_(cli, tmp_path / "nope.csv", tmp_path / "out.yaml")
    assert result.exit_code == 1
    assert "nope.csv: cannot read the file" in result.stderr and "Traceback" not in result.output


# --- without a base --------------------------------------------------------------------------


def test_import_without_base_builds_a_skeleton(cli, script, tmp_path):
    rows = rows_of(export(cli, script, tmp_path / "drill.csv").decode("utf-8-sig"))
    rows = [r for r in rows if not r["Released by"].startswith("decision")]  # decisions need a base
    msel = tmp_path / "Gulf MSEL 2019.csv"
    msel.write_text(to_csv(rows), encoding="utf-8-sig", newline="")
    out = tmp_path / "exercises" / "gulf.yaml"
    result = import_(cli, msel, out)
    assert result.exit_code == 0, result.output
    assert "no base script" in result.stdout
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert (data["format"], data["id"], data["title"]) == (1, "gulf-msel-2019", "Gulf MSEL 2019")
    assert [t["id"] for t in data["teams"]] == ["iran", "us"], "in the order the To column names them"
    assert data["teams"][1] == {"id": "us", "name": "US", "positions": [{"id": "us-lead", "title": "Lead"}]}
    assert [o["id"] for o in data["objectives"]] == ["obj-contact", "obj-calm"]
    exercise = load_exercise(out, library=cli.app.config["INJECTS_DIR"])
    assert [i.id for i in exercise.injects] == [r["Inject ID"] for r in rows]
    assert exercise.inject("shootdown").body.startswith("خبرگزاری")
    assert exercise.inject("follow-up").trigger.inject == "shootdown" and exercise.inject("follow-up").delay == 90


def test_import_without_base_needs_two_teams():
    text = to_csv([{"Inject ID": "a", "To": "all", "Inject title": "A", "Released by": "by hand"}])
    with pytest.raises(MselError, match="needs at least two"):
        import_msel(text, None, "m.csv")


# --- format 2 --------------------------------------------------------------------------------

FORMAT2 = Path(__file__).parent / "data" / "format2.yaml"
TEST_LIBRARY = Path(__file__).parent / "data" / "lib"


def test_format2_round_trip_keeps_what_the_columns_do_not_hold():
    """Moves date the Scenario time cells; conditions, choices, fiction, source and moves stay in the script."""
    base, exercise = read_base(FORMAT2, library=TEST_LIBRARY)
    first = export_msel(exercise)
    rows = {r["Inject ID"]: r for r in rows_of(first)}
    assert rows["options"]["Scenario time"] == "2019-06-20 07:25"  # move 1, at 20x
    assert rows["boxer-opener"]["Scenario time"] == "2019-07-18 10:00"  # move 2's own date
    assert rows["chase"]["Released by"] == "condition +1m" and rows["nudge"]["Released by"] == "condition"
    assert rows["boxer-quiet"]["Released by"] == "choice boxer-opener" and rows["boxer-opener"]["To"] == ""
    data = import_msel(first, base, "f.csv", base_exercise=exercise, library=TEST_LIBRARY)
    loaded = check_script(dump_script(data), "format2.yaml", script_dir=FORMAT2.parent, library=TEST_LIBRARY)
    assert export_msel(loaded) == first
    assert sorted(map(repr, data["injects"])) == sorted(map(repr, base["injects"])), "every inject entry as written"
    assert {k: v for k, v in data.items() if k != "injects"} == {k: v for k, v in base.items() if k != "injects"}


def test_format2_import_edits_a_condition_release():
    base, exercise = read_base(FORMAT2, library=TEST_LIBRARY)
    rows = rows_of(export_msel(exercise))
    chase = next(r for r in rows if r["Inject ID"] == "chase")
    chase["Released by"] = "condition +5m"
    data = import_msel(to_csv(rows), base, "f.csv", base_exercise=exercise, library=TEST_LIBRARY)
    entry = next(e for e in data["injects"] if e["id"] == "chase")
    assert entry["delay"] == "5m" and entry["when"] == base["injects"][2]["when"]
    # made timed: the condition goes, with its delay
    chase["Released by"], chase["Exercise time"] = "time", "00:20"
    data = import_msel(to_csv(rows), base, "f.csv", base_exercise=exercise, library=TEST_LIBRARY)
    entry = next(e for e in data["injects"] if e["id"] == "chase")
    assert entry["at"] == "+00:20" and "when" not in entry and "delay" not in entry
    check_script(dump_script(data), "format2.yaml", script_dir=FORMAT2.parent, library=TEST_LIBRARY)


@pytest.mark.parametrize(
    ("ident", "cell", "message"),
    [
        (
            "debris",
            "condition",
            "column 'Released by': inject 'debris' has no condition in the base script: a condition is written in "
            "the script (when:), not in the MSEL",
        ),
        (
            "debris",
            "choice boxer-opener",
            "column 'Released by': inject 'debris' is not an alternative of 'boxer-opener' in the base script: "
            "choices are written in the script (choose:), not in the MSEL",
        ),
    ],
)
def test_format2_import_refuses_conditions_and_choices_the_script_lacks(ident, cell, message):
    base, exercise = read_base(FORMAT2, library=TEST_LIBRARY)
    rows = rows_of(export_msel(exercise))
    row = next(r for r in rows if r["Inject ID"] == ident)
    row["Released by"], row["Exercise time"] = cell, ""
    with pytest.raises(MselError) as caught:
        import_msel(to_csv(rows), base, "f.csv", base_exercise=exercise, library=TEST_LIBRARY)
    assert any(message in p for p in caught.value.problems), caught.value.problems


def test_format2_import_needs_teams_for_everything_but_a_choice():
    base, exercise = read_base(FORMAT2, library=TEST_LIBRARY)
    rows = rows_of(export_msel(exercise))
    next(r for r in rows if r["Inject ID"] == "debris")["To"] = ""
    with pytest.raises(MselError) as caught:
        import_msel(to_csv(rows), base, "f.csv", base_exercise=exercise, library=TEST_LIBRARY)
    assert len(caught.value.problems) == 1 and "column 'To': is empty" in caught.value.problems[0]
