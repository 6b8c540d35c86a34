"""The course of play for the sponsor (issue 12): escalation peaks with their causes, each move (what
happened, the injects not released, the branches not taken), the server's outages, and the public
statements beside the line's traffic and the decisions on one timeline.

An *outage* is read from the log: something the scheduler makes happen at a known exercise time (a
timed inject, a triggered inject's delay, a decision's deadline) that happened more than
`LATE_WALL` (16) seconds of wall time after it fell due; the clock ran on while nothing was released, so
the outage is the span from when it fell due to when it was released. An outage during which
nothing fell due leaves no trace in the log.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import pairwise

from tabletop.engine import events as ev
from tabletop.script import Exercise
from tabletop.script.models import Escalation as Rungs
from tabletop.script.models import Inject
from tabletop.script.times import format_log_offset, format_scenario_at, format_span, format_wall

from ..log import Logged, ReportLog
from ..models import Lane, LaneMark, MovePart, Outage, Peak, TimelineItem
from ..names import Names
from ..text import direction, short
from .escalation import rung_name
from .flow import Flow

# Wall seconds after its due time at which a scheduled release marks an outage: a live scheduler wakes
# within a second of what falls due; a rehearsal (tabletop/rehearse.py) steps its clock 15 s at a time.
LATE_WALL = 16.0


def cause(exercise: Exercise, log: ReportLog, names: Names, x: ev.EscalationChanged) -> str:
    """`decision The President asks for options: Limited strike (United States)`, `inject ...`, or the
    facilitator's reason and name."""
    reason = x.reason or ""
    if reason.startswith("inject "):
        ident = reason.removeprefix("inject ")
        return f"inject: {_title(exercise, log, ident)}"
    if reason.startswith("decision ") and ":" in reason:
        ident, _, option = reason.removeprefix("decision ").partition(":")
        ident, option = ident.strip(), option.strip()
        made = next((d for d in log.decisions if d.p.inject == ident and (d.p.option or "") == option), None)
        label = made.p.label if made is not None and made.p.label else option
        team = f" ({names.team(made.p.team)})" if made is not None and made.p.team else ""
        return f"decision: {_title(exercise, log, ident)}: {label}{team}"
    return f"control: {reason}" + (f" ({x.by})" if x.by else "") if reason else f"control ({x.by or 'no reason'})"


def _title(exercise: Exercise, log: ReportLog, ident: str) -> str:
    if ident in log.released:
        return log.released[ident].p.title
    try:
        return exercise.inject(ident).title
    except KeyError:
        return ident


def peaks(exercise: Exercise, log: ReportLog, names: Names) -> tuple[Peak, ...]:
    """Each time play climbed to its peak level, with what took it there."""
    rungs: Rungs = exercise.escalation
    level = peak = rungs.start
    for x in log.escalations:
        peak = max(peak, x.p.level)
    found = []
    level = rungs.start
    for x in log.escalations:
        if x.p.level == peak and level < peak:
            found.append(
                Peak(x.t, format_log_offset(x.t), peak, rung_name(rungs, peak), cause(exercise, log, names, x.p))
            )
        level = x.p.level
    if not found:
        found.append(Peak(0.0, format_log_offset(0.0), peak, rung_name(rungs, peak), "the start level, never passed"))
    return tuple(found)


def move_marks(exercise: Exercise, log: ReportLog) -> tuple[tuple[float, str], ...]:
    """Where each move began (as played; the script's `at` for moves the log does not mark)."""
    started = {x.p.move: x.t for x in log.moves if isinstance(x.p, ev.MoveStarted)}
    return tuple(
        (started.get(m.id, float(m.at)), m.title)
        for n, m in enumerate(exercise.moves)
        if n and (m.id in started or m.at <= log.played)
    )


