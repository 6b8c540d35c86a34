"""Rules that span several fields of a script: ids, references, relays, triggers, moves, conditions, files.

They run on the plain data read from YAML (not on the models), so that every problem of a file
is found in one pass even when some parts do not have the right shape: anything of the wrong
type is skipped here, since the model validation already reports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .durations import parse_duration, parse_offset
from .errors import Problem
from .models import CONDITION_KINDS, MAX_CONDITION_DEPTH, TEAM_CHANNEL, Channel, Exercise, Inject
from .paths import PathRefused, resolve_attachment
from .times import format_duration, format_offset
from .yamlsrc import Path_, Positions

# Fields that only format 2 knows, by where they stand: the models' format2_fields and the few
# format-2 fields those do not list.
FORMAT2_TOP = ("base", *Exercise.format2_fields)
FORMAT2_CHANNEL = ("read", "write", *Channel.format2_fields)
FORMAT2_INJECT = ("move", "when", "unless", *Inject.format2_fields)
FORMAT2_EFFECT = ("channel",)
MAPPING_NEEDS_FORMAT2 = (
    "'escalation' as a mapping (to, by, at_least, at_most) needs format: 2 (this script says format: 1); "
    "format 1 adds a number"
)
# What a choice (an inject with `choose`) may hold besides its release: the rest is content.
CHOICE_CONTENT = (
    "to",
    "from",
    "medium",
    "body",
    "attachments",
    "expect",
    "objectives",
    "ack",
    "decision",
    "effects",
    "fiction",
    "source",
    "rehearsal",
)
RELEASE_KEYS = ("at", "trigger", "when", "delay")


def parse_position(value: Any) -> tuple[float, float] | None:
    """ "LAT, LON" in decimal degrees (a key question's position), or None."""
    if not isinstance(value, str):
        return None
    parts = value.split(",")
    try:
        lat, lon = (float(p) for p in parts) if len(parts) == 2 else (None, None)
    except ValueError:
        return None
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def _listing(ids: list[str], limit: int = 12) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "") if ids else "none defined"


