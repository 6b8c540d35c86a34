"""The executive summary (issue 12): the script's research questions, each answered from the log by the
measure it names (or, for a script without any, the standard questions), and the facilitator's key
findings (the last `key_findings` sent from the console)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from tabletop.script import Exercise
from tabletop.script.models import RESEARCH_ANSWERS, ResearchQuestion

from ..log import ReportLog
from ..models import (
    DecisionKnowledge,
    IncidentContacts,
    KeyFinding,
    Peak,
    RankPair,
    RelayFigures,
    RelayVerdict,
    ResearchAnswer,
    Step,
)
from ..names import Names
from ..text import direction
from .contacts import best
from .flow import Flow, Passage

#: The standard questions, for a script that asks none of its own.
STANDARD = {
    "first_contact": "How soon after each incident did the sides make contact through the line?",
    "first_answer": "How soon did an answer come back through the line?",
    "relay_fidelity": "What did the intermediary change in what the sides said?",
    "rank_pairing": "Did rank and authority match across the line?",
    "decisions_informed": "Had the deciders heard from the other side before they decided?",
    "peak_escalation": "Where did escalation peak, and why?",
    "public_signals": "Did public statements come before or after the private line?",
    "line_share": "How much of the traffic between the sides went through the line?",
}
DETAILS = 5  # detail lines under an answer at most (the section holds them all)
SECTION = {
    "first_contact": "contacts",
    "first_answer": "contacts",
    "relay_fidelity": "relay-changes",
    "rank_pairing": "ranks",
    "decisions_informed": "knew",
    "peak_escalation": "decisions",
    "public_signals": "public-private",
    "line_share": "channels",
}


def findings(log: ReportLog) -> tuple[tuple[KeyFinding, ...], str]:
    """The facilitator's key findings: one item per line (a leading `-` or `*` dropped), and who wrote them."""
    found = log.key_findings
    if found is None:
        return (), ""
    items = []
    for line in found.text.splitlines():
        line = line.strip().lstrip("-*•").strip()
        if line:
            items.append(KeyFinding(line, direction(line)))
    return tuple(items), found.by


def questions(exercise: Exercise) -> tuple[tuple[ResearchQuestion, ...], bool]:
    if exercise.research_questions:
        return exercise.research_questions, True
    return tuple(ResearchQuestion(id=k, question=STANDARD[k], answer=k) for k in RESEARCH_ANSWERS), False


def _took(s: Step | None) -> str:
    if s is None:
        return "never"
    if s.scenario_after:
        return f"{s.scenario_after} of scenario time ({s.after} of exercise time)"
    return f"{s.after} of exercise time"


def plural(n: int, one: str, many: str = "") -> str:
    """`1 message`, `2 messages`."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def answers(
    exercise: Exercise,
    names: Names,
    flow: Flow,
    incidents: Sequence[IncidentContacts],
    verdicts: Sequence[RelayVerdict],
    figures: Sequence[RelayFigures],
    ranks: Sequence[RankPair],
    knew: Sequence[DecisionKnowledge],
    peaks: Sequence[Peak],
) -> tuple[tuple[ResearchAnswer, ...], bool]:
    asked, scripted = questions(exercise)
    found = []
    for q in asked:
        answer, details = measure(q.answer, names, flow, incidents, verdicts, figures, ranks, knew, peaks)
        if len(details) > DETAILS:
            details = [*details[: DETAILS - 1], f"and {len(details) - DETAILS + 1} more: see the section"]
        found.append(ResearchAnswer(q.id, q.question, q.answer, answer, tuple(details), SECTION[q.answer]))
    return tuple(found), scripted


def measure(
    kind: str,
    names: Names,
    flow: Flow,
    incidents: Sequence[IncidentContacts],
    verdicts: Sequence[RelayVerdict],
    figures: Sequence[RelayFigures],
    ranks: Sequence[RankPair],
    knew: Sequence[DecisionKnowledge],
    peaks: Sequence[Peak],
) -> tuple[str, list[str]]:
    """The answer of one measure (docs/exercise-format.md, research questions), and its detail lines."""
    if kind in ("first_contact", "first_answer"):
        return _contact(kind, flow, incidents)
    if kind == "relay_fidelity":
        return _fidelity(verdicts, figures)
    if kind == "rank_pairing":
        return _ranks(flow, ranks)
    if kind == "decisions_informed":
        return _informed(flow, knew)
    if kind == "peak_escalation":
        if not peaks:
            return "No escalation was recorded.", []
        p = peaks[0]
        rung = f" ({p.rung})" if p.rung else ""
        return f"Peak {p.level}{rung}, reached at {p.time}: {p.cause}.", [
            f"Reached again at {q.time}: {q.cause}." for q in peaks[1:]
        ]
    if kind == "public_signals":
        return _public(names, flow)
    if kind == "line_share":
        return _share(flow)
    return "", []


def _fidelity(verdicts: Sequence[RelayVerdict], figures: Sequence[RelayFigures]) -> tuple[str, list[str]]:
    rows = [f for f in figures if not f.who and not f.control]
    if not rows:
        return "Nothing went through an intermediary.", []
    total = sum(f.total for f in rows)
    ours = {f.intermediary for f in rows}
    rules = Counter(rule for v in verdicts if v.kind == "substantive" and v.intermediary in ours for rule, _ in v.hits)
    text = (
        f"Of {plural(total, 'message')} given to {', '.join(sorted(ours))}, "
        f"{sum(f.unchanged for f in rows)} passed unchanged, {sum(f.cosmetic for f in rows)} with cosmetic "
        f"edits only and {sum(f.substantive for f in rows)} changed in substance; "
        f"{sum(f.declined for f in rows)} declined and {sum(f.waiting for f in rows)} never passed on "
        f"({sum(f.held_first for f in rows)} held first)."
    )
    details = [f"Rules that fired: {', '.join(f'{r} {n}' for r, n in rules.most_common())}."] if rules else []
    for c in (f for f in figures if f.control):
        details.append(
            f"The relay played by control (reported apart): {plural(c.total, 'message')}, "
            f"{c.cosmetic + c.substantive} edited ({c.substantive} in substance)."
        )
    return text, details


def _ranks(flow: Flow, ranks: Sequence[RankPair]) -> tuple[str, list[str]]:
    line = [r for r in ranks if r.channel in _line_names(flow)]
    if not line:
        return "Nothing went through the line.", []
    off = [r for r in line if r.flags]
    kinds = Counter(flag.split(":")[0].split(" (")[0] for r in off for flag in r.flags)
    text = (
        f"{len(off)} of {plural(len(line), 'exchange')} through the line had a rank or authority mismatch "
        "against the channel's rule."
    )
    return text, [f"{k}: {n}" for k, n in kinds.most_common()]


def _informed(flow: Flow, knew: Sequence[DecisionKnowledge]) -> tuple[str, list[str]]:
    if not knew:
        return "No decision was taken.", []
    informed = [k for k in knew if k.informed]
    through = [k for k in knew if any(r.channel in _line_names(flow) for r in k.received)]
    pending = [k for k in knew if k.pending]
    text = (
        f"{len(informed)} of {plural(len(knew), 'decision')} came after the deciding team had heard from the other "
        f"side ({len(through)} through the line); {len(pending)} with a message from the other side still in "
        "flight or held by the intermediary."
    )
    unheard = [k for k in knew if not k.informed or k.pending]
    return text, [
        f"{k.title}: {k.label} ({k.team}, {k.time}): "
        + ("nothing received from the other side" if not k.informed else f"{len(k.pending)} message(s) in flight")
        for k in unheard
    ]


def _author(names: Names, p: Passage) -> str:
    """Who wrote a public statement: a spoof is control's, shown as what it imitated (issue 12)."""
    if p.spoofed:
        return f"{names.team('control')} (spoofed as {names.team(p.from_team)})"
    return (names.team(p.from_team) or names.team("control")) + (" (persona)" if p.persona else "")


