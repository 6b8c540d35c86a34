"""Every named time format of Tabletop, in one place (its twin for the pages is static/js/times.js).

Two clocks run in an exercise:
- *exercise time*: seconds since the clock started (what the script's `at:` and the log's `t` hold);
- *scenario time*: the in-game date and time, `scenario.start + t * scenario.time_scale`.

| name                    | example                     | used for                                          |
| ----------------------- | --------------------------- | ------------------------------------------------- |
| `format_offset`         | `+00:15`, `+01:05:30`       | the script's offsets (round-trips `parse_offset`) |
| `format_short_offset`   | `+00:15`                    | an offset to the minute                           |
| `format_log_offset`     | `+0:15:00`                  | the report and log exports (always to the second) |
| `format_duration`       | `90s`, `15m`, `1h30m`       | the script's durations (round-trips `parse_duration`) |
| `format_length`         | `45 min`, `1 h 30 min`      | how long a script plays, for people               |
| `format_span`           | `45 s`, `3 min 05 s`        | how long something took, in the report            |
| `scenario_moment`       | a `datetime`                | scenario time at an exercise offset               |
| `format_scenario`       | `20 Jun 2019 04:05`         | scenario time for people (any locale)             |
| `format_scenario_at`    | `20 Jun 2019 04:05`         | the same, from an offset                          |
| `scenario_iso`          | `2019-06-20T04:05:00+04:00` | scenario time on the wire                         |
| `msel_exercise_cell`    | `00:15`, `01:05:30`         | the MSEL's `Exercise time` column                 |
| `msel_scenario_cell`    | `2019-06-20 04:35`          | the MSEL's `Scenario time` column                 |
| `format_wall`           | `20 Jun 2019 04:05 UTC`     | a real (wall-clock) moment, in UTC                |

Pure: no Flask, no clock, no locale (month names are written out here).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Scenario

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# ------------------------------------------------------------- exercise time
def format_offset(seconds: float) -> str:
    """`+HH:MM`, or `+HH:MM:SS` when there are seconds: the script's offset format."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"+{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def format_short_offset(seconds: float | None) -> str:
    """`+HH:MM`: an offset to the minute, rounded down (nothing or less than 0 counts as 0)."""
    whole = max(0, int(seconds or 0))
    hours, rest = divmod(whole, 3600)
    return f"+{hours:02d}:{rest // 60:02d}"


def format_log_offset(seconds: float | None) -> str:
    """`+H:MM:SS`, always to the (rounded) second, as logs are read; empty when unknown."""
    if seconds is None:
        return ""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"+{hours}:{minutes:02d}:{secs:02d}"


def msel_exercise_cell(seconds: int) -> str:
    """`00:15` or `01:05:30`: the script's offset without its `+` (a spreadsheet reads `+` as a formula)."""
    return format_offset(seconds).lstrip("+")


# ----------------------------------------------------------------- durations
def format_duration(seconds: float) -> str:
    """The shortest script duration for a number of seconds (`0s`, `90s`, `15m`, `1h30m`)."""
    whole = int(seconds)
    if whole == 0:
        return "0s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if secs and (hours or minutes > 1):
        return (f"{hours}h" if hours else "") + f"{minutes}m{secs}s"
    if secs:
        return f"{minutes * 60 + secs}s"
    return (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")


def format_length(seconds: float) -> str:
    """How long a script plays, to the minute: `45 min`, `2 h`, `1 h 05 min`."""
    hours, rest = divmod(int(seconds), 3600)
    minutes = rest // 60
    if hours and minutes:
        return f"{hours} h {minutes:02d} min"
    return f"{hours} h" if hours else f"{minutes} min"


def format_span(seconds: float | None) -> str:
    """How long something took: `45 s`, `3 min 05 s`, `1 h 02 min`; empty when unknown."""
    if seconds is None:
        return ""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


# ------------------------------------------------------------- scenario time
def scenario_moment(scenario: Scenario | None, seconds: float | None) -> datetime | None:
    """The in-game moment at an exercise offset; None without a scenario or a time."""
    if scenario is None or seconds is None:
        return None
    return scenario.start + timedelta(seconds=seconds * scenario.time_scale)


def format_scenario(moment: datetime | None) -> str:
    """`20 Jun 2019 04:05` in the scenario's own zone, whatever the machine's locale; empty for None."""
    if moment is None:
        return ""
    return f"{moment.day:02d} {MONTHS[moment.month - 1]} {moment.year} {moment:%H:%M}"


def format_scenario_at(scenario: Scenario | None, seconds: float | None) -> str:
    """`format_scenario` of the scenario time at an exercise offset."""
    return format_scenario(scenario_moment(scenario, seconds))


def scenario_iso(scenario: Scenario | None, seconds: float | None) -> str | None:
    """`2019-06-20T04:05:00+04:00`: scenario time for machines (the pages format it themselves)."""
    moment = scenario_moment(scenario, seconds)
    return None if moment is None else moment.isoformat()


def msel_scenario_cell(scenario: Scenario | None, seconds: float | None) -> str:
    """`2019-06-20 04:35` (with `:SS` only when there are seconds): the MSEL's `Scenario time`."""
    moment = scenario_moment(scenario, seconds)
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%d %H:%M" + (":%S" if moment.second else ""))


# ----------------------------------------------------------------- wall time
def format_wall(wall: float | None) -> str:
    """A Unix time as `20 Jun 2019 04:05 UTC`, whatever the machine's locale; empty for None."""
    if wall is None:
        return ""
    moment = datetime.fromtimestamp(wall, UTC)
    return f"{moment.day:02d} {MONTHS[moment.month - 1]} {moment.year} {moment:%H:%M} UTC"
