"""`build_report`: one typed pass over the log (`log.read_log`), then the sections, composed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from tabletop.engine.events import Event
from tabletop.script import Exercise
from tabletop.script.times import format_scenario_at, format_span

from .log import ReportLog, read_log
from .models import RELAY_OUTCOMES, ReportData, TimelineItem
from .names import Names
from .sections.ai_seats import ai_seats
from .sections.branches import branch_items, persona_posts
from .sections.channels import channels
from .sections.decisions import decisions
from .sections.escalation import escalation
from .sections.figures import dates, figures, scenario_span
from .sections.hotwash import hotwash, questions
from .sections.injects import injects
from .sections.lanes import lanes
from .sections.messages import exchanges
from .sections.misperception import misperception
from .sections.objectives import objectives
from .sections.people import people
from .sections.relay_timing import relay_timing
from .sections.story import cause
from .sections.timeline import control_items, key_messages, timeline
from .sponsor import sponsor

#: How `exercise rehearse` (tabletop/rehearse.py) titles the sessions its bots play.
REHEARSAL = "Rehearsal: "


def build_report(
    exercise: Exercise, events: Sequence[Event], *, session_id: str = "", session_title: str = ""
) -> ReportData:
    """Fold a session's event log into the report (pure: no I/O, same input, same output)."""
    log = read_log(events)
    names = Names(exercise)
    said = exchanges(log, names)
    if log.persona_posts:  # format 2: control's posts as personas belong to their public channel's log
        said = replace(said, messages=tuple(sorted((*said.messages, *persona_posts(log, names)), key=lambda m: m.seq)))
    chans = channels(exercise, names, said.messages, log.played)
    released = injects(exercise, log, names, said.sent_by_team)
    decided = decisions(exercise, log, names)
    level = escalation(log, exercise.clock_at, exercise.escalation)
    goals = objectives(exercise, log, names)
    answers = hotwash(log, names)
    asked = questions(exercise, log, names)
    who = people(exercise, log, names)
    return ReportData(
        title=exercise.title,
        exercise_id=exercise.id,
        session_id=session_id,
        session_title=session_title or exercise.title,
        classification=exercise.classification,
        summary=exercise.summary,
        dates=dates(log),
        played=format_span(log.played),
        played_s=log.played,
        duration_s=float(exercise.duration),
        scenario_span=scenario_span(exercise, log.played),
        facilitators=tuple(log.facilitators),
        figures=figures(
            exercise,
            log,
            said.messages,
            chans.logs,
            said.relays,
            said.relay_counts,
            decided.items,
            (level.peak, level.final),
        ),
        channel_counts=chans.counts,
        team_medians=released.team_medians,
        objectives=goals.items,
        general_observations=goals.general,
        teams=who.teams,
        observers=who.observers,
        timeline=titled(
            exercise,
            timeline(
                released.timeline,
                decided.timeline,
                readable(exercise, log, names, level.timeline),
                control_items(log, names, exercise.clock_at),
                key_messages(exercise, said.messages),
                branch_items(exercise, log, exercise.clock_at),
            ),
        ),
        relays=said.relays,
        relay_counts=tuple((k, said.relay_counts.get(k, 0)) for k in RELAY_OUTCOMES),
        responses=released.responses,
        relay_timing=relay_timing(exercise, log, said.relays),
        decisions=decided.items,
        escalation=level.curve,
        peak_escalation=level.peak,
        final_escalation=level.final,
        traffic=chans.traffic,
        lanes=lanes(exercise, log, names, said.messages),
        hotwash=answers.hotwash,
        channel_ratings=answers.channel_ratings,
        plan=goals.plan,
        logs=chans.logs,
        exchanges=len(said.messages),
        injects_released=len(log.released),
        scenario_start=format_scenario_at(exercise.clock_at(0), 0),
        built_from=log.count,
        extras={  # format 2, only where the script uses it (see ReportData.extras)
            **({"escalation": level.ladder} if level.ladder is not None else {}),
            **({"questions": asked} if asked else {}),
            **({"misperception": m} if (m := misperception(exercise, events, names)) else {}),  # issue 14
            **({"ai_seats": a} if (a := ai_seats(exercise, events)) else {}),  # issue 15
        },
        sponsor=sponsor(exercise, log, names),
        rehearsal=session_title.startswith(REHEARSAL),
    )


def readable(
    exercise: Exercise, log: ReportLog, names: Names, items: Sequence[TimelineItem]
) -> tuple[TimelineItem, ...]:
    """Escalation changes as a reader says them (issue 12: titles, never ids; "down 1, to -1", not
    "-1 to -1"), in `TimelineItem.reader`; the pinned `title` and `detail` stay as they were."""
    changes = {x.seq: x.p for x in log.escalations}
    found = []
    for item in items:
        x = changes.get(item.seq)
        if x is None:
            found.append(item)
            continue
        rung = item.title.partition(f" to {x.level}")[2]  # " (Harassment)" or ""
        way = "up" if x.delta > 0 else "down" if x.delta < 0 else "unchanged"
        moved = (
            f"Escalation {way} {abs(x.delta)}, to {x.level}{rung}" if x.delta else f"Escalation stays {x.level}{rung}"
        )
        found.append(replace(item, reader=f"{moved}. Why: {cause(exercise, log, names, x)}"))
    return tuple(found)


QUOTED = re.compile(r"'([A-Za-z0-9_.-]+)'( decided: ([A-Za-z0-9_.-]+))?")
BY_INJECT = re.compile(r"\bby inject ([A-Za-z0-9_.-]+)")


def titled(exercise: Exercise, items: Sequence[TimelineItem]) -> tuple[TimelineItem, ...]:
    """Timeline lines whose text names injects or options by id (a channel "opened by inject gh-x", a branch
    "unless 'gh-move' decided: strike") get `reader` with their titles and labels instead (issue 12)."""
    injects = {i.id: i for i in exercise.injects}

    def option(inject: str, ident: str) -> str:
        decision = injects[inject].decision if inject in injects else None
        found = next((o for o in decision.options if o.id == ident), None) if decision is not None else None
        return found.label if found is not None else ident

    def quoted(m: re.Match[str]) -> str:
        ident = m[1]
        if ident not in injects:
            return m[0]
        shown = f"“{injects[ident].title}”"
        return f"{shown} decided: {option(ident, m[3])}" if m[3] else shown

    def by(m: re.Match[str]) -> str:
        return f"by the inject “{injects[m[1]].title}”" if m[1] in injects else m[0]

    found = []
    for item in items:
        if item.reader or item.kind == "message" or not ("'" in item.detail or "inject " in item.detail):
            found.append(item)
            continue
        stop = " " if item.title.rstrip().endswith((".", "?", "!", ":")) else ". "
        text = f"{item.title}{stop}{item.detail}" if item.detail else item.title
        shown = BY_INJECT.sub(by, QUOTED.sub(quoted, text))
        found.append(replace(item, reader=shown + (f" {item.ref}" if item.ref else "")) if shown != text else item)
    return tuple(found)
