"""Escalation effects that place the level on the ladder (format 2's `escalation: {to | by | at_least |
at_most}`), where a number only adds to it: the rule, the script checks, a real game through the
engine, and rehearsals of the Gulf scripts whose additive options ran off the top of the nine-rung
ladder (Global Hawk peaked at 9, named "Sustained hostilities"; the speedboat game at 7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tabletop.engine import events as ev
from tabletop.engine.events import redact
from tabletop.rehearse import rehearse
from tabletop.report.data import build_report
from tabletop.script import load_exercise
from tabletop.script.errors import ScriptError
from tabletop.script.models import place

from . import test_sponsor_report as sponsor
from .engine_helpers import DATA
from .test_conditions import at

ROOT = Path(__file__).resolve().parent.parent


def test_the_rule():
    assert place(7, to=4) == 4
    assert (place(1, at_least=4), place(6, at_least=4)) == (4, 6)  # raised to the rung, never lowered
    assert (place(6, at_most=4), place(2, at_most=4)) == (4, 2)  # lowered to it, never raised
    assert (place(2, by=1, at_most=3), place(3, by=2, at_most=3)) == (3, 3)  # a rise capped
    assert place(5, by=1, at_most=3) == 5  # a cap below the level does not turn a rise into a fall
    assert (place(3, by=-1, at_least=1), place(0, by=-1, at_least=1)) == (2, 0)  # a fall floored, never raised
    assert (place(1, by=1, at_least=2, at_most=3), place(2, by=1, at_least=2, at_most=3)) == (2, 3)


SCRIPT = """format: {fmt}
id: t
title: T
duration: 1h
teams:
  - {{id: us, name: US, positions: [{{id: j3, title: J3, authority: 3}}]}}
  - {{id: iran, name: Iran, positions: [{{id: gs, title: GS, authority: 3}}]}}
injects:
  - id: a
    at: "+00:01"
    to: [us]
    title: A
    body: x
    effects:
      - escalation: {effect}
    decision:
      prompt: P
      options:
        - {{id: x, label: X, escalation: {option}}}
