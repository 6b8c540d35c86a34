"""Benchmark: the after-action report of a 2,000-exchange rehearsal log (issue 5).

    .venv/bin/python bench/report.py [--exchanges 2000] [--runs 5]

Rehearses the speedboat scenario with bots (a real game log through the real engine), then:
- builds the report `runs` times through the server's warm report job (`tabletop.report.job.ReportJob`,
  a fork of the worker process per build, exactly what the server runs), printing the median wall
  time and the peak memory (RSS summed over the worker and its layout process, sampled every 10 ms);
- times WeasyPrint alone on a naive HTML of the same exchanges (one block per message, nothing
  else) and prints our time as a ratio of it;
- measures the latency of a game command (Live.command on the same database) before and while a
  report renders, standing in for the server's socket handlers.
Prints figures; asserts nothing. Results go in docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import html
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tabletop.engine import Actor  # noqa: E402
from tabletop.rehearse import rehearse  # noqa: E402
from tabletop.report.build import report_data  # noqa: E402
from tabletop.report.job import Limits, Outcome, ReportJob  # noqa: E402

WARM = ReportJob(warm=True)
PAGE = os.sysconf("SC_PAGE_SIZE")


def _children(pid: int) -> list[int]:
    """A process's children, from /proc/PID/task/*/children (the tree only: no scan of every process)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(child) for child in handle.read().split()]
        except OSError:
            continue
    return found


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants, from /proc.

    Sampled every 10 ms while a build runs on both cores: it walks the build's own tree instead of reading
    the stat of every process on the machine (which took a third of a core from the build it measured).
    """
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except OSError:
            pass
        todo += _children(current)
    return total


def build_once(store, session: str, out: Path, nice: int = 0) -> tuple[float, int, float]:
    """Wall seconds, peak RSS of the process tree, CPU seconds (user + system) of the build and its helpers.

    The build runs as the server runs it: a fork of the warm report worker (started, and warmed, before
    the timing, as the server does at start-up). Timed runs use the server's priority (nice 0) so that
    other load on the machine does not starve them; the latency run uses the worker's default (nice 10).
    """
    import psutil

    WARM.start()
    worker = WARM.pid
    assert worker is not None
    zygote = psutil.Process(worker)
    before = zygote.cpu_times()
    outcome: list[Outcome] = []
    began = time.perf_counter()
    runner = threading.Thread(target=lambda: outcome.append(WARM.run(store, session, out, limits=Limits(nice=nice))))
    runner.start()
    peak = 0
    while runner.is_alive():
        peak = max(peak, tree_rss(worker))
        time.sleep(0.01)
    seconds = time.perf_counter() - began
    after = zygote.cpu_times()
    cpu = (after.children_user + after.children_system) - (before.children_user + before.children_system)
    if not outcome or not outcome[0].ok:
        raise SystemExit(f"worker failed: {outcome[0].error if outcome else 'no outcome'}")
    return seconds, peak, cpu


def naive_seconds(data, runs: int) -> tuple[float, int, float]:
    from weasyprint import HTML

    blocks = "".join(
        f"<div>{m.time} {html.escape(m.name)}: {html.escape(m.text)}</div>" for log in data.logs for m in log.messages
    )
    document = f"<!doctype html><html><head><meta charset=utf-8></head><body>{blocks}</body></html>"
    HTML(string="<p>warm-up سلام</p>").write_pdf()
    times, cpus, pages = [], [], 0
    for _ in range(runs):
        began, cpu = time.perf_counter(), time.process_time()
        rendered = HTML(string=document).render()
        rendered.write_pdf()
        times.append(time.perf_counter() - began)
        cpus.append(time.process_time() - cpu)
        pages = len(rendered.pages)
    return statistics.median(times), pages, statistics.median(cpus)


def _balance(data) -> list[str]:
    """How the parts are split between the two layout processes (render.plan_groups), for the record."""
    from tabletop.report import render

    apps = render.appendices(data)
    return [" + ".join(g) for g in render.plan_groups(data, apps, 2)]


def latency(game, stop: threading.Event, out: list[float]) -> None:
    """Round trips of a facilitator's note (validate, append, fold), as a socket handler does them."""
    control = Actor("control", None, "Bench")
    while not stop.is_set():
        began = time.perf_counter()
        game.live.command(game.session, control, "note", {"text": "latency probe"})
        out.append((time.perf_counter() - began) * 1000)
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--exchanges", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    began = time.perf_counter()
    game = rehearse(ROOT / "exercises" / "speedboat-harassment-2020.yaml", players=3, seed=args.seed,
                    exchanges=args.exchanges)  # fmt: skip
    summary = game.summary()
    print(
        f"rehearsal: {summary['messages']} exchanges, {summary['events']} events in {time.perf_counter() - began:.1f} s"
    )
    data = report_data(game.store, game.session)

    out = Path(tempfile.mkdtemp(prefix="bench-report-"))
    times, peaks, cpus = [], [], []
    for n in range(args.runs):
        seconds, peak, cpu = build_once(game.store, game.session, out)
        times.append(seconds)
        peaks.append(peak)
        cpus.append(cpu)
        print(f"  build {n + 1}: {seconds:.2f} s, peak RSS {peak / 2**20:.0f} MB, CPU {cpu:.2f} s (both processes)")
    pdf = next(out.glob("*.pdf"))
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    page_count = next((line.split()[-1] for line in pages.splitlines() if line.startswith("Pages:")), "?")
    median, cpu = statistics.median(times), statistics.median(cpus)
    print(f"report: median {median:.2f} s of {args.runs} (min {min(times):.2f}, max {max(times):.2f}), "
          f"peak RSS {max(peaks) / 2**20:.0f} MB, {page_count} pages, median CPU {cpu:.2f} s")  # fmt: skip

    naive, naive_pages, naive_cpu = naive_seconds(data, args.runs)
    print(f"naive WeasyPrint dump of the same {data.exchanges} exchanges: median {naive:.2f} s, "
          f"CPU {naive_cpu:.2f} s ({naive_pages} pages)")  # fmt: skip
    print(f"ratio report / naive: {median / naive:.2f} (wall), {cpu / naive_cpu:.2f} (CPU, both layout processes)")
    print(f"layout groups: {' | '.join(_balance(data))}")

    quiet: list[float] = []
    stop = threading.Event()
    probe = threading.Thread(target=latency, args=(game, stop, quiet))
    probe.start()
    time.sleep(2)
    stop.set()
    probe.join()
    busy: list[float] = []
    stop = threading.Event()
    probe = threading.Thread(target=latency, args=(game, stop, busy))
    probe.start()
    build_once(game.store, game.session, out, nice=10)
    stop.set()
    probe.join()

    def p(values: list[float], q: float) -> float:
        return sorted(values)[min(len(values) - 1, int(q * len(values)))]

    print(f"command latency idle:      p50 {p(quiet, 0.5):.1f} ms, p95 {p(quiet, 0.95):.1f} ms ({len(quiet)} probes)")
    print(f"command latency rendering: p50 {p(busy, 0.5):.1f} ms, p95 {p(busy, 0.95):.1f} ms ({len(busy)} probes)")
    print(f"rise: p50 {p(busy, 0.5) - p(quiet, 0.5):+.1f} ms, p95 {p(busy, 0.95) - p(quiet, 0.95):+.1f} ms")
    print(f"machine: {os.cpu_count()} cores; load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    try:
        main()
    finally:
        WARM.close()
