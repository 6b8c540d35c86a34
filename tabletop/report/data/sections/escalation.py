"""The escalation curve, its peak and final level, and each change in the timeline."""

from __future__ import annotations

from dataclasses import dataclass

from tabletop.script.times import format_log_offset, format_scenario_at

from ..log import ReportLog, ScenarioClock
from ..models import Series, TimelineItem


@dataclass(frozen=True)
class Escalation:
    curve: Series
    peak: int
    final: int
    timeline: tuple[TimelineItem, ...]


def escalation(log: ReportLog, clock: ScenarioClock) -> Escalation:
    level, peak = 0, 0
    points: list[tuple[float, float]] = [(0.0, 0.0)]
    timeline: list[TimelineItem] = []
    for x in log.escalations:
        level = x.p.level
        peak = max(peak, level)
        points.append((x.t, float(level)))
        timeline.append(
            TimelineItem(
                x.t,
                format_log_offset(x.t),
                format_scenario_at(clock(x.t), x.t),
                "escalation",
                "",
                f"Escalation {x.p.delta:+d} to {level}",
                x.p.reason,
            )
        )
    points.append((log.played, float(level)))
    return Escalation(Series("Escalation", tuple(points)), peak, level, tuple(timeline))
