"""Load benchmark: real python-socketio clients against a real Tabletop server, and against the floor.

    .venv/bin/python bench/load.py [--mode threading|gevent|both] [--quick] [--json PATH]

One bench process holds every client (python-socketio AsyncClient over aiohttp, websocket
transport); each server runs in its own process on 127.0.0.1, Tabletop on a fresh SQLite database
with a generated script (three teams of five positions, and a broadcast channel). Per async mode:

  S x P (20 x 15, 40 x 15)  S sessions of P players (three teams of five). For a fixed window
      every player sends a team-chat message every few seconds while each facilitator schedules
      live injects (`write_inject` with `at`, one of them due at the same instant in every
      session) and sends one "send now". Inject latency = receive time - due time at every player
      of the session; message latency = receive time - send time at every other member of the
      room and the facilitator. Then saturation: every player sends as fast as its acks come back.
  room  one session of 300 players (three teams of 100): connect time, "send now" fan-out to all
      300, team chat at 30 messages a second into the 100-member rooms, and a reconnect that
      catches up on 1,000 missed events.
  bare  the same traffic against bench/bare_server.py (no persistence, no authorisation), the
      floor: our saturated deliveries per second as a ratio of its.
  --workers  S x P against one worker on SQLite and against two workers on PostgreSQL and Redis
      (a database of its own on BENCH_POSTGRES_URL's server, a private redis-server), the players
      split between the workers: CPU per delivery of both, each worker's share, what PostgreSQL and
      Redis spent, and what that says about a third worker.

Server CPU comes from the server process's cpu_times over each window, peak RSS from sampling it
every 100 ms. Every loop is bounded in count and time; a whole run for both modes takes about
nine minutes (--quick: about three).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import json
import os
import platform
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from common import (
    CLIENT_LOG,
    HOST,
    PASSWORD,
    PY,
    ROOT,
    Meter,
    Peer,
    ServerProcess,
    bounded,
    close_all,
    connect_all,
    deliveries,
    fmt_ms,
    free_port,
    latency_summary,
    pct,
    processes_cpu,
    python_env,
    receipts_between,
    wait_quiet,
)

TEAMS = ("a", "b", "c")
PER_TEAM = 5  # positions per team in the generated script; more players share them
MB = 2**20


@dataclass
class Options:
    window: float = 20.0  # seconds of fixed load in S x P
    saturate: float = 10.0  # seconds of saturation in S x P
    recovery: float = 8.0  # seconds of normal chat after the burst (every player at once) in S x P
    period: float = 4.0  # mean seconds between one player's messages
    injects: int = 3  # scheduled injects per session (one due at the same instant everywhere)
    room_chat: float = 15.0  # seconds of 30 msg/s chat in the room scenario
    chat_rate: float = 30.0
    fanouts: int = 10
    concurrency: int = 50  # websocket handshakes in flight while connecting
    grace: float = 2.0  # seconds to let the last deliveries arrive
    seed: int = 7
    patience: float = 60.0  # seconds to wait for other processes to quieten before each scenario
    app_root: Path = ROOT  # the tree whose app.py is measured
    profile: str | None = None  # a folder: py-spy records the server through each measured window
    keep: bool = False  # keep each scenario's folder (server logs) instead of deleting it


def profiler(opts: Options, pid: int, name: str, seconds: float) -> subprocess.Popen[bytes] | None:
    """py-spy (if asked for and installed) samples the server for `seconds`: collapsed stacks to a file."""
    spy = shutil.which("py-spy") or str(Path(PY).parent / "py-spy")
    if not opts.profile or not Path(spy).exists():
        return None
    out = Path(opts.profile) / f"{name}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = [spy, "record", "--nonblocking", "--format", "raw", "-r", "200", "-d", str(int(seconds))]
    argv += ["-o", str(out), "--pid", str(pid)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def finish(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


# ------------------------------------------------------------------ topology
def meter_of(backend: Any) -> Meter:
    """The server's meter: every worker's CPU, and (several workers) PostgreSQL's and Redis's."""
    return Meter(getattr(backend.server, "pids", backend.server.pid), getattr(backend, "services", None))


@dataclass
class Topo:
    """Who is in which room: players by room and by session, one facilitator (control) per session."""

    controls: list[Peer] = field(default_factory=list)
    players: list[Peer] = field(default_factory=list)
    members: dict[str, list[Peer]] = field(default_factory=dict)
    by_session: dict[int, list[Peer]] = field(default_factory=dict)

    def add(self, peer: Peer) -> None:
        self.players.append(peer)
        self.members.setdefault(peer.room, []).append(peer)
        self.by_session.setdefault(peer.session, []).append(peer)

    def room_receivers(self, sender: Peer) -> list[Peer]:
        """A team message reaches the other members of the room and the session's facilitator."""
        return [p for p in self.members[sender.room] if p is not sender] + [self.controls[sender.session]]

    def session_players(self, control: Peer) -> list[Peer]:
        """An inject `to: all` reaches every player of the session."""
        return self.by_session[control.session]


