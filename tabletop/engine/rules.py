"""Who may do what, where: each client command becomes events, or a refusal with a reason.

`handle(state, actor, command, data, t)` checks the payload, the actor's rights and the state of
the session, and returns the events to append. It changes nothing itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from tabletop.script.models import TEAM_CHANNEL
from tabletop.script.times import format_offset

from . import commands as c
from . import events as ev
from . import moves, schedule
from .access import entry_team
from .clock import MAX_SPEED, MIN_SPEED
from .events import ALL, NewEvent, Viewer
from .state import SessionState


class Refused(Exception):
    """A command that may not be carried out; code is stable, message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Actor:
    kind: str  # control | player | observer
    participant: int | None = None
    name: str = ""
    team: str | None = None
    position: str | None = None
    teams: frozenset[str] = field(default_factory=frozenset)  # what an observer may see

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.kind, self.team, self.teams, self.participant, self.position)


Handler = Callable[[SessionState, Actor, Any, float], list[NewEvent]]


@dataclass(frozen=True)
class CommandSpec:
    model: type[c.Command]
    roles: frozenset[str]
    func: Handler
    after_end: bool = False  # still accepted once the session has ended


COMMANDS: dict[str, CommandSpec] = {}


def command(name: str, model: type[c.Command], *roles: str, after_end: bool = False) -> Callable[[Handler], Handler]:
    """Register a command: its payload model, who may send it, and whether it is accepted after the end."""

    def register(func: Handler) -> Handler:
        COMMANDS[name] = CommandSpec(model, frozenset(roles), func, after_end)
        return func

    return register


def handle(state: SessionState, actor: Actor, name: str, data: Any, t: float) -> list[NewEvent]:
    """Validate and authorise a command; return the events it makes."""
    entry = COMMANDS.get(name)
    if entry is None:
        raise Refused("unknown_command", f"unknown command '{name}'")
    if actor.kind not in entry.roles:
        who = {"control": "facilitators", "player": "players", "observer": "observers"}
        allowed = " and ".join(who[r] for r in sorted(entry.roles))
        raise Refused("forbidden", f"{name}: only {allowed} may do this")
    try:
        cmd = c.parse(entry.model, name, data)
    except c.BadPayload as exc:
        raise Refused("bad_payload", str(exc)) from None
    if state.ended and not entry.after_end:
        raise Refused("ended", f"{name}: the session has ended")
    made = entry.func(state, actor, cmd, t)
    if made and cmd.client_id:
        made[0] = replace(made[0], client_id=client_key(actor, cmd.client_id))
    return made


def client_key(actor: Actor, client_id: str) -> str:
    """Client ids are per sender: facilitators have no participant id, so their name scopes them."""
    return client_id if actor.participant is not None else f"control:{actor.name}:{client_id}"


def _channel_or_refuse(state: SessionState, channel_id: str) -> Any:
    try:
        return state.exercise.channel(channel_id)
    except KeyError:
        known = ", ".join([TEAM_CHANNEL, *(ch.id for ch in state.exercise.channels)])
        raise Refused("unknown_channel", f"unknown channel '{channel_id}' (channels: {known})") from None


def _authority(state: SessionState, position: str | None) -> int:
    if position is None:
        return 0
    return state.exercise.position(position)[1].authority


