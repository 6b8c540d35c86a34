"""Objectives with the observers' ratings and observations, other observations, the improvement plan."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from tabletop.script import Exercise
from tabletop.script.times import format_log_offset

from ..log import ReportLog
from ..models import RATINGS, ObjectiveItem, Observation, PlanItem
from ..names import Names
from ..text import direction


@dataclass(frozen=True)
class Objectives:
    items: tuple[ObjectiveItem, ...]
    general: tuple[Observation, ...]  # observations of no objective
    plan: tuple[PlanItem, ...]


def objectives(exercise: Exercise, log: ReportLog, names: Names) -> Objectives:
    texts = {o.id: o.text for o in exercise.objectives}
    plan = tuple(
        PlanItem(
            i.issue,
            i.action,
            i.organisation,
            i.due,
            i.objective or "",
            objective_text=texts.get(i.objective or "", ""),
            capability=i.capability,
            contact=i.contact,
            start=i.start,
        )
        for i in log.plan
    )
    observed: dict[str | None, list[Observation]] = defaultdict(list)
    for x in log.observations:
        p = x.p
        observed[p.objective].append(
            Observation(
                format_log_offset(x.t),
                p.rating,
                p.text,
                direction(p.text),
                names.team(p.team) if p.team else "",
                p.name,
                finding=p.finding or "",
            )
        )
    items = tuple(
        objective_item(o.id, o.text, o.capability or "", observed.get(o.id, []), plan) for o in exercise.objectives
    )
    return Objectives(items, tuple(observed.get(None, [])), plan)


def rating(found: Sequence[Observation]) -> tuple[Counter[str], str]:
    """The ratings counted, and the overall one: the most frequent, the worse on a tie ("" when unrated)."""
    counted = Counter(x.rating for x in found)
    if not counted:
        return counted, ""
    top = max(counted.values())
    return counted, [r for r in RATINGS if counted.get(r) == top][-1]


def objective_item(
    ident: str, text: str, capability: str, found: Sequence[Observation], plan: Sequence[PlanItem]
) -> ObjectiveItem:
    counted, overall = rating(found)
    return ObjectiveItem(
        ident,
        text,
        capability,
        tuple((r, counted.get(r, 0)) for r in RATINGS),
        overall,
        # The observer's own mark decides where an observation goes; without one, its rating does.
        tuple(x for x in found if x.finding == "strength" or (not x.finding and x.rating in ("P", "S"))),
        tuple(x for x in found if x.finding == "improvement" or (not x.finding and x.rating in ("M", "U"))),
        tuple(item for item in plan if item.objective == ident),
    )
