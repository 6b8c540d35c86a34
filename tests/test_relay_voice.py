"""The intermediary's voice and relay disclosure, under the test clock (no sleeping).

Notes to one half of a relay channel, handling instructions for the intermediary alone,
read-backs, and what each side is told per the channel's `receiver_sees` and `sender_learns`
(tests/data/relay.yaml: `oman-line` with the defaults, `slow-line` telling everything after a 2m
delay, `quiet-line` telling the sender nothing, `swiss` relayed by control, `radio` direct with a
1m delay). What a seat is shown is `redact`'s output, the one path of live events and sync.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tabletop.engine import Refused
from tabletop.engine.events import from_json

from .engine_helpers import DATA

ORIGINAL = "We hold you responsible for the drone."
EDITED = "Washington asks for calm."
INSTRUCTIONS = "Pass this only if Tehran has not gone public yet."


@pytest.fixture
def game(new_game):
    g = new_game(script=DATA / "relay.yaml")
    g.do("control", "clock", action="start")
    return g


def send(game, channel: str, text: str = ORIGINAL, who: str = "us", **extra: Any) -> int:
    return game.do(who, "send_message", channel=channel, text=text, **extra).seq


def of_type(game, who: str, kind: str) -> list[dict[str, Any]]:
    return [v for v in game.seen_by(who) if v["type"] == kind]


def payloads(game, who: str, kind: str) -> list[dict[str, Any]]:
    return [v["payload"] for v in of_type(game, who, kind)]


def everything(game, who: str) -> str:
    return json.dumps(game.seen_by(who), ensure_ascii=False)


# ------------------------------------------------------------------ notes to one half
def test_a_note_reaches_one_half_and_never_the_other(game):
    seq = send(game, "oman-line")
    confirm = "Please confirm: 'responsible'?"
    game.do("oman", "write_relay_note", channel="oman-line", to="us", text=confirm, message=seq)
    [note] = payloads(game, "us", "relay_note")
    assert note["text"] == confirm and note["message"] == seq
    assert note["to"] == "us" and note["relay"] == "oman" and note["by"] == "Salim"
    assert payloads(game, "oman", "relay_note") == [{**note, "participant": game.actors["oman"].participant}]
    assert "relay_note" not in game.types_seen_by("iran")
    assert "confirm" not in everything(game, "iran")
    assert payloads(game, "control", "relay_note")[0]["text"] == note["text"]
    # A note to the other half, about nothing in particular.
    game.do("oman", "write_relay_note", channel="oman-line", to="iran", text="Muscat is listening.")
    assert [n["text"] for n in payloads(game, "iran", "relay_note")] == ["Muscat is listening."]
    assert "message" not in payloads(game, "iran", "relay_note")[0]
    assert "Muscat is listening" not in everything(game, "us")
    assert game.state.messages[seq].status == "with_relay"  # a note forwards nothing


def test_only_the_intermediary_writes_notes_and_only_to_one_side(game):
    with pytest.raises(Refused, match="only the intermediary of 'Oman line'") as refused:
        game.do("us", "write_relay_note", channel="oman-line", to="iran", text="Psst")
    assert refused.value.code == "forbidden"
    with pytest.raises(Refused, match="only the intermediary"):
        game.do("control", "write_relay_note", channel="oman-line", to="us", text="Control is not Oman")
    with pytest.raises(Refused, match=r"'to' is a side of 'Oman line' \(us, iran\), not 'oman'"):
        game.do("oman", "write_relay_note", channel="oman-line", to="oman", text="To myself")
    with pytest.raises(Refused, match="'Radio' has no intermediary"):
        game.do("oman", "write_relay_note", channel="radio", to="us", text="x")
    with pytest.raises(Refused, match="unknown channel 'nowhere'"):
        game.do("oman", "write_relay_note", channel="nowhere", to="us", text="x")
    elsewhere = send(game, "slow-line")
    with pytest.raises(Refused, match=f"no message {elsewhere} on 'Oman line'") as refused:
        game.do("oman", "write_relay_note", channel="oman-line", to="us", text="x", message=elsewhere)
    assert refused.value.code == "unknown_message"
    # Control speaks for a channel it relays itself.
    game.do("control", "write_relay_note", channel="swiss", to="iran", text="The Swiss confirm receipt.")
    assert payloads(game, "iran", "relay_note")[0]["by"] == "White Cell"
    assert "relay_note" not in game.types_seen_by("us") and "relay_note" not in game.types_seen_by("oman")


# ------------------------------------------------------------------ handling instructions
def test_handling_instructions_reach_the_intermediary_and_never_the_receiver(game):
    seq = send(game, "oman-line", instructions=INSTRUCTIONS)
    for who in ("us", "oman", "control"):
        [sent] = payloads(game, who, "message_sent")
        assert sent["instructions"] == INSTRUCTIONS, who
    game.do("oman", "relay", message=seq, action="forward")
    [delivered] = payloads(game, "iran", "message_delivered")
    assert delivered["text"] == ORIGINAL and "instructions" not in delivered
    assert INSTRUCTIONS not in everything(game, "iran")
    assert "instructions" not in game.store.events_after(game.session, seq)[-1].payload_json
    # Without instructions the field is absent, as before.
    send(game, "oman-line", text="No strings")
    assert "instructions" not in payloads(game, "oman", "message_sent")[-1]


def test_instructions_and_read_backs_need_a_relay_channel(game):
    for channel, name in (("radio", "'Radio'"), ("team", "team chat"), ("public", "'Public statements'")):
        with pytest.raises(Refused, match=f"need an intermediary, and {name} is not a relay channel"):
            send(game, channel, instructions="Only if")
        with pytest.raises(Refused, match="is not a relay channel"):
            send(game, channel, readback=True)
    with pytest.raises(Refused, match="unknown channel"):
        send(game, "nowhere", instructions="x")


# ------------------------------------------------------------------ read-backs
def test_the_sender_asks_for_a_read_back_and_learns_it_was_read_back_without_the_text(game):
    seq = send(game, "oman-line", readback=True)
    assert payloads(game, "oman", "message_sent")[0]["readback"] is True
    with pytest.raises(Refused, match=f"no message {seq} was delivered to you"):
        game.do("iran", "read_back", message=seq, text="Too early")  # still with Oman
    game.do("oman", "relay", message=seq, action="edit", text=EDITED)
    [delivered] = payloads(game, "iran", "message_delivered")
    assert delivered["readback"] is True and delivered["text"] == EDITED
    game.do("iran", "read_back", message=seq, text="Washington asks for calm: understood.")
    [mine] = payloads(game, "iran", "message_read_back")
    assert mine["text"] == "Washington asks for calm: understood." and mine["team"] == "iran"
    [oman] = payloads(game, "oman", "message_read_back")
    assert oman["text"] == mine["text"] and oman["name"] == "Reza"
    [us] = payloads(game, "us", "message_read_back")
    assert us == {"message": seq, "channel": "oman-line", "relay": "oman", "team": "iran", "sender": "us"}
    assert "understood" not in everything(game, "us") and EDITED not in everything(game, "us")
    assert game.state.messages[seq].read_back == ["iran"]
    with pytest.raises(Refused, match="already read back") as refused:
        game.do("iran", "read_back", message=seq, text="Again")
    assert refused.value.code == "already_read_back"
    with pytest.raises(Refused, match="was delivered to you"):
        game.do("us", "read_back", message=seq, text="The sender cannot")


def test_the_intermediary_asks_for_a_read_back_when_forwarding(game):
    seq = send(game, "oman-line")
    with pytest.raises(Refused, match="a read-back is asked for when forwarding, not with 'hold'"):
        game.do("oman", "relay", message=seq, action="hold", readback=True)
    game.do("oman", "relay", message=seq, action="forward", readback=True)
    assert payloads(game, "oman", "message_relayed")[0]["readback"] is True
    assert "readback" not in payloads(game, "us", "message_relayed")[0]  # the sender is told it went on
    assert payloads(game, "iran", "message_delivered")[0]["readback"] is True
    game.do("iran", "read_back", message=seq, text="Read back")
    assert payloads(game, "us", "message_read_back")[0]["team"] == "iran"


def test_no_read_back_without_a_request(game):
    seq = send(game, "oman-line")
    game.do("oman", "relay", message=seq, action="forward")
    assert "readback" not in payloads(game, "iran", "message_delivered")[0]
    with pytest.raises(Refused, match=f"nobody asked for a read-back of message {seq}") as refused:
        game.do("iran", "read_back", message=seq, text="Unasked")
    assert refused.value.code == "not_asked"
    direct = send(game, "radio")
    game.advance(60)
    with pytest.raises(Refused, match="was delivered to you"):
        game.do("iran", "read_back", message=direct, text="Not a relayed message")


# ------------------------------------------------------------------ disclosure per channel
def test_the_defaults_keep_the_air_gap(game):
    """oman-line: receiver_sees via; sender_learns forwarded, held, declined, delivered."""
    seq = send(game, "oman-line")
    game.do("oman", "relay", message=seq, action="edit", text=EDITED)
    [relayed] = payloads(game, "us", "message_relayed")
    assert relayed["action"] == "forward"  # an edit is told as a plain forward
    assert "edited" not in relayed and "text" not in relayed
    assert EDITED not in everything(game, "us")
    [receipt] = payloads(game, "us", "message_delivered")
    assert receipt == {"message": seq, "channel": "oman-line", "from_team": "us"}
    [delivered] = payloads(game, "iran", "message_delivered")
    assert delivered == {"message": seq, "channel": "oman-line", "text": EDITED}  # "via Oman": no origin
    assert "Alice" not in everything(game, "iran") and "j3" not in everything(game, "iran")
    # The intermediary and control see it all.
    [full] = payloads(game, "oman", "message_relayed")
    assert full["edited"] is True and full["text"] == EDITED and full["action"] == "edit"
    assert payloads(game, "oman", "message_delivered")[0]["name"] == "Alice"
    assert payloads(game, "control", "message_delivered")[0]["from_position"] == "j3"
    # Held and declined are told.
    second = send(game, "oman-line", text="Second")
    game.do("oman", "relay", message=second, action="hold")
    game.do("oman", "relay", message=second, action="decline")
    assert [p["action"] for p in payloads(game, "us", "message_relayed")] == ["forward", "hold", "decline"]


def test_an_edit_that_changes_nothing_is_a_forward_to_the_sender(game):
    seq = send(game, "oman-line")
    game.do("oman", "relay", message=seq, action="edit", text=ORIGINAL)
    [relayed] = payloads(game, "us", "message_relayed")
    assert relayed["action"] == "forward" and "edited" not in relayed


def test_forwarded_with_changes_and_delivered_on_a_delayed_channel(game):
    """slow-line: 2m delay, receiver_sees team, sender_learns everything."""
    seq = send(game, "slow-line")
    game.do("oman", "relay", message=seq, action="edit", text=EDITED)
    [relayed] = payloads(game, "us", "message_relayed")
    assert relayed["action"] == "edit" and relayed["edited"] is True and relayed["text"] == EDITED
    game.advance(119)
    assert "message_delivered" not in game.types_seen_by("us")
    assert "message_delivered" not in game.types_seen_by("iran")
    game.advance(1)
    [receipt] = payloads(game, "us", "message_delivered")
    assert receipt == {"message": seq, "channel": "slow-line", "from_team": "us"}
    assert of_type(game, "us", "message_delivered")[0]["t"] == pytest.approx(120)
    [delivered] = payloads(game, "iran", "message_delivered")
    assert delivered == {"message": seq, "channel": "slow-line", "from_team": "us", "text": EDITED}
    assert payloads(game, "oman", "message_delivered")[0]["text"] == EDITED


def test_a_sender_told_nothing_and_a_receiver_told_the_position(game):
    """quiet-line: sender_learns [], receiver_sees position."""
    seq = send(game, "quiet-line", readback=True)
    game.do("oman", "relay", message=seq, action="edit", text=EDITED)
    [delivered] = payloads(game, "iran", "message_delivered")
    assert delivered["from_team"] == "us" and delivered["from_position"] == "j3"
    assert delivered["from_title"] == "CENTCOM J3" and "name" not in delivered and "participant" not in delivered
    game.do("iran", "read_back", message=seq, text="Read")
    other = send(game, "quiet-line", text="Other")
    game.do("oman", "relay", message=other, action="hold")
    game.do("oman", "relay", message=other, action="decline")
    seen = game.types_seen_by("us")
    assert seen.count("message_sent") == 2
    assert not {"message_relayed", "message_delivered", "message_read_back"} & set(seen)
    assert len(payloads(game, "oman", "message_relayed")) == 3  # the intermediary sees its own work


def test_control_relays_and_the_sender_learns_only_what_is_listed(game):
    """swiss: relayed by control, sender_learns [held]; nothing goes to a relay team."""
    seq = send(game, "swiss")
    assert "message_sent" not in game.types_seen_by("oman")
    game.do("control", "relay", message=seq, action="hold")
    game.do("control", "relay", message=seq, action="forward")
    assert [p["action"] for p in payloads(game, "us", "message_relayed")] == ["hold"]
    assert "message_delivered" not in game.types_seen_by("us")
    assert payloads(game, "iran", "message_delivered") == [{"message": seq, "channel": "swiss", "text": ORIGINAL}]
    assert not any(e.type.startswith("message") for e in game.store.events_after(game.session) if "oman" in e.audience)


def test_observers_see_the_intermediarys_work_in_full(game):
    seq = send(game, "oman-line", instructions=INSTRUCTIONS)
    game.do("oman", "relay", message=seq, action="edit", text=EDITED)
    relayed = payloads(game, "observer", "message_relayed")[0]
    assert relayed["edited"] is True and relayed["text"] == EDITED
    assert payloads(game, "observer", "message_sent")[0]["instructions"] == INSTRUCTIONS
    assert payloads(game, "observer", "message_delivered")[0]["from_team"] == "us"


def test_a_delayed_direct_channel_tells_the_sender_as_before(game):
    seq = send(game, "radio")
    game.advance(60)
    assert payloads(game, "us", "message_delivered")[0]["message"] == seq
    assert payloads(game, "iran", "message_delivered")[0]["name"] == "Alice"  # no relay: nothing is hidden


def test_a_format_1_script_takes_the_defaults(new_game):
    """minimal.yaml (format 1): its Oman line keeps the air gap of the defaults."""
    game = new_game()
    game.do("control", "clock", action="start")
    seq = game.do("us", "send_message", channel="oman-line", text=ORIGINAL).seq
    game.do("oman", "relay", message=seq, action="edit", text=EDITED)
    relayed = payloads(game, "us", "message_relayed")[0]
    assert relayed["action"] == "forward" and "edited" not in relayed and "text" not in relayed
    assert payloads(game, "iran", "message_delivered")[0] == {"message": seq, "channel": "oman-line", "text": EDITED}
    assert payloads(game, "us", "message_delivered")[0]["message"] == seq


def test_the_new_payloads_round_trip_and_old_ones_keep_their_json(game):
    """relay_note and message_read_back map back to the same JSON; the new optional fields stay
    absent where they do not apply, so a message without instructions is written as before."""
    seq = send(game, "oman-line", readback=True, instructions=INSTRUCTIONS)
    plain = send(game, "oman-line", text="Plain")
    game.do("oman", "relay", message=seq, action="forward")
    game.do("oman", "relay", message=plain, action="forward")
    game.do("oman", "write_relay_note", channel="oman-line", to="us", text="Passed.", message=seq)
    game.do("iran", "read_back", message=seq, text="Understood")
    stored = game.store.events_after(game.session)
    for event in stored:
        again = from_json(event.type, event.payload_json)
        assert json.dumps(again.to_json()) == json.dumps(event.payload_json)
    kinds = {e.type for e in stored}
    assert {"relay_note", "message_read_back"} <= kinds
    plain_json = next(e.payload_json for e in stored if e.seq == plain)
    assert "instructions" not in plain_json and "readback" not in plain_json
    delivered = [e.payload_json for e in stored if e.type == "message_delivered"]
    assert [d.get("readback") for d in delivered] == [True, None]


def test_on_a_channel_with_a_read_list_only_its_readers_hear_the_intermediary(game):
    """narrow-line: `read: [j3, irgcn, omani-liaison]`: the U.S. liaison (us2) does not read it."""
    seq = send(game, "narrow-line", readback=True, instructions=INSTRUCTIONS)
    game.do("oman", "write_relay_note", channel="narrow-line", to="us", text="Noted.", message=seq)
    game.do("oman", "relay", message=seq, action="forward")
    game.do("iran", "read_back", message=seq, text="Read")
    assert {"relay_note", "message_read_back", "message_delivered"} <= set(game.types_seen_by("us"))
    assert not {"relay_note", "message_read_back", "message_delivered", "message_sent"} & set(game.types_seen_by("us2"))
    assert INSTRUCTIONS not in everything(game, "us2")
    with pytest.raises(Refused, match="was delivered to you"):
        game.do("us2", "read_back", message=seq, text="Not a reader")


def test_no_note_on_a_jammed_or_closed_line(game):
    game.do("control", "channel", channel="oman-line", action="jam", **{"for": 300})
    with pytest.raises(Refused, match="'Oman line' is jammed until") as refused:
        game.do("oman", "write_relay_note", channel="oman-line", to="us", text="Jammed")
    assert refused.value.code == "jammed"
    game.do("control", "channel", channel="oman-line", action="clear")
    game.do("control", "channel", channel="oman-line", action="close")
    with pytest.raises(Refused, match="'Oman line' is closed") as refused:
        game.do("oman", "write_relay_note", channel="oman-line", to="us", text="Closed")
    assert refused.value.code == "closed"
    game.do("control", "channel", channel="oman-line", action="open")
    game.do("oman", "write_relay_note", channel="oman-line", to="us", text="Open again")
    assert [n["text"] for n in payloads(game, "us", "relay_note")] == ["Open again"]
