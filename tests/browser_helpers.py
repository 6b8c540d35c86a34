"""Playwright helpers for the browser tests: Debian's Chromium, pages per participant, screenshots."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tabletop import ROOT

from .live_server import PASSWORD, Server

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SHOTS = ROOT / "tests" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}


def launch(playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)


class Seat:
    """One person at one screen: a browser context of their own (own cookies, own storage)."""

    def __init__(self, browser: Browser, server: Server, name: str, viewport: dict | None = None) -> None:
        self.context = browser.new_context(viewport=viewport or DESKTOP, base_url=server.url)
        self.context.set_default_timeout(10_000)
        self.page: Page = self.context.new_page()
        self.name = name
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    def _console(self, msg) -> None:
        # Failed loads are reported with their address by _response.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self.errors.append(msg.text)

    def _response(self, response) -> None:
        if response.status >= 400:
            self.errors.append(f"{response.status} {response.request.method} {response.url}")

    def shot(self, name: str, full_page: bool = True) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self) -> None:
        self.context.close()


def log_in(seat: Seat, username: str = "ctl", password: str = PASSWORD) -> None:
    page = seat.page
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    expect(page).to_have_url(re.compile(r"/library$"))


def join(seat: Seat, code: str, name: str, position: str | None = None) -> None:
    page = seat.page
    page.goto("/join")
    page.fill("#code", code)
    page.click("main button[type=submit]")
    page.fill("#name", name)
    if position:
        page.check(f"input[name=position][value={position}]")
    page.click("main button[type=submit]")
    expect(page.locator("[data-conn]")).to_have_text("Connected")


def clock_text(page: Page) -> str:
    return page.locator("[data-clock]").first.inner_text()
