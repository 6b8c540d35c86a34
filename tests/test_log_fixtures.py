"""Logs written by earlier code still load, fold to the same state and build the same report data."""

from __future__ import annotations

import json

import pytest

from tabletop.engine import SessionState
from tabletop.script.models import from_snapshot

from .log_fixtures import LOGS, NAMES, events_of, load_log, report_projection, state_projection


@pytest.mark.parametrize("name", NAMES)
def test_an_old_log_folds_to_the_same_state(name: str) -> None:
    log = load_log(name)
    state = SessionState(from_snapshot(log["script"]))
    for event in events_of(log):
        state.apply(event)
    expected = json.loads((LOGS / f"{name}.state.json").read_text())
    assert state_projection(state) == expected


@pytest.mark.parametrize("name", NAMES)
def test_the_report_data_of_an_old_log_is_unchanged(name: str) -> None:
    log = load_log(name)
    data = report_projection(log["session"], log["title"], log["script"], events_of(log))
    expected = json.loads((LOGS / f"{name}.report.json").read_text())
    assert json.loads(json.dumps(data)) == expected
