"""The report's totals add up (issue 12), on real game logs: the three committed logs and a game played
through the engine on tests/data/sponsor.yaml (a message held then forwarded, one held to the end, a
declined one, an edit, control's Swiss relay, control's spoofs on the line and in public).

- each message through an intermediary is counted once, by what finally became of it, and the
  sponsor's relay figures agree with the relay list of section 5 (the same outcome for every message);
- a held message later forwarded is one forward (held first, beside the outcomes);
- control's relay is a row apart, without rows per person; a spoof is no relayed message, and a spoofed
  public statement is control's.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tabletop.engine import events as ev
from tabletop.report.data import build_report
from tabletop.report.data.compare import _relay_counts
from tabletop.script.models import from_snapshot

from .log_fixtures import NAMES, events_of, load_log
from .test_conditions import at
from .test_sponsor_report import make
from .test_sponsor_report import play as play_sponsor


def played(tmp_path_factory):
    game = make(tmp_path_factory.mktemp("totals"))
    game.do("control", "clock", action="start")
    at(game, 100)
    held = game.do("us-col", "send_message", channel="oman-line", text="We hold our position.").seq
    game.do("om-off", "relay", message=held, action="hold")
    at(game, 220)
    game.do("om-off", "relay", message=held, action="forward")
    kept = game.do("ir-col", "send_message", channel="oman-line", text="We will answer at dawn.").seq
    at(game, 240)
    game.do("om-col", "relay", message=kept, action="hold")  # held to the end: never passed on
    edited = game.do("us-col", "send_message", channel="oman-line", text="Two ships will stay 12 miles out.").seq
    at(game, 260)
    game.do("om-off", "relay", message=edited, action="edit", text="Ships will stay well out.")
    swiss = game.do("us-gen", "send_message", channel="swiss", text="Please tell Tehran we seek calm.").seq
    at(game, 300)
    game.do("control", "relay", message=swiss, action="hold")
    at(game, 330)
    game.do("control", "relay", message=swiss, action="forward")
    game.do("control", "spoof", channel="oman-line", as_team="iran", text="Your ships must leave now.")
    game.do("control", "spoof", channel="public", as_team="iran", text="Iran will close the strait.")
    game.do("ir-gen", "send_message", channel="public", text="Iran seeks no conflict.")
    at(game, 400)
    game.do("control", "clock", action="end")
    return game


@pytest.fixture(scope="module")
def games(tmp_path_factory):
    made = [played(tmp_path_factory), make(tmp_path_factory.mktemp("sponsor"))]
    play_sponsor(made[1])
    yield made
    for game in made:
        game.store.dispose()


def reports(games):
    for name in NAMES:
        log = load_log(name)
        yield name, build_report(from_snapshot(log["script"]), events_of(log)), events_of(log)
    for n, game in enumerate(games):
        events = game.store.events_after(game.session)
        yield f"game {n}", build_report(game.state.exercise, events), events


def test_relay_figures_count_each_message_once_and_agree_with_the_relay_list(games):
    for name, data, events in reports(games):
        sent = [e.seq for e in events if isinstance(e.payload, ev.MessageSent) and e.payload.relay]
        assert sorted(x.seq for x in data.relays) == sorted(sent), name  # spoofs are no relayed messages
        outcomes: dict[str, Counter[str]] = {}
        for x in data.relays:
            outcomes.setdefault(x.relay_team, Counter())[x.outcome] += 1
            outcomes[x.relay_team]["held"] += int(x.held)
        kinds = {v.seq: v.kind for v in data.sponsor.verdicts}
        assert set(kinds) == {x.seq for x in data.relays if x.outcome == "edited"}, name
        rows = data.sponsor.relay_figures
        totals = {f.intermediary: f for f in rows if not f.who}
        assert set(totals) == set(outcomes), name
        for relay, f in totals.items():
            o = outcomes[relay]
            assert f.total == f.unchanged + f.cosmetic + f.substantive + f.declined + f.waiting == o.total() - o["held"]
            assert (f.unchanged, f.cosmetic + f.substantive, f.declined, f.waiting, f.held_first) == (
                o["forwarded"],
                o["edited"],
                o["declined"],
                o["waiting"],
                o["held"],
            ), (name, relay)
            people = [g for g in rows if g.intermediary == relay and g.who]
            if f.control:
                assert relay == "Exercise control" and not people  # control's relay: apart, no rows per person
            else:
                assert sum(g.total for g in people) == f.total and sum(g.held_first for g in people) == f.held_first
        # the comparison counts the same (each message once, by its final outcome; control apart)
        slice_ = type("Slice", (), {"data": data, "holds": staticmethod(lambda t: True)})()
        for control in (False, True):
            for relay, c in _relay_counts(slice_, control).items():
                f = totals[relay]
                assert (c["total"], c["unchanged"], c["substantive"], c["declined"], c["waiting"], c["held"]) == (
                    f.total,
                    f.unchanged,
                    f.substantive,
                    f.declined,
                    f.waiting,
                    f.held_first,
                ), (name, relay)


def test_a_message_held_then_forwarded_is_one_forward(games):
    data = build_report(games[0].state.exercise, games[0].store.events_after(games[0].session))
    oman, *people = [f for f in data.sponsor.relay_figures if f.intermediary == "Sultanate of Oman"]
    # held then forwarded: one forward; held to the end: never passed on; both held first
    assert (oman.total, oman.unchanged, oman.cosmetic + oman.substantive, oman.waiting, oman.held_first) == (
        3,
        1,
        1,
        1,
        2,
    )
    assert sum(f.total for f in people) == 3
    (control,) = [f for f in data.sponsor.relay_figures if f.control]
    assert (control.total, control.unchanged, control.held_first) == (1, 1, 1)


def test_a_spoofed_public_statement_is_controls(games):
    data = build_report(games[0].state.exercise, games[0].store.events_after(games[0].session))
    (public,) = [a for a in data.sponsor.answers if a.measure == "public_signals"]
    assert "Exercise control (spoofed as Islamic Republic of Iran): 1" in public.details
    assert "Islamic Republic of Iran: 1" in public.details  # its own statement only
    spoofed = [i for i in data.sponsor.public_private if "[spoofed by control]" in i.teams]
    assert [i.kind for i in spoofed] == ["line", "public"]
