"""Who is asking: loaded once per request into `g` (flaskr's `load_logged_in_user`), one decorator per role.

Before every request (static files aside) `load_identity` sets:

- `g.facilitator` (`Identity | None`): a facilitator, from the request's `Authorization: Bearer`
  token (API clients, the pages' scripts) or else from the pages' login (the Flask session cookie,
  whose token is renewed here when it has expired);
- `g.facilitator_token` (`str | None`): a bearer token of that facilitator, handed to the pages'
  scripts for Socket.IO and the JSON API;
- `g.participant` (`Identity | None`): the player or observer this browser sits as in the session
  the URL names (`<session_id>`), from the seat token its Flask session keeps;
- `g.participant_token` (`str | None`): that seat's token, for the room's scripts.

Views then only read `g`, through one decorator per role:

- `facilitator_page`: a page; without a facilitator, a redirect to the login page;
- `facilitator_api`: a JSON route; without a facilitator, 401 `{"ok": false, "error": {...}}`. A
  state-changing call authenticated by the login cookie alone (no bearer token) must also come from
  this site (`same_site`): otherwise 403 `cross_site`, so that another site cannot make a logged-in
  facilitator's browser start builds or mint share links;
- `known_session` (below `facilitator_api`): a JSON route of one session; an unknown session gets
  404 `unknown_session`, a known one reaches the view as the store's id (the URL's first 32 characters);
- `participant_page`: a participant's page; without a seat, a redirect to the join page.

Socket.IO connections do not go through these hooks: sockets.py identifies a connection by the
token it connects with. Both turn an identity into the engine's `Actor` with `actor_for`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, request, session, url_for

from tabletop.engine import Actor
from tabletop.engine.commands import unstorable
from tabletop.store import Identity

from .runtime import runtime

auth = Blueprint("auth", __name__)


def error(status: int, code: str, message: str) -> tuple[Any, int]:
    """The JSON API's error body: `{"ok": false, "error": {"code", "message"}}` with its status."""
    return jsonify({"ok": False, "error": {"code": code, "message": message}}), status


def json_body() -> dict[str, Any] | None:
    """The request's JSON object, or None when the body is not one (each route says what it wants).

    A body nested too deeply for the parser, or holding what the log cannot store (a lone surrogate,
    a number beyond 2**53), is answered 400 `bad_payload` here, as JSON, never as a 500 page. Called
    inside the views, so that the login and join rate limits count these refusals as failures.
    """
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        abort(400, "the JSON body is nested too deeply")
    problem = unstorable(data, "body") if data is not None else None
    if problem:
        abort(400, problem)
    return data if isinstance(data, dict) else None


# ----------------------------------------------------------- who is asking
@auth.before_app_request
def load_identity() -> None:
    """Identify the facilitator and the participant of this request, once, into `g`."""
    g.facilitator = g.facilitator_token = g.participant = g.participant_token = None
    g.by_cookie = False
    if request.endpoint == "static":
        return
    found = _bearer_facilitator()
    if found is None:
        found = _page_login()
        g.by_cookie = found is not None
    if found is not None:
        g.facilitator, g.facilitator_token = found
    session_id = (request.view_args or {}).get("session_id")
    if isinstance(session_id, str):
        found = _seat(session_id[:32])
        if found is not None:
            g.participant, g.participant_token = found


