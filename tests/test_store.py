"""The store on SQLite and PostgreSQL: migrations, exactly-once releases under real concurrency, busy retries."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from tabletop.live import Live

from .services import postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def game(request, new_game):
    url = None if request.param == "sqlite" else postgres_url()
    return new_game(url=url)


def test_migrations_are_idempotent_and_match_the_models(game):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from tabletop.store.models import Base

    game.store.migrate()  # a second time: nothing to do
    with game.store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == [], "models changed without a migration: add one under tabletop/store/migrations/versions"


def test_racing_workers_release_every_inject_exactly_once(game):
    """Four workers' schedulers race over one session while the clock runs ten minutes forward."""
    workers = [game.live] + [Live(game.store, game.time) for _ in range(3)]
    game.do("control", "clock", action="start")
    game.do("control", "clock", action="speed", speed=10)
    errors: list[BaseException] = []

    def run(worker: Live) -> None:
        try:
            for _ in range(40):
                worker.run_due(game.session)
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised below
            errors.append(exc)

    for _step in range(12):
        game.time.advance(30)  # 5 minutes of exercise time at 10x
        threads = [threading.Thread(target=run, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    released = game.released()
    assert len(released) == len(set(released))
    assert {"shootdown", "follow-up", "options", "jamming"} <= set(released)
    seqs = [e.seq for e in game.store.events_after(game.session)]
    assert seqs == list(range(1, len(seqs) + 1))


def test_sqlite_busy_is_waited_out_and_nothing_is_lost(tmp_path, new_game):
    game = new_game()
    blocker = sqlite3.connect(tmp_path / "game.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    done = threading.Event()
    result: list[object] = []

    def send() -> None:
        result.append(game.do("us", "send_message", channel="team", text="through the lock"))
        done.set()

    thread = threading.Thread(target=send)
    thread.start()
    assert not done.wait(0.3), "the append must wait while the database is locked"
    blocker.execute("COMMIT")
    blocker.close()
    thread.join(10)
    assert done.is_set()
    assert [e.payload["text"] for e in game.store.events_after(game.session) if e.type == "message"] == [
        "through the lock"
    ]
