"""The tape on the web (issue 14): replay a session, running or finished, as any seat saw it.

- `GET /sessions/<id>/tape` (facilitators): the page (static/js/tape.js), with its first moment in
  the page itself, so the first paint needs no second request. `?seq=N` opens at that moment,
  `?as=` as a viewer (below), `?projector=1` in projector mode.
- `GET /sessions/<id>/tape/moment?seq=N&as=V` (facilitators): one moment as JSON.
- `POST /sessions/<id>/tape/share` (facilitators, a form): a signed link that expires, read-only,
  for every view or one team's; `GET /tape/shared/<token>` and `.../moment` answer it.

Viewers (`as`): `control` (everything), `team:ID` (what every seat of the team was sent),
`seat:TEAM/POSITION`, `p:PARTICIPANT` (one participant, its own personal events included). Every
moment is computed by `engine.tape.Tape` through `web.feed.view`, the function live publishing
and `sync` use: the tape shows a seat exactly what its live client received.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Flask, abort, current_app, render_template, request, url_for

from tabletop.engine import Viewer, beliefs
from tabletop.engine import events as ev
from tabletop.engine.tape import Tape
from tabletop.engine.views import summary
from tabletop.script.models import Exercise, from_snapshot

from .auth import error, facilitator_api, facilitator_page
from .feed import personal_to, view, viewer_of
from .runtime import runtime
from .share import MAX_SHARE_HOURS, expiry, gone, read_token, refused, sign_token

tape = Blueprint("tape", __name__)
SHARE_SALT = "tabletop.tape-share"
#: Views of events sent with a moment: the latest ones up to it (the page asks for earlier ones).
WINDOW = 120
#: The most events a moment sends when the page asks for them all (`limit`).
MAX_WINDOW = 5000
#: Tapes kept in memory (one per session, extended as its log grows).
MAX_TAPES = 8
#: Seconds a tape is trusted to hold the whole log before the store is asked again (a running session).
FRESH = 1.0
#: Relay threads shown with a moment (the latest).
RELAY_THREADS = 30


# ------------------------------------------------------------------ the tapes
class Tapes:
    """The app's tapes, one per session, extended with the events appended since (a running session).

    At most MAX_TAPES are kept, the least recently asked for dropped first. A session's lock (one
    request builds or extends its tape, the others wait for it) and the time its log was last looked
    at are kept only while its tape is, or while a request uses the lock: asking for any number of
    sessions, known or not, keeps at most MAX_TAPES of each, plus one per request in progress.
    """

    def __init__(self) -> None:
        self._tapes: OrderedDict[str, Tape] = OrderedDict()
        self._checked: dict[str, float] = {}  # session -> when its log's length was last looked at
        self._lock = threading.Lock()
        self.locks: dict[str, threading.Lock] = {}
        self._users: dict[str, int] = {}  # session -> requests holding or waiting for its lock

    @contextmanager
    def _slot(self, session_id: str) -> Iterator[threading.Lock]:
        """The session's lock, for one request; forgotten after the last request using it when the
        session has no tape kept (unknown, or its tape dropped meanwhile)."""
        with self._lock:
            lock = self.locks.setdefault(session_id, threading.Lock())
            self._users[session_id] = self._users.get(session_id, 0) + 1
        try:
            yield lock
        finally:
            with self._lock:
                self._users[session_id] -= 1
                if not self._users[session_id]:
                    del self._users[session_id]
                    if session_id not in self._tapes:
                        self._forget(session_id)

    def _forget(self, session_id: str) -> None:
        """Drop what is kept beside a tape (under `_lock`, when no request uses the session's lock)."""
        self.locks.pop(session_id, None)
        self._checked.pop(session_id, None)

    def get(self, session_id: str) -> Tape | None:
        session_id = session_id[:32]  # the store's id: the one key of the tapes, their locks and checks
        store = runtime().store
        with self._slot(session_id) as lock, lock:
            with self._lock:
                found = self._tapes.get(session_id)  # another request may have built it meanwhile
            if found is None:
                row = store.get_session(session_id)
                if row is None:
                    return None
                found = Tape(
                    from_snapshot(row.script), store.events_after(session_id, 0), view=view, personal=personal_to
                )
                self._checked[session_id] = time.monotonic()
            elif time.monotonic() - self._checked.get(session_id, 0.0) > FRESH:
                self._checked[session_id] = time.monotonic()
                if store.last_seq(session_id) > found.last_seq:  # a running session: what was appended since
                    appended = store.events_after(session_id, found.last_seq)
                    with found.lock:
                        found.extend(appended)
            with self._lock:
                self._tapes[session_id] = found
                self._tapes.move_to_end(session_id)
                while len(self._tapes) > MAX_TAPES:
                    dropped, _ = self._tapes.popitem(last=False)
                    if dropped not in self._users:  # else its last request forgets it
                        self._forget(dropped)
        return found


def tapes() -> Tapes:
    found = current_app.extensions.get("tabletop.tapes")
    if found is None:
        found = current_app.extensions["tabletop.tapes"] = Tapes()
    return found


# ---------------------------------------------------------------- viewers
def viewers(tape_: Tape, team: str | None = None) -> list[dict[str, str]]:
    """The views the page offers: control, each team, each seat, each participant who joined (only
    one team's with `team`: a share link for that team)."""
    ex = tape_.exercise
    found = [] if team else [{"key": "control", "label": "Control (everything)", "group": "Control"}]
    participants = tape_.participants
    for t in ex.teams:
        if team and t.id != team:
            continue
        found.append({"key": f"team:{t.id}", "label": f"{t.name} (the team)", "group": t.name})
        for p in t.positions:
            found.append({"key": f"seat:{t.id}/{p.id}", "label": f"{t.name}: {p.title}", "group": t.name})
        for joined in participants.values():
            if joined.kind == "player" and joined.team == t.id:
                title = next((p.title for p in t.positions if p.id == joined.position), joined.position or "")
                found.append({"key": f"p:{joined.participant}", "label": f"{joined.name} ({title})", "group": t.name})
    if not team:
        for joined in participants.values():
            if joined.kind == "observer":
                found.append(
                    {"key": f"p:{joined.participant}", "label": f"{joined.name} (observer)", "group": "Observers"}
                )
    return found


def viewer_for(tape_: Tape, key: str, team: str | None = None) -> Viewer | None:
    """The viewer a key names (None: no such viewer, or not one a share link for `team` allows)."""
    ex = tape_.exercise
    teams = {t.id for t in ex.teams}
    if key == "control":
        return None if team else Viewer("control")
    kind, _, rest = key.partition(":")
    if kind == "team" and rest in teams:
        found = Viewer("player", rest)
    elif kind == "seat":
        who, _, position = rest.partition("/")
        if who not in teams or position not in {p.id for p in ex.team(who).positions}:
            return None
        found = Viewer("player", who, position=position)
    elif kind == "p" and rest.isdigit() and len(rest) < 12:
        joined = tape_.participants.get(int(rest))
        if joined is None:
            return None
        found = viewer_of(joined)
    else:
        return None
    if team and not (found.kind == "player" and found.team == team):
        return None
    return found


# ----------------------------------------------------------------- moments
def _seq_arg(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 11 else None


def _thread_key(item: dict[str, Any], relays: set[str]) -> int | None:
    """The relayed message (its `message_sent`'s seq) a view is a step of, or None."""
    kind, p = item["type"], item["payload"]
    if kind == ev.MESSAGE_SENT:
        return item["seq"] if p.get("relay") else None
    if kind in (ev.MESSAGE_RELAYED, ev.MESSAGE_DELIVERED, ev.RELAY_NOTE, ev.MESSAGE_READ_BACK):
        key = p.get("message")
        return key if isinstance(key, int) and p.get("channel") in relays else None
    return None


def relay_threads(views: list[dict[str, Any]], exercise: Exercise) -> list[dict[str, Any]]:
    """The latest messages through a relay channel this viewer saw something of (`views`: its views up
    to the moment, in order), from its own views only: what it saw sent, what the intermediary did
    (held, forwarded, changed: only when the viewer was sent it) and what arrived. Nobody sees more of
    a thread here than its live client was sent. Read from the end: every step of a message comes at
    or after the message itself, so the walk stops below the oldest message kept."""
    relays = {c.id for c in exercise.channels if c.kind == "relay"}
    picked: dict[int, list[dict[str, Any]]] = {}
    for item in reversed(views):
        if len(picked) >= RELAY_THREADS and item["seq"] < min(picked):
            break
        key = _thread_key(item, relays)
        if key is None or (key not in picked and len(picked) >= RELAY_THREADS):
            continue
        picked.setdefault(key, []).append(item)
    threads: dict[int, dict[str, Any]] = {}
    for key, items in picked.items():
        for item in reversed(items):
            _step(threads, key, item)
    ordered = sorted(threads.values(), key=lambda th: th["last"])
    for thread in ordered:
        sent, passed = thread.get("sent"), thread.get("forwarded", thread.get("delivered"))
        thread["changed"] = sent is not None and passed is not None and sent != passed
        actions = [s.get("action") for s in thread["steps"] if s["type"] == ev.MESSAGE_RELAYED]
        thread["held"] = "hold" in actions
    return ordered


def _step(threads: dict[int, dict[str, Any]], key: int, item: dict[str, Any]) -> None:
    """One view of a relayed message added to its thread."""
    kind, p = item["type"], item["payload"]
    thread = threads.setdefault(key, {"message": key, "channel": p.get("channel"), "steps": []})
    if kind == ev.MESSAGE_SENT:
        thread.update(sent=p.get("text"), from_team=p.get("from_team"), name=p.get("name"), t=item["t"])
    step: dict[str, Any] = {"seq": item["seq"], "t": item["t"], "type": kind}
    for field in ("action", "text", "edited", "by", "name", "from_team", "team", "to"):
        if field in p:
            step[field] = p[field]
    thread["steps"].append(step)
    if kind == ev.MESSAGE_RELAYED and p.get("action") in ("forward", "edit") and "text" in p:
        thread["forwarded"] = p["text"]
    if kind == ev.MESSAGE_DELIVERED:
        thread["delivered"] = p.get("text")
    thread["last"] = item["seq"]


def belief_series(tape_: Tape, viewer: Viewer) -> list[dict[str, Any]]:
    """Each team's picture of each key question over the whole log, as the viewer may see it: control
    every team's, with the truth and the gap; a team only its own assessments (it was sent them)."""
    ex = tape_.exercise
    if not ex.key_questions:
        return []
    control = viewer.kind == "control"
    _seqs, views = tape_.views_of(viewer)
    series: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for item in views:
        if item["type"] != ev.ASSESSMENT:
            continue
        p = item["payload"]
        try:
            question = ex.key_question(p["question"])
        except KeyError:
            continue
        point = {
            "seq": item["seq"],
            "t": item["t"],
            "answer": p["answer"],
            "confidence": p["confidence"],
            "by": p["by"],
        }
        if control:
            point["gap"] = beliefs.gap(question, p["answer"], p["confidence"])
        series.setdefault((p["question"], p["team"]), []).append(point)
    shown = []
    for question in ex.key_questions:
        teams = beliefs.teams_asked(ex, question)
        if viewer.kind == "player":
            if viewer.team not in teams:
                continue
            teams = (viewer.team or "",)
        item = beliefs.question_view(question, truth=control)
        item["teams"] = [{"team": t, "points": series.get((question.id, t), [])} for t in teams]
        shown.append(item)
    return shown


def moment(
    tape_: Tape, viewer: Viewer, seq: int | None, *, first: bool = False, window: int = WINDOW
) -> dict[str, Any]:
    """What `viewer` had seen at `seq` (the last event of the log: None), as the page draws it: the
    latest `window` events of it."""
    with tape_.lock:  # one moment at a time per tape: it lends its fold, and views grow on first use
        return _moment(tape_, viewer, seq, first=first, window=window)


def _moment(tape_: Tape, viewer: Viewer, seq: int | None, *, first: bool, window: int) -> dict[str, Any]:
    seq = tape_.clamp(seq)
    event = tape_.event_at(seq)
    wall = event.wall if event is not None else time.time()
    views, total = tape_.seen(viewer, seq, window)
    everything, _count = tape_.seen(viewer, seq)
    authority = 0
    if viewer.kind == "player" and viewer.position:
        try:
            authority = tape_.exercise.position(viewer.position)[1].authority
        except KeyError:
            authority = 0
    state = summary(tape_.state_for(seq), viewer, wall, authority)  # the lent fold, read here only
    data: dict[str, Any] = {
        "seq": seq,
        "last_seq": tape_.last_seq,
        "t": round(event.t, 3) if event is not None else 0,
        "events": views,
        "total": total,
        "state": state,
        "relay": relay_threads(everything, tape_.exercise),
    }
    if first:
        data["marks"] = [m.as_dict() for m in tape_.marks(viewer)]
        data["beliefs"] = belief_series(tape_, viewer)
        data["end_t"] = round(tape_.events[-1].t, 3) if tape_.events else 0
        data["seqs"] = _timeline(tape_)
    return data


def _timeline(tape_: Tape) -> list[list[float]]:
    """[seq, t] of every 1 event in n (at most 2,000 points): the scrubber maps time to sequence."""
    step = max(1, len(tape_.events) // 2000)
    points = [[e.seq, round(e.t, 1)] for e in tape_.events[::step]]
    if tape_.events and points[-1][0] != tape_.events[-1].seq:
        points.append([tape_.events[-1].seq, round(tape_.events[-1].t, 1)])
    return points


def _page(tape_: Tape, session_id: str, *, team: str | None, shared: str | None) -> Any:
    key = request.args.get("as", "control" if team is None else f"team:{team}")[:64]
    viewer = viewer_for(tape_, key, team)
    if viewer is None:
        key, viewer = ("control", Viewer("control")) if team is None else (f"team:{team}", Viewer("player", team))
    first = moment(tape_, viewer, _seq_arg(request.args.get("seq")), first=True)
    first["as"] = key
    moment_url = (
        url_for("tape.shared_moment", token=shared) if shared else url_for("tape.tape_moment", session_id=session_id)
    )
    teams = {t.id: t.name for t in tape_.exercise.teams}
    with tape_.lock:
        offered = viewers(tape_, team)
    groups: dict[str, list[dict[str, str]]] = {}
    for item in offered:
        groups.setdefault(item["group"], []).append(item)
    return render_template(
        "tape.html",
        exercise=tape_.exercise,
        session_id=session_id,
        first=first,
        viewers=offered,
        viewer_groups=list(groups.items()),
        teams=teams,
        channels={c.id: c.name for c in tape_.exercise.channels},
        moment_url=moment_url,
        shared=shared,
        projector=request.args.get("projector") == "1",
        share_url=None if shared else url_for("tape.share", session_id=session_id),
        shared_link=None,
    )


def _moment_json(tape_: Tape, team: str | None) -> Any:
    key = request.args.get("as", "control")[:64]
    viewer = viewer_for(tape_, key, team)
    if viewer is None:
        return error(404, "unknown_viewer", f"no such view '{key}' of this session")
    seq = _seq_arg(request.args.get("seq"))
    step = request.args.get("step")
    if step in ("next", "prev") and seq is not None:
        with tape_.lock:
            seq = tape_.step(viewer, seq, forward=step == "next")
    limit = _seq_arg(request.args.get("limit"))
    window = WINDOW if limit is None else max(1, min(limit, MAX_WINDOW))
    data = moment(tape_, viewer, seq, first=request.args.get("first") == "1", window=window)
    data["as"] = key
    # Compact and unsorted (jsonify sorts keys): a moment of a 2,000-exchange session is large.
    response = current_app.response_class(
        json.dumps({"ok": True, **data}, separators=(",", ":"), ensure_ascii=False), mimetype="application/json"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ------------------------------------------------------------------- routes
@tape.get("/sessions/<session_id>/tape")
@facilitator_page
def tape_page(session_id: str) -> Any:
    """The tape of a session (running or finished), as control or any team, seat or participant."""
    found = tapes().get(session_id)
    if found is None:
        abort(404)
    return _page(found, session_id, team=None, shared=None)


@tape.get("/sessions/<session_id>/tape/moment")
@facilitator_api
def tape_moment(session_id: str) -> Any:
    found = tapes().get(session_id)
    if found is None:
        return error(404, "unknown_session", f"unknown session '{session_id[:32]}'")
    return _moment_json(found, None)


# ------------------------------------------------------------------- sharing
def share_token(app: Flask, session_id: str, hours: float, team: str | None) -> str:
    """A signed, timestamped token naming a session, the views it opens (every view, or one team's)
    and how many hours the link works."""
    return sign_token(app, SHARE_SALT, {"s": session_id, "v": team or "*"}, hours)


def read_share_token(app: Flask, token: str, now: float | None = None) -> tuple[tuple[str, str | None] | None, str]:
    """((session, team or None), "") for a good token; (None, "expired" | "invalid") otherwise."""
    data, problem = read_token(app, SHARE_SALT, token, {"s": str, "v": str}, now)
    if data is None:
        return None, problem
    return (data["s"], None if data["v"] == "*" else data["v"]), ""


@tape.post("/sessions/<session_id>/tape/share")
@facilitator_page
def share(session_id: str) -> Any:
    """A read-only link to the tape that expires: every view, or one team's (form: hours, team)."""
    found = tapes().get(session_id)
    if found is None:
        abort(404)
    try:
        hours = float(request.form.get("hours", "72"))
    except ValueError:
        hours = 0.0
    team = request.form.get("team") or None
    if not 0 < hours <= MAX_SHARE_HOURS or (team is not None and team not in {t.id for t in found.exercise.teams}):
        return gone(
            "That link cannot be made",
            f"Give a number of hours above 0 and at most {MAX_SHARE_HOURS}, and a team of the session.",
            400,
        )
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    token = share_token(app, session_id, hours, team)
    expires = expiry(hours)
    return render_template(
        "tape_shared.html",
        url=url_for("tape.shared_page", token=token, _external=True),
        expires=expires,
        team=team,
        team_name=found.exercise.team(team).name if team else "",
        session_id=session_id,
    )


def _shared(token: str) -> tuple[tuple[Tape, str, str | None] | None, str]:
    """((the tape, its session, the team or None), "") for a good link; (None, "expired" | "invalid" |
    "gone") otherwise."""
    found, problem = read_share_token(current_app._get_current_object(), token[:600])  # type: ignore[attr-defined]
    if found is None:
        return None, problem
    session_id, team = found
    tape_ = tapes().get(session_id)
    return (None, "gone") if tape_ is None else ((tape_, session_id, team), "")


@tape.get("/tape/shared/<token>")
def shared_page(token: str) -> Any:
    """The shared tape, read-only: no account, no share button."""
    found, problem = _shared(token)
    if found is None:
        if problem == "gone":
            return gone("This session is no longer available", "It may have been removed.")
        return refused(problem)
    tape_, session_id, team = found
    return _page(tape_, session_id, team=team, shared=token[:600])


@tape.get("/tape/shared/<token>/moment")
def shared_moment(token: str) -> Any:
    found, _problem = _shared(token)
    if found is None:
        return error(403, "link", "this link is not valid or has expired")
    tape_, _session_id, team = found
    return _moment_json(tape_, team)
