"""The engine's rules, on a real store, with time driven by a test clock (no sleeping)."""

from __future__ import annotations

import pytest

from tabletop.engine import Refused
from tabletop.live import Live


@pytest.fixture
def game(new_game):
    return new_game()


def test_timed_injects_release_at_their_offset_and_not_before(game):
    game.do("control", "clock", action="start")
    assert game.released() == ["shootdown", "follow-up"]  # +00:00 and its inject trigger
    game.advance(9 * 60 + 59)
    assert "options" not in game.released()
    game.advance(1)
    assert game.released()[-1] == "options"


def test_pause_freezes_everything_and_nothing_bursts_after(game):
    game.do("control", "clock", action="start")
    game.advance(5 * 60)
    game.do("control", "clock", action="pause")
    game.advance(3 * 3600)  # a long pause
    assert "options" not in game.released()
    game.do("control", "clock", action="resume")
    game.live.run_due(game.session)
    assert "options" not in game.released(), "nothing may fire at once after a pause"
    game.advance(5 * 60)
    assert game.released()[-1] == "options"
    assert "jamming" not in game.released()  # due at +00:30, still 20 minutes away
    assert game.state.elapsed(game.time.now()) == pytest.approx(600)


def test_speed_runs_exercise_time_faster(game):
    game.do("control", "clock", action="start")
    game.do("control", "clock", action="speed", speed=10)
    game.advance(60)  # ten minutes of exercise time
    assert "options" in game.released()
    with pytest.raises(Refused, match="speed"):
        game.do("control", "clock", action="speed", speed=11)


def test_send_now_is_immediate_whatever_the_clock(game):
    game.do("control", "clock", action="start")
    game.do("control", "clock", action="pause")
    game.do("control", "release_inject", inject="tanker")
    assert game.released()[-1] == "tanker"
    with pytest.raises(Refused, match="already released"):
        game.do("control", "release_inject", inject="tanker")


def test_decision_by_authorised_position_releases_its_branch_after_the_delay(game):
    game.do("control", "clock", action="start")
    game.advance(600)
    with pytest.raises(Refused, match="only J3 may take this decision"):
        game.do("us2", "decide", inject="options", option="strike")
    with pytest.raises(Refused, match="no open decision"):
        game.do("iran", "decide", inject="options", option="strike")
    game.do("us", "decide", inject="options", option="strike", rationale="Deter further shootdowns")
    assert game.state.escalation == 3
    with pytest.raises(Refused, match="already decided"):
        game.do("us", "decide", inject="options", option="warn")
    game.advance(4 * 60 + 59)
    assert "retaliation" not in game.released()
    game.advance(1)
    assert "retaliation" in game.released()
    assert game.state.escalation == 4  # the retaliation's own effect
    assert game.state.jammed("bridge", game.state.elapsed(game.time.now()))


def test_decision_deadline_takes_the_default(game):
    game.do("control", "clock", action="start")
    game.advance(600)
    game.advance(600)  # the 10m deadline
    decided = [e for e in game.store.events_after(game.session) if e.type == "decision_made"]
    assert len(decided) == 1
    assert decided[0].payload["option"] == "warn" and decided[0].payload["by_default"]
    assert game.state.escalation == -1
    game.advance(3600)
    assert "retaliation" not in game.released()


def test_relay_intermediary_edits_and_receiver_sees_only_the_edit(game):
    game.do("control", "clock", action="start")
    with pytest.raises(Refused, match="needs authority 2, yours is 1"):
        game.do("us2", "send_message", channel="oman-line", text="From a junior officer")
    sent = game.do("us", "send_message", channel="oman-line", text="We will strike at dawn.", client_id="m1")
    seq = sent.seq
    assert [v["payload"]["text"] for v in game.seen_by("oman") if v["type"] == "message_sent"] == [
        "We will strike at dawn."
    ]
    assert not any(v["type"].startswith("message") for v in game.seen_by("iran"))
    with pytest.raises(Refused, match="is waiting with you"):  # not even whether it exists
        game.do("iran", "relay", message=seq, action="forward")
    game.do("oman", "relay", message=seq, action="edit", text="Washington urges restraint.")
    iran = [v for v in game.seen_by("iran") if v["type"].startswith("message")]
    assert [(v["type"], v["payload"]["text"]) for v in iran] == [("message_delivered", "Washington urges restraint.")]
    assert "We will strike" not in str(game.seen_by("iran"))
    relayed = [v for v in game.seen_by("us") if v["type"] == "message_relayed"]
    # The sender is told it went on, not that it was edited (the default `sender_learns`).
    assert relayed[0]["payload"]["action"] == "forward" and "text" not in relayed[0]["payload"]
    assert "edited" not in relayed[0]["payload"]
    with pytest.raises(Refused, match="already"):
        game.do("oman", "relay", message=seq, action="decline")


