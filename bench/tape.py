"""Benchmark: the tape of a 2,000-exchange session (issue 14).

    .venv/bin/python bench/tape.py [--exchanges 2000] [--players 3] [--moves 200] [--no-browser]

Rehearses the Global Hawk scenario with bots (`exercise rehearse --exchanges 2000`: a real game log
through the real engine) into a fresh SQLite database, then:

- in process: builds the tape (`engine.tape.Tape`: one fold with a checkpoint every 256 events), the
  first moment of control and of a seat (`web.tape.moment`, with marks, belief series, timeline) and
  `--moves` moments at random seqs per viewer; beside it, the same moments' state by replaying the
  log from the start (what checkpoints avoid);
- against a real server (`python app.py`, gevent): the page's first request (the tape built then) and
  a warm one, the moment JSON at random seqs for control and for Iran's seat over HTTP;
- in Chromium (unless `--no-browser`): from navigation to the tape's first drawn moment (the page's
  `data-seq`), and from a scrubber move to the new moment drawn.

Prints figures; asserts nothing. Results go in docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import PASSWORD, PY, ServerProcess, fmt_ms, free_port, latency_summary, python_env  # noqa: E402
from bench.load import create_facilitator  # noqa: E402

SCRIPT = ROOT / "exercises" / "global-hawk-2019.yaml"


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def iran_seat(exercise) -> str:
    """The first position of Iran's team: its seat is the view the bench times beside control's."""
    return exercise.team("iran").positions[0].id


def in_process(db: Path, session: str, moves: int, rng: random.Random) -> dict:
    from tabletop.engine import SessionState, Viewer
    from tabletop.engine.tape import Tape
    from tabletop.script.models import from_snapshot
    from tabletop.store import Store
    from tabletop.web.feed import personal_to, view
    from tabletop.web.tape import moment

    store = Store(f"sqlite:///{db}")
    read_s, events = timed(store.events_after, session, 0)
    exercise = from_snapshot(store.get_session(session).script)
    build_s, tape = timed(Tape, exercise, events, view=view, personal=personal_to)
    control, iran = Viewer("control"), Viewer("player", "iran", position=iran_seat(exercise))
    first_control_s, first = timed(moment, tape, control, None, first=True)
    first_iran_s, _ = timed(moment, tape, iran, None, first=True)
    size = len(json.dumps(first))
    figures: dict = {
        "events": len(events),
        "read_s": read_s,
        "build_s": build_s,
        "first_control_s": first_control_s,
        "first_iran_s": first_iran_s,
        "first_json_kb": size / 1024,
        "checkpoints": len(tape._checkpoints),
    }
    last = tape.last_seq
    for name, viewer in (("control", control), ("iran", iran)):
        seqs = [rng.randint(1, last) for _ in range(moves)]
        figures[f"move_{name}"] = latency_summary([timed(moment, tape, viewer, s)[0] for s in seqs])
    seqs = [rng.randint(1, last) for _ in range(min(moves, 40))]
    replays = []
    for s in seqs:
        start = time.perf_counter()
        state = SessionState(exercise)
        for event in events:
            if event.seq > s:
                break
            state.apply(event)
        replays.append(time.perf_counter() - start)
    figures["replay_state"] = latency_summary(replays)
    figures["checkpoint_state"] = latency_summary([timed(tape.state_at, s)[0] for s in seqs])
    return figures


def over_http(workdir: Path, db: Path, session: str, seat: str, moves: int, rng: random.Random, browser: bool) -> dict:
    import requests

    port = free_port()
    env = python_env(
        DATABASE_URL=f"sqlite:///{db}",
        SECRET_KEY="bench-secret",
        EXERCISES_DIR=str(ROOT / "exercises"),
        INJECTS_DIR=str(ROOT / "injects"),
        REPORTS_DIR=str(workdir / "reports"),
    )
    create_facilitator(ROOT, env)
    server = ServerProcess([PY, "app.py", "--port", str(port)], env, workdir / "server.log", port).start()
    figures: dict = {}
    try:
        token = requests.post(
            f"{server.url}/api/login", json={"username": "bench", "password": PASSWORD}, timeout=10
        ).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        last = requests.get(f"{server.url}/sessions/{session}/tape/moment?as=control", headers=auth, timeout=30)
        # The first request builds the tape (reads and folds the log): measured on a fresh server below
        # through the page in the browser; here the moment API once it is built.
        last_seq = last.json()["last_seq"]
        for name, key in (("control", "control"), ("iran", seat)):
            times = []
            for _ in range(moves):
                seq = rng.randint(1, last_seq)
                start = time.perf_counter()
                answer = requests.get(
                    f"{server.url}/sessions/{session}/tape/moment?as={key}&seq={seq}", headers=auth, timeout=30
                )
                times.append(time.perf_counter() - start)
                assert answer.status_code == 200
            figures[f"http_move_{name}"] = latency_summary(times)
        start = time.perf_counter()
        page = requests.get(f"{server.url}/sessions/{session}/tape", headers=auth, timeout=30)
        figures["http_page_warm_s"] = time.perf_counter() - start
        figures["page_kb"] = len(page.content) / 1024
    finally:
        server.stop()
    if browser:
        figures.update(in_browser(workdir, env, session, seat, rng))
    return figures


def in_browser(workdir: Path, env: dict, session: str, seat: str, rng: random.Random) -> dict:
    """A fresh server (no tape built yet): log in, open the tape, time the first drawn moment; then scrub."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = ServerProcess([PY, "app.py", "--port", str(port)], env, workdir / "server2.log", port).start()
    figures: dict = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(base_url=server.url, viewport={"width": 1280, "height": 800})
            page.goto("/login")
            page.fill("#username", "bench")
            page.fill("#password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url("**/library")
            for label in ("cold", "warm"):  # cold: the server builds the tape for this request
                start = time.perf_counter()
                page.goto(f"/sessions/{session}/tape", wait_until="commit")
                page.wait_for_selector("body[data-seq]", state="attached")
                figures[f"first_paint_{label}_s"] = time.perf_counter() - start
                figures[f"first_paint_{label}_nav_ms"] = page.evaluate(
                    "() => performance.now()"
                )  # since navigation start, in the page's own clock
            last = int(page.get_attribute("#tape-range", "max") or "1")
            times, own = [], []
            for _ in range(30):
                seq = rng.randint(1, last)
                start = time.perf_counter()
                page.locator("#tape-range").fill(str(seq))
                page.wait_for_selector(f'body[data-seq="{seq}"]', state="attached")
                times.append(time.perf_counter() - start)
                own.append(float(page.get_attribute("#tape-app", "data-move-ms") or "nan") / 1000)
            figures["browser_scrub"] = latency_summary(times)
            figures["browser_scrub_page"] = latency_summary(own)
            page.select_option("#tape-as", seat)
            start = time.perf_counter()
            page.wait_for_selector(f'body[data-as="{seat}"]', state="attached")
            figures["browser_switch_view_s"] = time.perf_counter() - start
            browser.close()
    finally:
        server.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exchanges", type=int, default=2000)
    parser.add_argument("--players", type=int, default=3)
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    rng = random.Random(14)
    workdir = Path(tempfile.mkdtemp(prefix="tabletop-tape-bench-"))
    db = workdir / "bench.db"
    from tabletop.rehearse import rehearse

    rehearse_s, game = timed(rehearse, SCRIPT, players=args.players, exchanges=args.exchanges, url=f"sqlite:///{db}")
    session = game.session
    print(f"rehearsed {SCRIPT.name}: {args.exchanges} exchanges, {len(game.events())} events in {rehearse_s:.1f} s")
    local = in_process(db, session, args.moves, rng)
    print(f"in process: read the log {local['read_s'] * 1000:.0f} ms, build the tape {local['build_s'] * 1000:.0f} ms "
          f"({local['checkpoints']} checkpoints); first moment control {local['first_control_s'] * 1000:.0f} ms, "
          f"Iran's seat {local['first_iran_s'] * 1000:.0f} ms ({local['first_json_kb']:.0f} KB of JSON)")  # fmt: skip
    for name in ("control", "iran"):
        print(
            f"  a moment at a random seq, {name}: p50/p95/max {fmt_ms(local[f'move_{name}'], 'p50', 'p95', 'max')} ms"
        )
    print(f"  the state at a seq: from a checkpoint {fmt_ms(local['checkpoint_state'], 'p50', 'max')} ms, "
          f"replaying the log {fmt_ms(local['replay_state'], 'p50', 'max')} ms (p50/max)")  # fmt: skip
    seat = f"seat:iran/{iran_seat(game.exercise)}"
    remote = over_http(workdir, db, session, seat, args.moves, rng, not args.no_browser)
    for name in ("control", "iran"):
        print(f"HTTP moment, {name}: p50/p95/max {fmt_ms(remote[f'http_move_{name}'], 'p50', 'p95', 'max')} ms")
    print(f"HTTP page (warm): {remote['http_page_warm_s'] * 1000:.0f} ms, {remote['page_kb']:.0f} KB")
    if "first_paint_cold_s" in remote:
        print(f"Chromium first paint: cold {remote['first_paint_cold_s'] * 1000:.0f} ms (tape built for it), "
              f"warm {remote['first_paint_warm_s'] * 1000:.0f} ms; by the page's own clock (performance.now() once "
              f"drawn) {remote['first_paint_cold_nav_ms']:.0f} / "
              f"{remote['first_paint_warm_nav_ms']:.0f} ms")  # fmt: skip
        print(
            f"Chromium scrub to a random moment: p50/p95/max {fmt_ms(remote['browser_scrub'], 'p50', 'p95', 'max')} ms"
        )
        figure = fmt_ms(remote["browser_scrub_page"], "p50", "p95", "max")
        print(f"  by the page's own clock (scrubber input to the moment drawn): p50/p95/max {figure} ms")
        print(f"Chromium switch to Iran's seat: {remote['browser_switch_view_s'] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
