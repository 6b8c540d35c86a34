"""The escalation curve, its peak and final level, and each change in the timeline; with a script's
ladder (format 2), from its start level and with the rungs' names beside the levels."""

from __future__ import annotations

from dataclasses import dataclass

from tabletop.script.models import Escalation as Rungs
from tabletop.script.times import format_log_offset, format_scenario_at

from ..log import ReportLog, ScenarioClock
from ..models import Ladder, Series, TimelineItem


@dataclass(frozen=True)
class Escalation:
    curve: Series
    peak: int
    final: int
    timeline: tuple[TimelineItem, ...]
    ladder: Ladder | None = None  # the script's ladder, when it has one (format 2)


def escalation(log: ReportLog, clock: ScenarioClock, rungs: Rungs | None = None) -> Escalation:
    rungs = rungs or Rungs()
    level = peak = rungs.start
    points: list[tuple[float, float]] = [(0.0, float(level))]
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
                f"Escalation {x.p.delta:+d} to {level}{named(rungs, level)}",
                x.p.reason,
                seq=x.seq,
            )
        )
    points.append((log.played, float(level)))
    ladder = None
    if rungs.rungs or rungs.start:
        ladder = Ladder(
            rungs.start,
            rung_name(rungs, rungs.start),
            rung_name(rungs, peak),
            rung_name(rungs, level),
            tuple((r.level, r.name, r.description) for r in rungs.rungs),
        )
    return Escalation(Series("Escalation", tuple(points)), peak, level, tuple(timeline), ladder)


def rung_name(rungs: Rungs, level: int) -> str:
    """The name of the rung a level stands on, or "" (no rungs, or below the lowest)."""
    rung = rungs.rung(level)
    return rung.name if rung is not None else ""


def named(rungs: Rungs, level: int) -> str:
    """` (Incident at sea)` after a level on a named rung, else nothing."""
    name = rung_name(rungs, level)
    return f" ({name})" if name else ""
