"""The summary in figures, and the cover's dates and scenario span."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from tabletop.script import Exercise
from tabletop.script.times import format_scenario_at, format_span, format_wall

from ..log import ReportLog
from ..models import RELAY_OUTCOMES, ChannelLog, DecisionItem, Figure, Message, RelayItem


def figures(
    exercise: Exercise,
    log: ReportLog,
    messages: Sequence[Message],
    logs: Sequence[ChannelLog],
    relays: Sequence[RelayItem],
    relay_counts: Counter[str],
    decisions: Sequence[DecisionItem],
    escalation: tuple[int, int],
) -> tuple[Figure, ...]:
    chosen = sum(1 for d in decisions if d.how == "chosen")
    written = f", {len(log.written)} written live" if log.written else ""
    peak, final = escalation
    planned = format_span(exercise.duration)
    relayed = ", ".join(f"{relay_counts.get(k, 0)} {k}" for k in RELAY_OUTCOMES)
    return (
        Figure("Played time", format_span(log.played), f"exercise time, script planned {planned}"),
        Figure("Injects released", str(len(log.released)), f"of {len(exercise.injects)} scripted{written}"),
        Figure("Messages", str(len(messages)), f"on {len(logs)} channels"),
        Figure("Through the relay", str(len(relays)), relayed),
        Figure("Decisions", str(len(decisions)), f"{chosen} chosen, {len(decisions) - chosen} by default"),
        Figure("Escalation", f"peak {peak}, final {final}", "from 0 at the start"),
        Figure("Observations", str(len(log.observations)), f"{len(log.feedback)} hotwash answers"),
    )


def dates(log: ReportLog) -> str:
    """When it was played (wall time, UTC)."""
    text = format_wall(log.first_wall)
    if log.last_wall is not None and log.first_wall is not None:
        text = f"{text} to {format_wall(log.last_wall)}"
    return text or "not started"


def scenario_span(exercise: Exercise, played: float) -> str:
    """The in-game span played: one for the script's clock, or one per move reached, each on its own clock."""
    if exercise.moves:
        return "; ".join(move_spans(exercise, played))
    scenario = exercise.scenario
    if scenario is None:
        return ""
    return (
        f"{format_scenario_at(scenario, 0)} to {format_scenario_at(scenario, played)} "
        f"(time scale {scenario.time_scale:g}x)"
    )


def move_spans(exercise: Exercise, played: float) -> list[str]:
    """`Move 2: USS Boxer: 18 Jul 2019 10:00 to 18 Jul 2019 10:30 (time scale 1x)` for each move played into."""
    spans = []
    moves = exercise.moves
    for n, move in enumerate(moves):
        if n and move.at >= played:
            break
        clock = exercise.clock_at(move.at)
        if clock is None:
            return []
        end = min(moves[n + 1].at, played) if n + 1 < len(moves) else played
        spans.append(
            f"{move.title}: {format_scenario_at(clock, move.at)} to {format_scenario_at(clock, end)} "
            f"(time scale {clock.time_scale:g}x)"
        )
    return spans
