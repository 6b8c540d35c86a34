"""Live and sync send the same thing: for every event of the committed logs (every event type they
hold) and every viewer (control, each seated player, each observer), the first copy a connection
receives live equals the item `sync` gives, and both hold the same events (web/feed.py: one function).

In process: publishing is recorded (the rooms each emit goes to), and a connection receives what is
emitted to a room it is in (team, seat, observed teams, its own participant room)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tabletop.engine import SessionState, Viewer
from tabletop.engine import events as ev
from tabletop.script.models import from_snapshot
from tabletop.web import runtime as runtime_module
from tabletop.web.feed import Feed, personal_to, viewer_of
from tabletop.web.runtime import Runtime, room

from .log_fixtures import NAMES, events_of, load_log

SESSION = "s"


def seat(team: str, position: str) -> str:
    """A seat's room suffix, as engine/access.py names it (team/position)."""
    return f"{team}/{position}"


def rooms_of(viewer: Viewer) -> set[str]:
    if viewer.kind == "control":
        return {room(SESSION, "control")}
    own = {room(SESSION, "participant", str(viewer.participant))}
    if viewer.kind == "player":
        assert viewer.team
        position = getattr(viewer, "position", None)  # seats (engine/access.py): events for some positions
        seats = {room(SESSION, "seat", seat(viewer.team, position))} if position else set()
        return own | {room(SESSION, "team", viewer.team)} | seats
    return own | {room(SESSION, "observe", team) for team in viewer.teams}


@pytest.mark.parametrize("name", NAMES)
def test_live_equals_sync_for_every_event_and_viewer(name, monkeypatch):
    log = load_log(name)
    exercise = from_snapshot(log["script"])
    events = events_of(log)
    emitted: list[tuple[set[str], dict[str, Any]]] = []

    def emit(kind: str, body: dict[str, Any], to: Any, **_options: Any) -> None:
        assert kind == "event"
        emitted.append(({to} if isinstance(to, str) else set(to), body))

    monkeypatch.setattr(runtime_module.socketio, "emit", emit)
    rt = Runtime(None, None)  # type: ignore[arg-type] - publishing needs neither store nor live
    state = SessionState(exercise)
    for event in events:
        state.apply(event)
        rt.publish(SESSION, event, state)
    joined_at = {e.payload.participant: e.seq for e in events if e.type == ev.PARTICIPANT_JOINED}
    viewers = [Viewer("control")] + [viewer_of(p) for p in state.participants.values()]
    feed = Feed(lambda _s, after, through: [e for e in events if after < e.seq <= through])
    types: set[str] = set()
    for viewer in viewers:
        mine = rooms_of(viewer)
        live: dict[int, dict[str, Any]] = {}
        for to, body in emitted:
            if to & mine and body["seq"] not in live:  # clients keep the first copy of a seq
                live[body["seq"]] = {k: v for k, v in body.items() if k != "session"}
        page = feed.page(SESSION, viewer, exercise, 0, events[-1].seq, 10**6)
        assert not page.more
        synced = {e["seq"]: e for e in page.events}
        # A participant's connection exists from its join on: everything after it comes live too.
        since = joined_at.get(viewer.participant, 0) if viewer.participant is not None else 0
        expected = sorted(seq for seq in synced if seq >= since)
        assert sorted(seq for seq in live if seq >= since) == expected, (viewer, sorted(set(live) ^ set(synced))[:10])
        for seq in expected:
            assert live[seq] == synced[seq], (viewer, seq, live[seq], synced[seq])
            types.add(synced[seq]["type"])
    if name == "global-hawk-rehearsal":
        assert {ev.MESSAGE, ev.MESSAGE_SENT, ev.MESSAGE_RELAYED, ev.OBSERVATION, ev.FEEDBACK} <= types


def test_a_page_is_redacted_once_per_viewer_class_not_once_per_caller(monkeypatch):
    from tabletop.web import feed as feed_module

    log = load_log("global-hawk-rehearsal")
    exercise = from_snapshot(log["script"])
    events = events_of(log)
    reads: list[tuple[int, int]] = []

    def between(_s: str, after: int, through: int) -> list[Any]:
        reads.append((after, through))
        return [e for e in events if after < e.seq <= through]

    calls = {"n": 0}
    real = feed_module.view

    def counting(event: Any, viewer: Viewer, ex: Any) -> Any:
        calls["n"] += 1
        return real(event, viewer, ex)

    monkeypatch.setattr(feed_module, "view", counting)
    feed = Feed(between)
    state = SessionState(exercise)
    for event in events:
        state.apply(event)
    players = [viewer_of(p) for p in state.participants.values() if p.kind == "player"]
    us = [v for v in players if v.team == players[0].team]
    last = events[-1].seq
    first = feed.page(SESSION, us[0], exercise, 0, last, 1000)
    cost, read = calls["n"], len(reads)
    assert cost >= len(events) - 5  # the class's views, once (the last, partial block is not cached)
    again = feed.page(SESSION, us[0], exercise, 0, last, 1000)
    assert again.events == first.events
    assert calls["n"] - cost < len(events) // 2 and len(reads) - read == 1, "cached: not read nor redacted again"
    # Another caller of the same class (a teammate in the same seat): the same cached views.
    cost = calls["n"]
    teammate = feed.page(SESSION, replace(us[0], participant=10**6), exercise, 0, last, 1000)
    assert calls["n"] - cost < len(events) // 2
    only_mine = {e["seq"] for e in first.events} - {e["seq"] for e in teammate.events}
    assert all(us[0].participant in personal_to(e) for e in events if e.seq in only_mine), only_mine
