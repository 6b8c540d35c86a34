"""What a viewer is shown of a session's current state (the events carry the history)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tabletop.script.models import TEAM_CHANNEL
from tabletop.script.times import format_offset

from .events import Viewer
from .state import SessionState


def scenario_time(state: SessionState, elapsed: float) -> str | None:
    scenario = state.exercise.scenario
    if scenario is None:
        return None
    return (scenario.start + timedelta(seconds=elapsed * scenario.time_scale)).isoformat()


def clock_view(state: SessionState, wall: float) -> dict[str, Any]:
    elapsed = state.elapsed(wall)
    scenario = state.exercise.scenario
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
    }


def channels_for(state: SessionState, viewer: Viewer, authority: int) -> list[dict[str, Any]]:
    """The channels a viewer reads, and whether (and why not) they may write."""
    ex = state.exercise
    t = state.clock.base
    result: list[dict[str, Any]] = []
    if viewer.kind == "player":
        result.append({"id": TEAM_CHANNEL, "name": "Team chat", "kind": "team", "write": True, "reason": None})
    for ch in ex.channels:
        reads = viewer.kind == "control" or ch.kind == "broadcast" or bool(viewer.sees_teams & set(ch.members))
        reads = reads or (ch.kind == "relay" and ch.relay in viewer.sees_teams)
        if not reads:
            continue
        reason = None
        if viewer.kind != "player":
            reason = "read only"
        elif viewer.team not in ch.members:
            reason = "intermediary: relays, does not write" if ch.relay == viewer.team else "your team reads only"
        elif authority < ch.min_authority:
            reason = f"needs authority {ch.min_authority}"
        elif state.jammed(ch.id, t):
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
                "relays_for_me": ch.relay == viewer.team if viewer.kind == "player" else ch.relay == "control",
            }
        )
    return result


def summary(state: SessionState, viewer: Viewer, wall: float, authority: int = 0) -> dict[str, Any]:
    ex = state.exercise
    data: dict[str, Any] = {
        "exercise": {"id": ex.id, "title": ex.title, "classification": ex.classification},
        "clock": clock_view(state, wall),
        "channels": channels_for(state, viewer, authority),
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
            ident: {"status": s.status, "due": s.due, "title": s.definition.title, "to": list(s.definition.to)}
            for ident, s in state.injects.items()
        }
        data["objectives"] = [{"id": o.id, "text": o.text} for o in ex.objectives]
    if viewer.kind == "observer":
        data["objectives"] = [{"id": o.id, "text": o.text} for o in ex.objectives]
    return data
