"""Report data -> HTML (Jinja, autoescaped) -> PDF (WeasyPrint), on two cores.

The PDF is laid out in parts: the body (cover, contents, sections, appendix A) and one appendix
per channel log, each appendix numbered on its own (`C-1`, `C-2`...), as HSEEP reports number
their appendices. Because no part needs another's page numbers, the parts are split into groups
laid out in parallel (a forked process per extra group) and the pages are put back in order
with pypdf, with the outline rebuilt from every part's headings.

Nothing is fetched but our own files: `StaticOnlyFetcher` serves files under `static/` and
refuses every other URL (http, file outside static, data:), so a URL or a path that a player
typed can never be read into the report; their text is escaped anyway, so it is never markup.

This module imports WeasyPrint and pypdf when it loads: only the report worker (job.py, worker.py)
and the tests import it, never the server's own process.
"""

from __future__ import annotations

import io
import logging
import mimetypes
import multiprocessing
import os
import pickle
import re
import string
import tempfile
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pypdf import PdfReader, PdfWriter
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from tabletop import ROOT
from tabletop.script.times import format_wall
from tabletop.text import markdown_html

from . import charts
from .data import ChannelCount, Figure, Message, RelayItem, ReportData, Response, TimelineItem
from .data.compare import Comparison, compare_moves
from .data.models import Lane, LaneMark, RankPair, Seat
from .data.relaydiff import RULES
from .progress import OnProgress, Progress, ignore

log = logging.getLogger(__name__)

STATIC = ROOT / "static"
TEMPLATES = ROOT / "templates"
MAIN = "main"


# ------------------------------------------------------------------- fetcher
class RefusedURL(ValueError):
    """A URL the report may not load; WeasyPrint logs it and carries on without the resource."""


class StaticOnlyFetcher(URLFetcher):
    """Serves files under static/ only; every other URL is refused, never fetched."""

    def __init__(self, roots: Sequence[Path] = (STATIC,)) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False)
        self.roots = tuple(Path(r).resolve() for r in roots)

    def fetch(self, url: str, headers: Any = None) -> Any:
        path = self.resolve(url)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})

    def resolve(self, url: str) -> Path:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise RefusedURL(f"refused {url[:200]!r}: the report loads only its own static files")
        path = Path(unquote(parts.path)).resolve()
        if not any(path.is_relative_to(root) for root in self.roots) or not path.is_file():
            raise RefusedURL(f"refused {url[:200]!r}: not a file under static/")
        return path

    def __call__(self, url: str) -> Any:
        return self.fetch(url)


# ---------------------------------------------------------------------- HTML
def css_string(value: str) -> Markup:
    """A CSS string literal for any text: everything but plain characters as a CSS escape."""
    safe = string.ascii_letters + string.digits + " /-.,:()"
    # Every character that could end the string or the rule is escaped: safe to insert.
    return Markup('"' + "".join(c if c in safe else f"\\{ord(c):06x}" for c in value) + '"')  # noqa: S704


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html", "css"), default=True),
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.filters["css_string"] = css_string
    env.filters["isolate"] = isolate
    env.tests["rtl_only"] = rtl_only
    return env


CHUNK = 25  # lines per block in the long lists
PUBLIC_LINES = 40  # lines of the public-and-private timeline in the body (all of them in their appendix)
TIMELINE_LINES = 60  # lines of the timeline in the body (all of them, with the key messages, in appendix B)
FLAGGED = 20  # rank mismatches in the body (all of them in their appendix)
STOPPED = 20  # messages held, declined or never passed on in the body (all of them in the relay appendix)


@dataclass(frozen=True)
class Appendix:
    """A part of the report numbered on its own (`C-1`...): the long lists, which grow with the log."""

    letter: str
    key: str  # anchor-safe
    title: str
    intro: str
    lines: tuple[str, ...]

    @property
    def page(self) -> str:  # CSS page name
        return f"app-{self.letter.lower()}"

    @property
    def anchor(self) -> str:
        return f"appendix-{self.key}"

    @property
    def chunks(self) -> list[list[str]]:
        return chunked(list(self.lines))


LONG = re.compile(r"\S{61,}")  # an unbroken string longer than a line can hold at the lists' size


def breakable(text: str) -> str:
    """A zero-width space every 60 characters of an unbroken string longer than that (a URL, a grid,
    base64): the long lists wrap it inside the page (issue 12) without `overflow-wrap` on every line."""
    if len(text) <= 60:
        return text
    return LONG.sub(lambda m: "\u200b".join(m[0][i : i + 60] for i in range(0, len(m[0]), 60)), text)


