"""The after-action report, from real game logs (played through Live on a real store) to the PDF read back."""

from __future__ import annotations

import ast
import csv
import io
import json
import shutil
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
from weasyprint.urls import URLFetchingError

from tabletop import ROOT
from tabletop.engine import NewEvent
from tabletop.report import charts, render
from tabletop.report.build import build_files, report_data
from tabletop.report.data import Lane, LaneMark, Series, build_report, direction, marked_diff
from tabletop.report.export import log_csv, log_json
from tabletop.report.job import Limits, ReportJob
from tabletop.report.render import RefusedURL, StaticOnlyFetcher
from tabletop.script.models import from_snapshot
from tabletop.store import Store

from .log_fixtures import events_of, load_log
from .report_helpers import (
    ARABIC,
    DECLINED,
    EDITED,
    HELD,
    HOTWASH,
    IMG_FILE,
    IMG_HTTP,
    ORIGINAL,
    PERSIAN,
    RATIONALE,
    SCRIPT,
    pdf_text,
    play,
    squeeze,
)

SECTIONS = (
    "Executive summary",
    "1. Summary in figures",
    "2. Overview",
    "3. Timeline and moves",
    "4. Channels",
    "5. The relay",
    "6. Rank pairing",
    "7. Contact and response times",
    "8. Decisions",
    "9. Public and private",
    "10. Objectives and improvement plan",
    "Appendix A: Participants",
    "Appendix B: Timeline of play",
    "Appendix C: Every message through an intermediary",
)


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    return play(tmp_path_factory.mktemp("game"))


@pytest.fixture(scope="module")
def built(game, tmp_path_factory):
    return build_files(game.store, game.session, tmp_path_factory.mktemp("reports"))


@pytest.fixture(scope="module")
def text(built):
    return pdf_text(built.pdf)


# ------------------------------------------------------------------ the data
def test_report_data_is_a_pure_function_of_script_and_log(game, tmp_path, monkeypatch):
    """The same script and log give the same data: from another database, in another order and time zone."""
    row = game.store.get_session(game.session)
    events = game.store.events_after(game.session)
    first = build_report(from_snapshot(row.script), events, session_id=game.session)
    other = Store(f"sqlite:///{tmp_path / 'copy.db'}")  # the same log, written into another database
    try:
        other.migrate()
        script = from_snapshot(row.script)
        copy = other.create_session(row.exercise_id, row.title, row.script, [t.id for t in script.teams], None)
        for e in events:
            other.append(copy, [NewEvent(e.type, e.payload, e.audience, e.t, e.actor, client_id=e.client_id)], e.wall)
        copied = other.events_after(copy)
        assert [e.seq for e in copied] == [e.seq for e in events]
        monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: any local time would show
        time.tzset()
        again = build_report(from_snapshot(other.get_session(copy).script), copied[::-1], session_id=game.session)
    finally:
        monkeypatch.undo()
        time.tzset()
        other.dispose()
    assert again == first


def test_report_data_reads_no_clock_environment_or_randomness():
    """Report data is made from its arguments alone: nothing in tabletop/report/data reads the world."""
    forbidden = {"time", "datetime.now", "datetime.today", "date.today", "os.environ", "os.getenv", "random", "uuid"}
    folder = ROOT / "tabletop" / "report" / "data"
    files = sorted(folder.rglob("*.py")) if folder.is_dir() else [folder.with_suffix(".py")]
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                found += [f"{path.name}: import {m}" for m in modules if m.split(".")[0] in forbidden]
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                name = f"{node.value.id}.{node.attr}"
                found += [f"{path.name}: {name}"] if name in forbidden else []
    assert files and found == []


