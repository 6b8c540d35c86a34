"""Rules that span several fields of a script: ids, references, relays, triggers, files.

They run on the plain data read from YAML (not on the models), so that every problem of a file
is found in one pass even when some parts do not have the right shape: anything of the wrong
type is skipped here, since the model validation already reports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import Problem
from .paths import PathRefused, resolve_attachment
from .yamlsrc import Path_, Positions


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


class Checker:
    def __init__(self, data: dict[str, Any], positions: Positions, script_dir: Path, library: Path) -> None:
        self.data = data
        self.positions = positions
        self.script_dir = script_dir
        self.library = library
        self.problems: list[Problem] = []

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

    def run(self) -> list[Problem]:
        data = self.data
        teams = self.unique("team", [(("teams", i), t) for i, t in _items(data, "teams")])
        for i, team in _items(data, "teams"):
            if team.get("id") in ("all", "control"):
                self.at(("teams", i, "id"), f"'{team['id']}' is a reserved word and cannot be a team id")
        team_ids = list(teams)
        positions: list[tuple[Path_, dict[str, Any]]] = []
        team_of: dict[str, str] = {}
        for i, team in _items(data, "teams"):
            for j, pos in _items(team, "positions"):
                positions.append((("teams", i, "positions", j), pos))
                if isinstance(pos.get("id"), str) and isinstance(team.get("id"), str):
                    team_of.setdefault(pos["id"], team["id"])
        self.unique("position", positions)
        objectives = list(self.unique("objective", [(("objectives", i), o) for i, o in _items(data, "objectives")]))
        channels = list(self.unique("channel", [(("channels", i), c) for i, c in _items(data, "channels")]))
        for i, channel in _items(data, "channels"):
            self.channel(("channels", i), channel, team_ids)
        injects = self.unique("inject", [(("injects", i), j) for i, j in _items(data, "injects")])
        for i, inject in _items(data, "injects"):
            self.inject(("injects", i), inject, team_ids, team_of, channels, objectives, injects)
        self.cycles(injects)
        return self.problems

    def channel(self, path: Path_, channel: dict[str, Any], team_ids: list[str]) -> None:
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

    def inject(
        self,
        path: Path_,
        inject: dict[str, Any],
        team_ids: list[str],
        team_of: dict[str, str],
        channels: list[str],
        objectives: list[str],
        injects: dict[str, dict[str, Any]],
    ) -> None:
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
        if "delay" in inject and "trigger" not in inject:
            self.at_key(
                path + ("delay",), "'delay' applies only to triggered injects (a timed inject sets its time with 'at')"
            )
        self.refs(path + ("objectives",), inject.get("objectives"), objectives, "objective", "objectives")
        trigger = inject.get("trigger")
        if isinstance(trigger, dict):
            self.trigger(path + ("trigger",), trigger, injects)
        decision = inject.get("decision")
        if isinstance(decision, dict):
            self.decision(path + ("decision",), decision, team_of, recipients)
        effects = inject.get("effects")
        if isinstance(effects, list):
            for k, effect in enumerate(effects):
                if not isinstance(effect, dict):
                    continue
                if len([key for key in ("jam", "escalation") if key in effect]) > 1:
                    self.at(
                        path + ("effects", k), "each effect is one of 'jam' or 'escalation': write them as two effects"
                    )
                elif not effect:
                    self.at(path + ("effects", k), "an empty effect: expected 'jam' or 'escalation'")
                jam = effect.get("jam")
                if isinstance(jam, dict) and isinstance(jam.get("channel"), str) and jam["channel"] not in channels:
                    self.at(
                        path + ("effects", k, "jam", "channel"),
                        f"unknown channel '{jam['channel']}' in 'jam' (channels: {_listing(channels)})",
                    )
        for k, name in _str_list(inject.get("attachments")):
            try:
                resolve_attachment(name, self.script_dir, self.library)
            except PathRefused as exc:
                self.at(path + ("attachments", k) if k >= 0 else path + ("attachments",), str(exc))

    def trigger(self, path: Path_, trigger: dict[str, Any], injects: dict[str, dict[str, Any]]) -> None:
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
        if not isinstance(source_decision, str):
            return
        if source_decision not in injects:
            self.at(
                path + ("decision",),
                f"unknown inject '{source_decision}' in 'trigger' (injects: {_listing(list(injects))})",
            )
            return
        decision = injects[source_decision].get("decision")
        with_decisions = [i for i, j in injects.items() if isinstance(j.get("decision"), dict)]
        if not isinstance(decision, dict):
            self.at(
                path + ("decision",),
                f"inject '{source_decision}' asks for no decision (injects with decisions: {_listing(with_decisions)})",
            )
            return
        options = [o["id"] for _, o in _items(decision, "options") if isinstance(o.get("id"), str)]
        if option is None:
            self.at(path, f"a decision trigger needs 'option' (options of '{source_decision}': {_listing(options)})")
        elif isinstance(option, str) and option not in options:
            self.at(
                path + ("option",),
                f"unknown option '{option}' of decision '{source_decision}' (options: {_listing(options)})",
            )

    def decision(self, path: Path_, decision: dict[str, Any], team_of: dict[str, str], recipients: list[str]) -> None:
        options = self.unique("option", [(path + ("options", i), o) for i, o in _items(decision, "options")])
        default = decision.get("default")
        if isinstance(default, str) and default not in options:
            self.at(path + ("default",), f"default '{default}' is not one of the options ({_listing(list(options))})")
        for i, position in _str_list(decision.get("by")):
            where = path + ("by",) if i < 0 else path + ("by", i)
            team = team_of.get(position)
            if team is None:
                self.at(where, f"unknown position '{position}' in 'by' (positions: {_listing(sorted(team_of))})")
            elif recipients and team not in recipients:
                self.at(
                    where,
                    f"position '{position}' belongs to team '{team}', "
                    f"which this inject does not go to ({', '.join(recipients)})",
                )

    def cycles(self, injects: dict[str, dict[str, Any]]) -> None:
        source: dict[str, str] = {}
        for ident, inject in injects.items():
            trigger = inject.get("trigger")
            if isinstance(trigger, dict):
                parent = trigger.get("decision") if trigger.get("decision") is not None else trigger.get("inject")
                if isinstance(parent, str) and parent in injects:
                    source[ident] = parent
        reported: set[str] = set()
        for start in source:
            chain = [start]
            node = start
            while node in source:
                node = source[node]
                if node in chain:
                    loop = chain[chain.index(node) :]
                    if not reported.intersection(loop):
                        reported.update(loop)
                        index = next(i for i, (_, j) in enumerate(_items(self.data, "injects")) if j.get("id") == node)
                        text = " -> ".join([*loop, node])
                        self.at(
                            ("injects", index, "trigger"),
                            f"trigger cycle: {text} (none of them could ever be released)",
                        )
                    break
                chain.append(node)