def test_relay_hold_then_decline(game):
    seq = game.do("iran", "send_message", channel="oman-line", text="Your ships must leave.").seq
    game.do("oman", "relay", message=seq, action="hold")
    assert game.state.messages[seq].status == "held"
    game.do("oman", "relay", message=seq, action="decline")
    assert game.state.messages[seq].status == "declined"
    assert not any(v["type"].startswith("message") for v in game.seen_by("us"))
    statuses = [v["payload"]["action"] for v in game.seen_by("iran") if v["type"] == "message_relayed"]
    assert statuses == ["hold", "decline"]


def test_jammed_channel_delivers_nothing_and_tells_the_sender(game):
    game.do("control", "clock", action="start")
    game.do("control", "release_inject", inject="jamming")  # jams the bridge for 5m
    result = game.do("us", "send_message", channel="bridge", text="Vessel on my bow, alter course")
    assert result.events[0].type == "message_jammed"
    assert "jammed until +00:05" in result.events[0].payload["reason"]
    assert not any(v["type"].startswith("message") for v in game.seen_by("iran"))
    game.advance(5 * 60)
    assert not game.state.jammed("bridge", game.state.elapsed(game.time.now()))
    game.do("us", "send_message", channel="bridge", text="Alter course")
    assert [v["payload"]["text"] for v in game.seen_by("iran") if v["type"] == "message"] == ["Alter course"]


def test_channel_rules(game):
    with pytest.raises(Refused, match="your team is not on 'Bridge-to-bridge'"):
        game.do("oman", "send_message", channel="bridge", text="hi")
    with pytest.raises(Refused, match="unknown channel 'radio'"):
        game.do("us", "send_message", channel="radio", text="hi")
    game.do("oman", "send_message", channel="public", text="Oman calls for calm")
    assert "message" in game.types_seen_by("us") and "message" in game.types_seen_by("iran")
    game.do("us", "send_message", channel="team", text="Our eyes only")
    assert "Our eyes only" not in str(game.seen_by("iran"))
    assert "Our eyes only" in str(game.seen_by("us2"))
    with pytest.raises(Refused, match="only facilitators and players"):
        game.do("observer", "send_message", channel="team", text="hello")


def test_idempotent_sends_store_once(game):
    first = game.do("us", "send_message", channel="team", text="once", client_id="abc")
    again = game.do("us", "send_message", channel="team", text="once", client_id="abc")
    assert again.duplicate and again.seq == first.seq
    assert sum(1 for e in game.store.events_after(game.session) if e.type == "message") == 1


def test_hold_skip_move(game):
    game.do("control", "clock", action="start")
    game.do("control", "hold_inject", inject="options")
    game.advance(700)
    assert "options" not in game.released()
    game.do("control", "unhold_inject", inject="options")
    game.live.run_due(game.session)
    assert "options" in game.released()
    game.do("control", "skip_inject", inject="jamming")
    game.advance(3600)
    assert "jamming" not in game.released()
    game.do("control", "move_inject", inject="tanker", at="+02:00")
    game.advance(3600)
    assert game.released()[-1] == "tanker"


def test_written_inject_goes_out_now(game):
    game.do("control", "write_inject", to=["iran"], title="Tasnim: navy on alert", body="Text", medium="news")
    assert game.released() == ["live-1"]
    assert "Tasnim: navy on alert" in str(game.seen_by("iran"))
    assert "Tasnim" not in str(game.seen_by("us"))


