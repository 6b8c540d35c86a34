"""Authoring tools: `flask --app app exercise` validate, lint, schema, timeline, export-msel, import-msel,
upgrade, rehearse."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from tabletop import ROOT
from tabletop.script import Exercise, ScriptError, load_exercise
from tabletop.script.schema import exercise_schema
from tabletop.script.timeline import timeline
from tabletop.script.times import format_duration, format_offset, format_scenario, format_scenario_at

from .common import fail, library, writable

exercise_cli = AppGroup("exercise", help="Check, inspect and convert exercise scripts.")


def _load_or_exit(path: str) -> Exercise:
    try:
        return load_exercise(path, library=library())
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
            ex = load_exercise(path, library=library())
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


@exercise_cli.command("lint")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--slot", "slot_length", default="2h", show_default=True, help="the time the game is given")
@click.option("--read-in", default="10m", show_default=True, help="the read-in before play")
@click.option("--plenary", default="10m", show_default=True, help="each plenary, at a move that stops the clock")
@click.option("--hotwash", default="25m", show_default=True, help="the hotwash after play")
def lint_command(paths: tuple[str, ...], slot_length: str, read_in: str, plenary: str, hotwash: str) -> None:
    """Warn where a valid script misleads as a game: clock times against scenario time, objectives
    of another move, options scored by their channel, idle seats, play that overruns the slot (exit 1
    when there is any warning or a script does not load)."""
    from tabletop.script.durations import parse_duration
    from tabletop.script.lint import Slot, lint_file

    try:
        slot = Slot(*(int(parse_duration(v)) for v in (slot_length, read_in, plenary, hotwash)))
    except ValueError as exc:
        fail(str(exc))
    failed = False
    for path in paths:
        try:
            found = lint_file(path, library=library(), slot=slot)
        except ScriptError as exc:
            failed = True
            click.echo(str(exc), err=True)
            click.echo(f"{path}: does not load (run validate)", err=True)
            continue
        for finding in found:
            click.echo(str(finding))
        failed |= bool(found)
        count = len(found)
        click.echo(f"{path}: " + (f"{count} warning{'s' if count != 1 else ''}" if count else "lint clean"))
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
    header: tuple[str, ...] = ("#", "ex. time", "scenario time", "to", "from", "medium", "title", "released by")
    header += ("move",) if ex.moves else ()  # format 2: each row dated by its move's clock
    rows = [header]
    for row in timeline(ex):
        inject = row.inject
        scenario = format_scenario_at(row.clock, row.due)
        if not scenario and row.move is not None and (anchor := ex.move_anchor(row.move)) is not None:
            scenario = format_scenario(anchor)[:11]  # a branch: its move's date
        rows.append(
            (
                str(row.number),
                row.exercise_time,
                scenario,
                ", ".join(ex.recipients(inject)),
                inject.from_ or "",
                inject.medium,
                inject.title,
                row.release,
                *((row.move.id if row.move else "",) if ex.moves else ()),
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
    widths[6] = min(widths[6], 60)
    for n, r in enumerate(rows):
        cells = [(c if len(c) <= widths[k] else c[: widths[k] - 1] + "…").ljust(widths[k]) for k, c in enumerate(r)]
        click.echo("  ".join(cells).rstrip())
        if n == 0:
            click.echo("  ".join("-" * w for w in widths))
    if ex.moves:  # format 2: each move's own date and clock
        click.echo("\nmoves:")
        for move in ex.moves:
            anchor = ex.move_anchor(move)
            clock = f"x{move.time_scale:g}" + (", clock stops" if move.stop_clock else "")
            when = format_scenario(anchor) if anchor is not None else "no scenario date"
            click.echo(f"  {move.id}  {format_offset(move.at)}  {when}  ({clock})  {move.title}")


# --- MSEL spreadsheets (see tabletop/script/msel.py for the columns and the cell grammar) ---


def _msel_exit(problems: list[str], footer: str) -> SystemExit:
    """Print the problems and a last line on stderr; the exit (status 1) to raise."""
    for line in problems:
        click.echo(line, err=True)
    click.echo(footer, err=True)
    return SystemExit(1)


@exercise_cli.command("export-msel")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "-o", "--output", default="-", show_default=True, help="the CSV file to write (UTF-8 with a BOM); - for stdout"
)
def export_msel_command(path: str, output: str) -> None:
    """Write the MSEL of a script as CSV: one row per inject, in timeline order, HSEEP columns."""
    from tabletop.script.msel import export_msel

    exercise = _load_or_exit(path)
    text = export_msel(exercise)
    if output == "-":
        click.echo(text.encode("utf-8"), nl=False)  # bytes: the \r\n line ends stay as they are on every system
        return
    try:
        # The BOM lets spreadsheets (Excel) read the file as UTF-8: Persian and Arabic stay legible.
        Path(output).write_bytes(text.encode("utf-8-sig"))
    except OSError as exc:
        raise _msel_exit([f"{output}: cannot write the file: {exc.strerror}"], f"{output}: not written") from None
    click.echo(f"wrote {output}: {len(exercise.injects)} injects of {path}")


@exercise_cli.command("import-msel")
@click.argument("csv_path", metavar="FILE.csv", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="the script to write")
@click.option(
    "--base",
    type=click.Path(dir_okay=False),
    default=None,
    help="the script the MSEL came from (default: the output when it exists); it gives what the columns do not hold",
)
def import_msel_command(csv_path: str, output: str, base: str | None) -> None:
    """Build a script from an MSEL CSV: rows update the base script's injects by Inject ID."""
    import os
    import tempfile

    from tabletop.script.msel import MAX_CSV_BYTES, MselError, check_script, dump_script, import_msel, read_base

    library_dir = library()
    base_path = base if base is not None else (output if Path(output).is_file() else None)
    try:
        with open(csv_path, "rb") as handle:
            raw = handle.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        raise _msel_exit([f"{csv_path}: cannot read the file: {exc.strerror}"], f"{output}: not written") from None
    try:
        data, exercise = (None, None) if base_path is None else read_base(base_path, library=library_dir)
        script = import_msel(
            raw,
            data,
            csv_path,
            base_exercise=exercise,
            library=library_dir,
            script_dir=Path(base_path).parent if base_path else Path(output).parent,
        )
        text = dump_script(script)
        result = check_script(text, output, script_dir=Path(output).parent, library=library_dir)
    except MselError as exc:
        raise _msel_exit(exc.problems, f"{output}: not written") from None
    target = Path(output)
    temporary = None
    try:
        mode = target.stat().st_mode & 0o777 if target.is_file() else 0o644
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.chmod(temporary, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(temporary, target)
    except OSError as exc:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise _msel_exit([f"{output}: cannot write the file: {exc.strerror}"], f"{output}: not written") from None
    source = f", base {base_path}" if base_path else ", no base script: complete the teams and objectives"
    click.echo(f"wrote {output}: {len(result.injects)} injects from {csv_path}{source}")


@exercise_cli.command("upgrade")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("-o", "--output", default="-", show_default=True, help="the script to write; - for stdout")
def upgrade_command(path: str, output: str) -> None:
    """Rewrite a format-1 script as format 2 (comments kept; `scenario:` becomes one move)."""
    from tabletop.script.upgrade import UpgradeError, upgrade

    try:
        text = upgrade(path, library=library())
    except ScriptError as exc:
        click.echo(str(exc), err=True)
        fail(f"{path} does not load as it is: fix it first")
    except UpgradeError as exc:
        fail(str(exc))
    if output == "-":
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
    click.echo(f"wrote {output}: {path} as format 2")


# --- rehearsal: bots play the script through the real engine, then its report is built ---


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
@click.option(
    "--ai", "ai_seats", multiple=True, metavar="TEAM[/POSITION]", help="a seat the model plays (AI_BASE_URL, AI_MODEL)"
)
def rehearse_command(
    path: str,
    players: int,
    seed: int,
    exchanges: int | None,
    app_db: bool,
    output: str | None,
    no_report: bool,
    ai_seats: tuple[str, ...] = (),
) -> None:
    """Play a script at full speed with bot players through the real engine, then build its report."""
    from tabletop.rehearse import rehearse
    from tabletop.script import ScriptError

    from .report import build_in_worker

    cfg = current_app.config
    reports = Path(cfg["REPORTS_DIR"])
    if not no_report:
        writable(
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
            **({"player_for": (chosen := model_seats(path, ai_seats, cfg))} if ai_seats else {}),
        )
    except ScriptError as exc:
        fail(str(exc))
    summary = game.summary()
    click.echo(
        f"rehearsed {game.exercise.id} (session {summary['session']}): {summary['injects_released']} injects released, "
        f"{summary['messages']} messages, {summary['relayed']} relay actions, {summary['decisions']} decisions, "
        f"final escalation {summary['escalation']}, {summary['observations']} observations, "
        f"{summary['hotwash']} hotwash answers"
    )
    if ai_seats:
        model = chosen.player
        click.echo(
            f"AI seats ({', '.join(ai_seats)}, {model.config.model}): {model.counts['answered']} answers, "
            f"{model.counts['failed']} failed (the bot's answer stood)"
        )
    if no_report:
        return
    pdf = build_in_worker(game.store, game.session, Path(output) if output else None)
    click.echo(f"wrote {pdf} and {Path(pdf).with_suffix('.html').name}")


def model_seats(path: str, seats: tuple[str, ...], cfg: Any) -> Any:
    """`rehearse --ai`: the seats the model plays (tabletop/ai/rehearsal.py), or the command fails."""
    import random

    from tabletop.ai import AIConfig
    from tabletop.ai.rehearsal import ai_players
    from tabletop.rehearse_lines import ScriptPlayer

    config = AIConfig.from_mapping({**os.environ, **{k: v for k, v in cfg.items() if k.startswith("AI_") and v}})
    if not config.enabled:
        fail("--ai needs AI_BASE_URL and AI_MODEL: the model server to play the seats (docs/ai-seats.md)")
    exercise = load_exercise(path, library=Path(cfg["INJECTS_DIR"]))
    fallback = ScriptPlayer(exercise, random.Random(0))  # noqa: S311 bots, not secrets
    try:
        return ai_players(exercise, seats, config, fallback)
    except ValueError as exc:
        fail(str(exc))
