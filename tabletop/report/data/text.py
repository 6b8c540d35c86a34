"""Text helpers of the report data: reading direction, word-level differences, short quotes."""

from __future__ import annotations

import difflib
import re
import statistics
import unicodedata
from collections.abc import Iterable

from .models import Segment

KEY_TEXT = 240  # characters of a message quoted in the timeline
_WORD = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


def direction(text: str) -> str:
    """`rtl` when the first strongly directional character is Arabic or Hebrew script, else `ltr`."""
    for ch in text[:400]:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def marked_diff(original: str, forwarded: str) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """Word-level differences: the original with deletions marked, the forwarded text with insertions."""
    a, b = _WORD.findall(original), _WORD.findall(forwarded)
    left: list[Segment] = []
    right: list[Segment] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            _push(left, "same", "".join(a[i1:i2]))
            _push(right, "same", "".join(b[j1:j2]))
            continue
        if i2 > i1:
            _push(left, "del", "".join(a[i1:i2]))
        if j2 > j1:
            _push(right, "ins", "".join(b[j1:j2]))
    return tuple(left), tuple(right)


def _push(out: list[Segment], kind: str, text: str) -> None:
    """Append, merging with the previous segment of the same kind (fewer boxes to lay out)."""
    if not text:
        return
    if out and out[-1].kind == kind:
        out[-1] = Segment(kind, out[-1].text + text)
    elif kind != "same" and text.isspace():
        _push(out, "same", text)
    else:
        out.append(Segment(kind, text))


def median(values: Iterable[float]) -> float | None:
    found = list(values)
    return statistics.median(found) if found else None


def anchor(text: str) -> str:
    """An id for HTML anchors and CSS page names."""
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "x"


def short(text: str, limit: int = KEY_TEXT) -> str:
    """Text on one line, cut to `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
