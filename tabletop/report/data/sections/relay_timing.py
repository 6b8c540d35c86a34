"""From the first incident to the first message through an intermediary, its arrival, and the reply."""

from __future__ import annotations

from collections.abc import Sequence

from tabletop.engine import events as ev
from tabletop.script import Exercise
from tabletop.script.times import format_log_offset, format_span

from ..log import Logged, ReportLog
from ..models import RelayItem, RelayTiming


def first_incident(exercise: Exercise, log: ReportLog) -> Logged[ev.InjectReleased] | None:
    """The first released inject the script marks `incident: true` (format 2); without any marked, the
    first released inject addressed to a team that is not an intermediary, and not an order."""
    marked = {i.id for i in exercise.injects if i.incident}
    if marked:
        return next((x for x in log.release_order() if x.p.inject in marked), None)
    intermediaries = {t.id for t in exercise.teams if t.intermediary}
    return next(
        (x for x in log.release_order() if x.p.medium != "order" and any(t not in intermediaries for t in x.p.to)),
        None,
    )


def relay_timing(exercise: Exercise, log: ReportLog, relays: Sequence[RelayItem]) -> RelayTiming | None:
    incident = first_incident(exercise, log)
    if incident is None:
        return None
    t0 = incident.t
    intermediaries = {t.name for t in exercise.teams if t.intermediary}
    through = [r for r in relays if r.t >= t0 and r.relay_team in intermediaries]
    steps: list[tuple[str, str, str]] = []

    def step(what: str, t: float | None) -> None:
        steps.append((what, "", "did not happen") if t is None else (what, format_log_offset(t), format_span(t - t0)))

    if not through:
        step("First message through the intermediary", None)
    else:
        m1 = through[0]
        step(f"First message through the intermediary ({m1.from_team_name}, #{m1.seq}, {m1.outcome})", m1.t)
        passed = next((r for r in through if r.seq in log.deliveries), None)
        if passed is None:
            step("First message to reach the other side", None)
            step("First reply through the intermediary", None)
        else:
            d1 = log.deliveries[passed.seq]
            step(f"First message to reach the other side ({passed.to_names}, #{passed.seq})", d1)
            reply = next((r for r in through if r.t >= d1 and r.from_team_name != passed.from_team_name), None)
            if reply is None:
                step("First reply through the intermediary", None)
            else:
                step(f"First reply through the intermediary ({reply.from_team_name}, #{reply.seq})", reply.t)
                reached = log.deliveries.get(reply.seq)
                step(f"The reply reached {reply.to_names or 'the other side'} ({reply.outcome})", reached)
    return RelayTiming(incident.p.inject, incident.p.title, format_log_offset(t0), tuple(steps))
