"""The hotwash: everyone's strengths and improvements, and the mean rating of each channel."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass

from tabletop.engine import events as ev
from tabletop.script.models import TEAM_CHANNEL

from ..log import ReportLog
from ..models import Hotwash
from ..names import Names
from ..text import direction

ROLES = {"observer": "Observer", "control": "Facilitator"}


@dataclass(frozen=True)
class Answers:
    hotwash: tuple[Hotwash, ...]
    channel_ratings: tuple[tuple[str, float, int], ...]  # (channel name, mean 1-5, answers)


def hotwash(log: ReportLog, names: Names) -> Answers:
    answers = []
    ratings: dict[str, list[int]] = defaultdict(list)
    for x in log.feedback:
        p = x.p
        for channel, value in p.channels.items():
            ratings[channel].append(value)
        answers.append(
            Hotwash(
                p.name,
                role(p, names),
                p.strengths,
                direction(p.strengths),
                p.improvements,
                direction(p.improvements),
                tuple((names.channel(c, p.team), v) for c, v in sorted(p.channels.items())),
            )
        )
    means = tuple(
        ("Team chats" if c == TEAM_CHANNEL else names.channel(c), round(statistics.mean(v), 1), len(v))
        for c, v in sorted(ratings.items())
    )
    return Answers(tuple(answers), means)


def role(p: ev.Feedback, names: Names) -> str:
    if p.kind == "player":
        return f"{names.team(p.team)}, {names.positions.get(p.position or '', '')}".strip(", ")
    return ROLES.get(p.kind, p.kind)
