"""Who played: the teams with their positions and players, and the observers."""

from __future__ import annotations

from dataclasses import dataclass

from tabletop.script import Exercise

from ..log import ReportLog
from ..models import Participant, TeamInfo
from ..names import Names


@dataclass(frozen=True)
class People:
    teams: tuple[TeamInfo, ...]
    observers: tuple[Participant, ...]


def people(exercise: Exercise, log: ReportLog, names: Names) -> People:
    joined = [
        Participant(
            pid, p.kind, p.name, p.team, names.team(p.team), p.position, names.position(p.position), tuple(p.teams)
        )
        for pid, p in sorted(log.participants.items())
    ]
    teams = tuple(
        TeamInfo(
            t.id,
            t.name,
            t.intermediary,
            tuple((pos.id, pos.title, pos.authority) for pos in t.positions),
            tuple(x for x in joined if x.kind == "player" and x.team == t.id),
        )
        for t in exercise.teams
    )
    return People(teams, tuple(x for x in joined if x.kind == "observer"))
