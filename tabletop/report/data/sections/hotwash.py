"""The hotwash: everyone's strengths and improvements, the mean rating of each channel, and the
answers to the script's own questions (format 2)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass

from tabletop.engine import events as ev
from tabletop.script import Exercise
from tabletop.script.models import TEAM_CHANNEL

from ..log import ReportLog
from ..models import Answer, Hotwash, QuestionAnswers
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


def questions(exercise: Exercise, log: ReportLog, names: Names) -> tuple[QuestionAnswers, ...]:
    """Each of the script's hotwash questions with the answers given to it, in the order sent; a scale
    with its mean and how many gave each rating."""
    found = []
    for q in exercise.hotwash.questions:
        answers = []
        for x in log.feedback:
            value = x.p.answers.get(q.id)
            if value is None:
                continue
            text = str(value)
            rating = value if isinstance(value, int) else None
            answers.append(Answer(x.p.name, role(x.p, names), text, direction(text), rating))
        ratings = [a.rating for a in answers if a.rating is not None]
        found.append(
            QuestionAnswers(
                q.id,
                q.text,
                q.kind,
                tuple(answers),
                round(float(statistics.mean(ratings)), 1) if ratings else None,
                tuple((n, ratings.count(n)) for n in range(1, 6)) if q.kind == "scale" else (),
            )
        )
    return tuple(found)
