"""What the command groups share: a clean exit with a message, a check that a folder is writable."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import NoReturn

import click
from flask import current_app


def fail(message: str) -> NoReturn:
    """Print `error: message` on stderr and exit 1."""
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def writable(folder: Path, shown: str) -> None:
    """Exit 1 with a clear message when the folder cannot be created or written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        fail(f"cannot write {shown}: {exc.strerror or exc}")


def library() -> Path:
    """The folder of library injects that scripts include."""
    return Path(current_app.config["INJECTS_DIR"])
