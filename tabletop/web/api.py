"""The JSON API: log in, join, create and inspect sessions. Documented in docs/protocol.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from tabletop import seats
from tabletop.sessions import NotFound, create_session, library_entries, session_info

from .auth import error, facilitator_api, forget_facilitator, json_body, known_session, may_run, same_site
from .cluster import cluster, revoke_token
from .extensions import failed, join_limit, limiter
from .runtime import runtime

api = Blueprint("api", __name__, url_prefix="/api")


@api.post("/login")
@limiter.limit(join_limit, deduct_when=failed)
def login() -> Any:
    """{username, password} -> {token}: a facilitator's bearer token."""
    data = json_body()
    if data is None or not isinstance(data.get("username"), str) or not isinstance(data.get("password"), str):
        return error(400, "bad_payload", 'send JSON {"username": ..., "password": ...}')
    identity = runtime().store.check_facilitator(data["username"][:80], data["password"][:200])
    if identity is None:
        return error(401, "bad_login", "wrong username or password")
    token = runtime().store.issue_token("facilitator", identity.id)
    return jsonify({"ok": True, "token": token, "username": identity.name})


@api.post("/logout")
def logout() -> Any:
    """Revoke the token this request carries (`Authorization: Bearer`, a facilitator's or a seat's; else
    the pages' login): it stops working at once, and its open Socket.IO connections are closed."""
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.startswith("Bearer ") else None
    by_cookie = token is None
    if by_cookie:
        if g.facilitator is None:
            return error(401, "unauthorised", "send the token to revoke as 'Authorization: Bearer TOKEN'")
        if not same_site():
            return error(403, "cross_site", "log out from Tabletop's own pages, or with a bearer token")
        token = g.facilitator_token
    if not isinstance(token, str) or runtime().store.identify(token) is None:
        return error(401, "unauthorised", "this token is unknown, expired or revoked already")
    revoke_token(token, "logout")
    if by_cookie:
        forget_facilitator()
    return jsonify({"ok": True})


@api.post("/join")
@limiter.limit(join_limit, deduct_when=failed)
def join() -> Any:
    """{code, name, position} -> {token}: a seat for a player (or an observer, without position)."""
    data = json_body()
    if data is None:
        return error(400, "bad_payload", 'send JSON {"code": ..., "name": ..., "position": ...}')
    try:
        seat = seats.join(runtime().live, data.get("code"), data.get("name"), data.get("position"))
    except seats.JoinRefused as exc:
        return error(exc.status, exc.code, exc.message)
    details = {k: v for k, v in seat.payload.items() if k != "participant"}
    return jsonify(
        {"ok": True, "token": seat.token, "session": seat.session, **details, "participant": seat.participant}
    )


@api.get("/exercises")
@facilitator_api
def exercises() -> Any:
    cfg = current_app.config
    entries = library_entries(Path(cfg["EXERCISES_DIR"]), Path(cfg["INJECTS_DIR"]))
    return jsonify(
        {
            "ok": True,
            "exercises": [
                {
                    "file": path.name,
                    "id": ex.id if ex else None,
                    "title": ex.title if ex else None,
                    "teams": [t.id for t in ex.teams] if ex else [],
                    "injects": len(ex.injects) if ex else 0,
                    "duration": ex.duration if ex else None,
                    "problems": problems,
                }
                for path, ex, problems in entries
            ],
        }
    )


@api.post("/sessions")
@facilitator_api
def new_session() -> Any:
    """{exercise} -> the session with a join code per team and one for observers."""
    data = json_body()
    if data is None or not isinstance(data.get("exercise"), str):
        return error(400, "bad_payload", 'send JSON {"exercise": EXERCISE_ID}')
    cfg = current_app.config
    try:
        info = create_session(
            runtime().store,
            data["exercise"][:64],
            Path(cfg["EXERCISES_DIR"]),
            Path(cfg["INJECTS_DIR"]),
            g.facilitator.id,
            (cfg.get("PUBLIC_URL") or request.host_url).rstrip("/"),
        )
    except NotFound as exc:
        return error(404, "unknown_exercise", str(exc))
    return jsonify({"ok": True, **info}), 201


@api.get("/sessions")
@facilitator_api
def sessions() -> Any:
    rows = [r for r in runtime().store.list_sessions() if may_run(g.facilitator, r)]
    return jsonify(
        {
            "ok": True,
            "sessions": [
                {
                    "session": r.id,
                    "exercise": r.exercise_id,
                    "title": r.title,
                    "status": r.status,
                    "created": r.created_at.isoformat(),
                }
                for r in rows
            ],
        }
    )


