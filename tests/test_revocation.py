"""Revocation on one worker (SQLite, no message queue): logging out (API and pages), removing a
participant and disabling an account close the token's open connections; a token revoked where the
worker cannot hear it (the command line without a queue) is caught by the worker's sweep. Two
workers on PostgreSQL and Redis: tests/test_cluster.py."""

from __future__ import annotations

import re
import threading

import pytest
import requests

from tabletop.web.cluster import REVALIDATE

from .live_server import PASSWORD, Client, Server
from .test_cluster import refused, watch_drops

pytestmark = pytest.mark.slow

AT_ONCE = 1.0  # seconds: the same process closes them (no queue, no sweep)


def session_of(server: Server, token: str) -> dict:
    response = server.post("/api/sessions", {"exercise": "minimal"}, token)
    assert response.status_code == 201, response.text
    return response.json()


def test_api_logout_closes_the_token_connections_at_once(server):
    token = server.login()
    info = session_of(server, token)
    console = Client(server, token, info["session"])
    dropped, reasons = watch_drops(console)
    console.connect()
    answer = requests.post(server.url + "/api/logout", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.json() == {"ok": True}
    assert dropped.wait(AT_ONCE) and reasons == ["logout"]
    assert refused(server, token)
    assert server.get("/api/sessions", token).status_code == 401


def test_logging_out_of_the_pages_revokes_their_token_and_closes_the_console(server):
    browser = requests.Session()
    form = browser.get(server.url + "/login", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert browser.post(
        server.url + "/login", data={"username": "ctl", "password": PASSWORD, "csrf_token": csrf}, timeout=10
    ).ok
    info = session_of(server, server.login())
    page = browser.get(f"{server.url}/console/{info['session']}", timeout=10).text
    token = re.search(r'data-token="([^"]+)"', page).group(1)
    console = Client(server, token, info["session"])
    dropped, reasons = watch_drops(console)
    console.connect()
    library = browser.get(server.url + "/library", timeout=10).text  # the header's "Log out" form
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', library).group(1)
    out = browser.post(server.url + "/logout", data={"csrf_token": csrf}, timeout=10, allow_redirects=False)
    assert out.status_code == 302
    assert dropped.wait(AT_ONCE) and reasons == ["logout"]
    assert refused(server, token)
    again = browser.get(f"{server.url}/console/{info['session']}", timeout=10, allow_redirects=False)
    assert again.status_code == 302 and "/login" in again.headers["Location"], "logged out, not renewed"


def test_a_removed_participant_is_closed_out_at_once(server):
    token = server.login()
    info = session_of(server, token)
    seat = server.join(info["codes"]["iran"], "Reza", "irgcn")
    player = Client(server, seat["token"])
    dropped, reasons = watch_drops(player)
    player.connect()
    gone = requests.delete(
        f"{server.url}/api/sessions/{info['session']}/participants/{seat['participant']}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert gone.status_code == 200 and gone.json()["removed"]["name"] == "Reza"
    assert dropped.wait(AT_ONCE) and reasons == ["removed"]
    assert refused(server, seat["token"])


def test_disabling_an_account_without_a_queue_closes_its_connections_by_the_sweep(server):
    assert server.flask("facilitator", "create", "old", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    token = server.login("old")
    console = Client(server, token, session_of(server, token)["session"])
    dropped, reasons = watch_drops(console)
    console.connect()
    done = server.flask("facilitator", "disable", "old")
    assert done.returncode == 0 and f"within {REVALIDATE:g} s" in done.stdout
    assert dropped.wait(REVALIDATE + 2), "the worker's own check of its connections' tokens"
    assert reasons == ["revoked"]
    assert server.post("/api/login", {"username": "old", "password": PASSWORD}).status_code == 401
    assert server.flask("facilitator", "disable", "nobody").returncode == 1


def test_presence_on_one_worker_counts_connections(server):
    token = server.login()
    info = session_of(server, token)
    control = Client(server, token, info["session"])
    notices: list[dict] = []
    offline = threading.Event()

    def heard(notice: dict) -> None:
        notices.append(notice)
        if not notice["online"]:
            offline.set()

    control.sio.on("presence", heard)
    control.connect()
    seat = server.join(info["codes"]["us"], "Alice", "j3")
    one, two = Client(server, seat["token"]), Client(server, seat["token"])
    one.connect()
    two.connect()
    one.disconnect()
    assert control.call("sync", {"after": 0})["state"]["presence"] == [seat["participant"]]
    two.disconnect()
    assert offline.wait(5)
    assert [n["online"] for n in notices] == [True, False], "the first connection opened, the last closed"
    listed = server.get(f"/api/sessions/{info['session']}/participants", token).json()["participants"]
    assert [(p["name"], p["online"]) for p in listed] == [("Alice", False)]
