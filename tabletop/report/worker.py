"""The report worker process: `python -m tabletop.report.worker [--warm]`, started by `job.ReportJob`.

It imports the build once, says `ready`, then reads jobs (one JSON line each, `job.Job`) from stdin
until stdin closes, and builds each in a forked child: the child moves to its own process group,
puts itself under the job's limits (an address-space limit, RLIMIT_AS, so WeasyPrint can never
take the server's memory; a lower CPU priority; SIGALRM at the time limit), writes its progress to
the `report` row and as lines on stdout (the protocol is in job.py), and exits. `--warm` also lays
out a line of text once, so that fonts and the layout engine are loaded before the first fork.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import resource
import signal
import sys
from pathlib import Path

from .job import Job
from .progress import Progress

log = logging.getLogger(__name__)


ALARM_REPEAT = 0.25  # seconds between alarms once the time is up


class Timeout(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise Timeout("the report took too long to build")


def arm_alarm(seconds: float) -> None:
    """Raise Timeout after `seconds` (fractions too), then again every quarter of a second.

    Again, in case the first Timeout is raised where it is swallowed (a finaliser, a library's broad
    except); the supervisor's kill remains the last resort.
    """
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, max(0.001, seconds), ALARM_REPEAT)


def disarm_alarm() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)


def _limit_memory(megabytes: int) -> None:
    limit = megabytes * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _describe(exc: BaseException) -> str:
    from .build import UnknownSession

    if isinstance(exc, (Timeout, UnknownSession)):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "the report needed more memory than its limit"
    if isinstance(exc, OSError) and exc.filename:
        return f"cannot write {exc.filename}: {exc.strerror}"
    log.exception("report build failed")
    return f"internal error: {type(exc).__name__}: {exc}"


def build(job: Job) -> int:
    """In the forked child: one build under the job's limits. Returns the exit code."""
    from tabletop.store import Store

    from .build import build_files

    _limit_memory(job.limits.memory_mb)
    if job.limits.nice > 0:
        os.nice(job.limits.nice)
    arm_alarm(job.limits.timeout)
    store: Store | None = None
    try:
        store = Store(job.db)

        def progress(update: Progress) -> None:
            print(f"progress {update.percent} {update.message}", flush=True)
            if job.report is not None and store is not None:
                store.update_report(job.report, status="building", progress=min(update.percent, 99))

        if job.report is not None:
            store.update_report(job.report, status="building", progress=1)
        built = build_files(
            store,
            job.session,
            Path(job.out_dir),
            output=Path(job.output) if job.output else None,
            jobs=job.jobs,
            progress=progress,
        )
        disarm_alarm()
        if job.report is not None:
            store.update_report(job.report, status="done", progress=100, path=str(built.pdf), error=None)
    except Exception as exc:  # noqa: BLE001 - every failure is said on the row (unexpected ones logged in _describe)
        disarm_alarm()
        message = _describe(exc)
        print(f"failed {message}", flush=True)
        if job.report is not None and store is not None:
            store.update_report(job.report, status="failed", error=message)
        return 1
    print(f"done {built.pdf}", flush=True)
    return 0


def serve(warm: bool) -> int:
    """Read jobs until stdin closes; build each in a fork of this process."""
    import sqlite3  # noqa: F401 - loaded once, for every fork (and before a fork's memory limit)

    from tabletop.store import Store  # noqa: F401

    from . import build as _build  # noqa: F401
    from .render import prewarm

    if warm:
        prewarm()
    gc.collect()  # nothing left for a fork to collect (a finaliser run there could swallow its alarm)
    gc.freeze()  # and what is loaded stays shared with the forks (no copy on write from the collector)
    print("ready", flush=True)
    for line in sys.stdin:
        try:
            job = Job.from_line(line)
        except ValueError:
            print("exit 2", flush=True)
            continue
        pid = os.fork()
        if pid == 0:  # the child: one build, in its own process group (a kill ends it and its layout helper)
            code = 1
            try:
                os.setpgid(0, 0)
                code = build(job)
            except BaseException:  # logged; the child must always leave through os._exit
                log.exception("report build failed")
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        with contextlib.suppress(OSError):  # the child may have done it first, or ended already
            os.setpgid(pid, pid)  # also here, so the group exists before the supervisor may kill it
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exit {os.waitstatus_to_exitcode(status)}", flush=True)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(serve(warm=sys.argv[1:] == ["--warm"]))
