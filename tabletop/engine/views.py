"""What a viewer is shown of a session's current state (the events carry the history)."""

from __future__ import annotations

from typing import Any

from tabletop.script.models import TEAM_CHANNEL, Move
from tabletop.script.times import format_offset

from . import beliefs, moves
from .events import Viewer
from .state import SessionState


def scenario_time(state: SessionState, elapsed: float) -> str | None:
    """The in-game moment (ISO 8601) on the current move's scenario clock (the script's without moves)."""
    moment = moves.scenario_moment(state, elapsed)
    return None if moment is None else moment.isoformat()


def move_view(state: SessionState, move: Move) -> dict[str, Any]:
    """A move as the pages use it: `scenario_start` and `time_scale` are its scenario clock (the in-game
    moment at exercise time zero, so that the moment at `t` is start + t * scale, as without moves);
    `scenario_anchor` is the in-game moment the move starts at."""
    ex = state.exercise
    clock = ex.clock_at(move.at)
    anchor = ex.move_anchor(move)
    return {
        "id": move.id,
        "title": move.title,
        "at": move.at,
        "stop_clock": move.stop_clock,
        "scenario_start": clock.start.isoformat() if clock else None,
        "time_scale": clock.time_scale if clock else None,
        "scenario_anchor": anchor.isoformat() if anchor else None,
    }


def clock_view(state: SessionState, wall: float) -> dict[str, Any]:
    """The exercise clock and the scenario clock in force; with moves, the current move (`move`), every
    move (`moves`), the index of the last one started (`move_index`) and the one the clock is stopped for
    (`waiting`, until the facilitator starts it)."""
    elapsed = state.elapsed(wall)
    scenario = moves.scenario_clock(state, elapsed)
    current, waiting = moves.current(state, elapsed), moves.waiting(state)
    return {
        "status": state.clock.status,
        "elapsed": round(elapsed, 3),
        "speed": state.clock.speed,
        "time_scale": scenario.time_scale if scenario else None,
        "scenario_start": scenario.start.isoformat() if scenario else None,
        "scenario_time": scenario_time(state, elapsed),
        "display": format_offset(elapsed),
        "wall": wall,
        "duration": state.exercise.duration,
        "move": move_view(state, current) if current else None,
        "moves": [move_view(state, m) for m in state.exercise.moves],
        "move_index": state.move if state.exercise.moves else None,
        "waiting": move_view(state, waiting) if waiting else None,
    }


def _reads(state: SessionState, viewer: Viewer, ch: Any) -> bool:
    """Control reads every channel, observers every channel a team they watch can see (whatever the
    `read` lists), a player the channels their position may read."""
    if viewer.kind == "control":
        return True
    if viewer.kind == "player":
        return bool(viewer.position) and state.exercise.can_read(ch, viewer.position or "")
    teams = state.access.by_team.get(ch.id, {})
    return bool(viewer.sees_teams & set(teams))


def channels_for(state: SessionState, viewer: Viewer, authority: int, t: float | None = None) -> list[dict[str, Any]]:
    """The channels a viewer reads, and whether (and why not) they may write: `open` is false for a
    closed channel, `jammed_until` the end of a jam in exercise seconds (null when not jammed)."""
    ex = state.exercise
    t = state.clock.base if t is None else t
    result: list[dict[str, Any]] = []
    if viewer.kind == "player":
        result.append(
            {"id": TEAM_CHANNEL, "name": "Team chat", "kind": "team", "write": True, "reason": None, "open": True}
        )
    for ch in ex.channels:
        if not _reads(state, viewer, ch):
            continue
        reason = None
        jammed = state.jammed(ch.id, t)
        if viewer.kind != "player":
            reason = "read only"
        elif viewer.team not in ch.members:
            reason = "intermediary: relays, does not write" if ch.relay == viewer.team else "your team reads only"
        elif authority < ch.min_authority:
            reason = f"needs authority {ch.min_authority}"
        elif not ex.can_write(ch, viewer.position or ""):
            reason = "your position reads only"
        elif not state.is_open(ch.id):
            reason = "the channel is closed"
        elif jammed:
            reason = f"jammed until {format_offset(state.jams[ch.id][0])}"
        result.append(
            {
                "id": ch.id,
                "name": ch.name,
                "kind": ch.kind,
                "relay": ch.relay,
                "members": list(ch.members),
                "delay": ch.delay,
                "write": reason is None,
                "reason": reason,
                "relays_for_me": (
                    ex.can_relay(ch, viewer.position or "") if viewer.kind == "player" else ch.relay == "control"
                ),
                "open": state.is_open(ch.id),
                "jammed_until": state.jams[ch.id][0] if jammed else None,
            }
        )
    return result


def summary(state: SessionState, viewer: Viewer, wall: float, authority: int = 0) -> dict[str, Any]:
    ex = state.exercise
    data: dict[str, Any] = {
        "exercise": {"id": ex.id, "title": ex.title, "classification": ex.classification},
        "clock": clock_view(state, wall),
        "channels": channels_for(state, viewer, authority, state.elapsed(wall)),
        "teams": [{"id": t.id, "name": t.name, "intermediary": t.intermediary} for t in ex.teams],
        "last_seq": state.seq,
    }
    if viewer.kind == "player" and viewer.team:
        team = ex.team(viewer.team)
        data["team"] = {"id": team.id, "name": team.name, "brief": team.brief}
        data["positions"] = [{"id": p.id, "title": p.title, "authority": p.authority} for p in team.positions]
    if viewer.kind == "control":
        data["escalation"] = state.escalation
        data["injects"] = {
            ident: {
                "status": s.status,
                "due": s.due,
                "title": s.definition.title,
                "to": list(s.definition.to),
                **state.conditions.view(ident, state.elapsed(wall)),  # format 2: how a `when` stands
            }
            for ident, s in state.injects.items()
        }
        data["objectives"] = [{"id": o.id, "text": o.text} for o in ex.objectives]
    if viewer.kind == "observer":
        data["objectives"] = [{"id": o.id, "text": o.text} for o in ex.objectives]
    if ex.key_questions:  # format 2: belief against truth (engine/beliefs.py)
        data["key_questions"] = beliefs.for_viewer(state, viewer)
    return data
