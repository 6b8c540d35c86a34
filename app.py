"""Tabletop's entry point: `python app.py [--host H] [--port P]` runs the server.

`flask --app app ...` finds `create_app` here for the command-line tools.
"""

from __future__ import annotations

import os

if os.environ.get("ASYNC_MODE", "gevent") == "gevent":  # must come before every other import
    from gevent import monkey

    monkey.patch_all()

import argparse
import secrets
import signal

from flask import Flask

from tabletop.web import create_app, socketio
from tabletop.web.logs import check_unclean_stop, clear_marker, configure_logging, note_unclean_stop, touch_marker

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


def serve_gevent(app: Flask, host: str, port: int) -> None:
    """gevent's WSGI server (WebSocket through simple-websocket), with TCP_NODELAY on every connection.

    Without it a response written as headers then body waits for the client's delayed ACK: 40 ms a request.
    """
    import socket

    from gevent import pywsgi

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted sockets on Linux
    listener.bind((host, port))
    listener.listen(1024)
    pywsgi.WSGIServer(listener, app, log=None).serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Tabletop server.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")), help="port (default 5000)")
    args = parser.parse_args(argv)
    configure_logging()  # LOG_LEVEL, LOG_FORMAT=json (tabletop/web/logs.py)
    app = create_app()
    app.config["LISTEN_HOST"] = args.host  # the set-up page warns when players cannot reach it
    app.config["LISTEN_PORT"] = args.port
    first_account(app)
    last_alive = check_unclean_stop(app)  # a crash or a kill of the previous run: logged, and noted below
    runtime = app.extensions["tabletop"]
    runtime.start_scheduler()
    if last_alive is not None:
        note_unclean_stop(app, last_alive)

    def heartbeat() -> None:
        while True:
            socketio.sleep(5)
            touch_marker(app)

    socketio.start_background_task(heartbeat)

    def stop(*_: object) -> None:
        """SIGTERM: a clean stop (the marker goes), as abrupt as before for everything else."""
        clear_marker(app)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    app.extensions["tabletop.cluster"].start()  # presence heartbeat, revoked tokens' connections (cluster.py)
    socketio.start_background_task(runtime.reports.start)  # imports WeasyPrint once, off the request path
    shown = "localhost" if args.host in ("127.0.0.1", "0.0.0.0", "::") else args.host  # noqa: S104
    print(f"Tabletop is running: open http://{shown}:{args.port}/ in a browser (Ctrl+C to stop)", flush=True)
    try:
        if app.config["ASYNC_MODE"] == "gevent":
            serve_gevent(app, args.host, args.port)
        else:
            socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True, log_output=False)
    finally:
        clear_marker(app)


if __name__ == "__main__":
    main()
