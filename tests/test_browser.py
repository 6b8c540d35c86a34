"""The browser, end to end: Debian's Chromium driven by Playwright through a whole game.

One real server process; the facilitator, three players and an observer each in a browser
context of their own. Time is driven by the console's send-now and speed controls, not by sleeping.
Screenshots of each screen go to tests/screenshots/.
"""

from __future__ import annotations

import re

import pytest

from tabletop import ROOT

from .browser_helpers import TABLET, Seat, clock_text, expect, join, log_in
from .live_server import running_server

pytestmark = pytest.mark.slow

ORIGINAL = "CENTCOM asks the General Staff to have the boats keep 1,000 yards off now."
EDITED = "CENTCOM asks that the boats keep 1,000 yards away. Please confirm."
PERSIAN = "لطفا فاصله را حفظ کنید"
HOSTILE = "<img src=x onerror=\"document.title='pwned'\"><b>bold?</b>"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(
        tmp_path_factory.mktemp("browser"), EXERCISES_DIR=str(ROOT / "exercises"), INJECTS_DIR=str(ROOT / "injects")
    ) as srv:
        yield srv


def inject(seat: Seat, ident: str):
    return seat.page.locator(f'article[data-inject="{ident}"]')


def test_a_whole_game_in_the_browser(server, browser):
    control = Seat(browser, server, "control")
    us = Seat(browser, server, "us")
    iran = Seat(browser, server, "iran")
    oman = Seat(browser, server, "oman")
    observer = Seat(browser, server, "observer")
    seats = [control, us, iran, oman, observer]
    try:
        # The facilitator logs in, looks at the library and the MSEL, creates a session.
        log_in(control)
        page = control.page
        expect(page.get_by_text("Speedboat harassment: the northern Gulf, April 2020", exact=True)).to_be_visible()
        control.shot("01-library")
        page.click("a[href='/library/speedboat-harassment-2020']")
        expect(page.locator("#inject-sb-line-call")).to_contain_text("decision")
        control.shot("02-msel-preview")
        page.click("main button[type=submit]")
        expect(page).to_have_url(re.compile(r"/console/\w+/setup$"))
        codes = {
            card.get_attribute("data-code-for"): card.locator("[data-code]").inner_text()
            for card in page.locator("[data-code-for]").all()
        }
        assert set(codes) == {"us", "iran", "oman", "observers"}
        assert page.locator("svg.qr").count() == 4

        # Three players and an observer join with their codes, each in a context of their own.
        join(us, codes["us"], "Alice", "us-line-colonel")
        join(iran, codes["iran"], "Reza", "afgs-colonel")
        join(oman, codes["oman"], "Salim", "oman-liaison")
        join(observer, codes["observers"], "Eve")
        expect(page.locator("#people tr")).to_have_count(4)
        expect(page.locator("#people")).to_contain_text("CENTCOM officer on the Oman line")
        control.shot("03-setup")

        # The facilitator opens the console and starts the clock.
        page.click("text=Open the live console")
        expect(page.locator("[data-conn]")).to_have_text("Connected")
        # Everyone seated before the console opened shows as online at once (the sync state's presence).
        expect(page.locator("#presence .badge.online")).to_have_count(4)
        page.click("#clock-start")
        for seat in (us, iran, oman, control):
            expect(seat.page.locator("[data-clock-status]").first).to_have_text("running")

        # Injects reach the rooms they are addressed to, and nowhere else.
        expect(inject(us, "sb-formation")).to_be_visible()
        expect(inject(iran, "sb-iran-patrol")).to_be_visible()
        page.click("#msel-sb-oman-watch button[data-action=release]")
        expect(inject(oman, "sb-oman-watch")).to_be_visible()
        expect(inject(us, "sb-formation").locator("img")).to_have_js_property("complete", True)
        for seat, foreign in ((us, "sb-iran-patrol"), (iran, "sb-formation"), (oman, "sb-formation")):
            expect(inject(seat, foreign)).to_have_count(0)
        expect(inject(us, "sb-oman-watch")).to_have_count(0)
        expect(inject(iran, "sb-oman-watch")).to_have_count(0)
        expect(us.page.locator("#inbox-unread")).to_have_text("1")
        inject(us, "sb-formation").get_by_role("button", name="Acknowledge").click()
        expect(inject(us, "sb-formation")).to_contain_text("Acknowledged by Alice")
        expect(page.locator("#msel-sb-formation")).to_contain_text("United States ✓ Alice")

        # The U.S. writes on the Oman line; Oman edits and forwards; Iran sees only the edit.
        us.page.click("#tab-oman-line")
        us.page.fill("#say-oman-line", ORIGINAL)
        us.page.press("#say-oman-line", "Enter")
        mine = us.page.locator("#panel-oman-line li.msg", has_text=ORIGINAL)
        expect(mine).to_contain_text("with Sultanate of Oman")
        expect(oman.page.locator("#tab-relay-desk .count")).to_have_text("1")
        oman.page.click("#tab-relay-desk")
        item = oman.page.locator(".relay-item", has_text=ORIGINAL)
        item.get_by_role("button", name="Edit and forward").click()
        item.locator("textarea").fill(EDITED)
        item.get_by_role("button", name="Forward edited text").click()
        expect(oman.page.locator("#panel-relay-desk")).to_contain_text("Forwarded edited")
        expect(mine).to_contain_text("delivered")  # forwarded, and on a line without delay delivered at once
        expect(iran.page.locator("#tab-oman-line .count")).to_have_text("1")
        iran.page.click("#tab-oman-line")
        expect(iran.page.locator("#panel-oman-line")).to_contain_text(EDITED)
        assert ORIGINAL not in iran.page.content()
        oman.shot("04-oman-relay-desk")

        # Player text is text: markup arrives as characters; Persian is written right to left.
        iran.page.fill("#say-oman-line", PERSIAN)
        iran.page.click("#panel-oman-line button[type=submit]")
        iran.page.click("#tab-team")
        iran.page.fill("#say-team", HOSTILE)
        iran.page.press("#say-team", "Enter")
        hostile = iran.page.locator("#panel-team .msg .text", has_text="<img src=x")
        expect(hostile).to_have_text(HOSTILE)
        assert iran.page.locator("#panel-team img").count() == 0
        assert iran.page.title() != "pwned"
        expect(oman.page.locator(".relay-item", has_text=PERSIAN).locator(".text")).to_have_attribute("dir", "auto")
        iran.shot("05-iran-room")

        # The line colonel's decision releases its triggered inject (at 10x the minute's delay is six seconds).
        page.click("#msel-sb-line-call button[data-action=release]")
        decision = inject(us, "sb-line-call")
        expect(decision.locator(".deadline")).to_contain_text("left")
        decision.get_by_label("A request that the General Staff").check()
        decision.locator("textarea").fill("Use the line before anyone fires.")
        us.shot("06-us-decision")
        decision.get_by_role("button", name="Decide").click()
        expect(decision.locator(".decision-result")).to_contain_text("Decided: A request that the General Staff")
        expect(page.locator("#msel-sb-line-go")).to_contain_text("due in")
        page.select_option("#speed", "10")
        page.click("#speed-set")
        expect(inject(us, "sb-line-go")).to_be_visible(timeout=20_000)
        expect(inject(iran, "sb-line-go")).to_have_count(0)
        expect(inject(iran, "sb-warning-passed")).to_have_count(0)
        page.select_option("#speed", "1")
        page.click("#speed-set")
        expect(page.locator("#feed")).to_contain_text("Decision on “What, if anything, goes on the Oman line?”")
        expect(page.locator("#relays")).to_contain_text("Nothing waiting")
        control.shot("07-console", full_page=False)

        # Pause stops the clocks on every screen.
        page.click("#clock-pause")
        screens = (control, us, iran, oman, observer)
        for seat in screens:
            expect(seat.page.locator("[data-clock-status]").first).to_have_text("paused")
        frozen = {seat.name: clock_text(seat.page) for seat in screens}
        page.wait_for_timeout(1500)
        assert {seat.name: clock_text(seat.page) for seat in screens} == frozen
        assert len(set(frozen.values())) == 1, frozen

        # A reload comes back to the same room, without duplicates.
        before = us.page.locator("article[data-inject]").evaluate_all("nodes => nodes.map(n => n.dataset.inject)")
        unread = us.page.locator("article.unread").count()
        assert unread == 1  # sb-line-go has not been opened yet
        us.page.reload()
        expect(us.page.locator("[data-conn]")).to_have_text("Connected")
        expect(us.page.locator("article[data-inject]")).to_have_count(len(before))
        after = us.page.locator("article[data-inject]").evaluate_all("nodes => nodes.map(n => n.dataset.inject)")
        assert after == before
        expect(us.page.locator("#tab-oman-line[aria-selected=true]")).to_be_visible()
        expect(us.page.locator("#panel-oman-line li.msg", has_text=ORIGINAL)).to_have_count(1)
        expect(us.page.locator("article.unread")).to_have_count(unread)
        expect(us.page.locator("#inbox-unread")).to_have_text(str(unread))
        expect(us.page.locator("[data-clock]")).to_have_text(frozen["us"])

        # Keyboard only: Tab to the team chat's message box, type, Enter sends.
        us.page.click("#tab-team")
        us.page.keyboard.press("Tab")
        us.page.keyboard.press("Tab")
        for _ in range(10):
            if us.page.evaluate("document.activeElement.id") == "say-team":
                break
            us.page.keyboard.press("Tab")
        assert us.page.evaluate("document.activeElement.id") == "say-team"
        us.page.keyboard.type("Typed without a mouse")
        us.page.keyboard.press("Enter")
        expect(us.page.locator("#panel-team")).to_contain_text("Typed without a mouse")

        # The observer watches read only and records an observation.
        expect(observer.page.locator("#feed")).to_contain_text("Delivered on Oman de-escalation line")
        observer.page.select_option("#obs-objective", "obj-contact")
        observer.page.check("input[name=rating][value=S]")
        observer.page.fill("#obs-text", "The line worked; the edit softened the message.")
        observer.page.click("#observe button[type=submit]")
        expect(observer.page.locator("#observations")).to_contain_text("the edit softened")
        expect(page.locator("#feed")).to_contain_text(
            re.compile(r"Observation S on Move 1\. After the boats .*… by Eve")
        )
        observer.shot("08-observer")

        # Tablet width.
        us.page.set_viewport_size(TABLET)
        us.shot("09-us-room-768", full_page=False)
        us.page.set_viewport_size({"width": 1280, "height": 800})
        us.shot("10-us-room")

        # The facilitator ends the session; players send the hotwash.
        page.click("#end")
        page.click("#end-yes")
        expect(page.locator("[data-clock-status]").first).to_have_text("ended")
        for seat in (us, iran, oman):
            expect(seat.page.locator("#ended")).to_be_visible()
            expect(seat.page.locator("#say-team")).to_be_disabled()
            seat.page.click("#to-hotwash")
            seat.page.fill("#strengths", f"{seat.name}: the relay was quick")
            seat.page.fill("#improvements", "Read-backs")
            seat.page.select_option("#rating-oman-line", "4")
            if seat is us:
                us.shot("11-hotwash")
            seat.page.click("main button[type=submit]")
            expect(seat.page.locator("h1")).to_have_text("Thank you")
        us.shot("12-thanks")
        expect(page.locator("#hotwash-progress")).to_contain_text("3 of 4")
        polls: list[str] = []
        page.on("request", lambda r: polls.append(r.url) if re.search(r"/api/reports/\d+$", r.url) else None)
        with page.expect_response(re.compile(r"/api/sessions/\w+/reports$")) as asked:
            page.click("#report-build")
        assert asked.value.status == 202, asked.value.text()
        # Progress comes by socket events only: the download appears without any polling.
        expect(page.locator("#report-download")).to_be_visible(timeout=90_000)
        expect(page.locator("#report-status")).to_have_text("Ready")
        assert polls == []
        pdf = page.request.get(page.locator("#report-download").get_attribute("href"))
        assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
        control.shot("13-console-ended", full_page=False)
        for seat in seats:
            assert not seat.errors, (seat.name, seat.errors)
        low = [problem for seat in seats for problem in seat.contrast]
        assert not low, "text below WCAG AA contrast:\n" + "\n".join(low)
    finally:
        for seat in seats:
            seat.close()
