"""What the clock makes happen, and the events a release or a decision sets off.

`due(state, wall)` says what is due now (timed and triggered injects, delayed deliveries, decision
deadlines, the end of jams, the moves the clock reaches), as batches of new events; `next_due_wall`
when the next thing is due (for the scheduler's sleep). `release`, `decide` and `delivery` build
the batches that the rules build too (a release by hand, a team's decision, a relayed message).
Everything is in exercise time, so a paused clock freezes all of it, and after a pause each thing
happens when its exercise time comes, never all at once. Pure: reads a `SessionState`, returns `NewEvent`s; the fold
(`state.py`) applies them once they are stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import conditions, moves
from .events import (
    ChannelCleared,
    ChannelClosed,
    ChannelJammed,
    ChannelOpened,
    ChoiceMade,
    DecisionMade,
    EscalationChanged,
    InjectCancelled,
    InjectReleased,
    MessageDelivered,
    NewEvent,
)
from .state import MessageState, SessionState


@dataclass(frozen=True)
class Choice:
    """A player's choice of an option (a decision by default has none)."""

    option: str
    rationale: str
    team: str | None
    position: str | None
    name: str
    participant: int | None


def due(state: SessionState, wall: float) -> list[list[NewEvent]]:
    """Batches of events the clock makes happen now; each batch is appended on its own."""
    if state.ended:
        return []
    t = state.clock.elapsed(wall)
    running = state.clock.running
    batches: list[list[NewEvent]] = []
    stop = None
    if running and state.exercise.moves:
        # Moves reached (engine/moves.py): a move with `stop_clock` stops the clock at its start, after
        # what was due before it and before anything due at that moment (so `t` stays just short of it).
        starts, stop = moves.reached(state, t)
        batches += [[start] for start in starts]
        if stop is not None:
            t = math.nextafter(stop.t, -math.inf)
    for ident, inject in state.injects.items():
        if (
            inject.status == "scheduled"
            and inject.due is not None
            and (inject.immediate or (running and inject.due <= t))
        ):
            batches.append(fall_due(state, ident, t))
    if running:
        for decision in state.decisions.values():
            if not decision.decided and decision.deadline_t is not None and decision.deadline_t <= t:
                batches.append(decide(state, decision.inject, None, t, by_default=True))
        for message in (state.messages[seq] for seq in sorted(state.transit)):
            if message.deliver_at is not None and message.deliver_at <= t:
                batches.append([delivery(message, t)])
        for channel, (until, jam_seq) in state.jams.items():
            if until <= t:
                cleared = ChannelCleared(channel=channel)
                batches.append(
                    [NewEvent.of(cleared, state.channel_audience(channel), t, claim=f"clear:{channel}:{jam_seq}")]
                )
    if stop is not None:
        batches.append([stop])
    return batches


def next_due_wall(state: SessionState, wall: float) -> float | None:
    """The wall time of the next thing the clock will make happen (for the scheduler's sleep)."""
    if state.ended:
        return None
    times: list[float] = []
    for inject in state.injects.values():
        if inject.status == "scheduled" and inject.due is not None:
            if inject.immediate:
                return wall
            times.append(inject.due)
    times += [d.deadline_t for d in state.decisions.values() if not d.decided and d.deadline_t is not None]
    times += [d for d in (state.messages[seq].deliver_at for seq in state.transit) if d is not None]
    times += [until for until, _ in state.jams.values()]
    upcoming = moves.next_move(state)
    if upcoming is not None:
        times.append(upcoming.at)
    if not times or not state.clock.running:
        return None
    return state.clock.wall_at(min(times))


def release(
    state: SessionState, inject_id: str, t: float, actor: int | None = None, how: str = "scheduled"
) -> list[NewEvent]:
    """The release of an inject with its effects (jams, escalation), as one batch; a choice is made instead."""
    if inject_id in state.conditions.choices:
        return choose(state, inject_id, t, actor, how)
    definition = state.injects[inject_id].definition
    released = InjectReleased.of(definition, how)
    batch = [NewEvent.of(released, definition.to, t, actor, claim=release_claim(state, inject_id))]
    level = state.escalation
    closed = set(state.closed)
    for effect in definition.effects:
        if effect.jam is not None:
            channel, length = effect.jam.channel, float(effect.jam.for_)
            jammed = ChannelJammed(channel=channel, until=t + length, for_=length, inject=inject_id)
            batch.append(NewEvent.of(jammed, state.channel_audience(channel), t))
        elif effect.channel is not None:
            # Opening an open channel, or closing a closed one, does nothing.
            change = channel_change(state, effect.channel.id, effect.channel.action, closed, t, inject=inject_id)
            batch += change
        elif effect.escalation or effect.level is not None:
            # A number adds to the level; a mapping (format 2) places it; an effect that leaves it where it
            # is records nothing.
            after = effect.level.apply(level) if effect.level is not None else level + (effect.escalation or 0)
            if after != level:
                changed = EscalationChanged(delta=after - level, level=after, reason=f"inject {inject_id}")
                batch.append(NewEvent.of(changed, (), t))
                level = after
    return batch


