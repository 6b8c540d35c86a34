"""What the receiver did next after an edited relay (issue 12): a read-back counts as the receiving
team's act, and the intermediary's notes are listed after it; from a real game played through the
engine on tests/data/sponsor.yaml, and the PDF read back."""

from __future__ import annotations

import pytest

from tabletop.report.data import build_report
from tabletop.report.render import render_pdf

from .report_helpers import pdf_text, squeeze
from .test_conditions import at
from .test_sponsor_report import make

FIRST = "We will not retaliate tonight unless you fire again. Please read back."
EDITED = "Washington may not retaliate tonight. Please read back."
SECOND = "Our ships stay 12 nautical miles from your coast."
SECOND_EDITED = "Our ships stay 10 nautical miles from your coast."
THIRD = "Our drones will fly in international airspace only."
THIRD_EDITED = "Our drones may fly in international airspace."


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    game = make(tmp_path_factory.mktemp("relay-next"))
    game.do("control", "clock", action="start")
    at(game, 200)
    # 1. asked for a read-back, edited; the intermediary tells both sides about it; Iran reads back, then writes
    first = game.do("us-col", "send_message", channel="oman-line", text=FIRST, readback=True).seq
    at(game, 230)
    game.do("om-off", "relay", message=first, action="edit", text=EDITED)
    at(game, 240)
    game.do("om-off", "write_relay_note", channel="oman-line", to="us", text="We softened 'will'.", message=first)
    at(game, 250)
    game.do("om-off", "write_relay_note", channel="oman-line", to="iran", text="Washington is calm tonight.")
    at(game, 300)
    game.do("ir-col", "read_back", message=first, text="Washington may not retaliate.")
    at(game, 320)
    game.do("ir-col", "send_message", channel="oman-line", text="Received, we stand by.")
    # 2. edited, no read-back asked: Iran writes first; a later read-back cannot exist
    at(game, 400)
    second = game.do("us-col", "send_message", channel="oman-line", text=SECOND).seq
    at(game, 420)
    game.do("om-col", "relay", message=second, action="edit", text=SECOND_EDITED)
    at(game, 470)
    game.do("ir-irgcn", "send_message", channel="oman-line", text="Noted: ten miles.")
    # 3. edited with a read-back asked by the intermediary; Iran never answers; a note about it later
    at(game, 500)
    third = game.do("us-col", "send_message", channel="oman-line", text=THIRD).seq
    at(game, 520)
    game.do("om-off", "relay", message=third, action="edit", text=THIRD_EDITED, readback=True)
    at(game, 900)
    game.do("om-off", "write_relay_note", channel="oman-line", to="iran", text="Please read back.", message=third)
    at(game, 1000)
    game.do("control", "clock", action="end")
    yield game, (first, second, third)
    game.store.dispose()


@pytest.fixture(scope="module")
def data(game):
    g, _ = game
    return build_report(g.state.exercise, g.store.events_after(g.session), session_id=g.session)


def verdict(data, seq):
    return next(v for v in data.sponsor.verdicts if v.seq == seq)


def test_a_read_back_is_what_the_receiver_did_next_and_the_notes_are_listed(game, data):
    _, (first, _second, _third) = game
    then = verdict(data, first).next
    assert then.startswith(
        "+0:05:00 Dariush Karimi (General Staff liaison (Colonel)), Islamic Republic of Iran read it back: "
        "Washington may not retaliate."
    ), then
    # the note about the message (to the sender's side), and the note to Iran before it read back
    assert "; +0:04:00 note from Sultanate of Oman (Salim Al-Harthy) to United States: We softened 'will'." in then
    assert "; +0:04:10 note from Sultanate of Oman (Salim Al-Harthy) to Islamic Republic of Iran: " in then
    assert "Received, we stand by." not in then  # the read-back came first


def test_a_message_before_any_read_back_stays_the_next_act(game, data):
    _, (_first, second, _third) = game
    then = verdict(data, second).next
    assert then.startswith("+0:07:50 Bahram Tehrani (IRGC Navy commander), Islamic Republic of Iran on Oman line: ")
    assert "note from" not in then  # the unlinked note came before this message arrived


def test_no_answer_but_a_note_about_the_message(game, data):
    _, (_first, _second, third) = game
    then = verdict(data, third).next
    assert then == (
        "nothing more from the receiving team; +0:15:00 note from Sultanate of Oman (Salim Al-Harthy) "
        "to Islamic Republic of Iran: Please read back."
    )


def test_the_pdf_says_what_came_next(data, tmp_path):
    path = tmp_path / "next.pdf"
    render_pdf(data, path, jobs=1)
    text = squeeze(pdf_text(path))
    assert squeeze("read it back: Washington may not retaliate.") in text
    assert squeeze("note from Sultanate of Oman (Salim Al-Harthy) to United States") in text