def test_control_only_fields_are_hidden_from_players(game):
    game.do("control", "spoof", channel="bridge", as_team="iran", as_position="irgcn", text="This is IRGCN: leave now")
    us_view = [v for v in game.seen_by("us") if v["type"] == "message"][0]
    assert us_view["payload"]["from_team"] == "iran" and "spoofed" not in us_view["payload"]
    control_view = [v for v in game.seen_by("control") if v["type"] == "message"][0]
    assert control_view["payload"]["spoofed"] is True
    assert not [v for v in game.seen_by("iran") if v["type"] == "message"]


def test_acknowledgement_once_per_participant(game):
    game.do("control", "clock", action="start")
    game.do("us", "ack_inject", inject="shootdown")
    game.do("us", "ack_inject", inject="shootdown")
    assert game.state.acks["shootdown"] == {"us": [game.actors["us"].participant]}
    with pytest.raises(Refused, match="no inject 'options'"):
        game.do("us", "ack_inject", inject="options")


def test_observer_sees_its_teams_and_writes_only_observations(game):
    game.do("control", "clock", action="start")
    game.do("oman", "send_message", channel="team", text="Omani internal")
    assert "Omani internal" not in str(game.seen_by("observer"))
    game.do("observer", "observe", objective="obj-contact", rating="S", text="Slow to use the line")
    with pytest.raises(Refused, match="only facilitators may do this"):
        game.do("observer", "clock", action="pause")
    with pytest.raises(Refused, match="unknown objective"):
        game.do("observer", "observe", objective="obj-x", rating="S")


def test_end_and_hotwash(game):
    game.do("control", "clock", action="start")
    with pytest.raises(Refused, match="hotwash opens"):
        game.do("us", "feedback", strengths="x")
    game.do("control", "clock", action="end")
    with pytest.raises(Refused, match="ended"):
        game.do("us", "send_message", channel="team", text="late")
    game.do("us", "feedback", strengths="Clear roles", improvements="Faster relay", channels={"oman-line": 4})
    with pytest.raises(Refused, match="already sent"):
        game.do("us", "feedback", strengths="again")
    game.advance(7200)
    assert "options" not in game.released()


def test_bad_payloads_are_refused_precisely(game):
    with pytest.raises(Refused, match=r"send_message: 'text' is too long \(at most 4000 characters\)"):
        game.do("us", "send_message", channel="team", text="x" * 5000)
    with pytest.raises(Refused, match="send_message: missing field 'text'"):
        game.do("us", "send_message", channel="team")
    with pytest.raises(Refused, match="unknown field 'admin'"):
        game.do("us", "send_message", channel="team", text="hi", admin=True)
    with pytest.raises(Refused, match="unknown command"):
        game.do("us", "drop_tables")


def test_exactly_once_across_two_workers_and_after_restart(new_game):
    game = new_game()
    other = Live(game.store, game.time)  # a second worker on the same database
    game.do("control", "clock", action="start")
    game.time.advance(600)
    other.run_due(game.session)
    game.live.run_due(game.session)
    assert game.released().count("options") == 1
    restarted = Live(game.store, game.time)  # the process killed and started again
    state = restarted.state(game.session)
    assert state.clock.running and state.elapsed(game.time.now()) == pytest.approx(600)
    assert state.injects["options"].status == "released"
    game.time.advance(1200)
    restarted.run_due(game.session)
    game.live.run_due(game.session)
    assert game.released().count("jamming") == 1
    assert [e.seq for e in game.store.events_after(game.session)] == list(
        range(1, game.store.last_seq(game.session) + 1)
    )


def test_a_spoofed_message_looks_like_a_real_one_to_players(game):
    game.do("iran", "send_message", channel="bridge", text="Real call")
    game.do("control", "spoof", channel="bridge", as_team="iran", as_position="irgcn", name="Reza", text="Fake call")
    real, fake = [v["payload"] for v in game.seen_by("us") if v["type"] == "message"]
    assert set(real) == set(fake), "the same fields: nothing tells a spoof apart"
    assert "spoofed_by" not in fake and "participant" not in fake
    own = [v["payload"] for v in game.seen_by("iran") if v["type"] == "message"]
    assert own[0]["participant"] == game.actors["iran"].participant, "the sender still recognises its own"


