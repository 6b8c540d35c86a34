"""The HTML pages through Flask's test client: logins, CSRF, uploads, joining, attachments, escaping."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tabletop.engine import Actor

DATA = Path(__file__).parent / "data"
PASSWORD = "correct horse battery"
CONTROL = Actor("control", None, "ctl")


def make_app(tmp_path: Path):
    """An app on the test script (tests/data/minimal.yaml) with one facilitator, `ctl`."""
    from tabletop.web import create_app

    exercises = tmp_path / "exercises"
    exercises.mkdir()
    shutil.copy(DATA / "minimal.yaml", exercises / "minimal.yaml")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}",
            "REPORTS_DIR": str(tmp_path / "reports"),
            "EXERCISES_DIR": str(exercises),
            "INJECTS_DIR": str(DATA / "lib"),
            "JOIN_RATE_LIMIT": "1000 per minute",
        }
    )
    app.extensions["tabletop"].store.create_facilitator("ctl", PASSWORD)
    return app


@pytest.fixture
def app(tmp_path: Path):
    return make_app(tmp_path)


@pytest.fixture
def rt(app):
    return app.extensions["tabletop"]


def csrf(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def log_in(client) -> None:
    token = csrf(client, "/login")
    response = client.post("/login", data={"username": "ctl", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/library")


def new_session(client) -> str:
    token = csrf(client, "/library")
    response = client.post("/sessions", data={"exercise": "minimal", "csrf_token": token})
    assert response.status_code == 302
    return response.headers["Location"].split("/")[-2]


def take_seat(client, code: str, name: str, position: str | None = None):
    token = csrf(client, f"/join?code={code}")
    data = {"code": code, "name": name, "csrf_token": token}
    if position:
        data["position"] = position
    return client.post("/join", data=data)


def status(client, url: str) -> int:
    with client.get(url) as response:
        return response.status_code


def codes(rt, session_id: str) -> dict[str, str]:
    found = {c.team or "observers": c.code for c in rt.store.codes(session_id)}
    return found


# ------------------------------------------------------------------ logins and CSRF
def test_facilitator_pages_need_a_login(client, app):
    for path in ("/library", "/library/minimal", "/console/abc", "/console/abc/setup"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login?next=" in response.headers["Location"]


def test_login_refuses_a_wrong_password_and_a_missing_csrf_token(client):
    assert client.post("/login", data={"username": "ctl", "password": PASSWORD}).status_code == 400
    token = csrf(client, "/login")
    response = client.post("/login", data={"username": "ctl", "password": "nope", "csrf_token": token})
    assert response.status_code == 401 and "Wrong username or password" in response.get_data(as_text=True)
    assert client.get("/library").status_code == 302


def test_login_never_redirects_to_another_host(client):
    token = csrf(client, "/login")
    response = client.post(
        "/login?next=//evil.example/x", data={"username": "ctl", "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/library"


def test_every_form_post_needs_the_csrf_token_but_the_api_does_not(client, app):
    log_in(client)
    assert client.post("/sessions", data={"exercise": "minimal"}).status_code == 400
    assert client.post("/logout").status_code == 400
    response = client.post("/api/login", json={"username": "ctl", "password": PASSWORD})
    assert response.status_code == 200 and response.get_json()["token"]


def test_pages_carry_the_security_headers(client):
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "<script>" not in response.get_data(as_text=True)  # no inline scripts anywhere


# ------------------------------------------------------------------ library and upload
def test_library_lists_title_teams_length_and_injects(client):
    log_in(client)
    page = client.get("/library").get_data(as_text=True)
    assert "Minimal" in page and "United States" in page
    assert re.search(r"<td>\d+ (h|min)", page)
    preview = client.get("/library/minimal").get_data(as_text=True)
    assert "MSEL timeline" in preview and "Drone down" in preview and "decision" in preview
    assert client.get("/library/nothing-here").status_code == 404


def upload(client, raw: bytes, filename: str = "script.yaml", replace: bool = False):
    token = csrf(client, "/library")
    data = {"csrf_token": token, "script": (__import__("io").BytesIO(raw), filename)}
    if replace:
        data["replace"] = "1"
    return client.post("/library/upload", data=data, content_type="multipart/form-data")


def test_upload_shows_every_problem_inline_and_stores_nothing(client, app):
    log_in(client)
    folder = Path(app.config["EXERCISES_DIR"])
    before = sorted(p.name for p in folder.iterdir())
    broken = (DATA / "minimal.yaml").read_text().replace("id: minimal", "id: Not Valid!", 1)
    broken = broken.replace("title: Drone down", "title: [unclosed", 1)
    response = upload(client, broken.encode(), "broken.yaml")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "nothing was stored" in page
    assert re.search(r"line \d+, column \d+", page)
    assert sorted(p.name for p in folder.iterdir()) == before


def test_upload_saves_under_the_exercise_id_never_the_sent_name(client, app):
    log_in(client)
    folder = Path(app.config["EXERCISES_DIR"])
    raw = (DATA / "minimal.yaml").read_text().replace("id: minimal", "id: uploaded-game", 1).encode()
    response = upload(client, raw, "../../escape.yaml")
    assert response.status_code == 302
    assert (folder / "uploaded-game.yaml").read_bytes() == raw
    assert not (folder.parent / "escape.yaml").exists()
    assert "uploaded-game" in client.get("/library").get_data(as_text=True)


def test_upload_refuses_to_overwrite_a_different_script_unless_confirmed(client, app):
    log_in(client)
    target = Path(app.config["EXERCISES_DIR"]) / "minimal.yaml"
    original = target.read_bytes()
    changed = original.replace(b"title: Minimal", b"title: Minimal, second edition", 1)
    response = upload(client, changed)
    assert response.status_code == 409 and "tick" in response.get_data(as_text=True)
    assert target.read_bytes() == original
    assert upload(client, changed, replace=True).status_code == 302
    assert target.read_bytes() == changed


# ------------------------------------------------------------------ set-up and joining
def test_setup_shows_codes_links_and_qr_codes(client, rt):
    log_in(client)
    session_id = new_session(client)
    page = client.get(f"/console/{session_id}/setup").get_data(as_text=True)
    for code in codes(rt, session_id).values():
        assert code in page and f"/join?code={code}" in page
    assert page.count('<svg class="qr"') + page.count('class="qr"') >= 4
    assert client.get(f"/console/{session_id}/project/us").status_code == 200
    assert client.get(f"/console/{session_id}").status_code == 200


def test_joining_keeps_the_seat_across_reloads(client, app, rt):
    log_in(client)
    session_id = new_session(client)
    code = codes(rt, session_id)["us"]
    player = app.test_client()
    step = player.get(f"/join?code={code}").get_data(as_text=True)
    assert 'value="j3"' in step and 'value="liaison-us"' in step and "United States" in step
    wrong = take_seat(player, code, "Alice", "irgcn")
    assert wrong.status_code == 400 and "Choose a position of United States" in wrong.get_data(as_text=True)
    response = take_seat(player, code, "Alice", "j3")
    assert response.headers["Location"] == f"/room/{session_id}"
    first = player.get(f"/room/{session_id}").get_data(as_text=True)
    again = player.get(f"/room/{session_id}").get_data(as_text=True)
    token = re.search(r'data-token="([^"]+)"', first).group(1)
    assert token == re.search(r'data-token="([^"]+)"', again).group(1)
    assert rt.store.identify(token).position == "j3"
    assert len(rt.store.participants(session_id)) == 1
    # Another browser without the seat is sent to the join page; a wrong code is a 404.
    assert app.test_client().get(f"/room/{session_id}").status_code == 302
    assert app.test_client().get("/join?code=ZZZZ-ZZZZ").status_code == 404


def test_observers_join_without_a_position(client, app, rt):
    log_in(client)
    session_id = new_session(client)
    watcher = app.test_client()
    response = take_seat(watcher, codes(rt, session_id)["observers"], "Eve")
    assert response.headers["Location"] == f"/observe/{session_id}"
    assert watcher.get(f"/room/{session_id}").headers["Location"] == f"/observe/{session_id}"
    assert "Observation" in watcher.get(f"/observe/{session_id}").get_data(as_text=True)


def test_player_text_is_escaped_everywhere(client, app, rt):
    log_in(client)
    session_id = new_session(client)
    player = app.test_client()
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    assert take_seat(player, codes(rt, session_id)["us"], hostile, "j3").status_code == 302
    for page in (client.get(f"/console/{session_id}/setup"), player.get(f"/room/{session_id}")):
        text = page.get_data(as_text=True)
        assert hostile not in text
        assert "&lt;script&gt;" in text


# ------------------------------------------------------------------ attachments
def test_attachments_only_for_those_who_received_them(client, app, rt):
    log_in(client)
    session_id = new_session(client)
    player = app.test_client()
    take_seat(player, codes(rt, session_id)["us"], "Alice", "j3")
    other_session = new_session(client)
    stranger = app.test_client()
    take_seat(stranger, codes(rt, other_session)["us"], "Mallory", "j3")
    url = f"/attachments/{session_id}/maps/map.svg"
    assert status(player, url) == 404  # not released yet
    with client.get(url) as facilitator:
        assert facilitator.status_code == 200 and facilitator.mimetype == "image/svg+xml"
        assert "sandbox" in facilitator.headers["Content-Security-Policy"]
    rt.live.command(session_id, CONTROL, "release_inject", {"inject": "shootdown"})
    assert status(player, url) == 200
    assert status(stranger, url) == 403
    assert status(app.test_client(), url) == 403
    for bad in ("../minimal.yaml", "maps/../../minimal.yaml", "gulf/jamming.yaml", "maps/nothing.svg"):
        assert status(player, f"/attachments/{session_id}/{bad}") == 404, bad


# ------------------------------------------------------------------ hotwash
def test_hotwash_after_the_end_then_thanks(client, app, rt):
    log_in(client)
    session_id = new_session(client)
    player = app.test_client()
    take_seat(player, codes(rt, session_id)["us"], "Alice", "j3")
    assert "opens when the facilitator ends" in player.get(f"/hotwash/{session_id}").get_data(as_text=True)
    rt.live.command(session_id, CONTROL, "clock", {"action": "start"})
    rt.live.command(session_id, CONTROL, "clock", {"action": "end"})
    token = csrf(player, f"/hotwash/{session_id}")
    form = {"csrf_token": token, "strengths": "Clear", "improvements": "Faster", "rating-oman-line": "4"}
    response = player.post(f"/hotwash/{session_id}", data=form)
    assert response.headers["Location"] == f"/thanks/{session_id}"
    thanks = player.get(f"/thanks/{session_id}").get_data(as_text=True)
    assert "Thank you" in thanks and "1 of 1" in thanks and "report" in thanks
    assert player.get(f"/hotwash/{session_id}").status_code == 302  # answered already
    feedback = [e for e in rt.store.events_after(session_id) if e.type == "feedback"]
    assert len(feedback) == 1 and feedback[0].payload["channels"] == {"oman-line": 4}
    # Joining an ended session is refused.
    assert app.test_client().get(f"/join?code={codes(rt, session_id)['iran']}").status_code == 409
