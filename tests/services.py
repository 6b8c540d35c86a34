"""The real services and programs some tests need. Outside CI a missing one skips; in CI it fails
(`unavailable`, the one place of that rule: the browser, AI-model and node tests use it too)."""

from __future__ import annotations

import atexit
import os
import re
import secrets
import shutil
import socket
from typing import NoReturn

import pytest

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def unavailable(message: str) -> NoReturn:
    """Something a test needs (a service, a program, a browser, a model) is missing: outside CI the
    test is skipped (or its module, when called at import); in CI (CI=true) it fails, so that a CI
    run never passes by skipping what it is there to test."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}: CI (CI=true) runs every test, none may skip for a missing tool", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def need(service: str, host: str, port: int) -> None:
    if not _reachable(host, port):
        unavailable(f"{service} is not reachable on {host}:{port}")


def need_program(name: str, installed_by: str = "scripts/setup.sh dev") -> None:
    if shutil.which(name) is None:
        unavailable(f"{name} is not installed ({installed_by} installs it)")


_fresh_database: list[str] = []


def postgres_url() -> str:
    """A database of this test run's own (created on first use, dropped at exit), so that runs on the
    same server (a developer's and CI's, or code at another migration) never see each other's schema.
    TEST_POSTGRES_URL, when set, is used as it is."""
    need("PostgreSQL", "127.0.0.1", 5432)
    if "TEST_POSTGRES_URL" in os.environ:
        return POSTGRES_URL
    if not _fresh_database:
        _fresh_database.append(_create_database())
    return _fresh_database[0]


def _admin():
    import psycopg

    return psycopg.connect(POSTGRES_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True)


def _create_database() -> str:
    name = f"tabletop_test_{os.getpid()}_{secrets.token_hex(3)}"
    with _admin() as admin:
        for (stale,) in admin.execute("SELECT datname FROM pg_database WHERE datname LIKE 'tabletop_test_%'"):
            found = re.fullmatch(r"tabletop_test_(\d+)_[0-9a-f]+", stale)
            if found and not _alive(int(found.group(1))):  # left by a run that was killed
                admin.execute(f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    atexit.register(_drop_database, name)
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


def _drop_database(name: str) -> None:
    try:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception as exc:  # noqa: BLE001 - at exit, a database left behind is dropped by the next run
        print(f"tests: could not drop {name}: {exc}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def redis_url() -> str:
    need("Redis", "127.0.0.1", 6379)
    return REDIS_URL