# ------------------------------------------------------------------ messages
@command("send_message", c.SendMessage, "player", "control")
def send_message(state: SessionState, actor: Actor, cmd: c.SendMessage, t: float) -> list[NewEvent]:
    """A message on team chat or a channel of the script."""
    handling = _handling(state, cmd)
    if cmd.channel == TEAM_CHANNEL:
        team = actor.team if actor.kind == "player" else cmd.team
        if team is None or team not in {x.id for x in state.exercise.teams}:
            raise Refused("bad_payload", "send_message: control writing in a team chat names the team ('team')")
        from_team = actor.team if actor.kind == "player" else "control"
        message = ev.Message(
            channel=TEAM_CHANNEL,
            team=team,
            from_team=from_team or "",
            from_position=actor.position,
            name=actor.name,
            participant=actor.participant,
            text=cmd.text,
        )
        return [NewEvent.of(message, (team,), t, actor.participant)]
    if actor.kind != "player":
        raise Refused("forbidden", "send_message: control writes on the channels with 'spoof' or in team chats")
    channel = _channel_or_refuse(state, cmd.channel)
    team = actor.team
    assert team is not None
    if team not in channel.members:
        if channel.kind == "broadcast":
            raise Refused("forbidden", f"your team may read but not write on '{channel.name}'")
        raise Refused("forbidden", f"your team is not on '{channel.name}'")
    _on_the_lists_or_refuse(state, channel, actor.position)
    authority = _authority(state, actor.position)
    if authority < channel.min_authority:
        raise Refused(
            "authority",
            f"your position may read but not write on '{channel.name}' "
            f"(needs authority {channel.min_authority}, yours is {authority})",
        )
    if not state.is_open(channel.id):
        raise Refused("closed", f"'{channel.name}' is closed: nothing can be sent on it until it is opened")
    sender = {"from_position": actor.position, "name": actor.name, "participant": actor.participant}
    base = {"channel": channel.id, "from_team": team, **sender, "text": cmd.text}
    if state.jammed(channel.id, t):
        until = format_offset(state.jams[channel.id][0])
        jammed = ev.MessageJammed(**base, reason=f"'{channel.name}' is jammed until {until}: nothing was delivered")
        return [NewEvent.of(jammed, state.readers(channel.id, (team,)), t, actor.participant)]
    readers = (ALL,) if channel.kind == "broadcast" else tuple(channel.members)
    if channel.kind == "relay":
        receivers = tuple(m for m in channel.members if m != team)
        told = (team,) if channel.relay == "control" else (team, channel.relay or "")
        sent = ev.MessageSent(**base, relay=channel.relay, to=receivers, delay=channel.delay, **handling)
        return [NewEvent.of(sent, state.readers(channel.id, told), t, actor.participant)]
    if channel.delay:
        sent = ev.MessageSent(**base, relay=None, to=readers, delay=channel.delay)
        return [NewEvent.of(sent, state.readers(channel.id, (team,)), t, actor.participant)]
    return [NewEvent.of(ev.Message(**base), state.readers(channel.id), t, actor.participant)]


def _on_the_lists_or_refuse(state: SessionState, channel: Any, position: str | None) -> None:
    """On a channel with `write` or `read` lists (format 2), only the positions they let write may write."""
    ex = state.exercise
    if (channel.write is not None or channel.read is not None) and not ex.can_write(channel, position or ""):
        writers = [f"{ex.position(p)[1].title} ({ex.position(p)[0].name})" for p in _writers(state, channel)]
        raise Refused(
            "forbidden",
            f"your position may not write on '{channel.name}': only {_listing(writers)} may write on it",
        )


def _writers(state: SessionState, channel: Any) -> list[str]:
    """The positions that may write on a channel, in the script's order."""
    ex = state.exercise
    return [p.id for team in ex.teams for p in team.positions if ex.can_write(channel, p.id)]


def _listing(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items) or "nobody"
    return ", ".join(items[:-1]) + f" and {items[-1]}"


@command("relay", c.Relay, "player", "control")
def relay(state: SessionState, actor: Actor, cmd: c.Relay, t: float) -> list[NewEvent]:
    """The intermediary forwards (verbatim or edited), holds or declines a message on a relay channel."""
    message = state.messages.get(cmd.message)
    channel = (
        state.exercise.channel(message.channel) if message is not None and message.channel != TEAM_CHANNEL else None
    )
    if (
        channel is None
        or channel.kind != "relay"
        or (actor.kind == "player" and not state.exercise.can_relay(channel, actor.position or ""))
    ):
        # Nothing is said about messages the sender may not relay: not even whether they exist.
        raise Refused("unknown_message", f"relay: no message {cmd.message} is waiting with you")
    assert message is not None
    if message.status not in ("with_relay", "held"):
        raise Refused("already_relayed", f"relay: message {cmd.message} was already {message.status}")
    if cmd.action in ("forward", "edit") and state.jammed(channel.id, t):
        until = format_offset(state.jams[channel.id][0])
        raise Refused("jammed", f"relay: '{channel.name}' is jammed until {until}: hold the message or try later")
    if cmd.action in ("forward", "edit") and not state.is_open(channel.id):
        raise Refused("closed", f"relay: '{channel.name}' is closed: hold the message until it opens, or decline it")
    if cmd.action == "hold" and message.status == "held":
        raise Refused("already_held", f"relay: message {cmd.message} is already held")
    if cmd.action == "edit" and not cmd.text:
        raise Refused("bad_payload", "relay: 'edit' needs the edited 'text'")
    if cmd.readback and cmd.action not in ("forward", "edit"):
        raise Refused("bad_payload", f"relay: a read-back is asked for when forwarding, not with '{cmd.action}'")
    text = (cmd.text or "") if cmd.action == "edit" else message.text
    relay = channel.relay or ""
    told: tuple[str, ...] = (message.from_team,) if relay == "control" else (message.from_team, relay)
    audience = state.readers(channel.id, told)
    passes = cmd.action in ("forward", "edit")
    onward = {"text": text, "edited": cmd.action == "edit" and text != message.text, "delay": channel.delay}
    if cmd.readback:
        onward["readback"] = True
    relayed = ev.MessageRelayed(
        message=message.seq,
        channel=channel.id,
        relay=relay,
        from_team=message.from_team,
        action=cmd.action,
        by=actor.name,
        waited=round(t - message.sent_t, 3),
        **(onward if passes else {}),
    )
    claim = f"relay:{message.seq}" if cmd.action != "hold" else None
    made = [NewEvent.of(relayed, audience, t, actor.participant, claim=claim)]
    if passes and not channel.delay:
        made.append(schedule.delivery(message, t, text, readback=cmd.readback))
    return made