def _bearer_facilitator() -> tuple[Identity, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = header[7:].strip()
    identity = runtime().store.identify(token)
    return (identity, token) if identity is not None and identity.kind == "facilitator" else None


def _page_login() -> tuple[Identity, str] | None:
    """The facilitator logged in to the pages; a fresh token when the old one has expired."""
    who = session.get("facilitator")
    if not isinstance(who, dict):
        return None
    store = runtime().store
    token = who.get("token", "")
    identity = store.identify(token) if isinstance(token, str) else None
    if identity is None or identity.kind != "facilitator" or identity.id != who.get("id"):
        # Renewed only when it merely expired: a revoked token (a logout, a disabled account) ends the login.
        fid = who.get("id")
        renewable = isinstance(token, str) and isinstance(fid, int) and store.token_expired(token)
        if not renewable or not isinstance(fid, int) or not store.facilitator_active(fid):
            session.pop("facilitator", None)
            return None
        token = store.issue_token("facilitator", who["id"])
        session["facilitator"] = {**who, "token": token}
        identity = Identity("facilitator", int(who["id"]), str(who.get("name", "")))
    return identity, token


def _seats() -> dict[str, str]:
    seats = session.get("seats")
    return seats if isinstance(seats, dict) else {}


def _seat(session_id: str) -> tuple[Identity, str] | None:
    token = _seats().get(session_id)
    identity = runtime().store.identify(token) if isinstance(token, str) else None
    if identity is None or identity.session_id != session_id or identity.kind == "facilitator":
        return None
    assert isinstance(token, str)
    return identity, token


# ------------------------------------------------- what the login pages keep
def remember_facilitator(identity: Identity, token: str) -> None:
    """After a page login: a fresh Flask session that keeps the facilitator and a token."""
    session.clear()
    session["facilitator"] = {"id": identity.id, "name": identity.name, "token": token}


def forget_facilitator() -> None:
    session.pop("facilitator", None)


def remember_seat(session_id: str, token: str) -> None:
    """After a join: this browser sits in the session with this token (a reload comes back to it)."""
    session["seats"] = {**_seats(), session_id: token}
    session.permanent = True


# -------------------------------------------------------------- decorators
# ------------------------------------------------------------ whose sessions
def is_admin(identity: Identity | None) -> bool:
    """An administrator sees and runs every session: a facilitator named in the ADMINS setting
    (comma-separated usernames; by default `admin`, the account a first start creates)."""
    names = {n.strip() for n in str(current_app.config.get("ADMINS", "admin")).split(",") if n.strip()}
    return identity is not None and identity.kind == "facilitator" and identity.name in names


def may_run(identity: Identity | None, row: Any) -> bool:
    """Whether a facilitator may see and run a session: it belongs to the facilitator who created it
    (a session made without one, by the command line, belongs to every facilitator); administrators
    run them all."""
    if identity is None:
        return False
    owner = getattr(row, "created_by", None)
    return owner is None or owner == identity.id or is_admin(identity)


def _not_theirs(kwargs: dict[str, Any]) -> bool:
    """Whether the route's session (its `session_id`, or the session of its `report_id`) belongs to
    another facilitator. Unknown sessions and reports are left to the view (its own 404)."""
    store = runtime().store
    session_id = kwargs.get("session_id")
    if session_id is None and isinstance(kwargs.get("report_id"), int):
        report = store.get_report(kwargs["report_id"])
        session_id = report.session_id if report is not None else None
    if not isinstance(session_id, str):
        return False
    row = store.get_session(session_id[:32])
    return row is not None and not may_run(g.facilitator, row)


NOT_THEIRS = "this session belongs to another facilitator (an administrator may open it)"


def facilitator_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """A facilitator's page: anyone else is sent to the login page, and back here after it; another
    facilitator's session is refused (403)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.facilitator is None:
            return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
        if _not_theirs(kwargs):
            abort(403, NOT_THEIRS)
        return view(*args, **kwargs)

    return wrapped


def facilitator_api(view: Callable[..., Any]) -> Callable[..., Any]:
    """A facilitator's JSON route: anyone else gets 401 with a JSON error."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.facilitator is None:
            return error(401, "unauthorised", "log in as a facilitator first (POST /api/login)")
        if _not_theirs(kwargs):
            return error(403, "forbidden", NOT_THEIRS)
        if g.by_cookie and not same_site():
            return error(
                403,
                "cross_site",
                "this request came from another site with your login cookie: "
                "send it from Tabletop's own pages, or with an 'Authorization: Bearer' token",
            )
        return view(*args, **kwargs)

    return wrapped


def same_site() -> bool:
    """Whether a request may act on the login cookie: a safe method, or sent by this site's pages.

    Browsers send `Origin` with every cross-site POST; without it (older clients) only a JSON body
    counts, which a cross-site form cannot send without a CORS preflight that this server refuses.
    """
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return True
    origin = request.headers.get("Origin")
    if origin:
        return urlsplit(origin).netloc == request.host
    return request.mimetype == "application/json"


def known_session(view: Callable[..., Any]) -> Callable[..., Any]:
    """A JSON route of one session (`<session_id>`): an unknown session gets 404 `unknown_session`;
    a known one is passed on as the store's id, the URL's first 32 characters. Placed below
    `facilitator_api`, so that who asks is checked first."""

    @wraps(view)
    def checked(*args: Any, session_id: str, **kwargs: Any) -> Any:
        session_id = session_id[:32]
        if runtime().store.get_session(session_id) is None:
            return error(404, "unknown_session", f"unknown session '{session_id}'")
        return view(*args, session_id=session_id, **kwargs)

    return checked


def participant_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """A page of someone seated in the URL's session: anyone else is sent to the join page."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.participant is None:
            flash("Join the session with your code first.", "error")
            return redirect(url_for("pages.join_page"))
        return view(*args, **kwargs)

    return wrapped


def actor_for(identity: Identity) -> Actor:
    """The engine's actor for an identity: control, an observer of its teams, or a player in a position."""
    if identity.kind == "facilitator":
        return Actor("control", None, identity.name)
    if identity.kind == "observer":
        return Actor("observer", identity.id, identity.name, teams=frozenset(identity.teams))
    return Actor("player", identity.id, identity.name, identity.team, identity.position)