def write_exercise(folder: Path) -> None:
    lines = ["format: 1", "id: bench-load", "title: Load benchmark", "duration: 4h", "teams:"]
    for team in TEAMS:
        lines += [f"  - id: {team}", f"    name: Team {team.upper()}", "    positions:"]
        lines += [f"      - {{id: {team}{k}, title: {team.upper()}{k}}}" for k in range(1, PER_TEAM + 1)]
    lines += ["channels:", "  - id: public", "    name: Public", "    kind: broadcast", "    members: [a, b, c]"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench-load.yaml").write_text("\n".join(lines) + "\n")


# ------------------------------------------------------------------ backends
def create_facilitator(app_root: Path, env: dict[str, str]) -> None:
    """The bench's facilitator account ('bench'), made with the app's own CLI."""
    created = subprocess.run(
        [PY, "-m", "flask", "--app", "app", "facilitator", "create", "bench", "--password-stdin"],
        cwd=app_root,
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    if created.returncode != 0:
        raise RuntimeError(f"facilitator create failed: {created.stderr}")


class Tabletop:
    """`python app.py` on a fresh database; sessions, seats and tokens through the JSON API."""

    name = "tabletop"
    scheduled = True

    def __init__(self, mode: str, workdir: Path, app_root: Path) -> None:
        self.mode = mode
        write_exercise(workdir / "exercises")
        port = free_port()
        self.env = python_env(
            DATABASE_URL=f"sqlite:///{workdir / 'bench.db'}",
            SECRET_KEY="bench-secret",
            EXERCISES_DIR=str(workdir / "exercises"),
            INJECTS_DIR=str(app_root / "injects"),
            REPORTS_DIR=str(workdir / "reports"),
            JOIN_RATE_LIMIT="100000 per minute",
            ASYNC_MODE=mode,
        )
        create_facilitator(app_root, self.env)
        argv = [PY, "app.py", "--port", str(port)]
        self.server = ServerProcess(argv, self.env, workdir / "server.log", port, cwd=app_root)
        self.http: aiohttp.ClientSession | None = None
        self.token = ""

    async def start(self) -> None:
        await asyncio.to_thread(self.server.start)
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32))
        self.token = (await self.post("/api/login", {"username": "bench", "password": PASSWORD}))["token"]

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.close()
        await asyncio.to_thread(self.server.stop)

    async def post(self, path: str, body: Any, token: str | None = None) -> dict[str, Any]:
        assert self.http is not None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.post(self.server.url + path, json=body, headers=headers) as response:
            data = await response.json()
            if response.status >= 300:
                raise RuntimeError(f"{path}: HTTP {response.status} {data}")
            return data

    async def new_session(self) -> dict[str, Any]:
        return await self.post("/api/sessions", {"exercise": "bench-load"}, self.token)

    def player(self, ident: int, errors: Counter[str], room: str, session: int, token: str) -> Peer:
        peer = Peer(ident, errors, room=room, session=session)
        peer.url, peer.auth, peer.token = self.server.url, {"token": token}, token
        peer.message = lambda text: ("send_message", {"channel": "team", "text": text, "client_id": text})
        return peer

    async def build(self, sessions: int, players: int, errors: Counter[str]) -> Topo:
        topo = Topo()
        seats: list[tuple[int, str, str, str]] = []
        for si in range(sessions):
            info = await self.new_session()
            control = Peer(-1 - si, errors, session=si)
            control.url, control.auth, control.sid = self.server.url, {"token": self.token}, info["session"]
            topo.controls.append(control)
            for i in range(players):
                team = TEAMS[i % len(TEAMS)]
                seats.append((si, team, info["codes"][team], f"{team}{(i // len(TEAMS)) % PER_TEAM + 1}"))

        async def join(n: int, seat: tuple[int, str, str, str]) -> Peer:
            si, team, code, position = seat
            answer = await self.post("/api/join", {"code": code, "name": f"Player {n}", "position": position})
            return self.player(n, errors, f"{si}:{team}", si, answer["token"])

        for peer in await bounded(16, (join(n, seat) for n, seat in enumerate(seats))):
            topo.add(peer)
        return topo

    async def prepare_controls(self, topo: Topo, concurrency: int) -> None:
        await connect_all(topo.controls, concurrency)
        await bounded(20, (c.command("watch", {"session": c.sid}) for c in topo.controls))
        await bounded(20, (c.command("sync", {"session": c.sid, "after": 0}) for c in topo.controls))

    async def sync_players(self, players: list[Peer], concurrency: int) -> dict[str, Any]:
        """Every player's first `sync` (what the browser does right after connecting), timed."""
        durations: list[float] = []

        async def one(peer: Peer) -> None:
            start = time.monotonic()
            if await peer.command("sync", {"after": 0}):
                durations.append(time.monotonic() - start)

        start = time.monotonic()
        await bounded(concurrency, (one(p) for p in players))
        return {"all_s": round(time.monotonic() - start, 3), "each": latency_summary(durations)}

    async def start_clocks(self, topo: Topo) -> None:
        await bounded(20, (c.command("clock", {"session": c.sid, "action": "start"}) for c in topo.controls))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all("clock_started" in c.walls for c in topo.controls):
            await asyncio.sleep(0.05)
        for c in topo.controls:
            if "clock_started" not in c.walls:
                c.errors["clock_started_not_seen"] += 1

    def inject(self, control: Peer, title: str, at: float | None = None) -> tuple[str, dict[str, Any]]:
        data: dict[str, Any] = {"session": control.sid, "to": "all", "title": title}
        if at is not None:
            data["at"] = round(at, 3)
        return "write_inject", data

    async def reconnect(self, errors: Counter[str], writers: int = 25, each: int = 40) -> dict[str, Any]:
        """A player drops; writers*each team messages are appended; it reconnects and syncs `after`."""
        info = await self.new_session()
        code = info["codes"]["a"]
        answers = await bounded(
            16,
            (
                self.post("/api/join", {"code": code, "name": f"R{i}", "position": f"a{i % PER_TEAM + 1}"})
                for i in range(writers + 1)
            ),
        )
        peers = [self.player(10_000 + i, errors, "rc:a", 0, a["token"]) for i, a in enumerate(answers)]
        absent, writing = peers[0], peers[1:]
        await absent.connect()
        first = await absent.command("sync", {"after": 0})
        last_seq = first["last_seq"] if first else 0
        await close_all([absent])
        await connect_all(writing, 25)

        async def write(peer: Peer) -> None:
            for n in range(each):
                await peer.command(*peer.message(f"rc-{peer.id}-{n}"))

        await asyncio.gather(*(write(p) for p in writing))
        await asyncio.sleep(0.5)
        again = self.player(absent.id, errors, "rc:a", 0, absent.token)
        t0 = time.monotonic()
        await again.connect()
        t1 = time.monotonic()
        answer = await again.command("sync", {"after": last_seq}, timeout=30)
        events = list((answer or {}).get("events", []))
        while answer and answer.get("more"):  # sync answers pages (docs/protocol.md): follow `more`
            answer = await again.command("sync", {"after": answer["through"]}, timeout=30)
            events += (answer or {}).get("events", [])
        t2 = time.monotonic()
        got = sum(1 for e in events if e["type"] == "message" and e["payload"]["text"].startswith("rc-"))
        if got != writers * each:
            errors["reconnect_missing"] += writers * each - got
        await close_all([again, *writing])
        return {
            "missed": got,
            "total_ms": round((t2 - t0) * 1000, 1),
            "connect_ms": round((t1 - t0) * 1000, 1),
            "sync_ms": round((t2 - t1) * 1000, 1),
            "answer_kb": round(len(json.dumps(answer or {})) / 1024, 1),
        }