# ------------------------------------------- the intermediary's voice (relay channels)
def _handling(state: SessionState, cmd: c.SendMessage) -> dict[str, Any]:
    """A sender's handling instructions for the intermediary and read-back request: relay channels only."""
    handling: dict[str, Any] = {}
    if cmd.instructions:
        handling["instructions"] = cmd.instructions
    if cmd.readback:
        handling["readback"] = True
    if not handling:
        return handling
    channel = next((ch for ch in state.exercise.channels if ch.id == cmd.channel), None)
    if channel is None and cmd.channel != TEAM_CHANNEL:
        return {}  # an unknown channel: send_message refuses it
    if channel is None or channel.kind != "relay":
        name = "team chat" if channel is None else f"'{channel.name}'"
        raise Refused(
            "bad_payload",
            f"send_message: 'instructions' and 'readback' need an intermediary, and {name} is not a relay channel",
        )
    return handling


@command("write_relay_note", c.RelayNote, "player", "control")
def write_relay_note(state: SessionState, actor: Actor, cmd: c.RelayNote, t: float) -> list[NewEvent]:
    """The intermediary writes to one half of a relay channel (confirm wording, ask for a read-back,
    chase a reply, say what it changed): only that team (and the intermediary) ever sees it."""
    channel = _channel_or_refuse(state, cmd.channel)
    if channel.kind != "relay":
        raise Refused("bad_payload", f"write_relay_note: '{channel.name}' has no intermediary (not a relay channel)")
    if actor.kind == "control":
        mine = channel.relay == "control"
    else:
        mine = actor.team == channel.relay and state.exercise.can_relay(channel, actor.position or "")
    if not mine:
        raise Refused("forbidden", f"write_relay_note: only the intermediary of '{channel.name}' writes notes on it")
    if cmd.to not in channel.members:
        sides = ", ".join(channel.members)
        raise Refused("bad_payload", f"write_relay_note: 'to' is a side of '{channel.name}' ({sides}), not '{cmd.to}'")
    if cmd.message is not None:
        message = state.messages.get(cmd.message)
        if message is None or message.channel != channel.id:
            raise Refused("unknown_message", f"write_relay_note: no message {cmd.message} on '{channel.name}'")
    if state.jammed(channel.id, t):
        until = format_offset(state.jams[channel.id][0])
        raise Refused("jammed", f"write_relay_note: '{channel.name}' is jammed until {until}")
    if not state.is_open(channel.id):
        raise Refused("closed", f"write_relay_note: '{channel.name}' is closed: nothing can be sent on it")
    note = ev.RelayNote(
        channel=channel.id,
        relay=channel.relay or "",
        to=cmd.to,
        by=actor.name,
        from_position=actor.position,
        participant=actor.participant,
        text=cmd.text,
        **({"message": cmd.message} if cmd.message is not None else {}),
    )
    told = (cmd.to,) if channel.relay == "control" else (cmd.to, channel.relay or "")
    return [NewEvent.of(note, state.readers(channel.id, told), t, actor.participant)]


@command("read_back", c.ReadBack, "player")
def read_back(state: SessionState, actor: Actor, cmd: c.ReadBack, t: float) -> list[NewEvent]:
    """A receiving team reads back a relayed message it was asked to read back (once per team)."""
    message = state.messages.get(cmd.message)
    team = actor.team or ""
    channel = next((ch for ch in state.exercise.channels if message and ch.id == message.channel), None)
    if (
        message is None
        or channel is None
        or message.relay is None
        or not any(e == ALL or entry_team(e) == team for e in message.audience)  # teams, or seats of them
        or message.status != "delivered"
        or not state.exercise.can_read(channel, actor.position or "")
    ):
        # Nothing is said of messages the team has not received: not even whether they exist.
        raise Refused("unknown_message", f"read_back: no message {cmd.message} was delivered to you")
    if not message.readback:
        raise Refused("not_asked", f"read_back: nobody asked for a read-back of message {cmd.message}")
    if team in message.read_back:
        raise Refused("already_read_back", f"read_back: your team has already read back message {cmd.message}")
    read = ev.MessageReadBack(
        message=message.seq,
        channel=message.channel,
        relay=message.relay,
        sender=message.from_team,
        team=team,
        position=actor.position,
        name=actor.name,
        participant=actor.participant,
        text=cmd.text,
    )
    told = (team, message.from_team) if message.relay == "control" else (team, message.from_team, message.relay)
    audience = state.readers(channel.id, told)
    return [NewEvent.of(read, audience, t, actor.participant, claim=f"readback:{message.seq}:{team}")]


