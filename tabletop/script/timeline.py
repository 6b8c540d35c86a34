"""The MSEL of a script: its injects in the order play will meet them, with how each is released."""

from __future__ import annotations

from dataclasses import dataclass

from .models import Exercise, Inject
from .times import format_duration, format_offset, format_scenario


@dataclass(frozen=True)
class Row:
    number: int
    inject: Inject
    due: int | None  # exercise seconds when known before play (timed, or chained to a timed inject)
    release: str  # how it is released, in words

    @property
    def exercise_time(self) -> str:
        return format_offset(self.due) if self.due is not None else ""


def release_text(inject: Inject) -> str:
    """`time +00:15`, `decision strike-options: strike, +5m`, `inject shootdown, +2m`, `by hand`."""
    if inject.at is not None:
        return f"time {format_offset(inject.at)}"
    trigger = inject.trigger
    if trigger is not None:
        after = f", +{format_duration(inject.delay)}" if inject.delay else ""
        if trigger.inject is not None:
            return f"inject {trigger.inject}{after}"
        return f"decision {trigger.decision}: {trigger.option}{after}"
    return "by hand"


# Kept until report/data.py imports `times.format_scenario` (the report owner switches it).
format_scenario_time = format_scenario


def _due(exercise: Exercise, inject: Inject, seen: frozenset[str] = frozenset()) -> int | None:
    if inject.at is not None:
        return inject.at
    trigger = inject.trigger
    if trigger is None or trigger.inject is None or trigger.inject in seen:
        return None
    parent = _due(exercise, exercise.inject(trigger.inject), seen | {inject.id})
    return None if parent is None else parent + inject.delay


def timeline(exercise: Exercise) -> list[Row]:
    """Timed injects (and those chained to them) by time, then decision branches, then contingencies."""
    known = [(i, _due(exercise, i)) for i in exercise.injects]
    order = {inject.id: n for n, inject in enumerate(exercise.injects)}
    scheduled = sorted([(d, order[i.id], i) for i, d in known if d is not None], key=lambda t: (t[0], t[1]))
    branches = [i for i, d in known if d is None and i.trigger is not None]
    by_hand = [i for i, d in known if d is None and i.trigger is None]
    ordered = [(i, d) for d, _, i in scheduled] + [(i, None) for i in branches] + [(i, None) for i in by_hand]
    return [Row(n, inject, due, release_text(inject)) for n, (inject, due) in enumerate(ordered, start=1)]
