"""An OpenAI-compatible chat client for the one endpoint the operator configured (AI_BASE_URL).

It calls nothing else: no proxy from the environment, no redirect followed (a redirect to any
URL is an error), only `POST {AI_BASE_URL}/chat/completions`. The answer is constrained to a JSON
schema: first as OpenAI's `response_format: {"type": "json_schema", ...}` (vLLM, Ollama, llama.cpp's
own server); a server that refuses that form (llama-cpp-python's answers 500 naming `response_format`)
is asked again with
`{"type": "json_object", "schema": ...}`, and that form is kept for the client's life.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from .config import AIConfig


class ModelError(Exception):
    """The endpoint could not be used: down, slow, refused, or answered something unreadable."""


@dataclass(frozen=True)
class Reply:
    text: str
    tokens: int  # prompt + completion, as the server counted them (or estimated)
    seconds: float


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is answered as the HTTP error it is: never followed to another host


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


class ChatClient:
    def __init__(self, config: AIConfig) -> None:
        if not config.base_url.startswith(("http://", "https://")):
            raise ValueError("AI_BASE_URL must be an http:// or https:// URL of an OpenAI-compatible API")
        self.config = config
        self.url = config.base_url.rstrip("/") + "/chat/completions"
        self.schema_form = "json_schema"

    def _format(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self.schema_form == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": "actions", "strict": True, "schema": schema}}
        return {"type": "json_object", "schema": schema}

    def chat(self, messages: list[dict[str, str]], schema: dict[str, Any], timeout: float | None = None) -> Reply:
        """One completion constrained to `schema`; ModelError when the endpoint fails or times out."""
        started = time.monotonic()
        for attempt in (1, 2):
            body = {
                "model": self.config.model,
                "messages": messages,
                "max_tokens": self.config.max_tokens,
                "temperature": self.config.temperature,
                "response_format": self._format(schema),
            }
            try:
                data = self._post(body, timeout or self.config.timeout)
            except _Refused as exc:
                if attempt == 1 and self.schema_form == "json_schema":
                    self.schema_form = "json_object"  # llama-cpp-python's form
                    continue
                raise ModelError(str(exc)) from None
            break
        seconds = time.monotonic() - started
        try:
            text = data["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise ModelError("the endpoint's answer has no choices[0].message.content") from None
        usage = data.get("usage") if isinstance(data, dict) else None
        tokens = usage.get("total_tokens") if isinstance(usage, dict) else None
        if not isinstance(tokens, int) or tokens < 0:
            tokens = (len(json.dumps(messages)) + len(str(text))) // 4  # no usage reported: an estimate
        return Reply(str(text), tokens, seconds)

    def _post(self, body: dict[str, Any], timeout: float) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        request = urllib.request.Request(self.url, json.dumps(body).encode(), headers, method="POST")  # noqa: S310 http(s) only, checked in __init__
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                raw = response.read(2_000_000)
        except urllib.error.HTTPError as exc:
            detail = exc.read(500).decode("utf-8", "replace") if exc.fp else ""
            if exc.code == 422 or (exc.code in (400, 500) and "response_format" in detail):
                raise _Refused(f"HTTP {exc.code}: {detail[:200]}") from None
            raise ModelError(f"the endpoint answered HTTP {exc.code}: {detail[:200]}") from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ModelError(f"the endpoint could not be reached: {reason}") from None
        try:
            return json.loads(raw)
        except ValueError:
            raise ModelError("the endpoint's answer is not JSON") from None


class _Refused(Exception):
    """The server refused the request's form (its `response_format`)."""