@command("spoof", c.Spoof, "control")
def spoof(state: SessionState, actor: Actor, cmd: c.Spoof, t: float) -> list[NewEvent]:
    """Control sends a message that looks to players as if it came from a team or position."""
    teams = {x.id: x for x in state.exercise.teams}
    if cmd.as_team not in teams:
        raise Refused("bad_payload", f"spoof: unknown team '{cmd.as_team}' (teams: {', '.join(teams)})")
    if cmd.channel == TEAM_CHANNEL and cmd.team not in (None, cmd.as_team):
        raise Refused("bad_payload", "spoof: in a team chat, 'team' must be the team it seems to come from")
    if cmd.as_position and cmd.as_position not in {p.id for p in teams[cmd.as_team].positions}:
        raise Refused("bad_payload", f"spoof: '{cmd.as_position}' is not a position of team '{cmd.as_team}'")
    if cmd.channel == TEAM_CHANNEL:
        audience: tuple[str, ...] = (cmd.as_team,)
    else:
        channel = _channel_or_refuse(state, cmd.channel)
        if not state.is_open(channel.id):
            raise Refused("closed", f"spoof: '{channel.name}' is closed: open it first ('channel')")
        others = None if channel.kind == "broadcast" else tuple(m for m in channel.members if m != cmd.as_team)
        audience = state.readers(channel.id, others)
    in_team_chat = {"team": cmd.as_team} if cmd.channel == TEAM_CHANNEL else {}
    message = ev.Message(
        channel=cmd.channel,
        **in_team_chat,
        from_team=cmd.as_team,
        from_position=cmd.as_position,
        name=cmd.name,
        text=cmd.text,
        spoofed=True,
        spoofed_by=actor.name,
    )
    return [NewEvent.of(message, audience, t, actor.participant)]


# ------------------------------------------------------------------- injects
def _inject_state(state: SessionState, inject_id: str) -> Any:
    found = state.injects.get(inject_id)
    if found is None:
        raise Refused("unknown_inject", f"unknown inject '{inject_id}'")
    return found


@command("ack_inject", c.InjectRef, "player")
def ack_inject(state: SessionState, actor: Actor, cmd: c.InjectRef, t: float) -> list[NewEvent]:
    """A player acknowledges an inject their team received."""
    inject = state.injects.get(cmd.inject)
    if inject is None or inject.status != "released" or actor.team not in inject.definition.to:
        raise Refused("unknown_inject", f"ack_inject: your team has received no inject '{cmd.inject}'")
    if actor.participant in state.acks.get(cmd.inject, {}).get(actor.team or "", []):
        return []  # acknowledged already: nothing new
    acknowledged = ev.InjectAcknowledged(
        inject=cmd.inject,
        team=actor.team or "",
        from_position=actor.position,
        name=actor.name,
        participant=actor.participant,
    )
    claim = f"ack:{cmd.inject}:{actor.participant}"
    return [NewEvent.of(acknowledged, (actor.team or "",), t, actor.participant, claim=claim)]


def _position_title(state: SessionState, position: str) -> str:
    """A position's title as a person reads it ("CENTCOM Director of Operations (J3)"), its id if unknown."""
    try:
        return state.exercise.position(position)[1].title
    except (KeyError, ValueError, LookupError):
        return position


@command("decide", c.Decide, "player")
def decide(state: SessionState, actor: Actor, cmd: c.Decide, t: float) -> list[NewEvent]:
    """A player with the authority to decide chooses an option of a decision inject."""
    decision = state.decisions.get(cmd.inject)
    if decision is None or actor.team not in decision.teams:
        raise Refused("unknown_decision", f"decide: your team has no open decision '{cmd.inject}'")
    spec = state.injects[cmd.inject].definition.decision
    assert spec is not None
    if decision.decided:
        chosen = spec.option(decision.option or "")
        label = chosen.label if chosen is not None else "no option"
        raise Refused(
            "already_decided", f"decide: '{state.injects[cmd.inject].definition.title}' was already decided ({label})"
        )
    if spec.by and actor.position not in spec.by:
        titles = " or ".join(_position_title(state, p) for p in spec.by)
        raise Refused("forbidden", f"decide: only {titles} may take this decision")
    if spec.option(cmd.option) is None:
        options = ", ".join(o.id for o in spec.options)
        raise Refused("bad_payload", f"decide: unknown option '{cmd.option}' (options: {options})")
    choice = schedule.Choice(cmd.option, cmd.rationale, actor.team, actor.position, actor.name, actor.participant)
    return schedule.decide(state, cmd.inject, choice, t, actor.participant)


