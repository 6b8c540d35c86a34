"""The rehearsal's plenary note names the team of every decision so far, a default at the deadline too."""

from __future__ import annotations

from tabletop import ROOT
from tabletop.engine import events as ev
from tabletop.rehearse import rehearse

SPEEDBOAT = ROOT / "exercises" / "speedboat-harassment-2020.yaml"


def test_the_plenary_names_the_deciding_team_of_every_decision() -> None:
    game = rehearse(SPEEDBOAT, players=2, seed=3)
    teams = tuple(f"{t.name}: " for t in game.exercise.teams)
    plenaries = [
        e.payload.text for e in game.events() if isinstance(e.payload, ev.Note) and "Plenary" in e.payload.text
    ]
    assert len(plenaries) == 2
    decided = [p.split(" Decisions so far: ", 1)[1].rstrip(".").split("; ") for p in plenaries]
    assert all(decided), plenaries
    for entry in (d for each in decided for d in each):
        assert entry.startswith(teams), entry
    by_default = {
        e.payload.label for e in game.events() if isinstance(e.payload, ev.DecisionMade) and e.payload.team is None
    }
    assert any(entry.split(": ", 1)[1] in by_default for each in decided for entry in each), "a default is named too"