def moves(exercise: Exercise, log: ReportLog, names: Names, flow: Flow) -> tuple[MovePart, ...]:
    """Per move (or the whole exercise, without moves): what happened, what was not released, which
    branches were not taken."""
    started = dict(move_marks(exercise, log))
    reached = {title: t for t, title in started.items()}
    marks: list[tuple[float, str]] = [(0.0, exercise.moves[0].title if exercise.moves else "The exercise")]
    marks += [(reached.get(m.title, float(m.at)), m.title) for m in exercise.moves[1:]]
    end = max(log.played, 0.0)
    bounds = [
        (t, min(marks[n + 1][0], end) if n + 1 < len(marks) else max(end, t), title)
        for n, (t, title) in enumerate(marks)
    ]
    part = _parts(bounds)
    moves_index = {m.id: n for n, m in enumerate(exercise.moves)}
    released = set(log.released)
    cancelled = {x.p.inject for x in log.cancelled}

    def home(ident: str, seen: frozenset[str] = frozenset()) -> int:
        """The part an inject belongs to: where it was released, its move, its time, or its trigger's."""
        if ident in log.released:
            return part(log.released[ident].t)
        try:
            inject = exercise.inject(ident)
        except KeyError:
            return len(bounds) - 1
        if inject.move is not None and inject.move in moves_index:
            return moves_index[inject.move]
        if inject.at is not None:
            return part(float(inject.at))
        parent = inject.trigger.decision or inject.trigger.inject if inject.trigger is not None else None
        if parent and parent not in seen:
            return home(parent, seen | {ident})
        return len(bounds) - 1

    placed = {inject.id: home(inject.id) for inject in exercise.injects}
    taken = {d.p.inject: d.p.option or "" for d in log.decisions}

    def why(inject: Inject) -> str:
        trigger = inject.trigger
        if inject.id in cancelled:
            return "cancelled"
        if trigger is not None and trigger.decision in taken and taken[trigger.decision] != (trigger.option or ""):
            return "its branch was not taken"
        return inject.release

    children: dict[tuple[str, str], list[str]] = {}
    for inject in exercise.injects:
        if inject.trigger is not None and inject.trigger.decision:
            children.setdefault((inject.trigger.decision, inject.trigger.option or ""), []).append(inject.id)
    # Everything is filed under its part once (not scanned again for each move): releases, messages,
    # decisions, choices and escalation changes; and the level at each part's start, in one sweep.
    last = len(bounds) - 1
    inside: list[list[Logged[ev.InjectReleased]]] = [[] for _ in bounds]
    for x in log.release_order():
        inside[placed.get(x.p.inject, part(x.t))].append(x)
    said: list[Counter[str]] = [Counter() for _ in bounds]
    for p in flow.passages:
        n = part(p.t)
        if p.t < bounds[n][1] or n == last:
            said[n][
                "the line" if p.channel in flow.line else "public" if p.channel in flow.broadcast else "other channels"
            ] += 1
    decided: list[list[Logged[ev.DecisionMade]]] = [[] for _ in bounds]
    for d in log.decisions:
        decided[part(d.t)].append(d)
    chosen: list[list[Logged[ev.ChoiceMade]]] = [[] for _ in bounds]
    for made in log.choices:
        chosen[part(made.t)].append(made)
    final: list[int | None] = [None for _ in bounds]  # the level after a part's last change, if it had one
    for change in log.escalations:
        final[part(change.t)] = change.p.level
    starts = _levels_at(exercise.escalation.start, log, [t0 for t0, _t1, _title in bounds])
    parts = []
    for n, (t0, t1, title) in enumerate(bounds):
        happened = [
            f"{len(inside[n])} injects released"
            + (": " + "; ".join(short(x.p.title, 60) for x in inside[n][:6]) if inside[n] else "")
        ]
        if len(inside[n]) > 6:
            happened[-1] += f"; and {len(inside[n]) - 6} more"
        if said[n]:
            happened.append("messages: " + ", ".join(f"{k} {v}" for k, v in sorted(said[n].items())))
        for d in decided[n]:
            happened.append(
                f"{format_log_offset(d.t)} decided: {_title(exercise, log, d.p.inject)}: {d.p.label or 'no option'}"
            )
        level = final[n]
        if level is not None:
            happened.append(f"escalation from {starts[n]} to {level}" + _rung(exercise, level))
        not_released = [
            f"{i.title} ({why(i)})"
            for i in exercise.injects
            if placed.get(i.id) == n and i.id not in released and not i.is_choice
        ]
        not_taken = []
        for d in decided[n]:
            spec = log.released[d.p.inject].p.decision if d.p.inject in log.released else None
            for option in spec.options if spec is not None else ():
                if option.id == (d.p.option or ""):
                    continue
                lost = [_title(exercise, log, c) for c in children.get((d.p.inject, option.id), [])]
                not_taken.append(
                    f"{_title(exercise, log, d.p.inject)}: {option.label}"
                    + (f" (would have released: {'; '.join(lost)})" if lost else "")
                )
        for made in chosen[n]:
            slot = next((i for i in exercise.injects if i.id == made.p.choice), None)
            for c in slot.choose if slot is not None else ():
                if c.target != made.p.inject:
                    not_taken.append(f"{_title(exercise, log, made.p.choice)}: {_title(exercise, log, c.target)}")
        clock = exercise.clock_at(t0)
        span = f"{format_log_offset(t0)} to {format_log_offset(t1)}" if t1 >= t0 else "not played"
        scenario = ""
        if clock is not None and t1 >= t0:
            scenario = f"{format_scenario_at(clock, t0)} to {format_scenario_at(clock, t1)}"
        parts.append(MovePart(title, span, scenario, tuple(happened), tuple(not_released), tuple(not_taken)))
    return tuple(parts)


