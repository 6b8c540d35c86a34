"""The web layer: the Flask app factory, pages, JSON API, Socket.IO handlers and the CLI."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from tabletop import ROOT

from .ai import init_ai
from .cluster import client_manager, init_cluster
from .extensions import limiter, socketio
from .guard import largest_frame
from .logs import init_request_logging
from .production import check_production
from .runtime import init_runtime


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app in named steps; test_config overrides the defaults."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    init_config(app, test_config)
    init_request_logging(app)
    init_runtime(app)
    init_cli(app)
    init_routes(app)
    init_sockets(app)
    init_cluster(app)
    init_ai(app)
    return app


def init_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY") or _instance_secret(app),
        DATABASE_URL=os.environ.get("DATABASE_URL", f"sqlite:///{Path(app.instance_path) / 'tabletop.db'}"),
        EXERCISES_DIR=os.environ.get("EXERCISES_DIR", str(ROOT / "exercises")),
        INJECTS_DIR=os.environ.get("INJECTS_DIR", str(ROOT / "injects")),
        REPORTS_DIR=os.environ.get("REPORTS_DIR", str(ROOT / "reports")),
        MAX_CONTENT_LENGTH=4 * 1024 * 1024,
        MESSAGE_QUEUE=os.environ.get("MESSAGE_QUEUE") or None,
        ASYNC_MODE=async_mode(),
        CORS_ORIGINS=[o for o in os.environ.get("CORS_ORIGINS", "").split(",") if o],
        MAX_SOCKET_PAYLOAD=largest_frame(),  # the largest legal command (guard.py)
        JOIN_RATE_LIMIT=os.environ.get("JOIN_RATE_LIMIT", "10 per minute"),
        # Rate-limit counters live with the message queue when several workers share it.
        RATELIMIT_STORAGE_URI=os.environ.get("MESSAGE_QUEUE") or "memory://",
        ENV_NAME=os.environ.get("TABLETOP_ENV", "development"),
        # The address players reach this server at (join links and QR codes), e.g. http://10.0.0.5:5000;
        # empty: the address the facilitator's browser used.
        PUBLIC_URL=os.environ.get("PUBLIC_URL", "").strip(),
        # Facilitators who see and run every session (comma-separated usernames); the others run their own.
        ADMINS=os.environ.get("ADMINS", "admin"),
        # The address the server listens on (set by app.py); the set-up page warns when it is loopback.
        LISTEN_HOST=os.environ.get("HOST", ""),
        # Tests only (refused in production): SIGKILL the worker right after it commits an event whose
        # text holds this marker, before publishing it (cluster.crash_after_commit).
        CRASH_AFTER_COMMIT=os.environ.get("TABLETOP_TEST_CRASH_AFTER_COMMIT") or None,
    )
    if test_config:
        app.config.update(test_config)
    check_production(app, secret_from_env=bool(os.environ.get("SECRET_KEY")) or "SECRET_KEY" in (test_config or {}))


def async_mode() -> str:
    """gevent (chosen by measurement, docs/benchmarks.md) when app.py has monkey-patched the process;
    threading elsewhere (tests, the CLI), where gevent's greenlets would never get to run."""
    wanted = os.environ.get("ASYNC_MODE", "gevent")
    if wanted == "gevent":
        from gevent import monkey

        return "gevent" if monkey.is_module_patched("socket") else "threading"
    return wanted


def _instance_secret(app: Flask) -> str:
    """A secret generated once per install and kept in the instance folder."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def init_cli(app: Flask) -> None:
    from . import cli

    cli.init_app(app)


def init_routes(app: Flask) -> None:
    """Security headers and CSRF, who is asking (auth), then the blueprints; they are peers."""
    from .api import api
    from .auth import auth
    from .compare import compare
    from .pages import pages
    from .reports import reports
    from .security import init_security
    from .tape import tape

    init_security(app)
    app.register_blueprint(auth)
    app.register_blueprint(pages)
    app.register_blueprint(api)
    app.register_blueprint(reports)
    app.register_blueprint(tape)  # issue 14: the tape (web/tape.py)
    app.register_blueprint(compare)  # issue 12: sessions side by side (web/compare.py)
    limiter.init_app(app)


def init_sockets(app: Flask) -> None:
    """Handlers are imported before init_app, so that every app gets them."""
    from . import sockets  # the handlers, and the packet class (sockets.JSONPacket)

    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        # None: only the server's own origin may connect ([] would switch the check off).
        cors_allowed_origins=app.config["CORS_ORIGINS"] or None,
        message_queue=app.config["MESSAGE_QUEUE"],
        client_manager=client_manager(app),  # Redis with control messages (cluster.py), or in memory
        max_http_buffer_size=app.config["MAX_SOCKET_PAYLOAD"],
        serializer=sockets.JSONPacket,  # JSON only: no walk of each payload for bytes (sockets.py)
    )
    sockets.install_commands(socketio.server)  # commands without a Flask request context each (sockets.py)
    init_guard(app)


def init_guard(app: Flask) -> None:
    """Budgets, names and sizes checked on every raw frame before it is parsed (guard.py)."""
    from .guard import FrameGuard, event_limits, guard_websocket

    server = socketio.server
    assert server is not None
    guard = FrameGuard(server, event_limits(), app.config["MAX_SOCKET_PAYLOAD"])
    guard.install()
    guard_websocket(server.eio, app.config["MAX_SOCKET_PAYLOAD"])
    app.extensions["tabletop.guard"] = guard
