"""Lint: what a valid script gets wrong as a game (`flask --app app exercise lint PATH...`).

A script that validates can still mislead its players or its sponsor. Each rule here looks at the
loaded script (and, for the place of a warning, where its values were written):

- `clock-time`: a clock time written in an inject's text (`**04:05 Gulf time.**`, `16:00 Gulf
  time`, `20:05 on 19 June in Washington`) disagrees with the inject's computed scenario time;
- `objective-move`: an inject tests an objective that belongs to another move (the objective's
  text names its move, "In Move 2", or most of the injects that test it fall in that move);
- `channel-score`: every decision option that uses one channel scores the same escalation, so the
  score rewards the channel, not what the option does (review finding 1);
- `idle-seat`: a team, or a position of a team with several, has nothing to do for more than
  30 minutes of exercise time (no timed inject reaches it; a position also needs an inject that
  names it or that it may decide);
- `slot`: play, plus the read-in, a plenary at each move that stops the clock and the hotwash,
  overruns the slot (120 minutes).

Pure: no Flask. Warnings are plain data; the CLI prints them like validation problems.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, tzinfo
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import Mark
from .loader import LIBRARY, load_exercise_located
from .models import Exercise, Inject, Move, Option, Position, Team
from .timeline import Row, timeline
from .times import format_length, format_offset, format_scenario, scenario_moment
from .yamlsrc import Path_, Positions

IDLE = 30 * 60


@dataclass(frozen=True)
class Slot:
    """The time a game is given, and what it needs besides play (wall seconds)."""

    length: int = 120 * 60
    read_in: int = 10 * 60
    plenary: int = 10 * 60  # at each move that stops the clock
    hotwash: int = 25 * 60


@dataclass(frozen=True)
class Finding:
    mark: Mark
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.mark.file}:{self.mark.line}:{self.mark.column}: warning: {self.message} [{self.rule}]"


class _Places:
    """Where to point a warning: the value at a path of the merged script, else the file's top."""

    def __init__(self, exercise: Exercise, positions: Positions | None, display: str) -> None:
        self.positions = positions
        self.display = display
        self.index = {inject.id: n for n, inject in enumerate(exercise.injects)}

    def at(self, path: Path_) -> Mark:
        if self.positions is not None:
            try:
                return self.positions.value(path)
            except KeyError:
                pass
        return Mark(self.display, 1, 1)

    def inject(self, inject_id: str, *rest: str | int) -> Mark:
        return self.at(("injects", self.index[inject_id], *rest))


# ------------------------------------------------------------------------------- clock times
ZONES = {
    "gulf standard time": "Asia/Dubai",
    "gulf time": "Asia/Dubai",
    "gst": "Asia/Dubai",
    "muscat time": "Asia/Muscat",
    "in muscat": "Asia/Muscat",
    "in the gulf": "Asia/Dubai",
    "tehran time": "Asia/Tehran",
    "iran time": "Asia/Tehran",
    "irst": "Asia/Tehran",
    "irdt": "Asia/Tehran",
    "in tehran": "Asia/Tehran",
    "washington time": "America/New_York",
    "in washington": "America/New_York",
    "eastern time": "America/New_York",
    "edt": "America/New_York",
    "est": "America/New_York",
    "et": "America/New_York",
    "riyadh time": "Asia/Riyadh",
    "baghdad time": "Asia/Baghdad",
    "kuwait time": "Asia/Kuwait",
    "bahrain time": "Asia/Bahrain",
    "london time": "Europe/London",
    "gmt": "UTC",
    "utc": "UTC",
    "zulu": "UTC",
    "z": "UTC",
    "local time": "",  # the scenario's own zone
    "local": "",
}
_ZONE = "|".join(re.escape(z) for z in sorted(ZONES, key=len, reverse=True))
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
CLOCK_RE = re.compile(
    r"(?P<before>\b(?:since|until|till|by|before|after|from|between|and|to)\s+)?"
    r"(?<![\d:+.])(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?![\d:])"
    r"(?:\s*(?:hours|hrs|h)\b)?\.?"
    rf"(?:,?\s*(?:on\s+)?(?P<day>\d{{1,2}})\s+(?P<month>{_MONTHS})\b,?)?"
    rf"(?:\s*(?P<zone>{_ZONE})\b)?",
    re.IGNORECASE,
)
_PLAIN = re.compile(r"[*_`#>]+")