def _parts(bounds: Sequence[tuple[float, float, str]]) -> Callable[[float], int]:
    """`part(t)`: the index of the part a time falls in (the last whose start is at or before it), by
    bisection when the starts are in order (they are, but for a move started before an earlier one's
    scripted time), else by `_part`'s scan."""
    starts = [t0 for t0, _t1, _title in bounds]
    if all(a <= b for a, b in pairwise(starts)):
        return lambda t: max(0, bisect_right(starts, t) - 1)
    return lambda t: _part(bounds, t)


def _levels_at(start: int, log: ReportLog, times: Sequence[float]) -> list[int]:
    """The escalation level just before each time (its last change strictly before it), in one sweep of
    the changes (in log order) over the times in order."""
    order = sorted(range(len(times)), key=lambda i: times[i])
    changes = log.escalations
    found = [start] * len(times)
    level, k = start, 0
    for i in order:
        while k < len(changes) and changes[k].t < times[i]:
            level = changes[k].p.level
            k += 1
        found[i] = level
    return found


def _part(bounds: Sequence[tuple[float, float, str]], t: float) -> int:
    n = 0
    for i, (t0, _t1, _title) in enumerate(bounds):
        if t >= t0:
            n = i
    return n


def _rung(exercise: Exercise, level: int) -> str:
    name = rung_name(exercise.escalation, level)
    return f" ({name})" if name else ""


