"""The MSEL of a script: its injects in the order play will meet them, with how each is released."""

from __future__ import annotations

from dataclasses import dataclass

from .models import Exercise, Inject, Move, Scenario
from .times import format_duration, format_offset


@dataclass(frozen=True)
class Row:
    number: int
    inject: Inject
    due: int | None  # exercise seconds when known before play (timed, or chained to a timed inject)
    release: str  # how it is released, in words
    move: Move | None = None  # the move it falls in (its time, else its `move:`, else what releases it)
    clock: Scenario | None = None  # the scenario clock in force at `due` (see Exercise.clock_at)

    @property
    def exercise_time(self) -> str:
        return format_offset(self.due) if self.due is not None else ""


def release_text(inject: Inject, choice: str | None = None) -> str:
    """`time +00:15`, `decision strike-options: strike, +5m`, `inject shootdown, +2m`, `condition, +1m`,
    `choice boxer-opener` (an alternative of that choice), `by hand`."""
    if inject.at is not None:
        return f"time {format_offset(inject.at)}"
    trigger = inject.trigger
    after = f", +{format_duration(inject.delay)}" if inject.delay else ""
    if trigger is not None:
        if trigger.inject is not None:
            return f"inject {trigger.inject}{after}"
        return f"decision {trigger.decision}: {trigger.option}{after}"
    if inject.when is not None:
        return f"condition{after}"
    if choice is not None:
        return f"choice {choice}"
    return "by hand"


def _due(exercise: Exercise, inject: Inject, seen: frozenset[str] = frozenset()) -> int | None:
    if inject.at is not None:
        return inject.at
    trigger = inject.trigger
    if trigger is None or trigger.inject is None or trigger.inject in seen:
        return None
    parent = _due(exercise, exercise.inject(trigger.inject), seen | {inject.id})
    return None if parent is None else parent + inject.delay


def timeline(exercise: Exercise) -> list[Row]:
    """Timed injects (and those chained to them) by time, then those that depend on play (decision
    branches, conditions, alternatives of a choice), then contingencies."""
    known = [(i, _due(exercise, i)) for i in exercise.injects]
    order = {inject.id: n for n, inject in enumerate(exercise.injects)}
    slots = {i.id: slot.id for i in exercise.injects if (slot := exercise.choice_of(i.id)) is not None}
    scheduled = sorted([(d, order[i.id], i) for i, d in known if d is not None], key=lambda t: (t[0], t[1]))
    branches = [i for i, d in known if d is None and (i.trigger or i.when or i.id in slots)]
    by_hand = [i for i, d in known if d is None and not (i.trigger or i.when or i.id in slots)]
    ordered = [(i, d) for d, _, i in scheduled] + [(i, None) for i in branches] + [(i, None) for i in by_hand]
    moves: dict[str, Move] = {}
    for inject, due in ordered:
        if due is not None and (at := exercise.move_at(due)) is not None:
            moves[inject.id] = at
        elif inject.move is not None:
            moves[inject.id] = exercise.move(inject.move)

    def released_in(inject: Inject, seen: frozenset[str]) -> Move | None:
        """A branch's move: that of the inject or decision that triggers it, or of its choice."""
        if inject.id in moves:
            return moves[inject.id]
        source = None
        if inject.trigger is not None:
            source = inject.trigger.inject or inject.trigger.decision
        elif inject.id in slots:
            source = slots[inject.id]
        if source is None or source in seen:
            return None
        return released_in(exercise.inject(source), seen | {inject.id})

    rows = []
    for n, (inject, due) in enumerate(ordered, start=1):
        move = released_in(inject, frozenset()) if exercise.moves else None
        clock = exercise.clock_at(due) if due is not None else None
        rows.append(Row(n, inject, due, release_text(inject, slots.get(inject.id)), move, clock))
    return rows