def flat(text: str) -> str:
    """One line of text: line breaks a player typed become a pilcrow (each line of a list is one item)."""
    return breakable(" ¶ ".join(part.strip() for part in text.replace("\t", " ").splitlines() if part.strip()))


RTL_CHAR = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\U00010800-\U00010fff\U0001e800-\U0001efff]")
BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")
RTL_CLASSES = frozenset(("R", "AL"))
SPACE_CLASSES = frozenset(("WS", "S", "B"))


def rtl_only(text: str) -> bool:
    """Right-to-left letters and no left-to-right ones (Persian or Arabic alone): a paragraph of its own."""
    classes = {unicodedata.bidirectional(c) for c in text}
    return bool(classes & RTL_CLASSES) and "L" not in classes


def isolate(text: str) -> str:
    """Text a player wrote, for a left-to-right line (issue 12: mixed Persian and English keep their order).

    Each run of right-to-left text becomes a bidi isolate (RLI ... PDI): it reads right to left inside, with
    the digits and punctuation between and after its words, and the runs stand left to right in the order
    they were written, so "سلام دوست‌ها then 1,000 m" shows the Persian first, as typed, not after the English
    (which a right-to-left isolate of the whole message did). The whole is a left-to-right isolate, so that
    direction controls a player typed end with the message. Zero-width non-joiners are kept as typed.
    """
    if not RTL_CHAR.search(text) and not BIDI_CONTROL.search(text):
        return text
    classes = [unicodedata.bidirectional(c) for c in text]
    out = ["\u2066"]
    pos, n = 0, len(text)
    while pos < n:
        start = next((i for i in range(pos, n) if classes[i] in RTL_CLASSES), n)
        out.append(text[pos:start])
        if start == n:
            break
        end, last = start, start
        while end < n and classes[end] != "L":
            if classes[end] in RTL_CLASSES:
                last = end
            end += 1
        if end < n:  # a left-to-right word follows: the run ends at its last RTL letter and what clings to it
            end = last + 1
            while end < n and classes[end] not in SPACE_CLASSES and classes[end] != "L":
                end += 1
        out += ["\u2067", text[start:end], "\u2069"]
        pos = end
    out.append("\u2069")
    return "".join(out)


def chunked(lines: list[str], size: int = CHUNK) -> list[list[str]]:
    return [lines[i : i + size] for i in range(0, len(lines), size)]


def log_line(m: Message, *, team: bool = True, elsewhere: str = "") -> str:
    """A message of a channel log: without its team when the whole log is one team's (the intro names it), and
    without its text when another appendix gives it (`elsewhere`: the relay list, with what became of it)."""
    status = "" if m.status == "delivered" else f" [{m.status}]"
    if m.spoofed:
        status += " [spoofed by control]"
    sender = f"{m.name} ({m.from_team_name})" if team else m.name
    text = f"text in appendix {elsewhere}" if elsewhere else isolate(flat(m.text))
    return f"#{m.seq} {m.time} {sender}{status}: {text}"


def timeline_line(i: TimelineItem, elsewhere: str = "") -> str:
    """A line of the timeline; a key message without its text when an appendix gives it (`elsewhere`: its letter)."""
    when = f"{i.time}  {i.scenario}" if i.scenario else i.time
    who = f"{i.teams}: " if i.teams else ""
    if i.reader:  # titles, not ids (issue 12)
        return f"{when}  {i.kind.upper()}  {who}{isolate(flat(i.reader))}"
    stop = " " if i.title.rstrip().endswith((".", "?", "!", ":")) else ". "  # no "?." after a question
    detail = f"{stop}{isolate(flat(i.detail))}" if i.detail else ""
    ref = f" {i.ref}" if i.ref else ""
    if elsewhere and i.detail:
        return f"{when}  {i.kind.upper()}  {who}{i.title}{ref}, text in appendix {elsewhere}"
    return f"{when}  {i.kind.upper()}  {who}{i.title}{detail}{ref}"


def relay_line(x: RelayItem) -> str:
    by = f" by {x.by}" if x.by else ""
    held = f"; held {x.held_for}" if x.held else ""
    return (
        f"#{x.seq} {x.time} {x.name} ({x.from_team_name}) to {x.to_names}, {x.channel_name}: "
        f"{x.outcome.upper()}{by} after {x.waited}{held}: {isolate(flat(x.original))}"
    )


def response_line(x: Response) -> str:
    ack = x.ack or "none"
    said = x.message or "none"
    return f"{x.time}  {x.title}  {x.team_name}: first acknowledgement {ack}, first message {said}"


