"""What each decider knew (issue 12): for each decision, what the deciding team had received from the
other side before it decided, by channel, and what was still in flight, held or waiting with the
intermediary, or had been declined by it.

The deciding team is the team of the player who chose; for a decision taken by default, the teams of
the positions that may take it (its `by`), else every team the decision was put to. "The other side"
is every team that is not an intermediary and not the deciding team; a spoof counts as what it
imitated (the decider could not tell), a persona's post as
its team's. An intermediary deciding knew, besides, every message the sides had given it to pass on.
"""

from __future__ import annotations

from collections import defaultdict

from tabletop.engine.access import entry_team
from tabletop.script import Exercise
from tabletop.script.times import format_log_offset, format_scenario_at

from ..log import ReportLog
from ..models import DecisionKnowledge, Received
from ..names import Names
from ..text import short
from .flow import Flow, Passage


def knowledge(exercise: Exercise, log: ReportLog, names: Names, flow: Flow) -> tuple[DecisionKnowledge, ...]:
    found = []
    for d in log.decisions:
        teams = {d.p.team} if d.p.team else _deciders(exercise, d.p.inject, d.event.audience)
        teams &= flow.sides | flow.intermediaries
        other = flow.sides - teams
        got: dict[str, list[Passage]] = defaultdict(list)
        pending: list[str] = []
        stopped: list[str] = []
        for p in flow.passages:
            if p.t >= d.t or p.from_team not in other:
                continue
            if p.relay in teams:  # an intermediary deciding: what the sides had given it to pass on
                got[f"{p.channel_name} (to pass on)"].append(p)
                continue
            if not teams & set(p.to):
                continue
            if p.arrived is not None and p.arrived <= d.t:
                got[p.channel_name].append(p)
            elif p.status == "declined" and _decided_before(log, p, d.t):
                stopped.append(
                    f"#{p.seq} {format_log_offset(p.t)} on {p.channel_name}, declined by {names.team(p.relay)}"
                )
            elif p.status != "jammed":
                pending.append(f"#{p.seq} {_where(log, names, p, d.t)}: {short(p.text, 90)}")
        title = log.released[d.p.inject].p.title if d.p.inject in log.released else d.p.inject
        received = tuple(
            Received(
                channel,
                len(items),
                f"#{items[-1].seq} {format_log_offset(items[-1].t)} {flow.who(items[-1], names)}: "
                f"{short(items[-1].forwarded or items[-1].text, 110)}",
            )
            for channel, items in got.items()
        )
        found.append(
            DecisionKnowledge(
                d.seq,
                title,
                d.p.label or "no option",
                ", ".join(names.team(t) for t in sorted(teams)),
                format_log_offset(d.t),
                format_scenario_at(exercise.clock_at(d.t), d.t),
                received,
                tuple(pending),
                tuple(stopped),
                bool(received),
            )
        )
    return tuple(found)


def _decided_before(log: ReportLog, p: Passage, t: float) -> bool:
    return any(a.p.action == "decline" and a.t <= t for a in log.relay_actions.get(p.seq, []))


def _where(log: ReportLog, names: Names, p: Passage, t: float) -> str:
    """Where a message stood at time t: held or waiting with the intermediary, or on its way."""
    before = [a for a in log.relay_actions.get(p.seq, []) if a.t <= t]
    written = f"written {format_log_offset(p.t)} on {p.channel_name}"
    if p.relay and not before:
        return f"{written}, waiting with {names.team(p.relay)}"
    if before and before[-1].p.action == "hold":
        return f"{written}, held by {names.team(p.relay)} since {format_log_offset(before[-1].t)}"
    return f"{written}, on its way"


def _deciders(exercise: Exercise, inject: str, audience: tuple[str, ...]) -> set[str]:
    """A decision taken by default: the teams of the positions that may take it (its `by`), else every
    team it was put to (a UN offer to all three teams that only Iran's seats may answer is Iran's)."""
    try:
        decision = exercise.inject(inject).decision
    except KeyError:
        decision = None
    team_of = {position.id: team.id for team in exercise.teams for position in team.positions}
    teams = {team_of[b] for b in (decision.by if decision is not None else ()) if b in team_of}
    return teams or {entry_team(a) for a in audience}