def outages(exercise: Exercise, log: ReportLog) -> tuple[Outage, ...]:
    """Scheduled things that happened late in wall time: the server was down or stalled."""
    speeds: list[tuple[float, float]] = []  # (exercise time, speed from then)
    for c in log.clock:
        if isinstance(c.p, ev.ClockStarted | ev.SpeedChanged):
            speeds.append((c.t, float(c.p.speed)))

    def speed_at(t: float) -> float:
        return next((s for t0, s in reversed(speeds) if t0 <= t), 1.0) or 1.0

    due: list[tuple[float, float, str, int]] = []  # (due, happened, what, seq)
    for x in log.release_order():
        if x.p.how != "scheduled":
            continue
        try:
            inject = exercise.inject(x.p.inject)
        except KeyError:
            continue
        if inject.at is not None:
            due.append((float(inject.at), x.t, f"'{x.p.title}'", x.seq))
    for d in log.decisions:
        opened = log.released.get(d.p.inject)
        spec = opened.p.decision if opened is not None else None
        if (d.p.by_default or d.p.lapsed) and spec is not None and spec.deadline is not None and opened is not None:
            due.append((opened.t + float(spec.deadline), d.t, f"the deadline of '{opened.p.title}'", d.seq))
    found: list[Outage] = []
    events_wall = {x.seq: x.event.wall for x in log.release_order()} | {d.seq: d.event.wall for d in log.decisions}
    for at, happened, what, seq in sorted(due):
        late_wall = (happened - at) / speed_at(at)
        if late_wall < LATE_WALL:
            continue
        wall = events_wall.get(seq)
        since = format_wall(wall - late_wall) if wall is not None else ""
        until = format_wall(wall) if wall is not None else ""
        text = (
            f"Server outage or stall: {what} was due at {format_log_offset(at)} and came {format_span(late_wall)} "
            f"late (wall time)" + (f", from about {since} to {until}" if since else "")
        )
        if found and at <= found[-1].until:  # fell due during the outage already found
            continue
        found.append(Outage(at, format_log_offset(at), text, happened))
    return tuple(found)


def public_private(exercise: Exercise, log: ReportLog, names: Names, flow: Flow) -> tuple[TimelineItem, ...]:
    """Public statements, the line's traffic and the decisions, in time order (each with its log number)."""
    items = []
    incidents = {i.id for i in exercise.injects if i.incident}
    for x in log.release_order():
        if x.p.inject in incidents:
            items.append(
                _item(exercise, x.t, "incident", ", ".join(names.team(t) for t in x.p.to), x.p.title, "", x.seq)
            )
    for p in flow.passages:
        if p.channel in flow.broadcast:
            kind = "public"
        elif p.channel in flow.line:
            kind = "line"
        else:
            continue
        status = "" if p.status in ("delivered",) else f" [{p.status}]"
        items.append(_item(exercise, p.t, kind, flow.who(p, names), f"{p.channel_name}{status}", p.text, p.seq))
    for d in log.decisions:
        title = _title(exercise, log, d.p.inject)
        who = names.team(d.p.team) if d.p.team else "by default"
        items.append(
            _item(exercise, d.t, "decision", who, f"{title}: {d.p.label or 'no option'}", d.p.rationale or "", d.seq)
        )
    return tuple(sorted(items, key=lambda i: i.seq))


def _item(exercise: Exercise, t: float, kind: str, who: str, title: str, detail: str, seq: int) -> TimelineItem:
    return TimelineItem(
        t,
        format_log_offset(t),
        format_scenario_at(exercise.clock_at(t), t),
        kind,
        who,
        title,
        short(detail, 200),
        direction(detail) if detail else "ltr",
        f"#{seq}",
        seq,
    )


def lanes(exercise: Exercise, log: ReportLog, flow: Flow) -> tuple[Lane, ...]:
    """The chart beside the public-and-private timeline: public statements, the line, decisions."""
    incidents = {i.id for i in exercise.injects if i.incident}
    shots = [LaneMark(x.t, "inject", x.p.title) for x in log.release_order() if x.p.inject in incidents]
    public = [LaneMark(p.t, "message") for p in flow.passages if p.channel in flow.broadcast]
    line = [LaneMark(p.t, "message") for p in flow.passages if p.channel in flow.line]
    decided = [LaneMark(d.t, "decision", d.p.label or "") for d in log.decisions]
    return (
        Lane("public", "Public statements", tuple(shots + public)),
        Lane("line", "The line", tuple(shots + line)),
        Lane("decisions", "Decisions", tuple(shots + decided)),
    )