def pp_line(i: TimelineItem, elsewhere: str = "") -> str:
    """A line of the public-and-private timeline: the lane first, so the three read apart; a message through the
    intermediary without its text when the relay list gives it (`elsewhere`: that appendix's letter)."""
    when = f"{i.time}  {i.scenario}" if i.scenario else i.time
    detail = f": {isolate(flat(i.detail))}" if i.detail else ""
    if elsewhere and i.detail:
        detail = f"; text in appendix {elsewhere}"
    return f"{when}  {i.kind.upper():<8}  {i.ref}  {i.teams}, {i.title}{detail}"


def seat_text(s: Seat | None) -> str:
    if s is None:
        return "nobody (never decided)"
    rank = f", authority {s.authority}" if s.authority is not None else ""
    return f"{s.name + ', ' if s.name else ''}{s.title}{rank}"


def seat_short(s: Seat | None) -> str:
    """A seat without its holder's name (the relay line names the sender and the relayer already)."""
    if s is None:
        return "nobody (never decided)"
    return f"{s.title}{f', authority {s.authority}' if s.authority is not None else ''}"


def rank_line(r: RankPair) -> str:
    """A message's rank pairing, short: the seats at both ends and in the middle, the receiving seats summed up
    by their number and highest authority (section 6's table names them), and the verdict against the rules."""
    top = max((s.authority for s in r.receivers if s.authority is not None), default=None)
    seats = (
        f"{len(r.receivers)} seat{'s' if len(r.receivers) != 1 else ''} read it" if r.receivers else "nobody reads it"
    )
    if top is not None:
        seats += f", the highest of authority {top}"
    flags = f"MISMATCH: {'; '.join(r.flags)}" if r.flags else "matched"
    return f"[{seat_short(r.sender)}; relayed by {seat_short(r.relayer)}; {seats}; {flags}]"


def relay_rank_line(x: RelayItem, r: RankPair | None, row: int | None = None) -> str:
    """A message through an intermediary once (issue 12): what became of it, then its rank pairing, then its text.

    One list instead of a relay list and a rank-pairing list of the same messages: half the lines to lay out.
    With `row`, the pairing is its row of section 6's table (P1, P2...: the seats at both ends, in the middle and
    reading it), and the verdict: the seats are written once there instead of on each of the messages."""
    if r is None:
        return relay_line(x)
    by = f" by {x.by}" if x.by else ""
    held = f"; held {x.held_for}" if x.held else ""
    if row is not None:
        flags = f"MISMATCH: {'; '.join(r.flags)}" if r.flags else "matched"
        pairing = f"[pairing P{row}, {flags}]"
    else:
        pairing = rank_line(r)
    return (
        f"#{x.seq} {x.time} {x.name} ({x.from_team_name}) to {x.to_names}, {x.channel_name}: "
        f"{x.outcome.upper()}{by} after {x.waited}{held} {pairing}: {isolate(flat(x.original))}"
    )


@dataclass(frozen=True)
class Pairing:
    """Messages through a relay with the same seats at both ends and in the middle."""

    channel: str
    sender: str
    relayer: str
    receivers: str
    messages: int
    flagged: int


def pairing_key(r: RankPair) -> tuple[str, str, str, str]:
    relayer = f"{r.relayer.title} ({r.relayer.authority})" if r.relayer and r.relayer.authority else ""
    if r.relayer and not r.relayer.authority:
        relayer = r.relayer.title
    seats = "; ".join(f"{s.title} ({s.authority})" for s in r.receivers)
    return (r.channel, f"{r.sender.title} ({r.sender.authority})", relayer or "never decided", seats)


def pairings(ranks: Sequence[RankPair]) -> list[Pairing]:
    """The rank pairing grouped: who wrote, who relayed, which seats read, how often, how many flagged.

    Numbered P1, P2... in this order (most messages first): the relay list names each message's row."""
    groups: dict[tuple[str, str, str, str], list[RankPair]] = {}
    for r in ranks:
        groups.setdefault(pairing_key(r), []).append(r)
    return [
        Pairing(*key, len(items), sum(1 for r in items if r.flags))
        for key, items in sorted(groups.items(), key=lambda kv: -len(kv[1]))
    ]


def pairing_numbers(ranks: Sequence[RankPair]) -> dict[int, int]:
    """Each message's row (1, 2...) in the table of pairings."""
    rows = {(p.channel, p.sender, p.relayer, p.receivers): n for n, p in enumerate(pairings(ranks), start=1)}
    return {r.seq: rows[pairing_key(r)] for r in ranks}


def letters() -> list[str]:
    single = list(string.ascii_uppercase[1:])  # A is the participants
    return single + [a + b for a in string.ascii_uppercase for b in string.ascii_uppercase]


