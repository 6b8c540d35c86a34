"""After-action reports on the web: build, follow, download, share; JSON and CSV exports of the log.

Building never happens in a request, a socket handler or the scheduler: the request creates a
`report` row and a background task hands it to the app's warm report job (`tabletop.report.job`:
a fork of the worker process, under the time and memory limits of every route), emitting `report`
events ({session, report, status, progress, error}) to the session's control room as it goes.
A facilitator may hand one report to someone without an account through a signed link that
expires (itsdangerous, the app's SECRET_KEY, its own salt).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, g, jsonify, render_template, request, send_file
from flask import url_for as flask_url_for

from .auth import error, facilitator_api, facilitator_page, json_body, may_run
from .extensions import socketio
from .runtime import room, runtime
from .share import MAX_SHARE_HOURS, expiry, gone, read_token, refused, sign_token

log = logging.getLogger(__name__)
reports = Blueprint("reports", __name__)
SHARE_SALT = "tabletop.report-share"
#: The largest id a store holds (PostgreSQL's integer): a larger one in a URL is 404, not a database error.
MAX_ID = 2**31 - 1
#: The HTML view is our own markup with an inline stylesheet and no script at all.
HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def report_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "session": row.session_id,
        "status": row.status,
        "progress": row.progress,
        "error": row.error,
        "created": row.created_at.isoformat() if row.created_at else None,
        "pdf": flask_url_for("reports.report_pdf", report_id=row.id) if row.status == "done" else None,
        "html": flask_url_for("reports.report_html", report_id=row.id) if row.status == "done" else None,
    }


# ------------------------------------------------------------------ building
def start_build(app: Flask, session_id: str) -> int:
    """Queue a build; the background task runs the worker process and reports progress to control."""
    store = runtime().store
    report_id = store.create_report(session_id)
    socketio.start_background_task(_build_task, app, session_id, report_id)
    return report_id


def _build_task(app: Flask, session_id: str, report_id: int) -> None:
    from tabletop.report.job import Limits
    from tabletop.report.progress import Progress

    with app.app_context():
        cfg = app.config
        last = {"pct": -1, "at": 0.0}

        def emit(update: Progress) -> None:
            now = time.monotonic()
            if update.status == "building" and (update.percent == last["pct"] or now - last["at"] < 0.2):
                return  # no flood of progress events
            last.update(pct=update.percent, at=now)
            payload = {
                "session": session_id,
                "report": report_id,
                "status": update.status,
                "progress": update.percent,
                "error": update.message if update.status == "failed" else None,
            }
            socketio.emit("report", payload, to=room(session_id, "control"))

        try:
            runtime().reports.run(
                runtime().store,
                session_id,
                Path(cfg["REPORTS_DIR"]),
                report_id=report_id,
                limits=Limits.from_config(cfg),
                on_progress=emit,
            )
        except Exception:
            log.exception("report %s of session %s", report_id, session_id)
            runtime().store.update_report(report_id, status="failed", error="internal error (see the server log)")
            emit(Progress("failed", 0, "internal error (see the server log)"))


@reports.post("/api/sessions/<session_id>/reports")
@facilitator_api
def create_report(session_id: str) -> Any:
    """Start building a session's report: 202 with the report's id and status."""
    if runtime().store.get_session(session_id) is None:
        return error(404, "unknown_session", f"unknown session '{session_id}'")
    report_id = start_build(current_app._get_current_object(), session_id)  # type: ignore[attr-defined]
    row = runtime().store.get_report(report_id)
    return jsonify({"ok": True, "report": report_view(row)}), 202


@reports.get("/api/sessions/<session_id>/reports")
@facilitator_api
def session_reports(session_id: str) -> Any:
    rows = runtime().store.list_reports(session_id)
    return jsonify({"ok": True, "reports": [report_view(r) for r in rows]})


@reports.get(f"/api/reports/<int(max={MAX_ID}):report_id>")
@facilitator_api
def report_status(report_id: int) -> Any:
    row = runtime().store.get_report(report_id)
    if row is None:
        return error(404, "unknown_report", f"unknown report {report_id}")
    return jsonify({"ok": True, "report": report_view(row)})


def _done_file(report_id: int, suffix: str) -> Path | None:
    row = runtime().store.get_report(report_id)
    if row is None or row.status != "done" or not row.path:
        return None
    path = Path(row.path).with_suffix(suffix).resolve()
    folder = Path(current_app.config["REPORTS_DIR"]).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        return None
    return path


@reports.get(f"/api/reports/<int(max={MAX_ID}):report_id>/pdf")
@facilitator_api
def report_pdf(report_id: int) -> Any:
    path = _done_file(report_id, ".pdf")
    if path is None:
        return error(404, "not_ready", f"report {report_id} is not built (or its file is gone)")
    return send_file(path, mimetype="application/pdf", as_attachment=True, download_name=path.name)


@reports.get(f"/api/reports/<int(max={MAX_ID}):report_id>/html")
@facilitator_api
def report_html(report_id: int) -> Any:
    path = _done_file(report_id, ".html")
    if path is None:
        return error(404, "not_ready", f"report {report_id} is not built (or its file is gone)")
    response = send_file(path, mimetype="text/html")
    response.headers["Content-Security-Policy"] = HTML_POLICY
    return response


# ------------------------------------------------------------------- sharing
def share_token(app: Flask, report_id: int, hours: float, signed_at: float | None = None) -> str:
    """A signed, timestamped token naming one report and how many hours the link works."""
    return sign_token(app, SHARE_SALT, {"r": report_id}, hours, signed_at)


def read_share_token(app: Flask, token: str, now: float | None = None) -> tuple[int | None, str]:
    """(report id, "") for a good token; (None, "expired" | "invalid") otherwise."""
    data, problem = read_token(app, SHARE_SALT, token, {"r": int}, now)
    return (None, problem) if data is None else (data["r"], "")


@reports.post(f"/api/reports/<int(max={MAX_ID}):report_id>/share")
@facilitator_api
def share(report_id: int) -> Any:
    """{hours} -> {url, expires}: a link that downloads this one report without an account."""
    if _done_file(report_id, ".pdf") is None:
        return error(404, "not_ready", f"report {report_id} is not built (or its file is gone)")
    data = json_body() or {}  # a body that is not an object, or none: the default
    hours = data.get("hours", 72) if isinstance(data, dict) else None
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= MAX_SHARE_HOURS:
        return error(400, "bad_payload", f"'hours' must be a number above 0, at most {MAX_SHARE_HOURS}")
    expires = time.time() + float(hours) * 3600
    token = share_token(current_app._get_current_object(), report_id, float(hours))  # type: ignore[attr-defined]
    url = flask_url_for("reports.shared", token=token, _external=True)
    return jsonify({"ok": True, "url": url, "expires": int(expires)})


@reports.get("/shared/<token>")
def shared(token: str) -> Any:
    """The shared report's PDF; an expired or altered link gets a short page, never a traceback."""
    report_id, problem = read_share_token(current_app._get_current_object(), token[:500])  # type: ignore[attr-defined]
    if report_id is None:
        return refused(problem)
    path = _done_file(report_id, ".pdf")
    if path is None:
        return gone("This report is no longer available", "It may have been removed.")
    return send_file(path, mimetype="application/pdf", as_attachment=True, download_name=path.name)


