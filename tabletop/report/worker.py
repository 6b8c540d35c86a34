"""Build a report in its own process, with a wall-time and a memory limit.

`python -m tabletop.report.worker --db URL --session ID --report N --out DIR` builds the report of
one session, writes its progress to the `report` table (queued -> building -> done | failed) and
prints `progress PCT MESSAGE` lines. `run_worker` starts that process from the web layer or the CLI
(in a new process group, so a timeout ends it and its helpers), follows its progress and enforces
the time limit; the memory limit is set by the worker on itself (RLIMIT_AS), so WeasyPrint can
never take the server's memory, and the server's own process never renders.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import resource
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tabletop import ROOT

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 300.0  # seconds of wall time for one build
DEFAULT_MEMORY_MB = 2048  # address space of the worker (virtual memory, so well above what it really uses)
OnProgress = Callable[[str, int, str], None]  # (status, percent, message or error)


class Timeout(Exception):
    pass


@dataclass(frozen=True)
class Outcome:
    ok: bool
    path: str | None
    error: str | None
    returncode: int


def _limit_memory(megabytes: int) -> None:
    limit = megabytes * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _alarm(signum: int, frame: object) -> None:
    raise Timeout("the report took too long to build")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build one session's after-action report.")
    parser.add_argument("--db", required=True, help="the database URL")
    parser.add_argument("--session", required=True)
    parser.add_argument("--report", type=int, default=None, help="the report row to update")
    parser.add_argument("--out", required=True, help="the reports folder")
    parser.add_argument("--output", default=None, help="the PDF file to write (default: in --out)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    parser.add_argument("--memory-mb", type=int, default=DEFAULT_MEMORY_MB)
    parser.add_argument("--nice", type=int, default=10, help="CPU priority below the server's (0: the same)")
    args = parser.parse_args(argv)

    _limit_memory(args.memory_mb)
    if args.nice > 0:
        os.nice(args.nice)  # the server and the game's clock come first: rendering takes what is left
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, max(0.001, args.timeout))  # fractions of a second too

    from tabletop.store import Store

    from .build import UnknownSession, build_files

    store = Store(args.db)

    def progress(pct: int, message: str) -> None:
        print(f"progress {pct} {message}", flush=True)
        if args.report is not None:
            store.update_report(args.report, status="building", progress=min(pct, 99))

    try:
        if args.report is not None:
            store.update_report(args.report, status="building", progress=1)
        built = build_files(
            store,
            args.session,
            Path(args.out),
            output=Path(args.output) if args.output else None,
            jobs=args.jobs,
            progress=progress,
        )
    except (UnknownSession, Timeout, MemoryError, OSError) as exc:
        message = _describe(exc)
        print(f"failed {message}", flush=True)
        if args.report is not None:
            store.update_report(args.report, status="failed", error=message)
        return 1
    except Exception as exc:
        log.exception("report build failed")
        if args.report is not None:
            store.update_report(args.report, status="failed", error=f"internal error: {type(exc).__name__}: {exc}")
        print(f"failed internal error: {type(exc).__name__}: {exc}", flush=True)
        return 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if args.report is not None:
        store.update_report(args.report, status="done", progress=100, path=str(built.pdf), error=None)
    print(f"done {built.pdf}", flush=True)
    return 0


def warm_main() -> int:
    """`--warm`: import everything once, then build each job (a JSON argv line on stdin) in a fork.

    A fork starts in milliseconds with WeasyPrint, fonts and the database drivers already loaded,
    where a fresh process spends about two seconds importing them. Each child still gets its own
    memory limit, time limit and CPU priority (`main`), and its own process group so that a
    timeout kills it and its layout helper.
    """
    from tabletop.store import Store  # noqa: F401 - loaded once, for every fork

    from . import build, render  # noqa: F401
    from .render import prewarm

    prewarm()
    print("ready", flush=True)
    for line in sys.stdin:
        try:
            argv = [str(a) for a in json.loads(line)]
        except (ValueError, TypeError):
            print("exit 2", flush=True)
            continue
        pid = os.fork()
        if pid == 0:  # the child: one build
            code = 1
            try:
                os.setpgid(0, 0)
                code = main(argv)
            except BaseException:  # logged; the child must always leave through os._exit
                log.exception("report build failed")
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exit {os.waitstatus_to_exitcode(status)}", flush=True)
    return 0


class WarmWorker:
    """The server's report worker: started once, it builds each report in a fork of itself."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.lock = threading.Lock()

    def _ensure(self) -> subprocess.Popen[str]:
        if self.proc is not None and self.proc.poll() is not None:
            for stream in (self.proc.stdin, self.proc.stdout):  # it died: close its pipes, start afresh
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            self.proc = None
        if self.proc is None:
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tabletop.report.worker", "--warm"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            ready = self.proc.stdout.readline() if self.proc.stdout else ""
            if ready.strip() != "ready":
                raise RuntimeError("the report worker did not start")
        return self.proc

    def start(self) -> None:
        """Start (and warm) the worker ahead of the first report."""
        with self.lock:
            self._ensure()

    def close(self) -> None:
        with self.lock:
            proc, self.proc = self.proc, None
            if proc is None:
                return
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()

    def run(self, argv: list[str], notify: OnProgress, timeout: float) -> tuple[int, str | None, str | None, bool]:
        """One build: (exit code, path, error, killed)."""
        with self.lock:
            proc = self._ensure()
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps(argv) + "\n")
            proc.stdin.flush()
            child: dict[str, int] = {}
            killed = threading.Event()

            def kill_after() -> None:
                if "pid" in child:
                    killed.set()
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(child["pid"], signal.SIGKILL)

            timer = threading.Timer(timeout + 10.0, kill_after)  # the child's own alarm comes first
            timer.daemon = True
            timer.start()
            path = error = None
            code = -1
            try:
                for line in proc.stdout:
                    kind, _, rest = line.rstrip("\n").partition(" ")
                    if kind == "pid":
                        child["pid"] = int(rest)
                    elif kind == "exit":
                        code = int(rest)
                        break
                    else:
                        path, error = _follow(kind, rest, notify, path, error)
            finally:
                timer.cancel()
            if code == -1:  # the worker itself died: start afresh next time
                for stream in (proc.stdin, proc.stdout):
                    with contextlib.suppress(OSError):
                        stream.close()
                self.proc = None
            return code, path, error, killed.is_set()


