"""The set-up page moves a player to another seat and removes one (Chromium, Playwright): the moved
player's page reloads as its new seat with the same link; the removed one is disconnected at once and
its old seat no longer opens."""

from __future__ import annotations

import re

import pytest

from .browser_helpers import Seat, expect, join, launch, log_in, sync_playwright

pytestmark = pytest.mark.slow


def test_the_setup_page_moves_and_removes_participants(server):
    with sync_playwright() as p:
        browser = launch(p)
        control, alice, bob = (Seat(browser, server, name) for name in ("control", "alice", "bob"))
        try:
            log_in(control)
            page = control.page
            page.goto("/library/minimal")
            page.click("main button[type=submit]")
            expect(page).to_have_url(re.compile(r"/console/\w+/setup$"))
            setup_url = page.url
            codes = {
                card.get_attribute("data-code-for"): card.locator("[data-code]").inner_text()
                for card in page.locator("[data-code-for]").all()
            }
            join(alice, codes["us"], "Alice", "j3")
            join(bob, codes["us"], "Bob", "liaison-us")
            room_url = bob.page.url
            rows = page.locator("#people tr[data-participant]")
            expect(rows).to_have_count(2)
            expect(page.locator("#people tr", has_text="Bob").locator("[data-presence]")).to_have_text("online")

            # Move Bob to Oman: his page reloads, at the same address, as Oman's room.
            bob_row = page.locator("#people tr", has_text="Bob")
            bob_row.get_by_label("Move Bob to").select_option("oman/omani-liaison")
            expect(bob.page).to_have_title(re.compile(r"^Oman"))
            assert bob.page.url == room_url
            expect(bob.page.locator("[data-conn]")).to_have_text("Connected")
            expect(page.locator("#people tr", has_text="Bob")).to_contain_text("Oman")
            expect(rows).to_have_count(2)

            # Remove Alice: her connection closes at once; her seat no longer opens.
            page.once("dialog", lambda dialog: dialog.accept())
            page.get_by_label("Remove Alice").click()
            expect(alice.page.locator("[data-conn]")).to_have_text("Not authorised: join again")
            expect(page.locator("#people tr", has_text="Alice")).to_have_count(0)
            control.shot("seats-setup-after-move-and-remove")
            alice.page.reload()
            expect(alice.page).to_have_url(re.compile(r"/join$"))
            assert page.url == setup_url
            for seat in (control, bob):
                assert seat.errors == [], seat.errors
        finally:
            for seat in (control, alice, bob):
                seat.close()
            browser.close()
