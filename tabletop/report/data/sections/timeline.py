"""The timeline of play: what control did, the clock, jams and key messages, beside the other sections' items."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tabletop.engine import events as ev
from tabletop.script import Exercise
from tabletop.script.times import format_log_offset, format_scenario_at, format_span

from ..log import ClockChange, Logged, MoveChange, ReportLog, ScenarioClock
from ..models import Message, TimelineItem
from ..names import Names
from ..text import direction, short


def timeline(*parts: Iterable[TimelineItem]) -> tuple[TimelineItem, ...]:
    """The parts' items in time order (items at the same time stay in the order given)."""
    return tuple(sorted((item for part in parts for item in part), key=lambda item: item.t))


def control_items(log: ReportLog, names: Names, clock: ScenarioClock) -> list[TimelineItem]:
    """Facilitator notes, the clock and the moves, jammed, opened and closed channels."""

    def at(t: float) -> tuple[float, str, str]:
        return t, format_log_offset(t), format_scenario_at(clock(t), t)

    items = [
        TimelineItem(
            *at(x.t), "note", "Control", f"Note by {x.p.name}", short(x.p.text), direction(x.p.text), seq=x.seq
        )
        for x in log.notes
    ]
    items += [TimelineItem(*at(x.t), "clock", "All", clock_change(x.p), x.p.by, seq=x.seq) for x in log.clock]
    items += [
        TimelineItem(
            *at(x.t),
            "jam",
            "",
            f"{names.channel(x.p.channel)} jammed",
            f"for {format_span(x.p.for_)}" + (f", by {x.p.by}" if x.p.by else ""),
            seq=x.seq,
        )
        for x in log.jams
    ]
    items += [move_item(x, names, clock) for x in log.moves]
    items += [
        TimelineItem(
            *at(x.t),
            "channel",
            "",
            f"{names.channel(x.p.channel)} {'opened' if isinstance(x.p, ev.ChannelOpened) else 'closed'}",
            f"by {x.p.by}" if x.p.by else f"by inject {x.p.inject}" if x.p.inject else "",
            seq=x.seq,
        )
        for x in log.channel_changes
    ]
    return items


def move_item(x: Logged[MoveChange], names: Names, clock: ScenarioClock) -> TimelineItem:
    """A move began (dated by its own scenario clock), or the clock stopped for a plenary at a move's
    start (dated by the clock of the move that ended there)."""
    p = x.p
    if isinstance(p, ev.MoveStarted):
        scenario = format_scenario_at(clock(x.t), x.t)
        return TimelineItem(
            x.t, format_log_offset(x.t), scenario, "clock", "All", f"{p.title} begins", p.by or "", seq=x.seq
        )
    ending = clock(max(0.0, float(p.at) - 0.001))
    title = f"Clock stopped for a plenary before {names.move(p.next)}"
    return TimelineItem(
        x.t, format_log_offset(x.t), format_scenario_at(ending, float(p.at)), "clock", "All", title, seq=x.seq
    )


def clock_change(p: ClockChange) -> str:
    match p:
        case ev.ClockStarted():
            return "Clock started"
        case ev.ClockPaused():
            return "Clock paused"
        case ev.ClockResumed():
            return "Clock resumed"
        case ev.SpeedChanged(speed=speed):
            return f"Speed set to {speed}x"
        case ev.SessionEnded():
            return "End of exercise"


def key_messages(exercise: Exercise, messages: Sequence[Message]) -> list[TimelineItem]:
    """The first message on each channel, public statements, spoofs, and what the relay or a jam stopped."""
    broadcast = {c.id for c in exercise.channels if c.kind == "broadcast"}
    firsts: set[str] = set()
    items = []
    for m in messages:
        reasons = []
        if m.channel not in firsts:
            firsts.add(m.channel)
            reasons.append(f"first on {m.channel_name}")
        if m.channel in broadcast:
            reasons.append("public statement")
        if m.spoofed:
            reasons.append("spoofed by control")
        if m.status in ("edited", "declined"):
            reasons.append(f"{m.status} by the intermediary")
        if m.status == "jammed":
            reasons.append("jammed: not delivered")
        if reasons:
            scenario = format_scenario_at(exercise.clock_at(m.t), m.t)
            who = f"{m.sender} on {m.channel_name}"
            ref = f"#{m.seq} ({'; '.join(reasons)})"
            items.append(
                TimelineItem(
                    m.t, m.time, scenario, "message", m.from_team_name, who, short(m.text), m.dir, ref, seq=m.seq
                )
            )
    return items
