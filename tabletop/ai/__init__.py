"""AI seats (issue 15): a seat played by a language model on the operator's own OpenAI-compatible server.

Pure parts (no Flask, no network): `view` (what the seat sees: the engine's `redact`, the one
redaction path), `schema` (the JSON schema of the actions it may take now, and their validation
into the same commands a person sends), `prompt` (the chat messages). `client` speaks to the one
configured endpoint; `runner` plays seats through `Live.command`, one queue and one thread per
seat, under time-outs and token budgets. See docs/ai-seats.md.
"""

from __future__ import annotations

from .config import AIConfig
from .runner import Brain, ModelBrain, ScriptedBrain, SeatRunner, Seats
from .schema import Invalid, action_schema, validate
from .view import SeatView, seat_view

__all__ = [
    "AIConfig",
    "Brain",
    "Invalid",
    "ModelBrain",
    "ScriptedBrain",
    "SeatRunner",
    "SeatView",
    "Seats",
    "action_schema",
    "seat_view",
    "validate",
]