def appendices(data: ReportData) -> list[Appendix]:
    """Appendix A (participants) is in the body; then the timeline, the relay list and one log per channel.

    Made once per rendering (their lines are many) and passed to every function that needs them.
    """
    sponsor = data.sponsor
    # Each message's text is given once (issue 12): in the relay list when it went through an intermediary,
    # else in its channel's log; the timeline's key messages, the public-and-private timeline and the relay
    # channels' logs point there by letter, so the letters are planned before the lines are made.
    planned = ["timeline"] + (["relay"] if data.relays else [])
    planned += ["public-private"] if sponsor is not None and sponsor.public_private else []
    planned += (["responses"] if data.responses else []) + [f"log-{log.id}" for log in data.logs]
    letter_of = dict(zip(planned, letters(), strict=False))
    relay_letter = letter_of.get("relay", "")
    relayed = {x.seq for x in data.relays}
    texts = {m.seq: letter_of[f"log-{log.id}"] for log in data.logs for m in log.messages}
    texts.update(dict.fromkeys(relayed, relay_letter))
    found: list[tuple[str, str, str, list[str]]] = [
        (
            "timeline",
            "Timeline of play",
            "Every inject, decision, escalation change and facilitator note, the clock, jammed channels, and key "
            "messages (the first on each channel, public statements, spoofs, relayed messages edited or declined, "
            "jammed sends). Each line: exercise time, scenario time, what, teams, then the event; # numbers point "
            "into the logs, where the text of each key message is (the letter is given).",
            _timeline(data, keep_messages=True, texts=texts),
        )
    ]
    if data.relays:
        ranks = {r.seq: r for r in sponsor.ranks} if sponsor is not None else {}
        rows = pairing_numbers(sponsor.ranks) if sponsor is not None else {}
        pairing = (
            " In brackets, its rank pairing: its row (P1, P2...) of section 6's table \"Who wrote to whom, through "
            "whom\", which gives the sender's seat, the relayer's and the seats of the receiving team that read the "
            'channel, with their authority; then "matched", or the mismatch against the script\'s channel rule.'
            if ranks
            else ""
        )
        found.append(
            (
                "relay",
                "Every message through an intermediary",
                "Log number, time written, sender, receivers, channel: what the intermediary did, after how long, "
                f"how long it was held.{pairing} Then the text as written (section 5 shows the edits).",
                [relay_rank_line(x, ranks.get(x.seq), rows.get(x.seq)) for x in data.relays],
            )
        )
    if sponsor is not None and sponsor.public_private:
        found.append(
            (
                "public-private",
                "Public and private, one timeline",
                "The incidents, every public statement, every message on the line and every decision, in the order "
                "of the log. Each line: exercise time, scenario time, what (INCIDENT, PUBLIC, LINE, DECISION), log "
                "number, who, where, then the text as written (what the relay made of it is in brackets)"
                + (
                    f"; the text of a message through the intermediary is in appendix {relay_letter}, under its number."
                    if relay_letter
                    else "."
                ),
                [pp_line(i, relay_letter if i.seq in relayed else "") for i in sponsor.public_private],
            )
        )
    if data.responses:
        found.append(
            (
                "responses",
                "Response times per inject",
                "For each inject and each team it reached: when it was released, the inject, the team, then how long "
                "until the team's first acknowledgement and its first message (a team's response is whichever came "
                "first; section 1 gives each team's median).",
                [response_line(x) for x in data.responses],
            )
        )
    for log in data.logs:
        teams = {m.from_team_name for m in log.messages}
        one = log.kind == "team" and len(teams) == 1  # a team chat: the team named once, in the intro
        through = sum(1 for m in log.messages if m.seq in relayed)
        intro = (
            f"{log.kind}{'; ' + log.members if log.members else ''}; {len(log.messages)} messages"
            f"{', all from ' + next(iter(teams)) if one else ''}. Each line: log number, exercise time, "
            f"{'sender' if one else 'sender (team)'}, [what became of it when not simply delivered], text. "
            + (
                f"The text of a message through the intermediary ({through} here) is in appendix {relay_letter}, "
                "under its number, with what became of it. "
                if through
                else ""
            )
            + "Positions are in appendix A."
        )
        lines = [log_line(m, team=not one, elsewhere=relay_letter if m.seq in relayed else "") for m in log.messages]
        found.append((f"log-{log.id}", f"Log of {log.name}", intro, lines))
    return [
        Appendix(letter, key, title, intro, tuple(lines))
        for letter, (key, title, intro, lines) in zip(letters(), found, strict=False)
    ]