class Bare:
    """bench/bare_server.py: rooms by query parameter, `send_message` emits to the room. The floor."""

    name = "bare"
    scheduled = False

    def __init__(self, mode: str, workdir: Path, app_root: Path) -> None:
        self.mode = mode
        port = free_port()
        env = python_env(ASYNC_MODE=mode)
        argv = [PY, str(ROOT / "bench" / "bare_server.py"), "--port", str(port)]
        self.server = ServerProcess(argv, env, workdir / "bare.log", port)
        self.rooms: dict[int, list[str]] = {}

    async def start(self) -> None:
        await asyncio.to_thread(self.server.start)

    async def stop(self) -> None:
        await asyncio.to_thread(self.server.stop)

    async def build(self, sessions: int, players: int, errors: Counter[str]) -> Topo:
        topo = Topo()
        n = 0
        for si in range(sessions):
            rooms = [f"s{si}-{team}" for team in TEAMS]
            self.rooms[si] = rooms
            control = Peer(-1 - si, errors, session=si)
            control.url = f"{self.server.url}?rooms={','.join(rooms)}"
            topo.controls.append(control)
            for i in range(players):
                room = rooms[i % len(TEAMS)]
                peer = Peer(n, errors, room=room, session=si)
                peer.url = f"{self.server.url}?rooms={room}"
                topo.add(peer)
                n += 1
        return topo

    async def prepare_controls(self, topo: Topo, concurrency: int) -> None:
        await connect_all(topo.controls, concurrency)

    async def sync_players(self, players: list[Peer], concurrency: int) -> dict[str, Any] | None:
        return None

    async def start_clocks(self, topo: Topo) -> None:
        return None

    def inject(self, control: Peer, title: str, at: float | None = None) -> tuple[str, dict[str, Any]]:
        return "send_message", {"text": title, "to": self.rooms[control.session], "kind": "inject"}


class ServerGroup:
    """Several workers of one deployment, seen as one server (clients pick a worker by `urls`)."""

    def __init__(self, servers: list[ServerProcess]) -> None:
        self.servers = servers
        self.url = servers[0].url
        self.urls = [s.url for s in servers]

    @property
    def pid(self) -> int:
        return self.servers[0].pid

    @property
    def pids(self) -> list[int]:
        return [s.pid for s in self.servers]

    def start(self) -> ServerGroup:
        for server in self.servers:
            server.start()
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def tracebacks(self) -> int:
        return sum(s.tracebacks() for s in self.servers)

    def republished(self) -> int:
        """Events a worker published from the outbox because their writer had not (yet) done so."""
        found = 0
        for server in self.servers:
            with contextlib.suppress(OSError):
                found += sum(int(n) for n in re.findall(r"published (\d+) events of session", server.log.read_text()))
        return found


