"""The browser: a closed channel opens on screen, and the move's date changes in the header (Chromium).

One real server on tests/data/moves-live.yaml (format 2). A U.S. general sees the flag-level line
closed; the facilitator opens it from the console's channel controls and it opens on the general's
screen. The clock stops at Move 2 for a plenary; the facilitator starts the move from the console
and the player's header changes from 20 June 2019 (Move 1) to 18 July 2019 (Move 2). Screenshots at
1280 and 768 px go to tests/screenshots/.
"""

from __future__ import annotations

import re

import pytest

from .browser_helpers import TABLET, Seat, expect, join, log_in

pytestmark = pytest.mark.slow


def test_a_closed_channel_opens_on_screen_and_the_next_move_changes_the_date(server, browser):
    token = server.login()
    info = server.post("/api/sessions", {"exercise": "moves-live"}, token).json()
    control = Seat(browser, server, "control")
    general = Seat(browser, server, "us-general")
    ship = Seat(browser, server, "us-ship", viewport=TABLET)
    seats = [control, general, ship]
    try:
        join(general, info["codes"]["us"], "Gus", "us-general")
        join(ship, info["codes"]["us"], "Sam", "us-ship")
        log_in(control)
        control.page.goto(f"/console/{info['session']}")
        expect(control.page.locator("[data-conn]")).to_have_text("Connected")
        page, console = general.page, control.page

        # Move 1 is dated 20 June 2019 in the header, before the clock starts.
        expect(page.locator(".livebar [data-move]")).to_have_text("Move 1: the shootdown")
        expect(page.locator(".livebar [data-scenario]")).to_contain_text("20 Jun 2019 04:05")
        expect(console.locator("[data-move-heading=m2]")).to_contain_text("Move 2: USS Boxer")

        # The flag-level line is closed: marked on its tab, nothing can be written.
        tab = page.locator("#tab-flag-line")
        expect(tab.locator("[data-closed]")).to_be_visible()
        tab.click()
        expect(page.locator("#say-flag-line")).to_be_disabled()
        expect(page.locator("#why-flag-line")).to_have_text("You cannot write here: the channel is closed.")
        # The ship's officer reads neither the flag line nor the generals' hotline: no tabs for them.
        expect(ship.page.locator("#tab-bridge")).to_be_visible()
        expect(ship.page.locator("#tab-flag-line")).to_have_count(0)
        expect(ship.page.locator("#tab-generals")).to_have_count(0)
        general.shot("channels-01-flag-line-closed")
        ship.shot("channels-02-ship-tablet")

        # Control opens it from the console: it opens on the general's screen.
        row = console.locator("#channel-controls li[data-channel=flag-line]")
        expect(row).to_contain_text("closed")
        row.scroll_into_view_if_needed()
        control.shot("channels-03-console-channels", full_page=False)
        row.locator("button[data-channel-action=open]").click()
        expect(row.locator(".badge")).to_have_text("open")
        expect(tab.locator("[data-closed]")).to_be_hidden()
        expect(page.locator("#say-flag-line")).to_be_enabled()
        expect(page.locator("#panel-flag-line")).to_contain_text("The channel is open.")
        page.fill("#say-flag-line", "CENTCOM proposes a call at 0600.")
        page.press("#say-flag-line", "Enter")
        expect(page.locator("#panel-flag-line li.msg.mine")).to_contain_text("CENTCOM proposes a call at 0600.")
        general.shot("channels-04-flag-line-open")

        # The clock stops at Move 2 for a plenary; the facilitator starts the move.
        console.click("#clock-start")
        expect(console.locator("#move-start")).to_be_visible(timeout=15_000)
        expect(console.locator("#move-start")).to_have_text("Start Move 2: USS Boxer")
        expect(page.locator(".livebar [data-clock-status]")).to_have_text("plenary")
        expect(page.locator(".livebar [data-move]")).to_have_text("Move 1: the shootdown")
        expect(page.locator(".livebar [data-scenario]")).to_contain_text("20 Jun 2019 04:05:04")
        expect(console.locator("#clock-resume")).to_be_disabled()
        control.shot("channels-05-console-plenary", full_page=False)
        console.click("#move-start")
        expect(page.locator(".livebar [data-move]")).to_have_text("Move 2: USS Boxer")
        expect(page.locator(".livebar [data-scenario]")).to_contain_text("18 Jul 2019 10:0")
        expect(page.locator(".livebar [data-clock-status]")).to_have_text("running")
        expect(page.locator("[data-move-divider=m2]")).to_contain_text("18 Jul 2019")
        expect(page.locator('article[data-inject="boxer"]')).to_be_visible()
        expect(ship.page.locator(".livebar [data-move]")).to_have_text("Move 2: USS Boxer")
        expect(console.locator("#move-next")).to_be_hidden()
        expect(console.locator("#feed")).to_contain_text(re.compile("Move 2: USS Boxer started"))
        general.shot("channels-06-move-2")
        ship.shot("channels-07-move-2-tablet")
        control.shot("channels-08-console-move-2", full_page=False)
        with_tablet = Seat(browser, server, "control-tablet", viewport=TABLET)
        seats.append(with_tablet)
        log_in(with_tablet)
        with_tablet.page.goto(f"/console/{info['session']}")
        expect(with_tablet.page.locator("[data-move]").first).to_have_text("Move 2: USS Boxer")
        with_tablet.shot("channels-09-console-tablet")

        for seat in seats:
            assert seat.errors == [], (seat.name, seat.errors)
            assert seat.contrast == [], (seat.name, seat.contrast)
    finally:
        for seat in seats:
            seat.close()
