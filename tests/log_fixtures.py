"""The committed event-log fixtures (tests/data/logs/): loading them, and the projections they are compared by.

The logs were written by earlier code (see tests/make_log_fixtures.py); a projection is the plain-JSON
picture of what a log folds to (the session state) or builds (the report data), compared whole.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from tabletop.engine import Event, SessionState
from tabletop.report.data import build_report
from tabletop.script.models import from_snapshot

LOGS = Path(__file__).parent / "data" / "logs"
NAMES = ("report-game", "control-game", "global-hawk-rehearsal")


def load_log(name: str) -> dict[str, Any]:
    return json.loads((LOGS / f"{name}.log.json").read_text())


def events_of(log: dict[str, Any]) -> list[Event]:
    return [
        Event(r["seq"], r["type"], r["payload"], tuple(r["audience"]), r["t"], r["wall"], r["actor"], r["client_id"])
        for r in log["events"]
    ]


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Fields added after the fixtures were written (metadata `golden: False`, report.data.models.NEW)
        # are left out: every field the fixtures pin stays pinned whole.
        fields = [f for f in dataclasses.fields(value) if f.metadata.get("golden", True)]
        return {f.name: _plain(getattr(value, f.name)) for f in fields}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def state_projection(state: SessionState) -> dict[str, Any]:
    """What a session's state is, as plain JSON: the clock, injects, decisions, messages, jams and more."""
    clock = state.clock
    return {
        "seq": state.seq,
        "clock": {"status": clock.status, "speed": clock.speed, "base": clock.base, "ended": clock.ended},
        "injects": {
            ident: {
                "status": s.status,
                "due": s.due,
                "immediate": s.immediate,
                "released_t": s.released_t,
                "released_seq": s.released_seq,
            }
            for ident, s in state.injects.items()
        },
        "decisions": {
            ident: {
                "teams": list(d.teams),
                "opened_t": d.opened_t,
                "deadline_t": d.deadline_t,
                "option": d.option,
                "decided": d.decided,
            }
            for ident, d in state.decisions.items()
        },
        "messages": {
            str(seq): {
                "channel": m.channel,
                "from_team": m.from_team,
                "status": m.status,
                "text": m.text,
                "deliver_at": m.deliver_at,
                "audience": list(m.audience),
                "sent_t": m.sent_t,
            }
            for seq, m in state.messages.items()
        },
        "transit": sorted(state.transit),
        "jams": {k: list(v) for k, v in state.jams.items()},
        "escalation": state.escalation,
        "acks": _plain(state.acks),
        "participants": sorted(state.participants),
        "feedback": sorted(state.feedback),
        "live_count": state.live_count,
    }


def report_projection(session: str, title: str, script: dict[str, Any], events: list[Event]) -> dict[str, Any]:
    """The report data built from a log, whole, as plain JSON."""
    data = build_report(from_snapshot(script), events, session_id=session, session_title=title)
    return _plain(data)
