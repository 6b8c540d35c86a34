"""What each decider knew (issue 12): for each decision, what the deciding team had received from the
other side before it decided, by channel, and what was still in flight, held or waiting with the
intermediary, or had been declined by it.

The deciding team is the team of the player who chose; for a decision taken by default, the teams of
the positions that may take it (its `by`), else every team the decision was put to. "The other side"
is every team that is not an intermediary and not the deciding team; a spoof counts as what it
imitated (the decider could not tell), a persona's post as
its team's. An intermediary deciding knew, besides, every message the sides had given it to pass on.

What a team knew only grows (a message that reached it stays known; a decline stays done), so against the
same team's previous decision each decision also gets what is new since then (`new`, `new_stopped`): the
report lists a team's messages once, and refers back for the rest.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

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
    last: dict[frozenset[str], _Known] = {}  # per deciding team(s): what its previous decision knew
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
        received = tuple(_received(flow, names, channel, items) for channel, items in got.items())
        seqs = {channel: {p.seq for p in items} for channel, items in got.items()}
        key = frozenset(teams)
        before = last.get(key)
        if before is not None and not (before.count or before.stopped):
            before = None  # it had known nothing then: nothing to refer back to
        if before is None:
            new, new_stopped = received, tuple(stopped)
        else:
            known = before.seqs
            new = tuple(
                _received(flow, names, channel, fresh)
                for channel, items in got.items()
                if (fresh := [p for p in items if p.seq not in known.get(channel, ())])
            )
            new_stopped = tuple(x for x in stopped if x not in before.stopped)
        last[key] = _Known(title, format_log_offset(d.t), d.seq, seqs, frozenset(stopped), sum(map(len, seqs.values())))
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
                previous=before.title if before else "",
                previous_time=before.time if before else "",
                previous_seq=before.seq if before else 0,
                earlier=before.count if before else 0,
                new=new,
                new_stopped=new_stopped,
            )
        )
    return tuple(found)


@dataclass(frozen=True)
class _Known:
    """What a team's decision knew, for its next decision to refer back to."""

    title: str
    time: str
    seq: int
    seqs: dict[str, set[int]]  # channel -> messages
    stopped: frozenset[str]
    count: int  # messages, over every channel


def _received(flow: Flow, names: Names, channel: str, items: list[Passage]) -> Received:
    """A channel's messages: how many, and the last of them."""
    p = items[-1]
    said = short(p.forwarded or p.text, 110)
    return Received(channel, len(items), f"#{p.seq} {format_log_offset(p.t)} {flow.who(p, names)}: {said}")


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
