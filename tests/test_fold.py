"""The fold's dispatch map is checked against the event types, and the one relay rule."""

from __future__ import annotations

import pytest

from tabletop.engine import events as ev
from tabletop.engine.state import FOLDS, SessionState, check_folds, relay_outcome, relay_status


def test_every_event_type_has_exactly_one_fold_handler() -> None:
    assert set(FOLDS) == set(ev.EVENT_TYPES.values())
    check_folds(FOLDS, ev.EVENT_TYPES.values())


def test_a_type_without_a_handler_fails_the_check() -> None:
    folds = {cls: f for cls, f in FOLDS.items() if cls is not ev.ChannelCleared}
    with pytest.raises(TypeError, match="no fold handler for ChannelCleared"):
        check_folds(folds, ev.EVENT_TYPES.values())


def test_a_handler_for_no_registered_type_fails_the_check() -> None:
    class Unregistered(ev.Payload):
        TYPE = "unregistered"

    folds = {**FOLDS, Unregistered: SessionState._nothing}
    with pytest.raises(TypeError, match="fold handlers for unregistered types Unregistered"):
        check_folds(folds, ev.EVENT_TYPES.values())


def test_a_handler_left_out_of_the_map_fails_the_check() -> None:
    folds = {**FOLDS, ev.ChannelCleared: SessionState._nothing}
    with pytest.raises(TypeError, match="_on_channel_cleared fold no event type"):
        check_folds(folds, ev.EVENT_TYPES.values())


def _relayed(action: str, **more) -> ev.MessageRelayed:
    base = {"message": 3, "channel": "c", "relay": "oman", "from_team": "us", "by": "x", "waited": 1}
    return ev.MessageRelayed(**base, action=action, **more)


def test_the_relay_rule() -> None:
    assert relay_status(_relayed("forward", text="a", edited=False, delay=0)) == "forwarded"
    assert relay_status(_relayed("edit", text="b", edited=True, delay=0)) == "edited"
    assert relay_status(_relayed("edit", text="a", edited=False, delay=0)) == "forwarded"  # nothing changed
    assert relay_status(_relayed("hold")) == "held"
    assert relay_status(_relayed("decline")) == "declined"
    assert relay_outcome([]) is None
    assert relay_outcome([_relayed("hold")]) == "held"
    assert relay_outcome([_relayed("hold"), _relayed("edit", text="b", edited=True, delay=0)]) == "edited"
    assert relay_outcome([_relayed("hold"), _relayed("hold"), _relayed("decline")]) == "declined"
