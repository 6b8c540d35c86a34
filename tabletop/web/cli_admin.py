"""`flask --app app facilitator create NAME` and `flask --app app session create EXERCISE_ID`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .runtime import runtime
from .sessions import NotFound, create_session

facilitator_cli = AppGroup("facilitator", help="Facilitator accounts.")
session_cli = AppGroup("session", help="Exercise sessions.")


@facilitator_cli.command("create")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def create_facilitator(name: str, password_stdin: bool) -> None:
    """Create a facilitator account (asks for the password twice)."""
    store = runtime().store
    if not 1 <= len(name) <= 80:
        click.echo("error: the name must be 1 to 80 characters", err=True)
        sys.exit(1)
    if store.facilitator_exists(name):
        click.echo(f"error: a facilitator '{name}' exists already", err=True)
        sys.exit(1)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        click.echo("error: the password needs at least 8 characters", err=True)
        sys.exit(1)
    store.create_facilitator(name, password)
    click.echo(f"facilitator '{name}' created")


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
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(json.dumps(info, indent=2, ensure_ascii=False))
