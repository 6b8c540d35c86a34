"""End to end, format 2 in play: a real server process and real python-socketio clients on
tests/data/conditions.yaml. An inactivity condition fires at its exercise time and not before (the
clock runs at 10x: 40 s of exercise time is 4 s of wall time, waited for on the socket, never slept);
a message in the window keeps another from firing; control posts as a persona and players never learn
who wrote it; the hotwash answers the script's questions."""

from __future__ import annotations

import pytest

from .live_game import open_game
from .live_server import Client

pytestmark = pytest.mark.slow


def released(client: Client, inject: str) -> list[dict]:
    return [e for e in client.of_type("inject_released") if e["payload"]["inject"] == inject]


def test_an_inactivity_condition_fires_at_its_time_and_not_before(server):
    g = open_game(server, "conditions", {"us": ("us", "Sam", "us-ship"), "iran": ("iran", "Bahram", "ir-boat")})
    control, us, iran = g.control, g["us"], g["iran"]

    assert control.call("clock", {"action": "start"})["ok"]
    assert control.call("clock", {"action": "speed", "speed": 10})["ok"]
    opening = us.wait_for(lambda e: e["type"] == "inject_released" and e["payload"]["inject"] == "opening")
    window = opening["t"] + 40  # the window opens with the release of `opening`
    # Iran speaks on the bridge inside its window; the United States stays silent.
    assert iran.call("send_message", {"channel": "bridge", "text": "Bridge to bridge: we hear you"})["ok"]
    state = control.call("sync", {"after": control.last_seq})["state"]
    assert state["clock"]["elapsed"] < window
    silence = state["injects"]["silence"]
    assert (silence["status"], silence["due"], silence["condition"]) == (
        "scheduled",
        pytest.approx(window, abs=0.001),
        "waiting",
    )
    assert (state["injects"]["silence-iran"]["status"], state["injects"]["silence-iran"]["condition"]) == (
        "pending",
        "pending",
    )
    assert not released(us, "silence"), "not before its time"

    fired = us.wait_for(lambda e: e["type"] == "inject_released" and e["payload"]["inject"] == "silence", timeout=20)
    assert window <= fired["t"] < window + 15, "at its time (the scheduler wakes for it), not before"
    control.wait_for(lambda e: e["type"] == "inject_released" and e["payload"]["inject"] == "silence")
    state = control.call("sync", {"after": control.last_seq})["state"]
    assert state["injects"]["silence"]["status"] == "released"
    assert state["injects"]["silence-iran"]["status"] == "pending", "a message in the window kept it shut"
    assert not released(iran, "silence-iran") and not released(control, "silence-iran")
    assert len(released(control, "silence")) == 1

    # Control posts as a persona: every team reads it under the persona's name, nobody learns who wrote it.
    assert control.call("post_as_persona", {"persona": "irna", "text": "Our forces acted in self-defence."})["ok"]
    post = us.wait_for(lambda e: e["type"] == "persona_posted")["payload"]
    assert post["name"] == "IRNA" and "spoofed_by" not in post and "ctl" not in str(post)
    assert "spoofed_by" in control.wait_for(lambda e: e["type"] == "persona_posted")["payload"]
    refused = iran.call("post_as_persona", {"persona": "irna", "text": "We are IRNA"})
    assert not refused["ok"] and refused["error"]["code"] == "forbidden"

    # The escalation level set by control, with a reason; an escalation threshold releases at once.
    assert control.call("escalate", {"level": 3, "reason": "Adjudicated: boats fired flares"})["ok"]
    iran.wait_for(lambda e: e["type"] == "inject_released" and e["payload"]["inject"] == "tension")

    # The hotwash asks the script's questions; the answers are checked and reach the log.
    assert control.call("clock", {"action": "end"})["ok"]
    us.wait_for(lambda e: e["type"] == "session_ended")
    bad = us.call("feedback", {"answers": {"q-trust": 7}})
    assert not bad["ok"] and "rating from 1 to 5" in bad["error"]["message"]
    assert us.call("feedback", {"strengths": "Quick", "answers": {"q-line": "Read-backs", "q-trust": 3}})["ok"]
    answers = control.wait_for(lambda e: e["type"] == "feedback")["payload"]["answers"]
    assert answers == {"q-line": "Read-backs", "q-trust": 3}
