"""Sessions of one script side by side, or the rounds (moves) of one session (issue 12).

`compare_sessions(reports)` sets the report data (`ReportData`) of two or more sessions side by side:
the line open against the line closed, people against a rehearsal. `compare_moves(report)` does the
same for the parts of one session: the moves whose titles share the words before their first colon
make one part ("Round 1 (2016 rules): the first hour" and "Round 1 (2016 rules): the night" are
"Round 1 (2016 rules)"); without such shared words, each move is a part.

Both read only what the report data already holds (its sponsor data: contact times per incident,
relay figures and verdicts, peaks, what each decider knew), so a comparison never disagrees with the
reports it compares. Rows, each with one cell per part:

- *Contact times*: per incident, the first message into the line, its arrival on the other side, the
  first answer back's arrival (exercise time after the incident, and scenario time), the fastest
  other channel, the benchmark's verdict;
- *Relay fidelity*: per intermediary played by a team, each message once by what finally became of it
  (unchanged, cosmetic edit, substantive edit, declined, never passed on; held first beside them),
  the share passed on without a change in substance; control's relay (the Swiss channel) apart;
- *Escalation*: the start, the peak (its rung, when, and its cause) and the final level;
- *Decisions*: each decision's choice, and whether the deciding team had heard from the other side;
- *Channels between the sides*: messages written on each channel that is not a team chat.

Incidents and decisions are matched by their inject across sessions; across the parts of one session
(whose injects differ) by their order in the part ("Incident 1", "Decision 2"). Pure: no I/O.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from tabletop.script.times import format_span

from .models import ContactRow, IncidentContacts, ReportData, Step

CONTROL = "Exercise control"  # names.Names' name for control, as the report data carries it


@dataclass(frozen=True)
class Part:
    """One column: a session, or a round of one session."""

    title: str
    note: str  # the session and when it was played, or the part's exercise time span
    rehearsal: bool = False  # played by bots (exercise rehearse)


@dataclass(frozen=True)
class Row:
    group: str  # Contact times | Relay fidelity | Escalation | Decisions | Channels between the sides | Play
    label: str
    cells: tuple[str, ...]  # one per part; "" when the part has nothing to say
    differs: bool = False  # the cells are not all the same
    sub: str = ""  # the incident or intermediary the row belongs to ("" for none)


@dataclass(frozen=True)
class Comparison:
    title: str  # the exercise's title
    kind: str  # sessions | parts (the rounds or moves of one session)
    parts: tuple[Part, ...]
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()  # warnings for the reader (different scripts, rehearsals beside people)

    @property
    def groups(self) -> list[tuple[str, list[Row]]]:
        found: dict[str, list[Row]] = {}
        for row in self.rows:
            found.setdefault(row.group, []).append(row)
        return list(found.items())


GROUPS = ("Play", "Contact times", "Relay fidelity", "Escalation", "Decisions", "Channels between the sides")


@dataclass(frozen=True)
class Slice:
    """A session's report data between two exercise times (the whole session: 0 to the end)."""

    data: ReportData
    start: float
    end: float
    title: str
    note: str
    rehearsal: bool
    by_order: bool  # match incidents and decisions by their order here (parts of one session)

    def holds(self, t: float) -> bool:
        return self.start <= t < self.end


def is_rehearsal(data: ReportData) -> bool:
    """A session played by bots: what `exercise rehearse` names "Rehearsal: ..." (tabletop/rehearse.py)."""
    return data.rehearsal


