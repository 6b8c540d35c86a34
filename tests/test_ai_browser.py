"""Acceptance (issue 15), in Chromium: a session with an AI Oman seat (the small Gemma model on
llama.cpp's server). The facilitator seats it from the console; the U.S. player writes on the Oman
line; the AI relays it; Iran receives it; the console shows the action as the AI's, with the model."""

from __future__ import annotations

import pytest

from .ai_helpers import MODEL_NAME
from .browser_helpers import Seat, chromium, expect, join, log_in
from .live_server import Client, running_server

pytestmark = pytest.mark.slow

TEXT = "Request you keep your boats beyond 1,000 yards of our ships."


def test_an_ai_oman_relays_the_us_message_to_iran(tmp_path, model_url):
    env = {"AI_BASE_URL": model_url, "AI_MODEL": MODEL_NAME, "AI_TIMEOUT": "120"}
    with running_server(tmp_path, **env) as server, chromium() as browser:
        token = server.login()
        info = server.post("/api/sessions", {"exercise": "relay"}, token).json()
        control_socket = Client(server, token, info["session"])
        control_socket.connect()
        control, us, iran = Seat(browser, server, "control"), Seat(browser, server, "us"), Seat(browser, server, "iran")
        try:
            log_in(control)
            control.page.goto(f"/console/{info['session']}")
            panel = control.page.locator("#ai-seats")
            expect(panel.locator("#ai-endpoint")).to_contain_text(f"Model: {MODEL_NAME}")
            panel.locator("#ai-seat").select_option("oman/omani-liaison")
            for action in ("hold", "decline"):  # this desk only passes messages on
                panel.locator(f"input[name=ai-relay][value={action}]").uncheck()
            panel.get_by_role("button", name="Seat it").click()
            seat = panel.locator("#ai-list li[data-ai-seat]")
            expect(seat).to_contain_text(f"Omani liaison (AI: {MODEL_NAME})")
            expect(seat).to_contain_text("playing")

            join(us, info["codes"]["us"], "Alice", "j3")
            join(iran, info["codes"]["iran"], "Reza", "irgcn")
            assert control_socket.call("clock", {"action": "start"})["ok"]
            us.page.click("#tab-oman-line")
            us.page.fill("#say-oman-line", TEXT)
            us.page.press("#say-oman-line", "Enter")
            expect(us.page.locator("#panel-oman-line li.msg.mine", has_text="1,000 yards")).to_be_visible()

            # The AI relays it (forward, or an edit of its own): Iran receives it via Oman.
            iran.page.click("#tab-oman-line")
            delivered = iran.page.locator("#panel-oman-line li.msg").first
            expect(delivered).to_be_visible(timeout=150_000)
            expect(delivered.locator(".from")).to_have_text("Via Oman")

            # The console shows the action as the AI's, marked with the model's name.
            action = seat.locator("li[data-ai-seq]", has_text="relay").first
            expect(action).to_contain_text(" relay ", timeout=10_000)
            expect(action.locator(".badge")).to_have_text(MODEL_NAME)
            relayed = control_socket.wait_for(lambda e: e["type"] == "message_relayed", timeout=10)
            assert MODEL_NAME in relayed["payload"]["by"] and relayed["payload"]["action"] in ("forward", "edit")
            joined = control_socket.wait_for(lambda e: e["type"] == "participant_joined" and e["payload"].get("ai"))
            assert joined["payload"]["ai"] == {"model": MODEL_NAME, "told": True}
            assert joined["payload"]["name"] == relayed["payload"]["by"]  # the seat that relayed is the AI's
            control.shot("ai-01-console-ai-oman-1280")
            iran.shot("ai-02-iran-room-1280")
            for who in (control, us, iran):
                assert who.errors == [], (who.name, who.errors)
        finally:
            control_socket.disconnect()
            for who in (control, us, iran):
                who.close()


def test_players_not_told_control_still_sees_the_seat_marked(tmp_path):
    """A scripted bot seated with players not told: a plain name everywhere, marked on the console."""
    with running_server(tmp_path) as server, chromium() as browser:
        token = server.login()
        info = server.post("/api/sessions", {"exercise": "relay"}, token).json()
        control, us = Seat(browser, server, "control"), Seat(browser, server, "us")
        try:
            log_in(control)
            control.page.goto(f"/console/{info['session']}")
            panel = control.page.locator("#ai-seats")
            expect(panel.locator("#ai-endpoint")).to_contain_text("scripted bots only")
            panel.locator("#ai-told").uncheck()
            expect(panel.locator("#ai-told")).not_to_be_checked()
            panel.locator("#ai-seat").select_option("oman/omani-liaison")
            panel.locator("#ai-kind").select_option("bot")
            panel.locator("#ai-name").fill("Salim")
            panel.get_by_role("button", name="Seat it").click()
            expect(panel.locator("#ai-list li[data-ai-seat]")).to_contain_text("Salim")
            control.page.click("#clock-start")
            join(us, info["codes"]["us"], "Alice", "j3")
            us.page.click("#tab-oman-line")
            us.page.fill("#say-oman-line", TEXT)
            us.page.press("#say-oman-line", "Enter")
            entry = control.page.locator("#feed li", has_text="forwarded verbatim")
            expect(entry).to_contain_text("(Salim)")
            expect(entry.locator(".ai-mark")).to_have_text("AI: scripted bot")
            expect(us.page.locator("#panel-oman-line li.msg.mine")).to_contain_text("1,000 yards")
            assert "scripted bot" not in us.page.content() and "AI:" not in us.page.content()
            control.shot("ai-03-console-not-told-1280")
            for who in (control, us):
                assert who.errors == [], (who.name, who.errors)
        finally:
            for who in (control, us):
                who.close()
