"""Every named time format, pinned (static/js/times.js is its twin for the pages)."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tabletop import ROOT
from tabletop.script.durations import parse_duration, parse_offset
from tabletop.script.models import Scenario
from tabletop.script.times import (
    format_duration,
    format_length,
    format_log_offset,
    format_offset,
    format_scenario,
    format_scenario_at,
    format_short_offset,
    format_span,
    format_wall,
    msel_exercise_cell,
    msel_scenario_cell,
    scenario_iso,
    scenario_moment,
)

from .services import need_program

GULF = timezone(timedelta(hours=4))
SCENARIO = Scenario(start=datetime(2019, 6, 20, 4, 0, tzinfo=GULF), time_scale=2)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "+00:00"), (900, "+00:15"), (3930, "+01:05:30"), (59.9, "+00:00:59"), (360_000, "+100:00")],
)
def test_offset_is_the_script_format_and_reads_back(seconds: float, text: str) -> None:
    assert format_offset(seconds) == text
    assert parse_offset(text) == int(seconds)


@pytest.mark.parametrize(("seconds", "text"), [(None, "+00:00"), (-5, "+00:00"), (3959.9, "+01:05"), (0, "+00:00")])
def test_short_offset_is_to_the_minute(seconds: float | None, text: str) -> None:
    assert format_short_offset(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, ""), (0, "+0:00:00"), (-3, "+0:00:00"), (59.6, "+0:01:00"), (3930, "+1:05:30")]
)
def test_log_offset_is_always_to_the_second(seconds: float | None, text: str) -> None:
    assert format_log_offset(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (45, "45s"), (90, "90s"), (900, "15m"), (5400, "1h30m"), (7200, "2h"), (185, "3m5s"), (3605, "1h0m5s")],
)
def test_duration_is_the_script_format_and_reads_back(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("seconds", "text"), [(0, "0 min"), (2700, "45 min"), (7200, "2 h"), (3900, "1 h 05 min")])
def test_length_is_to_the_minute(seconds: int, text: str) -> None:
    assert format_length(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, ""), (-1, "0 s"), (44.6, "45 s"), (185, "3 min 05 s"), (3600, "1 h 00 min"), (3725, "1 h 02 min")],
)
def test_span_is_for_people(seconds: float | None, text: str) -> None:
    assert format_span(seconds) == text


def test_scenario_time_runs_at_the_time_scale_in_the_scenarios_zone() -> None:
    assert scenario_moment(SCENARIO, 150) == datetime(2019, 6, 20, 4, 5, tzinfo=GULF)
    assert scenario_moment(None, 150) is None
    assert scenario_moment(SCENARIO, None) is None
    assert format_scenario(datetime(2019, 6, 20, 4, 5, 59, tzinfo=GULF)) == "20 Jun 2019 04:05"
    assert format_scenario(None) == ""
    assert format_scenario_at(SCENARIO, 150) == "20 Jun 2019 04:05"
    assert format_scenario_at(None, 150) == ""
    assert scenario_iso(SCENARIO, 150) == "2019-06-20T04:05:00+04:00"
    assert scenario_iso(SCENARIO, 0.25) == "2019-06-20T04:00:00.500000+04:00"
    assert scenario_iso(None, 150) is None


def test_msel_cells() -> None:
    assert msel_exercise_cell(900) == "00:15"
    assert msel_exercise_cell(3930) == "01:05:30"
    assert msel_scenario_cell(SCENARIO, 1050) == "2019-06-20 04:35"
    assert msel_scenario_cell(SCENARIO, 1051) == "2019-06-20 04:35:02"
    assert msel_scenario_cell(SCENARIO, None) == ""
    assert msel_scenario_cell(None, 1050) == ""


def test_wall_time_is_utc_whatever_the_locale() -> None:
    assert format_wall(None) == ""
    assert format_wall(datetime(2019, 6, 20, 4, 5, 30, tzinfo=GULF).timestamp()) == "20 Jun 2019 00:05 UTC"
    assert format_wall(0) == "01 Jan 1970 00:00 UTC"


def test_the_javascript_twin_shows_the_same_text(tmp_path: Path) -> None:
    """static/js/times.js, run by node: the same short offsets as Python, and the page formats pinned."""
    need_program("node")
    module = tmp_path / "times.mjs"  # node reads a .mjs file as an ES module, as the browser does
    shutil.copy(ROOT / "static" / "js" / "times.js", module)
    script = f"""
import * as t from {json.dumps(module.as_uri())};
const out = {{
  short: [null, -5, 0, 59, 3959.9, 360000].map((s) => t.formatShortOffset(s)),
  clock: [null, -1, 59.9, 3930.7, 360000].map((s) => t.formatClock(s)),
  countdown: [0, 0.2, 299.2, 3600].map((s) => t.formatCountdown(s)),
  scenario: [
    t.formatScenarioClock("2019-06-20T04:00:00+04:00", 150, 2),
    t.formatScenarioClock("2019-06-20T23:59:59-05:30", 1, 1),
    t.formatScenarioClock(null, 10, 1),
  ],
}};
console.log(JSON.stringify(out));
"""
    done = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["short"] == [format_short_offset(s) for s in (None, -5, 0, 59, 3959.9, 360_000)]
    assert out["clock"] == ["+00:00:00", "+00:00:00", "+00:00:59", "+01:05:30", "+100:00:00"]
    assert out["countdown"] == ["00:00", "00:01", "05:00", "60:00"]
    assert out["scenario"] == [
        "20 Jun 2019 04:05:00 UTC+04:00",
        "21 Jun 2019 00:00:00 UTC-05:30",
        "",
    ]