def _zone(name: str, own: tzinfo) -> tzinfo | None:
    key = ZONES[name.lower()]
    if not key:
        return own
    try:
        return ZoneInfo(key)
    except ZoneInfoNotFoundError:
        return None


@dataclass(frozen=True)
class ClockTime:
    """A clock time written in a text, and the zone (and day) it is given in."""

    text: str
    hour: int
    minute: int
    zone: tzinfo
    day: int | None
    month: int | None
    offset: int  # where it stands in the text


def clock_times(text: str, own: tzinfo) -> list[ClockTime]:
    """The clock times a text gives for *now*: those with a zone (or a day), and one that opens the
    text (a time stamp, in the scenario's own zone). A time after since, until, by, before, after,
    from, between, and or to names another moment and is left alone."""
    plain = _PLAIN.sub("", text)
    found = []
    for m in CLOCK_RE.finditer(plain):
        if m.group("before"):
            continue
        opening = not plain[: m.start()].strip()
        if m.group("zone") is None and m.group("day") is None and not opening:
            continue
        zone = _zone(m.group("zone"), own) if m.group("zone") else own
        if zone is None:
            continue
        month = _MONTHS.lower().split("|").index(m.group("month").lower()) + 1 if m.group("month") else None
        found.append(
            ClockTime(
                m.group(0).strip(" .,"),
                int(m.group("h")),
                int(m.group("m")),
                zone,
                int(m.group("day")) if m.group("day") else None,
                month,
                m.start("h"),
            )
        )
    return found


def _off_by(written: ClockTime, moment: datetime) -> float:
    """Minutes between a written time and a moment (on the moment's day, or the day written)."""
    local = moment.astimezone(written.zone)
    if written.day is not None and written.month is not None:
        try:
            target = local.replace(month=written.month, day=written.day, hour=written.hour, minute=written.minute)
        except ValueError:
            return 0.0
        return abs((target - local).total_seconds()) / 60
    gap = abs(written.hour * 60 + written.minute - (local.hour * 60 + local.minute))
    return float(min(gap, 24 * 60 - gap))


def _line_in(places: _Places, inject_id: str, key: str, text: str, offset: int) -> Mark:
    """The place of a character of an inject's text: the value's line, plus the lines before it in a
    block scalar (`|` or `>`), when the script's own file holds it."""
    mark = places.inject(inject_id, key)
    if "\n" not in text:
        return mark
    return Mark(mark.file, mark.line + 1 + _PLAIN.sub("", text)[:offset].count("\n"), 1)


def check_clock_times(rows: list[Row], places: _Places) -> list[Finding]:
    found = []
    for row in rows:
        inject = row.inject
        if row.due is None or row.clock is None or inject.is_choice:
            continue
        moment = scenario_moment(row.clock, row.due)  # the row's clock: no second clock_at lookup
        if moment is None:
            continue
        tolerance = max(15.0, row.clock.time_scale)  # minutes: one exercise minute of the move's clock
        for key, text in (("title", inject.title), ("body", inject.body)):
            for written in clock_times(text, moment.tzinfo or row.clock.start.tzinfo):  # type: ignore[arg-type]
                off = _off_by(written, moment)
                if off <= tolerance:
                    continue
                there = moment.astimezone(written.zone)
                local = f" ({format_scenario(there)} there)" if there.utcoffset() != moment.utcoffset() else ""
                found.append(
                    Finding(
                        _line_in(places, inject.id, key, text, written.offset),
                        "clock-time",
                        f"inject '{inject.id}' says '{written.text}', but it is released at "
                        f"{format_offset(row.due)}, scenario time {format_scenario(moment)}{local} "
                        f"(off by {format_length(off * 60)}): move the inject or correct the time",
                    )
                )
    return found


