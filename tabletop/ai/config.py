"""The operator's settings for AI seats: the endpoint, the model and the limits."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AIConfig:
    base_url: str = ""  # AI_BASE_URL: an OpenAI-compatible API, e.g. http://127.0.0.1:8080/v1
    model: str = ""  # AI_MODEL: the model's name as that server knows it
    api_key: str = ""  # AI_API_KEY: sent as a bearer token when set
    timeout: float = 30.0  # AI_TIMEOUT: seconds one model call may take
    max_tokens: int = 96  # AI_MAX_TOKENS: tokens one answer may hold
    seat_tokens: int = 40_000  # AI_SEAT_TOKENS: tokens one seat may spend in a session
    session_tokens: int = 150_000  # AI_SESSION_TOKENS: tokens all AI seats of a session may spend
    actions_per_minute: int = 12  # AI_ACTIONS_PER_MINUTE: commands one seat may send (wall clock)
    temperature: float = 0.2

    @property
    def enabled(self) -> bool:
        return bool(self.base_url and self.model)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> AIConfig:
        """From a Flask config or the environment (`AI_BASE_URL`, `AI_MODEL`, `AI_API_KEY`, ...)."""

        def get(name: str, default: Any, kind: type) -> Any:
            found = values.get(name)
            if found in (None, ""):
                return default
            return kind(found)

        return cls(
            base_url=str(get("AI_BASE_URL", "", str)).rstrip("/"),
            model=get("AI_MODEL", "", str),
            api_key=get("AI_API_KEY", "", str),
            timeout=get("AI_TIMEOUT", cls.timeout, float),
            max_tokens=get("AI_MAX_TOKENS", cls.max_tokens, int),
            seat_tokens=get("AI_SEAT_TOKENS", cls.seat_tokens, int),
            session_tokens=get("AI_SESSION_TOKENS", cls.session_tokens, int),
            actions_per_minute=get("AI_ACTIONS_PER_MINUTE", cls.actions_per_minute, int),
        )

    @classmethod
    def from_env(cls) -> AIConfig:
        return cls.from_mapping(os.environ)
