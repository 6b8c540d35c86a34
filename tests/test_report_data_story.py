"""The per-move story (issue 12) files the log under its moves once: the escalation changes, decisions,
choices and messages are each read once whatever the number of moves (it scanned them again for every
move, and the level before each move from the start), and the moves say the same. From a real game:
a rehearsal of the four-move Global Hawk script, played through the engine."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tabletop.rehearse import rehearse
from tabletop.report.data.log import read_log
from tabletop.report.data.names import Names
from tabletop.report.data.sections import story
from tabletop.report.data.sections.flow import flow as read_flow

ROOT = Path(__file__).resolve().parent.parent


class Counted(list):
    """A list that counts how often it is read through."""

    reads = 0

    def __iter__(self):
        self.reads += 1
        return super().__iter__()


@pytest.fixture(scope="module")
def game():
    made = rehearse(ROOT / "exercises" / "global-hawk-2019.yaml", players=2, seed=0)
    yield made
    made.store.dispose()


def test_each_list_is_read_once_whatever_the_moves(game):
    exercise = game.exercise
    log = read_log(game.events())
    names = Names(exercise)
    flow = read_flow(exercise, log, names)
    assert len(exercise.moves) == 4 and log.escalations and log.decisions
    expected = story.moves(exercise, log, names, flow)
    log.escalations = Counted(log.escalations)
    log.decisions = Counted(log.decisions)
    log.choices = Counted(log.choices)
    passages = Counted(flow.passages)
    moves = story.moves(exercise, log, names, replace(flow, passages=passages))
    assert moves == expected
    # one pass each (the decisions twice: the options taken, then filed under their moves)
    assert (log.escalations.reads, log.choices.reads, passages.reads) == (1, 1, 1)
    assert log.decisions.reads == 2


def test_the_escalation_of_each_move_runs_from_the_level_at_its_start(game):
    exercise = game.exercise
    log = read_log(game.events())
    names = Names(exercise)
    moves = story.moves(exercise, log, names, read_flow(exercise, log, names))
    starts = [0.0, *(t for t, _title in story.move_marks(exercise, log))]
    level = exercise.escalation.start
    for n, move in enumerate(moves):
        end = starts[n + 1] if n + 1 < len(starts) else float("inf")
        changes = [x.p.level for x in log.escalations if starts[n] <= x.t < end]
        said = [h for h in move.happened if h.startswith("escalation from ")]
        if changes:
            assert said and said[0].startswith(f"escalation from {level} to {changes[-1]}"), (move.title, said)
            level = changes[-1]
        else:
            assert not said
