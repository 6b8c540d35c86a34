"""Moves during play: which move is on, its scenario clock, and where the exercise clock stops.

A script's moves (format 2) each start at an exercise offset (`at`). The state keeps the index of
the last move that started (`SessionState.move`) and, while the clock is stopped at a move with
`stop_clock`, that move's id (`SessionState.waiting`). The clock never runs into a move with
`stop_clock` that has not started: `schedule.due` stops it at the move's `at` (a `move_ended`,
before anything due at that moment is released), and the facilitator's `start_move` runs it again
(a `move_started`). A move without `stop_clock` starts by itself when the clock reaches it.

Pure: reads a `SessionState`, returns values and `NewEvent`s.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tabletop.script.models import Move, Scenario

from .events import ALL, MoveEnded, MoveStarted, NewEvent

if TYPE_CHECKING:
    from .state import SessionState


def current_index(state: SessionState, elapsed: float) -> int | None:
    """The index of the move in force at an exercise time (None without moves): the move its time
    falls in, but never a move with `stop_clock` that has not started (while the clock waits at its
    start, the move before it is still on)."""
    moves = state.exercise.moves
    if not moves:
        return None
    found = max(bisect_right([m.at for m in moves], elapsed) - 1, 0, state.move)
    for index in range(state.move + 1, found + 1):
        if moves[index].stop_clock:
            return index - 1
    return found


def current(state: SessionState, elapsed: float) -> Move | None:
    index = current_index(state, elapsed)
    return None if index is None else state.exercise.moves[index]


def scenario_clock(state: SessionState, elapsed: float) -> Scenario | None:
    """The scenario clock in force (the script's `scenario` without moves, the current move's with them)."""
    move = current(state, elapsed)
    return state.exercise.scenario if move is None else state.exercise.clock_at(move.at)


def scenario_moment(state: SessionState, elapsed: float) -> datetime | None:
    clock = scenario_clock(state, elapsed)
    return None if clock is None else clock.start + timedelta(seconds=elapsed * clock.time_scale)


def waiting(state: SessionState) -> Move | None:
    """The move the clock is stopped for, waiting for the facilitator to start it."""
    return None if state.waiting is None else state.exercise.move(state.waiting)


def next_move(state: SessionState) -> Move | None:
    """The move after the last one that started."""
    moves = state.exercise.moves
    return moves[state.move + 1] if state.move + 1 < len(moves) else None


def started(move: Move, t: float, by: str | None = None, actor: int | None = None) -> NewEvent:
    """A move begins (once: the claim)."""
    begun = MoveStarted(move=move.id, title=move.title, at=move.at, **({"by": by} if by else {}))
    return NewEvent.of(begun, (ALL,), t, actor, claim=f"move:{move.id}")


def reached(state: SessionState, t: float) -> tuple[list[NewEvent], NewEvent | None]:
    """What the running clock at `t` has reached: the starts of moves without `stop_clock` (each at its
    `at`), and the `move_ended` of the first move with `stop_clock` (the clock stops there)."""
    moves = state.exercise.moves
    starts: list[NewEvent] = []
    for index in range(state.move + 1, len(moves)):
        move = moves[index]
        if move.at > t:
            break
        if move.stop_clock:
            ended = MoveEnded(move=moves[index - 1].id, next=move.id, at=move.at)
            return starts, NewEvent.of(ended, (ALL,), float(move.at), claim=f"move-end:{move.id}")
        starts.append(started(move, float(move.at)))
    return starts, None
