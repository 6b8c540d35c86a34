"""Messages per channel and team, one log per channel, and the traffic over time."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from tabletop.script import Exercise

from ..models import ChannelCount, ChannelLog, Message, Series
from ..names import Names
from ..text import anchor

BINS = 40  # traffic chart: points per channel


@dataclass(frozen=True)
class ChannelKey:
    key: str  # `team:<id>` for a team chat, else the channel id
    name: str
    kind: str  # team | direct | relay | broadcast | other (gone from the script)
    members: str


@dataclass(frozen=True)
class Channels:
    counts: tuple[ChannelCount, ...]
    logs: tuple[ChannelLog, ...]
    traffic: tuple[Series, ...]


def channels(exercise: Exercise, names: Names, messages: Sequence[Message], played: float) -> Channels:
    by_channel: dict[str, list[Message]] = defaultdict(list)
    for m in messages:
        by_channel[m.channel].append(m)
    keys = channel_keys(exercise, names, by_channel)
    teams = [*(t.id for t in exercise.teams), "control"]
    counts = []
    for c in keys:
        items = by_channel.get(c.key, [])
        per_team = Counter(m.from_team for m in items)
        counts.append(ChannelCount(c.key, c.name, c.kind, len(items), tuple((t, per_team.get(t, 0)) for t in teams)))
    logs = tuple(
        ChannelLog(anchor(c.key), c.name, c.kind, c.members, tuple(by_channel[c.key]))
        for c in keys
        if by_channel.get(c.key)
    )
    traffic = tuple(_traffic(c.name, by_channel[c.key], max(played, 60.0)) for c in keys if by_channel.get(c.key))
    return Channels(tuple(counts), logs, traffic)


def channel_keys(exercise: Exercise, names: Names, by_channel: dict[str, list[Message]]) -> list[ChannelKey]:
    """Team chats first, then the script's channels, then any channel the script no longer has."""
    keys = [ChannelKey(f"team:{t.id}", f"Team chat: {t.name}", "team", t.name) for t in exercise.teams]
    for c in exercise.channels:
        members = "all teams read" if c.kind == "broadcast" else ", ".join(names.team(m) for m in c.members)
        if c.kind == "relay":
            members += f"; relayed by {names.team(c.relay)}"
        keys.append(ChannelKey(c.id, c.name, c.kind, members))
    known = {c.key for c in keys}
    keys += [
        ChannelKey(key, items[0].channel_name, "other", "") for key, items in by_channel.items() if key not in known
    ]
    return keys


def _traffic(name: str, items: Sequence[Message], span: float) -> Series:
    width = span / BINS
    hist = [0] * BINS
    for m in items:
        hist[min(BINS - 1, int(m.t / width))] += 1
    return Series(name, tuple(((i + 0.5) * width, float(n)) for i, n in enumerate(hist)))
