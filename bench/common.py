"""Shared pieces of the load benchmark: server processes, clients, meters and statistics.

Everything here talks to 127.0.0.1 only, and every loop is bounded in count and in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import socketio

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PASSWORD = "bench correct horse battery"


# ----------------------------------------------------------------- statistics
def pct(values: list[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear between the closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def latency_summary(seconds: list[float]) -> dict[str, Any]:
    """n, p50, p95, p99 and max in milliseconds."""
    out: dict[str, Any] = {"n": len(seconds)}
    for name, q in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100)):
        value = pct(seconds, q)
        out[name] = None if value is None else round(value * 1000, 1)
    return out


def fmt_ms(summary: dict[str, Any], *keys: str) -> str:
    keys = keys or ("p50", "p99")
    return " / ".join("-" if summary.get(k) is None else f"{summary[k]:.1f}" for k in keys)


# ------------------------------------------------------------------ processes
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class ServerProcess:
    """A server in its own process, logging to a file, stopped for sure at the end."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path, port: int, cwd: Path = ROOT) -> None:
        self.argv, self.env, self.log, self.port, self.cwd = argv, env, log, port, cwd
        self.url = f"http://{HOST}:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 30.0) -> ServerProcess:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited early:\n{self.log_tail()}") from None
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not open port {self.port} in {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def tracebacks(self) -> int:
        try:
            return self.log.read_text(errors="replace").count("Traceback (most recent call last)")
        except OSError:
            return 0


def python_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONSTARTUP", "FLASK_"))}
    env.update(extra)
    env["PYTHONUNBUFFERED"] = "1"
    return env


PY = sys.executable


# --------------------------------------------------------------------- meters
@dataclass
class Window:
    """CPU used by the server and by this bench process over a stretch of wall time."""

    meter: Meter
    wall0: float
    server0: float
    bench0: float
    busy0: float
    lag0: int
    each0: list[float] = field(default_factory=list)
    services0: dict[str, float] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)

    def end(self) -> dict[str, Any]:
        wall = time.monotonic() - self.wall0
        each = [now - then for now, then in zip(self.meter.each_cpu(), self.each0, strict=True)]
        server = sum(each)
        services = {k: v - self.services0.get(k, 0.0) for k, v in self.meter.services_cpu().items()}
        bench = self.meter.bench_cpu() - self.bench0
        others = busy_cpu() - self.busy0 - server - bench - sum(services.values())
        lags = self.meter.lags[self.lag0 :]
        self.result = {
            "seconds": round(wall, 2),
            "server_cpu_s": round(server, 3),
            "server_cores": round(server / wall, 3) if wall > 0 else None,
            "bench_cores": round(bench / wall, 3) if wall > 0 else None,
            "other_cores": round(max(0.0, others) / wall, 3) if wall > 0 else None,
            "loop_lag_p99_ms": None if not lags else round((pct(lags, 99) or 0) * 1000, 1),
            "loop_lag_max_ms": None if not lags else round(max(lags) * 1000, 1),
        }
        if len(each) > 1:  # several workers: each one's share
            self.result["worker_cpu_s"] = [round(c, 3) for c in each]
        if services:  # the database and the queue (several workers): CPU they spent meanwhile
            self.result["services_cpu_s"] = {k: round(v, 3) for k, v in services.items()}
        return self.result


class Meter:
    """The server's CPU (from cpu_times; several worker processes summed) and peak RSS (sampled every
    100 ms, summed), this loop's lag, and the CPU of the services several workers need (`services`:
    name -> a function giving that service's CPU seconds so far)."""

    def __init__(self, pid: int | list[int], services: dict[str, Callable[[], float]] | None = None) -> None:
        self.servers = [psutil.Process(p) for p in ([pid] if isinstance(pid, int) else pid)]
        self.server = self.servers[0]
        self.services = services or {}
        self.bench = psutil.Process()
        self.peak_rss = 0
        self.lags: list[float] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False

    def each_cpu(self) -> list[float]:
        out = []
        for proc in self.servers:
            t = proc.cpu_times()
            out.append(t.user + t.system)
        return out

    def server_cpu(self) -> float:
        return sum(self.each_cpu())

    def services_cpu(self) -> dict[str, float]:
        return {name: read() for name, read in self.services.items()}

    def bench_cpu(self) -> float:
        t = self.bench.cpu_times()
        return t.user + t.system

    def rss(self) -> int:
        total = 0
        for proc in self.servers:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    async def _sample_rss(self) -> None:
        while self._running:
            self.peak_rss = max(self.peak_rss, self.rss())
            await asyncio.sleep(0.1)

    async def _sample_lag(self) -> None:
        """How late this event loop wakes up: latency the clients add to every measurement."""
        while self._running and len(self.lags) < 1_000_000:
            start = time.monotonic()
            await asyncio.sleep(0.01)
            self.lags.append(max(0.0, time.monotonic() - start - 0.01))

    def start(self) -> Meter:
        self._running = True
        self._tasks = [asyncio.create_task(self._sample_rss()), asyncio.create_task(self._sample_lag())]
        return self

    async def stop(self) -> None:
        self._running = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def window(self) -> Window:
        each = self.each_cpu()
        return Window(
            self, time.monotonic(), sum(each), self.bench_cpu(), busy_cpu(), len(self.lags), each, self.services_cpu()
        )


