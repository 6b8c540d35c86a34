"""End to end, the tape (issue 14): a real server, real python-socketio clients in every seat.

A game is played on tests/data/key-questions.yaml (team chat, a message Oman holds back, one it
edits, one it forwards, assessments, a public statement, escalation), then the tape's view of each
seat at every sequence number is compared with what that seat's live client had received up to it,
event for event, key for key: the tape goes through the same view function as live play.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .live_game import open_game, seats_of
from .live_server import Client, Server

pytestmark = pytest.mark.slow

US_CHAT = "Team only: we think the drone was over international water."
HELD = "If you strike again we will answer with force."
ORIGINAL = "We hold Tehran responsible for the drone."
EDITED = "Washington asks for calm and a call."
IRAN_LINE = "We defended our airspace. Nothing more."
IRAN_CHAT = "Iran team: do not answer the Americans yet."
PUBLIC = "Iran will defend its skies."


def play(server: Server) -> dict[str, Any]:
    """Play a short game in every seat; every client caught up at the end."""
    g = open_game(server, "key-questions", seats_of("us", "us2", "iran", "oman"))
    session, token, control, clients = g.session, g.token, g.control, g.clients
    us, us2, iran, oman = clients["us"], clients["us2"], clients["iran"], clients["oman"]

    def ok(client: Client, name: str, **data: Any) -> dict[str, Any]:
        answer = client.call(name, data)
        assert answer["ok"], (name, answer)
        return answer

    ok(control, "clock", action="start")
    ok(control, "release_inject", inject="shootdown")
    ok(us, "send_message", channel="team", text=US_CHAT)
    ok(us2, "send_message", channel="team", text="Agreed. Ask Muscat.")
    held = ok(us, "send_message", channel="oman-line", text=HELD)
    oman.wait_for(lambda e: e["seq"] == held["seq"])
    ok(oman, "relay", message=held["seq"], action="hold")
    edited = ok(us, "send_message", channel="oman-line", text=ORIGINAL)
    oman.wait_for(lambda e: e["seq"] == edited["seq"])
    ok(oman, "relay", message=edited["seq"], action="edit", text=EDITED)
    ok(us, "assess", question="intent", answer="Yes", confidence=70)
    ok(iran, "assess", question="where", answer="26.1, 56.5", confidence=60)
    line = ok(iran, "send_message", channel="oman-line", text=IRAN_LINE)
    oman.wait_for(lambda e: e["seq"] == line["seq"])
    ok(oman, "relay", message=line["seq"], action="forward")
    ok(iran, "send_message", channel="team", text=IRAN_CHAT)
    ok(iran, "send_message", channel="public", text=PUBLIC)
    ok(control, "escalate", delta=1, reason="Iran's statement")
    ok(us, "assess", question="intent", answer="No", confidence=55)
    ok(control, "release_inject", inject="claim")
    last = ok(control, "note", text="end of the tape test")["seq"]
    # Every client has everything it may see up to `last`: a fresh sync after the last event.
    for client in (*clients.values(), control):
        client.sync(client.through)
    return {
        "session": session,
        "token": token,
        "last": last,
        "control": control,
        "clients": clients,
        "participants": {k: v["participant"] for k, v in g.joined.items()},
    }


@pytest.fixture(scope="module")
def game(server):
    return play(server)


def moment(server: Server, token: str, session: str, seq: int, key: str) -> dict[str, Any]:
    response = server.get(f"/sessions/{session}/tape/moment?seq={seq}&as={key}", token)
    assert response.status_code == 200, response.text
    return response.json()


def received(client: Client, seq: int) -> list[dict[str, Any]]:
    """What a live client had received by `seq`, as the tape gives it (no live envelope)."""
    with client.cond:
        held = sorted(client.events, key=lambda e: e["seq"])
    return [{k: v for k, v in e.items() if k != "session"} for e in held if e["seq"] <= seq]


def test_the_tape_of_each_seat_at_each_seq_equals_what_its_live_client_received(server, game):
    session, token, last = game["session"], game["token"], game["last"]
    viewers = {f"p:{game['participants'][k]}": c for k, c in game["clients"].items()}
    viewers["control"] = game["control"]
    for key, client in viewers.items():
        for seq in range(last + 1):
            seen = moment(server, token, session, seq, key)
            expected = received(client, seq)
            assert seen["seq"] == seq and seen["total"] == len(expected), (key, seq)
            assert seen["events"] == expected, (key, seq)


def test_iran_never_sees_the_us_chat_nor_what_oman_held_or_changed(server, game):
    session, token, last = game["session"], game["token"], game["last"]
    iran = f"p:{game['participants']['iran']}"
    for key in (iran, "team:iran", "seat:iran/irgcn"):
        for seq in range(0, last + 1, 3):
            text = json.dumps(moment(server, token, session, seq, key), ensure_ascii=False)
            for hidden in (US_CHAT, HELD, ORIGINAL, '"truth"'):
                assert hidden not in text, (key, seq, hidden)
        at_end = moment(server, token, session, last, key)
        assert not [e for e in at_end["events"] if e["type"] == "assessment" and e["payload"]["team"] != "iran"]
        text = json.dumps(at_end, ensure_ascii=False)
        assert EDITED in text and IRAN_CHAT in text and PUBLIC in text
    control = json.dumps(moment(server, token, session, last, "control"), ensure_ascii=False)
    assert all(t in control for t in (US_CHAT, HELD, ORIGINAL, EDITED, '"truth"'))
    # Oman saw what it held and what it changed: the relay threads say so.
    oman = moment(server, token, session, last, f"p:{game['participants']['oman']}")
    threads = {t["sent"]: t for t in oman["relay"] if "sent" in t}
    assert threads[HELD]["held"] and threads[ORIGINAL]["changed"] and threads[ORIGINAL]["forwarded"] == EDITED
    # The U.S. sender learns it went on, not what became of the text.
    us = moment(server, token, session, last, f"p:{game['participants']['us']}")
    assert EDITED not in json.dumps(us, ensure_ascii=False)


def test_moments_marks_beliefs_and_access(server, game):
    session, token, last = game["session"], game["token"], game["last"]
    first = server.get(f"/sessions/{session}/tape/moment?seq={last}&as=control&first=1", token).json()
    kinds = {m["kind"] for m in first["marks"]}
    assert {"incident", "inject", "escalation", "assessment", "clock"} <= kinds
    intent = next(q for q in first["beliefs"] if q["id"] == "intent")
    us_points = next(t for t in intent["teams"] if t["team"] == "us")["points"]
    assert [(p["answer"], p["gap"]) for p in us_points] == [("Yes", 0.85), ("No", 0.45)]
    iran_view = server.get(f"/sessions/{session}/tape/moment?seq={last}&as=team:iran&first=1", token).json()
    assert all("truth" not in q for q in iran_view["beliefs"])
    assert {m["kind"] for m in iran_view["marks"]} <= {"incident", "inject", "clock", "assessment", "decision", "move"}
    # The latest `limit` events when asked (the page's "Show all"), never more than the view saw.
    three = server.get(f"/sessions/{session}/tape/moment?seq={last}&as=team:iran&limit=3", token).json()
    assert len(three["events"]) == 3 and three["total"] > 3
    assert three["events"] == moment(server, token, session, last, "team:iran")["events"][-3:]
    # Stepping follows the viewer's own events.
    seqs = [e["seq"] for e in moment(server, token, session, last, "team:iran")["events"]]
    stepped = server.get(f"/sessions/{session}/tape/moment?seq={seqs[1]}&as=team:iran&step=next", token).json()
    assert stepped["seq"] == seqs[2]
    # Only facilitators; unknown views and sessions are refused.
    assert server.get(f"/sessions/{session}/tape/moment?seq=1&as=control").status_code == 401
    player = server.get(f"/sessions/{session}/tape/moment?seq=1&as=control", game["clients"]["iran"].token)
    assert player.status_code == 401
    assert server.get(f"/sessions/{session}/tape/moment?as=team:nobody", token).status_code == 404
    assert server.get("/sessions/nope/tape/moment?as=control", token).status_code == 404
