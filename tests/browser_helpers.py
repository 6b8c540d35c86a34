"""Playwright helpers for the browser tests: Debian's Chromium, pages per participant, screenshots.

Browser test modules import Playwright's names (`expect`, `sync_playwright`) from here, never from
Playwright itself: without Playwright or Chromium they skip, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tabletop import ROOT

from .live_server import PASSWORD, Server
from .services import unavailable  # also imported from here by the browser test modules

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:
    unavailable("Playwright is not installed (scripts/setup.sh dev installs it)")


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
    """Debian's Chromium (skipped without it outside CI, failed in CI)."""
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"Chromium is not installed at {CHROMIUM} (scripts/setup.sh installs it)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium under Playwright, closed on leaving: the browser tests' module fixture."""
    with sync_playwright() as p:
        browser = launch(p)
        try:
            yield browser
        finally:
            browser.close()


#: Every text on the screen against the background it is drawn on: WCAG AA (4.5:1, 3:1 for large text).
CONTRAST_JS = r"""
() => {
  const parse = (c) => {
    const m = c && c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(parseFloat);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const over = (top, base) => ({
    r: top.r * top.a + base.r * (1 - top.a),
    g: top.g * top.a + base.g * (1 - top.a),
    b: top.b * top.a + base.b * (1 - top.a),
  });
  const background = (el) => {
    const layers = [];
    for (let cur = el; cur && cur.nodeType === 1; cur = cur.parentElement) {
      const c = parse(getComputedStyle(cur).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let base = { r: 255, g: 255, b: 255 };
    for (let i = layers.length - 1; i >= 0; i--) base = over(layers[i], base);
    return base;
  };
  const bad = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || seen.has(el)) continue;
    seen.add(el);
    if (el.closest("svg") || el.closest("[disabled]") || el.closest("[aria-hidden=true]")) continue;
    const st = getComputedStyle(el);
    const rect = el.getBoundingClientRect();
    if (st.visibility === "hidden" || rect.width === 0 || rect.height === 0) continue;
    const b = background(el);
    const fg = over(parse(st.color), b);
    const l1 = lum(fg), l2 = lum(b);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(st.fontSize);
    const large = size >= 24 || (parseInt(st.fontWeight, 10) >= 700 && size >= 18.66);
    const need = large ? 3 : 4.5;
    const text = node.textContent.trim().slice(0, 40);
    if (ratio < need) bad.push(`${ratio.toFixed(2)} < ${need}: "${text}" (${st.color})`);
  }
  return bad;
}
"""


class Seat:
    """One person at one screen: a browser context of their own (own cookies, own storage)."""

    def __init__(self, browser: Browser, server: Server, name: str, viewport: dict | None = None) -> None:
        self.context = browser.new_context(viewport=viewport or DESKTOP, base_url=server.url)
        self.context.set_default_timeout(10_000)
        self.page: Page = self.context.new_page()
        self.name = name
        self.errors: list[str] = []
        self.contrast: list[str] = []  # texts below WCAG AA contrast, found on the screens shot
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
        self.contrast += [f"{name}: {problem}" for problem in self.page.evaluate(CONTRAST_JS)]
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
