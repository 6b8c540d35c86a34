"""AI seats (issue 15): which seats a model or a scripted bot played, and what each did.

Read from the log alone: a seat is an AI seat when its `participant_joined` carries `ai` (the
model's name, and whether players were told); its actions are the events it caused (`actor`).
The facilitator's notes from "AI seats" (an answer dropped, an endpoint down, a budget spent)
are counted too. Pure; kept in `ReportData.extras["ai_seats"]` only when the session had such a
seat (so the report data of other sessions, and the golden fixtures, are unchanged).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tabletop.engine import events as ev
from tabletop.engine.events import Event
from tabletop.script import Exercise

#: What the report calls each kind of action.
ACTIONS = {
    ev.MESSAGE: "messages",
    ev.MESSAGE_SENT: "messages",
    ev.MESSAGE_JAMMED: "messages",
    ev.MESSAGE_RELAYED: "relay actions",
    ev.RELAY_NOTE: "relay notes",
    ev.INJECT_ACKNOWLEDGED: "acknowledgements",
    ev.DECISION_MADE: "decisions",
    ev.MESSAGE_READ_BACK: "read-backs",
}
NOTE_AUTHOR = "AI seats"  # tabletop.ai.runner.Seats tells the facilitator under this name


@dataclass(frozen=True)
class AISeatRow:
    participant: int
    name: str
    team: str
    position: str
    model: str
    told: bool
    actions: tuple[tuple[str, int], ...]  # (kind, count)
    total: int


@dataclass(frozen=True)
class AISeats:
    seats: tuple[AISeatRow, ...]
    models: tuple[str, ...]
    troubles: int  # notes to the facilitator about AI seats (dropped answers, endpoint failures, budgets)


def ai_seats(exercise: Exercise, events: Sequence[Event]) -> AISeats | None:
    joined: dict[int, ev.ParticipantJoined] = {}
    counts: dict[int, Counter[str]] = {}
    troubles = 0
    for e in events:
        p = e.payload
        if isinstance(p, ev.ParticipantJoined) and p.ai is not None:
            joined[p.participant] = p
            counts[p.participant] = Counter()
        elif isinstance(p, ev.Note) and p.name == NOTE_AUTHOR:
            troubles += 1
        elif e.actor in counts and e.type in ACTIONS:
            counts[e.actor][ACTIONS[e.type]] += 1
    if not joined:
        return None
    teams = {t.id: t.name for t in exercise.teams}
    titles = {p.id: p.title for t in exercise.teams for p in t.positions}
    rows = []
    for pid, p in joined.items():
        assert p.ai is not None
        done = counts[pid]
        rows.append(
            AISeatRow(
                pid,
                p.name,
                teams.get(p.team or "", p.team or ""),
                titles.get(p.position or "", p.position or ""),
                p.ai.model,
                p.ai.told,
                tuple(sorted(done.items())),
                sum(done.values()),
            )
        )
    models = tuple(dict.fromkeys(r.model for r in rows))
    return AISeats(tuple(rows), models, troubles)
