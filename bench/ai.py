"""AI seats (issue 15): latency per AI action, and the game's message latency with three AI seats.

Runs llama-cpp-python's server with the small Gemma 3 270M model (scripts/setup.sh dev assembles
it), and Tabletop (`app.py`) on tests/data/relay.yaml, both on 127.0.0.1.

1. *Per AI action*: an AI Oman intermediary; the U.S. writes on the Oman line, one message at a
   time; the time from the U.S. send to control receiving Oman's `message_relayed`, and the model's
   own time per call (from the seat's counts).
2. *Message latency*: the U.S. writes on the public channel (delivered at once) every
   `--gap` seconds, with no AI seat, then with three (Oman's intermediary, the U.S. liaison and a
   second Iranian seat: all think about what they see while the people talk, on the same machine);
   the time from the send to Iran's client receiving it.

    .venv/bin/python bench/ai.py [--actions 6] [--messages 40] [--gap 0.5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import latency_summary  # noqa: E402
from tests.ai_helpers import MODEL_NAME, llama_server, llama_server_missing  # noqa: E402
from tests.live_server import Server, running_server  # noqa: E402


class Ear:
    """A socket client that notes when each event arrives."""

    def __init__(self, server: Server, token: str, session: str | None = None) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.session = session
        self.got: list[tuple[float, dict[str, Any]]] = []
        self.cond = threading.Condition()
        self.sio.on("event", self._event)
        self.sio.connect(server.url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
        if session:
            assert self.call("watch", {"session": session})["ok"]

    def _event(self, data: dict[str, Any]) -> None:
        with self.cond:
            self.got.append((time.monotonic(), data))
            self.cond.notify_all()

    def call(self, event: str, data: dict[str, Any]) -> Any:
        if self.session and event != "watch":
            data = {"session": self.session, **data}
        return self.sio.call(event, data, timeout=30)

    def wait(self, test: Any, timeout: float) -> float | None:
        """When the first event passing `test` arrived (None: not within `timeout`)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = next((t for t, e in self.got if test(e)), None)
                if found is not None or time.monotonic() > deadline:
                    return found
                self.cond.wait(0.1)


def session_with(server: Server, token: str, seats: list[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    info = server.post("/api/sessions", {"exercise": "relay"}, token).json()
    for team, position in seats:
        body = {"team": team, "position": position, "relay_actions": ["forward", "edit"]}
        answer = server.post(f"/api/sessions/{info['session']}/ai", body, token)
        assert answer.status_code == 201, answer.text
    return info["session"], info["codes"]


def per_action(server: Server, token: str, actions: int) -> dict[str, Any]:
    session, codes = session_with(server, token, [("oman", "omani-liaison")])
    control = Ear(server, token, session)
    us = Ear(server, server.join(codes["us"], "Alice", "j3")["token"])
    assert control.call("clock", {"action": "start"})["ok"]
    took: list[float] = []
    missed = 0
    for k in range(actions):
        started = time.monotonic()
        sent = us.call("send_message", {"channel": "oman-line", "text": f"Message {k}: keep 1,000 yards."})
        seq = sent["seq"]
        done = control.wait(lambda e, s=seq: e["type"] == "message_relayed" and e["payload"]["message"] == s, 240)
        if done is None:
            missed += 1
        else:
            took.append(done - started)
    seat = server.get(f"/api/sessions/{session}/ai", token).json()
    for ear in (control, us):
        ear.sio.disconnect()
    info = seat["seats"][0]
    return {
        "action": latency_summary(took),
        "missed": missed,
        "tokens": seat["budget"]["spent"],
        "actions": info["actions"],
        "dropped": info["dropped"],
        "failures": info["failures"],
    }


def message_latency(server: Server, token: str, seats: list[tuple[str, str]], messages: int, gap: float) -> dict:
    session, codes = session_with(server, token, seats)
    control = Ear(server, token, session)
    us = Ear(server, server.join(codes["us"], "Alice", "j3")["token"])
    iran = Ear(server, server.join(codes["iran"], "Reza", "irgcn")["token"])
    assert control.call("clock", {"action": "start"})["ok"]
    sent: dict[str, float] = {}
    for k in range(messages):
        text = f"public {k}"
        if k % 10 == 0:  # something for the intermediary to relay now and then
            us.call("send_message", {"channel": "oman-line", "text": f"Line message {k}"})
        sent[text] = time.monotonic()
        us.call("send_message", {"channel": "public", "text": text})
        time.sleep(gap)
    took = []
    for text, at in sent.items():
        got = iran.wait(lambda e, x=text: e["type"] == "message" and e["payload"].get("text") == x, 10)
        if got is not None:
            took.append(got - at)
    ai = server.get(f"/api/sessions/{session}/ai", token).json()
    for ear in (control, us, iran):
        ear.sio.disconnect()
    return {
        "message": latency_summary(took),
        "ai_turns": sum(s["turns"] for s in ai["seats"]),
        "ai_actions": sum(s["actions"] for s in ai["seats"]),
        "ai_tokens": ai["budget"]["spent"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--actions", type=int, default=6, help="AI actions to time (0: none)")
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--gap", type=float, default=0.5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    missing = llama_server_missing()
    if missing:
        print(f"bench/ai.py: {missing}", file=sys.stderr)
        return 1
    results: dict[str, Any] = {"model": MODEL_NAME}
    with llama_server() as url, tempfile.TemporaryDirectory() as tmp:
        env = {"AI_BASE_URL": url, "AI_MODEL": MODEL_NAME, "AI_TIMEOUT": "120"}
        with running_server(Path(tmp), **env) as server:
            token = server.login()
            if args.actions:
                results["per_action"] = per_action(server, token, args.actions)
                print("per AI action:", json.dumps(results["per_action"]), flush=True)
            results["no_ai"] = message_latency(server, token, [], args.messages, args.gap)
            print("messages, no AI seat:", json.dumps(results["no_ai"]), flush=True)
            three = [("oman", "omani-liaison"), ("us", "liaison-us"), ("iran", "irgcn")]
            results["three_ai"] = message_latency(server, token, three, args.messages, args.gap)
            print("messages, three AI seats:", json.dumps(results["three_ai"]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
