"""The report job: the one supervisor of report builds, for the web, the CLI and `exercise rehearse`.

A build never runs in the caller's process. `ReportJob` sends it, as one JSON line, to a worker
process (`python -m tabletop.report.worker`, see worker.py) which forks a child per build; the
child puts itself under the job's `Limits` (wall time, address space, CPU priority) in its own
process group, and the supervisor kills that group if the child outlives its own alarm.

- `ReportJob(warm=True)`: the worker is started once (at the server's start-up), has imported
  WeasyPrint, the fonts and the database drivers, and forks each build in milliseconds.
- `ReportJob(warm=False)`: a worker is started for each build and ends with it (the CLI).

Either way the same code path, the same limits (`Limits.from_config`), the same line protocol and
the same `Progress` callback. The worker prints, one per line:

    ready                once started
    pid N                the build's child (its process group)
    progress PCT TEXT    a step of the build
    done PATH | failed TEXT
    exit CODE            the child has ended (CODE < 0: killed by a signal)

This module is light (standard library only): the server imports it, never WeasyPrint.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from tabletop import ROOT

from .progress import OnProgress, Progress, ignore

if TYPE_CHECKING:
    from tabletop.store import Store

DEFAULT_TIMEOUT = 300.0  # seconds of wall time for one build
DEFAULT_MEMORY_MB = 2048  # address space of a build (virtual memory, so well above what it really uses)
DEFAULT_NICE = 10  # the server and the game's clock come first: rendering takes what is left
GRACE = 10.0  # seconds after the build's own alarm before the supervisor kills its process group


@dataclass(frozen=True)
class Limits:
    """What one build may take: the same for every route."""

    timeout: float = DEFAULT_TIMEOUT
    memory_mb: int = DEFAULT_MEMORY_MB
    nice: int = DEFAULT_NICE  # CPU priority below the caller's (0: the same)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, timeout: float | None = None) -> Limits:
        """The app's `REPORT_TIMEOUT` and `REPORT_MEMORY_MB` (a command-line timeout wins)."""
        return cls(
            timeout=float(timeout if timeout is not None else config.get("REPORT_TIMEOUT", DEFAULT_TIMEOUT)),
            memory_mb=int(config.get("REPORT_MEMORY_MB", DEFAULT_MEMORY_MB)),
        )


@dataclass(frozen=True)
class Job:
    """One build, as it crosses to the worker process (one JSON line on its stdin)."""

    db: str
    session: str
    out_dir: str
    report: int | None = None  # the `report` row the build keeps up to date
    output: str | None = None  # the PDF to write (default: in out_dir, named after the exercise and session)
    jobs: int = 2  # layout processes
    limits: Limits = field(default_factory=Limits)

    def line(self) -> str:
        return json.dumps(asdict(self)) + "\n"

    @classmethod
    def from_line(cls, line: str) -> Job:
        """The job a line describes; ValueError when it describes none."""
        try:
            raw = json.loads(line)
            return cls(**{**raw, "limits": Limits(**raw["limits"])})
        except (TypeError, KeyError, AttributeError) as exc:
            raise ValueError(f"not a report job: {line[:200]!r}") from exc


@dataclass(frozen=True)
class Outcome:
    ok: bool
    path: str | None
    error: str | None
    returncode: int


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


