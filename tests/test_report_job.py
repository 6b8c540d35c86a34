"""The report job: one supervisor, warm or cold, with the same limits and progress for every route."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time

import pytest

from tabletop import ROOT
from tabletop.report import job as report_job
from tabletop.report import worker
from tabletop.report.job import Job, Limits, ReportJob
from tabletop.report.progress import Progress

from .report_helpers import play
from .test_rehearse import SPEEDBOAT


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    made = play(tmp_path_factory.mktemp("game"))
    yield made
    made.store.dispose()


@pytest.fixture(scope="module")
def warm():
    job = ReportJob(warm=True)
    job.start()
    yield job
    job.close()


def shape(updates: list[Progress]) -> list[tuple[str, int]]:
    return [(u.status, u.percent) for u in updates]


def test_a_warm_job_forks_every_build_from_one_worker(game, warm, tmp_path):
    worker = warm.pid
    heard: list[Progress] = []
    unknown = warm.run(game.store, "nosuchsession", tmp_path, on_progress=heard.append)
    assert not unknown.ok and unknown.error == "unknown session 'nosuchsession'"
    assert heard[-1] == Progress("failed", 0, "unknown session 'nosuchsession'")
    heard.clear()
    report_id = game.store.create_report(game.session)
    built = warm.run(game.store, game.session, tmp_path, report_id=report_id, on_progress=heard.append)
    assert built.ok and built.path is not None and built.path.startswith(str(tmp_path))
    assert warm.pid == worker  # the failed build did not take the worker with it
    percents = [u.percent for u in heard if u.status == "building"]
    assert percents == sorted(percents) and percents[-1] == 100
    assert heard[-1] == Progress("done", 100, built.path)
    row = game.store.get_report(report_id)
    assert (row.status, row.progress, row.path) == ("done", 100, built.path)


def test_warm_and_cold_builds_report_progress_the_same_way(game, warm, tmp_path):
    heard: dict[bool, list[Progress]] = {True: [], False: []}
    assert warm.run(game.store, game.session, tmp_path / "warm", on_progress=heard[True].append).ok
    cold = ReportJob(warm=False)
    assert cold.run(game.store, game.session, tmp_path / "cold", on_progress=heard[False].append).ok
    assert cold.pid is None  # a cold job's worker ends with its build
    assert shape(heard[True]) == shape(heard[False])


def test_a_build_that_outlives_its_alarm_is_killed_and_its_row_marked(game, warm, tmp_path, monkeypatch):
    monkeypatch.setattr(report_job, "GRACE", -29.5)  # the supervisor's kill comes 0.5 s in, long before the alarm
    report_id = game.store.create_report(game.session)
    began = time.monotonic()
    outcome = warm.run(game.store, game.session, tmp_path, report_id=report_id, limits=Limits(timeout=30))
    assert time.monotonic() - began < 20
    assert not outcome.ok and outcome.error == "the report took longer than 30 s and was stopped"
    row = game.store.get_report(report_id)
    assert row.status == "failed" and row.error == outcome.error  # the killed build could not say so itself
    assert warm.run(game.store, game.session, tmp_path).ok  # and the worker builds again


def test_a_warm_job_starts_a_new_worker_when_its_worker_died(game, tmp_path):
    import psutil

    job = ReportJob(warm=True)
    try:
        job.start()
        first = job.pid
        assert first is not None
        worker = psutil.Process(first)
        worker.kill()
        worker.wait(10)
        assert job.run(game.store, game.session, tmp_path).ok
        assert job.pid not in (None, first)
    finally:
        job.close()
    assert job.pid is None


def test_a_build_over_its_memory_limit_fails(game, warm, tmp_path):
    import psutil

    assert warm.pid is not None
    now = psutil.Process(warm.pid).memory_info().vms // 2**20
    outcome = warm.run(game.store, game.session, tmp_path, limits=Limits(memory_mb=now + 1))
    assert not outcome.ok and outcome.error


def test_the_build_alarm_rings_again_when_its_first_timeout_is_swallowed():
    previous = signal.getsignal(signal.SIGALRM)
    try:
        worker.arm_alarm(0.01)
        with contextlib.suppress(worker.Timeout):  # as a finaliser or a broad except would swallow it
            time.sleep(5)
        with pytest.raises(worker.Timeout):
            time.sleep(5)  # interrupted a quarter of a second later
    finally:
        worker.disarm_alarm()
        signal.signal(signal.SIGALRM, previous)


def test_a_job_crosses_to_the_worker_as_one_line():
    job = Job("sqlite:///x.db", "s1", "/tmp/out", 4, None, 2, Limits(timeout=1.5, memory_mb=512, nice=0))
    assert Job.from_line(job.line()) == job and job.line().count("\n") == 1
    with pytest.raises(ValueError, match="not a report job"):
        Job.from_line('{"db": "x"}')


def test_limits_come_from_the_app_config():
    assert Limits.from_config({}) == Limits(300.0, 2048, 10)
    assert Limits.from_config({"REPORT_TIMEOUT": "12", "REPORT_MEMORY_MB": 900}) == Limits(12.0, 900, 10)
    assert Limits.from_config({"REPORT_TIMEOUT": 12}, timeout=3).timeout == 3.0


# ------------------------------------------------- the same limits on every route
TOO_SHORT = {"REPORT_TIMEOUT": 0.01}


def test_cli_build_uses_the_apps_limits(app, runner, tmp_path):
    game = play(tmp_path, url=app.config["DATABASE_URL"])
    app.config.update(TOO_SHORT)
    result = runner.invoke(args=["report", "build", game.session, "-o", str(tmp_path / "aar.pdf")])
    assert result.exit_code == 1 and "too long" in result.output and "Traceback" not in result.output
    row = app.extensions["tabletop"].store.list_reports(game.session)[0]
    assert row.status == "failed" and "too long" in row.error


def test_rehearse_builds_through_the_job_with_the_apps_limits(app, runner, tmp_path):
    app.config.update(TOO_SHORT)
    out = tmp_path / "r.pdf"
    result = runner.invoke(args=["exercise", "rehearse", str(SPEEDBOAT), "--exchanges", "5", "-o", str(out)])
    assert result.exit_code == 1 and "too long" in result.output and not out.exists()


def test_web_build_uses_the_apps_limits(app, client, tmp_path):
    store = app.extensions["tabletop"].store
    fid = store.create_facilitator("fac", "correct horse battery")
    headers = {"Authorization": f"Bearer {store.issue_token('facilitator', fid)}"}
    game = play(tmp_path, url=app.config["DATABASE_URL"])
    app.config.update(TOO_SHORT)
    report_id = client.post(f"/api/sessions/{game.session}/reports", headers=headers).get_json()["report"]["id"]
    deadline = time.monotonic() + 60
    status: dict = {}
    while time.monotonic() < deadline:
        status = client.get(f"/api/reports/{report_id}", headers=headers).get_json()["report"]
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert status["status"] == "failed" and "too long" in status["error"]


def test_the_servers_own_process_never_imports_weasyprint(tmp_path):
    code = (
        "import sys; from tabletop.web import create_app; "
        f"app = create_app({{'SECRET_KEY': 'x', 'DATABASE_URL': 'sqlite:///{tmp_path}/t.db'}}); "
        "app.test_client().get('/reports'); "
        "print(sorted(m for m in sys.modules if m.startswith(('weasyprint', 'pypdf'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
