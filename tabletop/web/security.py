"""What every page response carries: CSRF protection for forms, and the security headers.

The JSON API (`/api/...`) takes JSON bodies and bearer tokens, so it is left out of the CSRF
check; every other state-changing request (the page forms) must carry the form's token.
"""

from __future__ import annotations

from flask import Flask, Response, request

from .extensions import csrf

#: Only the server's own scripts, styles, images and sockets; no frames, no plugins.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' {sockets}; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
UNPROTECTED = ("/api/", "/socket.io/")


def init_security(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked below, for pages only
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # a form open through a long game still posts
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    csrf.init_app(app)

    @app.before_request
    def check_csrf() -> None:
        if app.config.get("WTF_CSRF_ENABLED", True) and not request.path.startswith(UNPROTECTED):
            csrf.protect()

    @app.after_request
    def security_headers(response: Response) -> Response:
        host = "".join(ch for ch in request.host if ch.isalnum() or ch in ".-:[]")
        # A response may set its own policy (an SVG attachment is sandboxed, a report may differ).
        response.headers.setdefault("Content-Security-Policy", POLICY.format(sockets=f"ws://{host} wss://{host}"))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
