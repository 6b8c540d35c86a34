"""Durations (`90s`, `15m`, `1h30m`) and exercise-time offsets (`+HH:MM[:SS]`).

Both are held as whole seconds of exercise time. This module reads them; `times.py` writes them
(`format_offset`, `format_duration`) beside every other time format.
"""

from __future__ import annotations

import re

DURATION_RE = re.compile(r"^(?:(\d{1,4})h)?(?:(\d{1,5})m)?(?:(\d{1,6})s)?$")
OFFSET_RE = re.compile(r"^\+(\d{1,3}):([0-5]\d)(?::([0-5]\d))?$")
DURATION_HINT = "a duration like 90s, 15m, 2h or 1h30m"
OFFSET_HINT = 'an offset of exercise time like "+00:15" or "+01:05:30"'


def parse_duration(value: object) -> int:
    """Return the seconds of a duration string, or raise ValueError with a readable message."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"expected {DURATION_HINT}, found {describe(value)}")
    if isinstance(value, int):
        raise ValueError(f"expected {DURATION_HINT}, found the number {value}: add a unit (s, m or h)")
    match = DURATION_RE.match(value.strip())
    if not value.strip() or not match:
        raise ValueError(f"'{value}' is not {DURATION_HINT}")
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def parse_offset(value: object) -> int:
    """Return the seconds of an offset string `+HH:MM[:SS]`, or raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"expected {OFFSET_HINT} (in quotes), found {describe(value)}")
    match = OFFSET_RE.match(value.strip())
    if not match:
        hint = f' (write "+{value.strip()}")' if OFFSET_RE.match("+" + value.strip()) else ""
        raise ValueError(f"'{value}' is not {OFFSET_HINT}{hint}")
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def describe(value: object) -> str:
    """A short description of a YAML value for error messages."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"'{shown}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"