def test_an_edit_that_changed_nothing_counts_as_forwarded():
    """The control game's intermediary 'edited' a message without changing a word: it was forwarded."""
    log = load_log("control-game")
    edit = next(e for e in log["events"] if e["type"] == "message_relayed" and e["payload"]["action"] == "edit")
    assert edit["payload"]["edited"] is False
    data = build_report(from_snapshot(log["script"]), events_of(log))
    relay = next(x for x in data.relays if x.seq == edit["payload"]["message"])
    assert (relay.outcome, relay.original, relay.forwarded) == ("forwarded", relay.forwarded, relay.original)
    assert relay.original_marked == relay.forwarded_marked == ()  # nothing marked as removed or added
    assert dict(data.relay_counts)["edited"] == 0 and dict(data.relay_counts)["forwarded"] == 1
    logged = next(m for chan in data.logs for m in chan.messages if m.seq == relay.seq)
    assert logged.status == "forwarded"
    assert not [i for i in data.timeline if "edited by the intermediary" in i.ref]


def test_report_data_counts_what_happened(game):
    data = report_data(game.store, game.session)
    figures = {f.label: f for f in data.figures}
    assert figures["Injects released"].value == "4"
    assert dict(data.relay_counts) == {"forwarded": 2, "edited": 1, "held": 1, "declined": 1, "waiting": 0}
    assert (data.peak_escalation, data.final_escalation) == (4, 4)  # strike +3, retaliation +1
    assert data.facilitators == ("White Cell",)
    assert [p.name for p in data.teams[0].players] == ["Alice", "Bob"]
    assert [p.name for p in data.observers] == ["Eve"]
    counts = {c.name: c.total for c in data.channel_counts}
    assert counts["Oman line"] == 4 and counts["Public statements"] == 2 and counts["Team chat: United States"] == 3


def test_relay_items_keep_the_original_beside_the_forwarded_text(game):
    data = report_data(game.store, game.session)
    edited = next(x for x in data.relays if x.outcome == "edited")
    assert (edited.original, edited.forwarded) == (ORIGINAL, EDITED)
    assert any(s.kind == "del" and "strike" in s.text for s in edited.original_marked)
    assert any(s.kind == "ins" and "Washington" in s.text for s in edited.forwarded_marked)
    assert "".join(s.text for s in edited.original_marked) == ORIGINAL
    assert "".join(s.text for s in edited.forwarded_marked) == EDITED
    held = next(x for x in data.relays if x.original == HELD)
    assert held.held and held.outcome == "forwarded" and held.held_for == "2 min 00 s"
    assert next(x for x in data.relays if x.original == DECLINED).outcome == "declined"


def test_response_times_from_injects_and_from_the_first_incident(game):
    data = report_data(game.store, game.session)
    shootdown = {r.team: r for r in data.responses if r.inject == "shootdown"}
    assert shootdown["us"].ack_s == 30 and shootdown["iran"].ack_s == 45
    assert shootdown["us"].message_s == 45  # the team chat message after both acks
    timing = data.relay_timing
    assert timing is not None and timing.incident == "shootdown"
    assert [delay for _what, _t, delay in timing.steps] == ["1 min 45 s", "3 min 15 s", "3 min 45 s", "4 min 05 s"]
    medians = {name: median for name, median, _n in data.team_medians}
    assert medians["United States"] == "30 s"


def test_decisions_and_escalation(game):
    data = report_data(game.store, game.session)
    decision = data.decisions[0]
    assert (decision.label, decision.rationale, decision.escalation, decision.how) == ("Strike", RATIONALE, 3, "chosen")
    assert decision.who == "Alice (J3), United States"
    assert decision.released and decision.released[0].startswith("Retaliation")
    assert [v for _t, v in data.escalation.points][-1] == 4


def test_word_level_diff_and_direction():
    left, right = marked_diff("Pass this now please", "Pass this tomorrow please")
    assert [(s.kind, s.text) for s in left] == [("same", "Pass this "), ("del", "now"), ("same", " please")]
    assert [(s.kind, s.text) for s in right] == [("same", "Pass this "), ("ins", "tomorrow"), ("same", " please")]
    assert direction(PERSIAN) == "rtl" and direction(ARABIC) == "rtl" and direction("12: " + PERSIAN) == "rtl"
    assert direction("Tehran says " + PERSIAN) == "ltr"


# ---------------------------------------------------------------- the charts
HOSTILE = 'Red & <Blue> "team" </text><script>x</script>'