def _follow(
    kind: str, rest: str, notify: OnProgress, path: str | None, error: str | None
) -> tuple[str | None, str | None]:
    """One line of the worker's output: progress, done PATH, or failed MESSAGE."""
    if kind == "progress":
        pct, _, message = rest.partition(" ")
        notify("building", int(pct), message)
    elif kind == "done":
        path = rest
    elif kind == "failed":
        error = rest
    return path, error


def _describe(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "the report needed more memory than its limit"
    if isinstance(exc, OSError) and exc.filename:
        return f"cannot write {exc.filename}: {exc.strerror}"
    return str(exc)


def run_worker(
    db_url: str,
    session_id: str,
    out_dir: Path,
    *,
    report_id: int | None = None,
    output: Path | None = None,
    on_progress: OnProgress | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int = DEFAULT_MEMORY_MB,
    jobs: int = 2,
    warm: WarmWorker | None = None,
) -> Outcome:
    """Run a build in its own process (a fork of `warm` when given) and wait; kill it past the timeout."""
    notify = on_progress or (lambda status, pct, message: None)
    args = [
        "--db", db_url, "--session", session_id,
        "--out", str(out_dir), "--jobs", str(jobs), "--timeout", str(timeout), "--memory-mb", str(memory_mb),
    ]  # fmt: skip
    if report_id is not None:
        args += ["--report", str(report_id)]
    if output is not None:
        args += ["--output", str(output)]
    if warm is not None:
        code, path, error, killed = warm.run(args, notify, timeout)
        return _finish(db_url, report_id, notify, timeout, code, path, error, killed, "")
    command = [sys.executable, "-m", "tabletop.report.worker", *args]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    killed = threading.Event()

    def kill_after() -> None:
        if proc.poll() is None:
            killed.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout + 10.0, kill_after)  # the worker's own alarm comes first
    timer.daemon = True
    timer.start()
    stderr: list[str] = []
    drain = threading.Thread(target=lambda: stderr.extend(proc.stderr or []), daemon=True)
    drain.start()
    path: str | None = None
    error: str | None = None
    try:
        for line in proc.stdout or []:
            kind, _, rest = line.rstrip("\n").partition(" ")
            path, error = _follow(kind, rest, notify, path, error)
        proc.wait()
    finally:
        timer.cancel()
    drain.join(timeout=5)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    tail = "".join(stderr[-5:]).strip()
    return _finish(db_url, report_id, notify, timeout, proc.returncode, path, error, killed.is_set(), tail)


def _finish(
    db_url: str,
    report_id: int | None,
    notify: OnProgress,
    timeout: float,
    code: int,
    path: str | None,
    error: str | None,
    killed: bool,
    tail: str,
) -> Outcome:
    if killed:
        error = f"the report took longer than {timeout:.0f} s and was stopped"
    ok = code == 0 and path is not None
    if not ok and error is None:
        error = f"the report worker stopped (exit code {code})" + (f": {tail[-500:]}" if tail else "")
    if not ok and report_id is not None:
        _mark_failed(db_url, report_id, error or "failed")
    notify("done" if ok else "failed", 100 if ok else 0, path if ok else (error or ""))
    return Outcome(ok, path, error, code)


def _mark_failed(db_url: str, report_id: int, error: str) -> None:
    """A worker that was killed could not say so itself."""
    from tabletop.store import Store

    store = Store(db_url)
    try:
        row = store.get_report(report_id)
        if row is not None and row.status != "failed":
            store.update_report(report_id, status="failed", error=error)
    finally:
        store.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(warm_main() if sys.argv[1:] == ["--warm"] else main())