# ------------------------------------------------------------------------- objectives by move
def inject_moves(rows: list[Row]) -> dict[str, Move]:
    """The move each inject falls in, as the timeline places it: by its time when known, else its
    `move:`, else the move of what releases it (a trigger's inject or decision, a choice)."""
    return {row.inject.id: row.move for row in rows if row.move is not None}


_MOVES_RE = re.compile(r"\bmoves?\s+(\d+(?:\s*(?:,|and|&|-|–|to)\s*\d+)*)", re.IGNORECASE)


def named_moves(text: str, count: int) -> set[int]:
    """The move numbers (1-based) a text names: "Move 2", "Moves 1 and 3", "Moves 1-3"."""
    found: set[int] = set()
    for m in _MOVES_RE.finditer(text):
        numbers = [int(n) for n in re.findall(r"\d+", m.group(1))]
        ranged = re.search(r"\d+\s*(?:-|–|to)\s*\d+", m.group(1))
        if ranged and len(numbers) == 2:
            numbers = list(range(numbers[0], numbers[1] + 1))
        found |= {n for n in numbers if 1 <= n <= count}
    return found


def check_objective_moves(exercise: Exercise, rows: list[Row], places: _Places) -> list[Finding]:
    moves = inject_moves(rows)
    if not moves:
        return []
    found = []
    for objective in exercise.objectives:
        tagged = [i for i in exercise.injects if objective.id in i.objectives and i.id in moves]
        if not tagged:
            continue
        numbers = named_moves(objective.text, len(exercise.moves))
        homes: list[Move] = []
        why = ""
        if numbers:
            homes = [exercise.moves[n - 1] for n in sorted(numbers)]
            why = (
                "its text names "
                + ("move " if len(homes) == 1 else "moves ")
                + ", ".join(str(n) for n in sorted(numbers))
            )
        else:
            counts = Counter(moves[i.id].id for i in tagged)
            (top, n), *rest = counts.most_common()
            if rest and n >= 3 and n * 3 >= len(tagged) * 2:
                homes = [exercise.move(top)]
                why = f"{n} of the {len(tagged)} injects that test it fall there; name its moves in its text"
        if not homes:
            continue
        for inject in tagged:
            move = moves[inject.id]
            if move in homes:
                continue
            k = inject.objectives.index(objective.id)
            found.append(
                Finding(
                    places.inject(inject.id, "objectives", k),
                    "objective-move",
                    f"inject '{inject.id}' (move '{move.id}') tests objective '{objective.id}', which belongs to "
                    f"move {' and '.join(repr(h.id) for h in homes)} ({why}): tag it with an objective of its own move",
                )
            )
    return found


# ----------------------------------------------------------------------- options per channel
_GENERIC = {"the", "and", "line", "channel", "radio", "net", "link", "chat", "statements", "with", "for"}


def channel_words(exercise: Exercise) -> dict[str, set[str]]:
    """The words that say an option uses a channel: the channel's id parts and the capitalised words
    of its name, and for a relay channel its intermediary's id and name."""
    words: dict[str, set[str]] = {}
    for channel in exercise.channels:
        found = {p for p in channel.id.split("-") if len(p) >= 3}
        found |= {w for w in re.findall(r"[A-Z][\w-]*", channel.name) if len(w) >= 3}
        if channel.relay and channel.relay != "control":
            found.add(channel.relay)
            try:
                team = exercise.team(channel.relay)
                found |= {w for w in re.findall(r"[A-Z][\w-]*", team.name) if len(w) >= 3}
            except KeyError:
                pass
        words[channel.id] = {w.lower() for w in found} - _GENERIC
    return words