# ------------------------------------------------------------------ entry points
def compare_sessions(reports: Sequence[ReportData]) -> Comparison:
    """Two or more sessions, one column each, in the order given."""
    if len(reports) < 2:
        raise ValueError("a comparison needs at least two sessions")
    titles = [d.session_title or d.title for d in reports]
    alike = len(set(titles)) < len(titles)
    slices = [
        Slice(
            d,
            0.0,
            float("inf"),
            f"Session {d.session_id}" if alike else title,
            f"{title + '; s' if alike else 'S'}ession {d.session_id}, played {d.dates}, {d.played} of exercise time",
            is_rehearsal(d),
            False,
        )
        for d, title in zip(reports, titles, strict=True)
    ]
    notes = []
    scripts = sorted({d.exercise_id for d in reports})
    if len(scripts) > 1:
        notes.append(
            f"These sessions are of different scripts ({', '.join(scripts)}): incidents and decisions are "
            "matched by their inject ids, which may mean different things."
        )
    played_by = {s.rehearsal for s in slices}
    if played_by == {True, False}:
        notes.append("Rehearsals played by bots stand beside sessions played by people: bots' moves are not findings.")
    elif played_by == {True}:
        notes.append("Every session here is a rehearsal played by bots: its figures test the script, not people.")
    return _compare(reports[0].title, "sessions", slices, tuple(notes))


def move_parts(data: ReportData) -> list[tuple[float, float, str]]:
    """(start, end, title) of each part of a session: its moves, grouped by the words before the colon."""
    if data.sponsor is None or not data.sponsor.move_marks:
        return []
    # move_marks leave out the first move (it starts at +0:00); the per-move parts have every title.
    marks = [(0.0, data.sponsor.moves[0].title if data.sponsor.moves else "Start"), *data.sponsor.move_marks]
    if len(data.sponsor.moves) == len(marks):
        marks = [(t, m.title) for (t, _title), m in zip(marks, data.sponsor.moves, strict=True)]
    bounds = [(t, marks[n + 1][0] if n + 1 < len(marks) else float("inf"), title) for n, (t, title) in enumerate(marks)]
    heads = [title.partition(":")[0].strip() if ":" in title else title for _t, _e, title in bounds]
    if len(set(heads)) >= 2 and len(set(heads)) < len(heads):
        grouped: list[tuple[float, float, str]] = []
        for (start, end, _title), head in zip(bounds, heads, strict=True):
            if grouped and grouped[-1][2] == head:
                grouped[-1] = (grouped[-1][0], end, head)
            else:
                grouped.append((start, end, head))
        return grouped
    return bounds


def compare_moves(data: ReportData, *, each_decision: bool = True) -> Comparison | None:
    """The rounds (or moves) of one session side by side; None when it has fewer than two. Without
    `each_decision`, the decisions are counted, not listed (the report body lists them in section 8)."""
    parts = move_parts(data)
    if len(parts) < 2:
        return None
    slices = []
    for start, end, title in parts:
        last = min(end, data.played_s)
        slices.append(
            Slice(
                data,
                start,
                end,
                title,
                f"exercise time +{_clock(start)} to +{_clock(last)}",
                is_rehearsal(data),
                True,
            )
        )
    return _compare(data.title, "parts", slices, (), each_decision)


