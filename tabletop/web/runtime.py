"""The app's running parts: the store, the live sessions and their fan-out to Socket.IO rooms."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from tabletop.engine import ALL, Event, SessionState, SystemTime, Viewer
from tabletop.engine.access import seat, split_audience
from tabletop.live import Live
from tabletop.report.job import ReportJob
from tabletop.store import Store

from .extensions import socketio
from .feed import View, ViewOf, personal_targets
from .feed import view as view_of

CONTROL = Viewer("control")


def room(session_id: str, kind: str, team: str | None = None) -> str:
    """The one helper that names rooms: control, a team's room (`team`), one seat of a team (`seat`,
    with `access.seat(team, position)`: every player in that position), or observers of a team."""
    return f"{session_id}:{kind}" + (f":{team}" if team else "")


@dataclass
class Runtime:
    store: Store
    live: Live
    stop: threading.Event = field(default_factory=threading.Event)
    scheduler_started: bool = False
    # The report job, warm: its worker is warmed once and builds each report in a fork of itself.
    reports: ReportJob = field(default_factory=lambda: ReportJob(warm=True))
    # Presence (who is connected, on any worker) and revocations live in cluster.py.

    def teams(self, session_id: str) -> list[str]:
        return [t.id for t in self.live.current(session_id).exercise.teams]

    def publish(self, session_id: str, event: Event, state: SessionState) -> None:
        """Emit a stored event to every room allowed to see it, as each may see it.

        `state` has just folded the event (Live passes it): the teams and the teams some observer
        watches come from it, so publishing asks the database nothing, with one worker or several.
        """
        views: dict[Viewer, View | None] = {}

        def event_view(event: Event, viewer: Viewer, exercise: Any) -> View | None:
            """Each viewer's view once per event (the sender's class view is also its team's, often)."""
            if viewer not in views:
                views[viewer] = view_of(event, viewer, exercise)
            return views[viewer]

        control = event_view(event, CONTROL, state.exercise)
        assert control is not None  # control sees every event
        socketio.emit("event", {"session": session_id, **control}, to=room(session_id, "control"))
        leave_out = self.publish_personal(session_id, event, state, event_view)
        seats: list[tuple[str, str]] = []
        if ALL in event.audience:
            teams = [t.id for t in state.exercise.teams]
        else:
            teams, seats = split_audience(event.audience)
        for team in teams:  # the team-level fast path: one emit per team room
            view = event_view(event, Viewer("player", team=team), state.exercise)
            if view is not None:
                socketio.emit("event", {"session": session_id, **view}, to=room(session_id, "team", team), **leave_out)
        for team, position in seats:  # a channel's `read` list leaves other positions of the team out
            view = event_view(event, Viewer("player", team=team, position=position), state.exercise)
            if view is not None:
                to = room(session_id, "seat", seat(team, position))
                socketio.emit("event", {"session": session_id, **view}, to=to, **leave_out)
        teams += [team for team in dict.fromkeys(team for team, _ in seats) if team not in teams]
        watched = [t for t in teams if t in state.observed]
        if watched:  # only where an observer of the session watches: most games have few or none
            view = event_view(event, Viewer("observer", teams=frozenset(watched)), state.exercise)
            if view is not None:
                rooms = [room(session_id, "observe", team) for team in watched]
                socketio.emit("event", {"session": session_id, **view}, to=rooms, **leave_out)

    def publish_personal(
        self, session_id: str, event: Event, state: SessionState, event_view: ViewOf = view_of
    ) -> dict[str, Any]:
        """Send the participants this event is personal to (its sender, its author) their own view,
        to their own room, before their class's emit; return the options of that emit: leave out their
        connections here (one on another worker gets both, this one first: clients keep the first of a seq)."""
        targets = personal_targets(event, state.participants, state.exercise, event_view)
        if not targets:
            return {}
        skip: list[str] = []
        manager = socketio.server.manager if socketio.server is not None else None
        for participant, own in targets:
            to = room(session_id, "participant", str(participant))
            socketio.emit("event", {"session": session_id, **own}, to=to)
            if manager is not None:
                skip += [sid for sid, _eio in manager.get_participants("/", to)]
        return {"skip_sid": skip} if skip else {}

    def close(self) -> None:
        """Stop the background parts (tests build many apps in one process)."""
        self.stop.set()
        self.reports.close()
        self.store.dispose()

    def start_scheduler(self) -> None:
        if not self.scheduler_started:
            self.scheduler_started = True
            socketio.start_background_task(self.live.run_scheduler, self.stop)


def init_runtime(app: Flask) -> Runtime:
    store = Store(app.config["DATABASE_URL"])
    store.migrate()  # Alembic, at every start-up
    time_source = app.config.get("TIME_SOURCE") or SystemTime()
    runtime = Runtime(store, Live(store, time_source))
    runtime.live.publish = runtime.publish
    runtime.live.shared = bool(app.config.get("MESSAGE_QUEUE"))
    app.extensions["tabletop"] = runtime
    return runtime


def runtime() -> Runtime:
    return current_app.extensions["tabletop"]