def test_chart_labels_are_escaped_and_the_svg_parses():
    lanes = (Lane("us", HOSTILE, (LaneMark(30.0, "inject", HOSTILE), LaneMark(60.0, "message"))),)
    series = (Series(HOSTILE, ((30.0, 1.0), (90.0, 2.0))),)
    curve = Series("Escalation", ((0.0, 0.0), (60.0, 2.0)))
    for svg in (charts.swim_lanes(lanes, 600), charts.traffic(series, 600), charts.escalation(curve, 600, [60.0])):
        root = ElementTree.fromstring(svg)  # well-formed: no label ended an element or opened one
        assert not [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "script"]
        assert "<script" not in svg and "<Blue>" not in svg
    texts = [e.text for e in ElementTree.fromstring(charts.swim_lanes(lanes, 600)).iter() if e.text]
    # shown as the characters typed, whole, on two lines (issue 12: lane names are not cut)
    assert " ".join(t for t in texts if not t.startswith("+"))[: len(HOSTILE)] == HOSTILE
    assert "Red &amp; &lt;Blue&gt;" in charts.swim_lanes(lanes, 600)
    texts = [e.text for e in ElementTree.fromstring(charts.traffic(series, 600)).iter() if e.text]
    assert HOSTILE in texts  # the legend keeps the whole name


# ------------------------------------------------------------------- the PDF
def test_pdf_has_every_section_and_what_was_played(text):
    flat = squeeze(text)
    for title in SECTIONS:
        assert squeeze(title) in flat, title
    for needle in (
        ORIGINAL,
        EDITED,
        DECLINED,
        RATIONALE,
        HOTWASH,
        "Strike",
        "Late first message",
        "Drill the first call",
    ):
        assert squeeze(needle) in flat, needle
    assert squeeze("Contact made, the wording changed.") in flat  # a rating's observation
    assert "overall S" in text or "overall M" in text
    assert squeeze(PERSIAN) in flat and squeeze(ARABIC) in flat  # shaped, read back in logical order
    assert "UNCLASSIFIED // EXERCISE ONLY" in text
    assert text.count("UNCLASSIFIED // EXERCISE ONLY") >= 2 * len(text.split("\f")) - 2  # top and bottom of pages


def test_player_markup_is_shown_as_text_never_run(built, text):
    assert squeeze(SCRIPT) in squeeze(text)
    assert squeeze(IMG_FILE) in squeeze(text) and squeeze(IMG_HTTP) in squeeze(text)
    html = built.html.read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "root:" not in text  # /etc/passwd was never read


def test_pages_are_numbered_with_appendix_numbering(built, text):
    pages = text.split("\f")
    assert len(pages) >= 10
    assert "B-1" in text and "C-1" in text  # the appendices, numbered on their own, and in the contents
    assert any(page.rstrip().endswith("2") or "\n2\n" in page for page in pages[1:3])


def test_fetcher_serves_static_files_and_refuses_everything_else(tmp_path):
    fetcher = StaticOnlyFetcher()
    css = ROOT / "static" / "report" / "report.css"
    assert b"@page" in fetcher(css.as_uri()).read()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    for url in (
        "http://127.0.0.1:9/x.png",
        "https://example.com/a.css",
        "file:///etc/passwd",
        secret.as_uri(),
        (ROOT / "static" / ".." / "app.py").as_uri(),
        "data:text/plain,hello",
        "ftp://127.0.0.1/x",
    ):
        with pytest.raises(RefusedURL):
            fetcher(url)


def test_weasyprint_never_fetches_what_html_names(tmp_path, caplog):
    from weasyprint import HTML

    secret = tmp_path / "secret.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg"><text>SECRET</text></svg>')
    html = f'<p>x</p><img src="{secret.as_uri()}"><img src="http://127.0.0.1:9/a.png"><img src="file:///etc/passwd">'
    pdf = tmp_path / "x.pdf"
    HTML(string=html, base_url=render.STATIC.as_uri() + "/", url_fetcher=StaticOnlyFetcher()).write_pdf(pdf)
    assert "SECRET" not in pdf_text(pdf)
    assert "refused" in caplog.text
    with pytest.raises(URLFetchingError):
        from weasyprint.urls import fetch

        with fetch(StaticOnlyFetcher(), "http://127.0.0.1:9/a.png"):
            pass


