"""Each decision: the prompt, who chose what and when, how long it took, what it released."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from tabletop.engine import events as ev
from tabletop.script import Exercise
from tabletop.script.times import format_log_offset, format_scenario_at, format_span

from ..log import Logged, ReportLog
from ..models import DecisionItem, TimelineItem
from ..names import Names
from ..text import direction


@dataclass(frozen=True)
class Decisions:
    items: tuple[DecisionItem, ...]
    timeline: tuple[TimelineItem, ...]


def decisions(exercise: Exercise, log: ReportLog, names: Names) -> Decisions:
    children: dict[tuple[str, str], list[str]] = defaultdict(list)  # (decision, option) -> injects it triggers
    for inject in exercise.injects:
        if inject.trigger is not None and inject.trigger.decision:
            children[(inject.trigger.decision, inject.trigger.option or "")].append(inject.id)
    items: list[DecisionItem] = []
    timeline: list[TimelineItem] = []
    for x in log.decisions:
        item = decision_item(x, log, names, children.get((x.p.inject, x.p.option or ""), []), exercise)
        items.append(item)
        timeline.append(
            TimelineItem(
                x.t,
                item.time,
                item.scenario,
                "decision",
                item.teams,
                f"{item.title}: {item.label}",
                item.how + (f" by {item.who}" if x.p.name else ""),
                seq=x.seq,
            )
        )
    return Decisions(tuple(items), tuple(timeline))


def how(p: ev.DecisionMade) -> str:
    if p.lapsed:
        return "lapsed: no option at the deadline"
    return "default at the deadline" if p.by_default else "chosen"


def decision_item(
    x: Logged[ev.DecisionMade], log: ReportLog, names: Names, children: list[str], exercise: Exercise
) -> DecisionItem:
    p = x.p
    opened = log.released.get(p.inject)
    spec = opened.p.decision if opened is not None else None
    who = names.person(p.name, p.position) if p.name else ""
    if who and p.team:
        who += f", {names.team(p.team)}"
    rationale = p.rationale or ""
    return DecisionItem(
        inject=p.inject,
        t=x.t,
        title=opened.p.title if opened is not None else p.inject,
        prompt=spec.prompt if spec is not None else "",
        teams=", ".join(names.team(t) for t in x.event.audience),
        opened=format_log_offset(opened.t if opened is not None else None),
        time=format_log_offset(x.t),
        scenario=format_scenario_at(exercise.clock_at(x.t), x.t),
        took=format_span(x.t - opened.t) if opened is not None else "",
        option=p.option or "",
        label=p.label or "no option",
        who=who or ("nobody: the default applied" if p.by_default else ""),
        rationale=rationale,
        rationale_dir=direction(rationale),
        escalation=p.escalation or 0,
        how=how(p),
        released=tuple(
            f"{log.released[c].p.title} ({format_log_offset(log.released[c].t)})" for c in children if c in log.released
        ),
    )
