"""The browser: the intermediary's voice on the Oman relay desk (Chromium, Playwright).

One real server on tests/data/relay.yaml. The U.S. sends with handling instructions and asks for a
read-back; the Oman desk sees the instructions and writes a note to the U.S. side only; the U.S.
room shows the note, the Iranian room does not; Iran reads the message back and the U.S. room
shows that it was read back (not the text). Screenshots at 1280 and 768 px go to tests/screenshots/.
"""

from __future__ import annotations

import pytest

from .browser_helpers import TABLET, Seat, expect, join, log_in
from .live_game import open_game

pytestmark = pytest.mark.slow

ORIGINAL = "We hold Tehran responsible. <b>Stand down</b> the boats."
INSTRUCTIONS = "Pass it only if Tehran has not gone public yet."
NOTE = "Muscat will pass this tonight. Do you mean 'responsible' or 'accountable'?"
READ_BACK = "Washington asks that the boats stand down."


def test_the_oman_desk_writes_a_note_to_one_side_only(server, browser):
    g = open_game(server, "relay")
    info, control_socket = g.info, g.control
    control = Seat(browser, server, "control")
    us = Seat(browser, server, "us")
    iran = Seat(browser, server, "iran", viewport=TABLET)
    oman = Seat(browser, server, "oman")
    seats = [control, us, iran, oman]
    try:
        join(us, info["codes"]["us"], "Alice", "j3")
        join(iran, info["codes"]["iran"], "Reza", "irgcn")
        join(oman, info["codes"]["oman"], "Salim", "omani-liaison")
        assert control_socket.call("clock", {"action": "start"})["ok"]

        # The U.S. writes on the Oman line, with instructions for Oman alone and a read-back asked.
        us.page.click("#tab-oman-line")
        us.page.locator("#panel-oman-line details.handling summary").click()
        us.page.fill("#instr-oman-line", INSTRUCTIONS)
        us.page.check("#rb-oman-line")
        us.page.fill("#say-oman-line", ORIGINAL)
        us.page.press("#say-oman-line", "Enter")
        mine = us.page.locator("#panel-oman-line li.msg.mine", has_text="Stand down")
        expect(mine).to_contain_text("with Oman")
        expect(mine.locator(".instructions")).to_contain_text(INSTRUCTIONS)

        # The desk shows the instructions and writes a note to the U.S. side only.
        oman.page.click("#tab-relay-desk")
        item = oman.page.locator(".relay-item", has_text="Stand down")
        expect(item.locator(".instructions")).to_have_text(
            f"Instructions from United States, for you alone: {INSTRUCTIONS}"
        )
        expect(item).to_contain_text("The sender asks for a read-back")
        item.get_by_role("button", name="Write a note about it").click()
        expect(oman.page.locator("#note-text")).to_be_focused()
        expect(oman.page.locator("#note-channel")).to_have_value("oman-line")
        oman.page.fill("#note-text", NOTE)
        buttons = oman.page.locator("form.note-composer button[type=submit]")
        expect(buttons).to_have_text(["Note to the United States side", "Note to the Iran side"])
        oman.page.get_by_role("button", name="Note to the United States side").first.click()
        expect(oman.page.locator("#panel-relay-desk li.relay-note")).to_contain_text(NOTE)
        oman.shot("relay-01-oman-desk-1280")
        oman.page.set_viewport_size(TABLET)
        oman.shot("relay-02-oman-desk-768")

        # The U.S. room shows the note; the Iranian room does not.
        note = us.page.locator("#panel-oman-line li.relay-note")
        expect(note).to_contain_text(NOTE)
        expect(note).to_contain_text("Note from Oman (Salim), to your side only")
        expect(note).to_contain_text("About: We hold Tehran responsible.")
        us.shot("relay-03-us-room-1280")

        # Oman forwards it; Iran reads it "via Oman" and reads it back.
        item.get_by_role("button", name="Forward verbatim").click()
        iran.page.click("#tab-oman-line")
        delivered = iran.page.locator("#panel-oman-line li.msg", has_text="Stand down")
        expect(delivered.locator(".from")).to_have_text("Via Oman")
        expect(delivered.locator(".text")).to_have_text(ORIGINAL)  # markup stays text
        assert iran.page.locator("#panel-oman-line b").count() == 0
        delivered.locator("textarea").fill(READ_BACK)
        iran.shot("relay-04-iran-room-768")
        delivered.get_by_role("button", name="Send read-back").click()
        expect(delivered.locator(".readback-done")).to_contain_text(READ_BACK)
        expect(iran.page.locator("li.relay-note")).to_have_count(0)
        assert NOTE not in iran.page.content() and INSTRUCTIONS not in iran.page.content()

        # The sender's room shows that it was read back, never the read-back itself.
        expect(mine.locator(".badge")).to_have_text("read back by Iran")
        assert READ_BACK not in us.page.content()
        passed = oman.page.locator("#panel-oman-line li.msg:not(.relay-note)", has_text="Stand down")
        expect(passed.locator(".readback-done")).to_contain_text(READ_BACK)
        us.page.set_viewport_size(TABLET)
        us.shot("relay-05-us-room-768")

        # The console sees everything, notes and read-backs included.
        log_in(control)
        control.page.goto(f"/console/{info['session']}")
        expect(control.page.locator("[data-conn]")).to_have_text("Connected")
        voice = control.page.locator("[data-relay-channel=oman-line] ol.notes")
        expect(voice).to_contain_text(NOTE)
        expect(voice).to_contain_text(READ_BACK)
        expect(control.page.locator("#feed")).to_contain_text("Oman note to United States on Oman line")
        control.shot("relay-06-console-1280")
        control.page.set_viewport_size(TABLET)
        control.shot("relay-07-console-768")
        for seat in seats:
            assert seat.errors == [], (seat.name, seat.errors)
            assert seat.contrast == [], (seat.name, seat.contrast)
    finally:
        control_socket.disconnect()
        for seat in seats:
            seat.close()
