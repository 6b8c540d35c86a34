"""Belief against truth (format 2): the script's key questions, the teams' answers and the gap.

A key question (`script.models.KeyQuestion`) has control's `truth`; a team answers it with the
`assess` command (an `assessment` event: answer and confidence 0-100), as often as it likes; its
latest answer is its *picture*. `gap` measures how far a picture is from the truth, from 0 (the
truth, held with full confidence) to 1 (entirely wrong, or the truth held with no confidence):

- `choice`: 1 - the probability the team gave the truth: its confidence when it chose the truth,
  else the rest of its confidence spread over the other options;
- `number`: the error over the question's `tolerance` (default: the truth's size, at least 1), at most 1;
- `position`: the distance in kilometres over `tolerance` (default 100 km), at most 1;
- `text`: no gap (shown beside the truth for people to judge): None.

Pure: the rules (`assess`), the fold (`SessionState.asked`, `.beliefs`), the tape and the report use it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tabletop.script.checks import parse_position
from tabletop.script.models import Exercise, KeyQuestion

__all__ = [
    "BadAnswer",
    "Picture",
    "checked_answer",
    "distance_km",
    "gap",
    "parse_position",
    "question_view",
    "teams_asked",
]

#: Kilometres that count as entirely wrong for a position without `tolerance`.
POSITION_TOLERANCE_KM = 100.0
EARTH_KM = 6371.0


class BadAnswer(ValueError):
    """An answer that does not fit its question's kind."""


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def teams_asked(exercise: Exercise, question: KeyQuestion) -> tuple[str, ...]:
    """The teams a key question is put to: its `teams`, or every team that is not an intermediary."""
    if question.teams:
        return question.teams
    return tuple(t.id for t in exercise.teams if not t.intermediary)


def checked_answer(question: KeyQuestion, answer: float | int | str) -> float | int | str:
    """The answer as stored, or BadAnswer saying what the question wants."""
    kind = question.kind
    if kind == "choice":
        if answer not in question.options:
            raise BadAnswer(f"'{answer}' is not an option of '{question.id}' ({', '.join(question.options)})")
        return answer
    if kind == "number":
        if isinstance(answer, str):
            try:
                answer = float(answer.replace(",", "")) if answer.strip() else float("nan")
            except ValueError:
                raise BadAnswer(f"'{question.id}' wants a number") from None
        if not math.isfinite(answer):
            raise BadAnswer(f"'{question.id}' wants a number")
        return int(answer) if float(answer).is_integer() and abs(answer) < 2**53 else answer
    if kind == "position":
        found = parse_position(answer)
        if found is None:
            raise BadAnswer(f'\'{question.id}\' wants a position: "LAT, LON" in decimal degrees, e.g. "25.9, 56.9"')
        return f"{found[0]:g}, {found[1]:g}"
    return str(answer)


def gap(question: KeyQuestion, answer: Any, confidence: float) -> float | None:
    """How far a picture (answer, confidence 0-100) is from the truth: 0 to 1, or None (no truth, text)."""
    truth, c = question.truth, max(0.0, min(100.0, float(confidence))) / 100
    if truth is None or question.kind == "text":
        return None
    if question.kind == "choice":
        others = max(1, len(question.options) - 1)
        p_truth = c if answer == truth else (1 - c) / others
        return round(1 - p_truth, 4)
    if question.kind == "number":
        if isinstance(answer, str) or not isinstance(truth, (int, float)):
            return None
        scale = question.tolerance or max(abs(float(truth)), 1.0)
        return round(min(1.0, abs(float(answer) - float(truth)) / scale), 4)
    here, there = parse_position(answer), parse_position(truth)
    if here is None or there is None:
        return None
    return round(min(1.0, distance_km(here, there) / (question.tolerance or POSITION_TOLERANCE_KM)), 4)


@dataclass(frozen=True)
class Picture:
    """A team's latest answer to a question."""

    question: str
    team: str
    answer: Any
    confidence: int
    by: str
    t: float
    seq: int

    def as_dict(self, question: KeyQuestion | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "team": self.team,
            "answer": self.answer,
            "confidence": self.confidence,
            "by": self.by,
            "t": round(self.t, 3),
            "seq": self.seq,
        }
        if question is not None:
            data["gap"] = gap(question, self.answer, self.confidence)
        return data


def question_view(question: KeyQuestion, *, truth: bool) -> dict[str, Any]:
    """A key question as the pages show it; `truth` only for control."""
    data: dict[str, Any] = {
        "id": question.id,
        "question": question.question,
        "kind": question.kind,
        "options": list(question.options),
    }
    if truth:
        data["truth"] = question.truth
        data["ask_at"] = list(question.ask_at)
        data["teams"] = list(question.teams)
    return data


def pictures(state: Any, teams: Any = None) -> list[Picture]:
    """The teams' latest answers in a session state (`SessionState.beliefs`), of the teams given (all: None)."""
    found = []
    for (team, question), (answer, confidence, by, t, seq) in sorted(state.beliefs.items()):
        if teams is None or team in teams:
            found.append(Picture(question, team, answer, confidence, by, t, seq))
    return found


def for_viewer(state: Any, viewer: Any) -> list[dict[str, Any]]:
    """The key questions as a viewer is shown them in the state summary (sync's `state`): a player
    the questions put to their team, whether its release asked them yet (`asked`; a question
    without `ask_at` is always asked) and the team's picture; control every question with its truth
    and every team's picture, with its gap; an observer the questions and the watched teams' pictures."""
    ex = state.exercise
    control = viewer.kind == "control"
    shown = []
    for question in ex.key_questions:
        asked_teams = teams_asked(ex, question)
        if viewer.kind == "player":
            if viewer.team not in asked_teams:
                continue
            teams: Any = {viewer.team}
        else:
            teams = None if control else viewer.sees_teams
        item = question_view(question, truth=control)
        item["asked"] = not question.ask_at or (
            viewer.kind == "player" and question.id in state.asked.get(viewer.team, ())
        )
        if viewer.kind != "player":
            item["asked_teams"] = sorted(t for t, ids in state.asked.items() if question.id in ids)
        item["pictures"] = [
            p.as_dict(question if control else None) for p in pictures(state, teams) if p.question == question.id
        ]
        shown.append(item)
    return shown