class TabletopCluster(Tabletop):
    """Two (or more) `app.py` workers on one PostgreSQL database and a private Redis, as
    docs/deployment.md runs them (behind nginx in production: here each client picks its worker,
    players alternating, facilitators on the first)."""

    name = "tabletop-2w"
    workers = 3  # two serve the clients; the third has one idle connection: what one more worker costs
    serving = 2

    def __init__(self, mode: str, workdir: Path, app_root: Path) -> None:
        import psycopg

        self.mode = mode
        self.pg_admin = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        self.database = f"tabletop_bench_{secrets.token_hex(4)}"
        with psycopg.connect(self.pg_admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        redis_port = free_port()
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", HOST, "--save", "", "--appendonly", "no"],
            cwd=workdir,
            stdout=subprocess.DEVNULL,
        )
        write_exercise(workdir / "exercises")
        self.env = python_env(
            DATABASE_URL=self.pg_admin.rsplit("/", 1)[0] + "/" + self.database,
            MESSAGE_QUEUE=f"redis://{HOST}:{redis_port}/0",
            SECRET_KEY="bench-secret",
            EXERCISES_DIR=str(workdir / "exercises"),
            INJECTS_DIR=str(app_root / "injects"),
            REPORTS_DIR=str(workdir / "reports"),
            JOIN_RATE_LIMIT="100000 per minute",
            ASYNC_MODE=mode,
        )
        try:
            create_facilitator(app_root, self.env)
        except RuntimeError:
            self.cleanup()
            raise
        servers = []
        for n in range(self.workers):
            port = free_port()
            argv = [PY, "app.py", "--port", str(port)]
            servers.append(ServerProcess(argv, self.env, workdir / f"worker{n + 1}.log", port, cwd=app_root))
        self.server = ServerGroup(servers)  # type: ignore[assignment]
        self.http = None
        self.token = ""
        database, redis_pid = self.database, self.redis.pid
        self.services = {
            "postgres": processes_cpu(lambda proc: database in " ".join(proc.cmdline()[:1])),
            "redis": processes_cpu(lambda proc: proc.pid == redis_pid),
        }

    def player(self, ident: int, errors: Counter[str], room: str, session: int, token: str) -> Peer:
        peer = super().player(ident, errors, room, session, token)
        peer.url = self.server.urls[ident % self.serving]  # type: ignore[attr-defined]
        return peer

    async def start(self) -> None:
        await super().start()
        # The follower: one connection that joins no room (its worker then listens to the queue, as a
        # worker with clients does), and no traffic of its own.
        self.idle = Peer(-999, Counter())
        self.idle.url, self.idle.auth = self.server.urls[-1], {"token": self.token}  # type: ignore[attr-defined]
        await self.idle.connect()

    async def stop(self) -> None:
        if getattr(self, "idle", None) is not None:
            await self.idle.close()
        await super().stop()
        await asyncio.to_thread(self.cleanup)

    def cleanup(self) -> None:
        import psycopg

        if self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(10)
        with contextlib.suppress(psycopg.Error), psycopg.connect(self.pg_admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


Backend = Tabletop | Bare | TabletopCluster


# ------------------------------------------------------------------ traffic
async def sleep_until(deadline: float, seconds: float) -> None:
    await asyncio.sleep(max(0.0, min(seconds, deadline - time.monotonic())))


async def chatter(
    peer: Peer, prefix: str, t_end: float, period: float, sent: dict[str, tuple[float, Peer]], rng: random.Random
) -> None:
    """One player: a team message every `period` seconds on average (0.5x to 1.5x), until t_end."""
    await sleep_until(t_end, rng.uniform(0, period))
    for n in range(10_000):
        if time.monotonic() >= t_end:
            break
        text = f"{prefix}{peer.id}-{n}"
        start = time.time()
        if await peer.command(*peer.message(text)):
            sent[text] = (start, peer)
        await sleep_until(t_end, period * rng.uniform(0.5, 1.5))


async def saturate(peer: Peer, prefix: str, t_end: float) -> int:
    """One player sends as fast as its acknowledgements come back, until t_end."""
    acked = 0
    for n in range(100_000):
        if time.monotonic() >= t_end:
            break
        if await peer.command(*peer.message(f"{prefix}{peer.id}-{n}")):
            acked += 1
        else:
            await asyncio.sleep(0.05)
    return acked


async def paced(
    senders: list[Peer], rate: float, seconds: float, prefix: str, sent: dict[str, tuple[float, Peer]]
) -> None:
    """Exactly rate messages a second in total, from the senders in turn (fire and forget)."""
    pending: list[asyncio.Task[None]] = []
    start = time.monotonic()

    async def one(peer: Peer, text: str) -> None:
        t = time.time()
        if await peer.command(*peer.message(text)):
            sent[text] = (t, peer)

    for i in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        peer = senders[i % len(senders)]
        pending.append(asyncio.create_task(one(peer, f"{prefix}{peer.id}-{i}")))
    await asyncio.gather(*pending)


async def send_now(backend: Backend, control: Peer, delay: float, out: dict[str, tuple[float, Peer]]) -> None:
    await asyncio.sleep(delay)
    title = f"now-{control.session}"
    start = time.time()
    if await control.command(*backend.inject(control, title)):
        out[title] = (start, control)


# ----------------------------------------------------------------- scenarios
async def scenario_sp(backend: Backend, sessions: int, players: int, opts: Options) -> dict[str, Any]:
    errors: Counter[str] = Counter()
    res: dict[str, Any] = {"server": backend.name, "mode": backend.mode, "scenario": f"{sessions}x{players}"}
    rng = random.Random(opts.seed)
    await backend.start()
    meter = meter_of(backend).start()
    topo = Topo()
    try:
        start = time.monotonic()
        topo = await backend.build(sessions, players, errors)
        await backend.prepare_controls(topo, opts.concurrency)
        res["setup_s"] = round(time.monotonic() - start, 2)
        res["connect"] = await connect_all(topo.players, opts.concurrency)
        res["rss_connected_mb"] = round(meter.rss() / MB, 1)
        res["sync"] = await backend.sync_players(topo.players, opts.concurrency)
        await backend.start_clocks(topo)
        quiet_gc()

        # Scheduled injects: due times a few seconds ahead, one of them at the same instant everywhere.
        scheduled: dict[str, tuple[float, Peer]] = {}
        plan = time.time()
        together = plan + 2.0 + opts.window / 2
        late = 0
        if backend.scheduled:
            jobs = []
            for control in topo.controls:
                w0 = control.walls.get("clock_started", plan)
                dues = [together] + [plan + rng.uniform(3.0, opts.window) for _ in range(opts.injects - 1)]
                for k, due in enumerate(dues):
                    title = f"sched-{control.session}-{k}"
                    scheduled[title] = (due, control)
                    jobs.append(control.command(*backend.inject(control, title, at=due - w0)))
            await bounded(40, jobs)
            late = sum(1 for due, _c in scheduled.values() if due < time.time() + 0.3)
        res["scheduled_late_by_bench"] = late

        sent: dict[str, tuple[float, Peer]] = {}
        now_sent: dict[str, tuple[float, Peer]] = {}
        tag = f"{backend.mode}-{backend.name}-{sessions}x{players}"
        spy = profiler(opts, backend.server.pid, f"{tag}-fixed", opts.window)
        window = meter.window()
        wall0 = time.time()
        t_end = time.monotonic() + opts.window
        await asyncio.gather(
            *(chatter(p, "m", t_end, opts.period, sent, rng) for p in topo.players),
            *(send_now(backend, c, rng.uniform(1.0, opts.window - 1.0), now_sent) for c in topo.controls),
        )
        res["window"] = window.end()
        wall1 = time.time()
        await asyncio.to_thread(finish, spy)
        await asyncio.sleep(opts.grace)
        everyone = topo.players + topo.controls
        delivered = sum(1 for p in everyone for when, _k, _key in p.received if wall0 <= when <= wall1)
        res["messages"] = latency_summary(deliveries(sent, topo.room_receivers, "message", errors, "message"))
        res["messages_per_s"] = round(len(sent) / (wall1 - wall0), 1)
        res["deliveries_per_s"] = round(delivered / (wall1 - wall0), 1)
        cpu = res["window"]["server_cpu_s"]
        res["us_per_delivery"] = round(cpu / delivered * 1e6, 1) if delivered else None
        res["send_now"] = latency_summary(
            deliveries(now_sent, topo.session_players, "inject_released", errors, "send_now")
        )
        if backend.scheduled:
            res["injects"] = latency_summary(
                deliveries(scheduled, topo.session_players, "inject_released", errors, "inject")
            )
            same = {k: v for k, v in scheduled.items() if k.endswith("-0")}
            res["injects_same_instant"] = latency_summary(
                deliveries(same, topo.session_players, "inject_released", Counter(), "inject")
            )

        # A burst: every player answers at the same instant, then normal chat goes on. Nothing may be
        # dropped, and the latency of the normal chat after it must come back to the fixed-load level.
        burst_sent: dict[str, tuple[float, Peer]] = {}

        async def answer(peer: Peer) -> None:
            text = f"b{peer.id}"
            start = time.time()
            if await peer.command(*peer.message(text)):
                burst_sent[text] = (start, peer)

        after: dict[str, tuple[float, Peer]] = {}
        b0 = time.time()
        t_end = time.monotonic() + opts.recovery
        await asyncio.gather(
            *(answer(p) for p in topo.players), *(chatter(p, "r", t_end, opts.period, after, rng) for p in topo.players)
        )
        await asyncio.sleep(opts.grace)
        res["burst"] = latency_summary(deliveries(burst_sent, topo.room_receivers, "message", errors, "burst"))
        res["burst"]["messages"] = len(burst_sent)
        normal = res["messages"]["p95"] or 0.0
        bins: dict[int, list[float]] = {}
        for key, (ref, sender) in after.items():
            lat = deliveries({key: (ref, sender)}, topo.room_receivers, "message", errors, "after-burst")
            bins.setdefault(int(ref - b0), []).extend(lat)
        recovered = next(
            (second for second in sorted(bins) if (pct(bins[second], 95) or 0) * 1000 <= max(2 * normal, 50.0)),
            None,
        )
        res["burst"]["recovered_s"] = recovered  # first whole second after the burst back to normal p95

        # Saturation: every player as fast as its acknowledgements come back.
        spy = profiler(opts, backend.server.pid, f"{tag}-saturated", opts.saturate)
        sat = meter.window()
        s0 = time.time()
        t_end = time.monotonic() + opts.saturate
        acked = sum(await asyncio.gather(*(saturate(p, "x", t_end) for p in topo.players)))
        res["saturation_window"] = sat.end()
        s1 = time.time()
        await asyncio.to_thread(finish, spy)
        await asyncio.sleep(opts.grace)
        got = receipts_between(everyone, "message", "x", s0, s1)
        res["saturation"] = {
            "acked_per_s": round(acked / (s1 - s0), 1),
            "deliveries_per_s": round(got / (s1 - s0), 1),
            "us_per_delivery": round(res["saturation_window"]["server_cpu_s"] / got * 1e6, 1) if got else None,
        }
    finally:
        await close_all(topo.players + topo.controls)
        res["peak_rss_mb"] = round(meter.peak_rss / MB, 1)
        await meter.stop()
        await backend.stop()
    errors["server_tracebacks"] += backend.server.tracebacks()
    if isinstance(backend.server, ServerGroup):
        res["outbox_republished"] = backend.server.republished()
    res["errors"] = {k: v for k, v in sorted(errors.items()) if v}
    return res


async def scenario_room(backend: Backend, players: int, opts: Options) -> dict[str, Any]:
    errors: Counter[str] = Counter()
    res: dict[str, Any] = {"server": backend.name, "mode": backend.mode, "scenario": f"room 1x{players}"}
    await backend.start()
    meter = meter_of(backend).start()
    topo = Topo()
    try:
        topo = await backend.build(1, players, errors)
        await backend.prepare_controls(topo, opts.concurrency)
        res["connect"] = await connect_all(topo.players, opts.concurrency)
        res["rss_connected_mb"] = round(meter.rss() / MB, 1)
        res["sync"] = await backend.sync_players(topo.players, opts.concurrency)
        await backend.start_clocks(topo)
        quiet_gc()
        control = topo.controls[0]

        # "Send now" to all 300: from the facilitator's send to each player's receipt.
        fan: dict[str, tuple[float, Peer]] = {}
        window = meter.window()
        for k in range(opts.fanouts):
            title = f"fan-{k}"
            start = time.time()
            if await control.command(*backend.inject(control, title)):
                fan[title] = (start, control)
            await asyncio.sleep(0.5)
        res["fanout_window"] = window.end()
        await asyncio.sleep(opts.grace / 2)
        res["fanout"] = latency_summary(deliveries(fan, topo.session_players, "inject_released", errors, "fanout"))

        # Team chat at 30 messages a second into the 100-member rooms.
        sent: dict[str, tuple[float, Peer]] = {}
        spy = profiler(opts, backend.server.pid, f"{backend.mode}-{backend.name}-room-chat", opts.room_chat)
        window = meter.window()
        await paced(topo.players, opts.chat_rate, opts.room_chat, "c", sent)
        res["chat_window"] = window.end()
        await asyncio.to_thread(finish, spy)
        await asyncio.sleep(opts.grace)
        res["chat"] = latency_summary(deliveries(sent, topo.room_receivers, "message", errors, "chat"))
        res["chat_sent"] = len(sent)
        if isinstance(backend, Tabletop):
            res["reconnect"] = await backend.reconnect(errors)
    finally:
        await close_all(topo.players + topo.controls)
        res["peak_rss_mb"] = round(meter.peak_rss / MB, 1)
        await meter.stop()
        await backend.stop()
    errors["server_tracebacks"] += backend.server.tracebacks()
    res["errors"] = {k: v for k, v in sorted(errors.items()) if v}
    return res


def quiet_gc() -> None:
    """Collect now and move the clients' long-lived objects out of the collector's way.

    Without it a full collection over hundreds of clients stalls this event loop for up to a few
    hundred milliseconds in the middle of a window, and that would be counted as server latency.
    """
    gc.collect()
    gc.freeze()


async def run_one(
    kind: type[Tabletop] | type[Bare] | type[TabletopCluster], mode: str, job: Callable[[Backend], Any], opts: Options
) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"tabletop-bench-{mode}-"))
    others = await asyncio.to_thread(wait_quiet, 0.25, opts.patience)
    backend = kind(mode, workdir, opts.app_root)
    CLIENT_LOG.counts.clear()
    try:
        res = await asyncio.wait_for(job(backend), timeout=300)
        res["others_before"] = others
        for key, n in CLIENT_LOG.counts.items():
            res["errors"][key] = res["errors"].get(key, 0) + n
        return res
    finally:
        await asyncio.to_thread(backend.server.stop)
        if isinstance(backend, TabletopCluster):
            await asyncio.to_thread(backend.cleanup)
        if opts.keep:
            print(f"    logs kept in {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        gc.unfreeze()
        gc.collect()


# ------------------------------------------------------------------- report
def _errors(res: dict[str, Any]) -> str:
    errs = res.get("errors") or {}
    return "0" if not errs else f"{sum(errs.values())} ({', '.join(f'{k}={v}' for k, v in errs.items())})"


def _md_table(head: str, rows: list[list[str]]) -> list[str]:
    """A Markdown table: the header row, its rule, then a row per list of cells."""
    return [head, "|" + "---|" * (head.count("|") - 1)] + ["| " + " | ".join(cells) + " |" for cells in rows]


def sp_table(results: list[dict[str, Any]]) -> list[str]:
    head = (
        "| mode | server | S x P | connect all (s) | inject due->recv p50/p99 (ms) | same-instant p99 | send now "
        "p50/p99 | message p50/p99 (ms) | msgs/s | deliveries/s | server cores | us CPU/delivery | peak RSS (MB) "
        "| saturated deliveries/s | ratio to bare | other processes (cores) | errors |"
    )
    rows: list[list[str]] = []
    for r in results:
        if not r["scenario"][0].isdigit():
            continue
        rows.append(
            [
                r["mode"],
                r["server"],
                r["scenario"],
                f"{r['connect']['all_s']:.2f}",
                fmt_ms(r["injects"]) if "injects" in r else "-",
                fmt_ms(r["injects_same_instant"], "p99") if "injects_same_instant" in r else "-",
                fmt_ms(r["send_now"]),
                fmt_ms(r["messages"]),
                f"{r['messages_per_s']:.0f}",
                f"{r['deliveries_per_s']:.0f}",
                f"{r['window']['server_cores']:.2f}",
                f"{r['us_per_delivery']}",
                f"{r['peak_rss_mb']:.0f}",
                f"{r['saturation']['deliveries_per_s']:.0f}",
                f"{r['ratio']:.2f}" if r.get("ratio") is not None else "-",
                f"{r['window']['other_cores']:.2f} / {r['saturation_window']['other_cores']:.2f}",
                _errors(r),
            ]
        )
    return _md_table(head, rows)


def burst_table(results: list[dict[str, Any]]) -> list[str]:
    """Every player answering at the same instant, then normal chat."""
    head = (
        "| mode | server | S x P | burst messages | deliveries | burst p50/p99/max (ms) | "
        "normal chat back to its fixed-load p95 after (s) | errors |"
    )
    rows: list[list[str]] = []
    for r in results:
        b = r.get("burst")
        if not b:
            continue
        back = "-" if b.get("recovered_s") is None else f"{b['recovered_s']}"
        rows.append(
            [
                r["mode"],
                r["server"],
                r["scenario"],
                f"{b['messages']}",
                f"{b['n']}",
                fmt_ms(b, "p50", "p99", "max"),
                back,
                _errors(r),
            ]
        )
    return _md_table(head, rows)


def room_table(results: list[dict[str, Any]]) -> list[str]:
    head = (
        "| mode | server | connect 300 (s) | fan-out to 300 p50/p95/p99 (ms) | chat 30/s into 100 p50/p95/p99 (ms) "
        "| chat server cores | bench cores | other processes (cores) | reconnect 1,000 missed (ms) | peak RSS (MB) "
        "| errors |"
    )
    rows: list[list[str]] = []
    for r in results:
        if not r["scenario"].startswith("room"):
            continue
        rc = r.get("reconnect")
        rows.append(
            [
                r["mode"],
                r["server"],
                f"{r['connect']['all_s']:.2f}",
                fmt_ms(r["fanout"], "p50", "p95", "p99"),
                fmt_ms(r["chat"], "p50", "p95", "p99"),
                f"{r['chat_window']['server_cores']:.2f}",
                f"{r['chat_window']['bench_cores']:.2f}",
                f"{r['chat_window']['other_cores']:.2f}",
                f"{rc['total_ms']:.0f} ({rc['missed']} events)" if rc else "-",
                f"{r['peak_rss_mb']:.0f}",
                _errors(r),
            ]
        )
    return _md_table(head, rows)


def _per(cpu: float, delivered: float) -> str:
    return f"{cpu / delivered * 1e6:.0f}" if delivered else "-"


def _cores(seconds: float | None, wall: float) -> str:
    return "-" if seconds is None or not wall else f"{seconds / wall:.2f}"


def workers_table(results: list[dict[str, Any]]) -> list[str]:
    """One worker on SQLite against two on PostgreSQL and Redis, the same traffic (--workers)."""
    head = (
        "| mode | deployment | S x P | message p50/p99 (ms) | inject p50/p99 (ms) | deliveries/s | serving workers' "
        "cores (each) | us CPU/delivery, workers | PostgreSQL + Redis cores | us CPU/delivery, all | "
        "saturated deliveries/s (us CPU/delivery) | errors |"
    )
    rows: list[list[str]] = []
    for r in results:
        if r["server"] not in ("tabletop", TabletopCluster.name) or not r["scenario"][0].isdigit():
            continue
        w = r["window"]
        each = w.get("worker_cpu_s") or [w["server_cpu_s"]]
        serving = each[: TabletopCluster.serving] if r["server"] == TabletopCluster.name else each
        services = sum((w.get("services_cpu_s") or {}).values())
        delivered = r["deliveries_per_s"] * w["seconds"]
        sat = r["saturation"]
        rows.append(
            [
                r["mode"],
                "two workers, PostgreSQL + Redis" if r["server"] == TabletopCluster.name else "one worker, SQLite",
                r["scenario"],
                fmt_ms(r["messages"]),
                fmt_ms(r["injects"]) if "injects" in r else "-",
                f"{r['deliveries_per_s']:.0f}",
                f"{_cores(sum(serving), w['seconds'])} (" + ", ".join(_cores(c, w["seconds"]) for c in serving) + ")",
                _per(sum(serving), delivered),
                _cores(services, w["seconds"]) if services else "-",
                _per(sum(serving) + services, delivered),
                f"{sat['deliveries_per_s']:.0f} ({sat['us_per_delivery']})",
                _errors(r),
            ]
        )
    return _md_table(head, rows)


def third_worker(results: list[dict[str, Any]]) -> list[str]:
    """What the follower (a worker with one idle connection) cost, and what it says about a third worker."""
    lines = []
    for r in results:
        w = r.get("window") or {}
        each = w.get("worker_cpu_s") or []
        if r["server"] != TabletopCluster.name or len(each) <= TabletopCluster.serving:
            continue
        wall, appended = w["seconds"], r["messages_per_s"] * w["seconds"]
        follower, serving = each[TabletopCluster.serving], sum(each[: TabletopCluster.serving])
        per_follower = follower / appended * 1e6 if appended else 0.0
        per_serving = serving / TabletopCluster.serving / appended * 1e6 if appended else 0.0
        lines.append(
            f"{r['mode']} {r['scenario']}: the worker with no clients spent {follower / wall:.2f} cores, "
            f"{per_follower:.0f} us per message appended (a serving worker: {per_serving:.0f} us), just to follow "
            "the others: every event reaches every worker through Redis (decoded even where no room wants it), "
            "and every worker's scheduler reads the active sessions' last seq (one query) four times a second "
            "and folds a session's new events when its state has something due, or every 2 s (live.py FOLLOW). "
            "Each worker adds that much to every event of the deployment."
        )
        services = w.get("services_cpu_s") or {}
        sat = r.get("saturation_window") or {}
        if services and sat.get("seconds"):
            used = sum((sat.get("worker_cpu_s") or [])[: TabletopCluster.serving])
            used += sum((sat.get("services_cpu_s") or {}).values())
            pg, queue = services.get("postgres", 0.0) / wall, services.get("redis", 0.0) / wall
            lines.append(
                f"  PostgreSQL (the backends of this database) {pg:.2f} cores and Redis {queue:.2f} cores at the "
                f"fixed load; saturated, the serving workers, PostgreSQL and Redis used {used / sat['seconds']:.2f} "
                f"of this machine's {os.cpu_count()} cores."
            )
        one = next(
            (
                o
                for o in results
                if o["server"] == "tabletop" and o["mode"] == r["mode"] and o["scenario"] == r["scenario"]
            ),
            None,
        )
        if one is not None and one.get("us_per_delivery"):
            lines.append(
                f"  One worker on SQLite: {one['us_per_delivery']} us CPU per delivery, saturated at "
                f"{one['saturation']['deliveries_per_s']:.0f} deliveries/s; two workers: "
                f"{r['saturation']['deliveries_per_s']:.0f}. A worker is one Python process (one core at most): "
                "a third adds throughput only where a core is free, and costs every other worker the follower's "
                "share above."
            )
    return lines


def targets(results: list[dict[str, Any]], mode: str) -> list[tuple[str, str, bool | None]]:
    """(target, figure, met) for one mode's Tabletop results."""
    ours = {r["scenario"]: r for r in results if r["mode"] == mode and r["server"] == "tabletop"}
    out: list[tuple[str, str, bool | None]] = []
    sp20, sp40, room = ours.get("20x15"), ours.get("40x15"), ours.get("room 1x300")

    def add(name: str, figure: str, met: bool | None) -> None:
        out.append((name, figure, met))

    if sp20:
        c = sp20["connect"]["all_s"]
        add("300 clients connected within 2 s (20 x 15)", f"{c:.2f} s", c < 2.0)
    if room:
        c = room["connect"]["all_s"]
        add("300 clients connected within 2 s (one session)", f"{c:.2f} s", c < 2.0)
        p95 = room["fanout"]["p95"]
        add("inject fan-out to 300 clients p95 < 50 ms", f"{p95} ms", p95 is not None and p95 < 50)
        p95, cores = room["chat"]["p95"], room["chat_window"]["server_cores"]
        add(
            "chat 30/s into 100-member rooms: p95 < 100 ms, server < 0.5 core",
            f"{p95} ms, {cores:.2f} cores",
            p95 is not None and p95 < 100 and cores < 0.5,
        )
    for sp in (sp20, sp40):
        if not sp:
            continue
        inj, msg = sp["injects"]["p99"], sp["messages"]["p99"]
        errs = sum((sp.get("errors") or {}).values())
        add(
            f"{sp['scenario']}: inject and message p99 < 100 ms, no errors",
            f"inject {inj} ms, message {msg} ms, errors {errs}",
            inj is not None and msg is not None and inj < 100 and msg < 100 and errs == 0,
        )
        worst = sp["injects"]["max"]
        add(f"{sp['scenario']}: every inject within 100 ms of its due time", f"max {worst} ms", worst < 100)
    for sp in (sp20, sp40):
        if sp and sp.get("burst"):
            b = sp["burst"]
            dropped = sum(v for k, v in (sp.get("errors") or {}).items() if "burst" in k)
            back = b.get("recovered_s")
            add(
                f"{sp['scenario']}: a burst (every player at once): nothing dropped, normal again within seconds",
                f"{b['n']} deliveries, p99 {b['p99']} ms, {dropped} dropped, normal after {back} s",
                dropped == 0 and back is not None and back <= 5,
            )
    for r in (sp20, room):
        if r:
            mb = r["peak_rss_mb"]
            add(f"300 clients under 300 MB ({r['scenario']})", f"{mb:.0f} MB", mb < 300)
    if room and room.get("reconnect"):
        ms = room["reconnect"]["total_ms"]
        add("reconnect receives 1,000 missed events < 500 ms", f"{ms:.0f} ms", ms < 500)
    for sp in (sp20, sp40):
        if sp and sp.get("ratio") is not None:
            add(f"{sp['scenario']}: throughput ratio to bare >= 0.5", f"{sp['ratio']:.2f}", sp["ratio"] >= 0.5)
        elif sp and sp.get("ratio_note"):
            add(f"{sp['scenario']}: throughput ratio to bare >= 0.5", f"not measurable: {sp['ratio_note']}", None)
    return out


def targets_table(results: list[dict[str, Any]], modes: list[str]) -> list[str]:
    per_mode = {m: targets(results, m) for m in modes}
    names = list(dict.fromkeys(name for rows in per_mode.values() for name, _f, _m in rows))
    head = "| target | " + " | ".join(modes) + " |"
    rows = [head, "|" + "---|" * (len(modes) + 1)]
    for name in names:
        cells = []
        for m in modes:
            found = next(((f, ok) for n, f, ok in per_mode[m] if n == name), None)
            verdict = "" if found is None or found[1] is None else ("met" if found[1] else "**missed**")
            cells.append("-" if found is None else f"{found[0]} {verdict}".strip())
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


def add_ratios(results: list[dict[str, Any]]) -> None:
    for r in results:
        if r["server"] != "tabletop" or not r["scenario"][0].isdigit():
            continue
        r.pop("ratio", None)
        r.pop("ratio_note", None)
        bare = next(
            (b for b in results if b["server"] == "bare" and b["mode"] == r["mode"] and b["scenario"] == r["scenario"]),
            None,
        )
        if bare and bare["saturation"]["deliveries_per_s"]:
            if bare["saturation"]["deliveries_per_s"] < bare["deliveries_per_s"]:
                r["ratio_note"] = "the floor collapsed at saturation (fewer deliveries than at the fixed load)"
                continue
            r["ratio"] = round(r["saturation"]["deliveries_per_s"] / bare["saturation"]["deliveries_per_s"], 3)


# --------------------------------------------------------------------- main
def snapshot_head(folder: Path) -> tuple[Path, str]:
    """The committed tree (HEAD) exported to a folder: a stable thing to measure while others edit.

    Read-only for the repository: `git rev-parse` and `git archive`.
    """
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    target = folder / f"tabletop-{commit}"
    if not (target / "app.py").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target, commit


def render(results: list[dict[str, Any]], machine: dict[str, Any], modes: list[str]) -> str:
    ok = [r for r in results if "failed" not in r]
    add_ratios(ok)
    lines = [
        f"Run {machine['date']} on {machine['cpus']} cores, {machine['memory_gb']} GB, Python {machine['python']}, "
        f"Tabletop {machine['measured']} ({machine.get('seconds', 0):.0f} s; quick={machine['quick']})",
        "",
    ]
    if any(r["server"] == TabletopCluster.name for r in ok):
        lines += [*workers_table(ok), "", *third_worker(ok), ""]
        ok = [r for r in ok if r["server"] != TabletopCluster.name]
    lines += [
        *sp_table(ok),
        "",
        *burst_table(ok),
        "",
        *room_table(ok),
        "",
        *targets_table(ok, modes),
    ]
    failed = [r for r in results if "failed" in r]
    if failed:
        lines += ["", *(f"FAILED {r['mode']} {r['server']} {r['scenario']}: {r['failed']}" for r in failed)]
    return "\n".join(lines)


def one_line(res: dict[str, Any]) -> str:
    parts = [f"connect {res['connect']['all_s']:.2f} s"]
    for key in ("injects", "send_now", "messages", "fanout", "chat"):
        if key in res:
            parts.append(f"{key} p50/p99 {fmt_ms(res[key])} ms")
    if "window" in res:
        parts.append(f"cores {res['window']['server_cores']:.2f} (others {res['window']['other_cores']:.2f})")
    if "saturation" in res:
        parts.append(f"saturated {res['saturation']['deliveries_per_s']:.0f} deliveries/s")
    if "chat_window" in res:
        w = res["chat_window"]
        parts.append(f"chat cores {w['server_cores']:.2f} (others {w['other_cores']:.2f})")
    if "reconnect" in res:
        parts.append(f"reconnect {res['reconnect']['total_ms']:.0f} ms")
    parts.append(f"peak {res['peak_rss_mb']:.0f} MB, errors {_errors(res)}")
    return "; ".join(parts)


async def main_async(args: argparse.Namespace) -> int:
    opts = Options(seed=args.seed, period=args.period, profile=args.profile, patience=args.patience, keep=args.keep)
    measured = "working tree"
    if args.app_root:
        opts.app_root, measured = Path(args.app_root).resolve(), str(args.app_root)
    elif args.snapshot:
        opts.app_root, commit = snapshot_head(Path(tempfile.gettempdir()))
        measured = f"commit {commit}"
    sizes = [(20, 15), (40, 15)]
    if args.quick:
        opts.window, opts.saturate, opts.room_chat, opts.fanouts, opts.grace = 8.0, 3.0, 6.0, 5, 1.5
        opts.recovery = 5.0
        sizes = [(20, 15)]
    modes = ["threading", "gevent"] if args.mode == "both" else [args.mode]
    if args.workers and args.mode == "both":
        modes = ["gevent"]  # what production runs
    only = set(args.only.split(",")) if args.only else set()
    only_servers = only & {"tabletop", "bare", TabletopCluster.name}
    only_scenarios = only - only_servers
    results: list[dict[str, Any]] = []
    started = time.monotonic()
    machine = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "measured": measured,
        "quick": args.quick,
    }
    print(f"measuring Tabletop at {opts.app_root} ({measured})", flush=True)
    for mode in modes:
        jobs: list[tuple[str, type[Tabletop] | type[Bare] | type[TabletopCluster], Callable[[Backend], Any]]] = []
        for s, p in sizes:
            for kind in (Tabletop, Bare):
                jobs.append((f"{s}x{p}", kind, lambda b, s=s, p=p: scenario_sp(b, s, p, opts)))
        for kind in (Tabletop, Bare):
            jobs.append(("room", kind, lambda b: scenario_room(b, 300, opts)))
        if args.workers:  # the same traffic, one worker on SQLite against two on PostgreSQL and Redis
            s, p = sizes[0]
            jobs = [
                (f"{s}x{p}", kind, lambda b, s=s, p=p: scenario_sp(b, s, p, opts))
                for kind in (Tabletop, TabletopCluster)
            ]
        for label, kind, job in jobs:
            if (only_scenarios and label not in only_scenarios) or (only_servers and kind.name not in only_servers):
                continue
            print(f"[{time.monotonic() - started:6.1f}s] {mode} {kind.name} {label} ...", flush=True)
            try:
                res = await run_one(kind, mode, job, opts)
            except Exception as exc:  # noqa: BLE001 - a failed scenario is reported, the others still run
                print(f"    FAILED: {type(exc).__name__}: {exc}"[:2000], flush=True)
                results.append({"server": kind.name, "mode": mode, "scenario": label, "failed": repr(exc)[:2000]})
                continue
            results.append(res)
            print(f"    {one_line(res)}", flush=True)
            if args.json:  # after every scenario, so that an interrupted run keeps what it measured
                Path(args.json).write_text(json.dumps({"machine": machine, "results": results}, indent=1))
    machine["seconds"] = round(time.monotonic() - started, 1)
    text = render(results, machine, modes)
    print("\n" + text)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine, "results": results}, indent=1))
        print(f"\nfull figures: {args.json}")
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    return 0 if all("failed" not in r for r in results) else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["threading", "gevent", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="shorter windows, 20 x 15 only")
    parser.add_argument(
        "--workers",
        action="store_true",
        help="one worker on SQLite against two on PostgreSQL and Redis (BENCH_POSTGRES_URL), same traffic",
    )
    parser.add_argument("--only", help="comma list of scenarios or servers: 20x15,40x15,room,tabletop,bare")
    parser.add_argument("--period", type=float, default=4.0, help="mean seconds between a player's messages")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--patience", type=float, default=60.0, help="seconds to wait for other processes to go quiet per scenario"
    )
    parser.add_argument("--snapshot", action="store_true", help="measure HEAD exported with git archive")
    parser.add_argument("--app-root", help="measure the app.py of this tree (default: this working tree)")
    parser.add_argument("--json", default=str(Path(tempfile.gettempdir()) / "tabletop-load.json"))
    parser.add_argument("--markdown", help="also write the tables to this file")
    parser.add_argument("--profile", help="a folder: py-spy samples the server in each window (collapsed stacks)")
    parser.add_argument("--render", help="print the tables of an earlier --json file and stop")
    parser.add_argument("--keep", action="store_true", help="keep each scenario's folder and server logs")
    args = parser.parse_args()
    if args.render:
        data = json.loads(Path(args.render).read_text())
        modes = list(dict.fromkeys(r["mode"] for r in data["results"]))
        print(render(data["results"], data["machine"], modes))
        return
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
