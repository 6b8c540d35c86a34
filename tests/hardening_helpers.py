"""Helpers of the hardening tests (issue 16): a bystander that keeps talking during an attack, and
raw Socket.IO frames over a WebSocket, as a hostile client sends them."""

from __future__ import annotations

import json
import statistics
import threading
import time
from typing import Any

import websocket

from .live_server import Client, Server


class Bystander:
    """A player in a session of its own who sends a message every `interval` seconds and times each
    round trip (the acknowledgement). `report()` prints the figures; `check()` asserts only that the
    server kept answering and that every acknowledged message is in the log once (no threshold:
    those live in the benchmark)."""

    def __init__(self, server: Server, name: str = "bystander", interval: float = 0.06) -> None:
        token = server.login()
        info = server.post("/api/sessions", {"exercise": "minimal"}, token).json()
        self.client = Client(server, server.join(info["codes"]["iran"], "Bystander", "irgcn")["token"])
        self.client.connect()
        self.name, self.interval = name, interval
        self.times: list[float] = []
        self.acked: list[int] = []
        self.failures: list[Any] = []
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Bystander:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        deadline = time.monotonic() + 5  # a short attack: still a few round trips to report
        while len(self.times) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.stop_flag.set()
        self.thread.join(30)

    def _run(self) -> None:
        n = 0
        while not self.stop_flag.is_set():
            n += 1
            started = time.perf_counter()
            try:
                answer = self.client.call("send_message", {"channel": "team", "text": f"{self.name} {n}"})
            except Exception as exc:  # noqa: BLE001 - recorded, and the check fails on it
                self.failures.append(repr(exc))
                continue
            self.times.append(time.perf_counter() - started)
            if answer.get("ok"):
                self.acked.append(answer["seq"])
            else:
                self.failures.append(answer)
            self.stop_flag.wait(self.interval)

    def report(self, attack: str) -> dict[str, float]:
        ms = sorted(t * 1000 for t in self.times) or [0.0]
        figures = {
            "n": len(ms),
            "p50": statistics.median(ms),
            "p95": ms[min(len(ms) - 1, int(len(ms) * 0.95))],
            "max": ms[-1],
        }
        print(
            f"\n[bystander during {attack}] {figures['n']} round trips: p50 {figures['p50']:.1f} ms, "
            f"p95 {figures['p95']:.1f} ms, max {figures['max']:.1f} ms"
        )
        return figures

    def check(self, attack: str) -> None:
        """The server kept serving the bystander, and lost none of its messages."""
        self.report(attack)
        assert len(self.times) >= 5, f"the bystander was not served during {attack}"
        assert not self.failures, self.failures[:3]
        answer = self.client.call("sync", {"after": 0, "limit": 1000})
        stored = [e["seq"] for e in answer["events"] if e["type"] == "message"]
        assert sorted(self.acked) == sorted(set(self.acked)) and set(self.acked) <= set(stored)
        self.client.disconnect()


class RawSocket:
    """A Socket.IO connection spoken by hand over a WebSocket: for frames no library would send."""

    def __init__(self, server: Server, token: str) -> None:
        url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(url, timeout=10)
        assert self.ws.recv().startswith("0")  # Engine.IO open
        self.ws.send("40" + json.dumps({"token": token}))
        answer = self.recv_packet()
        assert answer.startswith("0"), answer  # Socket.IO connected

    def recv_packet(self, timeout: float = 10) -> str:
        """The next Socket.IO packet (Engine.IO pings answered on the way)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            data = self.ws.recv()
            if data == "2":
                self.ws.send("3")
                continue
            if isinstance(data, str) and data.startswith("4"):
                return data[1:]
        raise TimeoutError("no packet")

    def send(self, frame: str | bytes, binary: bool = False) -> None:
        if binary:
            self.ws.send_binary(frame)  # type: ignore[arg-type]
        else:
            self.ws.send(frame)

    def answers(self, ack: int, timeout: float = 10) -> tuple[str, list[str]]:
        """The acknowledgement with this id, and the other packets that came first (error events)."""
        others = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            packet = self.recv_packet(deadline - time.monotonic())
            if packet.startswith(f"3{ack}["):
                return packet, others
            others.append(packet)
        raise TimeoutError(f"no acknowledgement {ack}")

    def close(self) -> None:
        self.ws.close()


def call(client: Client, name: str, payload: Any) -> Any:
    """A call that waits out the connection's budget (`rate_limited`) and tries again."""
    for _ in range(100):
        answer = client.call(name, payload)
        if answer.get("ok") or answer["error"]["code"] != "rate_limited":
            return answer
        time.sleep(0.1)
    raise AssertionError(f"{name}: rate limited for 10 s")
