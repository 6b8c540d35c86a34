"""Micro-benchmark of publishing one event, in process: CPU per event and Redis messages per event.

    .venv/bin/python bench/publish.py [--events 2000]

Builds the app with a private redis-server as its message queue (and once without one), a session of
the load benchmark's script (three teams of five, an observer), and publishes stored events again and
again: `runtime.publish` (one Redis message per room it emits to) against the way `Live` publishes
with a queue (cluster.py: the emits of one event batched into one Redis message). No client is
connected, so what is measured is the publishing itself: redaction, the emits, the queue.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import HOST, free_port

from tabletop import ROOT


def build(folder: Path, queue: str | None):
    os.environ["ASYNC_MODE"] = "threading"
    from load import write_exercise

    from tabletop import seats
    from tabletop.sessions import create_session
    from tabletop.web import create_app

    write_exercise(folder / "exercises")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench-publish-secret",
            "DATABASE_URL": f"sqlite:///{folder / 'publish.db'}",
            "EXERCISES_DIR": str(folder / "exercises"),
            "INJECTS_DIR": str(ROOT / "injects"),
            "REPORTS_DIR": str(folder / "reports"),
            "MESSAGE_QUEUE": queue,
        }
    )
    rt = app.extensions["tabletop"]
    with app.app_context():
        info = create_session(rt.store, "bench-load", folder / "exercises", ROOT / "injects", None, "http://x")
        session = info["session"]
        for n in range(15):
            team = "abc"[n % 3]
            seats.join(rt.live, info["codes"][team], f"P{n}", f"{team}{n // 3 + 1}")
        seats.join(rt.live, info["observer_code"], "Observer", None)
    return app, rt, session


def measure(label: str, publish, rt, session: str, events: int, counter: list[int]) -> None:
    from tabletop.engine import Actor

    state = rt.live.current(session)
    pid = next(iter(state.participants))
    sender = state.participants[pid]
    actor = Actor("player", pid, sender.name, sender.team, sender.position)
    rt.live.command(session, actor, "send_message", {"channel": "team", "text": "hello"})
    rt.live.command(session, actor, "send_message", {"channel": "public", "text": "to everyone"})
    stored = rt.store.events_after(session, 0)[-2:]
    state = rt.live.current(session)
    for event in stored:  # warm up
        publish(session, event, state)
    for event in stored:
        counter[0] = 0
        start = time.process_time()
        for _ in range(events):
            publish(session, event, state)
        cpu = time.process_time() - start
        print(
            f"{label:<46} {event.type} to {','.join(event.audience) or 'control':<6}: "
            f"{cpu / events * 1e6:7.1f} us CPU per event, {counter[0] / events:.1f} Redis messages per event"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.3)
        with tempfile.TemporaryDirectory() as tmp:
            _app, rt, session = build(Path(tmp), None)
            measure("one worker (no queue)", rt.publish, rt, session, args.events, [0])
            rt.close()
        with tempfile.TemporaryDirectory() as tmp:
            _app, rt, session = build(Path(tmp), f"redis://{HOST}:{port}/0")
            from tabletop.web.extensions import socketio

            manager = socketio.server.manager
            counter = [0]
            publish_redis = manager._publish

            def counting(data):
                counter[0] += 1
                return publish_redis(data)

            manager._publish = counting
            measure("queue: one Redis message per room", rt.publish, rt, session, args.events, counter)
            measure("queue: one Redis message per event (batched)", rt.live.publish, rt, session, args.events, counter)
            rt.close()
    finally:
        redis.terminate()
        redis.wait(10)


if __name__ == "__main__":
    main()
