"""Checks that refuse an unsafe production configuration at start-up."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlparse

from flask import Flask

#: Secrets that appear in examples and tutorials: never accepted in production.
KNOWN_DEFAULTS = {"dev", "development", "secret", "change-me", "changeme", "test", "e2e-secret", "please-change"}


class UnsafeConfig(RuntimeError):
    pass


def _private(host: str) -> bool:
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_private for a in addresses)


def check_production(app: Flask, secret_from_env: bool) -> None:
    """In production (TABLETOP_ENV=production) a real secret key and a private message queue are required."""
    if app.config.get("ENV_NAME") != "production":
        return
    key = str(app.config.get("SECRET_KEY") or "")
    if not secret_from_env or key.lower() in KNOWN_DEFAULTS or len(key) < 32:
        raise UnsafeConfig(
            "production mode needs SECRET_KEY set in the environment to a random value of 32 characters or more "
            "(e.g. python -c 'import secrets; print(secrets.token_hex(32))'); the default key is refused"
        )
    if app.config.get("CRASH_AFTER_COMMIT"):
        raise UnsafeConfig("TABLETOP_TEST_CRASH_AFTER_COMMIT is a test hook (it kills the worker): unset it")
    queue = app.config.get("MESSAGE_QUEUE")
    if queue:
        host = urlparse(queue).hostname or ""
        if not _private(host):
            raise UnsafeConfig(
                f"MESSAGE_QUEUE host '{host}' is not on loopback or a private network: "
                "Socket.IO's message queue carries every event and must not be exposed"
            )