def processes_cpu(match: Callable[[psutil.Process], bool]) -> Callable[[], float]:
    """CPU seconds so far of the processes `match` picks (their set may change: PostgreSQL forks a
    backend per connection). A process first seen counts from its start."""
    seen: dict[int, float] = {}

    def read() -> float:
        for proc in psutil.process_iter():
            with contextlib.suppress(psutil.Error):
                if match(proc):
                    t = proc.cpu_times()
                    seen[proc.pid] = t.user + t.system
        return sum(seen.values())

    return read


def busy_cpu() -> float:
    """CPU seconds the whole machine has spent busy (every process, every core)."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def others_cores(seconds: float = 1.0, skip: Iterable[int] = ()) -> float:
    """Cores used by processes other than this one (and `skip`) over the next `seconds`."""
    mine = [psutil.Process(), *(psutil.Process(p) for p in skip)]

    def own() -> float:
        total = 0.0
        for proc in mine:
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                total += t.user + t.system
        return total

    busy0, own0 = busy_cpu(), own()
    time.sleep(seconds)
    return max(0.0, (busy_cpu() - busy0) - (own() - own0)) / seconds


def wait_quiet(threshold: float = 0.25, patience: float = 60.0) -> float:
    """Wait (at most `patience` seconds) until other processes use less than `threshold` cores.

    The machine has two cores: what another process burns is taken from the server and the
    clients and shows up as latency. Returns the last figure seen, so results can report it.
    """
    deadline = time.monotonic() + patience
    load = others_cores()
    while load >= threshold and time.monotonic() < deadline:
        load = others_cores()
    return round(load, 2)


# -------------------------------------------------------------------- clients
class CountingHandler(logging.Handler):
    """Counts what python-socketio's and python-engineio's clients log as errors, instead of printing it.

    ("packet queue is empty, aborting": a client heard no ping from the server for 30 s and gave up.)
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.closing = False  # while the bench closes its clients, their "server sent close" is expected

    def emit(self, record: logging.LogRecord) -> None:
        if not self.closing:
            self.counts[f"client_log:{record.getMessage()[:60]}"] += 1


CLIENT_LOG = CountingHandler()
for _name in ("engineio.client", "socketio.client"):
    _logger = logging.getLogger(_name)
    _logger.addHandler(CLIENT_LOG)
    _logger.setLevel(logging.WARNING)  # set, so that the clients do not add a stderr handler of their own
    _logger.propagate = False