class ReportJob:
    """Builds reports in a worker process, warm (kept, a fork per build) or cold (started per build)."""

    def __init__(self, *, warm: bool) -> None:
        self.warm = warm
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()  # one build at a time: rendering takes both cores
        self._child: int | None = None  # the build running now (its process group)

    # ---------------------------------------------------------------- worker
    @property
    def pid(self) -> int | None:
        """The worker process (the parent of every build), while it runs."""
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        """Start and warm the worker ahead of the first build (warm jobs; a cold job starts it per build)."""
        if self.warm:
            with self._lock:
                self._ensure()

    def close(self) -> None:
        """Stop the worker; a build still running is killed (the server is shutting down)."""
        self._stop(wait=1.0)

    def __enter__(self) -> ReportJob:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _ensure(self) -> subprocess.Popen[str]:
        if self._proc is not None and self._proc.poll() is not None:
            self._stop()  # it died: start afresh
        if self._proc is None:
            command = [sys.executable, "-m", "tabletop.report.worker", *(["--warm"] if self.warm else [])]
            self._proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=_environment(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            ready = self._proc.stdout.readline() if self._proc.stdout else ""
            if ready.strip() != "ready":
                self._stop()
                raise RuntimeError("the report worker did not start")
        return self._proc

    def _stop(self, wait: float = 5.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()  # a worker ends when its input does, once its build is over
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            self._kill_child()
            proc.kill()
            proc.wait(5)
        if proc.stdout is not None:
            with contextlib.suppress(OSError):
                proc.stdout.close()

    def _kill_child(self) -> bool:
        child, self._child = self._child, None
        if child is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child, signal.SIGKILL)
        return True

    # ----------------------------------------------------------------- build
    def run(
        self,
        store: Store,
        session_id: str,
        out_dir: Path,
        *,
        report_id: int | None = None,
        output: Path | None = None,
        limits: Limits | None = None,
        jobs: int = 2,
        on_progress: OnProgress | None = None,
    ) -> Outcome:
        """Build one session's report and wait for it; `on_progress` hears every step and the end."""
        # The worker runs in the repository's folder: paths go absolute.
        job = Job(
            db=store.url,
            session=session_id,
            out_dir=str(out_dir.resolve()),
            report=report_id,
            output=str(output.resolve()) if output is not None else None,
            jobs=jobs,
            limits=limits or Limits(),
        )
        notify = on_progress or ignore
        with self._lock:
            proc = self._ensure()
            try:
                code, path, error, killed = self._follow(proc, job, notify)
            finally:
                if not self.warm:
                    self._stop()
            if code is None and self.warm:
                self._stop()  # the worker itself died: start afresh next time
        return self._finish(store, job, notify, code, path, error, killed)

    def _follow(
        self, proc: subprocess.Popen[str], job: Job, notify: OnProgress
    ) -> tuple[int | None, str | None, str | None, bool]:
        """Send the job, relay its progress; (exit code or None when the worker died, path, error, killed)."""
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(job.line())
            proc.stdin.flush()
            if not self.warm:
                proc.stdin.close()  # one job, then the worker ends
        except OSError:
            return None, None, None, False
        killed = threading.Event()

        def kill() -> None:
            if self._kill_child():
                killed.set()

        timer = threading.Timer(job.limits.timeout + GRACE, kill)  # the build's own alarm comes first
        timer.daemon = True
        timer.start()
        path = error = None
        code: int | None = None
        try:
            for line in proc.stdout:
                kind, _, rest = line.rstrip("\n").partition(" ")
                if kind == "pid":
                    self._child = int(rest)
                elif kind == "progress":
                    pct, _, message = rest.partition(" ")
                    notify(Progress("building", int(pct), message))
                elif kind == "done":
                    path = rest
                elif kind == "failed":
                    error = rest
                elif kind == "exit":
                    code = int(rest)
                    break
        finally:
            timer.cancel()
            self._child = None
        return code, path, error, killed.is_set()

    @staticmethod
    def _finish(
        store: Store,
        job: Job,
        notify: OnProgress,
        code: int | None,
        path: str | None,
        error: str | None,
        killed: bool,
    ) -> Outcome:
        if killed:
            error = f"the report took longer than {job.limits.timeout:.0f} s and was stopped"
        ok = code == 0 and path is not None
        if not ok and error is None:
            error = "the report worker stopped" + (f" (exit code {code})" if code is not None else "")
        if not ok and job.report is not None:  # a build that was killed could not say so itself
            row = store.get_report(job.report)
            if row is not None and row.status != "failed":
                store.update_report(job.report, status="failed", error=error)
        notify(Progress("done", 100, path or "") if ok else Progress("failed", 0, error or "failed"))
        return Outcome(ok, path, error, -1 if code is None else code)
