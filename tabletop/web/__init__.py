"""The web layer: the Flask app factory, pages, JSON API, Socket.IO handlers and the CLI."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from tabletop import ROOT

from .extensions import socketio


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app in named steps; test_config overrides the defaults."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    init_config(app, test_config)
    init_cli(app)
    init_routes(app)
    socketio.init_app(app, async_mode="threading", cors_allowed_origins=[])
    return app


def init_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY") or _instance_secret(app),
        DATABASE_URL=os.environ.get("DATABASE_URL", f"sqlite:///{Path(app.instance_path) / 'tabletop.db'}"),
        EXERCISES_DIR=str(ROOT / "exercises"),
        INJECTS_DIR=str(ROOT / "injects"),
        REPORTS_DIR=str(ROOT / "reports"),
        MAX_CONTENT_LENGTH=4 * 1024 * 1024,
    )
    if test_config:
        app.config.update(test_config)


def _instance_secret(app: Flask) -> str:
    """A secret generated once per install and kept in the instance folder."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def init_cli(app: Flask) -> None:
    from .cli import exercise_cli

    app.cli.add_command(exercise_cli)


def init_routes(app: Flask) -> None:
    from .pages import pages

    app.register_blueprint(pages)
