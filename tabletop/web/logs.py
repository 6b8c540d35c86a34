"""Logging to standard output: one line per request and per error, each with a request id.

- `LOG_LEVEL` (default INFO) sets the level; `LOG_FORMAT=json` writes one JSON object a line instead
  of the plain line `2026-11-30T16:01:02Z INFO tabletop.request [3f2a9c1e] GET /library 200 12ms`.
- The request id is the client's `X-Request-Id` (if it is short and plain) or a new one; it is sent
  back in the response's `X-Request-Id` and appears on every line logged while the request runs.
- A crash leaves a trace: app.py keeps a marker file in the instance folder while the server runs
  (touched every few seconds); a start that finds it says so in the log, and `note_unclean_stop` adds
  a note to each session that was running, which the console's feed and the report show.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, has_request_context, request

log = logging.getLogger("tabletop.request")
GOOD_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        for key in ("method", "path", "status", "ms"):
            if hasattr(record, key):
                line[key] = getattr(record, key)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str | None = None, fmt: str | None = None, stream: Any = None) -> None:
    """One handler on the root logger, to stdout (idempotent: a second call replaces it)."""
    level = (level or os.environ.get("LOG_LEVEL") or "INFO").upper()
    fmt = (fmt or os.environ.get("LOG_FORMAT") or "text").lower()
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        formatter.converter = time.gmtime
        formatter.default_time_format = "%Y-%m-%dT%H:%M:%S"
        formatter.default_msec_format = "%s.%03dZ"
        handler.setFormatter(formatter)
    handler.set_name("tabletop")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "tabletop"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level, logging.INFO))
    logging.getLogger("weasyprint").setLevel(max(root.level, logging.WARNING))  # its progress, step by step


def init_request_logging(app: Flask) -> None:
    @app.before_request
    def request_id() -> None:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if GOOD_ID.match(given) else uuid.uuid4().hex[:12]
        g.request_started = time.perf_counter()

    @app.after_request
    def access_line(response: Response) -> Response:
        rid = g.get("request_id")
        if rid is None:
            return response
        response.headers.setdefault("X-Request-Id", rid)
        if request.path.startswith("/socket.io/"):
            return response  # polling and upgrades: counted by the socket layer, not one line each
        ms = round((time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000)
        path = request.path
        extra = {"method": request.method, "path": path, "status": response.status_code, "ms": ms}
        level = logging.WARNING if response.status_code >= 500 else logging.INFO
        log.log(level, "%s %s %s %sms", request.method, path, response.status_code, ms, extra=extra)
        return response

    @app.teardown_request
    def error_line(exc: BaseException | None) -> None:
        if exc is not None:
            log.error("%s %s failed: %s", request.method, request.path, exc, exc_info=exc)


# ------------------------------------------------------------------ crash trace
def marker(app: Flask) -> Path:
    """One marker per database and address: other servers (other ports, other databases) have their own."""
    key = (
        f"{app.config.get('DATABASE_URL', '')}|{app.config.get('LISTEN_HOST', '')}:{app.config.get('LISTEN_PORT', '')}"
    )
    return Path(app.instance_path) / f"server-{hashlib.sha256(key.encode()).hexdigest()[:12]}.running"


def check_unclean_stop(app: Flask) -> float | None:
    """At start: when the marker of a previous run is still there, that run did not stop cleanly.
    Logs it and returns the time the dead run was last seen alive (the marker's mtime)."""
    path = marker(app)
    last = None
    if path.exists():
        last = path.stat().st_mtime
        pid = path.read_text().strip() or "?"
        logging.getLogger("tabletop.server").warning(
            "The previous run (pid %s) did not stop cleanly: last seen alive at %s UTC",
            pid,
            time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(last)),
        )
    path.write_text(str(os.getpid()))
    return last


def touch_marker(app: Flask) -> None:
    with contextlib.suppress(OSError):
        marker(app).write_text(str(os.getpid()))


def clear_marker(app: Flask) -> None:
    marker(app).unlink(missing_ok=True)


def note_unclean_stop(app: Flask, last_alive: float) -> None:
    """A note from the server in each running or paused session: when it went down and came back."""
    from tabletop.engine import Actor, Refused

    rt = app.extensions["tabletop"]
    down = time.strftime("%H:%M:%S", time.gmtime(last_alive))
    up = time.strftime("%H:%M:%S", time.gmtime())
    text = (
        f"The server stopped without shutting down (a crash or a kill) after {down} UTC and restarted at {up} UTC. "
        "The exercise clock ran on meanwhile; players' pages reconnected by themselves."
    )
    for session_id, _seq in rt.store.active_sessions_seq():
        try:
            rt.live.command(session_id, Actor("control", None, "Tabletop server"), "note", {"text": text})
        except Refused:
            logging.getLogger("tabletop.server").exception("could not note the restart in %s", session_id)