SECTIONS = (
    ("executive-summary", "Executive summary"),
    ("summary", "1. Summary in figures"),
    ("overview", "2. Overview"),
    ("timeline", "3. Timeline and moves"),
    ("channels", "4. Channels"),
    ("relay", "5. The relay"),
    ("ranks", "6. Rank pairing"),
    ("responses", "7. Contact and response times"),
    ("decisions", "8. Decisions"),
    ("public-private", "9. Public and private"),
    ("objectives", "10. Objectives and improvement plan"),
    ("participants", "Appendix A: Participants"),
)
#: The section that holds the evidence for an answer of the executive summary (data: `ResearchAnswer.section`).
SEE = {
    "contacts": "7",
    "relay-changes": "5",
    "ranks": "6",
    "knew": "8",
    "decisions": "8",
    "public-private": "9",
    "channels": "4",
}


def relay_totals(data: ReportData) -> list[tuple[str, int]]:
    """What became of the messages through a relay, each counted once by its final outcome (a message
    held, then forwarded, is a forward): the outcomes add up to the total; "held first" is beside them."""
    outcomes = {"forwarded": 0, "edited": 0, "declined": 0, "waiting": 0}
    for x in data.relays:
        outcomes[x.outcome if x.outcome in outcomes else "waiting"] += 1
    return [
        ("passed on unchanged", outcomes["forwarded"]),
        ("edited", outcomes["edited"]),
        ("declined", outcomes["declined"]),
        ("never passed on", outcomes["waiting"]),
        ("total", len(data.relays)),
        ("held first (counted above by outcome)", sum(1 for x in data.relays if x.held)),
    ]


def shown_figures(data: ReportData) -> list[Figure]:
    """The summary in figures, with the relay's line made to add up (issue 12): the pinned data's note
    counted a held message again when it was later forwarded."""
    totals = relay_totals(data)
    control = sum(1 for x in data.relays if x.relay_team == "Exercise control")
    parts = ", ".join(f"{n} {label}" for label, n in totals[:4])
    note = f"{parts}; {totals[5][1]} of them held first"
    if control:
        note += f"; {control} through the relay played by control"
    return [replace(f, note=note) if f.label == "Through the relay" else f for f in data.figures]


def channel_rows(data: ReportData) -> list[ChannelCount]:
    """Messages per channel and team, control's spoofs counted as control's (issue 12: who wrote them),
    though each is shown in the logs as the team it imitated, marked spoofed."""
    spoofs: dict[str, dict[str, int]] = {}
    for log in data.logs:
        for m in log.messages:
            if m.spoofed:
                per = spoofs.setdefault(m.channel, {})
                per[m.from_team] = per.get(m.from_team, 0) + 1
    rows = []
    for c in data.channel_counts:
        moved = spoofs.get(c.id, {})
        if not moved:
            rows.append(c)
            continue
        total = sum(moved.values())
        by_team = tuple((team, n - moved.get(team, 0) + (total if team == "control" else 0)) for team, n in c.by_team)
        rows.append(replace(c, by_team=by_team))
    return rows


def spoofs_to_control(data: ReportData) -> tuple[Lane, ...]:
    """The swim lanes as drawn: a message control spoofed is control's (issue 12), so its mark moves from the
    lane of the team it imitated (where `data.lanes`, pinned by the golden fixtures, keeps it) to control's."""
    spoofs = [(m.from_team, m.t) for log in data.logs for m in log.messages if m.spoofed]
    if not spoofs or not any(lane.team == "control" for lane in data.lanes):
        return data.lanes
    marks = {lane.team: list(lane.marks) for lane in data.lanes}
    for team, t in spoofs:
        mark = LaneMark(t, "message")
        if team in marks and mark in marks[team]:
            marks[team].remove(mark)
            marks["control"].append(mark)
    return tuple(replace(lane, marks=tuple(sorted(marks[lane.team], key=lambda mark: mark.t))) for lane in data.lanes)


def _charts(data: ReportData) -> dict[str, Markup]:
    span = max(data.played_s, 60.0)
    sponsor = data.sponsor
    moves = sponsor.move_marks if sponsor is not None else ()
    gaps = [(o.t, o.until) for o in sponsor.outages] if sponsor is not None else []
    peaks = []
    for p in sponsor.peaks if sponsor is not None else ():
        if p.t > 0:
            cause = p.cause.removeprefix("decision: ").removeprefix("inject: ")
            peaks.append((p.t, p.level, f"peak {p.level}: {cause}"))
    # Our own SVG, built with every label escaped (charts.py): safe to insert as markup.
    found = {
        "lanes": Markup(charts.swim_lanes(spoofs_to_control(data), span, moves=moves, gaps=gaps)),  # noqa: S704
        "traffic": Markup(charts.traffic(data.traffic, span, moves=moves, gaps=gaps)),  # noqa: S704
        "escalation": Markup(  # noqa: S704
            charts.escalation(
                data.escalation,
                span,
                [d.t for d in data.decisions],
                rung_lines(data),
                moves=moves,
                peaks=peaks,
                gaps=gaps,
            )
        ),
    }
    if sponsor is not None:
        legend = ("incident", "decision", "messages", "")
        found["public"] = Markup(  # noqa: S704
            charts.swim_lanes(sponsor.lanes, span, moves=moves, gaps=gaps, legend=legend)
        )
    return found


