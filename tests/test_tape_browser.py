"""The tape in Chromium (issue 14): open the tape of a played game, scrub, switch from control to
Iran's view, and see that Iran's view never shows the U.S. team chat or the text Oman held back (nor
the words Oman changed); play, step, projector mode, a read-only share link for Iran's views."""

from __future__ import annotations

import re

import pytest

from .browser_helpers import DESKTOP, TABLET, Page, Seat, expect, join, log_in
from .live_server import Client
from .test_tape_e2e import EDITED, HELD, IRAN_CHAT, ORIGINAL, US_CHAT, play

pytestmark = pytest.mark.slow


def at(page: Page, seq: int) -> None:
    """Scrub to `seq` and wait for the moment to be drawn."""
    page.locator("#tape-range").fill(str(seq))
    expect(page.locator("body")).to_have_attribute("data-seq", str(seq))


def test_scrub_switch_to_iran_and_never_see_what_iran_did_not(server, browser):
    game = play(server)
    session, last = game["session"], game["last"]
    seat = Seat(browser, server, "ctl")
    log_in(seat)
    page = seat.page
    page.goto(f"/sessions/{session}/tape?seq=3")
    expect(page.locator("body")).to_have_attribute("data-seq", "3")
    expect(page.locator("#tape-seq")).to_have_text(f"event #3 of {last}")
    # Control sees everything: the U.S. chat and what Oman held and changed, at the end.
    at(page, last)
    feed = page.locator("#tape-events")
    expect(feed).to_contain_text(US_CHAT)
    relay = page.locator("#tape-relay")
    expect(relay).to_contain_text(HELD)
    expect(relay).to_contain_text(ORIGINAL)
    expect(relay).to_contain_text(EDITED)
    expect(page.locator("#beliefs")).to_contain_text("Truth: No")
    seat.shot("tape-control")
    # Scrub back: before the U.S. chat was written, control's feed does not hold it yet.
    at(page, 2)
    expect(feed).not_to_contain_text(US_CHAT)
    # Iran's view: never the U.S. chat, the held text or the words Oman changed; the edit it received.
    page.select_option("#tape-as", "team:iran")
    expect(page.locator("body")).to_have_attribute("data-as", "team:iran")
    for seq in range(1, last + 1):
        at(page, seq)
        text = page.locator("main").inner_text()
        for hidden in (US_CHAT, HELD, ORIGINAL, "Truth:"):
            assert hidden not in text, (seq, hidden)
    expect(feed).to_contain_text(IRAN_CHAT)
    # receiver_sees: via — Iran is not told who wrote it, and the line says so instead of a bare 'from'
    expect(feed).to_contain_text("Delivered on Oman line: through the intermediary")
    expect(relay).to_contain_text(EDITED)
    seat.shot("tape-iran")
    page.set_viewport_size(TABLET)  # the same view at tablet width, for people to look at
    seat.shot("tape-iran-768")
    page.set_viewport_size(DESKTOP)
    # Step event by event within Iran's view, and play to the end.
    at(page, 1)
    page.click("#tape-next")
    expect(page.locator("body")).not_to_have_attribute("data-seq", "1")
    page.select_option("#tape-speed", "60")
    page.click("#tape-play")
    expect(page.locator("body")).to_have_attribute("data-seq", str(last), timeout=15_000)
    expect(page.locator("#tape-play")).to_have_text("Play")
    assert US_CHAT not in page.locator("main").inner_text()
    # Projector mode for the hotwash: large type, no view switcher.
    page.goto(f"/sessions/{session}/tape?seq={last}&as=control&projector=1")
    expect(page.locator("body")).to_have_class(re.compile("tape-projector"))
    expect(page.locator("#tape-as")).to_be_hidden()
    seat.shot("tape-projector", full_page=False)
    assert seat.errors == [], seat.errors
    assert seat.contrast == [], seat.contrast
    # A read-only link for Iran's views, opened without an account.
    page.goto(f"/sessions/{session}/tape")
    page.select_option(".tape-share select[name=team]", "iran")
    page.click(".tape-share button[type=submit]")
    link = page.locator("#tape-link").input_value()
    seat.shot("tape-share-link")
    assert "/tape/shared/" in link
    guest = Seat(browser, server, "guest")
    guest.page.goto(link)
    expect(guest.page.locator("body")).to_have_attribute("data-as", "team:iran")
    options = guest.page.locator("#tape-as option").evaluate_all("(os) => os.map((o) => o.value)")
    assert "control" not in options and all(":iran" in o or o.startswith("p:") for o in options), options
    assert US_CHAT not in guest.page.locator("main").inner_text()
    expect(guest.page.locator(".tape-share")).to_have_count(0)
    guest.shot("tape-shared-iran")
    assert guest.errors == [] and guest.contrast == [], (guest.errors, guest.contrast)
    moment = guest.page.request.get(f"{link}/moment?as=control&seq=1")
    assert moment.status == 404
    assert guest.page.request.get(link[:-3] + "xyz").status == 404
    guest.close()
    seat.close()


def test_the_room_asks_for_an_assessment_and_the_console_shows_it_beside_the_truth(server, browser):
    token = server.login()
    info = server.post("/api/sessions", {"exercise": "key-questions"}, token).json()
    session = info["session"]
    ctl = Seat(browser, server, "ctl")
    log_in(ctl)
    ctl.page.goto(f"/console/{session}")
    expect(ctl.page.locator("[data-conn]")).to_have_text("Connected")
    player = Seat(browser, server, "us")
    join(player, info["codes"]["us"], "Alice", "j3")
    room = player.page
    panel = room.locator("#beliefs")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("How many people were killed?")  # no ask_at: open from the start
    expect(panel).not_to_contain_text("Does the other side mean to attack?")
    control = Client(server, token, session)
    control.connect()
    assert control.call("clock", {"action": "start"})["ok"]
    assert control.call("release_inject", {"inject": "shootdown"})["ok"]
    expect(room.locator("#beliefs-prompt")).to_contain_text("Does the other side mean to attack?")
    form = room.locator("form.assess-form[data-question=intent]")
    form.locator("select").select_option("Yes")
    form.locator("input[type=range]").fill("80")
    form.locator("button[type=submit]").click()
    expect(form.locator(".belief-current")).to_contain_text("Yes (80% sure)")
    player.shot("tape-room-assessment")
    beliefs = ctl.page.locator("#beliefs")
    expect(beliefs.locator("[data-question=intent]")).to_contain_text("Truth: No")
    expect(beliefs.locator("[data-question=intent] tr[data-team=us]")).to_contain_text("80%")
    expect(beliefs.locator("[data-question=intent] tr[data-team=us]")).to_contain_text("0.90")
    beliefs.scroll_into_view_if_needed()
    ctl.shot("tape-console-beliefs")
    assert "Truth" not in room.locator("main").inner_text()
    assert player.errors == [] and ctl.errors == [], (player.errors, ctl.errors)
    assert player.contrast == [], player.contrast
    assert [c for c in ctl.contrast if "belief" in c.lower() or "Truth" in c] == [], ctl.contrast
    control.disconnect()
    player.close()
    ctl.close()
