"""Tabletop: a platform for running tabletop crisis exercises."""

from pathlib import Path

#: The repository root: where `exercises/`, `injects/`, `templates/` and `reports/` live.
ROOT = Path(__file__).resolve().parent.parent