def check_channel_scores(exercise: Exercise, places: _Places) -> list[Finding]:
    found = []
    for channel, words in channel_words(exercise).items():
        if not words:
            continue
        pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in sorted(words)) + r")\b", re.IGNORECASE)
        using = [
            (inject, k, option)
            for inject in exercise.injects
            if inject.decision is not None
            for k, option in enumerate(inject.decision.options)
            if pattern.search(option.label)
        ]
        if len(using) < 2:
            continue
        scores = {option.score for _, _, option in using}
        inject, k, _ = using[0]
        listed = ", ".join(f"{i.id}/{o.id}" for i, _, o in using[:6]) + (" ..." if len(using) > 6 else "")
        name = exercise.channel(channel).name
        fix = "score options by what they do (restraint, force, concession), not by the channel they use"
        if len(scores) == 1 and next(iter(scores)) != 0:
            said = f"every option that uses the {name} ({len(using)}: {listed}) scores {next(iter(scores)):+d}"
        else:
            side = _always(using, pattern)
            if side is None:
                continue
            said = f"in every decision that offers the {name} ({listed}), it is the {side} escalatory option"
        found.append(Finding(places.inject(inject.id, "decision", "options", k), "channel-score", f"{said}: {fix}"))
    return found


def _always(using: list[tuple[Inject, int, Option]], pattern: re.Pattern[str]) -> str | None:
    """'least' (or 'most') when, in each of two or more decisions that offer a channel beside other
    options, every option using it scores below (above) every other option; None otherwise."""
    sides = []
    for inject in dict.fromkeys(i for i, _, _ in using):
        if inject.decision is None:
            continue
        mine = [o.score for o in inject.decision.options if pattern.search(o.label)]
        other = [o.score for o in inject.decision.options if not pattern.search(o.label)]
        if not other:
            continue
        sides.append("least" if max(mine) < min(other) else "most" if min(mine) > max(other) else "mixed")
    return sides[0] if len(sides) >= 2 and len(set(sides)) == 1 and sides[0] != "mixed" else None


# ---------------------------------------------------------------------------------- idle seats
_STOP = {"the", "and", "for", "of", "on", "to", "in", "at", "a", "an", "s"}


