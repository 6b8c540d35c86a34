"""Authoring tools: `flask --app app exercise validate|schema|timeline|export-msel|import-msel`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from tabletop import ROOT
from tabletop.script import Exercise, ScriptError, load_exercise
from tabletop.script.durations import format_duration
from tabletop.script.schema import exercise_schema
from tabletop.script.timeline import format_scenario_time, scenario_time, timeline

exercise_cli = AppGroup("exercise", help="Check, inspect and convert exercise scripts.")


def _library() -> Path:
    return Path(current_app.config["INJECTS_DIR"])


def _load_or_exit(path: str) -> Exercise:
    try:
        return load_exercise(path, library=_library())
    except ScriptError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


@exercise_cli.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(paths: tuple[str, ...]) -> None:
    """Check scripts: a one-line summary for each valid file, every error otherwise (exit 1)."""
    failed = False
    for path in paths:
        try:
            ex = load_exercise(path, library=_library())
        except ScriptError as exc:
            failed = True
            click.echo(str(exc), err=True)
            count = len(exc.problems)
            click.echo(f"{path}: {count} problem{'s' if count != 1 else ''}", err=True)
            continue
        decisions = sum(1 for i in ex.injects if i.decision is not None)
        click.echo(
            f"{path}: ok: '{ex.title}', {len(ex.teams)} teams ({', '.join(t.id for t in ex.teams)}), "
            f"{len(ex.channels)} channels, {len(ex.injects)} injects ({decisions} decisions), "
            f"duration {format_duration(ex.duration)}"
        )
    sys.exit(1 if failed else 0)


@exercise_cli.command("schema")
@click.option("-o", "--output", default=str(ROOT / "schema" / "exercise.schema.json"), show_default=True)
def schema(output: str) -> None:
    """Write the JSON Schema of the script format (for editors with a YAML language server)."""
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text(json.dumps(exercise_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    click.echo(f"wrote {output}")


@exercise_cli.command("timeline")
@click.argument("path", type=click.Path(dir_okay=False))
def show_timeline(path: str) -> None:
    """Print the MSEL: exercise time, scenario time, to, from, medium, title and how each inject is released."""
    ex = _load_or_exit(path)
    header = ("#", "ex. time", "scenario time", "to", "from", "medium", "title", "released by")
    rows = [header]
    for row in timeline(ex):
        inject = row.inject
        rows.append(
            (
                str(row.number),
                row.exercise_time,
                format_scenario_time(scenario_time(ex, row.due)),
                ", ".join(ex.recipients(inject)),
                inject.from_ or "",
                inject.medium,
                inject.title,
                row.release,
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
    widths[6] = min(widths[6], 60)
    for n, r in enumerate(rows):
        cells = [(c if len(c) <= widths[k] else c[: widths[k] - 1] + "…").ljust(widths[k]) for k, c in enumerate(r)]
        click.echo("  ".join(cells).rstrip())
        if n == 0:
            click.echo("  ".join("-" * w for w in widths))