def test_css_string_escapes_any_classification():
    value = str(render.css_string('"; } @page { content: url(http://x) } </style><script>'))
    assert value.startswith('"') and value.endswith('"')
    assert "<" not in value and "}" not in value[1:-1] and '"' not in value[1:-1] and ";" not in value


def test_parts_are_split_across_two_processes_and_merged_in_order(game, tmp_path):
    data = report_data(game.store, game.session)
    apps = render.appendices(data)
    groups = render.plan_groups(data, apps, 2)
    assert len(groups) == 2 and sorted(k for g in groups for k in g) == sorted(render.all_parts(apps))
    one, two = tmp_path / "one.pdf", tmp_path / "two.pdf"
    render.render_pdf(data, one, jobs=1)
    render.render_pdf(data, two, jobs=2)
    assert pdf_text(one).count("\f") == pdf_text(two).count("\f")
    titles = [line for line in pdf_text(two).splitlines() if line.startswith("Appendix ") and ":" in line]
    assert titles.index("Appendix A: Participants") < titles.index("Appendix B: Timeline of play")


# ---------------------------------------------------------------- the exports
def test_exports_hold_the_whole_log_and_disarm_formulas(game):
    events = game.store.events_after(game.session)
    body = json.loads(log_json(events, session=game.session))
    assert len(body["events"]) == len(events) and body["events"][0]["seq"] == 1
    rows = list(csv.DictReader(io.StringIO(log_csv(events))))
    assert len(rows) == len(events)
    texts = [r["text"] for r in rows]
    assert SCRIPT in texts and PERSIAN in texts
    assert '\'=HYPERLINK("http://127.0.0.1:9")' in texts  # a spreadsheet shows it, never runs it


