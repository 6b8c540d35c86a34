"""Who reads each channel during play, as event audiences (format 2's per-channel `read` and `write`).

An audience entry is a team id (every position of that team), `ALL` (every team), or a *seat*,
`team/position` (one position of a team: `seat(team, position)`). Channels without `read` and
`write`, and teams all of whose positions read a channel, keep plain team entries: the team-level
fast path (one emit to the team's room). Only where a list leaves some positions of a team out do
audiences name seats, and only those seats receive the event (live, and by `sync`).

`ChannelAccess` works every channel's readers out once, when a session's state is built, so
that making an event's audience, and publishing it, costs no query and no walk over the script.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tabletop.script import Exercise
from tabletop.script.models import Channel

from .events import ALL, SEAT


def seat(team: str, position: str) -> str:
    """The audience entry of one position of a team."""
    return f"{team}{SEAT}{position}"


def entry_team(entry: str) -> str:
    """The team an audience entry belongs to (itself for a team id)."""
    return entry.partition(SEAT)[0]


def split_audience(audience: Iterable[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Whole teams, and the seats (team, position) of teams not in the audience as a whole."""
    teams = [a for a in audience if a and SEAT not in a]
    whole = set(teams)
    seats = []
    for a in audience:
        if SEAT in a:
            team, _, position = a.partition(SEAT)
            if team not in whole:
                seats.append((team, position))
    return teams, seats


def teams_that_see(exercise: Exercise, channel: Channel) -> tuple[str, ...]:
    """The teams that can see a channel: every team for a broadcast, else its members (in their order)
    and its relay team."""
    if channel.kind == "broadcast":
        return tuple(t.id for t in exercise.teams)
    extra = (channel.relay,) if channel.relay and channel.relay != "control" else ()
    return (*channel.members, *extra)


@dataclass
class ChannelAccess:
    """The readers of each channel of an exercise, by team, as audience entries."""

    exercise: Exercise
    by_team: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # channel -> team -> entries
    everyone: dict[str, tuple[str, ...]] = field(default_factory=dict)  # channel -> every reader

    def __post_init__(self) -> None:
        ex = self.exercise
        for channel in ex.channels:
            teams: dict[str, tuple[str, ...]] = {}
            for team_id in teams_that_see(ex, channel):
                positions = ex.team(team_id).positions
                reading = [p.id for p in positions if ex.can_read(channel, p.id)]
                if len(reading) == len(positions):
                    teams[team_id] = (team_id,)
                elif reading:
                    teams[team_id] = tuple(seat(team_id, p) for p in reading)
            self.by_team[channel.id] = teams
            all_teams = len(teams) == len(ex.teams) and all(v == (k,) for k, v in teams.items())
            if channel.kind == "broadcast" and all_teams:
                self.everyone[channel.id] = (ALL,)
            else:
                self.everyone[channel.id] = tuple(e for entries in teams.values() for e in entries)

    def readers(self, channel_id: str, teams: Iterable[str] | None = None) -> tuple[str, ...]:
        """The audience of a channel's readers: all of them (`teams` None or holding `ALL`), or those of
        the teams given (in their order). A team that cannot read the channel adds nothing."""
        if teams is None:
            return self.everyone[channel_id]
        teams = tuple(teams)
        if ALL in teams:
            return self.everyone[channel_id]
        found = self.by_team[channel_id]
        return tuple(dict.fromkeys(e for t in teams for e in found.get(t, ())))
