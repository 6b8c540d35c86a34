"""Each message's text is laid out once in the report's appendices, and every pointer to it resolves (issue 12).

The lists used to repeat the line's messages word for word (the relay list, the public-and-private timeline,
the line's own log, the timeline's key messages): the report now gives the text in one appendix (the relay
list for a message through the intermediary, else its channel's log) and the others name that appendix.
Built from a real game log (tests/data/minimal.yaml through Live), checked on the appendices' lines and on
the PDF read back.
"""

from __future__ import annotations

import re

import pytest

from tabletop.report import render
from tabletop.report.build import build_files, report_data

from .report_helpers import DECLINED, HELD, ORIGINAL, PERSIAN, pdf_text, play, squeeze

POINTER = re.compile(r"#(\d+)\b.*text in appendix ([A-Z]+)")


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    return play(tmp_path_factory.mktemp("game"))


@pytest.fixture(scope="module")
def data(game):
    return report_data(game.store, game.session)


@pytest.fixture(scope="module")
def apps(data):
    return {a.letter: a for a in render.appendices(data)}


def holding(apps, text):
    return [a.letter for a in apps.values() for line in a.lines if text in line]


def test_a_relayed_message_is_written_out_once_in_the_relay_list(apps):
    relay = next(a for a in apps.values() if a.key == "relay")
    for text in (ORIGINAL, HELD, DECLINED):
        assert holding(apps, text) == [relay.letter], text


def test_every_other_message_is_written_out_in_its_channel_log(apps):
    team_iran = next(a for a in apps.values() if a.key == "log-team-iran")
    assert holding(apps, PERSIAN) == [team_iran.letter]


def test_every_pointer_names_the_appendix_that_holds_the_text(data, apps):
    seqs = {m.seq: m for log in data.logs for m in log.messages}
    pointers = [(a.letter, line) for a in apps.values() for line in a.lines if "text in appendix" in line]
    assert pointers  # the line's log, the public-and-private timeline and the timeline point somewhere
    for letter, line in pointers:
        found = POINTER.search(line)
        assert found, line
        seq, target = int(found[1]), found[2]
        assert target != letter and target in apps, line
        text = render.isolate(render.flat(seqs[seq].text))
        written = [t for t in apps[target].lines if t.startswith(f"#{seq} ") and t.endswith(text)]
        assert len(written) == 1, (line, target)


def test_the_relay_list_names_the_row_of_the_pairing_table(data, apps):
    relay = next(a for a in apps.values() if a.key == "relay")
    rows = render.pairings(data.sponsor.ranks)
    named = {int(n) for line in relay.lines for n in re.findall(r"\[pairing P(\d+), ", line)}
    assert named and named <= set(range(1, len(rows) + 1))


def test_a_team_chat_names_its_team_once(data, apps):
    team_us = next(a for a in apps.values() if a.key == "log-team-us")
    assert "all from United States" in team_us.intro
    assert not any("(United States)" in line for line in team_us.lines)


def test_the_pdf_reads_the_pointers_and_the_pairing_rows(game, tmp_path):
    text = squeeze(pdf_text(build_files(game.store, game.session, tmp_path).pdf))
    assert squeeze("text in appendix C") in text
    assert squeeze("Row") in text and squeeze("[pairing P1, ") in text
    assert text.count(squeeze(ORIGINAL)) >= 1
