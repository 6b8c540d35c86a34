"""`flask --app app report build|export` and `flask --app app exercise rehearse`."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .cli import exercise_cli
from .runtime import runtime

report_cli = AppGroup("report", help="After-action reports and log exports.")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _writable(folder: Path, shown: str) -> None:
    """Exit 1 with a clear message when the folder cannot be created or written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        _fail(f"cannot write {shown}: {exc.strerror or exc}")


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
        _fail(f"unknown session '{session_id}' (flask --app app session create EXERCISE_ID makes one)")
    reports = Path(current_app.config["REPORTS_DIR"])
    if output is not None:
        target = Path(output)
        _writable(target.resolve().parent, f"{target.parent or '.'}/")
    else:
        target = None
        _writable(reports, f"{reports.name}/")
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
        _fail(outcome.error or "the report could not be built")
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
        _fail(f"unknown session '{session_id}'")
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
        _fail(f"cannot write {output}: {exc.strerror or exc}")
    click.echo(f"wrote {output}: {len(events)} events of session {session_id}", err=True)


@exercise_cli.command("rehearse")
@click.argument("path", type=click.Path(dir_okay=False, exists=True))
@click.option("--players", type=click.IntRange(1, 20), default=1, show_default=True, help="bot players per team")
@click.option("--seed", type=int, default=0, show_default=True, help="the bots' random seed")
@click.option("--exchanges", type=click.IntRange(1, 100_000), default=None, help="messages to send in all (big logs)")
@click.option(
    "--app-db", is_flag=True, help="play in the app's database (the session stays listed), not a temporary one"
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="the report PDF to write")
@click.option("--no-report", is_flag=True, help="play only; build no report")
def rehearse_command(
    path: str, players: int, seed: int, exchanges: int | None, app_db: bool, output: str | None, no_report: bool
) -> None:
    """Play a script at full speed with bot players through the real engine, then build its report."""
    from tabletop.rehearse import rehearse
    from tabletop.report.build import build_files
    from tabletop.script import ScriptError

    cfg = current_app.config
    reports = Path(cfg["REPORTS_DIR"])
    if not no_report:
        _writable(
            Path(output).resolve().parent if output else reports,
            f"{Path(output).parent}/" if output else f"{reports.name}/",
        )
    try:
        game = rehearse(
            path,
            players=players,
            seed=seed,
            exchanges=exchanges,
            url=cfg["DATABASE_URL"] if app_db else None,
            library=Path(cfg["INJECTS_DIR"]),
        )
    except ScriptError as exc:
        _fail(str(exc))
    summary = game.summary()
    click.echo(
        f"rehearsed {game.exercise.id} (session {summary['session']}): {summary['injects_released']} injects released, "
        f"{summary['messages']} messages, {summary['relayed']} relay actions, {summary['decisions']} decisions, "
        f"final escalation {summary['escalation']}, {summary['observations']} observations, "
        f"{summary['hotwash']} hotwash answers"
    )
    if no_report:
        return
    built = build_files(
        game.store,
        game.session,
        reports,
        output=Path(output) if output else None,
        progress=lambda pct, message: click.echo(f"[{pct:3d}%] {message}"),
    )
    click.echo(
        f"wrote {built.pdf} ({built.timings['pages']} pages in {built.timings['total']:.1f} s) and {built.html.name}"
    )
