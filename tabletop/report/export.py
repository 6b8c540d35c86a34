"""The event log as JSON and CSV, for analysis elsewhere (spreadsheets, notebooks)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from tabletop.engine.events import Event
from tabletop.script.times import format_log_offset

CSV_COLUMNS = (
    "seq", "exercise_time", "t", "wall_utc", "type", "actor", "audience",
    "channel", "from_team", "name", "text", "payload",
)  # fmt: skip
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def log_json(events: Sequence[Event], *, session: str = "", exercise: str = "", title: str = "") -> str:
    """Every event as stored (control's view: nothing redacted)."""
    body: dict[str, Any] = {
        "session": session,
        "exercise": exercise,
        "title": title,
        "events": [e.as_dict() for e in events],
    }
    return json.dumps(body, ensure_ascii=False, indent=1) + "\n"


def _cell(value: object) -> str:
    """Text for a spreadsheet cell; text that a spreadsheet would run as a formula starts with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def log_csv(events: Sequence[Event]) -> str:
    """One row per event; the columns that matter most pulled out of the payload."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in events:
        p = e.as_dict()["payload"]  # the payload as stored
        writer.writerow(
            [
                e.seq,
                format_log_offset(e.t),
                round(e.t, 3),
                datetime.fromtimestamp(e.wall, UTC).isoformat(timespec="seconds"),
                e.type,
                "" if e.actor is None else e.actor,
                " ".join(e.audience),
                _cell(p.get("channel", "")),
                _cell(p.get("from_team", p.get("team", ""))),
                _cell(p.get("name", p.get("by", ""))),
                _cell(p.get("text", p.get("title", ""))),
                _cell(json.dumps(p, ensure_ascii=False, sort_keys=True)),
            ]
        )
    return out.getvalue()