def _timeline(
    data: ReportData, keep_messages: bool = False, tape: bool = False, texts: dict[int, str] | None = None
) -> list[str]:
    """The timeline's lines (the body's leaves the key messages out), with the server's outages marked;
    with `tape`, each line's time links to the tape at its event (issue 14: `/sessions/ID/tape?seq=N`)."""
    items = [i for i in data.timeline if keep_messages or i.kind != "message"]
    if data.sponsor is not None:
        items += [TimelineItem(o.t, o.time, "", "outage", "", o.text, seq=0) for o in data.sponsor.outages]
        items.sort(key=lambda i: i.t)
    if tape and data.session_id:
        return [tape_line(i, data.session_id) for i in items]
    where = texts or {}
    return [timeline_line(i, where.get(i.seq, "") if i.kind == "message" else "") for i in items]


def tape_line(i: TimelineItem, session_id: str) -> str:
    """A timeline line whose time opens the tape at its event (escaped text around our own link)."""
    line = timeline_line(i)
    if not i.seq or not line.startswith(i.time):
        return line
    href = f"/sessions/{quote(session_id, safe='')}/tape?seq={int(i.seq)}"
    return Markup('<a href="{}">{}</a>{}').format(href, i.time, line[len(i.time) :])


def rung_lines(data: ReportData) -> list[tuple[int, str]]:
    """The script's named rungs for the escalation chart (format 2; none for format 1)."""
    ladder = data.extras.get("escalation")
    return [(level, name) for level, name, _description in ladder.rungs] if ladder is not None else []


def _context(data: ReportData, apps: Sequence[Appendix]) -> dict[str, Any]:
    return {
        "r": data,
        "appendices": apps,
        "sections": [{"id": i, "title": t} for i, t in SECTIONS],
        "built": format_wall(time.time()),
    }


def fragment(data: ReportData, part: str, apps: Sequence[Appendix]) -> str:
    """The HTML of one part: MAIN, or the logs of the appendices given."""
    env = environment()
    if part == MAIN:
        major = _timeline(data, tape=True)
        stopped = [relay_line(x) for x in data.relays if x.outcome in ("declined", "waiting") or x.held]
        # Author Markdown through the one safe renderer (raw HTML shown as text, links checked).
        summary = Markup(markdown_html(data.summary))  # noqa: S704
        return env.get_template("report/main.html").render(
            **_context(data, apps),
            summary_html=summary,
            charts=_charts(data),
            major=chunked(major[:TIMELINE_LINES]),
            major_total=len(major),
            public_lines=[pp_line(i) for i in data.sponsor.public_private[:PUBLIC_LINES]] if data.sponsor else [],
            verdicts={v.seq: v for v in data.sponsor.verdicts} if data.sponsor is not None else {},
            see=SEE,
            rules=RULES,
            flagged=[r for r in data.sponsor.ranks if r.flags][:FLAGGED] if data.sponsor is not None else [],
            pairings=pairings(data.sponsor.ranks) if data.sponsor is not None else [],
            stopped=chunked(stopped[:STOPPED]),
            stopped_total=len(stopped),
            edited=[x for x in data.relays if x.outcome == "edited"],
            appendix={a.key: a for a in apps},
            rounds=compare_moves(data, each_decision=False),
            figures=shown_figures(data),
            relay_totals=relay_totals(data),
            channel_rows=channel_rows(data),
        )
    return env.get_template("report/appendix.html").render(**_context(data, [a for a in apps if a.letter == part]))


def wrap(data: ReportData, apps: Sequence[Appendix], bodies: Sequence[str]) -> str:
    """A complete HTML document around part fragments made by `fragment`."""
    env = environment()
    css = Markup((STATIC / "report" / "report.css").read_text(encoding="utf-8"))  # noqa: S704 our own file
    page_css = Markup(env.get_template("report/page_css.css").render(r=data, appendices=apps))  # noqa: S704
    parts = [Markup(b) for b in bodies]  # noqa: S704 autoescaped templates
    return env.get_template("report/document.html").render(r=data, css=css, page_css=page_css, parts=parts)


