"""Issue 13's small things through Flask's test client: PUBLIC_URL in join links and the loopback
warning, a failed log-in keeps the username, an empty upload says it is empty, a YAML syntax error
points where the problem starts, request lines with a request id, and a crash leaves a trace."""

from __future__ import annotations

import io
import logging
import os
import time
from pathlib import Path

from tabletop.engine import events as ev
from tabletop.script.yamlsrc import parse_yaml
from tabletop.web.logs import check_unclean_stop, clear_marker, configure_logging, marker, note_unclean_stop

from .test_pages import PASSWORD, app, csrf, log_in, make_app, new_session, rt  # noqa: F401


def test_join_links_use_public_url_and_the_setup_page_warns_about_loopback(tmp_path):
    flask_app = make_app(tmp_path)
    client = flask_app.test_client()
    log_in(client)
    session = new_session(client)
    page = client.get(f"/console/{session}/setup").get_data(as_text=True)
    assert "http://localhost/join?code=" in page  # the address the browser used ...
    assert "These links use <code>localhost</code>" in page and "PUBLIC_URL" in page  # ... and why it will not do
    flask_app.config["LISTEN_HOST"] = "127.0.0.1"
    page = client.get(f"/console/{session}/setup").get_data(as_text=True)
    assert "listens only on this" in page and "HOST=0.0.0.0" in page
    flask_app.config.update(LISTEN_HOST="0.0.0.0", PUBLIC_URL="http://10.0.0.5:5000")
    page = client.get(f"/console/{session}/setup").get_data(as_text=True)
    assert "http://10.0.0.5:5000/join?code=" in page and "localhost/join" not in page
    assert 'id="reach-warning"' not in page


def test_a_failed_login_keeps_the_username(app):  # noqa: F811
    client = app.test_client()
    token = csrf(client, "/login")
    response = client.post("/login", data={"username": "ctl", "password": "wrong", "csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 401 and 'value="ctl"' in page and "Wrong username or password" in page


def test_an_empty_upload_says_it_is_empty_and_join_errors_start_with_a_capital(app):  # noqa: F811
    client = app.test_client()
    log_in(client)
    token = csrf(client, "/library")
    data = {"csrf_token": token, "script": (io.BytesIO(b""), "empty.yaml")}
    page = client.post("/library/upload", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "Empty.yaml is empty (0 bytes)" in page
    joined = app.test_client().get("/join?code=NOPE-NOPE").get_data(as_text=True)
    assert "Unknown join code: check it with your facilitator" in joined


def test_an_unclosed_quote_is_reported_where_it_starts():
    raw = b'format: 1\nid: broken\ntitle: "A broken script\nteams:\n  - id: us\n    name: US\n\n\nduration: 1h\n'
    (problem,) = parse_yaml(raw, "syntax.yaml").problems
    assert (problem.mark.line, problem.mark.column) == (3, 8)
    assert "never closed" in problem.message
    # A problem in the middle of a file keeps its own place.
    (inside,) = parse_yaml(b"a: 1\nb: [1, 2\nc: 3\n", "x.yaml").problems
    assert inside.mark.line in (2, 3)


def test_each_request_is_one_line_with_a_request_id(app):  # noqa: F811
    out = io.StringIO()
    configure_logging("INFO", "text", out)
    try:
        response = app.test_client().get("/login", headers={"X-Request-Id": "abc123"})
        assert response.headers["X-Request-Id"] == "abc123"
        fresh = app.test_client().get("/join").headers["X-Request-Id"]
        text = out.getvalue()
        assert "INFO tabletop.request [abc123] GET /login 200" in text
        assert f"[{fresh}] GET /join 200" in text
        configure_logging("INFO", "json", out)
        app.test_client().get("/login", headers={"X-Request-Id": "j1"})
        line = [x for x in out.getvalue().splitlines() if '"j1"' in x][0]
        assert '"request_id": "j1"' in line and '"status": 200' in line and '"path": "/login"' in line
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if h.get_name() == "tabletop"]:
            root.removeHandler(handler)


def test_a_crash_leaves_a_trace_in_the_log_and_in_running_sessions(app, rt, caplog):  # noqa: F811
    from tabletop.sessions import create_session

    dirs = Path(app.config["EXERCISES_DIR"]), Path(app.config["INJECTS_DIR"])
    session = create_session(rt.store, "minimal", *dirs, None)
    sid = session["session"]
    from tabletop.engine import Actor

    rt.live.command(sid, Actor("control", None, "ctl"), "clock", {"action": "start"})
    clear_marker(app)
    assert check_unclean_stop(app) is None  # a first start: nothing to say
    os.utime(marker(app), (time.time() - 60, time.time() - 60))  # the run "dies" a minute ago
    with caplog.at_level(logging.WARNING):
        last = check_unclean_stop(app)  # the next start finds its marker
    assert last is not None and "did not stop cleanly" in caplog.text
    note_unclean_stop(app, last)
    notes = [e for e in rt.store.events_after(sid, 0) if e.type == ev.NOTE]
    assert notes and "The server stopped without shutting down" in notes[-1].payload.text
    assert notes[-1].payload.name == "Tabletop server"
    clear_marker(app)


def test_a_session_belongs_to_its_facilitator_and_an_administrator_sees_all(app, rt):  # noqa: F811
    from tabletop.web import socketio

    rt.store.create_facilitator("other", PASSWORD)
    rt.store.create_facilitator("admin", PASSWORD)
    owner = app.test_client()
    log_in(owner)
    session = new_session(owner)
    tokens = {name: rt.store.issue_token("facilitator", rt.store.check_facilitator(name, PASSWORD).id)
              for name in ("ctl", "other", "admin")}  # fmt: skip

    def api(name: str, path: str, method: str = "get"):
        client = app.test_client()
        return getattr(client, method)(path, headers={"Authorization": f"Bearer {tokens[name]}"}, json={})

    for path in (
        f"/api/sessions/{session}",
        f"/api/sessions/{session}/participants",
        f"/api/sessions/{session}/log.json",
    ):
        assert api("other", path).status_code == 403, path
        assert api("ctl", path).status_code == 200, path
        assert api("admin", path).status_code == 200, path
    assert api("other", f"/api/sessions/{session}/reports", "post").status_code == 403
    listed = {name: [s["session"] for s in api(name, "/api/sessions").get_json()["sessions"]] for name in tokens}
    assert session in listed["ctl"] and session in listed["admin"] and session not in listed["other"]

    other = app.test_client()
    token = csrf(other, "/login")
    other.post("/login", data={"username": "other", "password": PASSWORD, "csrf_token": token})
    assert other.get(f"/console/{session}").status_code == 403
    assert other.get(f"/console/{session}/setup").status_code == 403
    assert session not in other.get("/library").get_data(as_text=True)
    assert session in owner.get("/library").get_data(as_text=True)

    for name, ok in (("other", False), ("ctl", True), ("admin", True)):
        client = socketio.test_client(app, auth={"token": tokens[name]})
        assert client.emit("watch", {"session": session}, callback=True)["ok"] is ok
        client.disconnect()
