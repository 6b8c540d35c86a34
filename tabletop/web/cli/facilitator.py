"""`flask --app app facilitator create|disable|enable NAME`: facilitator accounts."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..runtime import runtime
from .common import fail

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


@facilitator_cli.command("disable")
@click.argument("name")
def disable_facilitator(name: str) -> None:
    """Disable an account: no login, every token revoked, its open connections closed on every worker."""
    from flask import current_app

    from ..cluster import REVALIDATE, publish_control

    found = runtime().store.set_facilitator_disabled(name, True)
    if found is None:
        fail(f"no facilitator '{name}'")
    queue = current_app.config.get("MESSAGE_QUEUE")
    message = {"op": "drop", "match": {"facilitator": found}, "reason": "disabled"}
    if queue and publish_control(queue, message):
        click.echo(f"facilitator '{name}' disabled: its tokens are revoked and its connections closed")
    else:  # no queue (one worker), or it is down: each worker's check of its connections' tokens does it
        click.echo(f"facilitator '{name}' disabled: its tokens are revoked; connections close within {REVALIDATE:g} s")


@facilitator_cli.command("enable")
@click.argument("name")
def enable_facilitator(name: str) -> None:
    """Enable a disabled account again (it logs in anew: its old tokens stay revoked)."""
    if runtime().store.set_facilitator_disabled(name, False) is None:
        fail(f"no facilitator '{name}'")
    click.echo(f"facilitator '{name}' enabled")