@api.get("/sessions/<session_id>")
@facilitator_api
def session_detail(session_id: str) -> Any:
    try:
        return jsonify({"ok": True, **session_info(runtime().store, session_id[:32], request.host_url.rstrip("/"))})
    except NotFound as exc:
        return error(404, "unknown_session", str(exc))


@api.put("/sessions/<session_id>/observers")
@facilitator_api
@known_session
def observer_teams(session_id: str) -> Any:
    """{teams: [...]}: the teams observers who join from now on may watch."""
    data = json_body()
    rt = runtime()
    teams = rt.teams(session_id)
    chosen = data.get("teams") if data else None
    if not isinstance(chosen, list) or not chosen or any(t not in teams for t in chosen):
        return error(400, "bad_payload", f"'teams' must list teams of this exercise ({', '.join(teams)})")
    rt.store.set_observer_teams(session_id, chosen)
    return jsonify({"ok": True, "teams": chosen})


# ------------------------------------------------------------------ seats (the facilitator's roster)
@api.get("/sessions/<session_id>/participants")
@facilitator_api
@known_session
def participants(session_id: str) -> Any:
    """Who is seated now, and whether each is connected (to any worker)."""
    rt = runtime()
    online = set(cluster().presence.online(session_id))
    return jsonify(
        {
            "ok": True,
            "participants": [{**vars(p), "online": p.participant in online} for p in seats.roster(rt.live, session_id)],
        }
    )


@api.delete("/sessions/<session_id>/participants/<int:participant>")
@facilitator_api
@known_session
def remove_participant(session_id: str, participant: int) -> Any:
    """Remove a participant: its token stops working and its connections close, on every worker."""
    rt = runtime()
    try:
        gone = seats.remove(rt.live, session_id, participant, g.facilitator.name)
    except seats.JoinRefused as exc:
        return error(exc.status, exc.code, exc.message)
    cluster().revoke({"participant": gone.participant}, "removed")
    return jsonify({"ok": True, "removed": vars(gone)})


@api.post("/sessions/<session_id>/participants/<int:participant>/seat")
@facilitator_api
@known_session
def move_participant(session_id: str, participant: int) -> Any:
    """{team, position}: seat a player elsewhere. Its token now opens the new seat; its open connections
    are closed (`revoked` with reason `moved`) so that its page loads again as the new seat."""
    rt = runtime()
    data = json_body()
    if data is None:
        return error(400, "bad_payload", 'send JSON {"team": TEAM, "position": POSITION}')
    try:
        seated = seats.move(
            rt.live, session_id, participant, data.get("team"), data.get("position"), g.facilitator.name
        )
    except seats.JoinRefused as exc:
        return error(exc.status, exc.code, exc.message)
    cluster().revoke({"participant": participant}, "moved")
    return jsonify({"ok": True, "moved": participant, "seat": vars(seated)})


def _api_error(status: int, code: str, message: str, exc: Any) -> Any:
    """JSON errors for the API; other paths keep their HTML error pages."""
    if request.path.startswith("/api/"):
        return error(status, code, message)
    return exc


@api.app_errorhandler(429)
def too_many(exc: Any) -> Any:
    return _api_error(429, "rate_limited", f"too many attempts ({exc.description}): wait and try again", exc)


@api.app_errorhandler(413)
def too_large(exc: Any) -> Any:
    limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    return _api_error(413, "too_large", f"the request is larger than {limit} MiB", exc)


@api.app_errorhandler(404)
def not_found(exc: Any) -> Any:
    return _api_error(404, "not_found", f"no such endpoint: {request.method} {request.path[:100]}", exc)


@api.app_errorhandler(405)
def not_allowed(exc: Any) -> Any:
    return _api_error(405, "method_not_allowed", f"{request.method} is not allowed on {request.path[:100]}", exc)


@api.app_errorhandler(400)
def bad_request(exc: Any) -> Any:
    message = exc.description if isinstance(exc, HTTPException) and exc.description else "bad request"
    return _api_error(400, "bad_payload", str(message)[:300], exc)


@api.app_errorhandler(500)
def internal(exc: Any) -> Any:
    """An unexpected failure (Flask has logged it): under /api/ a JSON `internal`, never an HTML page."""
    return _api_error(500, "internal", "the server failed to answer this request; nothing was changed", exc)


@api.app_errorhandler(HTTPException)
def other_http_error(exc: HTTPException) -> Any:
    """Any other HTTP error under /api/ (415, 501 ...): JSON, with its status and a code from its name."""
    status = exc.code or 500
    code = (exc.name or "error").lower().replace(" ", "_").replace("-", "_")
    return _api_error(status, code, str(exc.description or exc.name)[:300], exc)
