"""The command line, one module per command group (each module owns its group and its commands):

- `exercise`: validate, schema, timeline, export-msel, import-msel, rehearse (exercise.py);
- `session`: create (session.py);
- `facilitator`: create, disable, enable (facilitator.py);
- `report`: build, export (report.py).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add every command group to `flask --app app ...`."""
    from .exercise import exercise_cli
    from .facilitator import facilitator_cli
    from .report import report_cli
    from .session import session_cli

    for group in (exercise_cli, session_cli, facilitator_cli, report_cli):
        app.cli.add_command(group)
