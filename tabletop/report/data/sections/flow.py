"""What passed between the teams (issue 12): every message on a channel other than a team chat, who it
was for, when it reached them and with what text. The sponsor's sections read this, not the raw log.

- *the line*: a relay channel whose intermediary is a team (not control);
- *a side*: a team that is not an intermediary; the *other side* of a message: the sides it was for,
  other than the sender's;
- a message *arrives* when its readers get it: at once for a plain message, at its delivery after a
  relay or a channel delay, never when it was declined, jammed or is still waiting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from tabletop.engine import events as ev
from tabletop.engine.access import entry_team
from tabletop.engine.state import relay_status
from tabletop.script import Exercise
from tabletop.script.models import TEAM_CHANNEL

from ..log import ReportLog
from ..names import Names


@dataclass(frozen=True)
class Passage:
    seq: int
    t: float  # when it was written
    channel: str
    channel_name: str
    from_team: str  # "control" for control's own; a persona's team for a persona's post
    from_position: str | None
    name: str
    text: str
    to: tuple[str, ...]  # the teams it was for, other than the sender's
    arrived: float | None  # when it reached them
    forwarded: str  # the text as it arrived ("" when it did not)
    relay: str | None  # the intermediary team, `control`, or None
    status: str  # delivered | forwarded | edited | declined | waiting | jammed | in transit
    actor: int | None  # the writer's participant id
    spoofed: bool = False  # control wrote it as another team
    persona: bool = False  # control posted it as a persona
    relayer: int | None = None  # participant id of who forwarded, edited or declined it
    relayed_by: str = ""  # their name
    held: bool = False  # held before it was decided


@dataclass(frozen=True)
class Flow:
    passages: tuple[Passage, ...]  # in log order
    sides: frozenset[str]  # teams that are not intermediaries
    intermediaries: frozenset[str]
    line: frozenset[str]  # channel ids of the line (relay channels of an intermediary team)
    broadcast: frozenset[str]
    kinds: Mapping[str, str]  # channel id -> kind (direct, relay, broadcast)

    def who(self, p: Passage, names: Names) -> str:
        """`Reza (IRGC Navy commander), Iran`."""
        if p.persona:
            return f"{p.name} (persona), {names.team(p.from_team) or 'no team'}"
        person = names.person(p.name, p.from_position, p.from_team)
        team = names.team(p.from_team)
        spoof = " [spoofed by control]" if p.spoofed else ""
        return (f"{person}, {team}" if team and team != person else person) + spoof

    def genuine(self, p: Passage) -> bool:
        """Written by a side's own player (not a spoof, not a persona, not control)."""
        return p.from_team in self.sides and not p.spoofed and not p.persona


def flow(exercise: Exercise, log: ReportLog, names: Names) -> Flow:
    teams = [t.id for t in exercise.teams]
    intermediaries = frozenset(t.id for t in exercise.teams if t.intermediary)
    sides = frozenset(t for t in teams if t not in intermediaries)
    kinds = {c.id: c.kind for c in exercise.channels}
    line = frozenset(c.id for c in exercise.channels if c.kind == "relay" and c.relay and c.relay != "control")
    broadcast = frozenset(c.id for c in exercise.channels if c.kind == "broadcast")
    passages: list[Passage] = []
    for x in log.exchanges:
        p = x.p
        if p.channel == TEAM_CHANNEL:
            continue
        base = Passage(
            seq=x.seq,
            t=x.t,
            channel=p.channel,
            channel_name=names.channel(p.channel),
            from_team=p.from_team or "",
            from_position=p.from_position,
            name=p.name,
            text=p.text,
            to=(),
            arrived=None,
            forwarded="",
            relay=None,
            status="jammed",
            actor=x.event.actor,
        )
        if isinstance(p, ev.MessageJammed):
            passages.append(base)
        elif isinstance(p, ev.Message):
            readers = _teams(x.event.audience, teams)
            to = tuple(t for t in readers if t != p.from_team)
            passages.append(replace(base, to=to, arrived=x.t, forwarded=p.text, status="delivered", spoofed=p.spoofed))
        else:
            actions = log.relay_actions.get(x.seq, [])
            final = next((a for a in reversed(actions) if a.p.action != "hold"), None)
            arrived = log.deliveries.get(x.seq)
            text = p.text
            status = "delivered" if arrived is not None else ("waiting" if p.relay else "in transit")
            if final is not None:  # what the relay actions came to is the engine's rule, as in section 5
                status = relay_status(final.p)
                if status != "declined":
                    text = final.p.text if final.p.text is not None else p.text
            listed = teams if ev.ALL in p.to else (p.to or _members(exercise, p.channel))
            to = tuple(t for t in listed if t != p.from_team)
            passages.append(
                replace(
                    base,
                    to=to,
                    arrived=arrived if status != "declined" else None,
                    forwarded=text if arrived is not None else "",
                    relay=p.relay,
                    status=status,
                    relayer=final.event.actor if final is not None else None,
                    relayed_by=final.p.by if final is not None else "",
                    held=any(a.p.action == "hold" for a in actions),
                )
            )
    for y in log.persona_posts:
        passages.append(
            Passage(
                seq=y.seq,
                t=y.t,
                channel=y.p.channel,
                channel_name=names.channel(y.p.channel),
                from_team=y.p.team or "control",
                from_position=None,
                name=y.p.name,
                text=y.p.text,
                to=tuple(t for t in teams if t != y.p.team),
                arrived=y.t,
                forwarded=y.p.text,
                relay=None,
                status="delivered",
                actor=None,
                persona=True,
            )
        )
    passages.sort(key=lambda p: p.seq)
    return Flow(tuple(passages), sides, intermediaries, line, broadcast, kinds)


def _teams(audience: tuple[str, ...], teams: list[str]) -> tuple[str, ...]:
    if ev.ALL in audience:
        return tuple(teams)
    return tuple(dict.fromkeys(entry_team(a) for a in audience if a))


def _members(exercise: Exercise, channel: str) -> tuple[str, ...]:
    try:
        return exercise.channel(channel).members
    except KeyError:
        return ()