# -------------------------------------------------------------------- exports
@reports.get("/api/sessions/<session_id>/log.json")
@facilitator_api
def log_json_export(session_id: str) -> Any:
    from tabletop.report.export import log_json

    return _log_download(
        session_id,
        "json",
        lambda row, log: log_json(log, session=row.id, exercise=row.exercise_id, title=row.title),
    )


@reports.get("/api/sessions/<session_id>/log.csv")
@facilitator_api
def log_csv_export(session_id: str) -> Any:
    from tabletop.report.export import log_csv

    return _log_download(session_id, "csv", lambda row, log: "\ufeff" + log_csv(log))  # a BOM: spreadsheets read UTF-8


def _log_download(session_id: str, kind: str, text: Callable[[Any, list[Any]], str]) -> Any:
    """The session's whole log as a file to save, `log-ID.json` or `log-ID.csv`: `text(row, events)`."""
    store = runtime().store
    row = store.get_session(session_id)
    if row is None:
        return error(404, "unknown_session", f"unknown session '{session_id}'")
    mimetype = {"json": "application/json", "csv": "text/csv"}[kind]
    response = current_app.response_class(text(row, store.events_after(session_id, 0)), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="log-{row.id}.{kind}"'
    return response


# ----------------------------------------------------------------------- page
@reports.route("/reports", methods=["GET", "POST"])
@facilitator_page
def reports_page() -> Any:
    """Facilitators: every session with its reports; build one, download, or make a share link."""
    store = runtime().store
    shared_link: dict[str, Any] | None = None
    notice = ""
    if request.method == "POST":
        action = request.form.get("action")
        if action == "build":
            session_id = request.form.get("session", "")[:32]
            session = store.get_session(session_id)
            if session is None or not may_run(g.facilitator, session):
                notice = f"Unknown session '{session_id}'."
            else:
                report_id = start_build(current_app._get_current_object(), session_id)  # type: ignore[attr-defined]
                notice = f"Report {report_id} is being built; reload this page to follow it."
        elif action == "share":
            try:
                report_id, hours = int(request.form.get("report", "")), float(request.form.get("hours", "72"))
            except ValueError:
                report_id, hours = 0, 0.0
            row = store.get_report(report_id) if 0 < report_id <= MAX_ID else None
            theirs = row is not None and may_run(g.facilitator, store.get_session(row.session_id))
            if not theirs or _done_file(report_id, ".pdf") is None or not 0 < hours <= MAX_SHARE_HOURS:
                notice = "That report cannot be shared (not built, or the hours are out of range)."
            else:
                token = share_token(current_app._get_current_object(), report_id, hours)  # type: ignore[attr-defined]
                shared_link = {
                    "report": report_id,
                    "url": flask_url_for("reports.shared", token=token, _external=True),
                    "expires": expiry(hours),
                }
    by_session: dict[str, list[Any]] = {}
    for row in store.list_reports():
        by_session.setdefault(row.session_id, []).append(row)
    sessions = [
        {"row": s, "reports": by_session.get(s.id, [])} for s in store.list_sessions() if may_run(g.facilitator, s)
    ]
    return render_template("reports.html", sessions=sessions, shared=shared_link, notice=notice)
