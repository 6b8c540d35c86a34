"""The browser: format 2's public feed, personas, exercise events, the escalation ladder and the
script's hotwash questions (Chromium, Playwright).

One real server on tests/data/conditions.yaml. The console shows the level with its rung's name and
sets a level with a reason; control posts as a persona and the rooms show the post on the public
feed under the persona's name (never control's); an exercise event is marked in the room; after the
end, the hotwash form asks the script's questions and the answers reach the log. Screenshots at 1280
and 768 px go to tests/screenshots/.
"""

from __future__ import annotations

import pytest

from .browser_helpers import TABLET, Seat, expect, join, log_in
from .live_game import open_game

pytestmark = pytest.mark.slow

POST = "IRGC Navy: the drone was shot down over Iranian waters. <b>Warning</b>."
STATEMENT = "The United States will defend freedom of navigation."


def test_public_feed_personas_ladder_and_hotwash_questions(server, browser):
    g = open_game(server, "conditions")
    info, session, control_socket = g.info, g.session, g.control
    control = Seat(browser, server, "control")
    us = Seat(browser, server, "us")
    iran = Seat(browser, server, "iran", viewport=TABLET)
    seats = [control, us, iran]
    try:
        join(us, info["codes"]["us"], "Alice", "us-general")
        join(iran, info["codes"]["iran"], "Reza", "ir-colonel")
        assert control_socket.call("clock", {"action": "start"})["ok"]

        # The console: the level with its rung's name, the ladder, the exercise event in the MSEL.
        log_in(control)
        page = control.page
        page.goto(f"/console/{session}")
        expect(page.locator("[data-conn]")).to_have_text("Connected")
        expect(page.locator("#esc-level")).to_have_text("1 · Routine presence")
        expect(page.locator("#esc-rungs li.current")).to_contain_text("Routine presence")
        expect(page.locator("#msel-opening .badge.fiction")).to_have_text("exercise event")
        expect(page.locator("#msel-opening")).to_contain_text("Source: ICG 000_1337e7dcf9fe2420.txt:59-62")
        expect(page.locator("#msel-chase")).to_contain_text("When: no message from United States on Oman line")

        # Control posts as a persona.
        page.select_option("#persona", "irna")
        page.fill("#persona-text", POST)
        page.get_by_role("button", name="Post as this persona").click()
        expect(page.locator("#public-feed li.post")).to_contain_text("persona posted by ctl")

        # Control adjudicates the level, with a reason: a rung of the ladder, then "Set level".
        page.locator("#esc-rungs").get_by_role("button", name="Force used").click()
        expect(page.locator("#esc-to")).to_have_value("4")
        page.fill("#esc-reason", "Adjudicated: boats fired on a helicopter")
        page.get_by_role("button", name="Set level").click()
        expect(page.locator("#esc-level")).to_have_text("4 · Force used")
        expect(page.locator("#esc-history")).to_contain_text("+3 → 4 · Force used: Adjudicated")
        control.shot("feed-01-console-1280")
        page.set_viewport_size(TABLET)
        control.shot("feed-02-console-768")

        # The rooms: the exercise event is marked; the public channel is a feed, the persona's post on it.
        opening = us.page.locator('article[data-inject="opening"]')
        expect(opening.locator(".fiction-mark")).to_contain_text("Exercise event")
        assert "ICG 000_1337e7dcf9fe2420" not in us.page.content(), "the source stays with control"
        us.page.click("#tab-public")
        post = us.page.locator("#panel-public li.post.persona")
        expect(post.locator(".post-author")).to_have_text("IRNA")
        expect(post.locator(".text")).to_have_text(POST)  # markup stays text
        assert us.page.locator("#panel-public b").count() == 0
        us.page.fill("#say-public", STATEMENT)
        us.page.get_by_role("button", name="Post", exact=True).click()
        expect(us.page.locator("#panel-public li.post").first).to_contain_text(STATEMENT)  # newest first
        us.shot("feed-03-us-room-1280")
        iran.page.click("#tab-public")
        expect(iran.page.locator("#panel-public li.post")).to_have_count(2)
        expect(iran.page.locator("#panel-public li.post.persona .post-author")).to_have_text("IRNA")
        for seat in (us, iran):
            assert "ctl" not in seat.page.locator("#panel-public").inner_text()
        iran.shot("feed-04-iran-room-768")

        # The end: the hotwash asks the script's questions, and the answers reach the log.
        assert control_socket.call("clock", {"action": "end"})["ok"]
        us.page.get_by_role("link", name="Give your hotwash feedback").click()
        form = us.page.locator("main form")
        expect(form).to_contain_text("Name one thing that worked on the Oman line.")
        expect(form.locator("[data-question=q-trust] legend")).to_have_text(
            "How far did you trust what came through Oman?"
        )
        us.page.fill("#answer-q-line", "The read-backs caught a wrong number.")
        us.page.check("input[name=answer-q-trust][value='4']")
        us.shot("feed-05-hotwash-1280")
        us.page.set_viewport_size(TABLET)
        us.shot("feed-06-hotwash-768")
        us.page.get_by_role("button", name="Send my hotwash").click()
        expect(us.page.get_by_text("Thank you")).to_be_visible()
        answers = control_socket.wait_for(lambda e: e["type"] == "feedback")["payload"]["answers"]
        assert answers == {"q-line": "The read-backs caught a wrong number.", "q-trust": 4}
        for seat in seats:
            assert seat.errors == [], (seat.name, seat.errors)
            assert seat.contrast == [], (seat.name, seat.contrast)
    finally:
        control_socket.disconnect()
        for seat in seats:
            seat.close()
