"""Bearer tokens for the JSON API and Socket.IO: who is asking."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, jsonify, request

from tabletop.store import Identity

from .runtime import runtime


def error(status: int, code: str, message: str) -> tuple[Any, int]:
    return jsonify({"ok": False, "error": {"code": code, "message": message}}), status


def bearer() -> Identity | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return runtime().store.identify(header[7:].strip())


def facilitator_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        identity = bearer()
        if identity is None or identity.kind != "facilitator":
            return error(401, "unauthorised", "log in as a facilitator first (POST /api/login)")
        g.identity = identity
        return view(*args, **kwargs)

    return wrapped
