"""Build a session's report files (PDF and HTML) from the store: what the worker's child runs (job.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabletop.script.models import from_snapshot
from tabletop.store import Store

from .data import ReportData, build_report
from .progress import OnProgress, Progress, ignore
from .render import render_pdf


class UnknownSession(LookupError):
    pass


@dataclass(frozen=True)
class Built:
    pdf: Path
    html: Path
    data: ReportData
    timings: dict[str, Any]


def report_data(store: Store, session_id: str) -> ReportData:
    row = store.get_session(session_id)
    if row is None:
        raise UnknownSession(f"unknown session '{session_id}'")
    events = store.events_after(session_id, 0)
    return build_report(from_snapshot(row.script), events, session_id=session_id, session_title=row.title)


def report_name(data: ReportData) -> str:
    return f"aar-{data.exercise_id}-{data.session_id}"


def build_files(
    store: Store,
    session_id: str,
    out_dir: Path,
    *,
    output: Path | None = None,
    jobs: int = 2,
    progress: OnProgress = ignore,
) -> Built:
    """Read the log, fold it, write `<name>.pdf` and `<name>.html` into out_dir (or the PDF to output)."""
    began = time.perf_counter()
    progress(Progress("building", 5, "reading the event log"))
    data = report_data(store, session_id)
    progress(Progress("building", 15, f"report data built from {data.built_from} events ({data.exchanges} exchanges)"))
    pdf = output if output is not None else out_dir / f"{report_name(data)}.pdf"
    pdf.parent.mkdir(parents=True, exist_ok=True)
    html = pdf.with_suffix(".html")
    timings = render_pdf(data, pdf, jobs=jobs, progress=progress, html_path=html)
    timings["total"] = round(time.perf_counter() - began, 3)
    progress(Progress("building", 100, f"done: {pdf}"))
    return Built(pdf, html, data, timings)


__all__ = ["Built", "UnknownSession", "build_files", "report_data", "report_name"]
