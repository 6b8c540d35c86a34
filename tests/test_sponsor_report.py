"""The sponsor's questions in the after-action report (issue 12), from a real game played through the
engine on tests/data/sponsor.yaml (two moves, two incidents, the Oman line with rank layers, the
Swiss channel played by control, a bridge radio, a public channel), and the PDF read back.

The game: the shootdown at +0:02; the U.S. line officer writes on the Oman line, Oman edits it (a
modal weakened, a condition dropped); the IRGC Navy commander answers, forwarded by the Omani
colonel (a lower rank); the two-star's message is held by Oman while Iran decides; the U.S. decides
a strike (escalation to its peak); a declined message; control's Swiss channel; a server outage in
move 2 (the press inject released late); the facilitator's key findings after the end.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tabletop.engine import Actor, ManualTime
from tabletop.live import Live
from tabletop.report.data import build_report
from tabletop.report.render import render_pdf
from tabletop.script import load_exercise
from tabletop.script.models import snapshot
from tabletop.store import Store

from .engine_helpers import DATA, Game
from .test_conditions import at

SCRIPT = DATA / "sponsor.yaml"
SEATS = {
    "us-gen": ("us", "us-general", "Alice Moore"),
    "us-col": ("us", "us-colonel", "Carl Diaz"),
    "us-ship": ("us", "us-ship", "Sam Park"),
    "ir-gen": ("iran", "ir-general", "Reza Ahmadi"),
    "ir-irgcn": ("iran", "ir-irgcn", "Bahram Tehrani"),
    "ir-col": ("iran", "ir-colonel", "Dariush Karimi"),
    "om-off": ("oman", "om-official", "Salim Al-Harthy"),
    "om-col": ("oman", "om-colonel", "Khalid Al-Busaidi"),
}
FIRST = "The RQ-4 was over international waters at 25-59N 056-53E. We will not retaliate tonight unless you fire again."
EDITED = "Muscat passes on: The RQ-4 was over international waters at 25-59N 056-53E. We may not retaliate tonight."
FINDINGS = (
    "- The line worked, but Oman softened the U.S. warning.\n- Rank did not match: a two-star wrote to a colonel."
)


def make(tmp_path: Path) -> Game:
    store = Store(f"sqlite:///{tmp_path / 'sponsor.db'}")
    store.migrate()
    exercise = load_exercise(SCRIPT, library=DATA / "lib")
    session = store.create_session(
        exercise.id, exercise.title, snapshot(exercise), [t.id for t in exercise.teams], None
    )
    time = ManualTime()
    live = Live(store, time, lambda sid, e, state: None)
    actors = {"control": Actor("control", None, "White Cell")}
    for key, (team, position, person) in SEATS.items():
        pid = store.add_participant(session, "player", person, team, position, [])
        actors[key] = Actor("player", pid, person, team, position)
        payload = {"participant": pid, "kind": "player", "name": person, "team": team, "position": position}
        from tabletop.engine import NewEvent
        from tabletop.engine.events import PARTICIPANT_JOINED

        live.record(session, NewEvent(PARTICIPANT_JOINED, payload, (team,), actor=pid))
    return Game(store, live, time, session, actors)


def play(game: Game) -> None:
    game.do("control", "clock", action="start")
    at(game, 150)  # the shootdown (incident) came at +0:02
    game.do("ir-gen", "send_message", channel="public", text="Our air defences shot down an intruding U.S. drone.")
    at(game, 200)
    first = game.do("us-col", "send_message", channel="oman-line", text=FIRST).seq
    at(game, 260)
    game.do("om-off", "relay", message=first, action="edit", text=EDITED)
    at(game, 320)
    reply = game.do("ir-irgcn", "send_message", channel="oman-line", text="Received. Our boats are pulling back.").seq
    at(game, 340)
    game.do("om-col", "relay", message=reply, action="forward")
    game.do("us-ship", "send_message", channel="bridge", text="Iranian boats, this is a U.S. warship: keep clear.")
    at(game, 400)
    held = game.do("us-gen", "send_message", channel="oman-line", text="Our forces remain on alert.").seq
    at(game, 410)
    game.do("om-off", "relay", message=held, action="hold")
    at(game, 420)
    game.do("us-gen", "decide", inject="options", option="strike", rationale="Deterrence")
    at(game, 450)
    game.do("ir-gen", "decide", inject="iran-posture", option="alert", rationale="Wait and see")
    at(game, 500)
    game.do("om-off", "relay", message=held, action="forward")
    at(game, 520)
    swiss = game.do("ir-col", "send_message", channel="swiss", text="Please pass our protest to Washington.").seq
    at(game, 560)
    game.do("control", "relay", message=swiss, action="edit", text="Tehran protests the strike.")
    at(game, 620)
    declined = game.do("us-col", "send_message", channel="oman-line", text="Your threats mean nothing.").seq
    at(game, 630)
    game.do("om-col", "relay", message=declined, action="decline")
    at(game, 1799)
    game.advance(5)  # the clock stops at the move boundary
    game.do("control", "start_move", move="boxer")
    at(game, 1960)  # the Boxer (incident) came at +0:32
    boxer = game.do("us-col", "send_message", channel="oman-line", text="USS Boxer jammed a drone at 1,000 yards.").seq
    at(game, 2000)
    game.do("om-col", "relay", message=boxer, action="forward")
    at(game, 2990)
    game.time.advance(40)  # the server is down: the press inject (+0:50) falls due unseen
    game.live.run_due(game.session)
    at(game, 3100)
    game.do("control", "clock", action="end")
    game.do("control", "key_findings", text=FINDINGS)


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    made = make(tmp_path_factory.mktemp("sponsor"))
    play(made)
    yield made
    made.store.dispose()


@pytest.fixture(scope="module")
def data(game):
    return build_report(game.state.exercise, game.store.events_after(game.session), session_id=game.session)


@pytest.fixture(scope="module")
def pdf(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf") / "sponsor.pdf"
    render_pdf(data, path, jobs=1)
    return path


def test_the_data_answers_every_research_question(data):
    s = data.sponsor
    assert s.scripted and [a.id for a in s.answers][:2] == ["rq-contact", "rq-answer"]
    assert all(a.answer for a in s.answers)
