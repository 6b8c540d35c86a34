"""Tabletop's entry point: `python app.py [--host H] [--port P]` runs the server.

`flask --app app ...` finds `create_app` here for the command-line tools.
"""

from __future__ import annotations

import os

if os.environ.get("ASYNC_MODE", "threading") == "gevent":  # must come before every other import
    from gevent import monkey

    monkey.patch_all()

import argparse
import secrets

from flask import Flask

from tabletop.web import create_app, socketio

__all__ = ["create_app", "main"]


def first_account(app: Flask) -> None:
    """A brand-new install gets one facilitator account, printed once, so nobody is stuck."""
    store = app.extensions["tabletop"].store
    if store.facilitator_count() == 0:
        password = secrets.token_urlsafe(12)
        store.create_facilitator("admin", password)
        print("First start: a facilitator account was created.")
        print(f"  username: admin   password: {password}")
        print("  (shown once; add your own with: flask --app app facilitator create NAME)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Tabletop server.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")), help="port (default 5000)")
    args = parser.parse_args(argv)
    app = create_app()
    first_account(app)
    app.extensions["tabletop"].start_scheduler()
    shown = "localhost" if args.host in ("127.0.0.1", "0.0.0.0", "::") else args.host  # noqa: S104
    print(f"Tabletop is running: open http://{shown}:{args.port}/ in a browser (Ctrl+C to stop)", flush=True)
    if app.config["ASYNC_MODE"] == "gevent":
        socketio.run(app, host=args.host, port=args.port, log_output=False)  # gevent's WSGI server
    else:
        socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True, log_output=False)


if __name__ == "__main__":
    main()
