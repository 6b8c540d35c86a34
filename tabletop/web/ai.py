"""AI seats on the web (issue 15, docs/ai-seats.md): the facilitator's routes and the wiring.

`init_ai(app)` reads the settings (AI_BASE_URL, AI_MODEL, AI_API_KEY, AI_TIMEOUT, AI_SEAT_TOKENS,
AI_SESSION_TOKENS, AI_ACTIONS_PER_MINUTE: the app's config, else the environment), keeps the seats
this worker plays (`tabletop.ai.Seats`) and wakes them after each event it publishes (they also
look at the log every second, for events other workers append). Routes, facilitators only:

- `GET  /api/sessions/ID/ai`: the endpoint's model, the session's setting, every seat with its status
  and counts, its latest actions, the session's token budget;
- `POST /api/sessions/ID/ai` `{team, position, kind: ai|bot, name?, relay_actions?}`: seat one;
- `POST /api/sessions/ID/ai/settings` `{told: bool}`: whether players are told (seats added later; an
  `ai_disclosure` event, so the setting outlives a restart and every worker reads it);
- `POST /api/sessions/ID/ai/PID` `{action: pause|resume|take_over|hand_over}`: take over gives this
  browser the seat (open the room page); hand over frees the seat for a person (the team's join code).
"""

from __future__ import annotations

import os
from typing import Any

from flask import Blueprint, Flask, current_app, g, jsonify, url_for

from tabletop import seats as seating
from tabletop.ai import AIConfig, Seats
from tabletop.ai.schema import RELAY_ACTIONS

from .auth import error, facilitator_api, json_body, known_session, remember_seat
from .cluster import cluster
from .runtime import runtime

ai = Blueprint("ai", __name__, url_prefix="/api")
SETTINGS = (
    "AI_BASE_URL",
    "AI_MODEL",
    "AI_API_KEY",
    "AI_TIMEOUT",
    "AI_MAX_TOKENS",
    "AI_SEAT_TOKENS",
    "AI_SESSION_TOKENS",
    "AI_ACTIONS_PER_MINUTE",
)


def init_ai(app: Flask) -> None:
    for name in SETTINGS:
        if app.config.get(name) in (None, "") and os.environ.get(name):
            app.config[name] = os.environ[name]
    rt = app.extensions["tabletop"]
    registry = Seats(rt.live, AIConfig.from_mapping(app.config), halt=rt.stop)  # Runtime.close ends the seats
    app.extensions["tabletop.ai"] = registry
    publish = rt.live.publish

    def publish_and_wake(session_id: str, event: Any, state: Any) -> None:
        publish(session_id, event, state)
        registry.wake(session_id)

    rt.live.publish = publish_and_wake
    app.register_blueprint(ai)


def registry() -> Seats:
    return current_app.extensions["tabletop.ai"]


@ai.get("/sessions/<session_id>/ai")
@facilitator_api
@known_session
def ai_seats(session_id: str) -> Any:
    seats = registry()
    seats.adopt(session_id)  # seats of the log this server does not play yet (it restarted)
    budget = seats.budget(session_id)
    return jsonify(
        {
            "ok": True,
            "enabled": seats.config.enabled,
            "model": seats.config.model,
            "told": seats.told(session_id),
            "budget": {"limit": budget.limit, "spent": budget.spent},
            "seats": [{**r.info(), "recent": r.recent[-8:]} for r in seats.of(session_id)],
        }
    )


@ai.post("/sessions/<session_id>/ai/settings")
@facilitator_api
@known_session
def ai_settings(session_id: str) -> Any:
    data = json_body()
    if data is None or not isinstance(data.get("told"), bool):
        return error(400, "bad_payload", 'send JSON {"told": true | false}')
    told = registry().disclose(session_id, data["told"], g.facilitator.name)  # an event: kept in the log
    return jsonify({"ok": True, "told": told})


@ai.post("/sessions/<session_id>/ai")
@facilitator_api
@known_session
def add_ai_seat(session_id: str) -> Any:
    data = json_body()
    if data is None:
        return error(400, "bad_payload", 'send JSON {"team": TEAM, "position": POSITION, "kind": "ai" | "bot"}')
    kind = data.get("kind", "ai")
    team, position, name = data.get("team"), data.get("position"), data.get("name", "")
    actions = data.get("relay_actions", list(RELAY_ACTIONS))
    if kind not in ("ai", "bot") or not isinstance(team, str) or not isinstance(position, str):
        return error(400, "bad_payload", "'kind' is ai or bot; 'team' and 'position' name a seat of the exercise")
    if not isinstance(name, str) or len(name) > 60:
        return error(400, "bad_payload", "'name' is optional text of at most 60 characters")
    if not isinstance(actions, list) or not actions or any(a not in RELAY_ACTIONS for a in actions):
        return error(400, "bad_payload", f"'relay_actions' lists some of {', '.join(RELAY_ACTIONS)}")
    try:
        runner = registry().add(
            session_id,
            team,
            position,
            kind=kind,
            name=name.strip(),
            relay_actions=tuple(actions),
        )
    except ValueError as exc:
        return error(400, "bad_payload", str(exc))
    return jsonify({"ok": True, "seat": runner.info()}), 201


@ai.post("/sessions/<session_id>/ai/<int:participant>")
@facilitator_api
@known_session
def control_ai_seat(session_id: str, participant: int) -> Any:
    data = json_body()
    action = data.get("action") if data else None
    if action not in ("pause", "resume", "take_over", "hand_over"):
        return error(400, "bad_payload", 'send JSON {"action": "pause" | "resume" | "take_over" | "hand_over"}')
    try:
        runner = registry().set_status(session_id, participant, action)
    except LookupError as exc:
        return error(404, "unknown_participant", str(exc))
    except ValueError as exc:
        return error(409, "bad_state", str(exc))
    body: dict[str, Any] = {"ok": True, "seat": runner.info()}
    rt = runtime()
    if action == "take_over":
        # This browser sits in the seat from now on: the room page plays it, as the same participant.
        token = rt.store.issue_token("participant", participant)
        remember_seat(session_id, token)
        body["room"] = url_for("pages.room", session_id=session_id)
    elif action == "hand_over":
        try:
            seating.remove(rt.live, session_id, participant, "AI seats: handed to a person")
        except seating.JoinRefused as exc:
            return error(exc.status, exc.code, exc.message)
        cluster().revoke({"participant": participant}, "removed")
        codes = {c.team: c.code for c in rt.store.codes(session_id) if c.kind == "player"}
        body["code"] = codes.get(runner.actor.team or "")
    return jsonify(body)
