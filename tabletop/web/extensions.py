"""Flask extensions, created unbound here and bound in the factory (microblog's shape).

- `socketio`: Socket.IO, bound by `init_sockets` (with the message queue when there is one);
- `limiter`: HTTP rate limits (counters in RATELIMIT_STORAGE_URI), bound by `init_routes`;
- `csrf`: the forms' CSRF tokens, bound by `security.init_security` (pages only, not /api/).

`join_limit` and `failed` are the one rate limit of logging in and joining, shared by the pages
and the JSON API: `@limiter.limit(join_limit, deduct_when=failed)` counts only failed attempts.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

socketio = SocketIO()
limiter = Limiter(get_remote_address, default_limits=[])
csrf = CSRFProtect()


def join_limit() -> str:
    """How many failed logins or joins an address may make (JOIN_RATE_LIMIT)."""
    return current_app.config.get("JOIN_RATE_LIMIT", "10 per minute")


def failed(response: Any) -> bool:
    """Only a refused attempt counts against the limit."""
    return response.status_code >= 400
