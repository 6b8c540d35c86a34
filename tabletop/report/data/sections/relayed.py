"""What the relay changed and who talked to whom through it (issue 12).

- each edited message classified by the relay rules (`relaydiff.classify`), with what the receiving
  team did next (a read-back counts) and the intermediary's notes on it;
- figures per intermediary and per person: each message counted once, by what finally became of it
  (a held message later forwarded is a forward, held first); control's relay channels apart;
- rank pairing for every message through a relay: the sender's seat, the relayer's, the receiving
  seats (the positions of the receiving team that read the channel), and the mismatches against
  the script's channel rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from tabletop.script import Exercise
from tabletop.script.times import format_log_offset

from ..log import ReportLog
from ..models import RankPair, RelayFigures, RelayVerdict, Seat
from ..names import Names
from ..relaydiff import classify
from ..text import short
from .flow import Flow, Passage


def verdicts(log: ReportLog, names: Names, flow: Flow) -> tuple[RelayVerdict, ...]:
    found = []
    for p in flow.passages:
        if p.status != "edited":
            continue
        verdict = classify(p.text, p.forwarded)
        found.append(
            RelayVerdict(
                p.seq,
                format_log_offset(p.t),
                p.channel_name,
                names.team(p.relay),
                p.relayed_by,
                flow.who(p, names),
                verdict.kind if verdict.kind != "unchanged" else "cosmetic",
                tuple((h.rule, h.detail) for h in verdict.hits),
                next_act(log, names, flow, p),
            )
        )
    return tuple(found)


def next_act(log: ReportLog, names: Names, flow: Flow, p: Passage) -> str:
    """What the receiving team did first after the message reached it, and what the intermediary said of it.

    The receiving team's first act after the arrival is the earliest of: its read-back of this message
    (`message_read_back`), a message on a channel (not its team chat), a decision. Then the
    intermediary's notes (`relay_note`) are listed: those written about this message (to either side,
    any time), and those written, without naming a message, on the same channel to a receiving team
    between the arrival and the receiving team's act (what it read before it acted). docs/report.md,
    "What the receiver did next".
    """
    if p.arrived is None:
        return ""
    teams = set(p.to) & flow.sides
    acts: list[tuple[int, float, str]] = []  # (seq, t, what)
    wrote = next(
        (q for q in flow.passages if q.t >= p.arrived and q.seq > p.seq and q.from_team in teams and flow.genuine(q)),
        None,
    )
    if wrote is not None:
        acts.append((wrote.seq, wrote.t, f"{flow.who(wrote, names)} on {wrote.channel_name}: {short(wrote.text, 120)}"))
    decided = next(
        (d for d in log.decisions if d.t >= p.arrived and d.p.team in teams and not d.p.by_default),
        None,
    )
    if decided is not None:
        d = decided
        title = log.released[d.p.inject].p.title if d.p.inject in log.released else d.p.inject
        acts.append((d.seq, d.t, f"{names.team(d.p.team)} decided {title}: {d.p.label or 'no option'}"))
    read = next((r for r in log.read_backs.get(p.seq, ()) if r.p.team in teams), None)
    if read is not None:
        who = names.person(read.p.name, read.p.position, read.p.team)
        team = names.team(read.p.team)
        who = f"{who}, {team}" if team and team != who else who
        acts.append((read.seq, read.t, f"{who} read it back: {short(read.p.text, 120)}"))
    first = min(acts, default=None)
    said = f"{format_log_offset(first[1])} {first[2]}" if first is not None else "nothing more from the receiving team"
    until = first[0] if first is not None else None
    notes = [
        n
        for n in log.relay_notes
        if n.p.message == p.seq
        or (
            n.p.message is None
            and n.p.channel == p.channel
            and n.p.to in teams
            and n.t >= p.arrived
            and n.seq > p.seq
            and (until is None or n.seq < until)
        )
    ]
    for n in notes:
        by = f" ({n.p.by})" if n.p.by else ""
        said += (
            f"; {format_log_offset(n.t)} note from {names.team(n.p.relay)}{by} to {names.team(n.p.to)}: "
            f"{short(n.p.text, 120)}"
        )
    return said


def relay_figures(names: Names, flow: Flow) -> tuple[RelayFigures, ...]:
    """Per intermediary (its total first, then each person who decided its messages)."""
    by_relay: dict[str, list[Passage]] = defaultdict(list)
    for p in flow.passages:
        if p.relay:
            by_relay[p.relay].append(p)
    rows = []
    for relay in sorted(by_relay, key=lambda r: (r == "control", names.team(r))):
        items = by_relay[relay]
        rows.append(_figures(names.team(relay), "", relay == "control", items))
        people: dict[str, list[Passage]] = defaultdict(list)
        for p in items:
            people[p.relayed_by or "nobody (never decided)"].append(p)
        if relay != "control":
            rows += [_figures(names.team(relay), who, False, people[who]) for who in sorted(people)]
    return tuple(rows)


def _figures(relay: str, who: str, control: bool, items: Sequence[Passage]) -> RelayFigures:
    kinds = [classify(p.text, p.forwarded).kind if p.status == "edited" else "" for p in items]
    return RelayFigures(
        relay,
        who,
        control,
        len(items),
        sum(1 for p in items if p.status == "forwarded" or (p.status == "delivered" and p.relay)),
        sum(1 for p, k in zip(items, kinds, strict=True) if p.status == "edited" and k != "substantive"),
        sum(1 for k in kinds if k == "substantive"),
        sum(1 for p in items if p.status == "declined"),
        sum(1 for p in items if p.status in ("waiting", "in transit")),
        sum(1 for p in items if p.held),
    )


def seat(exercise: Exercise, name: str, position: str | None) -> Seat:
    try:
        _, pos = exercise.position(position or "")
    except KeyError:
        return Seat(name, position or "", None)
    return Seat(name, pos.title, pos.authority)


def ranks(exercise: Exercise, log: ReportLog, names: Names, flow: Flow) -> tuple[RankPair, ...]:
    found = []
    last: dict[tuple[str, str], Passage] = {}  # (channel, team) -> its last own message there
    for p in flow.passages:
        if flow.genuine(p):
            last[(p.channel, p.from_team)] = p
        if not p.relay:
            continue
        try:
            channel = exercise.channel(p.channel)
        except KeyError:
            continue
        sender = seat(exercise, p.name, p.from_position)
        flags = []
        if p.from_position and not exercise.can_write(channel, p.from_position):
            why = f"below the channel's minimum authority {channel.min_authority}"
            if sender.authority is not None and sender.authority >= channel.min_authority:
                why = "not on the channel's write list"
            flags.append(f"the sender may not write on this channel ({why})")
        relayer = None
        if p.relay == "control":
            relayer = Seat(p.relayed_by, "Exercise control", None) if p.relayed_by else None
        elif p.relayer is not None and p.relayer in log.participants:
            joined = log.participants[p.relayer]
            relayer = seat(exercise, joined.name, joined.position)
            if joined.position and not exercise.can_relay(channel, joined.position):
                flags.append("relayed by a seat that does not read the channel")
        if (
            relayer
            and relayer.authority is not None
            and sender.authority is not None
            and (relayer.authority < sender.authority)
        ):
            flags.append(f"relayed by a lower rank (authority {relayer.authority} for {sender.authority})")
        receivers = []
        for team in p.to:
            try:
                positions = exercise.team(team).positions
            except KeyError:
                continue
            played = {j.position: j.name for j in log.participants.values() if j.team == team and j.position}
            receivers += [
                Seat(played.get(pos.id, ""), pos.title, pos.authority)
                for pos in positions
                if exercise.can_read(channel, pos.id)
            ]
        # The pairing is judged on the writers at the two ends (the receiving seats are shown, not judged):
        # the sender against the other side's last writer on the same channel, the one it answers.
        before = [last[(p.channel, t)] for t in p.to if (p.channel, t) in last]
        other = max(before, key=lambda q: q.seq) if before else None
        if other is not None:
            them = seat(exercise, other.name, other.from_position)
            if them.authority is not None and sender.authority is not None and them.authority != sender.authority:
                flags.append(
                    f"rank gap: writes to the other side's {them.title} (authority {them.authority}) "
                    f"with authority {sender.authority}"
                )
        found.append(
            RankPair(
                p.seq,
                format_log_offset(p.t),
                p.channel_name,
                sender,
                relayer,
                tuple(receivers),
                ", ".join(names.team(t) for t in p.to),
                p.status,
                tuple(flags),
            )
        )
    return tuple(found)
