"""Mixed Persian and English in the report keep their order and their zero-width non-joiners (issue 12).

A real game log (tests/data/minimal.yaml through Live) with a message that starts in Persian and goes on in
English, one the other way round, and the same Persian word with and without its non-joiner; the PDF is read
back with pdftotext (text in reading order, and word boxes).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tabletop.report.build import build_files
from tabletop.report.render import isolate, rtl_only

from .engine_helpers import make_game
from .report_helpers import pdf_text

FRIENDS = "دوست\u200cها"  # "friends": the plural suffix kept apart by a zero-width non-joiner
JOINED = "دوستها"  # the same letters, joined
FA_EN = f"سلام {FRIENDS} then the English words 1,000 m"
EN_FA = f"The English words 1,000 m then سلام {FRIENDS}"
FA_ONLY = f"پیام شما دریافت شد و {FRIENDS} عقب می\u200cکشند."
LRI, RLI, PDI = "\u2066", "\u2067", "\u2069"


# ------------------------------------------------------------------ isolate()
def test_english_alone_is_left_as_it_is():
    assert isolate("Hold course, 1,000 m off.") == "Hold course, 1,000 m off."


def test_each_persian_run_is_isolated_in_the_order_it_was_typed():
    assert isolate(FA_EN) == f"{LRI}{RLI}سلام {FRIENDS}{PDI} then the English words 1,000 m{PDI}"
    assert isolate(EN_FA) == f"{LRI}The English words 1,000 m then {RLI}سلام {FRIENDS}{PDI}{PDI}"


def test_punctuation_and_digits_stay_with_the_persian_they_follow():
    assert isolate("فاصله 300") == f"{LRI}{RLI}فاصله 300{PDI}{PDI}"
    assert isolate("پیام: 300 m") == f"{LRI}{RLI}پیام:{PDI} 300 m{PDI}"
    assert isolate(FA_ONLY) == f"{LRI}{RLI}{FA_ONLY}{PDI}{PDI}"


def test_direction_controls_a_player_typed_end_with_the_message():
    text = "look \u202eevil"
    assert isolate(text) == f"{LRI}{text}{PDI}"


def test_only_right_to_left_text_is_a_paragraph_of_its_own():
    assert rtl_only(FA_ONLY)
    assert not rtl_only(FA_EN) and not rtl_only(EN_FA) and not rtl_only("English")


# ------------------------------------------------------------------ the PDF
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    game = make_game(tmp_path_factory.mktemp("game"))
    game.do("control", "clock", action="start")
    game.advance(30)
    for text in (FA_EN, EN_FA, FA_ONLY, f"with {FRIENDS} here", f"with {JOINED} here"):
        game.do("iran", "send_message", channel="team", text=text)
    game.advance(30)
    game.do("control", "clock", action="end")
    game.do("iran", "feedback", strengths=FA_EN, improvements=EN_FA, channels={"bridge": 2})
    return build_files(game.store, game.session, tmp_path_factory.mktemp("reports"))


def lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


def test_persian_then_english_reads_in_that_order(built):
    text = pdf_text(built.pdf)
    # The log of the team chat: one line per message; the hotwash: one line per answer.
    for needle in ("then the English words", "Went well:"):
        found = lines_with(text, needle)
        assert found, needle
        for line in found:
            if "The English" in line:
                continue
            assert line.index("سلام") < line.index("then the English words"), line


def test_english_then_persian_reads_in_that_order(built):
    text = pdf_text(built.pdf)
    found = lines_with(text, "The English words 1,000 m then")
    assert len(found) >= 2  # the log and the hotwash
    for line in found:
        assert line.index("The English words") < line.index("سلام"), line


def word_starts(pdf: Path, word: str) -> list[float]:
    """Where each word read back as `word` starts on its line (points from the left edge)."""
    boxes = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [float(m[1]) for m in re.finditer(r'<word xMin="([\d.]+)"[^>]*>([^<]*)<', boxes) if m[2] == word]


def test_the_zero_width_non_joiner_is_kept(built):
    # The HTML keeps it as typed. In the PDF it changes the letters' shapes (ت ends a word, ه starts one): the
    # log lines "with دوست‌ها here" and "with دوستها here" start alike, and "here" starts further right after
    # the word with the non-joiner than after the same letters joined.
    assert FRIENDS in built.html.read_text(encoding="utf-8")
    starts = word_starts(built.pdf, "here")
    assert len(starts) == 2, starts
    assert starts[0] > starts[1] + 1, starts  # the message with the non-joiner is the first in the log
