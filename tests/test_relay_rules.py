"""The relay rules (tabletop/report/data/relaydiff.py) on real pairs: what a sender wrote and what the
intermediary passed on, from the committed rehearsal log, the reviews of the Gulf reports
(../shared/reviews/game-design.md, finding 9) and the scripts' telephone-game injects."""

from __future__ import annotations

import json

import pytest

from tabletop.report.data.relaydiff import COSMETIC, RULES, SUBSTANTIVE, classify

from .log_fixtures import LOGS

# The global-hawk rehearsal log (tests/data/logs): every edit the intermediary made, as played.
REHEARSAL = [
    (
        "Can you tell us whether your rules of engagement have changed after the post?",
        "Muscat passes on: Can you tell us whether your rules of engagement have changed after the post?",
        "cosmetic",
        {"attribution"},
    ),
    (
        "The helicopters will stay above 500 feet and will not overfly the boats.",
        "Muscat passes on: The helicopters may stay above 500 feet and may not overfly the boats.",
        "substantive",
        {"modality"},
    ),
    (
        "The tanker master reports an unverified order to turn north; not from our side.",
        "Muscat passes on: The tanker master reports an unverified order to turn north; not from our side.",
        "cosmetic",
        {"attribution"},
    ),
]

# The speedboat report's edits (review, finding 9) and the telephone-game injects' wording.
REVIEWED = [
    ("Our aircraft have no hostile intent.", "Our aircraft have no unfriendly intent.", {"threat"}),
    (
        "Any boat that approaches within 500 yards will be considered unsafe.",
        "Any boat that approaches within 500 yards may be considered risky.",
        {"modality", "threat"},
    ),
    ("We will not respond unless attacked again.", "We will respond.", {"negation", "condition", "threat"}),
    ("USS Boxer will hold position off Larak Island.", "The ship will hold position off the island.", {"names"}),
]

TELEPHONE = (
    "Our two boats lost power at exercise grid 29-05N 050-02E. We ask that the ten crew and both boats be "
    "handed over at grid 29-10N 050-10E within 12 hours. Our warships will stay at least 20 nautical miles "
    "from that point unless the crew is moved from the island."
)


def test_the_rehearsal_logs_edits_are_as_played():
    """The pairs above are the log's own: the rules are tested on what was really relayed."""
    log = json.loads((LOGS / "global-hawk-rehearsal.log.json").read_text())
    by_seq = {e["seq"]: e for e in log["events"]}
    edits = {
        (by_seq[e["payload"]["message"]]["payload"]["text"], e["payload"]["text"])
        for e in log["events"]
        if e["type"] == "message_relayed" and e["payload"]["action"] == "edit"
    }
    assert {(a, b) for a, b, _, _ in REHEARSAL} <= edits
    kinds = {classify(a, b).kind for a, b in edits}
    assert kinds == {"cosmetic", "substantive"}


@pytest.mark.parametrize(("original", "forwarded", "kind", "rules"), REHEARSAL)
def test_rehearsal_edits(original, forwarded, kind, rules):
    verdict = classify(original, forwarded)
    assert verdict.kind == kind
    assert set(verdict.rules) == rules


def test_a_modal_weakened_is_named_with_its_words():
    verdict = classify(REHEARSAL[1][0], REHEARSAL[1][1])
    assert verdict.text() == "modality (will x2 -> may x2)"


@pytest.mark.parametrize(("original", "forwarded", "rules"), REVIEWED)
def test_reviewed_edits_are_substantive(original, forwarded, rules):
    verdict = classify(original, forwarded)
    assert verdict.kind == "substantive"
    assert rules <= set(verdict.rules), verdict.text()


def test_hostile_to_unfriendly():
    assert classify(*REVIEWED[0][:2]).text() == "threat (hostile -> unfriendly)"


def test_the_telephone_game_loses_a_coordinate_a_number_a_condition_and_a_sentence():
    forwarded = (
        "Their two boats lost power at grid 29-05N 050-20E. They ask that the crew and both boats be handed over "
        "at grid 29-10N 050-10E within 12 hours."
    )
    verdict = classify(TELEPHONE, forwarded)
    hits = {h.rule: h.detail for h in verdict.hits}
    assert verdict.kind == "substantive"
    assert "050-02E" in hits["numbers"] and "050-20E" in hits["numbers"] and "ten" in hits["numbers"]
    assert hits["condition"] == "dropped: unless"
    assert hits["sentence dropped"].startswith('"Our warships will stay')


def test_the_telephone_game_passed_word_for_word_is_unchanged():
    assert classify(TELEPHONE, TELEPHONE).kind == "unchanged"


def test_a_sentence_of_the_intermediarys_own():
    verdict = classify(
        "Received. Our boats are pulling back.",
        "Received. Our boats are pulling back. Oman urges both sides to show restraint and patience.",
    )
    assert verdict.rules == ("sentence added",)


def test_cosmetic_edits():
    assert classify("We received your message.", "we received your message").rules == ("punctuation or case",)
    assert classify("pls confirm receipt", "Please confirm receipt.").text() == "wording (pls -> please)"


def test_a_prefix_that_says_something_is_not_attribution():
    """'Muscat warns:' carries a threat word: the prefix is part of the text the rules read."""
    verdict = classify("Boats are closing.", "Muscat warns: Boats are closing.")
    assert verdict.kind == "substantive" and "threat" in verdict.rules


def test_persian_text_is_read_too():
    """Digits and negation-free Persian: a number changed in Persian script still fires `numbers`."""
    verdict = classify("ده قایق در ساعت ۱۲ عقب می‌کشند", "ده قایق در ساعت ۱۴ عقب می‌کشند")
    assert verdict.rules == ("numbers",)


def test_every_rule_is_documented():
    assert set(RULES) == set(SUBSTANTIVE) | set(COSMETIC)
