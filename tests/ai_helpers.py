"""For the AI seat tests: a tiny OpenAI-compatible peer (canned, garbage, slow answers) and the real
model server (llama.cpp's, through llama-cpp-python, with the Gemma 3 270M model the setup assembles)."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .services import unavailable

ROOT = Path(__file__).resolve().parent.parent
MODEL_NAME = "gemma-3-270m-q4_k_m"

Answer = Callable[[dict[str, Any]], tuple[int, Any]]  # request body -> (status, JSON body or raw text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chat_reply(content: str, tokens: int = 50) -> dict[str, Any]:
    return {
        "id": "x",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": tokens - 10, "completion_tokens": 10, "total_tokens": tokens},
    }


@contextmanager
def fake_endpoint(answer: Answer) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An OpenAI-compatible endpoint answering with `answer`; yields (base URL, the requests it got)."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            seen.append({"path": self.path, **body})
            status, reply = answer(body)
            raw = reply.encode() if isinstance(reply, str) else json.dumps(reply).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except OSError:
                pass  # the client gave up (a time-out test)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()
        server.server_close()


def model_path() -> Path | None:
    """The assembled model file (scripts/setup.sh dev puts it in instance/models/), or None."""
    found = ROOT / "instance" / "models" / f"{MODEL_NAME}.gguf"
    return found if found.is_file() else None


def llama_server_missing() -> str | None:
    """Why the real model server cannot run here, or None."""
    found = importlib.util.find_spec("llama_cpp")  # not imported here: it opens files it never closes
    server = [Path(p) / "server" / "__main__.py" for p in (found.submodule_search_locations or [])] if found else []
    if not any(p.is_file() for p in server) or importlib.util.find_spec("uvicorn") is None:
        return "llama-cpp-python[server] is not installed (scripts/setup.sh dev)"
    if model_path() is None:
        return f"the model is not assembled (scripts/setup.sh dev): instance/models/{MODEL_NAME}.gguf"
    return None


@contextmanager
def llama_server() -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server with the small Gemma model; yields its base URL."""
    port = free_port()
    path = model_path()
    assert path is not None
    log = open(ROOT / "instance" / "llama-server-test.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", MODEL_NAME,
            "--chat_format", "chatml", "--host", "127.0.0.1", "--port", str(port),
            "--n_ctx", "2048", "--n_threads", "1", "--n_threads_batch", "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"the model server exited ({process.returncode}): see instance/llama-server-test.log"
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the model server did not start in 90 s") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:  # busy with a request: it would finish it first
            process.kill()
            process.wait(10)
        log.close()


@pytest.fixture(scope="session")
def model_url() -> Iterator[str]:
    """The real model server for the session's AI tests: skipped without it, except on CI (CI=true),
    where a missing server fails the run."""
    missing = llama_server_missing()
    if missing:
        unavailable(f"the AI seat tests need the model server: {missing}")
    with llama_server() as url:
        yield url