@command("release_inject", c.InjectRef, "control")
def release_inject(state: SessionState, actor: Actor, cmd: c.InjectRef, t: float) -> list[NewEvent]:
    """Send now: release a pending, scheduled, held, skipped or cancelled inject at once, whatever the
    clock and its `unless`; a choice is made now (its alternative follows)."""
    inject = _inject_state(state, cmd.inject)
    if inject.status == "released":
        raise Refused("already_released", f"release_inject: '{cmd.inject}' was already released")
    return schedule.release(state, cmd.inject, t, actor.participant, how="by hand")


@command("hold_inject", c.InjectRef, "control")
def hold_inject(state: SessionState, actor: Actor, cmd: c.InjectRef, t: float) -> list[NewEvent]:
    inject = _inject_state(state, cmd.inject)
    if inject.status not in ("pending", "scheduled"):
        raise Refused("bad_state", f"hold_inject: '{cmd.inject}' is {inject.status}")
    return [NewEvent.of(ev.InjectHeld(inject=cmd.inject, by=actor.name), (), t, actor.participant)]


@command("unhold_inject", c.InjectRef, "control")
def unhold_inject(state: SessionState, actor: Actor, cmd: c.InjectRef, t: float) -> list[NewEvent]:
    inject = _inject_state(state, cmd.inject)
    if inject.status != "held":
        raise Refused("bad_state", f"unhold_inject: '{cmd.inject}' is not held ({inject.status})")
    return [NewEvent.of(ev.InjectUnheld(inject=cmd.inject, by=actor.name), (), t, actor.participant)]


@command("skip_inject", c.InjectRef, "control")
def skip_inject(state: SessionState, actor: Actor, cmd: c.InjectRef, t: float) -> list[NewEvent]:
    inject = _inject_state(state, cmd.inject)
    if inject.status in ("released", "skipped", "cancelled"):
        raise Refused("bad_state", f"skip_inject: '{cmd.inject}' is already {inject.status}")
    return [NewEvent.of(ev.InjectSkipped(inject=cmd.inject, by=actor.name), (), t, actor.participant)]


@command("move_inject", c.MoveInject, "control")
def move_inject(state: SessionState, actor: Actor, cmd: c.MoveInject, t: float) -> list[NewEvent]:
    """Give an inject a new exercise time."""
    inject = _inject_state(state, cmd.inject)
    if inject.status in ("released", "skipped", "cancelled"):
        raise Refused("bad_state", f"move_inject: '{cmd.inject}' is already {inject.status}")
    moved = ev.InjectMoved(inject=cmd.inject, at=cmd.at, from_=inject.due, by=actor.name)
    return [NewEvent.of(moved, (), t, actor.participant)]


@command("write_inject", c.WriteInject, "control")
def write_inject(state: SessionState, actor: Actor, cmd: c.WriteInject, t: float) -> list[NewEvent]:
    """A new inject written live: released now, or at the exercise time given."""
    teams = [x.id for x in state.exercise.teams]
    to = teams if cmd.to == "all" else list(dict.fromkeys(cmd.to))
    unknown = [x for x in to if x not in teams]
    if unknown or not to:
        raise Refused(
            "bad_payload", f"write_inject: unknown team '{unknown[0] if unknown else ''}' (teams: {', '.join(teams)})"
        )
    ident = f"live-{state.live_count + 1}"
    definition = ev.InjectDefinition(
        inject=ident,
        title=cmd.title,
        body=cmd.body,
        from_=cmd.from_,
        medium=cmd.medium,
        to=to,
        attachments=(),
        ack=cmd.ack,
        decision=None,
        objectives=(),
        classification=state.exercise.classification,
        expect="",
        notes="",
        effects=(),
        live=True,
    )
    written = ev.InjectWritten(definition=definition, at=cmd.at, by=actor.name)
    return [NewEvent.of(written, (), t, actor.participant, claim=f"write:{ident}")]


