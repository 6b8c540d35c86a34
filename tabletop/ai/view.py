"""What an AI seat sees: exactly what a person in that seat is sent (the engine's `redact`), plus
the things it may act on now, worked out from what it saw and the rules' own checks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tabletop.engine import events as ev
from tabletop.engine.events import Event, redact
from tabletop.engine.rules import Actor
from tabletop.engine.state import SessionState
from tabletop.script.models import TEAM_CHANNEL
from tabletop.script.times import format_offset

#: How many of the latest events the model is shown (the prompt stays small and quick).
RECENT = 8
#: Characters of one event's text the model is shown.
SNIPPET = 200


@dataclass(frozen=True)
class Waiting:
    """A message on a relay channel waiting for this seat (the intermediary) to pass it on."""

    message: int
    channel: str
    from_team: str
    text: str
    instructions: str = ""
    held: bool = False


@dataclass(frozen=True)
class OpenDecision:
    inject: str
    prompt: str
    options: tuple[tuple[str, str], ...]  # (id, label)


@dataclass
class SeatView:
    team: str
    team_name: str
    position: str
    title: str
    brief: str
    clock: str
    channels: list[tuple[str, str, str]] = field(default_factory=list)  # (id, name, kind) it may write on
    relays: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)  # (id, name, members) it relays
    waiting: list[Waiting] = field(default_factory=list)
    acks: list[tuple[str, str]] = field(default_factory=list)  # (inject, title) to acknowledge
    decisions: list[OpenDecision] = field(default_factory=list)
    recent: list[str] = field(default_factory=list)  # the latest events, one line each
    teams: dict[str, str] = field(default_factory=dict)  # id -> name

    @property
    def has_work(self) -> bool:
        """Something is waiting on this seat: a message to relay, an inject to acknowledge, a decision."""
        return bool(self.waiting or self.acks or self.decisions)


def seen(events: Iterable[Event], actor: Actor, state: SessionState) -> list[dict[str, Any]]:
    """The events as this seat is sent them, in order (the one redaction path, as for a person)."""
    viewer = actor.viewer
    out = []
    for event in events:
        view = redact(event, viewer, state.exercise)
        if view is not None:
            out.append(view)
    return out


def seat_view(state: SessionState, actor: Actor, events: list[Event], t: float) -> SeatView:
    """The seat's view of the session at exercise time `t`: `events` is the session's log so far."""
    ex = state.exercise
    team, position = ex.position(actor.position or "")
    clock = format_offset(t)
    views = seen(events, actor, state)
    teams = {t.id: t.name for t in ex.teams}
    v = SeatView(team.id, team.name, position.id, position.title, team.brief, clock, teams=teams)
    v.channels = [(TEAM_CHANNEL, "team chat", "team")]
    for ch in ex.channels:
        if ex.can_write(ch, position.id) and state.is_open(ch.id) and not state.jammed(ch.id, t):
            v.channels.append((ch.id, ch.name, ch.kind))
        if ex.can_relay(ch, position.id):
            v.relays.append((ch.id, ch.name, tuple(ch.members)))
    relayed_here = {r[0] for r in v.relays}
    acked = {i for i, teams_ in state.acks.items() if actor.participant in teams_.get(team.id, [])}
    for view in views:
        p = view["payload"]
        kind = view["type"]
        if kind == ev.MESSAGE_SENT and p.get("channel") in relayed_here:
            message = state.messages.get(view["seq"])
            if message is not None and message.status in ("with_relay", "held"):
                v.waiting.append(
                    Waiting(
                        view["seq"],
                        p["channel"],
                        p.get("from_team", ""),
                        p.get("text", "")[:SNIPPET],
                        (p.get("instructions") or "")[:SNIPPET],
                        message.status == "held",
                    )
                )
        elif kind == ev.INJECT_RELEASED:
            inject = p["inject"]
            if p.get("ack") and inject not in acked:
                v.acks.append((inject, p.get("title", "")))
            decision = p.get("decision")
            state_d = state.decisions.get(inject)
            open_ = decision and state_d is not None and not state_d.decided and team.id in state_d.teams
            if open_ and (not decision.get("by") or position.id in decision["by"]):
                options = tuple((o["id"], o["label"]) for o in decision["options"])
                v.decisions.append(OpenDecision(inject, decision.get("prompt", ""), options))
    v.recent = [line for line in (describe(view, teams) for view in views[-RECENT:]) if line]
    return v


def describe(view: dict[str, Any], teams: dict[str, str]) -> str:
    """One line for the model about one event as the seat saw it (its text cut to SNIPPET)."""
    p = view["payload"]
    at = format_offset(view.get("t", 0))
    kind = view["type"]
    text = str(p.get("text") or "")[:SNIPPET]
    who = p.get("name") or teams.get(p.get("from_team", ""), p.get("from_team", ""))
    if kind == ev.INJECT_RELEASED:
        body = str(p.get("body") or "")[:SNIPPET]
        return f"[{at}] INJECT {p.get('inject')} '{p.get('title', '')}' from {p.get('from', '')}: {body}"
    if kind in (ev.MESSAGE, ev.MESSAGE_SENT, ev.MESSAGE_DELIVERED):
        number = p.get("message", view["seq"])
        return f"[{at}] MESSAGE #{number} on {p.get('channel')} from {who or 'the other side'}: {text}"
    if kind == ev.MESSAGE_RELAYED:
        return f"[{at}] RELAYED #{p.get('message')} ({p.get('action')}) by {p.get('by')}"
    if kind == ev.RELAY_NOTE:
        return f"[{at}] NOTE on {p.get('channel')} to {p.get('to')}: {text}"
    if kind == ev.DECISION_MADE:
        return f"[{at}] DECIDED {p.get('inject')}: {p.get('label') or p.get('option')}"
    if kind == ev.PERSONA_POSTED:
        return f"[{at}] PUBLIC {p.get('name')}: {text}"
    return ""
