"""Sessions side by side in the browser (issue 12): `/reports/compare?sessions=A,B`.

A facilitator picks sessions on the reports page; two or more are set side by side (contact times,
relay fidelity, peak escalation, decisions), one session shows its rounds (or moves) side by side.
The data is `tabletop.report.data.compare`, built from each session's report data: pure Python, no
layout (WeasyPrint is never even imported in the server's process), so the page is made in the request. Only
the facilitator's own sessions (or sessions made without an owner) can be compared.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template, request

from tabletop.report.data import ReportData, build_report
from tabletop.report.data.compare import Comparison, compare_moves, compare_sessions
from tabletop.script.models import from_snapshot

from . import auth
from .auth import facilitator_page
from .runtime import runtime

compare = Blueprint("compare", __name__)
MOST = 6  # sessions on one page: each is read and folded in the request


def _may_see(row: Any) -> bool:
    """The sessions a facilitator may see (auth.may_run where it exists; its owner rule otherwise)."""
    may_run = getattr(auth, "may_run", None)
    if may_run is not None:
        return bool(may_run(g.facilitator, row))
    owner = getattr(row, "created_by", None)
    return owner is None or owner == getattr(g.facilitator, "id", None)


def report_data(store: Any, session_id: str) -> ReportData:
    """A session's report data (pure: tabletop.report.build would load WeasyPrint into the server)."""
    row = store.get_session(session_id)
    events = store.events_after(session_id, 0)
    return build_report(from_snapshot(row.script), events, session_id=session_id, session_title=row.title)


def chosen() -> list[str]:
    """The session ids asked for: `?sessions=A,B` and/or `?sessions=A&sessions=B`, in order, once each."""
    ids: list[str] = []
    for value in request.args.getlist("sessions"):
        ids += [part.strip()[:32] for part in value.split(",") if part.strip()]
    return list(dict.fromkeys(ids))


@compare.route("/reports/compare")
@facilitator_page
def compare_page() -> Any:
    store = runtime().store
    ids = chosen()
    rows = [row for row in store.list_sessions() if _may_see(row)]
    known = {row.id: row for row in rows}
    problem = ""
    result: Comparison | None = None
    unknown = [s for s in ids if s not in known]
    if unknown:
        problem = f"Unknown session: {', '.join(unknown)}."
    elif len(ids) > MOST:
        problem = f"Pick at most {MOST} sessions."
    elif len(ids) == 1:
        result = compare_moves(report_data(store, ids[0]))
        if result is None:
            problem = "That session has a single move: pick two or more sessions to compare."
    elif len(ids) >= 2:
        result = compare_sessions([report_data(store, s) for s in ids])
    status = 404 if unknown else 400 if problem else 200
    return (
        render_template("compare.html", sessions=rows, ids=ids, result=result, problem=problem, most=MOST),
        status,
    )