def test_players_do_not_see_the_escalation_bookkeeping(game):
    game.do("control", "clock", action="start")
    game.advance(600)
    offered = [v for v in game.seen_by("us") if v["type"] == "inject_released" and v["payload"]["inject"] == "options"]
    assert all("escalation" not in o for o in offered[0]["payload"]["decision"]["options"])
    game.do("us", "decide", inject="options", option="strike")
    made = [v for v in game.seen_by("us") if v["type"] == "decision_made"][0]
    assert "escalation" not in made["payload"]
    assert "escalation_changed" not in game.types_seen_by("us")
    assert [v for v in game.seen_by("control") if v["type"] == "decision_made"][0]["payload"]["escalation"] == 3


def test_a_resent_command_is_answered_as_a_duplicate_before_the_rules(game):
    game.do("control", "clock", action="start")
    game.advance(600)
    first = game.do("us", "decide", inject="options", option="strike", client_id="d1")
    again = game.do("us", "decide", inject="options", option="strike", client_id="d1")
    assert again.duplicate and again.seq == first.seq
    one = game.do("control", "note", text="first", client_id="n1")
    other = game.live.command(
        game.session,
        type(game.actors["control"])("control", None, "Other"),
        "note",
        {"text": "second", "client_id": "n1"},
    )
    assert not other.duplicate and other.seq != one.seq, "facilitators' client ids do not collide"


def test_non_finite_times_are_refused(game):
    for bad in (float("nan"), float("inf"), -5):
        with pytest.raises(Refused, match="'at' must be"):
            game.do("control", "move_inject", inject="tanker", at=bad)


def test_observers_see_their_own_observations_and_each_facilitator_sends_feedback(game):
    game.do("observer", "observe", rating="P", text="Good")
    assert "observation" in game.types_seen_by("observer")
    assert "observation" not in game.types_seen_by("us")
    game.do("control", "clock", action="end")
    game.do("control", "feedback", strengths="a")
    other = type(game.actors["control"])("control", None, "Other facilitator")
    game.live.command(game.session, other, "feedback", {"strengths": "b"})
    with pytest.raises(Refused, match="already sent"):
        game.do("control", "feedback", strengths="again")


def test_channel_delays_hold_delivery_for_exercise_time_and_freeze_with_the_clock(new_game, tmp_path):
    from .engine_helpers import DATA

    text = (DATA / "minimal.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "    kind: direct\n    members: [us, iran]\n", "    kind: direct\n    members: [us, iran]\n    delay: 2m\n"
    )
    text = text.replace(
        "    relay: oman\n    min_authority: 2\n", "    relay: oman\n    min_authority: 2\n    delay: 1m\n"
    )
    script = tmp_path / "delayed.yaml"
    script.write_text(text, encoding="utf-8")
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "map.svg").write_text((DATA / "lib" / "maps" / "map.svg").read_text())
    game = new_game(script=script)
    game.do("control", "clock", action="start")
    sent = game.do("us", "send_message", channel="bridge", text="Delayed call").events[0]
    assert sent.type == "message_sent"
    game.advance(60)
    game.do("control", "clock", action="pause")
    game.advance(3600)  # paused: the delay does not run
    assert "Delayed call" not in str(game.seen_by("iran"))
    game.do("control", "clock", action="resume")
    game.advance(59)
    assert "Delayed call" not in str(game.seen_by("iran"))
    game.advance(1)
    assert [v["payload"]["text"] for v in game.seen_by("iran") if v["type"] == "message_delivered"] == ["Delayed call"]
    relayed = game.do("us", "send_message", channel="oman-line", text="Through Oman").seq
    game.do("oman", "relay", message=relayed, action="forward")
    assert "Through Oman" not in str(game.seen_by("iran"))
    game.advance(60)
    assert "Through Oman" in str(game.seen_by("iran"))
    assert not game.state.transit
