"""The real services of the scale-out path. Outside CI a missing service skips; in CI it fails."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need(service: str, host: str, port: int) -> None:
    if not _reachable(host, port):
        _missing(f"{service} is not reachable on {host}:{port}")


def need_program(name: str, installed_by: str = "scripts/setup.sh dev") -> None:
    if shutil.which(name) is None:
        _missing(f"{name} is not installed ({installed_by} installs it)")


def _missing(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}: CI runs the scale-out tests against the real service")
    pytest.skip(message)


def postgres_url() -> str:
    need("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_URL


def redis_url() -> str:
    need("Redis", "127.0.0.1", 6379)
    return REDIS_URL
