"""SVG charts for print: swim lanes per team, traffic per channel, the escalation curve.

Each function returns a complete `<svg>` element as a string, drawn in a fixed viewBox with
print-friendly strokes, no script, no external reference (no href, no font file). Every piece of
text goes through `_text`, which XML-escapes it, because team, channel and option names come from
scripts and players; attribute values through `quoteattr`.
Events are binned, so a chart costs the same for 50 messages or 5,000.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from tabletop.script.times import format_log_offset

from .data import Lane, Series

PALETTE = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#a50021", "#3b3838")
FONT = "font-family=\"'Noto Sans', 'Noto Naskh Arabic', sans-serif\""
WIDTH = 680


def _text(x: float, y: float, text: object, *attrs: str) -> str:
    """A `<text>` element: its content XML-escaped (the one way text gets into a chart)."""
    extra = "".join(f" {a}" for a in attrs)
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(str(text))}</text>'


def _svg(height: int, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'role="img" aria-label={quoteattr(label)} {FONT} font-size="10">' + "".join(body) + "</svg>"
    )


def _ticks(span: float) -> float:
    """A tick step in seconds giving 4 to 10 ticks."""
    for step in (60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800):
        if span / step <= 10:
            return step
    return span / 8


def _axis(x0: float, x1: float, y: float, span: float, top: float) -> list[str]:
    """The time axis: one path for the grid, a label per tick."""
    step = _ticks(span)
    grid: list[str] = []
    labels: list[str] = []
    t = 0.0
    while t <= span + 0.01:
        x = x0 + (x1 - x0) * t / span
        grid.append(f"M{x:.1f} {top}V{y}")
        # a label near the right edge ends at its tick, so it is never cut off (issue 12)
        anchor = 'text-anchor="end"' if x > WIDTH - 24 else 'text-anchor="middle"'
        labels.append(_text(min(x, WIDTH - 1), y + 12, format_log_offset(t)[:-3], anchor, 'fill="#444"'))
        t += step
    return [
        f'<path d="{"".join(grid)}" stroke="#ddd" stroke-width="0.5" fill="none"/>',
        f'<path d="M{x0} {y}H{x1}" stroke="#444" stroke-width="0.8"/>',
        *labels,
    ]


#: Where each move began: (exercise time, title); drawn on every chart (issue 12).
Moves = Sequence[tuple[float, str]]
#: Spans when the server was down or stalled: (from, to) in exercise time.
Gaps = Sequence[tuple[float, float]]


def _moves(x0: float, x1: float, top: float, bottom: float, span: float, moves: Moves, gaps: Gaps = ()) -> list[str]:
    """Move boundaries as dashed vertical lines labelled with the move's title (cut to the room before
    the next one), and outages as a red band."""
    body: list[str] = []
    scale = (x1 - x0) / span
    for a, b in gaps:
        xa, xb = x0 + min(a, span) * scale, x0 + min(b, span) * scale
        body.append(
            f'<rect x="{xa:.1f}" y="{top}" width="{max(xb - xa, 1.5):.1f}" height="{bottom - top:.1f}" '
            'fill="#a50021" fill-opacity="0.18"/>'
        )
    lines = []
    xs = [x0 + min(t, span) * scale for t, _ in moves]
    for n, ((_t, title), x) in enumerate(zip(moves, xs, strict=True)):
        lines.append(f"M{x:.1f} {top}V{bottom}")
        room = (xs[n + 1] if n + 1 < len(xs) else x1) - x - 4
        chars = max(0, int(room / 4.6))
        if chars >= 4:
            label = title if len(title) <= chars else title[: chars - 1] + "…"
            body.append(_text(x + 2, top + 8, label, 'fill="#7030a0"', 'font-size="7.5"'))
    if lines:
        body.insert(0, f'<path d="{"".join(lines)}" stroke="#7030a0" stroke-width="0.8" stroke-dasharray="4 2"/>')
    return body


def _label(x: float, middle: float, name: str, chars: int = 24) -> list[str]:
    """A lane's name ending at x, on one line or two (never cut: a third line's words are shortened)."""
    lines = textwrap.wrap(name, chars, break_long_words=False, break_on_hyphens=False) or [""]
    lines = [line if len(line) <= chars + 6 else line[: chars - 1] + "…" for line in lines]
    if len(lines) > 2:
        rest = " ".join(lines[1:])
        lines = [lines[0], rest if len(rest) <= chars + 6 else rest[: chars - 1] + "…"]
    if len(lines) == 1:
        return [_text(x, middle + 3.5, lines[0], 'text-anchor="end"')]
    return [
        _text(x, middle - 1.5, lines[0], 'text-anchor="end"', 'font-size="8.5"'),
        _text(x, middle + 8.5, lines[1], 'text-anchor="end"', 'font-size="8.5"'),
    ]


def whole_ticks(peak: float, most: int = 5) -> list[int]:
    """Whole-number ticks from 0 to at least the peak: 0 always, steps of 1, 2, 5, 10, 20, 50... (issue 12)."""
    top = max(1, math.ceil(peak))
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if top / step <= most:
            break
    last = math.ceil(top / step) * step
    return list(range(0, last + 1, step))


LEGEND = ("inject received", "decision", "messages written", "facilitator note")


def swim_lanes(
    lanes: Sequence[Lane],
    span: float,
    bins: int = 60,
    moves: Moves = (),
    gaps: Gaps = (),
    legend: Sequence[str] = LEGEND,
) -> str:
    """One lane per team (and control): injects received, decisions, and message density.

    Few SVG nodes whatever the number of events (one path per kind of mark and lane): drawing an
    SVG node costs WeasyPrint about as much as a line of text.
    """
    span = max(span, 60.0)
    left, right, top, lane_h = 120.0, WIDTH - 10.0, 8.0, 30.0
    height = int(top + lane_h * len(lanes) + 44)
    bottom = top + lane_h * len(lanes)
    scale = (right - left) / span
    stripes = "".join(
        f"M{left} {top + n * lane_h}h{right - left}v{lane_h}h{left - right}z" for n in range(0, len(lanes), 2)
    )
    body: list[str] = [f'<path d="{stripes}" fill="#f4f6f9"/>', *_axis(left, right, bottom, span, top)]
    bw = (right - left) / bins
    bars: list[str] = []
    injects: list[str] = []
    decisions: list[str] = []
    notes: list[str] = []
    for n, lane in enumerate(lanes):
        y = top + n * lane_h
        body += _label(left - 6, y + lane_h / 2, lane.name)
        hist = [0] * bins
        for mark in lane.marks:
            if mark.kind == "message":
                hist[min(bins - 1, int(mark.t / span * bins))] += 1
        peak = max(hist) or 1
        for i, count in enumerate(hist):
            if count:
                h = max(1.5, (lane_h - 12) * count / peak)
                bars.append(f"M{left + i * bw:.1f} {y + lane_h - 2:.1f}v{-h:.1f}h{bw * 0.8:.1f}v{h:.1f}z")
        for mark in lane.marks:
            x = left + mark.t * scale
            if mark.kind == "inject":
                injects.append(f"M{x:.1f} {y + 2}l-3.5 6h7z")
            elif mark.kind == "decision":
                decisions.append(f"M{x:.1f} {y + 9}l4 4-4 4-4-4z")
            elif mark.kind == "note":
                notes.append(f"M{x - 2:.1f} {y + lane_h / 2 - 2:.1f}h4v4h-4z")
    body += _moves(left, right, top, bottom, span, moves, gaps)
    body += [
        f'<path d="{"".join(bars)}" fill="#9dc3e6"/>',
        f'<path d="{"".join(injects)}" fill="#c55a11"/>',
        f'<path d="{"".join(decisions)}" fill="#1f4e79"/>',
        f'<path d="{"".join(notes)}" fill="#7030a0"/>',
    ]
    ly = height - 8
    keys = [
        (f'<path d="M{left} {ly - 7}l-3.5 6h7z" fill="#c55a11"/>', _text(left + 8, ly, legend[0])),
        (f'<path d="M{left + 110} {ly - 9}l4 4-4 4-4-4z" fill="#1f4e79"/>', _text(left + 118, ly, legend[1])),
        (f'<path d="M{left + 180} {ly - 8}h6v8h-6z" fill="#9dc3e6"/>', _text(left + 190, ly, legend[2])),
        (f'<path d="M{left + 298} {ly - 5.5}h4v4h-4z" fill="#7030a0"/>', _text(left + 306, ly, legend[3])),
    ]
    body += [part for (mark, label), name in zip(keys, legend, strict=True) if name for part in (mark, label)]
    return _svg(height, body, "Events per team over exercise time")


def traffic(series: Sequence[Series], span: float, moves: Moves = (), gaps: Gaps = ()) -> str:
    """Messages per channel over exercise time, one line per channel; whole-number ticks from 0; the
    legend below the plot with every channel's full name (issue 12)."""
    span = max(span, 60.0)
    left, right, top, plot_h = 40.0, WIDTH - 12.0, 20.0, 160.0
    bottom = top + plot_h
    peak = max((v for s in series for _t, v in s.points), default=0.0)
    ticks = whole_ticks(peak)
    scale = float(ticks[-1]) or 1.0
    body = _axis(left, right, bottom, span, top) + _moves(left, right, top, bottom, span, moves, gaps)
    for tick in ticks:
        y = bottom - plot_h * tick / scale
        body.append(f'<path d="M{left - 3} {y:.1f}H{left}" stroke="#444" stroke-width="0.6"/>')
        body.append(_text(left - 5, y + 3, tick, 'text-anchor="end"', 'fill="#444"'))
    for n, s in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        dash = "" if n < len(PALETTE) else ' stroke-dasharray="4 2"'
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{left + (right - left) * t / span:.1f} {bottom - plot_h * v / scale:.1f}"
            for i, (t, v) in enumerate(s.points)
        )
        body.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.4"{dash}/>')
    columns = 2
    col_w = (WIDTH - left) / columns
    legend_top = bottom + 30
    for n, s in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        x = left + (n % columns) * col_w
        ly = legend_top + 14 * (n // columns)
        name = s.name if len(s.name) <= 58 else s.name[:57] + "…"
        body.append(f'<rect x="{x:.1f}" y="{ly - 6}" width="12" height="3" fill="{colour}"/>')
        body.append(_text(x + 16, ly, name, 'font-size="9"'))
    height = int(legend_top + 14 * ((len(series) + columns - 1) // columns))
    per = _bin_text(span, max((len(s.points) for s in series), default=1))
    body.append(_text(left, top - 8, f"messages per {per}", 'fill="#444"', 'font-size="8"'))
    return _svg(height, body, "Messages per channel over exercise time")


def _bin_text(span: float, bins: int) -> str:
    seconds = span / max(bins, 1)
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def escalation(
    curve: Series,
    span: float,
    marks: Sequence[float] = (),
    rungs: Sequence[tuple[int, str]] = (),
    moves: Moves = (),
    peaks: Sequence[tuple[float, int, str]] = (),
    gaps: Gaps = (),
) -> str:
    """The escalation level as a step line; the times of decisions marked along the time axis; the
    script's named rungs (format 2) as dashed lines with their names, within the levels played; move
    boundaries; each peak annotated with its cause (time, level, label)."""
    span = max(span, 60.0)
    left, right, top, plot_h = 40.0, WIDTH - 10.0, 12.0, 150.0
    bottom = top + plot_h
    values = [v for _t, v in curve.points] or [0.0]
    lo, hi = min(0.0, *values), max(1.0, *values)
    pad = max(1.0, (hi - lo) * 0.1)
    lo, hi = lo - pad, hi + pad

    def y(v: float) -> float:
        return bottom - plot_h * (v - lo) / (hi - lo)

    body = _axis(left, right, bottom + 0, span, top) + _moves(left, right, top, bottom, span, moves, gaps)
    low, high = math.floor(lo + pad), math.ceil(hi - pad)
    step = 1 if high - low <= 10 else 2
    for level in sorted({0, *range(low, high + 1, step)}):
        at = y(level)
        body.append(f'<line x1="{left}" y1="{at:.1f}" x2="{right}" y2="{at:.1f}" stroke="#eee" stroke-width="0.5"/>')
        body.append(_text(left - 4, at + 3, level, 'text-anchor="end"', 'fill="#444"'))
    for level, name in rungs:
        if lo <= level <= hi:
            at = y(level)
            dash = 'stroke="#8a96a3" stroke-width="0.6" stroke-dasharray="3 3"'
            body.append(f'<line x1="{left}" y1="{at:.1f}" x2="{right}" y2="{at:.1f}" {dash}/>')
            body.append(_text(left + 4, at - 3, f"{level}: {name}", 'fill="#555"', 'font-size="8"'))
    path: list[str] = []
    prev: float | None = None
    for t, v in curve.points:
        x = left + (right - left) * min(t, span) / span
        if prev is None:
            path.append(f"M{x:.1f} {y(v):.1f}")
        else:
            path.append(f"H{x:.1f} V{y(v):.1f}")
        prev = v
    body.append(f'<path d="{" ".join(path)}" fill="none" stroke="#a50021" stroke-width="1.8"/>')
    diamonds = "".join(f"M{left + (right - left) * min(t, span) / span:.1f} {bottom - 9}l4 4-4 4-4-4z" for t in marks)
    if diamonds:
        body.append(f'<path d="{diamonds}" fill="#1f4e79"/>')
    for n, (t, level, label) in enumerate(peaks):
        x, at = left + (right - left) * min(t, span) / span, y(level)
        body.append(f'<circle cx="{x:.1f}" cy="{at:.1f}" r="2.6" fill="#a50021"/>')
        late = x > (left + right) / 2
        chars = max(12, int(((x - left) if late else (right - x)) / 4.3))
        text = label if len(label) <= chars else label[: chars - 1] + "…"
        anchor = 'text-anchor="end"' if late else 'text-anchor="start"'
        dx = -5 if late else 5
        # several peaks at one level: one label under the other, never over each other (issue 12)
        ly = max(at - 5, top + 18) + 10 * n
        body.append(_text(x + dx, ly, text, anchor, 'fill="#a50021"', 'font-size="8"'))
    height = int(bottom + 24)
    return _svg(height, body, "Escalation level over exercise time")
