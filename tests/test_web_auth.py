"""Who is asking (web/auth.py) and where the web layer's parts live."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tabletop import ROOT
from tabletop.store import Identity
from tabletop.web.auth import actor_for

from .test_pages import PASSWORD, codes, csrf, log_in, make_app, new_session, take_seat

WEB = ROOT / "tabletop" / "web"


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture
def rt(app):
    return app.extensions["tabletop"]


@pytest.fixture
def counted(rt, monkeypatch):
    """How many times the store is asked who a token belongs to."""
    calls: list[str] = []
    identify = rt.store.identify

    def counting(token: str) -> Identity | None:
        calls.append(token)
        return identify(token)

    monkeypatch.setattr(rt.store, "identify", counting)
    return calls


def test_the_facilitator_is_identified_once_per_request(client, counted):
    log_in(client)
    session_id = new_session(client)
    counted.clear()
    assert client.get(f"/console/{session_id}").status_code == 200
    assert client.get(f"/console/{session_id}/setup").status_code == 200
    assert len(counted) == 2  # one a request: not the decorator, then the view, then the template again
    counted.clear()
    with client.get("/static/js/times.js") as response:
        assert response.status_code == 200
    assert counted == []  # static files ask nobody


def test_an_expired_page_login_gets_a_fresh_token_once(client, rt, counted):
    from sqlalchemy import update

    from tabletop.store.models import Token
    from tabletop.store.store import _digest

    log_in(client)
    with client.session_transaction() as cookie:
        old = cookie["facilitator"]["token"]
    with rt.store.tx() as s:
        s.execute(update(Token).where(Token.digest == _digest(old)).values(expires=0))
    page = client.get("/library")
    assert page.status_code == 200
    with client.session_transaction() as cookie:
        fresh = cookie["facilitator"]["token"]
    assert fresh != old and rt.store.identify(fresh).kind == "facilitator"


def test_a_revoked_page_login_is_logged_out_not_renewed(client, rt):
    """A token that no longer exists was revoked (a logout elsewhere, a disabled account): no fresh one."""
    log_in(client)
    with client.session_transaction() as cookie:
        cookie["facilitator"] = {**cookie["facilitator"], "token": "x" * 40}
    assert client.get("/library").status_code == 302
    with client.session_transaction() as cookie:
        assert "facilitator" not in cookie


def test_a_deleted_facilitator_is_logged_out(client):
    log_in(client)
    with client.session_transaction() as cookie:
        cookie["facilitator"] = {"id": 999, "name": "gone", "token": "y" * 40}
    assert client.get("/library").status_code == 302
    with client.session_transaction() as cookie:
        assert "facilitator" not in cookie


def test_the_api_takes_a_bearer_token_or_the_page_login_and_refuses_others_in_json(client, rt):
    refused = client.get("/api/sessions")
    assert refused.status_code == 401
    assert refused.get_json() == {
        "ok": False,
        "error": {"code": "unauthorised", "message": "log in as a facilitator first (POST /api/login)"},
    }
    token = client.post("/api/login", json={"username": "ctl", "password": PASSWORD}).get_json()["token"]
    assert client.get("/api/sessions", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    log_in(client)
    session_id = new_session(client)
    assert client.get("/api/sessions").get_json()["sessions"][0]["session"] == session_id
    assert client.get(f"/api/sessions/{session_id}/reports").status_code == 200


def test_a_participant_token_is_not_a_facilitator(client, rt):
    log_in(client)
    session_id = new_session(client)
    client.post("/logout", data={"csrf_token": csrf(client, "/library")})
    seat = client.post("/api/join", json={"code": codes(rt, session_id)["us"], "name": "Ann", "position": "j3"})
    bearer = {"Authorization": f"Bearer {seat.get_json()['token']}"}
    assert client.get("/api/sessions", headers=bearer).status_code == 401
    assert client.get(f"/api/sessions/{session_id}/reports", headers=bearer).status_code == 401
    assert client.get("/library", headers=bearer).status_code == 302


def test_the_reports_page_sends_strangers_to_the_login(client):
    response = client.get("/reports")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login?next=/reports")


def test_participant_pages_need_a_seat_in_that_session(client, rt):
    log_in(client)
    session_id = new_session(client)
    other = new_session(client)
    take_seat(client, codes(rt, session_id)["us"], "Ann", "j3")
    for path in (f"/room/{other}", f"/thanks/{other}", f"/hotwash/{other}", f"/observe/{other}"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/join"), path
    assert client.get(f"/observe/{session_id}").headers["Location"].endswith(f"/room/{session_id}")
    assert client.get(f"/room/{session_id}").status_code == 200


def test_thanks_shows_where_the_latest_report_stands(client, rt):
    log_in(client)
    session_id = new_session(client)
    take_seat(client, codes(rt, session_id)["us"], "Ann", "j3")
    assert "has not started the report" in client.get(f"/thanks/{session_id}").get_data(as_text=True)
    first = rt.store.create_report(session_id)
    rt.store.update_report(first, status="failed")
    second = rt.store.create_report(session_id)
    rt.store.update_report(second, status="building", progress=40)
    assert rt.store.latest_report(session_id).id == second
    assert rt.store.latest_report("nope") is None
    assert "building the report (40%)" in client.get(f"/thanks/{session_id}").get_data(as_text=True)


def test_actor_for_each_kind_of_identity():
    control = actor_for(Identity("facilitator", 1, "Ctl"))
    assert (control.kind, control.participant, control.name) == ("control", None, "Ctl")
    player = actor_for(Identity("player", 7, "Ann", "s1", "us", "j3"))
    assert (player.kind, player.participant, player.team, player.position) == ("player", 7, "us", "j3")
    observer = actor_for(Identity("observer", 8, "Obs", "s1", teams=("us", "iran")))
    assert (observer.kind, observer.teams) == ("observer", frozenset({"us", "iran"}))


# ------------------------------------------------------------------ where things live
def _imports(path) -> set[str]:
    """The modules a file imports, relative ones written as `.name`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_blueprints_are_peers():
    """pages, api and reports import shared parts (auth, extensions, runtime), never each other."""
    blueprints = {"pages", "api", "reports"}
    for name in blueprints:
        imported = _imports(WEB / f"{name}.py")
        assert not {f".{other}" for other in blueprints} & imported, name
        assert not {f"tabletop.web.{other}" for other in blueprints} & imported, name


