"""Channels and moves during play, under the test clock (tests/data/channels-moves.yaml, format 2).

Who may write and read each channel (its `write` and `read` lists, enforced in what the engine
accepts and in what each seat is sent), channels opened, closed and jammed by injects and by
control, moves with their own scenario dates, and a move boundary that stops the clock until the
facilitator starts the next move.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sa_event

from tabletop.engine import Actor, ManualTime, Refused, redact
from tabletop.engine import events as ev
from tabletop.engine.views import channels_for, clock_view, summary
from tabletop.live import Live
from tabletop.script import load_exercise
from tabletop.script.models import snapshot
from tabletop.store import Store
from tabletop.web import runtime as runtime_module
from tabletop.web.runtime import Runtime

from .engine_helpers import DATA, Game

SCRIPT = DATA / "channels-moves.yaml"
SEATS = {
    "us-colonel": ("us", "Cora"),
    "us-general": ("us", "Gus"),
    "us-ship": ("us", "Sam"),
    "us-state": ("us", "Stacy"),
    "ir-colonel": ("iran", "Ramin"),
    "ir-general": ("iran", "Gholam"),
    "ir-boat": ("iran", "Bahram"),
    "om-colonel": ("oman", "Omar"),
    "om-general": ("oman", "Ghalib"),
}


def make(tmp_path: Path) -> Game:
    store = Store(f"sqlite:///{tmp_path / 'game.db'}")
    store.migrate()
    exercise = load_exercise(SCRIPT, library=DATA / "lib")
    session = store.create_session(
        exercise.id, exercise.title, snapshot(exercise), [t.id for t in exercise.teams], None
    )
    time = ManualTime()
    published: list[ev.Event] = []
    live = Live(store, time, lambda sid, e, state: published.append(e))
    actors = {"control": Actor("control", None, "White Cell")}
    for position, (team, name) in SEATS.items():
        pid = store.add_participant(session, "player", name, team, position, [])
        actors[position] = Actor("player", pid, name, team, position)
    oid = store.add_participant(session, "observer", "Eve", None, None, ["us", "iran"])
    actors["observer"] = Actor("observer", oid, "Eve", teams=frozenset({"us", "iran"}))
    return Game(store, live, time, session, actors, published)


@pytest.fixture
def game(tmp_path: Path) -> Game:
    g = make(tmp_path)
    g.do("control", "clock", action="start")
    return g


def refused(game: Game, who: str, command: str, **data: Any) -> Refused:
    with pytest.raises(Refused) as caught:
        game.do(who, command, **data)
    return caught.value


def texts_seen_by(game: Game, who: str) -> list[str]:
    return [v["payload"].get("text") for v in game.seen_by(who) if "text" in v["payload"]]


def channel_ids(game: Game, who: str) -> list[str]:
    actor = game.actors[who]
    authority = game.state.exercise.position(actor.position)[1].authority if actor.position else 0
    return [c["id"] for c in channels_for(game.state, actor.viewer, authority)]


def now(game: Game) -> dict[str, Any]:
    return clock_view(game.state, game.time.now())


# ------------------------------------------------------------ who may write
def test_a_position_outside_the_write_list_is_refused_naming_the_channel_and_its_writers(game: Game) -> None:
    no = refused(game, "us-ship", "send_message", channel="oman-line", text="Patch me through")
    assert no.code == "forbidden"
    assert "'Oman line'" in no.message
    assert "Line officer (Colonel) (United States) and General Staff liaison (Colonel) (Iran)" in no.message
    no = refused(game, "us-general", "send_message", channel="bridge", text="This is the general")
    assert "'Bridge-to-bridge (VHF 16)'" in no.message and "Tactical action officer (United States)" in no.message
    assert game.do("us-ship", "send_message", channel="bridge", text="Alter course").events[0].type == ev.MESSAGE
    assert game.do("us-colonel", "send_message", channel="oman-line", text="Calm").events[0].type == ev.MESSAGE_SENT


def test_readers_who_may_not_write_are_told_why_in_their_channel_list(game: Game) -> None:
    actor = game.actors["us-general"]
    listed = {c["id"]: c for c in channels_for(game.state, actor.viewer, 3)}
    assert listed["oman-line"]["write"] is False and listed["oman-line"]["reason"] == "your position reads only"
    assert listed["bridge"]["reason"] == "your position reads only"
    assert listed["generals"]["write"] is True
    assert listed["flag-line"] == {
        **listed["flag-line"],
        "write": False,
        "reason": "the channel is closed",
        "open": False,
    }


# ------------------------------------------------------------- who may read
def test_a_position_outside_the_read_list_never_sees_the_channel_or_its_messages(game: Game) -> None:
    game.do("us-colonel", "send_message", channel="oman-line", text="Washington seeks calm")
    queued = game.store.events_after(game.session)[-1]
    game.do("om-colonel", "relay", message=queued.seq, action="forward")
    game.do("us-general", "send_message", channel="generals", text="General to general")
    for who in ("us-general", "om-general", "om-colonel", "observer"):
        assert "Washington seeks calm" in texts_seen_by(game, who), who
    assert "Washington seeks calm" in texts_seen_by(game, "ir-general")  # delivered to Iran's readers
    for who in ("us-ship", "us-state", "ir-boat"):
        seen = texts_seen_by(game, who)
        assert "Washington seeks calm" not in seen and "General to general" not in seen, who
        assert not any(v["payload"].get("channel") in ("oman-line", "generals") for v in game.seen_by(who)), who
    assert "General to general" in texts_seen_by(game, "ir-general")
    assert "General to general" not in texts_seen_by(game, "ir-colonel")
    assert "General to general" in texts_seen_by(game, "observer")  # observers see every channel
    assert channel_ids(game, "us-ship") == ["team", "bridge", "public"]
    assert channel_ids(game, "us-colonel") == ["team", "oman-line", "bridge", "public"]
    assert channel_ids(game, "us-general") == ["team", "oman-line", "flag-line", "bridge", "public", "generals"]
    assert channel_ids(game, "om-colonel") == ["team", "oman-line", "public"]


def test_audiences_name_seats_only_where_a_list_leaves_positions_out(game: Game) -> None:
    state = game.state
    assert state.channel_audience("bridge") == ("us", "iran")  # write list only: the teams read it
    assert state.channel_audience("public") == (ev.ALL,)
    assert state.channel_audience("generals") == ("us/us-general", "iran/ir-general")
    assert state.readers("oman-line", ("us", "oman")) == ("us/us-colonel", "us/us-general", "oman")
    sent = game.do("us-colonel", "send_message", channel="oman-line", text="x").events[0]
    assert sent.audience == ("us/us-colonel", "us/us-general", "oman")


def test_a_relay_position_outside_the_read_list_cannot_relay(game: Game) -> None:
    game.do("control", "channel", channel="flag-line", action="open")
    sent = game.do("us-general", "send_message", channel="flag-line", text="Flag to flag").events[0]
    no = refused(game, "om-colonel", "relay", message=sent.seq, action="forward")
    assert no.code == "unknown_message"  # not even whether it exists
    assert "Flag to flag" not in texts_seen_by(game, "om-colonel")
    assert game.do("om-general", "relay", message=sent.seq, action="forward").events


def test_a_read_back_comes_from_a_reader_of_the_channel(game: Game) -> None:
    sent = game.do("us-colonel", "send_message", channel="oman-line", text="Read this back", readback=True).events[0]
    game.do("om-colonel", "relay", message=sent.seq, action="forward")
    assert refused(game, "ir-boat", "read_back", message=sent.seq, text="Read").code == "unknown_message"
    read = game.do("ir-general", "read_back", message=sent.seq, text="Read this back").events[0]
    assert read.type == ev.MESSAGE_READ_BACK
    assert "Read this back" not in texts_seen_by(game, "ir-boat")


def test_spoofed_messages_reach_only_the_readers(game: Game) -> None:
    game.do("control", "spoof", channel="generals", as_team="iran", as_position="ir-general", text="Stand down")
    assert "Stand down" in texts_seen_by(game, "us-general")
    assert "Stand down" not in texts_seen_by(game, "us-colonel")


# ---------------------------------------------------- channels opened and closed
def test_a_closed_channel_refuses_until_an_inject_opens_it(game: Game) -> None:
    no = refused(game, "us-general", "send_message", channel="flag-line", text="Open up")
    assert no.code == "closed" and "'Flag-level line' is closed" in no.message
    game.advance(600)  # +00:10: flag-opens
    opened = [e for e in game.published if e.type == ev.CHANNEL_OPENED]
    assert [(e.payload.channel, e.payload.inject) for e in opened] == [("flag-line", "flag-opens")]
    assert opened[0].audience == ("us/us-general", "iran/ir-general", "oman/om-general")
    assert game.state.is_open("flag-line")
    assert game.do("us-general", "send_message", channel="flag-line", text="Open up").events[0].type == ev.MESSAGE_SENT
    assert ev.CHANNEL_OPENED in game.types_seen_by("ir-general")
    assert ev.CHANNEL_OPENED not in game.types_seen_by("ir-colonel")  # not a reader of the flag line
    released = [e for e in game.published if e.type == ev.INJECT_RELEASED and e.payload.inject == "flag-opens"]
    assert released[0].payload.effects[0].channel.model_dump() == {"id": "flag-line", "action": "open"}
    assert (
        "effects"
        not in next(
            v
            for v in game.seen_by("us-general")
            if v["type"] == ev.INJECT_RELEASED and v["payload"]["inject"] == "flag-opens"
        )["payload"]
    )


def test_an_inject_closes_a_channel_and_control_opens_closes_jams_and_clears_it(game: Game) -> None:
    game.advance(1200)  # +00:20: bridge-closes
    closed = [e for e in game.published if e.type == ev.CHANNEL_CLOSED]
    assert [(e.payload.channel, e.payload.inject) for e in closed] == [("bridge", "bridge-closes")]
    assert refused(game, "us-ship", "send_message", channel="bridge", text="Hello?").code == "closed"
    assert refused(game, "control", "channel", channel="bridge", action="close").code == "bad_state"
    opened = game.do("control", "channel", channel="bridge", action="open").events[0]
    assert opened.type == ev.CHANNEL_OPENED and opened.payload.by == "White Cell" and not opened.payload.has("inject")
    assert game.do("us-ship", "send_message", channel="bridge", text="Hello?").events[0].type == ev.MESSAGE
    jammed = game.do("control", "channel", channel="bridge", action="jam", **{"for": "5m"}).events[0]
    assert (jammed.type, jammed.payload.for_, jammed.payload.by) == (ev.CHANNEL_JAMMED, 300, "White Cell")
    assert game.do("us-ship", "send_message", channel="bridge", text="Jammed?").events[0].type == ev.MESSAGE_JAMMED
    cleared = game.do("control", "channel", channel="bridge", action="clear").events[0]
    assert cleared.type == ev.CHANNEL_CLEARED and cleared.payload.by == "White Cell"
    assert refused(game, "control", "channel", channel="bridge", action="clear").code == "bad_state"
    game.do("control", "channel", channel="bridge", action="close")
    assert not game.state.is_open("bridge")
    listed = {c["id"]: c for c in channels_for(game.state, game.actors["us-ship"].viewer, 1)}
    assert listed["bridge"]["open"] is False and listed["bridge"]["reason"] == "the channel is closed"
    assert refused(game, "control", "channel", channel="team", action="close").code == "bad_payload"
    assert refused(game, "control", "channel", channel="radio", action="open").code == "unknown_channel"
    assert refused(game, "control", "channel", channel="bridge", action="jam").code == "bad_payload"
    assert refused(game, "us-general", "channel", channel="bridge", action="open").code == "forbidden"
    assert refused(game, "control", "spoof", channel="bridge", as_team="iran", text="x").code == "closed"


def test_opening_an_open_channel_by_an_effect_does_nothing(tmp_path: Path) -> None:
    game = make(tmp_path)
    game.do("control", "clock", action="start")
    game.do("control", "channel", channel="flag-line", action="open")
    game.advance(600)  # flag-opens: the line is open already
    assert [e.payload.by for e in game.published if e.type == ev.CHANNEL_OPENED] == ["White Cell"]


def test_a_fresh_fold_agrees_on_which_channels_are_closed(game: Game) -> None:
    game.advance(1200)  # the flag line opened, the bridge closed
    game.do("control", "channel", channel="flag-line", action="close")
    fresh = Live(game.store, game.time).state(game.session)
    assert fresh.closed == {"bridge", "flag-line"} == game.state.closed


# ------------------------------------------------------------------- moves
def test_moves_carry_their_own_scenario_date(game: Game) -> None:
    view = now(game)
    assert view["move"]["id"] == "m1" and view["move"]["title"] == "Move 1: the shootdown"
    assert view["scenario_time"] == "2019-06-20T04:05:00+04:00"
    assert [m["id"] for m in view["moves"]] == ["m1", "m2", "m3"]
    assert view["moves"][1]["scenario_anchor"] == "2019-07-18T10:00:00+04:00"
    assert view["move_index"] == 0 and view["waiting"] is None
    started = [e for e in game.published if e.type == ev.MOVE_STARTED]
    assert [(e.payload.move, e.payload.by, e.t) for e in started] == [("m1", "White Cell", 0.0)]
    game.advance(600)
    assert now(game)["scenario_time"] == "2019-06-20T04:15:00+04:00"


def test_a_move_boundary_stops_the_clock_before_what_is_due_then_and_control_starts_the_next_move(game: Game) -> None:
    game.advance(1799)
    assert "boxer" not in game.released()
    game.advance(1)  # +00:30: the clock reaches Move 2
    ended = [e for e in game.published if e.type == ev.MOVE_ENDED]
    assert [(e.payload.move, e.payload.next, e.payload.at, e.t) for e in ended] == [("m1", "m2", 1800, 1800.0)]
    assert "boxer" not in game.released()  # due at the boundary: released when the move starts
    state = game.state
    assert state.clock.status == "paused" and state.waiting == "m2"
    game.advance(300)  # the plenary: the clock does not move
    view = now(game)
    assert view["elapsed"] == 1800 and view["status"] == "paused"
    assert view["move"]["id"] == "m1" and view["waiting"]["id"] == "m2"
    assert view["scenario_time"] == "2019-06-20T04:35:00+04:00"  # Move 1's clock, where it stopped
    no = refused(game, "control", "clock", action="resume")
    assert no.code == "bad_state" and "start the move" in no.message and "Move 2: USS Boxer" in no.message
    assert refused(game, "control", "start_move", move="m3").code == "bad_state"
    assert refused(game, "control", "start_move", move="m1").code == "bad_state"
    assert refused(game, "control", "start_move", move="m9").code == "bad_payload"
    assert refused(game, "us-general", "start_move", move="m2").code == "forbidden"
    begun = game.do("control", "start_move", move="m2").events[0]
    assert (begun.type, begun.payload.move, begun.payload.by, begun.t) == (ev.MOVE_STARTED, "m2", "White Cell", 1800.0)
    assert "boxer" in game.released()
    view = now(game)
    assert view["status"] == "running" and view["move"]["id"] == "m2" and view["waiting"] is None
    assert view["scenario_time"] == "2019-07-18T10:00:00+04:00"
    assert refused(game, "control", "start_move", move="m2").code == "bad_state"
    game.advance(1800)  # +01:00: Move 3 starts by itself, its clock runs on from Move 2's at 6x
    started = [e.payload.move for e in game.published if e.type == ev.MOVE_STARTED]
    assert started == ["m1", "m2", "m3"]
    assert "morning" in game.released()
    assert now(game)["scenario_time"] == "2019-07-18T10:30:00+04:00"
    game.advance(600)
    assert now(game)["scenario_time"] == "2019-07-18T11:30:00+04:00"
    assert game.state.clock.status == "running"


def test_a_late_pass_releases_what_was_due_before_the_boundary_then_stops(game: Game) -> None:
    game.advance(2400)  # one pass, ten minutes past the boundary (a restart, a slow worker)
    assert game.released() == ["opening", "flag-opens", "bridge-closes"]
    state = game.state
    assert state.clock.status == "paused" and state.clock.base == 1800 and state.waiting == "m2"
    types = [e.type for e in game.published]
    assert types.index(ev.MOVE_ENDED) > types.index(ev.CHANNEL_CLOSED)
    game.do("control", "start_move", move="m2")
    assert game.released()[-1] == "boxer"


def test_pausing_in_a_move_and_the_players_summary(game: Game) -> None:
    game.advance(60)
    game.do("control", "clock", action="pause")
    assert refused(game, "control", "start_move", move="m2").code == "bad_state"
    game.do("control", "clock", action="resume")
    player = summary(game.state, game.actors["us-ship"].viewer, game.time.now(), 1)
    assert player["clock"]["move"]["title"] == "Move 1: the shootdown"
    assert [m["title"] for m in player["clock"]["moves"]][1] == "Move 2: USS Boxer"


def test_moves_fold_the_same_after_a_restart(game: Game) -> None:
    game.advance(1800)
    fresh = Live(game.store, game.time).state(game.session)
    assert (fresh.waiting, fresh.move, fresh.clock.base, fresh.clock.running) == ("m2", 0, 1800, False)
    game.do("control", "start_move", move="m2")
    fresh = Live(game.store, game.time).state(game.session)
    assert (fresh.waiting, fresh.move, fresh.clock.running) == (None, 1, True)


# ------------------------------------------------------------------ publishing
def test_publishing_sends_seat_events_to_seat_rooms_only_and_costs_no_query(tmp_path: Path, monkeypatch) -> None:
    game = make(tmp_path)
    joined = ev.ParticipantJoined(
        participant=game.actors["observer"].participant or 0, kind="observer", name="Eve", teams=("us", "iran")
    )
    game.live.record(game.session, ev.NewEvent.of(joined, (), actor=game.actors["observer"].participant))
    rt = Runtime(game.store, game.live)
    emitted: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(runtime_module.socketio, "emit", lambda name, body, to, **_: emitted.append((to, body)))
    statements: list[str] = []
    publishing = False

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if publishing:
            statements.append(statement)

    def publish(session_id: str, event: ev.Event, state: Any) -> None:
        nonlocal publishing
        publishing = True
        try:
            rt.publish(session_id, event, state)
        finally:
            publishing = False

    for engine in {game.store.engine, game.store.reader}:
        sa_event.listen(engine, "before_cursor_execute", count)
    try:
        game.live.publish = publish
        game.live.shared = True
        game.do("control", "clock", action="start")
        emitted.clear()
        game.do("us-general", "send_message", channel="generals", text="General to general")
        game.do("us-ship", "send_message", channel="bridge", text="Alter course")
    finally:
        for engine in {game.store.engine, game.store.reader}:
            sa_event.remove(engine, "before_cursor_execute", count)
    assert statements == []
    s = game.session
    generals = [to for to, body in emitted if body["payload"].get("text") == "General to general"]
    assert [to if isinstance(to, str) else tuple(to) for to in generals] == [
        f"{s}:control",
        f"{s}:seat:us/us-general",
        f"{s}:seat:iran/ir-general",
        (f"{s}:observe:us", f"{s}:observe:iran"),
    ]
    bridge = [to for to, body in emitted if body["payload"].get("text") == "Alter course"]
    assert f"{s}:team:us" in bridge and f"{s}:team:iran" in bridge and not any("seat" in str(to) for to in bridge)
    for to, body in emitted:
        if "seat" in str(to):
            assert "audience" not in body


def test_redaction_for_a_seat_is_the_players_redaction(game: Game) -> None:
    sent = game.do("us-general", "send_message", channel="generals", text="General to general").events[0]
    exercise = game.state.exercise
    seen = redact(sent, game.actors["ir-general"].viewer, exercise)
    assert seen is not None and "participant" not in seen["payload"] and "audience" not in seen
    assert redact(sent, game.actors["ir-colonel"].viewer, exercise) is None


# ------------------------------------------------------------------ the report
def test_the_report_dates_each_move_by_its_own_clock_and_records_channels_and_moves(game: Game) -> None:
    from tabletop.report.data import build_report

    for _ in range(3):  # flag line opened (+00:10), bridge closed (+00:20), the clock stops at Move 2
        game.advance(600)
    game.do("control", "channel", channel="bridge", action="open")
    game.do("control", "start_move", move="m2")
    game.advance(600)
    game.do("control", "clock", action="end")
    report = build_report(game.state.exercise, game.store.events_after(game.session))
    assert report.scenario_span == (
        "Move 1: the shootdown: 20 Jun 2019 04:05 to 20 Jun 2019 04:35 (time scale 1x); "
        "Move 2: USS Boxer: 18 Jul 2019 10:00 to 18 Jul 2019 10:10 (time scale 1x)"
    )
    assert report.scenario_start == "20 Jun 2019 04:05"
    items = {(item.title, item.scenario, item.detail) for item in report.timeline}
    assert ("USS Boxer enters the Strait", "18 Jul 2019 10:00", "other") in items
    assert ("The drone is down", "20 Jun 2019 04:05", "other") in items
    assert ("Move 1: the shootdown begins", "20 Jun 2019 04:05", "White Cell") in items
    assert ("Clock stopped for a plenary before Move 2: USS Boxer", "20 Jun 2019 04:35", "") in items
    assert ("Move 2: USS Boxer begins", "18 Jul 2019 10:00", "White Cell") in items
    assert ("Flag-level line opened", "20 Jun 2019 04:15", "by inject flag-opens") in items
    assert ("Bridge-to-bridge (VHF 16) closed", "20 Jun 2019 04:25", "by inject bridge-closes") in items
    kinds = {item.title: item.kind for item in report.timeline}
    assert kinds["Flag-level line opened"] == "channel" and kinds["Move 2: USS Boxer begins"] == "clock"


# ------------------------------------------------------------------ the MSEL pages
def test_the_msel_dates_each_row_by_its_moves_clock_and_names_its_move() -> None:
    from tabletop.web.pagedata import msel_rows, script_view

    exercise = load_exercise(SCRIPT, library=DATA / "lib")
    rows = {r["inject"]: r for r in msel_rows(exercise)}
    assert (rows["opening"]["scenario"], rows["opening"]["move"]) == ("20 Jun 2019 04:05", "m1")
    assert (rows["boxer"]["scenario"], rows["boxer"]["move"]) == ("18 Jul 2019 10:00", "m2")
    assert (rows["morning"]["scenario"], rows["morning"]["move_title"]) == (
        "18 Jul 2019 10:30",
        "Move 3: the morning after",
    )
    assert rows["flag-opens"]["effects"] == ["open flag-line"]
    assert rows["bridge-closes"]["effects"] == ["close bridge"]
    moves = script_view(exercise)["moves"]
    assert [(m["title"], m["scenario"], m["stop_clock"]) for m in moves] == [
        ("Move 1: the shootdown", "20 Jun 2019 04:05", False),
        ("Move 2: USS Boxer", "18 Jul 2019 10:00", True),
        ("Move 3: the morning after", "18 Jul 2019 10:30", False),
    ]


def test_the_preview_page_heads_each_move_and_says_who_uses_each_channel(tmp_path: Path) -> None:
    import shutil

    from .test_pages import log_in, make_app

    app = make_app(tmp_path)
    shutil.copy(SCRIPT, tmp_path / "exercises" / SCRIPT.name)
    try:
        client = app.test_client()
        log_in(client)
        page = client.get("/library/channels-moves").get_data(as_text=True)
    finally:
        app.extensions["tabletop"].close()
    assert 'data-move-heading="m2"' in page and "Move 2: USS Boxer" in page
    assert "from 18 Jul 2019 10:00" in page and "the clock stops for a plenary" in page
    assert "starts closed" in page and "writes: Tactical action officer, IRGC Navy boat commander" in page
    assert "reads: CENTCOM one-star, General Staff (Brigadier General)" in page
