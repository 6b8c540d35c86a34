"""The swim lanes: per team (and control), what it received, decided, wrote and acknowledged over time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from tabletop.script import Exercise

from ..log import ReportLog
from ..models import Lane, LaneMark, Message
from ..names import Names


def lanes(exercise: Exercise, log: ReportLog, names: Names, messages: Sequence[Message]) -> tuple[Lane, ...]:
    marks: dict[str, list[LaneMark]] = defaultdict(list)
    for x in log.release_order():
        for team in x.p.to:
            marks[team].append(LaneMark(x.t, "inject", x.p.title))
    for d in log.decisions:
        for team in d.event.audience:
            marks[team].append(LaneMark(d.t, "decision", d.p.label or ""))
    for m in messages:
        if m.from_team:
            marks[m.from_team].append(LaneMark(m.t, "message"))
    for (_inject, team), t in log.acks.items():
        marks[team].append(LaneMark(t, "ack"))
    for n in log.notes:
        marks["control"].append(LaneMark(n.t, "note"))
    return tuple(
        Lane(team, names.team(team), tuple(sorted(marks.get(team, []), key=lambda mark: mark.t)))
        for team in [*(t.id for t in exercise.teams), "control"]
    )
