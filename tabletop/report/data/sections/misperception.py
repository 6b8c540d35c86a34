"""Misperception (issue 14, format 2): each team's picture of the script's key questions against
control's truth over time, and whether the gap narrowed after messages through the line.

A team's picture of a question is its latest `assessment` (answer and confidence); its gap is
`engine.beliefs.gap` (0: the truth held with full confidence, 1: entirely wrong). *The line* is
every relay channel whose intermediary is a team; a message *through the line* reached the team
when a `message_delivered` on such a channel names it among its readers (sent by the other side).
For each change of a team's picture, the report counts the line's messages it received since its
previous answer: a change that followed messages through the line is an update *after the line*.

Pure: the session's events in, a `Misperception` (plain frozen data) out; the report keeps it in
`ReportData.extras["misperception"]` (only for a script with key questions, so format-1 report
data stays as the golden fixtures pin it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from tabletop.engine import beliefs
from tabletop.engine import events as ev
from tabletop.engine.events import SEAT, Event
from tabletop.script import Exercise
from tabletop.script.times import format_offset, format_scenario_at

from ..names import Names


@dataclass(frozen=True)
class BeliefPoint:
    seq: int
    t: float
    time: str  # exercise time, +h:mm:ss
    scenario: str  # the in-game moment, or ""
    answer: str
    confidence: int
    gap: float | None
    by: str
    line_before: int  # messages through the line the team received since its previous answer


@dataclass(frozen=True)
class TeamPicture:
    team: str
    team_name: str
    points: tuple[BeliefPoint, ...]
    first_gap: float | None
    last_gap: float | None
    change: float | None  # last - first (negative: narrowed)
    after_line: float | None  # mean change of the gap over the updates that followed line messages
    otherwise: float | None  # mean change over the other updates
    line_updates: int
    line_received: int  # messages through the line the team received before its last answer
    verdict: str  # in words


@dataclass(frozen=True)
class QuestionGap:
    id: str
    question: str
    kind: str
    truth: str
    teams: tuple[TeamPicture, ...]


@dataclass(frozen=True)
class Misperception:
    questions: tuple[QuestionGap, ...]
    line: tuple[str, ...]  # the line's channel names
    summary: tuple[str, ...]  # sentences for the report's reader


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def _reaches(event: Event, team: str) -> bool:
    return any(entry == team or entry.partition(SEAT)[0] == team for entry in event.audience) or "*" in event.audience


def _verdict(first: float | None, last: float | None, after_line: float | None, otherwise: float | None, n: int) -> str:
    if first is None or last is None:
        return "no gap to measure (no truth, or a free-text question)"
    if last < first - 0.05:
        trend = f"the gap narrowed from {first:.2f} to {last:.2f}"
    elif last > first + 0.05:
        trend = f"the gap widened from {first:.2f} to {last:.2f}"
    else:
        trend = f"the gap stayed near {last:.2f}"
    if not n:
        return f"{trend}; no change of picture followed a message through the line"
    if after_line is None:
        return trend
    if after_line < -0.05:
        line = "it narrowed after messages through the line"
    elif after_line > 0.05:
        line = "it widened after messages through the line"
    else:
        line = "messages through the line did not move it"
    return f"{trend}; {line} (mean change {after_line:+.2f} over {n} update{'s' if n != 1 else ''})"


def misperception(exercise: Exercise, events: Sequence[Event], names: Names) -> Misperception | None:
    """The misperception section, or None for a script without key questions."""
    if not exercise.key_questions:
        return None
    line = {c.id for c in exercise.channels if c.kind == "relay" and c.relay not in (None, "control")}
    answers: dict[tuple[str, str], list[Event]] = {}
    deliveries: list[Event] = []
    for event in events:
        if event.type == ev.ASSESSMENT:
            p = event.payload
            assert isinstance(p, ev.Assessment)
            answers.setdefault((p.question, p.team), []).append(event)
        elif event.type == ev.MESSAGE_DELIVERED and event.payload.channel in line:  # type: ignore[attr-defined]
            deliveries.append(event)
    questions = []
    narrowed = widened = line_helped = 0
    for question in exercise.key_questions:
        pictures = []
        for team in beliefs.teams_asked(exercise, question):
            received = [d for d in deliveries if _reaches(d, team) and d.payload.from_team != team]  # type: ignore[attr-defined]
            points: list[BeliefPoint] = []
            previous_seq = 0
            for event in answers.get((question.id, team), []):
                p = event.payload
                assert isinstance(p, ev.Assessment)
                since = sum(1 for d in received if previous_seq < d.seq < event.seq)
                points.append(
                    BeliefPoint(
                        seq=event.seq,
                        t=event.t,
                        time=format_offset(event.t),
                        scenario=format_scenario_at(exercise.clock_at(event.t), event.t),
                        answer=str(p.answer),
                        confidence=p.confidence,
                        gap=beliefs.gap(question, p.answer, p.confidence),
                        by=p.by,
                        line_before=since,
                    )
                )
                previous_seq = event.seq
            gaps = [x.gap for x in points]
            first = gaps[0] if gaps else None
            last = gaps[-1] if gaps else None
            after: list[float] = []
            other: list[float] = []
            for before, now in pairwise(points):
                if before.gap is None or now.gap is None:
                    continue
                (after if now.line_before else other).append(now.gap - before.gap)
            change = None if first is None or last is None else round(last - first, 3)
            if change is not None and change < -0.05:
                narrowed += 1
            elif change is not None and change > 0.05:
                widened += 1
            after_line = _mean(after)
            if after_line is not None and after_line < -0.05:
                line_helped += 1
            pictures.append(
                TeamPicture(
                    team=team,
                    team_name=names.team(team),
                    points=tuple(points),
                    first_gap=first,
                    last_gap=last,
                    change=change,
                    after_line=after_line,
                    otherwise=_mean(other),
                    line_updates=len(after),
                    line_received=sum(1 for d in received if points and d.seq < points[-1].seq),
                    verdict=_verdict(first, last, after_line, _mean(other), len(after)) if points else "never answered",
                )
            )
        truth = (
            ""
            if question.truth is None
            else f"{question.truth:g}"
            if isinstance(question.truth, float)
            else question.truth
        )
        questions.append(QuestionGap(question.id, question.question, question.kind, truth, tuple(pictures)))
    answered = sum(1 for q in questions for tp in q.teams if tp.points)
    summary = [
        f"{answered} team picture{'s' if answered != 1 else ''} of {len(questions)} key question"
        f"{'s' if len(questions) != 1 else ''}: the gap narrowed in {narrowed}, widened in {widened}."
    ]
    if line:
        summary.append(f"In {line_helped}, the gap narrowed on average after messages through the line.")
    return Misperception(tuple(questions), tuple(sorted(names.channel(c) for c in line)), tuple(summary))