# ------------------------------------------------------- web: API and sharing
def get(client, url, **kwargs):
    """A GET whose response (a file, maybe) is read and closed."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


@pytest.fixture
def facilitator(app):
    store = app.extensions["tabletop"].store
    fid = store.create_facilitator("fac", "correct horse battery")
    return {"Authorization": f"Bearer {store.issue_token('facilitator', fid)}"}


@pytest.fixture
def done_report(app, built):
    """A finished report row whose files sit in the app's reports folder."""
    store = app.extensions["tabletop"].store
    session = store.create_session("minimal", "Minimal", {"format": 1}, ["us"], None)
    folder = Path(app.config["REPORTS_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / built.pdf.name
    shutil.copy(built.pdf, pdf)
    shutil.copy(built.html, pdf.with_suffix(".html"))
    report_id = store.create_report(session)
    store.update_report(report_id, status="done", progress=100, path=str(pdf))
    return report_id


def test_report_files_need_a_facilitator(client, facilitator, done_report):
    assert get(client, f"/api/reports/{done_report}/pdf").status_code == 401
    response = get(client, f"/api/reports/{done_report}/pdf", headers=facilitator)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    view = get(client, f"/api/reports/{done_report}/html", headers=facilitator)
    assert view.status_code == 200 and "script-src" not in view.headers["Content-Security-Policy"]
    status = client.get(f"/api/reports/{done_report}", headers=facilitator).get_json()
    assert status["report"]["status"] == "done" and status["report"]["progress"] == 100


def test_share_link_downloads_one_report_then_expires(app, client, facilitator, done_report):
    from tabletop.web.reports import read_share_token, share_token

    made = client.post(f"/api/reports/{done_report}/share", json={"hours": 2}, headers=facilitator).get_json()
    assert made["ok"] and made["expires"] > time.time()
    path = "/" + made["url"].split("/", 3)[3]
    download = get(client, path)
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    token = path.rsplit("/", 1)[1]
    assert read_share_token(app, token, now=time.time() + 3 * 3600) == (None, "expired")
    old = share_token(app, done_report, 2, signed_at=time.time() - 3 * 3600)  # signed three hours ago
    expired = client.get(f"/shared/{old}")
    assert expired.status_code == 403 and b"expired" in expired.data
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    refused = client.get(f"/shared/{tampered}")
    assert refused.status_code == 404 and b"not valid" in refused.data and b"Traceback" not in refused.data
    assert client.post(f"/api/reports/{done_report}/share", json={"hours": -1}, headers=facilitator).status_code == 400


def test_log_exports_over_the_api(app, client, facilitator, tmp_path):
    game = play(tmp_path, url=app.config["DATABASE_URL"])
    csv_response = client.get(f"/api/sessions/{game.session}/log.csv", headers=facilitator)
    assert csv_response.status_code == 200 and csv_response.data.startswith("\ufeff".encode())
    body = client.get(f"/api/sessions/{game.session}/log.json", headers=facilitator).get_json()
    assert len(body["events"]) == game.store.last_seq(game.session)
    assert client.get(f"/api/sessions/{game.session}/log.json").status_code == 401
    assert client.get("/api/sessions/nope/log.json", headers=facilitator).status_code == 404


def test_building_through_the_api_runs_the_worker_and_reports_progress(app, client, facilitator, tmp_path):
    from tabletop.web.extensions import socketio

    game = play(tmp_path, url=app.config["DATABASE_URL"])
    emitted: list[tuple[str, dict, str]] = []
    original = socketio.emit

    def spy(event, data=None, to=None, **kwargs):
        emitted.append((event, data, to))
        return original(event, data, to=to, **kwargs)

    socketio.emit = spy  # type: ignore[method-assign]
    try:
        response = client.post(f"/api/sessions/{game.session}/reports", headers=facilitator)
        assert response.status_code == 202
        report_id = response.get_json()["report"]["id"]
        deadline = time.monotonic() + 60
        status = {}
        while time.monotonic() < deadline:  # a real process renders: follow it as a browser would
            status = client.get(f"/api/reports/{report_id}", headers=facilitator).get_json()["report"]
            finished = any(event == "report" and data["status"] != "building" for event, data, _to in emitted)
            if status["status"] in ("done", "failed") and finished:
                break
            time.sleep(0.2)
    finally:
        socketio.emit = original  # type: ignore[method-assign]
    assert status["status"] == "done", status
    assert get(client, status["pdf"], headers=facilitator).data.startswith(b"%PDF")
    reports = [data for event, data, to in emitted if event == "report"]
    assert reports and reports[-1]["status"] == "done" and reports[-1]["session"] == game.session
    assert all(to == f"{game.session}:control" for event, _d, to in emitted if event == "report")
    assert client.post("/api/sessions/nope/reports", headers=facilitator).status_code == 404


# ----------------------------------------------------------------------- CLI
def test_cli_builds_a_report_and_refuses_an_unknown_session(app, runner, tmp_path):
    game = play(tmp_path, url=app.config["DATABASE_URL"])
    unknown = runner.invoke(args=["report", "build", "nosuchsession"])
    assert unknown.exit_code == 1 and "unknown session 'nosuchsession'" in unknown.output
    assert "Traceback" not in unknown.output
    target = tmp_path / "out" / "aar.pdf"
    result = runner.invoke(args=["report", "build", game.session, "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "%]" in result.output and str(target) in result.output
    assert target.read_bytes().startswith(b"%PDF") and target.with_suffix(".html").is_file()
    exported = runner.invoke(args=["report", "export", game.session, "--format", "csv"])
    assert exported.exit_code == 0 and "message_relayed" in exported.output


def test_cli_says_when_the_reports_folder_cannot_be_written(app, runner, tmp_path):
    game = play(tmp_path, url=app.config["DATABASE_URL"])
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = runner.invoke(args=["report", "build", game.session, "-o", str(blocker / "x.pdf")])
    assert result.exit_code == 1 and "cannot write" in result.output and "Traceback" not in result.output


def test_worker_time_limit_stops_a_build(app, tmp_path):
    game = play(tmp_path, url=app.config["DATABASE_URL"])
    store = app.extensions["tabletop"].store
    report_id = store.create_report(game.session)
    outcome = ReportJob(warm=False).run(store, game.session, tmp_path, report_id=report_id, limits=Limits(timeout=0.01))
    assert not outcome.ok and "too long" in (outcome.error or "")
    row = store.get_report(report_id)
    assert row.status == "failed" and "too long" in row.error
