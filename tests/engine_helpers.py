"""A game on a real store (SQLite in a temporary folder) with a hand-driven clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tabletop.engine import Actor, Event, ManualTime, Viewer, redact
from tabletop.live import Live
from tabletop.script import load_exercise
from tabletop.script.models import snapshot
from tabletop.store import Store

DATA = Path(__file__).parent / "data"


@dataclass
class Game:
    store: Store
    live: Live
    time: ManualTime
    session: str
    actors: dict[str, Actor]
    published: list[Event] = field(default_factory=list)

    def do(self, who: str, command: str, **data: Any):
        return self.live.command(self.session, self.actors[who], command, data)

    def advance(self, seconds: float) -> list[Event]:
        """Move the wall clock and let the scheduler run once, as its loop would."""
        self.time.advance(seconds)
        return self.live.run_due(self.session)

    def seen_by(self, who: str) -> list[dict[str, Any]]:
        """What a participant's client would have received, in order."""
        viewer: Viewer = self.actors[who].viewer
        exercise = self.state.exercise
        views = [redact(e, viewer, exercise) for e in self.store.events_after(self.session, 0)]
        return [v for v in views if v is not None]

    def types_seen_by(self, who: str) -> list[str]:
        return [v["type"] for v in self.seen_by(who)]

    def released(self) -> list[str]:
        return [e.payload["inject"] for e in self.store.events_after(self.session) if e.type == "inject_released"]

    @property
    def state(self):
        return self.live.state(self.session)


def make_game(
    tmp_path: Path, script: Path = DATA / "minimal.yaml", library: Path = DATA / "lib", url: str | None = None
) -> Game:
    store = Store(url or f"sqlite:///{tmp_path / 'game.db'}")
    store.migrate()
    exercise = load_exercise(script, library=library)
    session = store.create_session(
        exercise.id, exercise.title, snapshot(exercise), [t.id for t in exercise.teams], None
    )
    time = ManualTime()
    published: list[Event] = []
    live = Live(store, time, lambda sid, e, state: published.append(e))
    actors = {"control": Actor("control", None, "White Cell")}
    seats = {
        "us": ("us", "j3", "Alice"),
        "us2": ("us", "liaison-us", "Bob"),
        "iran": ("iran", "irgcn", "Reza"),
        "oman": ("oman", "omani-liaison", "Salim"),
    }
    for key, (team, position, name) in seats.items():
        pid = store.add_participant(session, "player", name, team, position, [])
        actors[key] = Actor("player", pid, name, team, position)
    oid = store.add_participant(session, "observer", "Eve", None, None, ["us", "iran"])
    actors["observer"] = Actor("observer", oid, "Eve", teams=frozenset({"us", "iran"}))
    return Game(store, live, time, session, actors, published)
