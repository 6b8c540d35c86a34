"""`flask --app app session create EXERCISE_ID`: exercise sessions."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from tabletop.sessions import NotFound, create_session

from ..runtime import runtime
from .common import fail

session_cli = AppGroup("session", help="Exercise sessions.")


@session_cli.command("create")
@click.argument("exercise_id")
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True, help="for the printed URLs")
def new_session(exercise_id: str, base_url: str) -> None:
    """Create a session from a script in exercises/ and print its id, join codes and URLs as JSON."""
    cfg = current_app.config
    try:
        info = create_session(
            runtime().store,
            exercise_id,
            Path(cfg["EXERCISES_DIR"]),
            Path(cfg["INJECTS_DIR"]),
            None,
            base_url.rstrip("/"),
        )
    except NotFound as exc:
        fail(str(exc))
    click.echo(json.dumps(info, indent=2, ensure_ascii=False))
