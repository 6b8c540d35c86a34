"""Issue 16, against a real server: poisoned text, floods, malformed frames, what clients receive.

Each attack runs while a bystander in another session talks: its round trip is printed, and the
test checks only that it was served and lost nothing (thresholds live in the benchmark).
"""

from __future__ import annotations

import concurrent.futures
import json
import threading
import time
from pathlib import Path

import pytest
import requests

from tabletop.engine import COMMANDS

from .hardening_helpers import Bystander, RawSocket, call
from .live_game import SEATS, open_game
from .live_server import Client, Server

pytestmark = [
    pytest.mark.slow,
    # The client library leaks the socket the server drops under an oversized message: not ours to fix.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

SURROGATE = "x \ud800 y"


def raw_post(server: Server, path: str, body: str | bytes, token: str | None = None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(server.url + path, data=body, headers=headers, timeout=30)


def exports_and_report_work(server: Server, token: str, session: str) -> None:
    """log.json and log.csv answer, decode as UTF-8, and the report's data builds."""
    for name in ("log.json", "log.csv"):
        response = server.get(f"/api/sessions/{session}/{name}", token)
        assert response.status_code == 200, (name, response.text[:300])
        response.content.decode("utf-8")
    started = server.post(f"/api/sessions/{session}/reports", {}, token)
    assert started.status_code == 202, started.text
    report = started.json()["report"]["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = server.get(f"/api/reports/{report}", token).json()["report"]["status"]
        if status in ("done", "failed"):
            break
        time.sleep(0.25)
    assert status == "done", status


# ====================================================================== data that poisons the log
def test_lone_surrogates_are_refused_on_every_command_and_route_and_the_log_stays_exportable(server):
    g = open_game(server, "minimal", SEATS)
    info, token, control = g.info, g.token, g["control"]
    with Bystander(server) as bystander:
        # Every command, by a role that may send it: a lone surrogate anywhere is bad_payload, first.
        clients = {"control": control, "player": g["us"], "observer": g["observer"]}
        for name, spec in sorted(COMMANDS.items()):
            role = next(r for r in ("player", "control", "observer") if r in spec.roles)
            for payload in ({"text": SURROGATE}, {"client_id": "\udfff"}, {"items": [{"issue": SURROGATE}]}):
                answer = call(clients[role], name, payload)
                assert not answer["ok"] and answer["error"]["code"] == "bad_payload", (name, payload, answer)
                assert "surrogate" in answer["error"]["message"], answer
        # The real fields, with payloads otherwise valid.
        assert call(control, "clock", {"action": "start"})["ok"]
        queued_ack = call(g["us"], "send_message", {"channel": "oman-line", "text": "fine"})
        assert queued_ack["ok"]
        fields = [
            (g["us"], "send_message", {"channel": "team", "text": SURROGATE}),
            (g["us"], "send_message", {"channel": "team", "text": "ok", "client_id": "c\ud800"}),
            (g["oman"], "relay", {"message": queued_ack["seq"], "action": "edit", "text": SURROGATE}),
            (g["us"], "decide", {"inject": "options", "option": "warn", "rationale": SURROGATE}),
            (g["observer"], "observe", {"rating": "S", "text": SURROGATE}),
            (control, "note", {"text": SURROGATE}),
            (control, "escalate", {"delta": 1, "reason": SURROGATE}),
            (control, "spoof", {"channel": "bridge", "as_team": "iran", "name": SURROGATE, "text": "x"}),
            (control, "write_inject", {"to": "all", "title": SURROGATE}),
            (control, "write_inject", {"to": "all", "title": "t", "body": SURROGATE, "from": "x"}),
            (control, "improvement_plan", {"items": [{"issue": "i", "action": SURROGATE}]}),
            (control, "feedback", {"strengths": SURROGATE}),
        ]
        for client, name, payload in fields:
            answer = call(client, name, payload)
            assert not answer["ok"] and answer["error"]["code"] == "bad_payload", (name, payload, answer)
        # Astral characters (a valid surrogate pair) are fine text, stored and exported.
        assert call(g["us"], "send_message", {"channel": "team", "text": "ok \U0001f600 \u202e"})["ok"]
        # Numbers beyond what a store holds: bad_payload, never internal.
        for big in (2**63, 10**30, 2**53):
            for client in (g["us"], g["observer"], control):
                answer = call(client, "sync", {"after": big})
                assert answer["error"]["code"] == "bad_payload", answer
            answer = call(g["oman"], "relay", {"message": big, "action": "forward"})
            assert answer["error"]["code"] in ("bad_payload", "unknown_message"), answer

        # The HTTP routes: JSON errors, never a 500 page.
        cases = [
            ("/api/login", {"username": "u\ud800", "password": "x"}, 400, "bad_payload"),
            ("/api/join", {"code": info["codes"]["us"], "name": "N\ud800", "position": "j3"}, 400, "bad_payload"),
            ("/api/join", {"code": "AB\ud800", "name": "N", "position": "j3"}, 400, "bad_payload"),
            ("/api/join", {"code": info["codes"]["us"], "name": "N", "position": ["j3"]}, 400, "bad_position"),
            ("/api/join", {"code": info["codes"]["us"], "name": "N", "position": {"id": "j3"}}, 400, "bad_position"),
        ]
        for path, body, status, code in cases:
            response = raw_post(server, path, json.dumps(body))
            assert response.status_code == status and response.json()["error"]["code"] == code, (path, response.text)
        response = raw_post(server, "/api/sessions", json.dumps({"exercise": "\ud800"}), token)
        assert response.status_code == 400 and response.json()["error"]["code"] == "bad_payload"
        for path in ("/api/login", "/api/join"):
            response = raw_post(server, path, "[" * 100_000 + "]" * 100_000)
            assert response.status_code == 400 and response.json()["error"]["code"] == "bad_payload", response.text
            response = raw_post(server, path, '{"a":' * 50_000 + "1" + "}" * 50_000)
            assert response.status_code == 400 and response.json()["error"]["code"] == "bad_payload", response.text
    bystander.check("poisoned text")
    exports_and_report_work(server, token, info["session"])
    g.close()


def test_every_error_under_api_is_json(server):
    token = server.login()
    checks = [
        requests.get(server.url + "/api/nothing-here", timeout=10),
        requests.delete(server.url + "/api/login", timeout=10),
        raw_post(server, "/api/join", b"x" * (5 * 1024 * 1024)),
        requests.post(server.url + "/api/login", data="{not json", timeout=10),
        requests.get(server.url + "/api/sessions/nope", headers={"Authorization": f"Bearer {token}"}, timeout=10),
        requests.get(server.url + "/api/sessions", timeout=10),
    ]
    assert [r.status_code for r in checks] == [404, 405, 413, 400, 404, 401]
    for response in checks:
        assert response.headers["Content-Type"].startswith("application/json"), response.text[:200]
        assert response.json()["ok"] is False and response.json()["error"]["code"]


def test_an_unexpected_failure_under_api_is_a_json_500(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def boom():
        raise RuntimeError("boom")

    app.add_url_rule("/api/boom", "boom", boom)
    app.add_url_rule("/boom", "boom_page", boom)
    client = app.test_client()
    response = client.get("/api/boom")
    assert response.status_code == 500 and response.json["error"]["code"] == "internal"
    assert client.get("/boom").content_type.startswith("text/html")  # pages keep their HTML page


def test_a_script_whose_text_holds_a_lone_surrogate_is_refused_at_its_line(tmp_path):
    """An uploaded script is text too: a YAML escape "\\ud800" would put it in every page, export and report."""
    from tabletop.script.errors import ScriptError
    from tabletop.script.loader import load_exercise_bytes

    data = Path(__file__).parent / "data"
    text = (data / "minimal.yaml").read_text().replace("title: Minimal", 'title: "Mini\\ud800mal"')
    with pytest.raises(ScriptError) as refused:
        load_exercise_bytes(text.encode(), "upload.yaml", script_dir=data, library=data / "lib")
    problem = next(p for p in refused.value.problems if "surrogate" in p.message)
    assert problem.mark.line == 4, problem
    str(refused.value).encode("utf-8")  # the message itself is valid text


# ====================================================================== floods
def test_a_flood_of_large_unknown_events_is_refused_without_stalling_anyone(server):
    """600 unknown events of 500 KB from one connection (the review's attack): each is refused from
    its first bytes, unparsed; over the byte budget the rest are refused, and a connection that goes
    on is closed. Its teammate and the bystander are served throughout."""
    g = open_game(server, "minimal", SEATS)
    flood, teammate = g["iran"], g["us"]
    blob = "z" * 500_000
    with Bystander(server) as bystander:
        started = time.monotonic()
        try:
            for _ in range(600):  # 300 MB
                flood.sio.emit("no_such_event", {"blob": blob})
        except Exception:  # noqa: BLE001 - the server closed the connection: that is the point
            pass
        elapsed = time.monotonic() - started
        assert call(teammate, "send_message", {"channel": "team", "text": "still here"})["ok"]
        time.sleep(0.5)
    print(f"\n[flood] sent for {elapsed:.1f} s; the flooding connection is connected: {flood.sio.connected}")
    bystander.check("600 unknown events of 500 KB")
    codes = {e["code"] for e in flood.errors}
    assert codes <= {"unknown_event", "rate_limited"} and {"unknown_event", "rate_limited"} <= codes, codes
    deadline = time.monotonic() + 10
    while flood.sio.connected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not flood.sio.connected, "a connection that keeps flooding is closed"
    assert "closed a connection that kept sending over its budget" in Path(server.log).read_text()
    g.close()


def test_unknown_events_watch_and_sync_count_against_the_budget(server):
    g = open_game(server, "minimal", SEATS)
    answers: list = []
    for n in range(200):
        g["us"].sio.emit("no_such_event" if n % 2 else "sync", {"after": 0, "limit": 1}, callback=answers.append)
    deadline = time.monotonic() + 20
    while len(answers) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(answers) == 200, "every frame is answered"
    codes = [a.get("error", {}).get("code") for a in answers if not a.get("ok")]
    assert "rate_limited" in codes and sum(1 for a in answers if a.get("ok")) < 100
    g.close()


def test_a_sync_flood_is_paged_and_budgeted(server, tmp_path):
    """Four players loop `sync` from 0 on a session of 3,000 events; pages are at most `limit` and
    the clients follow `more`; the bystander keeps being served."""
    g = open_game(server, "minimal", SEATS)
    session, token = g.session, g.token
    burst = [Client(server, server.join(g.code("us"), f"W{n}", "j3")["token"]) for n in range(15)]
    for writer in burst:
        writer.connect()

    def write(writer: Client) -> None:
        for n in range(200):
            while not writer.call("send_message", {"channel": "team", "text": f"m {n}"})["ok"]:
                time.sleep(0.1)

    with concurrent.futures.ThreadPoolExecutor(15) as pool:
        list(pool.map(write, burst))
    full = Client(server, g["us"].token)
    full.connect(after=10**9)  # nothing yet
    answer = full.call("sync", {"after": 0})
    assert answer["ok"] and len(answer["events"]) == 500 and answer["more"], (len(answer["events"]), answer["more"])
    seqs = [e["seq"] for e in answer["events"]]
    assert seqs == sorted(seqs) and answer["through"] == seqs[-1]
    assert full.call("sync", {"after": 0, "limit": 0})["error"]["code"] == "bad_payload"
    assert full.call("sync", {"after": 0, "limit": 5000})["error"]["code"] == "bad_payload"
    # Following `more` gives the whole log once, in order.
    got, after = [], 0
    while True:
        page = full.call("sync", {"after": after, "limit": 1000})
        if not page["ok"]:
            assert page["error"]["code"] == "rate_limited"
            time.sleep(0.5)
            continue
        got += [e["seq"] for e in page["events"]]
        after = page["through"]
        if not page["more"]:
            break
    assert got == sorted(set(got)) and len(got) >= 3000
    syncers = [Client(server, server.join(g.code("us"), f"S{n}", "j3")["token"]) for n in range(4)]
    for syncer in syncers:
        syncer.connect(after=10**9)
    stop = threading.Event()
    counts = {"pages": 0, "limited": 0}

    def loop(client: Client) -> None:
        while not stop.is_set():
            page = client.call("sync", {"after": 0, "limit": 1000})
            counts["pages" if page["ok"] else "limited"] += 1

    with Bystander(server) as bystander:
        threads = [threading.Thread(target=loop, args=(s,)) for s in syncers]
        for thread in threads:
            thread.start()
        time.sleep(6)
        stop.set()
        for thread in threads:
            thread.join(30)
    print(f"\n[sync flood] {counts['pages']} pages answered, {counts['limited']} refused (rate_limited)")
    bystander.check("4 clients looping sync from 0")
    assert counts["limited"] > 0
    assert server.get(f"/api/sessions/{session}/log.json", token).status_code == 200
    for client in [*burst, *syncers, full]:
        client.disconnect()
    g.close()


# ====================================================================== frames the server cannot parse
def test_malformed_frames_get_an_error_and_the_connection_carries_on(server):
    g = open_game(server, "minimal", SEATS)
    token = server.join(g.code("us"), "Raw", "j3")["token"]
    raw = RawSocket(server, token)
    frames = [
        ('427["send_message",{"channel":"team","text":"unterminated}]', 7),
        ("428" + '["send_message",' + "[" * 20_000 + "]" * 20_000 + "]", 8),
        ('429["sync",{"after":' + "9" * 5000 + "}]", 9),
        ("4210[]", 10),
        ('4211{"event":"sync"}', 11),
        ('4212[{"name":"sync"},{}]', 12),
        ("4213[42,{}]", 13),
        ('451-14["sync",{"_placeholder":true,"num":0}]', 14),
    ]
    with Bystander(server) as bystander:
        for frame, ack in frames:
            raw.send(frame)
            answer, others = raw.answers(ack)
            body = json.loads(answer[len(f"3{ack}") :])[0]
            assert body["ok"] is False and body["error"]["code"] in ("bad_frame", "bad_payload"), (frame[:40], body)
            assert any(o.startswith('2["error"') for o in others), (frame[:40], others)
        raw.send(b"\xff\xfe\x00garbage", binary=True)
        raw.send('4299["sync",{"after":0,"limit":1}]')
        answer, others = raw.answers(99)
        assert any(o.startswith('2["error"') and "bad_frame" in o for o in others), others
        assert json.loads(answer[3:])[0]["ok"] is True  # the connection still works
        raw.close()
    bystander.check("malformed frames")
    # Invalid UTF-8 in a text frame: the WebSocket layer drops the connection; the server logs why.
    raw = RawSocket(server, token)
    raw.ws.send(b'42["sync",{"after":0}]\xff\xfe', opcode=1)  # a text frame that is not UTF-8
    time.sleep(0.5)
    g.close()
    text = Path(server.log).read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]
    assert "dropped a WebSocket" in text or "refused a frame" in text


def test_closing_websockets_leave_no_invalid_request_lines_in_the_log(server):
    g = open_game(server, "minimal", SEATS)
    for n in range(10):
        client = Client(server, server.join(g.code("iran"), f"C{n}", "irgcn")["token"])
        client.connect()
        client.disconnect()
    time.sleep(0.5)
    g.close()
    text = Path(server.log).read_text(errors="replace")
    assert "Invalid HTTP" not in text and "Invalid http" not in text, text[-2000:]


# ====================================================================== what clients receive
def strip(event: dict) -> dict:
    return {k: v for k, v in event.items() if k != "session"}


def test_live_and_sync_are_the_same_for_every_event_and_every_viewer(server):
    g = open_game(server, "minimal", SEATS)
    control, us, us2, iran, oman, observer = (g[k] for k in ("control", "us", "us2", "iran", "oman", "observer"))
    assert control.call("clock", {"action": "start"})["ok"]
    us.wait_for(lambda e: e["type"] == "inject_released")
    assert us.call("send_message", {"channel": "team", "text": "team chat"})["ok"]
    assert us.call("send_message", {"channel": "bridge", "text": "bridge"})["ok"]
    assert us.call("send_message", {"channel": "public", "text": "public"})["ok"]
    sent = us.call("send_message", {"channel": "oman-line", "text": "via Oman"})
    assert oman.call("relay", {"message": sent["seq"], "action": "forward"})["ok"]
    assert us.call("ack_inject", {"inject": "shootdown"})["ok"]
    assert control.call("release_inject", {"inject": "options"})["ok"]
    us.wait_for(lambda e: e["type"] == "inject_released" and e["payload"]["inject"] == "options")
    assert us.call("decide", {"inject": "options", "option": "warn", "rationale": "calm"})["ok"]
    assert observer.call("observe", {"rating": "S", "text": "seen"})["ok"]
    assert control.call("note", {"text": "a note"})["ok"]
    assert control.call("escalate", {"delta": 2, "reason": "why"})["ok"]
    assert control.call("spoof", {"channel": "bridge", "as_team": "iran", "text": "spoofed"})["ok"]
    assert control.call("write_inject", {"to": "all", "title": "Written", "body": "**b**"})["ok"]
    assert control.call("send_message", {"channel": "team", "team": "iran", "text": "from control"})["ok"]
    assert control.call("clock", {"action": "end"})["ok"]
    for client in (us, iran, oman, observer):
        assert client.call("feedback", {"strengths": "s"})["ok"]
    assert control.call("improvement_plan", {"items": [{"issue": "i"}]})["ok"]
    time.sleep(1.0)  # let live delivery finish (only for comparing; nothing waits on game time)
    types: set[str] = set()
    for name, client in (("control", control), ("us", us), ("us2", us2), ("iran", iran), ("oman", oman),
                         ("observer", observer)):  # fmt: skip
        answer = client.call("sync", {"after": 0, "limit": 1000})
        assert not answer["more"]
        synced = {e["seq"]: e for e in answer["events"]}
        live = {e["seq"]: strip(e) for e in client.events}
        assert sorted(live) == sorted(synced), (name, sorted(set(live) ^ set(synced)))
        for seq, event in synced.items():
            assert live[seq] == event, (name, seq, live[seq], event)
            types.add(event["type"])
    mine = [e for e in us.events if e["type"] == "message" and e["payload"]["text"] == "team chat"]
    assert mine[0]["payload"]["participant"] == us.call("sync", {"after": 10**6})["me"]["participant"]
    theirs = [e for e in us2.events if e["type"] == "message" and e["payload"]["text"] == "team chat"]
    assert "participant" not in theirs[0]["payload"]  # a teammate is not told which seat sent it
    assert any(e["type"] == "observation" for e in observer.events), "an observer sees its own observation live"
    expected = {"message", "message_sent", "message_relayed", "message_delivered", "inject_released",
                "inject_acknowledged", "decision_made", "observation", "note", "escalation_changed",
                "clock_started", "session_ended", "feedback", "improvement_plan", "inject_written"}  # fmt: skip
    assert expected <= types, expected - types
    g.close()


def test_joining_with_another_teams_position_is_always_bad_position(server):
    g = open_game(server, "minimal", SEATS)
    code = g.code("us")

    def join(n: int) -> tuple[int, str]:
        position = ("irgcn", "omani-liaison", ["j3"], {"id": "j3"}, 7, None)[n % 6]
        response = server.post("/api/join", {"code": code, "name": f"P{n}", "position": position})
        return response.status_code, response.json()["error"]["code"]

    with Bystander(server) as bystander:
        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            results = list(pool.map(join, range(60)))
        # ... while the session is busy.
        for n in range(20):
            g["us"].sio.emit("send_message", {"channel": "team", "text": f"busy {n}"})
    bystander.check("parallel joins")
    assert set(results) == {(400, "bad_position")}, results
    g.close()


def test_the_documented_reconnect_procedure_misses_nothing_under_traffic(server):
    """docs/protocol.md: keep the `through` of the last complete sync; on reconnect, buffer live
    events, sync from that `through` page by page until `more` is false, then merge the buffer."""
    g = open_game(server, "minimal", SEATS)
    us, us2 = g["us"], g["us2"]
    answer = us.call("sync", {"after": 0})
    through = answer["through"]
    us.disconnect()
    stop = threading.Event()

    def chatter() -> None:
        n = 0
        while not stop.is_set():
            us2.call("send_message", {"channel": "team", "text": f"while away {n}"})
            n += 1
            time.sleep(0.02)

    writer = threading.Thread(target=chatter)
    writer.start()
    time.sleep(1.0)
    again = Client(server, us.token)  # its handler is registered before it connects
    again.sio.connect(server.url, auth={"token": us.token}, transports=["websocket"])
    time.sleep(0.3)  # live events arrive meanwhile: they are buffered, they do not move `through`
    buffered = list(again.events)
    assert buffered, "live events arrived before the sync"
    after, more = through, True
    while more:
        page = again.call("sync", {"after": after})
        for event in page["events"]:
            again._on_event(event)
        after, more = page["through"], page["more"]
    stop.set()
    writer.join(10)
    time.sleep(0.5)
    everything = again.call("sync", {"after": 0, "limit": 1000})
    assert not everything["more"]
    missing = {e["seq"] for e in everything["events"]} - again.seen - set(range(1, through + 1))
    assert not missing, sorted(missing)
    again.disconnect()
    g.close()
