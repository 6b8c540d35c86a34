"""The outbox (several workers): written in the append's transaction, forgotten once published, and
what nobody published is claimed by one worker only; old databases migrate (SQLite and PostgreSQL)."""

from __future__ import annotations

import secrets
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from tabletop.engine import events as ev
from tabletop.engine.events import NewEvent
from tabletop.live import Live
from tabletop.store import Store

from .services import postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def game(request, new_game):
    url = None if request.param == "sqlite" else postgres_url()
    game = new_game(url=url)
    game.live.shared = True  # as with a message queue: every append also goes into the outbox
    return game


def note(game, text: str) -> int:
    return game.do("control", "note", text=text).seq


def rows(game) -> list[int]:
    return sorted(seq for session, seq, _due in game.store.unpublished() if session == game.session)


def test_an_append_is_in_the_outbox_until_published_and_flushed(game):
    seq = note(game, "one")
    assert rows(game) == [seq], "written in the append's transaction"
    game.store.flush_published()
    assert rows(game) == [], "its writer published it: the next flush forgets it"


def test_one_worker_writes_no_outbox(new_game):
    game = new_game()
    note(game, "alone")
    assert game.store.unpublished() == []


def test_what_its_writer_did_not_publish_is_published_once_by_another_worker(game):
    def broken(session_id, event, state):
        raise RuntimeError("the queue is down")

    game.live.publish = broken
    seq = note(game, "lost?")  # stored all the same: the command stands
    assert [e.seq for e in game.store.events_after(game.session, seq - 1)] == [seq]
    assert rows(game) == [seq]
    published: list[int] = []

    def record(session_id, event, state):
        if session_id == game.session:  # (a shared database may hold other tests' leftovers)
            published.append(event.seq)

    other = Live(game.store, game.time, record)
    other.shared = True
    other.outbox_pass(force=True)
    assert published == [], "not before the grace"
    claimed = game.store.claim_unpublished(time.time() + 60)
    assert [s for sess, s in claimed if sess == game.session] == [seq]
    assert game.store.claim_unpublished(time.time() + 60) == [], "a claimed row waits for its lease"
    # The claimer died before publishing: after its lease, another claims it and publishes it.
    with game.store.engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET due = 0 WHERE session_id = :s"), {"s": game.session})
    other.outbox_pass(force=True)
    assert published == [seq]
    assert rows(game) == []


def test_racing_workers_claim_each_row_once(game):
    for n in range(60):
        note(game, f"n{n}")
    game.store.flush_published()
    with game.store.engine.begin() as conn:  # as if their writer had died before publishing any
        conn.execute(
            text(
                "INSERT INTO outbox (session_id, seq, due) SELECT session_id, seq, 0 FROM event WHERE session_id = :s"
            ),
            {"s": game.session},
        )
    stores = [Store(game.store.url) for _ in range(4)]
    claimed: list[list[tuple[str, int]]] = [[] for _ in stores]

    def claim(n: int) -> None:
        for _ in range(10):
            claimed[n] += [c for c in stores[n].claim_unpublished(time.time(), limit=7) if c[0] == game.session]

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.dispose()
    every = [c for part in claimed for c in part]
    assert len(every) == len(set(every)), "no row claimed twice"
    assert sorted(s for _, s in every) == [e.seq for e in game.store.events_after(game.session)]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_a_database_of_the_first_schema_migrates_with_its_accounts_and_seats(tmp_path, dialect):
    """0001 -> head: the outbox appears, accounts stay enabled and seats stay seated."""
    from alembic import command

    from tabletop.store.store import alembic_config

    urls = [f"sqlite:///{tmp_path / 'old.db'}"]
    admin = None
    if dialect == "postgresql":
        base = postgres_url()
        name = f"tabletop_migrate_{secrets.token_hex(4)}"
        admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        urls = [base.rsplit("/", 1)[0] + "/" + name]
    try:
        for url in urls:
            store = Store(url)
            config = alembic_config()
            with store.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "0001")
            with store.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO facilitator (username, password_hash, created_at) "
                        "VALUES ('old', 'x', '2026-01-01')"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO game_session (id, exercise_id, title, script, status, created_at, last_seq) "
                        "VALUES ('s1', 'e', 't', '{}', 'ready', '2026-01-01', 0)"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO participant (session_id, kind, team, position, name, teams, created_at) "
                        "VALUES ('s1', 'player', 'us', 'j3', 'Old', '[]', '2026-01-01')"
                    )
                )
            store.migrate()
            token = store.issue_token("participant", store.participants("s1")[0].id)
            assert store.identify(token).name == "Old"
            assert store.facilitator_active(1)
            assert store.unpublished() == []
            store.dispose()
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{urls[0].rsplit("/", 1)[1]}" WITH (FORCE)'))
            admin.dispose()


def test_a_participant_moved_keeps_its_token_as_the_new_seat(new_game):
    game = new_game()
    pid = game.actors["us2"].participant
    token = game.store.issue_token("participant", pid)
    new_id = game.store.move_participant(pid, "oman", "omani-liaison")
    who = game.store.identify(token)
    assert (who.id, who.team, who.position) == (new_id, "oman", "omani-liaison")
    game.store.remove_participant(new_id)
    assert game.store.identify(token) is None
    assert game.store.live_digests([]) == set()
    game.live.record(game.session, NewEvent.of(ev.Note(text="x", name="y"), ()))  # the log goes on
