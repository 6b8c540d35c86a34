"""Rehearsal: the real speedboat scenario played by bots through the real engine, and its report."""

from __future__ import annotations

from collections import Counter

import pytest

from tabletop import ROOT
from tabletop.engine import events as ev
from tabletop.rehearse import rehearse
from tabletop.report.build import build_files

from .report_helpers import pdf_text, squeeze
from .test_report import SECTIONS

SPEEDBOAT = ROOT / "exercises" / "speedboat-harassment-2020.yaml"
# Test strings the bots slip in (markup that must stay text, other scripts): never rehearsal content.
PERSIAN = "پیام شما دریافت شد. قایق‌ها تا هزار یارد عقب می‌کشند و در کانال ۱۶ پاسخ می‌دهند."
ARABIC = "تم استلام الرسالة، وسننقلها إلى الطرف الآخر فوراً ونطلب تأكيد الاستلام."
SCRIPT_TAG = "<script>alert(1)</script> please ignore this line"
IMG_TAG = '<img src="http://127.0.0.1:9/x.png"> see attached chart'
HOSTILE = (SCRIPT_TAG, PERSIAN, ARABIC, IMG_TAG)


@pytest.fixture(scope="module")
def rehearsal():
    return rehearse(SPEEDBOAT, players=2, seed=3, extra_lines=HOSTILE)


def test_bots_play_every_kind_of_move(rehearsal):
    events = rehearsal.events()
    kinds = Counter(e.type for e in events)
    assert kinds[ev.SESSION_ENDED] == 1 and kinds[ev.CLOCK_PAUSED] == 1 and kinds[ev.CLOCK_RESUMED] == 1
    assert kinds[ev.INJECT_RELEASED] >= 20 and kinds[ev.INJECT_ACKNOWLEDGED] >= 20
    assert kinds[ev.DECISION_MADE] >= 5
    actions = Counter(e.payload.action for e in events if isinstance(e.payload, ev.MessageRelayed))
    assert {"forward", "edit", "hold", "decline"} <= set(actions)
    channels = {e.payload.channel for e in events if isinstance(e.payload, ev.Message | ev.MessageSent)}
    assert {"team", "bridge", "oman-line", "public"} <= channels
    texts = [e.payload_json.get("text") for e in events]
    assert SCRIPT_TAG in texts and PERSIAN in texts
    assert kinds[ev.NOTE] >= 3 and kinds[ev.OBSERVATION] >= 5 and kinds[ev.IMPROVEMENT_PLAN] == 1
    assert kinds[ev.FEEDBACK] == 2 * 3 + 2  # every player, the observer and control
    decided = [e.payload for e in events if isinstance(e.payload, ev.DecisionMade) and not e.payload.by_default]
    assert decided and all(d.position for d in decided)  # by authorised positions only
    assert sum(rehearsal.refused.values()) <= 3


def test_same_seed_same_game():
    def shape(game):
        return [(e.type, round(e.t, 3), e.payload_json.get("text")) for e in game.events()]

    first = rehearse(SPEEDBOAT, players=1, seed=11, exchanges=40)
    again = rehearse(SPEEDBOAT, players=1, seed=11, exchanges=40)
    assert shape(first) == shape(again)
    messages = first.summary()["messages"]
    assert 40 <= messages <= 41  # the players' 40, and control's one spoofed call


def test_rehearsal_report_reads_back(rehearsal, tmp_path):
    built = build_files(rehearsal.store, rehearsal.session, tmp_path)
    text = pdf_text(built.pdf)
    flat = squeeze(text)
    for title in SECTIONS:
        assert squeeze(title) in flat, title
    assert squeeze(SCRIPT_TAG) in flat
    # pdftotext puts the runs of a right-to-left sentence with digits in its own order: compare one clause.
    assert squeeze("قایق‌ها تا هزار یارد عقب می‌کشند و در کانال") in flat
    assert "Speedboat harassment" in text and "EDITED" in text and "DECLINED" in text
    assert built.timings["pages"] == text.count("\f")


def test_rehearse_command(runner, tmp_path):
    out = tmp_path / "rehearsal.pdf"
    result = runner.invoke(
        args=["exercise", "rehearse", str(SPEEDBOAT), "--players", "1", "--seed", "2", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "injects released" in result.output and "decisions" in result.output and "[100%]" in result.output
    assert out.read_bytes().startswith(b"%PDF")
    missing = runner.invoke(args=["exercise", "rehearse", str(tmp_path / "nope.yaml")])
    assert missing.exit_code != 0 and "Traceback" not in missing.output