def _public(names: Names, flow: Flow) -> tuple[str, list[str]]:
    public = [p for p in flow.passages if p.channel in flow.broadcast]
    if not public:
        return "No public statement was made.", []
    by = Counter(_author(names, p) for p in public)
    details = [f"{team}: {n}" for team, n in by.most_common()]
    contact = min(
        (p.arrived for p in flow.passages if p.channel in flow.line and p.arrived is not None and flow.genuine(p)),
        default=None,
    )
    if contact is None:
        return f"{plural(len(public), 'public statement')}, and no contact through the line.", details
    before = sum(1 for p in public if p.t < contact)
    text = (
        f"{plural(len(public), 'public statement')}: {before} before the first contact through the line, "
        f"{len(public) - before} after."
    )
    return text, details


def _share(flow: Flow) -> tuple[str, list[str]]:
    between = [p for p in flow.passages if flow.genuine(p) and any(t in flow.sides for t in p.to)]
    if not between:
        return "The sides exchanged no messages.", []
    on_line = [p for p in between if p.channel in flow.line]
    share = round(100 * len(on_line) / len(between))
    others = Counter(p.channel_name for p in between if p.channel not in flow.line)
    text = (
        f"{len(on_line)} of the {plural(len(between), 'message')} between the sides ({share}%) went through the line."
    )
    return text, [f"{name}: {n}" for name, n in others.most_common()]


def _line_names(flow: Flow) -> set[str]:
    return {p.channel_name for p in flow.passages if p.channel in flow.line}


def _contact(kind: str, flow: Flow, incidents: Sequence[IncidentContacts]) -> tuple[str, list[str]]:
    which = "delivered" if kind == "first_contact" else "answered"
    label = "first contact" if kind == "first_contact" else "first answer"
    if not incidents:
        return "No incident was released.", []
    if not flow.line:
        return "The script has no line through an intermediary.", []
    details = []
    met = reached = 0
    for inc in incidents:
        s = best(inc.rows, which)
        mark = next((b for b in inc.benchmarks if b.what == label), None)
        reached += s is not None
        met += mark is not None and mark.verdict == "met"
        against = f"; benchmark {mark.benchmark}: {mark.verdict}" if mark is not None else ""
        details.append(f"{inc.title} ({inc.time}): {_took(s)}{against}")
    marked = [b for inc in incidents for b in inc.benchmarks if b.what == label]
    what = (
        "a first message through the line reached the other side"
        if which == "delivered"
        else ("an answer came back through the line")
    )
    text = f"After {reached} of {plural(len(incidents), 'incident')}, {what}"
    if marked:
        text += f"; within the benchmark ({marked[0].benchmark} of scenario time) after {met}"
    return text + ".", details