def _clock(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


# ------------------------------------------------------------------------ rows
def _compare(
    title: str, kind: str, slices: Sequence[Slice], notes: tuple[str, ...], each_decision: bool = True
) -> Comparison:
    rows: list[Row] = []
    rows += _play(slices)
    rows += _contacts(slices)
    rows += _relay(slices)
    rows += _escalation(slices)
    rows += _decisions(slices, each_decision)
    rows += _channels(slices)
    parts = tuple(Part(s.title, s.note, s.rehearsal) for s in slices)
    return Comparison(title, kind, parts, tuple(rows), notes)


def _row(group: str, label: str, cells: Sequence[str], sub: str = "") -> Row:
    values = tuple(cells)
    return Row(group, label, values, len(set(values)) > 1, sub)


def _play(slices: Sequence[Slice]) -> list[Row]:
    rows = []
    if any(s.rehearsal for s in slices):
        rows.append(_row("Play", "Played by", ["bots (a rehearsal)" if s.rehearsal else "people" for s in slices]))
    rows.append(
        _row(
            "Play",
            "Exercise time",
            [format_span(min(s.end, s.data.played_s) - s.start) for s in slices],
        )
    )
    rows.append(_row("Play", "Messages written", [str(_messages(s)) for s in slices]))
    rows.append(_row("Play", "Decisions", [str(sum(1 for d in s.data.decisions if s.holds(d.t))) for s in slices]))
    return rows


def _messages(s: Slice) -> int:
    return sum(1 for log in s.data.logs for m in log.messages if s.holds(m.t))


# --------------------------------------------------------------- contact times
def _incidents(s: Slice) -> list[IncidentContacts]:
    return [i for i in (s.data.sponsor.incidents if s.data.sponsor else ()) if s.holds(i.t)]


def _keyed(slices: Sequence[Slice], items: Sequence[Sequence[tuple[str, str, object]]]) -> list[tuple[str, list]]:
    """Match items (key, title, value) across slices: by key across sessions, by order within one."""
    order: list[str] = []
    titles: dict[str, str] = {}
    found: dict[str, list[object]] = {}
    for n, (s, part) in enumerate(zip(slices, items, strict=True)):
        for k, (key, title, value) in enumerate(part):
            match = str(k + 1) if s.by_order else key
            if match not in found:
                found[match] = [None] * len(slices)
                order.append(match)
                titles[match] = title
            if found[match][n] is None:
                found[match][n] = value
    return [(titles[m], found[m]) for m in order]


def _step(step: Step | None) -> str:
    if step is None:
        return "none"
    scenario = f" (scenario {step.scenario_after})" if step.scenario_after else ""
    return f"{step.after}{scenario}"


def _contacts(slices: Sequence[Slice]) -> list[Row]:
    rows: list[Row] = []
    per = [[(i.inject, i.title, i) for i in _incidents(s)] for s in slices]
    matched = _keyed(slices, per)
    missing = "no incident in this part" if slices and slices[0].by_order else "not released"
    for n, (title, found) in enumerate(matched, start=1):
        incidents: list[IncidentContacts | None] = [x if isinstance(x, IncidentContacts) else None for x in found]
        label = f"Incident {n}" if slices[0].by_order else title

        def cells(fn: object, incidents: list[IncidentContacts | None] = incidents) -> list[str]:
            return [fn(i) if i is not None else missing for i in incidents]  # type: ignore[operator]

        sub = label
        if slices[0].by_order:
            rows.append(_row("Contact times", "What happened", cells(lambda i: f"{i.title} ({i.time})"), sub))
        steps = (
            ("First message into the line", "first"),
            ("It reached the other side", "delivered"),
            ("First answer back arrived", "answered"),
        )
        for name, what in steps:
            rows.append(_row("Contact times", name, cells(lambda i, w=what: _step(_line(i, w))), sub))
        rows.append(_row("Contact times", "Fastest other channel", cells(_other), sub))
        if any(i is not None and i.benchmarks for i in incidents):
            verdicts = cells(lambda i: "; ".join(f"{b.what} within {b.benchmark}: {b.verdict}" for b in i.benchmarks))
            rows.append(_row("Contact times", "Benchmark", [v or "none" for v in verdicts], sub))
    if not matched:
        rows.append(_row("Contact times", "Incidents", ["none released" for _ in slices]))
    return rows


def _line(incident: IncidentContacts, what: str) -> Step | None:
    """The earliest step of a kind on any of the line's channels."""
    steps = [getattr(r, what) for r in incident.rows if r.line]
    steps = [x for x in steps if x is not None]
    return min(steps, key=lambda x: x.after_s) if steps else None


def _other(incident: IncidentContacts) -> str:
    """The other channel that first reached the other side, and after how long."""
    best: tuple[float, ContactRow] | None = None
    for r in incident.rows:
        if not r.line and r.delivered is not None and (best is None or r.delivered.after_s < best[0]):
            best = (r.delivered.after_s, r)
    if best is None:
        return "none reached the other side"
    return f"{best[1].name}: {_step(best[1].delivered)}"


# -------------------------------------------------------------- relay fidelity
COUNTS = (
    ("Through the intermediary", "total"),
    ("Passed on unchanged", "unchanged"),
    ("Cosmetic edits", "cosmetic"),
    ("Substantive edits", "substantive"),
    ("Declined", "declined"),
    ("Never passed on", "waiting"),
    ("Held first (counted above by outcome)", "held"),
)


def _relay_counts(s: Slice, control: bool) -> dict[str, dict[str, int]]:
    """Per intermediary: each message once, by what finally became of it (as the report's relay figures)."""
    kinds = {v.seq: v.kind for v in s.data.sponsor.verdicts} if s.data.sponsor else {}
    found: dict[str, dict[str, int]] = {}
    for x in s.data.relays:
        if not s.holds(x.t) or (x.relay_team == CONTROL) != control:
            continue
        c = found.setdefault(x.relay_team, dict.fromkeys(("total", *(k for _l, k in COUNTS[1:])), 0))
        c["total"] += 1
        if x.outcome == "forwarded":
            c["unchanged"] += 1
        elif x.outcome == "edited":
            c["substantive" if kinds.get(x.seq) == "substantive" else "cosmetic"] += 1
        elif x.outcome == "declined":
            c["declined"] += 1
        else:
            c["waiting"] += 1
        c["held"] += int(x.held)
    return found


def _relay(slices: Sequence[Slice]) -> list[Row]:
    rows: list[Row] = []
    counted = [_relay_counts(s, control=False) for s in slices]
    relays = sorted({r for c in counted for r in c})
    for relay in relays:
        for label, key in COUNTS:
            rows.append(_row("Relay fidelity", label, [str(c.get(relay, {}).get(key, 0)) for c in counted], relay))
        faithful = [_faithful(c.get(relay)) for c in counted]
        rows.append(_row("Relay fidelity", "Passed on without a change in substance", faithful, relay))
    if not relays:
        rows.append(_row("Relay fidelity", "Messages through an intermediary", ["0" for _ in slices]))
    control = [_relay_counts(s, control=True).get(CONTROL) for s in slices]
    if any(control):
        rows.append(
            _row(
                "Relay fidelity",
                "Messages, substantive edits",
                [f"{c['total']}, {c['substantive']}" if c else "0, 0" for c in control],
                "The relay played by control (reported apart)",
            )
        )
    return rows


def _faithful(c: dict[str, int] | None) -> str:
    """Of the messages the intermediary decided, how many reached the other side without a change in substance."""
    if not c:
        return "nothing through it"
    decided = c["total"] - c["waiting"]
    if not decided:
        return "none decided"
    kept = c["unchanged"] + c["cosmetic"]
    return f"{kept} of {decided} ({round(100 * kept / decided)}%)"


# ------------------------------------------------------------------ escalation
def _level_at(s: Slice, t: float, inclusive: bool = True) -> int:
    level = s.data.escalation.points[0][1] if s.data.escalation.points else 0.0
    for pt, v in s.data.escalation.points:
        if pt < t or (inclusive and pt == t):
            level = v
    return int(level)


def _rung(s: Slice, level: int) -> str:
    ladder = s.data.extras.get("escalation")
    name = ""
    for lvl, rung, _description in getattr(ladder, "rungs", ()):
        if lvl <= level:
            name = rung
    return f"{level} ({name})" if name else str(level)


def _escalation(slices: Sequence[Slice]) -> list[Row]:
    starts, peaks, finals = [], [], []
    for s in slices:
        start = _level_at(s, s.start, inclusive=not s.by_order or s.start == 0)
        inside = [(t, int(v)) for t, v in s.data.escalation.points if s.holds(t)]
        peak = max([start, *(v for _t, v in inside)])
        end = min(s.end, s.data.played_s)
        final = _level_at(s, end)
        starts.append(_rung(s, start))
        finals.append(_rung(s, final))
        when = next((t for t, v in inside if v == peak), None)
        cause = ""
        if s.data.sponsor is not None and when is not None:
            cause = next((p.cause for p in s.data.sponsor.peaks if abs(p.t - when) < 1e-6), "")
        if not cause and when is not None:  # a part's own peak: the change's cause, with titles (reader)
            cause = next(
                (
                    i.reader.partition("Why: ")[2] or i.detail
                    for i in s.data.timeline
                    if i.kind == "escalation" and abs(i.t - when) < 1e-6
                ),
                "",
            )
        at = f" at +{_clock(when)}" if when is not None and when > 0 else ""
        peaks.append(f"{_rung(s, peak)}{at}{': ' + cause if cause and when else ''}")
    return [
        _row("Escalation", "Level at the start", starts),
        _row("Escalation", "Peak", peaks),
        _row("Escalation", "Level at the end", finals),
    ]


# ------------------------------------------------------------------- decisions
def _decisions(slices: Sequence[Slice], each: bool = True) -> list[Row]:
    per = []
    for s in slices:
        knew = s.data.sponsor.knowledge if s.data.sponsor is not None else ()
        items = []
        for n, d in enumerate(s.data.decisions):
            if not s.holds(d.t):
                continue
            k = knew[n] if n < len(knew) else None
            heard = ""
            if k is not None:
                got = sum(r.count for r in k.received)
                heard = (
                    f"; had {got} message{'s' if got != 1 else ''} from the other side"
                    if got
                    else "; had heard nothing from the other side"
                )
            how = "" if d.how == "chosen" else f" ({d.how})"
            asked = f"{d.title}: " if s.by_order else ""
            items.append((d.inject, d.title, f"{asked}{d.label or 'no option'}{how}, {d.time}{heard}"))
        per.append(items)
    rows = []
    matched = _keyed(slices, per)
    for n, (title, found) in enumerate(matched if each else [], start=1):
        label = f"Decision {n}" if slices[0].by_order else title
        rows.append(_row("Decisions", label, [str(x) if x is not None else "not asked" for x in found]))
    informed = []
    for s in slices:
        knew = s.data.sponsor.knowledge if s.data.sponsor is not None else ()
        inside = [k for n, k in enumerate(knew) if n < len(s.data.decisions) and s.holds(s.data.decisions[n].t)]
        informed.append(f"{sum(1 for k in inside if k.informed)} of {len(inside)}" if inside else "no decision")
    rows.append(_row("Decisions", "Decided having heard from the other side", informed))
    return rows


# ---------------------------------------------------------------- the channels
def _channels(slices: Sequence[Slice]) -> list[Row]:
    names: list[str] = []
    counts: list[dict[str, int]] = []
    for s in slices:
        found: dict[str, int] = {}
        for log in s.data.logs:
            if log.kind == "team":
                continue
            n = sum(1 for m in log.messages if s.holds(m.t))
            found[log.name] = n
            if log.name not in names:
                names.append(log.name)
        counts.append(found)
    return [_row("Channels between the sides", name, [str(c.get(name, 0)) for c in counts]) for name in names]


# ------------------------------------------------------------------ as text
def as_text(cmp: Comparison, width: int = 120) -> str:
    """The comparison as a plain-text table (the command line's output): the row's label, then one
    wrapped column per part; rows whose cells differ are marked with `*`."""
    n = len(cmp.parts)
    label_w = max(24, min(40, width // (n + 2)))
    col_w = max(14, (width - label_w - 3 * n) // n)

    def line(cells: Sequence[str], mark: str = " ") -> list[str]:
        wrapped = [textwrap.wrap(cells[0], label_w) or [""]] + [textwrap.wrap(c, col_w) or [""] for c in cells[1:]]
        rows = max(len(w) for w in wrapped)
        out = []
        for k in range(rows):
            parts = [(w[k] if k < len(w) else "") for w in wrapped]
            first = (mark if k == 0 else " ") + parts[0].ljust(label_w)
            out.append((first + "".join(" | " + p.ljust(col_w) for p in parts[1:])).rstrip())
        return out

    title = "Sessions compared" if cmp.kind == "sessions" else "Parts of one session compared"
    out = [f"{title}: {cmp.title}", ""]
    out += line(["", *(p.title + (" [rehearsal, bots]" if p.rehearsal else "") for p in cmp.parts)])
    out += line(["", *(p.note for p in cmp.parts)])
    for group, rows in cmp.groups:
        out += ["", group.upper()]
        sub = ""
        for row in rows:
            if row.sub and row.sub != sub:
                sub = row.sub
                out += textwrap.wrap(sub, width, initial_indent=" ", subsequent_indent=" ")
            out += line([("  " if row.sub else "") + row.label, *row.cells], "*" if row.differs else " ")
    out += ["", "* the parts differ on this row", *cmp.notes]
    return "\n".join(out) + "\n"
