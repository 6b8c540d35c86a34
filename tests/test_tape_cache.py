"""web.tape.Tapes keeps at most MAX_TAPES tapes, and beside them only their sessions' locks and
checks: asking for many sessions, known or not, leaves nothing behind but the tapes kept."""

from __future__ import annotations

from pathlib import Path

from tabletop.sessions import create_session
from tabletop.web.tape import MAX_TAPES, Tapes

DATA = Path(__file__).parent / "data"


def kept(tapes: Tapes) -> tuple[set[str], set[str], set[str]]:
    return set(tapes._tapes), set(tapes.locks), set(tapes._checked)


def test_locks_and_checks_go_with_the_tapes(app):
    store = app.extensions["tabletop"].store
    sessions = [create_session(store, "relay", DATA, DATA / "lib", None)["session"] for _ in range(MAX_TAPES + 3)]
    tapes = Tapes()
    with app.app_context():
        for i in range(200):
            assert tapes.get(f"unknown-{i}") is None
        assert kept(tapes) == (set(), set(), set())
        for session in sessions:
            assert tapes.get(session) is not None
        latest = set(sessions[-MAX_TAPES:])
        assert kept(tapes) == (latest, latest, latest)
        assert tapes.get("x" * 5000) is None
        assert tapes.get(sessions[-1]) is tapes._tapes[sessions[-1]]  # kept, not built again
        assert kept(tapes) == (latest, latest, latest)


def test_a_lock_in_use_outlives_its_tape_and_goes_with_its_last_request(app):
    store = app.extensions["tabletop"].store
    sessions = [create_session(store, "relay", DATA, DATA / "lib", None)["session"] for _ in range(MAX_TAPES + 1)]
    tapes = Tapes()
    with app.app_context():
        first = sessions[0]
        tapes.get(first)
        with tapes._slot(first) as lock:  # a request waiting for the first session's tape
            for session in sessions[1:]:
                tapes.get(session)  # drops the first session's tape
            assert first not in tapes._tapes and tapes.locks[first] is lock
            with tapes._slot(first) as again:
                assert again is lock  # a second request shares it: the tape is built once
        assert first not in tapes.locks and first not in tapes._checked
        assert set(tapes.locks) == set(tapes._tapes) == set(sessions[1:])