def _words(title: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", title.lower()) if len(w) >= 3 or any(c.isdigit() for c in w)} - _STOP


def _names(team_titles: list[str], title: str, position_id: str) -> list[str]:
    """How an inject may name a position: its id, its title, or a word of its title that no other
    position of its team has (J3, colonel, tactical, minister)."""
    others: set[str] = set()
    for other in team_titles:
        if other != title:
            others |= _words(other)
    return [position_id, position_id.replace("-", " "), title, *sorted(_words(title) - others)]


def names_shown(titles: list[str], position: Position) -> list[str]:
    """The title words that name a position (for the warning)."""
    return _names(titles, position.title, position.id)[3:][:5]


def _gaps(points: list[float], duration: float) -> list[tuple[float, float]]:
    marks = sorted({0.0, *points, float(duration)})
    return [(a, b) for a, b in pairwise(marks) if b - a > IDLE]


def _timed(exercise: Exercise, rows: list[Row]) -> list[tuple[float, tuple[Inject, ...]]]:
    """What surely arrives at a known time: each timed (or chained) inject, and for a timed choice
    its alternatives, one of which arrives then."""
    found: list[tuple[float, tuple[Inject, ...]]] = []
    for row in rows:
        if row.due is None:
            continue
        if row.inject.is_choice:
            found.append((float(row.due), tuple(exercise.inject(c.target) for c in row.inject.choose)))
        else:
            found.append((float(row.due), (row.inject,)))
    return found


def _concerns(exercise: Exercise, team: Team, position: Position, names: list[re.Pattern[str]], inject: Inject) -> bool:
    """Whether an inject gives a position something to do: it reaches its team and names it, or the
    position may take its decision."""
    if team.id not in exercise.recipients(inject):
        return False
    if inject.decision is not None and (not inject.decision.by or position.id in inject.decision.by):
        return True
    text = " ".join((inject.title, inject.body, inject.expect))
    return any(x.search(text) for x in names)


def check_idle_seats(exercise: Exercise, rows: list[Row], places: _Places) -> list[Finding]:
    arrivals = _timed(exercise, rows)
    found = []
    for n, team in enumerate(exercise.teams):
        # A team is busy when whatever arrives (any alternative of a choice) reaches it.
        busy = [t for t, injects in arrivals if all(team.id in exercise.recipients(i) for i in injects)]
        for start, end in _gaps(busy, exercise.duration):
            found.append(
                Finding(
                    places.at(("teams", n)),
                    "idle-seat",
                    f"team '{team.id}' receives nothing from {format_offset(start)} to {format_offset(end)} "
                    f"({format_length(end - start)}): give it an inject in between",
                )
            )
        if len(team.positions) < 2:
            continue
        for k, position in enumerate(team.positions):
            if any(exercise.can_relay(c, position.id) for c in exercise.channels):
                continue  # the intermediary's seats work the traffic
            titles = [p.title for p in team.positions]
            names = [
                re.compile(r"\b" + re.escape(x) + r"\b", re.IGNORECASE)
                for x in _names(titles, position.title, position.id)
            ]

            mine = [t for t, injects in arrivals if all(_concerns(exercise, team, position, names, i) for i in injects)]
            shown = ", ".join(names_shown(titles, position)) or "-"
            for start, end in _gaps(mine, exercise.duration):
                found.append(
                    Finding(
                        places.at(("teams", n, "positions", k)),
                        "idle-seat",
                        f"position '{position.id}' ({team.id}) has nothing to do from {format_offset(start)} to "
                        f"{format_offset(end)} ({format_length(end - start)}): no timed inject names it "
                        f"(its id, title or a word only its title has: {shown}) "
                        "or asks it to decide",
                    )
                )
    return found


# ----------------------------------------------------------------------------------- the slot
def check_slot(exercise: Exercise, places: _Places, slot: Slot) -> list[Finding]:
    stops = len(exercise.clock_stops())
    total = exercise.duration + slot.read_in + stops * slot.plenary + slot.hotwash
    if total <= slot.length:
        return []
    parts = [f"play {format_length(exercise.duration)}", f"read-in {format_length(slot.read_in)}"]
    if stops:
        parts.append(f"{stops} plenar{'ies' if stops > 1 else 'y'} of {format_length(slot.plenary)}")
    parts.append(f"hotwash {format_length(slot.hotwash)}")
    return [
        Finding(
            places.at(("duration",)),
            "slot",
            f"{' + '.join(parts)} = {format_length(total)}, over the {format_length(slot.length)} slot "
            f"by {format_length(total - slot.length)}",
        )
    ]


# ------------------------------------------------------------------------------------ the lint
def lint(
    exercise: Exercise, positions: Positions | None = None, display: str = "", slot: Slot = Slot()
) -> list[Finding]:
    """Every warning of a loaded script, in file order."""
    places = _Places(exercise, positions, display)
    rows = timeline(exercise)  # computed once: three rules read it
    found = [
        *check_clock_times(rows, places),
        *check_objective_moves(exercise, rows, places),
        *check_channel_scores(exercise, places),
        *check_idle_seats(exercise, rows, places),
        *check_slot(exercise, places, slot),
    ]
    return sorted(found, key=lambda f: (f.mark.file != display, f.mark, f.rule, f.message))


def lint_file(
    path: Path | str, *, library: Path | str = LIBRARY, display: str | None = None, slot: Slot = Slot()
) -> list[Finding]:
    """Load a script (ScriptError when it does not load) and lint it."""
    name = display or str(path)
    exercise, positions = load_exercise_located(path, library=library, display=name)
    return lint(exercise, positions, name, slot)