class Peer:
    """One python-socketio AsyncClient that keeps what it receives: (wall time, type, key) per event."""

    def __init__(self, ident: int, errors: Counter[str], *, room: str = "", session: int = 0) -> None:
        self.id = ident
        self.room = room  # its chat room (a team of a session, or a bare room)
        self.session = session  # index of its session in the scenario
        self.sid = ""  # the session's id, for a facilitator's commands
        self.errors = errors
        self.url = ""
        self.auth: dict[str, Any] | None = None
        self.token = ""
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("event", self._on_event)
        self.sio.on("error", self._on_error)
        self.sio.on("disconnect", self._on_disconnect)
        self.seen: set[int] = set()
        self.received: list[tuple[float, str, str | None]] = []
        self.walls: dict[str, float] = {}
        self.last_seq = 0
        self.closing = False
        self.message: Callable[[str], tuple[str, dict[str, Any]]] = lambda text: ("send_message", {"text": text})

    def _on_event(self, data: dict[str, Any]) -> None:
        now = time.time()
        seq = data.get("seq")
        if seq in self.seen:
            self.errors["duplicate_event"] += 1
            return
        if isinstance(seq, int):
            self.seen.add(seq)
            self.last_seq = max(self.last_seq, seq)
        kind = data.get("type") or ""
        payload = data.get("payload") or {}
        key = payload.get("text") if kind == "message" else payload.get("title")
        self.received.append((now, kind, key))
        if kind == "clock_started":
            self.walls[kind] = data["wall"]

    def _on_error(self, data: Any) -> None:
        code = data.get("code") if isinstance(data, dict) else "?"
        self.errors[f"error_event:{code}"] += 1

    def _on_disconnect(self, *_reason: Any) -> None:
        if not self.closing:
            self.errors["unexpected_disconnect"] += 1

    async def connect(self, timeout: float = 20.0) -> None:
        await self.sio.connect(self.url, auth=self.auth, transports=["websocket"], wait_timeout=timeout)

    async def close(self) -> None:
        self.closing = True
        with contextlib.suppress(Exception):
            await self.sio.disconnect()

    async def command(self, event: str, data: Any, timeout: float = 15.0) -> dict[str, Any] | None:
        """Send and await the acknowledgement; a refusal, a timeout or no connection is an error."""
        try:
            ack = await self.sio.call(event, data, timeout=timeout)
        except socketio.exceptions.TimeoutError:
            self.errors[f"ack_timeout:{event}"] += 1
            return None
        except socketio.exceptions.SocketIOError as exc:
            self.errors[f"not_connected:{event}:{type(exc).__name__}"] += 1
            return None
        if not isinstance(ack, dict) or not ack.get("ok"):
            code = (ack.get("error") or {}).get("code") if isinstance(ack, dict) else "no_ack"
            self.errors[f"refused:{event}:{code}"] += 1
            return None
        return ack

    def index(self, kind: str) -> dict[str | None, list[float]]:
        """Receive times of this peer's events of one type, by key (message text, inject title)."""
        out: dict[str | None, list[float]] = {}
        for when, k, key in self.received:
            if k == kind:
                out.setdefault(key, []).append(when)
        return out


async def bounded(limit: int, jobs: Iterable[Any]) -> list[Any]:
    """Run coroutines with at most `limit` in flight; results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Any) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(j) for j in jobs))


async def connect_all(peers: list[Peer], concurrency: int, timeout: float = 20.0) -> dict[str, Any]:
    """Connect every peer (at most `concurrency` handshakes in flight); time each and all."""
    durations: list[float] = []

    async def one(peer: Peer) -> None:
        start = time.monotonic()
        try:
            await peer.connect(timeout)
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            peer.errors[f"connect_failed:{type(exc).__name__}"] += 1
            return
        durations.append(time.monotonic() - start)

    start = time.monotonic()
    await bounded(concurrency, (one(p) for p in peers))
    return {
        "clients": len(peers),
        "connected": len(durations),
        "all_s": round(time.monotonic() - start, 3),
        "each": latency_summary(durations),
    }


async def close_all(peers: list[Peer], timeout: float = 30.0) -> None:
    for peer in peers:
        peer.closing = True
    CLIENT_LOG.closing = True
    try:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(bounded(100, (p.close() for p in peers)), timeout)
        await asyncio.sleep(0.2)
    finally:
        CLIENT_LOG.closing = False


# ------------------------------------------------------------------- analysis
def deliveries(
    sent: dict[str, tuple[float, Peer]],
    receivers: Callable[[Peer], list[Peer]],
    kind: str,
    errors: Counter[str],
    label: str,
) -> list[float]:
    """Latency at every receiver of every item sent (key -> (reference wall time, sender)).

    Every receiver must have it exactly once; the missing and the doubled are counted as errors.
    """
    indexes: dict[int, dict[str | None, list[float]]] = {}
    latencies: list[float] = []
    for key, (ref, sender) in sent.items():
        for peer in receivers(sender):
            index = indexes.get(id(peer))
            if index is None:
                index = indexes[id(peer)] = peer.index(kind)
            times = index.get(key, [])
            if not times:
                errors[f"missing:{label}"] += 1
                continue
            if len(times) > 1:
                errors[f"doubled:{label}"] += len(times) - 1
            latencies.append(min(times) - ref)
    return latencies


def receipts_between(peers: list[Peer], kind: str, prefix: str, t0: float, t1: float) -> int:
    return sum(
        1
        for peer in peers
        for when, k, key in peer.received
        if k == kind and t0 <= when <= t1 and key is not None and key.startswith(prefix)
    )
