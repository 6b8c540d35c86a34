"""Every released inject in the timeline, and each addressed team's response to it."""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass

from tabletop.engine import events as ev
from tabletop.script import Exercise
from tabletop.script.times import format_log_offset, format_scenario_at, format_span

from ..log import Logged, ReportLog, ScenarioClock
from ..models import Response, TimelineItem
from ..names import Names
from ..text import direction, median


@dataclass(frozen=True)
class Injects:
    timeline: tuple[TimelineItem, ...]
    responses: tuple[Response, ...]
    team_medians: tuple[tuple[str, str, int], ...]  # (team name, median response, injects answered)


def injects(exercise: Exercise, log: ReportLog, names: Names, sent_by_team: dict[str, list[float]]) -> Injects:
    timeline: list[TimelineItem] = []
    responses: list[Response] = []
    answered: dict[str, list[float]] = defaultdict(list)
    for x in log.release_order():
        to = [t for t in x.p.to if t in names.teams]
        timeline.append(inject_item(x, to, names, exercise.clock_at))
        for team in to:
            response = respond(x, team, names, log.acks.get((x.p.inject, team)), sent_by_team.get(team, []))
            responses.append(response)
            first = min((d for d in (response.ack_s, response.message_s) if d is not None), default=None)
            if first is not None:
                answered[team].append(first)
    medians = tuple(
        (t.name, format_span(median(answered.get(t.id, []))) or "no response", len(answered.get(t.id, [])))
        for t in exercise.teams
    )
    return Injects(tuple(timeline), tuple(responses), medians)


def inject_item(x: Logged[ev.InjectReleased], to: list[str], names: Names, clock: ScenarioClock) -> TimelineItem:
    p = x.p
    detail = p.medium + (f", from {p.from_}" if p.from_ else "")
    if p.how != "scheduled":
        detail += f"; released {p.how}"
    if p.source:
        detail += f"; source: {p.source}"
    return TimelineItem(
        x.t,
        format_log_offset(x.t),
        format_scenario_at(clock(x.t), x.t),
        "inject",
        ", ".join(names.team(t) for t in to),
        marked_title(p),
        detail,
        direction(p.body) if p.body else "ltr",
        seq=x.seq,
    )


def respond(x: Logged[ev.InjectReleased], team: str, names: Names, ack_t: float | None, sent: list[float]) -> Response:
    """A team's first acknowledgement and first message after an inject's release (`sent` in order)."""
    i = bisect.bisect_left(sent, x.t)
    msg_t = sent[i] if i < len(sent) else None
    ack_d = None if ack_t is None else ack_t - x.t
    msg_d = None if msg_t is None else msg_t - x.t
    return Response(
        x.p.inject,
        marked_title(x.p),
        format_log_offset(x.t),
        team,
        names.team(team),
        format_span(ack_d) if ack_d is not None else ("none" if x.p.ack else "not asked"),
        format_span(msg_d) if msg_d is not None else "none",
        ack_d,
        msg_d,
    )


def marked_title(p: ev.InjectDefinition) -> str:
    """An inject's title, marked when the script says it is an exercise event, not history (format 2)."""
    return f"[Exercise event] {p.title}" if p.fiction else p.title
