"""Share links that expire, for someone without an account: a report's PDF (web/reports.py) and a
session's tape (web/tape.py).

A token is the link's data signed and timestamped with itsdangerous under the app's SECRET_KEY and a
salt of its own kind of link (a report's token never opens a tape). It carries how many hours it
works (`h`); none works longer than MAX_SHARE_HOURS, whatever it says.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, render_template
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

MAX_SHARE_HOURS = 24 * 30


def _serializer(app: Flask, salt: str, signed_at: float | None = None) -> URLSafeTimedSerializer:
    if signed_at is None:
        return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=salt)
    stamp = int(signed_at)

    class Backdated(TimestampSigner):
        def get_timestamp(self) -> int:
            return stamp

    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=salt, signer=Backdated)


def sign_token(app: Flask, salt: str, data: dict[str, Any], hours: float, signed_at: float | None = None) -> str:
    """A token for `data` that works `hours` from now (or from `signed_at`, for tests)."""
    return _serializer(app, salt, signed_at).dumps({**data, "h": float(hours)})


def read_token(
    app: Flask, salt: str, token: str, fields: dict[str, type], now: float | None = None
) -> tuple[dict[str, Any] | None, str]:
    """(the token's data, "") for a good token whose `fields` have the types given;
    (None, "expired" | "invalid") otherwise. `now` (for tests) stands for the time of reading."""
    try:
        data, signed = _serializer(app, salt).loads(token, max_age=MAX_SHARE_HOURS * 3600, return_timestamp=True)
    except SignatureExpired:
        return None, "expired"
    except BadSignature:
        return None, "invalid"
    if not isinstance(data, dict) or any(not isinstance(data.get(k), t) for k, t in {**fields, "h": float}.items()):
        return None, "invalid"
    if (time.time() if now is None else now) - signed.timestamp() > min(data["h"], MAX_SHARE_HOURS) * 3600:
        return None, "expired"
    return data, ""


def expiry(hours: float) -> str:
    """When a link made now for `hours` stops working, as the pages write it."""
    return time.strftime("%d %b %Y %H:%M UTC", time.gmtime(time.time() + hours * 3600))


def refused(problem: str) -> tuple[str, int]:
    """The short page a link that `read_token` refused gets (never a traceback): 403 expired, 404 altered."""
    if problem == "expired":
        return gone("This link has expired", "Ask the facilitator who sent it for a new one.", 403)
    return gone(
        "This link is not valid",
        "Check that the whole link was copied, or ask the facilitator who sent it for a new one.",
    )


def gone(title: str, text: str, status: int = 404) -> tuple[str, int]:
    """The page of a share link that cannot be served (or made)."""
    return render_template("report/shared_error.html", title=title, text=text), status
