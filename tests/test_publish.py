"""Publishing an event asks the database nothing, with one worker or several (a message queue)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event as sa_event

from tabletop.engine import NewEvent
from tabletop.engine import events as ev
from tabletop.live import Live
from tabletop.web import runtime as runtime_module
from tabletop.web.runtime import Runtime

from .engine_helpers import Game, make_game


@pytest.fixture
def shared(tmp_path, monkeypatch) -> tuple[Game, list[str], list[tuple[str, Any]]]:
    """A game on a worker that shares the session with others (as with MESSAGE_QUEUE): 3 teams and an observer."""
    game = make_game(tmp_path)
    observer = game.actors["observer"]
    joined = ev.ParticipantJoined(participant=observer.participant, kind="observer", name="Eve", teams=("us", "iran"))
    game.live.record(game.session, NewEvent.of(joined, (), actor=observer.participant))
    rt = Runtime(game.store, game.live)
    emitted: list[tuple[str, Any]] = []
    monkeypatch.setattr(runtime_module.socketio, "emit", lambda name, body, to: emitted.append((to, body)))
    statements: list[str] = []
    publishing = False

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if publishing:
            statements.append(statement)

    for engine in {game.store.engine, game.store.reader}:
        sa_event.listen(engine, "before_cursor_execute", count)

    def publish(session_id: str, event: ev.Event, state: Any) -> None:
        nonlocal publishing
        publishing = True
        try:
            rt.publish(session_id, event, state)
        finally:
            publishing = False

    game.live.publish = publish
    game.live.shared = True
    yield game, statements, emitted
    for engine in {game.store.engine, game.store.reader}:
        sa_event.remove(engine, "before_cursor_execute", count)


def test_publishing_in_shared_mode_costs_no_query(shared) -> None:
    game, statements, emitted = shared
    assert len(game.state.exercise.teams) == 3
    game.do("control", "clock", action="start")  # audience: every team
    game.advance(1)  # the first scripted injects
    game.do("us", "send_message", channel="team", text="Contact bearing 090.")
    game.do("iran", "send_message", channel="bridge", text="Stay clear.")
    assert statements == []  # not one query while publishing, however many teams and observers
    session = game.session
    rooms = {room if isinstance(room, str) else tuple(room) for room, _body in emitted}
    assert {f"{session}:control", f"{session}:team:us", f"{session}:team:iran", f"{session}:team:oman"} <= rooms
    assert (f"{session}:observe:us", f"{session}:observe:iran") in rooms  # the observed teams, from the state
    assert not any(f"{session}:observe:oman" in (r if isinstance(r, tuple) else (r,)) for r in rooms)


def test_observed_teams_are_folded_from_participant_joined(tmp_path) -> None:
    game = make_game(tmp_path)
    assert game.state.observed == set()
    joined = ev.ParticipantJoined(participant=99, kind="observer", name="Olga", teams=("oman",))
    game.live.record(game.session, NewEvent.of(joined, (), actor=99))
    assert game.state.observed == {"oman"}
    assert Live(game.store, game.time).state(game.session).observed == {"oman"}  # a fresh fold agrees