def channel_change(
    state: SessionState,
    channel: str,
    action: str,
    closed: set[str],
    t: float,
    *,
    inject: str | None = None,
    by: str | None = None,
    actor: int | None = None,
) -> list[NewEvent]:
    """A channel opened or closed (told to its readers), or nothing when it already is; `closed` is the
    set of closed channels as the batch leaves them (updated)."""
    cause = {"inject": inject} if inject else {"by": by}
    if action == "open" and channel in closed:
        closed.discard(channel)
        return [NewEvent.of(ChannelOpened(channel=channel, **cause), state.channel_audience(channel), t, actor)]
    if action == "close" and channel not in closed:
        closed.add(channel)
        return [NewEvent.of(ChannelClosed(channel=channel, **cause), state.channel_audience(channel), t, actor)]
    return []


def decide(
    state: SessionState,
    inject_id: str,
    choice: Choice | None,
    t: float,
    actor: int | None = None,
    by_default: bool = False,
) -> list[NewEvent]:
    """A decision (a team's choice, or the default at the deadline) and its escalation."""
    spec = state.injects[inject_id].definition.decision
    assert spec is not None
    option_id = choice.option if choice else spec.default
    option = spec.option(option_id)
    chosen = (
        {}
        if choice is None
        else {
            "rationale": choice.rationale,
            "team": choice.team,
            "position": choice.position,
            "name": choice.name,
            "participant": choice.participant,
        }
    )
    made = DecisionMade(
        inject=inject_id,
        option=option_id,
        label=option.label if option else None,
        escalation=option.next_level(state.escalation) - state.escalation if option else 0,
        by_default=by_default,
        lapsed=option is None,
        **chosen,
    )
    audience = state.decisions[inject_id].teams
    batch = [NewEvent.of(made, audience, t, actor, claim=f"decision:{inject_id}")]
    if option and made.escalation:  # the change it made: a number added, or (format 2) where it placed the level
        changed = EscalationChanged(
            delta=made.escalation,
            level=state.escalation + made.escalation,
            reason=f"decision {inject_id}: {option_id}",
        )
        batch.append(NewEvent.of(changed, (), t))
    return batch


def delivery(message: MessageState, t: float, text: str | None = None, readback: bool = False) -> NewEvent:
    """A message reaches its readers (after a delay, or forwarded by its intermediary with `text`).

    On a relay channel the sender's team and the intermediary hear of it too (what each is sent of
    it is `events.disclosed`'s business); `readback` asks the readers to read it back.
    """
    asked = {"readback": True} if readback or message.readback else {}
    delivered = MessageDelivered(
        message=message.seq,
        channel=message.channel,
        from_team=message.from_team,
        from_position=message.from_position,
        name=message.name,
        participant=message.participant,
        text=message.text if text is None else text,
        **asked,
    )
    audience = message.audience
    if message.relay is not None:
        told = message.told  # the readers of the sender's side and of the intermediary (engine/access.py)
        audience = (*audience, *(team for team in told if team not in audience))
    return NewEvent.of(delivered, audience, t, claim=f"deliver:{message.seq}")


# ------------------------------------------------ conditions and choices (format 2: conditions.py)
def fall_due(state: SessionState, inject_id: str, t: float) -> list[NewEvent]:
    """An inject the clock (or its trigger, or its condition) makes due: cancelled when its `unless`
    holds, a choice made when it is a choice, else released. A release by hand ignores `unless`."""
    unless = state.conditions.unless.get(inject_id)
    if unless is not None and conditions.holds(unless, state, t):
        reason = f"unless {conditions.describe(unless, state.exercise)}"
        cancelled = InjectCancelled(inject=inject_id, reason=reason)
        return [NewEvent.of(cancelled, (), t, claim=release_claim(state, inject_id))]
    return release(state, inject_id, t)


def choose(
    state: SessionState, choice_id: str, t: float, actor: int | None = None, how: str = "scheduled"
) -> list[NewEvent]:
    """A choice falls due: the alternative it picks (released next, like a trigger with no delay), or none."""
    picked, reason = conditions.choose(state, choice_id, t)
    made = ChoiceMade(choice=choice_id, inject=picked, reason=reason, how=how)
    return [NewEvent.of(made, (), t, actor, claim=release_claim(state, choice_id))]


def release_claim(state: SessionState, inject_id: str) -> str:
    """The claim of an inject's release, cancellation or choice: one of them, once. After a
    cancellation, a facilitator's release by hand claims its own key."""
    cancelled = state.conditions.cancelled.get(inject_id)
    return f"release:{inject_id}" if cancelled is None else f"release:{inject_id}:after:{cancelled}"
