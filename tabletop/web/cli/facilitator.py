"""`flask --app app facilitator create NAME`: facilitator accounts."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..runtime import runtime

facilitator_cli = AppGroup("facilitator", help="Facilitator accounts.")


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
