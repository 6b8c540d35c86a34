"""Sessions compared, and what the report must get right (issue 12), from real games played through the
engine on tests/data/sponsor.yaml (two moves, the Oman line, control's Swiss channel), read back from
the PDF with pdftotext.

Two sessions of the same script in one database: `open`, the sponsor game (the line used: an edit, a
hold, a decline, the Swiss channel played by control), and `closed`, where nobody writes on the line:
the sides talk on the bridge radio and in public, control spoofs an Iranian radio call, a player pastes a
3,000-character token and a hotwash mixes Persian and English. Then: the comparison's data, the command
line (a table and a PDF), the page, and the closed session's report (totals, titles not ids, the token
wrapped inside the page, spoofs counted as control's); a rehearsal's report marked on every page.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tabletop.rehearse import rehearse
from tabletop.report.data import build_report
from tabletop.report.data.compare import as_text, compare_moves, compare_sessions
from tabletop.report.render import document, relay_totals, render_pdf

from .engine_helpers import DATA, Game
from .report_helpers import pdf_text, squeeze
from .test_conditions import at
from .test_pages import PASSWORD, log_in
from .test_sponsor_report import make
from .test_sponsor_report import play as play_open

TOKEN = "A" * 3000
MIXED = "پیام‌ها از طریق عمان سریع رسید. The line carried our radar track."
SPOOF = "Iranian warship: we will fire on the next drone."


def play_closed(game: Game) -> None:
    """The same script with the line closed in practice: nobody writes on it."""
    game.do("control", "clock", action="start")
    at(game, 150)
    game.do("ir-gen", "send_message", channel="public", text="We shot down an intruding U.S. drone.")
    at(game, 240)
    game.do("us-ship", "send_message", channel="bridge", text="Iranian boats, this is a U.S. warship: keep clear.")
    at(game, 300)
    game.do("us-col", "send_message", channel="team", text=TOKEN)
    game.do("control", "spoof", channel="bridge", as_team="iran", as_position="ir-irgcn", name="IRGCN", text=SPOOF)
    at(game, 420)
    game.do("us-gen", "decide", inject="options", option="strike", rationale="No word from Tehran")
    at(game, 1799)
    game.advance(5)
    game.do("control", "start_move", move="boxer")
    at(game, 2000)
    game.do("us-ship", "send_message", channel="bridge", text="USS Boxer: stay clear of our drone.")
    at(game, 3100)
    game.do("control", "clock", action="end")
    game.do("ir-gen", "feedback", strengths=MIXED, improvements="Use the line.", channels={"bridge": 3})


@pytest.fixture(scope="module")
def games(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    opened, closed = make(root), make(root)  # one database (root/sponsor.db), two sessions
    play_open(opened)
    play_closed(closed)
    yield root, opened, closed
    opened.store.dispose()
    closed.store.dispose()


def report_of(game: Game, title: str):
    events = game.store.events_after(game.session)
    return build_report(game.state.exercise, events, session_id=game.session, session_title=title)


@pytest.fixture(scope="module")
def reports(games):
    _root, opened, closed = games
    return report_of(opened, "Line open"), report_of(closed, "Line closed")


def row(cmp, group, label, sub=""):
    return next(r for r in cmp.rows if r.group == group and r.label == label and (not sub or r.sub == sub))


# ------------------------------------------------------------------ the data
def test_two_sessions_side_by_side(reports):
    opened, closed = reports
    cmp = compare_sessions([opened, closed])
    assert [p.title for p in cmp.parts] == ["Line open", "Line closed"] and cmp.kind == "sessions"
    assert not cmp.notes, "same script, people on both sides: nothing to warn about"
    shootdown = "Iran shoots down a U.S. RQ-4"
    first = row(cmp, "Contact times", "It reached the other side", shootdown)
    assert first.cells[0].startswith("2 min 20 s (scenario 9 min 20 s)") and first.cells[1] == "none"
    assert first.differs
    other = row(cmp, "Contact times", "Fastest other channel", shootdown)
    assert other.cells[1] == "Public statements: 30 s (scenario 2 min 00 s)"
    assert row(cmp, "Contact times", "Benchmark", shootdown).cells[1].startswith("first contact within 30 min: not")
    oman = "Sultanate of Oman"
    assert row(cmp, "Relay fidelity", "Through the intermediary", oman).cells == ("5", "0")
    assert row(cmp, "Relay fidelity", "Substantive edits", oman).cells == ("1", "0")
    assert row(cmp, "Relay fidelity", "Passed on without a change in substance", oman).cells[0] == "3 of 5 (60%)"
    swiss = row(cmp, "Relay fidelity", "Messages, substantive edits")
    assert swiss.sub == "The relay played by control (reported apart)" and swiss.cells[0].startswith("1, ")
    peak = row(cmp, "Escalation", "Peak")
    assert peak.cells[0].startswith("4 (Force used) at +0:07:00: decision: The President asks for options")
    decision = row(cmp, "Decisions", "The President asks for options")
    # in the closed session: Iran's public post and control's spoof (a decider cannot tell a spoof)
    assert decision.cells[1] == "Limited strike, +0:07:00; had 2 messages from the other side"
    assert decision.cells[0].startswith("Limited strike, +0:07:00; had ")
    channels = {r.label: r.cells for r in cmp.rows if r.group == "Channels between the sides"}
    assert channels["Oman line"] == ("5", "0")


def test_the_relay_figures_in_the_comparison_add_up_as_in_the_report(reports):
    opened, _closed = reports
    cmp = compare_sessions(reports)
    counts = {r.label: int(r.cells[0]) for r in cmp.rows if r.sub == "Sultanate of Oman" and r.cells[0].isdigit()}
    outcomes = ("Passed on unchanged", "Cosmetic edits", "Substantive edits", "Declined", "Never passed on")
    assert sum(counts[k] for k in outcomes) == counts["Through the intermediary"]
    (oman,) = [f for f in opened.sponsor.relay_figures if not f.who and not f.control]
    assert (counts["Through the intermediary"], counts["Held first (counted above by outcome)"]) == (
        oman.total,
        oman.held_first,
    )


def test_the_moves_of_one_session_side_by_side(reports):
    opened, _closed = reports
    cmp = compare_moves(opened)
    assert [p.title for p in cmp.parts] == ["Move 1: The shootdown", "Move 2: USS Boxer"]
    happened = row(cmp, "Contact times", "What happened", "Incident 1")
    assert happened.cells[0].startswith("Iran shoots down a U.S. RQ-4") and "Boxer" in happened.cells[1]
    assert row(cmp, "Relay fidelity", "Through the intermediary", "Sultanate of Oman").cells == ("4", "1")
    assert compare_moves(opened, each_decision=False) is not None
    assert not [r for r in compare_moves(opened, each_decision=False).rows if r.label.startswith("Decision ")]
    text = as_text(cmp, 100)
    assert text.startswith("Parts of one session compared: Drone down, then the Boxer") and " Incident 1\n" in text


def test_a_rehearsal_beside_people_is_said(reports):
    from dataclasses import replace

    opened, closed = reports
    cmp = compare_sessions([opened, replace(closed, rehearsal=True)])
    assert cmp.parts[1].rehearsal and "bots" in cmp.notes[0]
    assert row(cmp, "Play", "Played by").cells == ("people", "bots (a rehearsal)")


# ----------------------------------------------------------- command and page
def make_app_on(root: Path):
    from tabletop.web import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE_URL": f"sqlite:///{root / 'sponsor.db'}",
            "REPORTS_DIR": str(root / "reports"),
            "INJECTS_DIR": str(DATA / "lib"),
        }
    )
    if not app.extensions["tabletop"].store.facilitator_exists("ctl"):
        app.extensions["tabletop"].store.create_facilitator("ctl", PASSWORD)
    return app


@pytest.fixture(scope="module")
def app(games):
    root, _opened, _closed = games
    return make_app_on(root)


def test_the_command_prints_the_table_and_writes_a_pdf(app, games, tmp_path):
    _root, opened, closed = games
    runner = app.test_cli_runner()
    result = runner.invoke(args=["report", "compare", opened.session, closed.session, "--width", "140"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("Sessions compared: Drone down, then the Boxer")
    assert "CONTACT TIMES" in out and "RELAY FIDELITY" in out and "ESCALATION" in out and "DECISIONS" in out
    assert re.search(r"\*\s+It reached the other side\s+\| 2 min 20 s", out), out
    pdf = tmp_path / "compare.pdf"
    result = runner.invoke(args=["report", "compare", opened.session, closed.session, "-o", str(pdf)])
    assert result.exit_code == 0 and f"wrote {pdf}" in result.output
    text = pdf_text(pdf)
    assert "Sessions compared: Drone down, then the Boxer" in text
    for words in ("Contact times", "Relay fidelity", "Peak", "The President asks for options", "Oman line"):
        assert words in text
    html = tmp_path / "compare.html"
    assert runner.invoke(args=["report", "compare", opened.session, "-o", str(html)]).exit_code == 0
    assert "Move 2: USS Boxer" in html.read_text()
    missing = runner.invoke(args=["report", "compare", "nope", opened.session])
    assert missing.exit_code == 1 and "unknown session 'nope'" in missing.output


def test_the_page_compares_sessions_for_a_facilitator(app, games):
    _root, opened, closed = games
    client = app.test_client()
    assert client.get(f"/reports/compare?sessions={opened.session},{closed.session}").status_code == 302
    log_in(client)
    reports = client.get("/reports").get_data(as_text=True)
    assert 'href="/reports/compare"' in reports
    page = client.get(f"/reports/compare?sessions={opened.session}&sessions={closed.session}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Sessions compared: Drone down, then the Boxer" in body and 'class="compare tight"' in body
    assert "Iran shoots down a U.S. RQ-4" in body and "Relay fidelity" in body
    assert client.get(f"/reports/compare?sessions={opened.session}").status_code == 200  # its two moves
    assert client.get("/reports/compare?sessions=nope,x").status_code == 404


# ------------------------------------------------------ what it must get right
@pytest.fixture(scope="module")
def closed_pdf(reports, tmp_path_factory):
    path = tmp_path_factory.mktemp("closed") / "closed.pdf"
    render_pdf(reports[1], path, jobs=1)
    return path


def test_totals_add_up(reports):
    opened, _closed = reports
    totals = dict(relay_totals(opened))
    parts = ("passed on unchanged", "edited", "declined", "never passed on")
    assert sum(totals[k] for k in parts) == totals["total"] == len(opened.relays)
    assert totals["held first (counted above by outcome)"] == 1


def test_a_spoof_counts_as_controls_and_is_shown_as_what_it_imitated(reports, closed_pdf):
    from tabletop.report.render import channel_rows

    _opened, closed = reports
    (bridge,) = [c for c in channel_rows(closed) if c.id == "bridge"]
    by_team = dict(bridge.by_team)
    assert (by_team["control"], by_team["iran"], by_team["us"]) == (1, 0, 2)
    text = pdf_text(closed_pdf)
    assert "IRGCN (Islamic Republic of Iran) [spoofed by control]" in text


def test_no_id_where_a_title_belongs(closed_pdf):
    text = pdf_text(closed_pdf)
    assert "decision: The President asks for options: Limited strike" in text
    for ident in ("decision options", "options: strike", "iran-posture", "ir-irgcn", "us-general"):
        assert ident not in text, ident


def test_a_3000_character_token_wraps_inside_the_page(closed_pdf):
    text = pdf_text(closed_pdf)
    assert sum(len(run) for run in re.findall(r"A{20,}", text)) >= 3000, "the token is all there"
    bbox = subprocess.run(
        ["pdftotext", "-bbox", str(closed_pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    width = float(re.search(r'<page width="([\d.]+)"', bbox).group(1))
    words = re.findall(r'xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(A{20,})</word>', bbox)
    assert words, "the token's lines are in the PDF"
    assert sum(len(w) for _a, _b, w in words) >= 2900
    assert max(float(x1) for _x0, x1, _w in words) <= width - 30, "every line of it ends inside the right margin"


def test_mixed_persian_and_english_keep_their_words(closed_pdf):
    text = squeeze(pdf_text(closed_pdf))
    assert squeeze("The line carried our radar track.") in text
    assert squeeze("از طریق عمان سریع رسید") in text or squeeze("رسید سریع عمان طریق از") in text


@pytest.fixture(scope="module")
def rehearsal_pdf(tmp_path_factory):
    out = tmp_path_factory.mktemp("rehearsal")
    game = rehearse(DATA / "rehearsal.yaml", seed=3, url=f"sqlite:///{out / 'r.db'}", library=DATA / "lib")
    row = game.store.get_session(game.session)
    data = build_report(game.exercise, game.events(), session_id=game.session, session_title=row.title)
    assert data.rehearsal
    path = out / "rehearsal.pdf"
    render_pdf(data, path, jobs=2)
    game.store.dispose()
    return path


def test_every_page_of_a_rehearsal_says_it_was_played_by_bots(rehearsal_pdf):
    pages = pdf_text(rehearsal_pdf).split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) > 5
    for n, page in enumerate(pages, start=1):
        assert "REHEARSAL: played by bots" in page, f"page {n} is not marked"
    assert "Rehearsal played by bots" in pages[0] and "No person played this session" in pages[0]


def test_a_session_played_by_people_is_not_marked(closed_pdf):
    assert "REHEARSAL" not in pdf_text(closed_pdf)


def test_the_riverine_rounds_side_by_side_in_its_rehearsal_report(tmp_path):
    """The riverine scenario's two rounds (Round 1 with the ministers' line, Round 2 without it), each of two
    moves, compared in the report body (issue 12: "the report compares the rounds")."""
    game = rehearse(
        DATA.parent.parent / "exercises" / "riverine-boats-2016.yaml",
        players=2,  # with one bot a team, the line colonels' seats stay empty
        seed=5,
        url=f"sqlite:///{tmp_path / 'r.db'}",
        library=DATA.parent.parent / "injects",
    )
    row_ = game.store.get_session(game.session)
    data = build_report(game.exercise, game.events(), session_id=game.session, session_title=row_.title)
    game.store.dispose()
    cmp = compare_moves(data, each_decision=False)
    assert [p.title for p in cmp.parts] == ["Round 1 (2016 rules)", "Round 2 (2020 rules)"]
    assert all(p.rehearsal for p in cmp.parts)
    channels = {r.label: r.cells for r in cmp.rows if r.group == "Channels between the sides"}
    ministers = channels["Ministers' line (Secretary of State and Foreign Minister)"]
    assert ministers[1] == "0", "Round 2 closes the ministers' line"
    happened = row(cmp, "Contact times", "What happened", "Incident 1").cells
    assert happened[0].startswith("Two riverine boats") and happened[1].startswith("Again: two riverine boats")
    oman = [r for r in cmp.rows if r.sub == "Sultanate of Oman"]
    through = next(r for r in oman if r.label == "Through the intermediary")
    outcomes = [r for r in oman if r.label in ("Passed on unchanged", "Cosmetic edits", "Substantive edits",
                                               "Declined", "Never passed on")]  # fmt: skip
    for n in range(2):
        assert sum(int(r.cells[n]) for r in outcomes) == int(through.cells[n]), "the outcomes add up"
    html = document(data)
    assert "The rounds side by side" in html and "Round 2 (2020 rules)" in html


def test_the_page_never_loads_weasyprint_into_the_server():
    code = (
        "import sys; import tabletop.web.compare, tabletop.report.data.compare; "
        "print(sorted(m for m in sys.modules if m.startswith(('weasyprint', 'pypdf'))))"
    )
    root = DATA.parent.parent
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