def test_each_cli_module_owns_its_group():
    from tabletop.web.cli import exercise, facilitator, report, session

    assert set(exercise.exercise_cli.commands) == {
        "validate", "lint", "schema", "timeline", "export-msel", "import-msel", "upgrade", "rehearse",
    }  # fmt: skip
    assert set(session.session_cli.commands) == {"create"}
    assert set(facilitator.facilitator_cli.commands) == {"create", "disable", "enable"}
    assert set(report.report_cli.commands) == {"build", "export", "compare"}
    for module in (facilitator, report, session):
        assert not any("exercise" in name for name in _imports(ROOT / module.__file__)), module.__name__


def test_sessions_and_seats_need_no_flask():
    code = "import sys, tabletop.sessions, tabletop.seats; print(sorted(m for m in sys.modules if 'flask' in m))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_cross_site_post_with_only_the_login_cookie_is_refused(client, rt):
    """Issue 16: another site must not make a logged-in facilitator's browser start builds or share links."""
    log_in(client)
    session_id = new_session(client)
    hostile = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
    refused = client.post(f"/api/sessions/{session_id}/reports", data="{}", headers=hostile)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "cross_site"
    plain = client.post(f"/api/sessions/{session_id}/reports", data="{}", headers={"Content-Type": "text/plain"})
    assert plain.status_code == 403  # no Origin and no JSON body: not from our pages
    assert rt.store.latest_report(session_id) is None  # nothing was started
    share = client.post("/api/reports/1/share", data='{"hours": 24}', headers=hostile)
    assert share.status_code == 403
    # The site's own origin, or a bearer token from anywhere, still works.
    host = {"Origin": "http://localhost"}
    assert client.get("/api/sessions", headers={"Origin": "http://evil.example"}).status_code == 200  # reads are safe
    same = client.post("/api/reports/999/share", json={"hours": 24}, headers=host)
    assert same.status_code == 404
    token = client.post("/api/login", json={"username": "ctl", "password": PASSWORD}).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}", "Origin": "http://evil.example"}
    assert client.post("/api/reports/999/share", json={"hours": 24}, headers=bearer).status_code == 404
