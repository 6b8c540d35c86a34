"""Every exchange with what became of it, and every message through an intermediary."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from tabletop.engine import events as ev
from tabletop.engine.state import relay_outcome
from tabletop.script.models import TEAM_CHANNEL
from tabletop.script.times import format_log_offset, format_span

from ..log import Exchange, Logged, ReportLog
from ..models import Message, RelayItem, Segment
from ..names import Names
from ..text import direction, marked_diff


@dataclass(frozen=True)
class Exchanges:
    messages: tuple[Message, ...]
    relays: tuple[RelayItem, ...]
    relay_counts: Counter[str]  # outcome -> messages; `held` counts those held at some point
    sent_by_team: dict[str, list[float]]  # team -> times of its messages that went out, in order


def exchanges(log: ReportLog, names: Names) -> Exchanges:
    messages: list[Message] = []
    relays: list[RelayItem] = []
    counts: Counter[str] = Counter()
    sent: dict[str, list[float]] = defaultdict(list)
    for x in log.exchanges:
        actions = log.relay_actions.get(x.seq, [])
        status = message_status(x, actions, log.deliveries)
        messages.append(message(x, status, names))
        p = x.p
        if p.from_team and not isinstance(p, ev.MessageJammed) and not (isinstance(p, ev.Message) and p.spoofed):
            sent[p.from_team].append(x.t)
        if isinstance(p, ev.MessageSent) and p.relay:
            relays.append(relay_item(Logged(x.event, p), actions, names, status))
            counts[status] += 1
            if any(a.p.action == "hold" for a in actions):
                counts["held"] += 1
    for times in sent.values():
        times.sort()
    return Exchanges(tuple(messages), tuple(relays), counts, dict(sent))


def message_status(x: Logged[Exchange], actions: list[Logged[ev.MessageRelayed]], deliveries: dict[int, float]) -> str:
    """delivered | forwarded | edited | held | declined | waiting | jammed | in transit.

    What the relay actions came to is the engine's rule (`relay_outcome`).
    """
    p = x.p
    if isinstance(p, ev.MessageJammed):
        return "jammed"
    if isinstance(p, ev.Message):
        return "delivered"
    outcome = relay_outcome(a.p for a in actions)
    if outcome is not None:
        return outcome
    if p.relay:
        return "waiting"
    return "delivered" if x.seq in deliveries else "in transit"


def message(x: Logged[Exchange], status: str, names: Names) -> Message:
    p = x.p
    chat = p.team if isinstance(p, ev.Message) else None  # whose team chat
    key = f"team:{chat}" if p.channel == TEAM_CHANNEL else p.channel
    sender = names.person(p.name, p.from_position, p.from_team)
    return Message(
        seq=x.seq,
        t=x.t,
        time=format_log_offset(x.t),
        channel=key,
        channel_name=names.channel(p.channel, chat),
        from_team=p.from_team or "",
        from_team_name=names.team(p.from_team),
        sender=sender,
        name=p.name or sender,
        text=p.text,
        dir=direction(p.text),
        status=status,
        spoofed=isinstance(p, ev.Message) and p.spoofed,
        to=", ".join(names.team(t) for t in p.to if t != ev.ALL) if isinstance(p, ev.MessageSent) else "",
    )


def relay_item(
    x: Logged[ev.MessageSent], actions: list[Logged[ev.MessageRelayed]], names: Names, status: str
) -> RelayItem:
    """A message through an intermediary: the original beside what was forwarded, and how long it took."""
    p = x.p
    final = next((a for a in reversed(actions) if a.p.action != "hold"), None)
    holds = [a for a in actions if a.p.action == "hold"]
    forwarded = ""
    left: tuple[Segment, ...] = ()
    right: tuple[Segment, ...] = ()
    if final is not None and final.p.action in ("forward", "edit"):
        forwarded = final.p.text if final.p.text is not None else p.text
        if status == "edited":
            left, right = marked_diff(p.text, forwarded)
    waited_s = final.t - x.t if final is not None else None
    held_for = ""
    if holds:
        held_for = format_span(final.t - holds[0].t) if final is not None else "never released"
    sender = names.person(p.name, p.from_position, p.from_team)
    return RelayItem(
        seq=x.seq,
        channel_name=names.channel(p.channel),
        relay_team=names.team(p.relay),
        from_team_name=names.team(p.from_team),
        to_names=", ".join(names.team(t) for t in p.to),
        sender=sender,
        name=p.name or sender,
        time=format_log_offset(x.t),
        t=x.t,
        outcome=status if status in ("forwarded", "edited", "declined") else "waiting",
        held=bool(holds),
        held_for=held_for,
        waited=format_span(waited_s) if waited_s is not None else "still waiting at the end",
        waited_s=waited_s,
        by=final.p.by if final is not None else "",
        original=p.text,
        original_dir=direction(p.text),
        forwarded=forwarded,
        forwarded_dir=direction(forwarded) if forwarded else "ltr",
        original_marked=left,
        forwarded_marked=right,
    )
