"""`flask --app app report build|export`: after-action reports and log exports."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from tabletop.report.progress import Progress
from tabletop.store import Store

from ..runtime import runtime
from .common import fail, writable

report_cli = AppGroup("report", help="After-action reports and log exports.")


def _progress(update: Progress) -> None:
    if update.status == "building":
        click.echo(f"[{update.percent:3d}%] {update.message}")


def build_in_worker(store: Store, session_id: str, output: Path | None, *, timeout: float | None = None) -> str:
    """Build a report through the report job (a cold worker, the app's limits), printing its progress.

    Returns the PDF's path; exits 1 with the reason when the build fails. `report build` and
    `exercise rehearse` both build this way.
    """
    from tabletop.report.job import Limits, ReportJob

    cfg = current_app.config
    outcome = ReportJob(warm=False).run(
        store,
        session_id,
        Path(cfg["REPORTS_DIR"]),
        report_id=store.create_report(session_id),
        output=output,
        limits=Limits.from_config(cfg, timeout=timeout),
        on_progress=_progress,
    )
    if not outcome.ok or outcome.path is None:
        fail(outcome.error or "the report could not be built")
    return outcome.path


@report_cli.command("build")
@click.argument("session_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="the PDF to write")
@click.option(
    "--timeout", type=float, default=None, help="seconds before the build is stopped [default: REPORT_TIMEOUT]"
)
def build(session_id: str, output: str | None, timeout: float | None) -> None:
    """Build a session's after-action report (PDF and HTML) in a separate process; prints the path."""
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
    click.echo(f"wrote {build_in_worker(store, session_id, target, timeout=timeout)}")


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


@report_cli.command("compare")
@click.argument("session_ids", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="write a PDF (.pdf) or an HTML page (.html) instead of printing a table",
)
@click.option(
    "--width", type=click.IntRange(60, 400), default=120, show_default=True, help="width of the printed table"
)
def compare(session_ids: tuple[str, ...], output: str | None, width: int) -> None:
    """Sessions of one script side by side (contact times, relay fidelity, peak escalation, decisions);
    one session: its rounds (or moves) side by side. Prints a table, or writes -o FILE.pdf / FILE.html."""
    from tabletop.report.build import UnknownSession, report_data
    from tabletop.report.data.compare import as_text, compare_moves, compare_sessions

    store = runtime().store
    try:
        reports = [report_data(store, s) for s in dict.fromkeys(session_ids)]
    except UnknownSession as exc:
        fail(str(exc))
    if len(reports) == 1:
        found = compare_moves(reports[0])
        if found is None:
            fail(f"session '{reports[0].session_id}' has one move: give two or more sessions to compare")
        cmp = found
    else:
        cmp = compare_sessions(reports)
    if output is None:
        click.echo(as_text(cmp, width), nl=False)
        return
    target = Path(output)
    writable(target.resolve().parent, f"{target.parent or '.'}/")
    from tabletop.report.render import compare_html, compare_pdf

    if target.suffix.lower() in (".html", ".htm"):
        target.write_text(compare_html(cmp), encoding="utf-8")
    else:
        compare_pdf(cmp, target)
    click.echo(f"wrote {target}")