def all_parts(apps: Sequence[Appendix]) -> list[str]:
    return [MAIN, *(a.letter for a in apps)]


def document(data: ReportData, parts: Sequence[str] | None = None) -> str:
    """A complete HTML document of the parts given (all by default): what the browser view shows."""
    apps = appendices(data)
    keys = list(parts) if parts is not None else all_parts(apps)
    return wrap(data, apps, [fragment(data, key, apps) for key in keys])


# ----------------------------------------------------------------------- PDF
@dataclass
class GroupResult:
    pdf: bytes
    starts: dict[str, int]  # part -> first page index in this group's PDF
    pages: int
    outline: list[tuple[int, str, int]]  # (level, label, page index)
    seconds: float
    fragments: dict[str, str]  # part -> its HTML, for the browser view


def _render_group(data: ReportData, apps: Sequence[Appendix], keys: Sequence[str]) -> GroupResult:
    began = time.perf_counter()
    fragments = {key: fragment(data, key, apps) for key in keys}
    html = wrap(data, apps, [fragments[key] for key in keys])
    doc = HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=StaticOnlyFetcher()).render()
    anchors = {"report-main": MAIN, **{a.anchor: a.letter for a in apps}}
    starts: dict[str, int] = {}
    for index, page in enumerate(doc.pages):
        for anchor in page.anchors:
            key = anchors.get(anchor)
            if key is not None and key not in starts:
                starts[key] = index
    outline: list[tuple[int, str, int]] = []

    def walk(nodes: Any, level: int) -> None:
        for label, target, children, _state in nodes:
            outline.append((level, label, target[0]))
            walk(children, level + 1)

    walk(doc.make_bookmark_tree(), 1)
    pdf = doc.write_pdf()
    return GroupResult(pdf, starts, len(doc.pages), outline, time.perf_counter() - began, fragments)


def plan_groups(data: ReportData, apps: Sequence[Appendix], jobs: int) -> list[list[str]]:
    """Split the parts into `jobs` groups of about the same layout cost (longest first, to the lightest).

    Costs are in units of about 1.2 ms of CPU, measured on the 2,000-exchange rehearsal (issue 12): a list's
    line costs about as much for its box as for 130 characters of its text (the lists point to each other now,
    so their lines are of very different lengths); the body's are measured estimates.
    """
    edited = sum(1 for x in data.relays if x.outcome == "edited")
    # Measured on the 2,000-exchange rehearsal (issue 12): the body (45 pages: cover to appendix A, with the
    # sponsor's sections, the timeline capped at TIMELINE_LINES) costs about as much as 2,800 lines of a list.
    main_cost = 1600 + 10 * edited + 0.5 * min(len(data.timeline), TIMELINE_LINES) + 8 * len(data.decisions)
    if data.sponsor is not None:  # the sponsor's sections: a verdict per edit, contact tables, what deciders knew
        main_cost += 600 + 4 * edited + 60 * len(data.sponsor.incidents) + 12 * len(data.decisions)
    costs = {MAIN: main_cost, **{a.letter: 0.43 * len(a.lines) + 0.003 * sum(map(len, a.lines)) + 17 for a in apps}}
    if jobs <= 1 or len(costs) == 1:
        return [list(costs)]
    groups: list[list[str]] = [[] for _ in range(jobs)]
    load = [0.0] * jobs
    for key in sorted(costs, key=lambda k: -costs[k]):
        n = load.index(min(load))
        groups[n].append(key)
        load[n] += costs[key]
    order = list(costs)
    return [sorted(g, key=order.index) for g in groups if g]


def _child(data: ReportData, apps: Sequence[Appendix], keys: list[str], out: str) -> None:
    """In a forked process: lay out one group, leave the result in a file."""
    result = _render_group(data, apps, keys)
    with open(out, "wb") as handle:
        pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)


