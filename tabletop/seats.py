"""Taking a seat in a session with a join code: shared by the join page and `POST /api/join`.

A seat is a participant row, a `participant_joined` event and a bearer token for Socket.IO.
No Flask: the callers turn `JoinRefused` into a page or a JSON error.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from tabletop.engine import events as ev
from tabletop.engine.commands import clean_text, unstorable
from tabletop.engine.events import NewEvent
from tabletop.engine.rules import Refused
from tabletop.live import Live


class JoinRefused(Exception):
    """A join that cannot go ahead: an HTTP status, a stable code and a message for people."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class CodeInfo:
    """What a join code opens: a team's seats (with its positions) or the observers' gallery."""

    code: str
    session: str
    kind: str  # player | observer
    title: str
    classification: str
    team: str | None = None
    team_name: str | None = None
    positions: list[dict[str, Any]] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)  # what observers watch (team names)


@dataclass(frozen=True)
class Seat:
    token: str
    session: str
    participant: int
    payload: dict[str, Any]  # what the participant_joined event says

    @property
    def kind(self) -> str:
        return self.payload["kind"]


def look_up(live: Live, code: object) -> CodeInfo:
    """The session and team behind a join code, or JoinRefused."""
    return _look_up(live, code)[0]


def _look_up(live: Live, code: object) -> tuple[CodeInfo, Any]:
    """`look_up`, with the stored code (joining needs its team ids: one query, not two)."""
    if not isinstance(code, str) or not code.strip() or unstorable(code):
        raise JoinRefused(400, "bad_payload", "enter the join code you were given, like ABCD-EFGH")
    found = live.store.find_code(code.strip()[:32])
    if found is None:
        raise JoinRefused(404, "bad_code", "unknown join code: check it with your facilitator")
    try:
        state = live.current(found.session_id)
    except Refused as exc:
        raise JoinRefused(404, exc.code, exc.message) from None
    if state.ended:
        raise JoinRefused(409, "ended", "this session has ended")
    ex = state.exercise
    base = CodeInfo(found.code, found.session_id, found.kind, ex.title, ex.classification)
    if found.kind == "player":
        team = ex.team(found.team or "")
        positions = [{"id": p.id, "title": p.title, "authority": p.authority} for p in team.positions]
        return replace(base, kind="player", team=team.id, team_name=team.name, positions=positions), found
    names = {t.id: t.name for t in ex.teams}
    return replace(base, kind="observer", teams=[names.get(t, t) for t in found.teams]), found


def join(live: Live, code: object, name: object, position: object) -> Seat:
    """Take a seat: a player in a position of the code's team, or an observer (no position)."""
    info, found = _look_up(live, code)
    name = clean_text(name)
    if not isinstance(name, str) or not 1 <= len(name) <= 80:
        raise JoinRefused(400, "bad_payload", "enter your display name, 1 to 80 characters")
    problem = unstorable(name, "name")
    if problem:
        raise JoinRefused(400, "bad_payload", problem)
    if info.kind == "player":
        if not isinstance(position, str) or position not in {p["id"] for p in info.positions}:
            listing = ", ".join(f"{p['id']} ({p['title']})" for p in info.positions)
            raise JoinRefused(400, "bad_position", f"choose a position of {info.team_name}: {listing}")
        pid = live.store.add_participant(info.session, "player", name, info.team, position, [])
        joined = ev.ParticipantJoined(participant=pid, kind="player", name=name, team=info.team, position=position)
        audience: tuple[str, ...] = (info.team or "",)
    else:
        pid = live.store.add_participant(info.session, "observer", name, None, None, list(found.teams))
        joined = ev.ParticipantJoined(participant=pid, kind="observer", name=name, teams=found.teams)
        audience = ()
    live.record(info.session, NewEvent.of(joined, audience, actor=pid))
    return Seat(live.store.issue_token("participant", pid), info.session, pid, joined.to_json())


# ------------------------------------------------------------------ a facilitator changes the seats
@dataclass(frozen=True)
class Seated:
    """A participant as the facilitator's roster shows it."""

    participant: int
    kind: str
    name: str
    team: str | None
    position: str | None
    teams: list[str]


def roster(live: Live, session_id: str) -> list[Seated]:
    """The participants seated now (neither removed nor moved away), in the order they joined."""
    return [
        Seated(p.id, p.kind, p.name, p.team, p.position, list(p.teams or []))
        for p in live.store.participants(session_id, removed=False)
    ]


def _seated(live: Live, session_id: str, participant: object) -> Any:
    row = live.store.get_participant(participant) if isinstance(participant, int) else None
    if row is None or row.session_id != session_id or row.removed:
        raise JoinRefused(404, "unknown_participant", f"no participant {participant} is seated in this session")
    return row


def remove(live: Live, session_id: str, participant: int, by: str) -> Seated:
    """Take a participant out of the session: its tokens stop working at once (the web layer then closes
    its open connections), and `participant_removed` is appended. What was removed."""
    row = _seated(live, session_id, participant)
    live.store.remove_participant(row.id)
    gone = ev.ParticipantRemoved(
        participant=row.id, kind=row.kind, name=row.name, team=row.team, position=row.position, by=by
    )
    live.record(session_id, NewEvent.of(gone, (row.team,) if row.kind == "player" and row.team else ()))
    return Seated(row.id, row.kind, row.name, row.team, row.position, list(row.teams or []))


def move(live: Live, session_id: str, participant: int, team: object, position: object, by: str) -> Seated:
    """Seat a player in another position (of its team or another): a new participant in the new seat
    takes over its tokens (the same link and page keep working, as the new seat: the web layer closes the
    old seat's connections and the page loads again); `participant_removed` (with `moved_to`) and the new
    seat's `participant_joined` are appended. The new seat."""
    row = _seated(live, session_id, participant)
    if row.kind != "player":
        raise JoinRefused(400, "bad_payload", "only players sit in positions: remove the observer instead")
    try:
        state = live.current(session_id)
    except Refused as exc:
        raise JoinRefused(404, exc.code, exc.message) from None
    if state.ended:
        raise JoinRefused(409, "ended", "this session has ended")
    teams = {t.id: t for t in state.exercise.teams}
    chosen = teams.get(team) if isinstance(team, str) else None
    if chosen is None:
        raise JoinRefused(400, "bad_position", f"choose a team of the exercise: {', '.join(teams)}")
    positions = {p.id for p in chosen.positions}
    if not isinstance(position, str) or position not in positions:
        listing = ", ".join(f"{p.id} ({p.title})" for p in chosen.positions)
        raise JoinRefused(400, "bad_position", f"choose a position of {chosen.name}: {listing}")
    if (row.team, row.position) == (chosen.id, position):
        raise JoinRefused(400, "bad_position", f"{row.name} sits in that position already")
    new_id = live.store.move_participant(row.id, chosen.id, position)
    gone = ev.ParticipantRemoved(
        participant=row.id, kind="player", name=row.name, team=row.team, position=row.position, by=by, moved_to=new_id
    )
    live.record(session_id, NewEvent.of(gone, (row.team,) if row.team else ()))
    joined = ev.ParticipantJoined(participant=new_id, kind="player", name=row.name, team=chosen.id, position=position)
    live.record(session_id, NewEvent.of(joined, (chosen.id,), actor=new_id))
    return Seated(new_id, "player", row.name, chosen.id, position, [])
