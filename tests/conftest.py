"""Shared fixtures: a fresh app per test with its own database and folders (after flaskr)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tabletop import ROOT

from .ai_helpers import model_url  # noqa: F401 (the real model server, started once for the AI seat tests)
from .live_game import server  # noqa: F401 (a real server per test module, for end-to-end and browser tests)

DATA = Path(__file__).parent / "data"


@pytest.fixture
def make_app(tmp_path: Path):
    """A factory of test apps with their own database and reports folder (this test's `tmp_path`):
    `make_app(**settings)` adds settings to those, or replaces them. Every app made is closed at the
    end, its AI seats first."""
    from tabletop.web import create_app

    made = []

    def factory(**settings):
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}",
                "REPORTS_DIR": str(tmp_path / "reports"),
                **settings,
            }
        )
        made.append(app)
        return app

    yield factory
    for app in made:
        app.extensions["tabletop.ai"].close()
        app.extensions["tabletop"].close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, one per browser-test module (Playwright imported only by the modules that use it)."""
    from .browser_helpers import chromium

    with chromium() as browser:
        yield browser


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def library() -> Path:
    """The test inject library (includes and attachments of tests/data/minimal.yaml)."""
    return DATA / "lib"


@pytest.fixture
def seed_library() -> Path:
    return ROOT / "injects"


@pytest.fixture
def new_game(tmp_path: Path):
    """make_game, with every store disposed of at the end."""
    from .engine_helpers import make_game

    made = []

    def factory(**kwargs):
        game = make_game(tmp_path, **kwargs)
        made.append(game)
        return game

    yield factory
    for game in made:
        game.store.dispose()