def _items(data: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _str_list(value: Any) -> list[tuple[int, str]]:
    if isinstance(value, str):
        return [(-1, value)]
    if isinstance(value, list):
        return [(i, v) for i, v in enumerate(value) if isinstance(v, str)]
    return []


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _seconds(value: Any, parse: Any) -> int | None:
    try:
        return int(parse(value))
    except ValueError:
        return None


class Checker:
    def __init__(self, data: dict[str, Any], positions: Positions, script_dir: Path, library: Path) -> None:
        self.data = data
        self.positions = positions
        self.script_dir = script_dir
        self.library = library
        self.problems: list[Problem] = []
        fmt = data.get("format")
        self.format = _whole(fmt)
        self.team_ids: list[str] = []
        self.team_of: dict[str, str] = {}
        self.authority: dict[str, int] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.injects: dict[str, dict[str, Any]] = {}
        self.moves: list[tuple[str, int]] = []  # (id, at) of moves in order, when their offsets read

    def at(self, path: Path_, message: str) -> None:
        self.problems.append(Problem(self.positions.value(path), message))

    def at_key(self, path: Path_, message: str) -> None:
        self.problems.append(Problem(self.positions.key(path), message))

    def unique(self, kind: str, entries: list[tuple[Path_, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
        """Index entries by id, reporting duplicates."""
        seen: dict[str, Path_] = {}
        index: dict[str, dict[str, Any]] = {}
        for path, entry in entries:
            ident = entry.get("id")
            if not isinstance(ident, str):
                continue
            if ident in seen:
                first = self.positions.value(seen[ident] + ("id",))
                self.at(path + ("id",), f"duplicate {kind} id '{ident}' (first at line {first.line})")
                continue
            seen[ident] = path
            index[ident] = entry
        return index

    def refs(self, path: Path_, value: Any, known: list[str], kind: str, field: str, extra: str = "") -> None:
        for i, ref in _str_list(value):
            if ref not in known:
                where = path if i < 0 else path + (i,)
                self.at(where, f"unknown {kind} '{ref}' in '{field}' ({kind}s: {_listing(known)}{extra})")

    def ref(self, path: Path_, value: Any, known: list[str] | dict[str, Any], kind: str, field: str) -> bool:
        """One reference: True when it names a known id (False, reported, when it does not)."""
        if not isinstance(value, str):
            return False
        if value not in known:
            self.at(path, f"unknown {kind} '{value}' in '{field}' ({kind}s: {_listing(list(known))})")
            return False
        return True

    def twice(self, path: Path_, value: Any, field: str, what: str = "") -> None:
        seen: set[str] = set()
        for i, item in _str_list(value):
            if item in seen and i >= 0:
                self.at(path + (i,), f"{what}'{item}' is named twice in '{field}'")
            seen.add(item)

    def run(self) -> list[Problem]:
        data = self.data
        if self.format == 1:
            self.format2_only()
        teams = self.unique("team", [(("teams", i), t) for i, t in _items(data, "teams")])
        for i, team in _items(data, "teams"):
            if team.get("id") in ("all", "control"):
                self.at(("teams", i, "id"), f"'{team['id']}' is a reserved word and cannot be a team id")
        self.team_ids = list(teams)
        positions: list[tuple[Path_, dict[str, Any]]] = []
        for i, team in _items(data, "teams"):
            for j, pos in _items(team, "positions"):
                positions.append((("teams", i, "positions", j), pos))
                if isinstance(pos.get("id"), str) and isinstance(team.get("id"), str):
                    self.team_of.setdefault(pos["id"], team["id"])
                    authority = _whole(pos.get("authority", 1))
                    if authority is not None:
                        self.authority.setdefault(pos["id"], authority)
        self.unique("position", positions)
        objectives = list(self.unique("objective", [(("objectives", i), o) for i, o in _items(data, "objectives")]))
        self.channels = self.unique("channel", [(("channels", i), c) for i, c in _items(data, "channels")])
        for i, channel in _items(data, "channels"):
            if channel.get("id") == TEAM_CHANNEL:
                self.at(
                    ("channels", i, "id"),
                    f"'{TEAM_CHANNEL}' is the id of every team's private chat and cannot be a channel id",
                )
            self.channel(("channels", i), channel)
        self.check_moves()
        self.check_personas()
        self.check_escalation()
        self.check_hotwash()
        research = _items(data, "research_questions")
        self.unique("research question", [(("research_questions", i), q) for i, q in research])
        self.injects = self.unique("inject", [(("injects", i), j) for i, j in _items(data, "injects")])
        for i, inject in _items(data, "injects"):
            self.inject(("injects", i), inject, objectives)
        self.choices()
        self.cycles()
        self.check_key_questions()
        return self.problems

    # --- format ------------------------------------------------------------------------------

    def format2_only(self) -> None:
        """A format-1 script may not use what format 2 adds."""

        def refuse(path: Path_) -> None:
            self.at_key(path, f"'{path[-1]}' needs format: 2 (this script says format: 1)")

        for key in FORMAT2_TOP:
            if key in self.data:
                refuse((key,))
        for i, channel in _items(self.data, "channels"):
            for key in FORMAT2_CHANNEL:
                if key in channel:
                    refuse(("channels", i, key))
        for i, inject in _items(self.data, "injects"):
            for key in FORMAT2_INJECT:
                if key in inject:
                    refuse(("injects", i, key))
            for k, effect in _items(inject, "effects"):
                for key in FORMAT2_EFFECT:
                    if key in effect:
                        refuse(("injects", i, "effects", k, key))
                if isinstance(effect.get("escalation"), dict):
                    self.at(("injects", i, "effects", k, "escalation"), MAPPING_NEEDS_FORMAT2)
            decision = inject.get("decision")
            for k, option in _items(decision if isinstance(decision, dict) else {}, "options"):
                if isinstance(option.get("escalation"), dict):
                    self.at(("injects", i, "decision", "options", k, "escalation"), MAPPING_NEEDS_FORMAT2)

    # --- channels ----------------------------------------------------------------------------

    def channel(self, path: Path_, channel: dict[str, Any]) -> None:
        team_ids = self.team_ids
        members = channel.get("members")
        self.refs(path + ("members",), members, team_ids, "team", "members")
        kind, relay = channel.get("kind"), channel.get("relay")
        name = channel.get("id", "?")
        if kind == "relay":
            if relay is None:
                self.at(path, f"relay channel '{name}' needs 'relay': the intermediary team or \"control\"")
            elif isinstance(relay, str) and relay != "control":
                if relay not in team_ids:
                    self.at(
                        path + ("relay",),
                        f"unknown team '{relay}' in 'relay' (teams: {_listing(team_ids)}, or control)",
                    )
                elif isinstance(members, list) and relay in members:
                    self.at(
                        path + ("relay",),
                        f"relay team '{relay}' is also a member of channel '{name}': "
                        "the intermediary stands between the members and is not one of them",
                    )
        elif relay is not None and kind in ("direct", "broadcast"):
            self.at_key(path + ("relay",), f"'relay' applies only to relay channels (channel '{name}' is {kind})")
        if kind in ("direct", "relay") and isinstance(members, list) and len(members) < 2:
            self.at(path + ("members",), f"a {kind} channel needs at least two member teams")
        if kind in ("direct", "broadcast"):
            for key in ("receiver_sees", "sender_learns"):
                if key in channel:
                    self.at_key(path + (key,), f"'{key}' applies only to relay channels (channel '{name}' is {kind})")
        self.twice(path + ("sender_learns",), channel.get("sender_learns"), "sender_learns")
        self.access(path, channel)

    def access(self, path: Path_, channel: dict[str, Any]) -> None:
        """`read` and `write`: known positions, of teams that may use the channel, each member with a writer."""
        if "read" not in channel and "write" not in channel:
            return
        name, kind, relay = channel.get("id", "?"), channel.get("kind"), channel.get("relay")
        members = [m for _, m in _str_list(channel.get("members")) if m in self.team_ids]
        if kind == "broadcast":
            seeing = list(self.team_ids)
        else:
            seeing = members + (
                [relay] if kind == "relay" and isinstance(relay, str) and relay in self.team_ids else []
            )
        minimum = _whole(channel.get("min_authority", 1))
        known = sorted(self.team_of)
        named: dict[str, list[str]] = {"read": [], "write": []}
        for field in ("write", "read"):
            value = channel.get(field)
            if not isinstance(value, list):
                continue
            self.twice(path + (field,), value, field, "position ")
            for i, position in _str_list(value):
                where = path + (field, i)
                team = self.team_of.get(position)
                if team is None:
                    self.at(where, f"unknown position '{position}' in '{field}' (positions: {_listing(known)})")
                    continue
                named[field].append(position)
                if field == "write" and team not in members:
                    self.at(
                        where,
                        f"position '{position}' belongs to team '{team}', which is not a member of channel "
                        f"'{name}' (members: {_listing(members)}): only members write",
                    )
                elif field == "write" and minimum is not None and self.authority.get(position, minimum) < minimum:
                    self.at(
                        where,
                        f"position '{position}' has authority {self.authority.get(position)}, below the "
                        f"min_authority {minimum} of channel '{name}'",
                    )
                elif field == "read" and team not in seeing:
                    self.at(
                        where,
                        f"position '{position}' belongs to team '{team}', which cannot see channel '{name}' "
                        f"(teams that can: {_listing(seeing)})",
                    )
        restricted = "write" if isinstance(channel.get("write"), list) else "read"
        if not isinstance(channel.get(restricted), list):
            return
        writers = named[restricted]
        for member in members:
            if not any(self.team_of.get(p) == member for p in writers):
                self.at(
                    path + (restricted,),
                    f"member team '{member}' has no position in '{restricted}', so it could not write on "
                    f"channel '{name}' (name one of its positions, or take it out of 'members')",
                )
        relay_reads = any(self.team_of.get(p) == relay for p in named["read"])
        if kind == "relay" and isinstance(channel.get("read"), list) and relay in self.team_ids and not relay_reads:
            self.at(
                path + ("read",),
                f"no position of relay team '{relay}' is in 'read': the intermediary could not see "
                f"what to pass on channel '{name}'",
            )

    # --- moves, personas, escalation, hotwash ------------------------------------------------

    def check_moves(self) -> None:
        data = self.data
        entries = _items(data, "moves")
        self.unique("move", [(("moves", i), m) for i, m in entries])
        if "moves" in data and "scenario" in data:
            self.at_key(
                ("scenario",),
                "'scenario' cannot go with 'moves': each move sets its own scenario_start and time_scale",
            )
        duration = data.get("duration", "60m")
        length = _seconds(duration, parse_duration) if isinstance(duration, str) else None
        dated = bool(entries) and entries[0][0] == 0 and "scenario_start" in entries[0][1]
        previous: tuple[str, int] | None = None
        for i, move in entries:
            path = ("moves", i)
            ident = move.get("id", "?")
            at = _seconds(move.get("at"), parse_offset) if "at" in move else None
            if i == 0:
                if at is not None and at != 0:
                    self.at(path + ("at",), 'the first move starts at "+00:00", the start of the exercise')
                if move.get("stop_clock") is True:
                    self.at(path + ("stop_clock",), "the first move cannot stop the clock: the exercise starts with it")
            if not dated:
                for key in ("scenario_start", "time_scale") if i else ("time_scale",):
                    if key in move:
                        self.at_key(
                            path + (key,),
                            f"'{key}' needs a scenario date: give the first move a scenario_start "
                            "(without one, no move has a scenario clock)",
                        )
            if at is None:
                continue
            if previous is not None and at <= previous[1]:
                self.at(
                    path + ("at",),
                    f"move '{ident}' starts at {format_offset(at)}, not after move '{previous[0]}' at "
                    f"{format_offset(previous[1])}: list moves in order of time",
                )
                continue
            if length is not None and at >= length and i > 0:
                self.at(
                    path + ("at",),
                    f"move '{ident}' starts at {format_offset(at)}, when the exercise is over "
                    f"(duration {format_duration(length)})",
                )
            previous = (ident if isinstance(ident, str) else "?", at)
            if isinstance(ident, str):
                self.moves.append((ident, at))

    def check_personas(self) -> None:
        entries = _items(self.data, "personas")
        self.unique("persona", [(("personas", i), p) for i, p in entries])
        for i, persona in entries:
            self.ref(("personas", i, "team"), persona.get("team"), self.team_ids, "team", "team")

    def check_escalation(self) -> None:
        escalation = self.data.get("escalation")
        if not isinstance(escalation, dict):
            return
        seen: dict[int, int] = {}
        highest: int | None = None
        for i, rung in _items(escalation, "rungs"):
            level = _whole(rung.get("level"))
            if level is None:
                continue
            where = ("escalation", "rungs", i, "level")
            if level in seen:
                first = self.positions.value(("escalation", "rungs", seen[level], "level"))
                self.at(where, f"duplicate rung level {level} (first at line {first.line})")
                continue
            if highest is not None and level < highest:
                self.at(where, f"rungs go from the lowest level up: level {level} comes after level {highest}")
            seen[level] = i
            highest = level if highest is None else max(highest, level)

    def check_hotwash(self) -> None:
        hotwash = self.data.get("hotwash")
        if isinstance(hotwash, dict):
            self.unique("question", [(("hotwash", "questions", i), q) for i, q in _items(hotwash, "questions")])

    def check_key_questions(self) -> None:
        """`key_questions` (format 2): unique ids; a choice has options and its truth is one of them;
        a position's truth is "LAT, LON"; a number's truth is a number; `ask_at` names injects and
        `teams` names teams."""
        entries = _items(self.data, "key_questions")
        self.unique("key question", [(("key_questions", i), q) for i, q in entries])
        injects = list(getattr(self, "injects", {}))
        for i, question in entries:
            where = ("key_questions", i)
            kind, truth, options = question.get("kind", "choice"), question.get("truth"), question.get("options")
            labels = [o for _, o in _str_list(options)] if isinstance(options, list) else []
            if kind == "choice" and len(labels) < 2:
                self.at(where, "a 'choice' key question needs at least two 'options'")
            if kind != "choice" and options:
                self.at_key(where + ("options",), f"'options' are for 'choice' key questions (this one is '{kind}')")
            self.twice(where + ("options",), options, "options", "option ")
            if truth is None:
                pass
            elif kind == "choice" and labels and truth not in labels:
                self.at(where + ("truth",), f"the truth '{truth}' is not one of the options ({_listing(labels)})")
            elif kind == "number" and (isinstance(truth, bool) or not isinstance(truth, (int, float))):
                self.at(where + ("truth",), "the truth of a 'number' key question is a number")
            elif kind == "position" and parse_position(truth) is None:
                self.at(where + ("truth",), "the truth of a 'position' key question is \"LAT, LON\" in decimal degrees")
            self.refs(where + ("ask_at",), question.get("ask_at"), injects, "inject", "ask_at")
            self.refs(where + ("teams",), question.get("teams"), self.team_ids, "team", "teams")

    # --- injects -----------------------------------------------------------------------------

    def inject(self, path: Path_, inject: dict[str, Any], objectives: list[str]) -> None:
        team_ids = self.team_ids
        choice = "choose" in inject
        if "to" not in inject and not choice:
            self.at(path, "missing required field 'to'")
        to = inject.get("to")
        targets = _str_list(to)
        if any(t == "all" for _, t in targets):
            if len(targets) > 1:
                self.at(path + ("to",), "'all' cannot be combined with team ids in 'to'")
            recipients = team_ids
        else:
            self.refs(path + ("to",), to, team_ids, "team", "to", extra=", or all")
            recipients = [t for _, t in targets]
            seen_to: set[str] = set()
            for i, target in targets:
                if target in seen_to:
                    self.at(path + ("to", i) if i >= 0 else path + ("to",), f"team '{target}' is named twice in 'to'")
                seen_to.add(target)
        if "at" in inject and "trigger" in inject:
            self.at_key(
                path + ("trigger",), "an inject cannot have both 'at' and 'trigger': it is either timed or triggered"
            )
        if "when" in inject:
            for other, kind in (("at", "timed"), ("trigger", "triggered")):
                if other in inject:
                    self.at_key(
                        path + ("when",),
                        f"an inject cannot have both '{other}' and 'when': it is either {kind} or conditional",
                    )
        if "delay" in inject and "trigger" not in inject and "when" not in inject:
            self.at_key(
                path + ("delay",), "'delay' applies only to triggered injects (a timed inject sets its time with 'at')"
            )
        self.refs(path + ("objectives",), inject.get("objectives"), objectives, "objective", "objectives")
        trigger = inject.get("trigger")
        if isinstance(trigger, dict):
            self.trigger(path + ("trigger",), trigger)
        decision = inject.get("decision")
        if isinstance(decision, dict):
            self.decision(path + ("decision",), decision, recipients)
        for k, effect in _items(inject, "effects"):
            self.effect(path + ("effects", k), effect)
        for k, name in _str_list(inject.get("attachments")):
            try:
                resolve_attachment(name, self.script_dir, self.library)
            except PathRefused as exc:
                self.at(path + ("attachments", k) if k >= 0 else path + ("attachments",), str(exc))
        self.inject_move(path, inject)
        self.bot_lines(path, inject, recipients)
        for key in ("when", "unless"):
            if key in inject:
                self.condition(path + (key,), inject[key], 1)
        if choice:
            ident = inject.get("id", "?")
            for key in CHOICE_CONTENT:
                if key in inject:
                    self.at_key(
                        path + (key,),
                        f"'{key}' does not apply to a choice: inject '{ident}' releases one of its alternatives, "
                        "which carry their own content",
                    )

    def bot_lines(self, path: Path_, inject: dict[str, Any], recipients: list[str]) -> None:
        """`rehearsal:` (format 2): each line's team receives the inject, its channel exists and that
        team may use it, its option is an option of the inject's decision."""
        lines = inject.get("rehearsal")
        if not isinstance(lines, list):
            return
        decision = inject.get("decision")
        options = (
            [o["id"] for _, o in _items(decision, "options") if isinstance(o.get("id"), str)]
            if isinstance(decision, dict)
            else []
        )
        for k, line in enumerate(lines):
            if not isinstance(line, dict):
                continue
            where = path + ("rehearsal", k)
            team, channel, option = line.get("team"), line.get("channel"), line.get("option")
            if isinstance(team, str):
                if team not in self.team_ids:
                    self.at(where + ("team",), f"unknown team '{team}' in 'team' (teams: {_listing(self.team_ids)})")
                elif recipients and team not in recipients:
                    self.at(
                        where + ("team",),
                        f"team '{team}' does not receive this inject ({', '.join(recipients)}): its bots never say it",
                    )
            if isinstance(channel, str) and channel != TEAM_CHANNEL:
                known = [TEAM_CHANNEL, *self.channels]
                if channel not in self.channels:
                    self.at(
                        where + ("channel",), f"unknown channel '{channel}' in 'channel' (channels: {_listing(known)})"
                    )
                else:
                    members = [m for _, m in _str_list(self.channels[channel].get("members"))]
                    if isinstance(team, str) and team in self.team_ids and team not in members:
                        self.at(
                            where + ("channel",),
                            f"team '{team}' cannot write on channel '{channel}' (members: {_listing(members)})",
                        )
            if isinstance(option, str):
                if not options:
                    self.at(where + ("option",), "'option' names a rationale for a decision, and this inject has none")
                elif option not in options:
                    self.at(where + ("option",), f"unknown option '{option}' (options: {_listing(options)})")
                if channel is not None:
                    self.at_key(
                        where + ("channel",), "a rationale ('option') is given with the decision, on no channel"
                    )

    def effect(self, path: Path_, effect: dict[str, Any]) -> None:
        kinds = ("jam", "escalation") if self.format == 1 else ("jam", "escalation", "channel")
        words = " or ".join(f"'{k}'" for k in kinds) if len(kinds) == 2 else "'jam', 'escalation' or 'channel'"
        if len([key for key in kinds if key in effect]) > 1:
            self.at(path, f"each effect is one of {words}: write them as two effects")
        elif not effect:
            self.at(path, f"an empty effect: expected {words}")
        channels = list(self.channels)
        jam = effect.get("jam")
        if isinstance(jam, dict) and isinstance(jam.get("channel"), str) and jam["channel"] not in channels:
            self.at(
                path + ("jam", "channel"),
                f"unknown channel '{jam['channel']}' in 'jam' (channels: {_listing(channels)})",
            )
        change = effect.get("channel")
        if isinstance(change, dict):
            self.ref(path + ("channel", "id"), change.get("id"), channels, "channel", "channel")

    def inject_move(self, path: Path_, inject: dict[str, Any]) -> None:
        move = inject.get("move")
        if not isinstance(move, str):
            return
        names: list[str] = [m for m, _ in self.moves] or [
            n for _, m in _items(self.data, "moves") if isinstance(n := m.get("id"), str)
        ]
        if not self.ref(path + ("move",), move, names, "move", "move"):
            return
        at = _seconds(inject.get("at"), parse_offset) if "at" in inject else None
        if at is None or not self.moves:
            return
        actual = self.moves[0]
        for entry in self.moves:
            if entry[1] <= at:
                actual = entry
        if actual[0] != move:
            starts = dict(self.moves)
            declared = f" (from {format_offset(starts[move])})" if move in starts else ""
            self.at(
                path + ("move",),
                f"inject at {format_offset(at)} falls in move '{actual[0]}' (from {format_offset(actual[1])}), "
                f"not in move '{move}'{declared}",
            )

    def trigger(self, path: Path_, trigger: dict[str, Any]) -> None:
        injects = self.injects
        source_decision, option, source_inject = trigger.get("decision"), trigger.get("option"), trigger.get("inject")
        if source_decision is not None and source_inject is not None:
            self.at(path, "a trigger is either {decision: ID, option: ID} or {inject: ID}, not both")
            return
        if source_decision is None and source_inject is None:
            self.at(path, "a trigger needs {decision: ID, option: ID} or {inject: ID}")
            return
        if source_inject is not None:
            if option is not None:
                self.at_key(path + ("option",), "'option' goes with 'decision', not with 'inject'")
            if isinstance(source_inject, str) and source_inject not in injects:
                self.at(
                    path + ("inject",),
                    f"unknown inject '{source_inject}' in 'trigger' (injects: {_listing(list(injects))})",
                )
            return
        self.decision_option(path, source_decision, option, "trigger", "a decision trigger")

    def decision_option(self, path: Path_, source: Any, option: Any, field: str, what: str) -> None:
        """`{decision: INJECT, option: OPTION}` of a trigger or an `option` condition."""
        injects = self.injects
        if not isinstance(source, str):
            return
        if source not in injects:
            known = _listing(list(injects))
            self.at(path + ("decision",), f"unknown inject '{source}' in '{field}' (injects: {known})")
            return
        decision = injects[source].get("decision")
        with_decisions = [i for i, j in injects.items() if isinstance(j.get("decision"), dict)]
        if not isinstance(decision, dict):
            self.at(
                path + ("decision",),
                f"inject '{source}' asks for no decision (injects with decisions: {_listing(with_decisions)})",
            )
            return
        options = [o["id"] for _, o in _items(decision, "options") if isinstance(o.get("id"), str)]
        if option is None and field == "trigger":  # an option condition without one: the model says so
            self.at(path, f"{what} needs 'option' (options of '{source}': {_listing(options)})")
        elif isinstance(option, str) and option not in options:
            self.at(
                path + ("option",),
                f"unknown option '{option}' of decision '{source}' (options: {_listing(options)})",
            )

    def decision(self, path: Path_, decision: dict[str, Any], recipients: list[str]) -> None:
        options = self.unique("option", [(path + ("options", i), o) for i, o in _items(decision, "options")])
        default = decision.get("default")
        if isinstance(default, str) and default not in options:
            self.at(path + ("default",), f"default '{default}' is not one of the options ({_listing(list(options))})")
        for i, position in _str_list(decision.get("by")):
            where = path + ("by",) if i < 0 else path + ("by", i)
            team = self.team_of.get(position)
            if team is None:
                self.at(where, f"unknown position '{position}' in 'by' (positions: {_listing(sorted(self.team_of))})")
            elif recipients and team not in recipients:
                self.at(
                    where,
                    f"position '{position}' belongs to team '{team}', "
                    f"which this inject does not go to ({', '.join(recipients)})",
                )

    # --- conditions --------------------------------------------------------------------------

    def condition(self, path: Path_, condition: Any, depth: int) -> None:
        if not isinstance(condition, dict):
            return
        if depth > MAX_CONDITION_DEPTH:
            self.at(path, f"conditions nest at most {MAX_CONDITION_DEPTH} levels deep (all: and any: in each other)")
            return
        kinds = [k for k in condition if k in CONDITION_KINDS]
        if not condition:
            self.at(path, f"an empty condition: expected one of {', '.join(CONDITION_KINDS)}")
            return
        if len(kinds) > 1:
            found = " and ".join(f"'{k}'" for k in kinds)
            self.at(path, f"a condition has one kind, found {found}: combine them with all: [...] or any: [...]")
            return
        if not kinds:
            return  # unknown fields only: reported by the model
        kind = kinds[0]
        value = condition[kind]
        where = path + (kind,)
        if kind in ("all", "any"):
            if isinstance(value, list):
                for n, part in enumerate(value):
                    self.condition(where + (n,), part, depth + 1)
            return
        if not isinstance(value, dict):
            return
        injects = list(self.injects)
        if kind == "no_message":
            self.no_message(where, value)
        elif kind == "no_ack":
            if self.ref(where + ("inject",), value.get("inject"), injects, "inject", "no_ack"):
                target = self.injects[value["inject"]]
                if target.get("ack") is not True:
                    self.at(
                        where + ("inject",),
                        f"inject '{value['inject']}' does not ask for an acknowledgement (give it ack: true)",
                    )
                team = value.get("team")
                if self.ref(where + ("team",), team, self.team_ids, "team", "no_ack"):
                    to = [t for _, t in _str_list(target.get("to"))]
                    if "all" not in to and team not in to:
                        self.at(
                            where + ("team",),
                            f"team '{team}' does not receive inject '{value['inject']}' (it goes to {_listing(to)})",
                        )
        elif kind == "no_decision":
            if self.ref(where + ("inject",), value.get("inject"), injects, "inject", "no_decision"):
                ident = value["inject"]
                decision = self.injects[ident].get("decision")
                if not isinstance(decision, dict):
                    with_decisions = [i for i, j in self.injects.items() if isinstance(j.get("decision"), dict)]
                    self.at(
                        where + ("inject",),
                        f"inject '{ident}' asks for no decision (injects with decisions: {_listing(with_decisions)})",
                    )
                elif "default" in decision and isinstance(decision.get("deadline"), str):
                    deadline = _seconds(decision["deadline"], parse_duration)
                    within = _seconds(value.get("within"), parse_duration)
                    if deadline is not None and within is not None and within >= deadline:
                        self.at(
                            where + ("within",),
                            f"the decision of '{ident}' takes its default after {format_duration(deadline)}: "
                            f"'no decision within {format_duration(within)}' could never hold",
                        )
        elif kind == "escalation":
            low, high = _whole(value.get("at_least")), _whole(value.get("at_most"))
            if "at_least" not in value and "at_most" not in value:
                self.at(where, "an escalation condition needs at_least, at_most or both")
            elif low is not None and high is not None and low > high:
                self.at(where, f"at_least {low} is above at_most {high}: no level could hold")
        elif kind == "option":
            self.decision_option(where, value.get("decision"), value.get("option"), "option", "an option condition")

    def no_message(self, path: Path_, value: dict[str, Any]) -> None:
        team, channel = value.get("team"), value.get("channel")
        known_team = self.ref(path + ("team",), team, self.team_ids, "team", "no_message")
        if (
            self.ref(path + ("channel",), channel, self.channels, "channel", "no_message")
            and known_team
            and isinstance(channel, str)
        ):
            spec = self.channels[channel]
            members = [m for _, m in _str_list(spec.get("members"))]
            relay = spec.get("relay") if spec.get("kind") == "relay" else None
            if team not in members and team != relay:
                also = f"; relay: {relay}" if isinstance(relay, str) else ""
                self.at(
                    path + ("team",),
                    f"team '{team}' does not write on channel '{channel}' (members: {_listing(members)}{also})",
                )
        if "after" in value:
            self.ref(path + ("after",), value.get("after"), list(self.injects), "inject", "no_message")

    # --- choices and cycles ------------------------------------------------------------------

    def choices(self) -> None:
        """`choose`: entries of the right shape, alternatives that exist, are released by nothing else,
        and belong to one choice."""
        owner: dict[str, tuple[str, Path_]] = {}
        for i, inject in _items(self.data, "injects"):
            entries = inject.get("choose")
            if not isinstance(entries, list):
                continue
            slot = inject.get("id", "?")
            path = ("injects", i, "choose")
            if entries and not any(isinstance(e, dict) and "otherwise" not in e for e in entries):
                self.at(path, "a choice needs at least one {when: CONDITION, inject: ID} entry before 'otherwise'")
            for n, entry in enumerate(entries):
                if not isinstance(entry, dict):
                    continue
                where = path + (n,)
                if "otherwise" in entry:
                    if "when" in entry or "inject" in entry:
                        self.at(where, "an 'otherwise' entry stands alone: {otherwise: ID}")
                    elif n != len(entries) - 1:
                        self.at(where, "'otherwise' comes last in 'choose'")
                    key = "otherwise"
                elif "when" not in entry or "inject" not in entry:
                    self.at(where, "a choice entry needs 'when' and 'inject' (or is {otherwise: ID}, last)")
                    key = "inject"
                else:
                    self.condition(where + ("when",), entry["when"], 1)
                    key = "inject"
                target = entry.get(key)
                if not isinstance(target, str):
                    continue
                if not self.ref(where + (key,), target, list(self.injects), "inject", "choose"):
                    continue
                if target == slot:
                    self.at(where + (key,), f"choice '{slot}' cannot release itself")
                    continue
                if target in owner:
                    first = self.positions.value(owner[target][1])
                    self.at(
                        where + (key,),
                        f"inject '{target}' is already an alternative of '{owner[target][0]}' (line {first.line})",
                    )
                    continue
                owner[target] = (slot, where + (key,))
                alternative = self.injects[target]
                if "choose" in alternative:
                    self.at(where + (key,), f"inject '{target}' is itself a choice: choices do not nest")
                own = [k for k in RELEASE_KEYS if k in alternative]
                if own:
                    self.at(
                        where + (key,),
                        f"inject '{target}' has its own '{own[0]}': an alternative is released only by its choice",
                    )

    def cycles(self) -> None:
        """No inject may wait, through triggers, conditions or choices, on itself."""
        index: dict[str, int] = {}
        for i, inject in _items(self.data, "injects"):
            if isinstance(inject.get("id"), str):
                index.setdefault(inject["id"], i)
        edges: dict[str, list[tuple[str, str]]] = {}  # inject -> [(what it waits for, through which field)]
        for ident, inject in self.injects.items():
            out: list[tuple[str, str]] = []
            trigger = inject.get("trigger")
            if isinstance(trigger, dict):
                parent = trigger.get("decision") if trigger.get("decision") is not None else trigger.get("inject")
                if isinstance(parent, str) and parent in self.injects:
                    out.append((parent, "trigger"))
            for ref in _condition_injects(inject.get("when")):
                if ref in self.injects:
                    out.append((ref, "when"))
            edges[ident] = out
        for ident, inject in self.injects.items():
            entries = inject.get("choose")
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    target = entry.get("inject", entry.get("otherwise"))
                    if (
                        isinstance(target, str)
                        and target != ident
                        and target in edges
                        and (ident, "choose") not in edges[target]
                    ):
                        edges[target].append((ident, "choose"))
        reported: set[str] = set()
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        for start in edges:
            if state.get(start):
                continue
            stack: list[tuple[str, int]] = [(start, 0)]
            path: list[str] = [start]
            fields: list[str] = []
            state[start] = 1
            while stack:
                node, k = stack[-1]
                if k >= len(edges[node]):
                    stack.pop()
                    path.pop()
                    if fields:
                        fields.pop()
                    state[node] = 2
                    continue
                stack[-1] = (node, k + 1)
                parent, field = edges[node][k]
                if state.get(parent) == 1:
                    at = path.index(parent)
                    loop = path[at:]
                    through = [*fields[at:], field]
                    if not reported.intersection(loop):
                        reported.update(loop)
                        kind = "trigger" if set(through) == {"trigger"} else "release"
                        text = " -> ".join([*loop, parent])
                        where = ("injects", index[parent], through[0] if through[0] != "choose" else "id")
                        self.at(where, f"{kind} cycle: {text} (none of them could ever be released)")
                    continue
                if state.get(parent) == 2:
                    continue
                state[parent] = 1
                stack.append((parent, 0))
                path.append(parent)
                fields.append(field)


def _condition_injects(condition: Any, depth: int = 0) -> list[str]:
    """The inject ids a raw condition refers to (bounded depth; wrong shapes skipped)."""
    if not isinstance(condition, dict) or depth > MAX_CONDITION_DEPTH:
        return []
    found: list[str] = []
    for kind, value in condition.items():
        if kind in ("all", "any") and isinstance(value, list):
            for part in value:
                found.extend(_condition_injects(part, depth + 1))
        elif isinstance(value, dict):
            key = {"no_message": "after", "no_ack": "inject", "no_decision": "inject", "option": "decision"}.get(kind)
            if key and isinstance(value.get(key), str):
                found.append(value[key])
    return found