# --------------------------------------------------------------------- clock
@command("clock", c.ClockCommand, "control")
def clock(state: SessionState, actor: Actor, cmd: c.ClockCommand, t: float) -> list[NewEvent]:
    """Start, pause, resume, change speed (1x to 10x) or end the exercise."""
    k = state.clock
    if cmd.action == "start":
        if k.started:
            raise Refused("bad_state", "clock: the exercise has already started")
        begun = [NewEvent.of(ev.ClockStarted(speed=k.speed, by=actor.name), (ALL,), 0.0, actor.participant)]
        if state.exercise.moves:  # the exercise starts with its first move
            begun.append(moves.started(state.exercise.moves[0], 0.0, by=actor.name, actor=actor.participant))
        return begun
    if cmd.action == "pause":
        if not k.running:
            raise Refused("bad_state", f"clock: the clock is not running ({k.status})")
        return [NewEvent.of(ev.ClockPaused(by=actor.name), (ALL,), t, actor.participant)]
    if cmd.action == "resume":
        if k.running or not k.started:
            raise Refused("bad_state", f"clock: nothing to resume ({k.status})")
        waiting = moves.waiting(state)
        if waiting is not None:
            raise Refused(
                "bad_state",
                f"clock: the clock stopped for a plenary before '{waiting.title}': start the move ('start_move')",
            )
        return [NewEvent.of(ev.ClockResumed(by=actor.name), (ALL,), t, actor.participant)]
    if cmd.action == "speed":
        if cmd.speed is None or not MIN_SPEED <= cmd.speed <= MAX_SPEED:
            raise Refused("bad_payload", "clock: 'speed' needs a number from 1 to 10")
        return [NewEvent.of(ev.SpeedChanged(speed=cmd.speed, by=actor.name), (ALL,), t, actor.participant)]
    return [NewEvent.of(ev.SessionEnded(by=actor.name), (ALL,), t, actor.participant, claim="end")]


# ------------------------------------------------- channels and moves during play (format 2)
@command("channel", c.ChannelCommand, "control")
def channel(state: SessionState, actor: Actor, cmd: c.ChannelCommand, t: float) -> list[NewEvent]:
    """Control opens, closes, jams (for a time) or clears a declared channel; its readers are told."""
    if cmd.channel == TEAM_CHANNEL:
        raise Refused("bad_payload", "channel: team chats are always open and cannot be jammed")
    ch = _channel_or_refuse(state, cmd.channel)
    audience = state.channel_audience(ch.id)
    if cmd.action in ("open", "close"):
        made = schedule.channel_change(
            state, ch.id, cmd.action, set(state.closed), t, by=actor.name, actor=actor.participant
        )
        if not made:
            already = "open" if cmd.action == "open" else "closed"
            raise Refused("bad_state", f"channel: '{ch.name}' is already {already}")
        return made
    if cmd.action == "jam":
        if cmd.for_ is None:
            raise Refused("bad_payload", "channel: 'jam' needs 'for', how long (e.g. \"10m\" or seconds)")
        jammed = ev.ChannelJammed(channel=ch.id, until=t + cmd.for_, for_=cmd.for_, by=actor.name)
        return [NewEvent.of(jammed, audience, t, actor.participant)]
    jam = state.jams.get(ch.id)
    if jam is None or not state.jammed(ch.id, t):
        raise Refused("bad_state", f"channel: '{ch.name}' is not jammed")
    cleared = ev.ChannelCleared(channel=ch.id, by=actor.name)
    return [NewEvent.of(cleared, audience, t, actor.participant, claim=f"clear:{ch.id}:{jam[1]}")]


@command("start_move", c.StartMove, "control")
def start_move(state: SessionState, actor: Actor, cmd: c.StartMove, t: float) -> list[NewEvent]:
    """Control starts the move the clock stopped for (a plenary or adjudication is over): the clock runs again."""
    ex = state.exercise
    if not ex.moves:
        raise Refused("bad_state", "start_move: this exercise has no moves")
    try:
        move = ex.move(cmd.move)
    except KeyError:
        known = ", ".join(m.id for m in ex.moves)
        raise Refused("bad_payload", f"start_move: unknown move '{cmd.move}' (moves: {known})") from None
    waiting = moves.waiting(state)
    if waiting is not None and waiting.id == move.id:
        return [moves.started(move, t, by=actor.name, actor=actor.participant)]
    if ex.moves.index(move) <= state.move:
        raise Refused("bad_state", f"start_move: '{move.title}' has already started")
    if waiting is not None:
        raise Refused("bad_state", f"start_move: the clock is waiting for '{waiting.title}' first")
    raise Refused(
        "bad_state",
        f"start_move: the clock has not reached '{move.title}' ({format_offset(move.at)}) yet; "
        + ("it stops there by itself" if move.stop_clock else "it starts by itself when the clock gets there"),
    )


