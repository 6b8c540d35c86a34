"""`services.unavailable`: the one rule for a missing service or tool (skip outside CI, fail in CI)."""

from __future__ import annotations

import pytest

from .services import need_program, unavailable


def test_a_missing_tool_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"^no such tool$"):
        unavailable("no such tool")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        need_program("no-such-program-tabletop")


def test_a_missing_tool_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"^no such tool: CI"):
        unavailable("no such tool")
    with pytest.raises(pytest.fail.Exception, match="no-such-program-tabletop is not installed"):
        need_program("no-such-program-tabletop")
