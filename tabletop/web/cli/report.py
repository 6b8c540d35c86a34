"""`flask --app app report build|export`: after-action reports and log exports."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ..runtime import runtime
from .common import fail, writable

report_cli = AppGroup("report", help="After-action reports and log exports.")


def _progress(status: str, pct: int, message: str) -> None:
    if status == "building":
        click.echo(f"[{pct:3d}%] {message}")


@report_cli.command("build")
@click.argument("session_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="the PDF to write")
@click.option("--timeout", type=float, default=300.0, show_default=True, help="seconds before the build is stopped")
def build(session_id: str, output: str | None, timeout: float) -> None:
    """Build a session's after-action report (PDF and HTML) in a separate process; prints the path."""
    from tabletop.report.worker import run_worker

    store = runtime().store
    if store.get_session(session_id) is None:
        fail(f"unknown session '{session_id}' (flask --app app session create EXERCISE_ID makes one)")
    reports = Path(current_app.config["REPORTS_DIR"])
    if output is not None:
        target = Path(output)
        writable(target.resolve().parent, f"{target.parent or '.'}/")
    else:
        target = None
        writable(reports, f"{reports.name}/")
    report_id = store.create_report(session_id)
    outcome = run_worker(
        current_app.config["DATABASE_URL"],
        session_id,
        reports,
        report_id=report_id,
        output=target.resolve() if target else None,
        on_progress=_progress,
        timeout=timeout,
    )
    if not outcome.ok:
        fail(outcome.error or "the report could not be built")
    click.echo(f"wrote {outcome.path}")


@report_cli.command("export")
@click.argument("session_id")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="-", show_default=True)
def export(session_id: str, fmt: str, output: str) -> None:
    """Write a session's full event log as JSON or CSV (UTF-8; CSV with a BOM for spreadsheets)."""
    from tabletop.report.export import log_csv, log_json

    store = runtime().store
    row = store.get_session(session_id)
    if row is None:
        fail(f"unknown session '{session_id}'")
    events = store.events_after(session_id, 0)
    text = (
        log_json(events, session=row.id, exercise=row.exercise_id, title=row.title)
        if fmt == "json"
        else log_csv(events)
    )
    if output == "-":
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_bytes(text.encode("utf-8-sig" if fmt == "csv" else "utf-8"))
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    click.echo(f"wrote {output}: {len(events)} events of session {session_id}", err=True)
