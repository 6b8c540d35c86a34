"""Display names of teams, positions, channels and people, tolerant of ids the script no longer has."""

from __future__ import annotations

from tabletop.script import Exercise
from tabletop.script.models import TEAM_CHANNEL


class Names:
    def __init__(self, exercise: Exercise) -> None:
        self.teams = {t.id: t.name for t in exercise.teams}
        self.teams["control"] = "Exercise control"
        self.positions = {p.id: p.title for t in exercise.teams for p in t.positions}
        self.channels = {c.id: c.name for c in exercise.channels}
        self.moves = {m.id: m.title for m in exercise.moves}

    def team(self, team: str | None) -> str:
        return self.teams.get(team or "", team or "")

    def position(self, position: str | None) -> str:
        return self.positions.get(position or "", position or "")

    def channel(self, channel: str, team: str | None = None) -> str:
        if channel == TEAM_CHANNEL:
            return f"Team chat: {self.team(team)}"
        return self.channels.get(channel, channel)

    def move(self, move: str) -> str:
        return self.moves.get(move, move)

    def person(self, name: str | None, position: str | None, team: str | None = None) -> str:
        """`Name (Position title)`, or whichever of them is known, else the team."""
        title = self.position(position)
        if name and title:
            return f"{name} ({title})"
        return name or title or self.team(team)
