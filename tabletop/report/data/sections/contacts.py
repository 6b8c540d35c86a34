"""Contact times per incident (issue 12): from each incident to the first message on each channel between
the sides, to the first to reach the other side, to the first answer back and its arrival; in exercise
and in scenario time, beside the script's benchmarks.

The incidents are the injects the script marks `incident: true` (format 2); a script without any is
measured from its first incident as format 1 defines it (`relay_timing.first_incident`). Each
incident is measured on its own, from its release to the end of its move (a later move is another
time, often another date: its traffic answers its own incidents), or to the end of play without
moves. Only the sides' own messages count (not control's spoofs, not persona posts).
"""

from __future__ import annotations

from collections.abc import Sequence

from tabletop.engine import events as ev
from tabletop.script import Exercise
from tabletop.script.times import format_length, format_log_offset, format_scenario_at, format_span

from ..log import Logged, ReportLog
from ..models import Benchmark, ContactRow, IncidentContacts, Step
from ..names import Names
from .flow import Flow, Passage
from .relay_timing import first_incident


def incidents(exercise: Exercise, log: ReportLog) -> list[Logged[ev.InjectReleased]]:
    marked = {i.id for i in exercise.injects if i.incident}
    if marked:
        return [x for x in log.release_order() if x.p.inject in marked]
    first = first_incident(exercise, log)
    return [first] if first is not None else []


def scenario_span(exercise: Exercise, t0: float, t: float) -> float | None:
    """Scenario seconds between two exercise times (each on the clock in force at its time)."""
    a, b = exercise.scenario_at(t0), exercise.scenario_at(t)
    return None if a is None or b is None else (b - a).total_seconds()


def contacts(exercise: Exercise, log: ReportLog, names: Names, flow: Flow) -> tuple[IncidentContacts, ...]:
    channels = [c for c in exercise.channels if _between_sides(c.members, flow, c.kind)]
    channels.sort(key=lambda c: (c.id not in flow.line, c.kind == "broadcast"))  # the line first
    found = []
    for x in incidents(exercise, log):
        t0 = x.t
        end = min((float(m.at) for m in exercise.moves if m.at > t0), default=float("inf"))

        def step(p: Passage, t: float, who: str, t0: float = t0) -> Step:
            span = scenario_span(exercise, t0, t)
            later = exercise.moves and exercise.move_at(t) != exercise.move_at(t0)
            shown = long_span(span) + (" (in a later move)" if later else "") if span is not None else ""
            return Step(p.seq, t, format_log_offset(t), format_span(t - t0), t - t0, shown, span, who)

        rows = []
        for c in channels:
            after = [p for p in flow.passages if p.channel == c.id and t0 <= p.t < end and flow.genuine(p)]
            first = after[0] if after else None
            reached = [
                p for p in after if p.arrived is not None and p.arrived < end and any(t in flow.sides for t in p.to)
            ]
            arrival = min(reached, key=lambda p: (p.arrived, p.seq)) if reached else None
            answer = answered = None
            if arrival is not None and arrival.arrived is not None:
                at = arrival.arrived
                other = {t for t in arrival.to if t in flow.sides}
                answers = [p for p in after if p.from_team in other and p.t >= at]
                answer = answers[0] if answers else None
                back = [p for p in answers if p.arrived is not None and p.arrived < end and arrival.from_team in p.to]
                answered = min(back, key=lambda p: (p.arrived, p.seq)) if back else None
            rows.append(
                ContactRow(
                    c.id,
                    c.name,
                    c.id in flow.line,
                    step(first, first.t, flow.who(first, names)) if first else None,
                    step(arrival, arrival.arrived, _to(arrival, names, flow))
                    if arrival and arrival.arrived is not None
                    else None,
                    step(answer, answer.t, flow.who(answer, names)) if answer else None,
                    step(answered, answered.arrived, _to(answered, names, flow))
                    if answered and answered.arrived is not None
                    else None,
                )
            )
        move = exercise.move_at(t0)
        found.append(
            IncidentContacts(
                x.p.inject,
                x.p.title,
                x.seq,
                t0,
                format_log_offset(t0),
                format_scenario_at(exercise.clock_at(t0), t0),
                move.title if move is not None else "",
                tuple(rows),
                benchmarks(exercise, rows),
            )
        )
    return tuple(found)


def long_span(seconds: float) -> str:
    """`format_span`, with days beyond two days of scenario time (`28 d 06 h`)."""
    if seconds < 48 * 3600:
        return format_span(seconds)
    days, rest = divmod(round(seconds), 86400)
    return f"{days} d {rest // 3600:02d} h"


def _between_sides(members: Sequence[str], flow: Flow, kind: str) -> bool:
    return kind == "broadcast" or len([m for m in members if m in flow.sides]) >= 2


def _to(p: Passage, names: Names, flow: Flow) -> str:
    return ", ".join(names.team(t) for t in p.to if t in flow.sides) + f" (#{p.seq}, {p.status})"


def best(rows: Sequence[ContactRow], which: str) -> Step | None:
    """The earliest step of a kind on the line."""
    steps = [getattr(r, which) for r in rows if r.line and getattr(r, which) is not None]
    return min(steps, key=lambda s: s.t) if steps else None


def benchmarks(exercise: Exercise, rows: Sequence[ContactRow]) -> tuple[Benchmark, ...]:
    """The script's benchmarks against the line's figures (scenario time when there is a scenario clock)."""
    marks = exercise.benchmarks
    found = []
    for what, limit, which in (
        ("first contact", marks.first_contact, "delivered"),
        ("first answer", marks.first_answer, "answered"),
    ):
        if limit is None:
            continue
        s = best(rows, which)
        if s is None:
            found.append(Benchmark(what, format_length(limit), "not reached", "not reached"))
            continue
        took = s.scenario_after_s if s.scenario_after_s is not None else s.after_s
        shown = s.scenario_after if s.scenario_after_s is not None else f"{s.after} (exercise time)"
        verdict = "met" if took <= limit else f"missed by {format_span(took - limit)}"
        found.append(Benchmark(what, format_length(limit), shown, verdict))
    return tuple(found)
