"""Section 8, what each decider knew (issue 12): a team's later decision lists only what reached it since
its previous decision, refers back to that decision by title, and gives the counts of everything known.

A real game on a copy of tests/data/sponsor.yaml with a second U.S. decision: the IRGC Navy commander
writes on the Oman line, Oman forwards it, the U.S. decides; he writes again, Oman forwards it, the U.S.
decides again. The PDF is read back with pdftotext.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from tabletop.report.data import build_report
from tabletop.report.render import render_pdf
from tabletop.script.models import from_snapshot

from .engine_helpers import DATA, Game
from .log_fixtures import events_of, load_log
from .report_helpers import pdf_text, squeeze
from .test_conditions import at
from .test_sponsor_report import make as make_sponsor_game

FIRST = "Our boats are pulling back to Bandar Abbas."
SECOND = "The wreckage is ours; keep your ships out of our waters."
SEATS = {
    "us-gen": ("us", "us-general", "Alice Moore"),
    "ir-irgcn": ("iran", "ir-irgcn", "Bahram Tehrani"),
    "om-col": ("oman", "om-colonel", "Khalid Al-Busaidi"),
}


def make(tmp_path: Path) -> Game:
    script = yaml.safe_load((DATA / "sponsor.yaml").read_text())
    script["injects"].append(
        {
            "id": "second-options",
            "at": "+00:09",
            "move": "shootdown",
            "to": "us",
            "title": "The President asks again",
            "decision": {
                "prompt": "Now what?",
                "by": ["us-general"],
                "options": [{"id": "wait", "label": "Wait for Tehran", "escalation": 0}],
            },
        }
    )
    path = tmp_path / "knowledge.yaml"
    path.write_text(yaml.safe_dump(script, allow_unicode=True, sort_keys=False))
    return make_sponsor_game(tmp_path, script=path, seats=SEATS)


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    game = make(tmp_path_factory.mktemp("knowledge"))
    game.do("control", "clock", action="start")
    for (sent, forwarded, decided), text, (inject, option, rationale) in (
        ((150, 170, 310), FIRST, ("options", "restraint", "Talk first")),
        ((330, 340, 560), SECOND, ("second-options", "wait", "Let Tehran answer")),
    ):
        at(game, sent)
        seq = game.do("ir-irgcn", "send_message", channel="oman-line", text=text).seq
        at(game, forwarded)
        game.do("om-col", "relay", message=seq, action="forward")
        at(game, decided)
        game.do("us-gen", "decide", inject=inject, option=option, rationale=rationale)
    at(game, 600)
    game.do("control", "clock", action="end")
    yield game
    game.store.dispose()


@pytest.fixture(scope="module")
def data(game):
    return build_report(game.state.exercise, game.store.events_after(game.session), session_id=game.session)


def test_the_second_decision_holds_only_the_new_message_and_its_predecessor(data):
    first, second = (k for k in data.sponsor.knowledge if k.team == "United States")
    assert first.previous == "" and [(r.channel, r.count) for r in first.new] == [("Oman line", 1)]
    assert FIRST in first.new[0].last
    assert (second.previous, second.previous_seq, second.earlier) == ("The President asks for options", first.seq, 1)
    assert [(r.channel, r.count) for r in second.received] == [("Oman line", 2)]  # everything, as before
    assert [(r.channel, r.count) for r in second.new] == [("Oman line", 1)]
    assert SECOND in second.new[0].last


def test_the_pdf_lists_the_second_decision_s_new_message_and_refers_to_the_first(data, tmp_path):
    path = tmp_path / "knowledge.pdf"
    render_pdf(data, path, jobs=1)
    flat = squeeze(pdf_text(path))
    one = flat.index(squeeze("The President asks for options — Restraint"))
    two = flat.index(squeeze("The President asks again — Wait for Tehran"))
    end = flat.index(squeeze("9. Public and private"), two)
    earlier, later = flat[one:two], flat[two:end]
    assert squeeze("Oman line: 1 message; the last: #") in earlier and squeeze(FIRST) in earlier
    assert squeeze("In all, 2 messages from the other side: 2 on Oman line.") in later
    assert squeeze("New since The President asks for options at +0:05:10:") in later
    assert squeeze("Oman line: 1 new message: #") in later and squeeze(SECOND) in later
    assert squeeze(FIRST) not in later  # listed once, under the first decision
    assert squeeze("Also known: everything listed for The President asks for options at +0:05:10 (1 message).") in (
        later
    )


def _whole(knew) -> None:
    """Every decision's total, by channel, is its new messages plus its predecessors' (nothing is lost)."""
    by_seq = {k.seq: k for k in knew}
    for k in knew:
        counts: Counter[str] = Counter()
        declined: list[str] = []
        step = k
        while True:
            counts.update({r.channel: r.count for r in step.new})
            declined += step.new_stopped
            if not step.previous:
                break
            step = by_seq[step.previous_seq]
        assert counts == Counter({r.channel: r.count for r in k.received}), k.title
        assert sorted(declined) == sorted(k.stopped), k.title
        if k.previous:
            assert k.earlier == sum(r.count for r in by_seq[k.previous_seq].received)


def test_the_full_picture_can_be_rebuilt_from_the_chain(data):
    _whole(data.sponsor.knowledge)


def test_the_full_picture_can_be_rebuilt_from_the_chain_of_a_rehearsal_log():
    log = load_log("global-hawk-rehearsal")
    knew = build_report(from_snapshot(log["script"]), events_of(log), session_id=log["session"]).sponsor.knowledge
    assert sum(1 for k in knew if k.previous) >= 2  # the U.S. decided three times, Iran twice
    _whole(knew)