def render_pdf(
    data: ReportData,
    path: Path,
    *,
    jobs: int = 2,
    progress: OnProgress = ignore,
    html_path: Path | None = None,
) -> dict[str, Any]:
    """Write the PDF (and the browser view); returns timings. Parts are laid out in parallel when jobs > 1."""
    began = time.perf_counter()
    apps = appendices(data)
    can_fork = "fork" in multiprocessing.get_all_start_methods()
    groups = plan_groups(data, apps, jobs if can_fork else 1)
    progress(Progress("building", 25, f"laying out the body and {len(apps)} appendices in {len(groups)} process(es)"))
    results: list[GroupResult | None] = [None] * len(groups)
    children: list[tuple[int, Any, str]] = []
    with tempfile.TemporaryDirectory(prefix="tabletop-report-") as tmp:
        if len(groups) > 1:
            ctx = multiprocessing.get_context("fork")
            for n, keys in enumerate(groups[1:], start=1):
                out = os.path.join(tmp, f"group-{n}.pickle")
                proc = ctx.Process(target=_child, args=(data, apps, keys, out), daemon=True)
                proc.start()
                children.append((n, proc, out))
        results[0] = _render_group(data, apps, groups[0])
        progress(Progress("building", 70, "body laid out" if MAIN in groups[0] else "first group laid out"))
        for n, proc, out in children:
            proc.join()
            if proc.exitcode != 0 or not os.path.exists(out):
                raise RuntimeError(f"report layout process {n} failed (exit code {proc.exitcode})")
            with open(out, "rb") as handle:
                results[n] = pickle.load(handle)  # noqa: S301 our own child's file, in our own temp folder
    progress(Progress("building", 85, "merging the parts"))
    done = [r for r in results if r is not None]
    if html_path is not None:
        made = {key: html for r in done for key, html in r.fragments.items()}
        html_path.write_text(wrap(data, apps, [made[key] for key in all_parts(apps) if key in made]), encoding="utf-8")
    pages = _merge(data, apps, groups, done, path)
    seconds = time.perf_counter() - began
    progress(Progress("building", 95, f"{pages} pages written"))
    return {
        "pages": pages,
        "seconds": round(seconds, 3),
        "groups": groups,
        "layout": [round(r.seconds, 3) for r in done],
    }


def _merge(
    data: ReportData, apps: Sequence[Appendix], groups: list[list[str]], results: list[GroupResult], path: Path
) -> int:
    order = all_parts(apps)
    where: dict[str, tuple[int, int, int]] = {}  # part -> (group, start, end)
    for g, (keys, result) in enumerate(zip(groups, results, strict=True)):
        starts = sorted((result.starts.get(k, 0), k) for k in keys)
        for i, (start, key) in enumerate(starts):
            end = starts[i + 1][0] if i + 1 < len(starts) else result.pages
            where[key] = (g, start, end)
    if len(results) == 1 and [k for k in order if k in where] == sorted(where, key=order.index):
        # One group in canonical order: WeasyPrint's own file is the report.
        path.write_bytes(results[0].pdf)
        return results[0].pages
    readers = [PdfReader(io.BytesIO(r.pdf)) for r in results]
    writer = PdfWriter()
    offset: dict[tuple[int, int], int] = {}  # (group, page in group) -> page in the report
    for key in order:
        if key not in where:
            continue
        g, start, end = where[key]
        for index in range(start, end):
            offset[(g, index)] = len(writer.pages)
            writer.add_page(readers[g].pages[index])
    outline: list[tuple[int, str, int]] = []
    for g, result in enumerate(results):
        outline += [(lvl, label, offset[(g, page)]) for lvl, label, page in result.outline if (g, page) in offset]
    outline.sort(key=lambda item: item[2])
    parents: dict[int, Any] = {}
    for lvl, label, page in outline:
        parent = parents.get(lvl - 1) if lvl > 1 else None
        parents[lvl] = writer.add_outline_item(title=label, page_number=page, parent=parent)
    writer.add_metadata({"/Title": f"After-action report: {data.title}", "/Producer": "Tabletop"})
    with path.open("wb") as handle:
        writer.write(handle)
    return len(writer.pages)


# ------------------------------------------------------------ comparisons (issue 12)
def compare_html(cmp: Comparison) -> str:
    """The comparison of sessions (or of a session's rounds) as one HTML document, autoescaped."""
    css = Markup((STATIC / "report" / "report.css").read_text(encoding="utf-8"))  # noqa: S704 our own file
    return (
        environment()
        .get_template("report/compare.html")
        .render(cmp=cmp, css=css, built=format_wall(time.time()), rehearsal=any(p.rehearsal for p in cmp.parts))
    )


def compare_pdf(cmp: Comparison, path: Path) -> int:
    """Write the comparison as a PDF (one WeasyPrint pass: it is a few pages); returns its page count."""
    doc = HTML(string=compare_html(cmp), base_url=STATIC.as_uri() + "/", url_fetcher=StaticOnlyFetcher()).render()
    doc.write_pdf(path)
    return len(doc.pages)


def write_html(data: ReportData, path: Path) -> None:
    path.write_text(document(data), encoding="utf-8")


def prewarm() -> None:
    """Load fonts and the layout engine once (the warm report worker forks from a process that did)."""
    HTML(string='<p style="font-family: Noto Sans">warm <span dir="rtl">گرم دافئ</span></p>').write_pdf()
