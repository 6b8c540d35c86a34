"""The tape, in process (issue 14): its view of every viewer at a seq is what `sync` (web.feed) gives
up to that seq, its fold at a seq is the fold of the log up to it (from checkpoints), its marks and
its share links."""

from __future__ import annotations

import random
import time

import pytest

from tabletop.engine import SessionState, Viewer
from tabletop.engine.tape import Tape
from tabletop.script.models import from_snapshot
from tabletop.web.feed import Feed, personal_to, view, viewer_of

from .log_fixtures import NAMES, events_of, load_log, state_projection

SESSION = "s"


def tape_of(name: str, every: int = 16) -> tuple[Tape, list]:
    log = load_log(name)
    events = events_of(log)
    return Tape(from_snapshot(log["script"]), events, view=view, personal=personal_to, every=every), events


@pytest.mark.parametrize("name", NAMES)
def test_each_viewer_at_each_seq_sees_what_sync_gives_up_to_it(name):
    tape, events = tape_of(name)
    feed = Feed(lambda _s, after, through: [e for e in events if after < e.seq <= through])
    state = SessionState(tape.exercise)
    for event in events:
        state.apply(event)
    viewers = [Viewer("control")] + [viewer_of(p) for p in state.participants.values()]
    viewers += [Viewer("player", t.id) for t in tape.exercise.teams]
    rng = random.Random(14)
    last = events[-1].seq
    seqs = sorted({0, 1, last, *rng.sample(range(1, last + 1), min(40, last))})
    for viewer in viewers:
        for seq in seqs:
            page = feed.page(SESSION, viewer, tape.exercise, 0, seq, 10**6)
            seen, total = tape.seen(viewer, seq)
            assert seen == page.events and total == len(page.events), (viewer, seq)
            latest, _ = tape.seen(viewer, seq, 5)
            assert latest == page.events[-5:]


@pytest.mark.parametrize("name", NAMES)
def test_the_fold_at_a_seq_is_the_fold_of_the_log_up_to_it(name):
    tape, events = tape_of(name, every=7)
    rng = random.Random(3)
    for seq in sorted({0, events[-1].seq, *rng.sample([e.seq for e in events], min(25, len(events)))}):
        expected = SessionState(tape.exercise)
        for event in events:
            if event.seq <= seq:
                expected.apply(event)
        assert state_projection(tape.state_at(seq)) == state_projection(expected), seq
    # A moment is a copy: folding more into it leaves the tape's checkpoints alone.
    moment = tape.state_at(events[5].seq)
    for event in events[6:12]:
        moment.apply(event)
    assert tape.state_at(events[5].seq).seq == events[5].seq


def test_the_borrowed_fold_follows_jumps_and_plays_forward():
    tape, events = tape_of("global-hawk-rehearsal", every=9)
    rng = random.Random(8)
    last = events[-1].seq
    walk = [rng.randint(0, last) for _ in range(15)] + list(range(40, 80, 3)) + [last, 5, 6, 200]
    for seq in walk:
        expected = SessionState(tape.exercise)
        for event in events:
            if event.seq <= seq:
                expected.apply(event)
        assert state_projection(tape.state_for(seq)) == state_projection(expected), seq
    assert state_projection(tape.state_at(last)) == state_projection(tape.state_for(last))


def test_extending_a_running_session_and_stepping():
    log = load_log("global-hawk-rehearsal")
    events = events_of(log)
    half = len(events) // 2
    tape = Tape(from_snapshot(log["script"]), events[:half], view=view, personal=personal_to, every=10)
    control = Viewer("control")
    assert tape.seen(control, 10**9)[1] == half
    tape.extend(events[half - 3 :])  # seqs already held are skipped
    assert tape.last_seq == events[-1].seq and tape.seen(control, 10**9)[1] == len(events)
    iran = Viewer("player", "iran")
    seqs = [v["seq"] for v in tape.seen(iran, tape.last_seq)[0]]
    assert tape.step(iran, seqs[3], forward=True) == seqs[4]
    assert tape.step(iran, seqs[3], forward=False) == seqs[2]
    assert tape.step(iran, seqs[3] + 1, forward=False) == seqs[3]
    assert tape.step(iran, tape.last_seq, forward=True) == tape.last_seq
    assert tape.step(iran, seqs[0], forward=False) == 0


def test_marks_are_only_what_the_viewer_saw():
    tape, _events = tape_of("global-hawk-rehearsal")
    control = {m.kind for m in tape.marks(Viewer("control"))}
    assert {"inject", "decision", "escalation", "clock"} <= control
    iran = tape.marks(Viewer("player", "iran"))
    assert "escalation" not in {m.kind for m in iran}  # control's instrument
    seen = {v["seq"] for v in tape.seen(Viewer("player", "iran"), tape.last_seq)[0]}
    assert {m.seq for m in iran} <= seen


def test_share_tokens_expire_and_cannot_be_altered():
    from flask import Flask

    from tabletop.web.tape import read_share_token, share_token

    app = Flask(__name__)
    app.config["SECRET_KEY"] = "k"
    token = share_token(app, "abc", 2.0, "iran")
    assert read_share_token(app, token) == (("abc", "iran"), "")
    assert read_share_token(app, token, now=time.time() + 3 * 3600) == (None, "expired")
    assert read_share_token(app, token[:-2] + "xx") == (None, "invalid")
    assert read_share_token(app, share_token(app, "abc", 1.0, None)) == (("abc", None), "")
    other = Flask(__name__)
    other.config["SECRET_KEY"] = "other"
    assert read_share_token(other, token) == (None, "invalid")