@command("escalate", c.Escalate, "control")
def escalate(state: SessionState, actor: Actor, cmd: c.Escalate, t: float) -> list[NewEvent]:
    """Control adjudicates the escalation level, with a reason: a change (`delta`) or the new level (`level`)."""
    if (cmd.delta is None) == (cmd.level is None):
        raise Refused("bad_payload", "escalate: give 'delta' (a change) or 'level' (the new level), not both")
    delta = cmd.delta if cmd.delta is not None else (cmd.level or 0) - state.escalation
    if cmd.delta == 0:
        raise Refused("bad_payload", "escalate: 'delta' must not be 0")
    if delta == 0:
        raise Refused("bad_payload", f"escalate: the level is already {state.escalation}")
    changed = ev.EscalationChanged(delta=delta, level=state.escalation + delta, reason=cmd.reason, by=actor.name)
    return [NewEvent.of(changed, (), t, actor.participant)]


# --------------------------------------------------------- notes and ratings
@command("note", c.Note, "control", after_end=True)
def note(state: SessionState, actor: Actor, cmd: c.Note, t: float) -> list[NewEvent]:
    """A facilitator's timestamped note."""
    return [NewEvent.of(ev.Note(text=cmd.text, name=actor.name), (), t, actor.participant)]


@command("observe", c.Observe, "observer", "control", after_end=True)
def observe(state: SessionState, actor: Actor, cmd: c.Observe, t: float) -> list[NewEvent]:
    """An evaluator rates play against an objective: P, S, M or U (HSEEP)."""
    objectives = [o.id for o in state.exercise.objectives]
    if cmd.objective is not None and cmd.objective not in objectives:
        raise Refused(
            "bad_payload", f"observe: unknown objective '{cmd.objective}' (objectives: {', '.join(objectives)})"
        )
    teams = [x.id for x in state.exercise.teams]
    if cmd.team is not None and cmd.team not in teams:
        raise Refused("bad_payload", f"observe: unknown team '{cmd.team}' (teams: {', '.join(teams)})")
    if cmd.team is not None and actor.kind == "observer" and cmd.team not in actor.teams:
        raise Refused("forbidden", f"observe: you do not observe team '{cmd.team}'")
    observation = ev.Observation(
        objective=cmd.objective,
        rating=cmd.rating,
        text=cmd.text,
        team=cmd.team,
        name=actor.name,
        participant=actor.participant,
        **({"finding": cmd.finding} if cmd.finding else {}),
    )
    return [NewEvent.of(observation, (), t, actor.participant)]


@command("feedback", c.Feedback, "player", "observer", "control", after_end=True)
def feedback(state: SessionState, actor: Actor, cmd: c.Feedback, t: float) -> list[NewEvent]:
    """Hotwash feedback from a participant once the session has ended."""
    if not state.ended:
        raise Refused("bad_state", "feedback: the hotwash opens when the facilitator ends the session")
    key = feedback_key(actor)
    if key in state.feedback:
        raise Refused("already_sent", "feedback: you have already sent your hotwash feedback")
    channels = [TEAM_CHANNEL, *(ch.id for ch in state.exercise.channels)]
    unknown = [k for k in cmd.channels if k not in channels]
    if unknown:
        raise Refused("bad_payload", f"feedback: unknown channel '{unknown[0]}' (channels: {', '.join(channels)})")
    answers = hotwash_answers(state, cmd.answers)
    sent = ev.Feedback(
        participant=actor.participant,
        name=actor.name,
        kind=actor.kind,
        team=actor.team,
        position=actor.position,
        strengths=cmd.strengths,
        improvements=cmd.improvements,
        channels=dict(cmd.channels),
        key=key,
        **({"answers": answers} if answers else {}),
    )
    return [NewEvent.of(sent, (), t, actor.participant, claim=f"feedback:{key}")]


def feedback_key(actor: Actor) -> str:
    return str(actor.participant) if actor.participant is not None else f"control:{actor.name}"


@command("improvement_plan", c.ImprovementPlan, "control", after_end=True)
def improvement_plan(state: SessionState, actor: Actor, cmd: c.ImprovementPlan, t: float) -> list[NewEvent]:
    """The facilitator's improvement plan (issue, corrective action, organisation, due date); the last one counts."""
    objectives = [o.id for o in state.exercise.objectives]
    for item in cmd.items:
        if item.objective is not None and item.objective not in objectives:
            raise Refused("bad_payload", f"improvement_plan: unknown objective '{item.objective}'")
    # Point of contact, start date and capability only where given: older plans keep their JSON.
    items = tuple(
        ev.PlanItem(
            **item.model_dump(exclude={"capability", "contact", "start"}),
            **{k: v for k in ("capability", "contact", "start") if (v := getattr(item, k))},
        )
        for item in cmd.items
    )
    return [NewEvent.of(ev.ImprovementPlan(items=items, by=actor.name), (), t, actor.participant)]