"""


def load(tmp_path: Path, fmt: int = 2, effect: str = "{at_least: 2}", option: str = "{by: 1, at_most: 3}"):
    path = tmp_path / "t.yaml"
    path.write_text(SCRIPT.format(fmt=fmt, effect=effect, option=option))
    return load_exercise(path)


def test_a_format_2_script_places_the_level_and_format_1_adds_numbers(tmp_path):
    exercise = load(tmp_path)
    (effect,) = exercise.inject("a").effects
    (option,) = exercise.inject("a").decision.options
    assert (effect.escalation, effect.level.at_least) == (None, 2)
    assert (option.escalation, option.level.by, option.level.at_most, option.score) == (0, 1, 3, 1)
    assert load(tmp_path, fmt=1, effect="2", option="1").inject("a").effects[0].escalation == 2
    with pytest.raises(ScriptError) as refused:
        load(tmp_path, fmt=1)
    assert "'escalation' as a mapping (to, by, at_least, at_most) needs format: 2" in str(refused.value)


@pytest.mark.parametrize(
    ("effect", "message"),
    [
        ("{to: 3, by: 1}", "'to' sets the level: write it alone, without by, at_least or at_most"),
        ("{at_least: 5, at_most: 4}", "at_least 5 is above at_most 4"),
        ("{}", "an escalation mapping needs to, at_least, at_most or by"),
        ("{up: 2}", "unknown field 'up' (expected one of: to, by, at_least, at_most)"),
        ("200", "'escalation' must be at most 100, found the number 200"),
    ],
)
def test_a_wrong_mapping_is_named(tmp_path, effect, message):
    with pytest.raises(ScriptError) as refused:
        load(tmp_path, effect=effect)
    assert message in str(refused.value)


# ------------------------------------------------------------------ a real game through the engine
def edited_sponsor(tmp_path: Path) -> Path:
    text = (DATA / "sponsor.yaml").read_text()
    for old, new in (
        (
            "    body: An RQ-4A is down over the Strait.\n",
            "    body: An RQ-4A is down over the Strait.\n    effects:\n      - escalation: {at_least: 2}\n",
        ),
        (
            "          label: Limited strike\n          escalation: 3",
            "          label: Limited strike\n          escalation: {at_least: 4}",
        ),
        (
            "          label: Keep the batteries on alert\n          escalation: 0",
            "          label: Keep the batteries on alert\n          escalation: {by: 1, at_most: 4}",
        ),
        (
            "    title: Strike ordered on three radar sites\n",
            "    title: Strike ordered on three radar sites\n    effects:\n      - escalation: {at_least: 4}\n",
        ),
    ):
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "sponsor.yaml"
    path.write_text(text)
    return path


def test_a_game_places_the_level_and_records_only_changes(tmp_path, monkeypatch):
    monkeypatch.setattr(sponsor, "SCRIPT", edited_sponsor(tmp_path))
    game = sponsor.make(tmp_path)
    game.do("control", "clock", action="start")
    at(game, 130)  # the shootdown: an asset lost, at least 2 (from the start level 1)
    at(game, 310)
    game.do("us-gen", "decide", inject="options", option="strike", rationale="Deterrence")  # at least 4
    at(game, 370)  # the strike ordered: at least 4, already there: nothing recorded
    game.do("ir-gen", "decide", inject="iran-posture", option="alert", rationale="Wait")  # +1 capped at 4
    at(game, 400)
    events = game.store.events_after(game.session)
    changes = [(e.payload.delta, e.payload.level, e.payload.reason) for e in events if e.type == "escalation_changed"]
    assert changes == [(1, 2, "inject shootdown"), (2, 4, "decision options: strike")]
    made = {e.payload.inject: e.payload.escalation for e in events if e.type == "decision_made"}
    assert made == {"options": 2, "iran-posture": 0}  # the change each decision made
    assert game.state.escalation == 4
    # players are not told where an option places the level (control's instrument), control is
    released = next(e for e in events if e.type == "inject_released" and e.payload.inject == "options")
    seen = redact(released, game.actors["us-gen"].viewer, game.state.exercise)
    assert all(set(o) == {"id", "label"} for o in seen["payload"]["decision"]["options"])
    control = redact(released, game.actors["control"].viewer, game.state.exercise)
    assert control["payload"]["decision"]["options"][0]["level"] == {"at_least": 4}
    data = build_report(game.state.exercise, events)
    assert (data.peak_escalation, data.extras["escalation"].peak_rung) == (4, "Force used")
    game.store.dispose()


# ------------------------------------------------------------------ rehearsals of the Gulf scripts
@pytest.fixture(
    scope="module", params=[("global-hawk-2019", 0), ("global-hawk-2019", 1), ("speedboat-harassment-2020", 1)]
)
def played(request):
    script, seed = request.param
    game = rehearse(ROOT / "exercises" / f"{script}.yaml", players=2, seed=seed)
    events = game.events()
    yield script, seed, game.exercise, events, build_report(game.exercise, events)
    game.store.dispose()


def test_rehearsals_stay_on_the_ladder_and_the_report_names_the_rung(played):
    script, seed, exercise, events, data = played
    rungs = exercise.escalation.rungs
    levels = [e.payload.level for e in events if isinstance(e.payload, ev.EscalationChanged)]
    assert levels and all(rungs[0].level <= level <= 5 for level in levels), (script, seed, levels)
    peak = data.peak_escalation
    assert data.extras["escalation"].peak_rung == exercise.escalation.rung(peak).name
    assert all(p.level == peak and p.rung == exercise.escalation.rung(peak).name for p in data.sponsor.peaks)
    if (script, seed) == ("global-hawk-2019", 0):  # strikes recommended, and they went in: rung 5
        assert (peak, data.sponsor.peaks[0].rung) == (5, "Strikes or lethal force")
        assert data.sponsor.peaks[0].cause == "inject: Adjudication: the strikes go in"
    if (script, seed) == ("speedboat-harassment-2020", 1):  # warning shots, then a boat hit: deaths at sea
        assert (peak, data.sponsor.peaks[0].rung) == (5, "Strikes or lethal force")
