"""The one shape of report progress: what a build says as it goes, from the layout to the web page.

The build (`build.build_files`, `render.render_pdf`) calls an `OnProgress` with `building` steps;
the worker process prints each as a line, the supervisor (`job.ReportJob`) reads it back into the
same `Progress` and hands it to its caller (a Socket.IO room, the CLI's terminal), and ends with
one `done` or `failed`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Status = Literal["building", "done", "failed"]


@dataclass(frozen=True)
class Progress:
    status: Status
    percent: int  # 0-100
    message: str  # what is being done; the PDF's path when done; the error when failed


OnProgress = Callable[[Progress], None]


def ignore(update: Progress) -> None:
    """An `OnProgress` for callers that do not follow the build."""