@command("key_findings", c.KeyFindings, "control", after_end=True)
def key_findings(state: SessionState, actor: Actor, cmd: c.KeyFindings, t: float) -> list[NewEvent]:
    """The facilitator's key findings for the report's summary; the last one counts."""
    return [NewEvent.of(ev.KeyFindings(text=cmd.text, by=actor.name), (), t, actor.participant)]


# ------------------------------------------- hotwash questions and personas (format 2)
def hotwash_answers(state: SessionState, given: dict[str, int | str]) -> dict[str, int | str]:
    """The answers to the script's own hotwash questions, checked: a known question, a text for a
    `text` question, a whole number from 1 to 5 for a `scale`; empty answers are left out."""
    questions = {q.id: q for q in state.exercise.hotwash.questions}
    answers: dict[str, int | str] = {}
    for ident, answer in given.items():
        question = questions.get(ident)
        if question is None:
            known = ", ".join(questions) or "none: this script asks no questions of its own"
            raise Refused("bad_payload", f"feedback: unknown question '{ident}' (questions: {known})")
        if question.kind == "scale":
            if not isinstance(answer, int) or not 1 <= answer <= 5:
                raise Refused("bad_payload", f"feedback: question '{ident}' takes a rating from 1 to 5 ({answer!r})")
        elif not isinstance(answer, str):
            raise Refused("bad_payload", f"feedback: question '{ident}' takes a text answer, found the number {answer}")
        if answer != "":
            answers[ident] = answer
    return answers


@command("post_as_persona", c.PostAsPersona, "control")
def post_as_persona(state: SessionState, actor: Actor, cmd: c.PostAsPersona, t: float) -> list[NewEvent]:
    """Control posts on a public (broadcast) channel as one of the script's personas; the channel's
    readers (every team, unless the channel has a `read` list) read it under the persona's name, and
    only control learns who wrote it."""
    ex = state.exercise
    try:
        persona = ex.persona(cmd.persona)
    except KeyError:
        known = ", ".join(p.id for p in ex.personas) or "none defined"
        raise Refused("bad_payload", f"post_as_persona: unknown persona '{cmd.persona}' (personas: {known})") from None
    public = [ch for ch in ex.channels if ch.kind == "broadcast"]
    if cmd.channel is None:
        if not public:
            raise Refused("bad_payload", "post_as_persona: the script has no public (broadcast) channel")
        channel = public[0]
    else:
        channel = _channel_or_refuse(state, cmd.channel)
        if channel.kind != "broadcast":
            names = ", ".join(ch.id for ch in public) or "none"
            raise Refused(
                "bad_payload",
                f"post_as_persona: '{channel.name}' is not a public channel: personas post on a broadcast "
                f"channel ({names})",
            )
    if not state.is_open(channel.id):
        raise Refused("closed", f"post_as_persona: '{channel.name}' is closed: open it first ('channel')")
    posted = ev.PersonaPosted(
        channel=channel.id,
        persona=persona.id,
        name=persona.name,
        team=persona.team,
        text=cmd.text,
        spoofed_by=actor.name,
    )
    return [NewEvent.of(posted, state.channel_audience(channel.id), t, actor.participant)]


# ------------------------------------------------------ belief against truth (format 2)
@command("assess", c.Assess, "player")
def assess(state: SessionState, actor: Actor, cmd: c.Assess, t: float) -> list[NewEvent]:
    """A player gives their team's answer to a key question, with a confidence (any time; the team's
    latest answer is its picture). Seen by the team and control; the truth is never sent."""
    from . import beliefs

    ex = state.exercise
    try:
        question = ex.key_question(cmd.question)
    except KeyError:
        known = ", ".join(q.id for q in ex.key_questions) or "none defined"
        raise Refused(
            "bad_payload", f"assess: unknown key question '{cmd.question}' (key questions: {known})"
        ) from None
    team = actor.team or ""
    if team not in beliefs.teams_asked(ex, question):
        raise Refused("forbidden", f"assess: '{question.id}' is not put to your team")
    try:
        answer = beliefs.checked_answer(question, cmd.answer)
    except beliefs.BadAnswer as exc:
        raise Refused("bad_payload", f"assess: {exc}") from None
    made = ev.Assessment(
        question=question.id,
        team=team,
        answer=answer,
        confidence=cmd.confidence,
        by=actor.name,
        position=actor.position,
    )
    return [NewEvent.of(made, (team,), t, actor.participant)]
