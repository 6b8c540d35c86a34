"""The after-action report as data: a pure function of (exercise script, event log).

`build_report(exercise, events)` folds the log into frozen dataclasses that the templates and
charts read. No Flask, no database, no clock: the same log always gives the same report.
Player text is kept as text here; the templates escape it (it is never marked safe).

Definitions where HSEEP leaves a choice (see docs/report.md):
- an *exchange* is one message a participant (or control) wrote: `message`, `message_sent`
  or `message_jammed`; deliveries and relay actions are what happened to it;
- a team's *response* to an inject is its first acknowledgement or first message after the
  release, whichever comes first; the per-team median is over the injects it responded to;
- the *first incident* is the first released inject addressed to a team other than an
  intermediary whose medium is not an order (tasking from one's own side is not an incident).
"""

from __future__ import annotations

import bisect
import difflib
import re
import statistics
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tabletop.engine import events as ev
from tabletop.engine.events import Event
from tabletop.engine.state import TEAM_CHANNEL
from tabletop.script import Exercise
from tabletop.script.times import format_log_offset, format_scenario_at, format_span, format_wall

RATINGS = ("P", "S", "M", "U")
RATING_NAMES = {
    "P": "Performed without challenges",
    "S": "Performed with some challenges",
    "M": "Performed with major challenges",
    "U": "Unable to be performed",
}
KEY_TEXT = 240  # characters of a message quoted in the timeline
_WORD = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


# ---------------------------------------------------------------- text
def direction(text: str) -> str:
    """`rtl` when the first strongly directional character is Arabic or Hebrew script, else `ltr`."""
    for ch in text[:400]:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


# --------------------------------------------------------------------- models
@dataclass(frozen=True)
class Segment:
    """A piece of a relayed text: `same`, `ins` (added by the intermediary) or `del` (removed)."""

    kind: str
    text: str


@dataclass(frozen=True)
class Participant:
    id: int
    kind: str  # player | observer
    name: str
    team: str | None
    team_name: str
    position: str | None
    position_title: str
    teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class TeamInfo:
    id: str
    name: str
    intermediary: bool
    positions: tuple[tuple[str, str, int], ...]  # (id, title, authority)
    players: tuple[Participant, ...]


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Message:
    """One exchange, as written, with what became of it."""

    seq: int
    t: float
    time: str
    channel: str  # `team:<id>` for team chats, else the channel id
    channel_name: str
    from_team: str
    from_team_name: str
    sender: str  # name (position title)
    name: str  # the name alone
    text: str
    dir: str
    status: str  # delivered | forwarded | edited | held | declined | waiting | jammed | in transit
    spoofed: bool = False
    to: str = ""


@dataclass(frozen=True)
class TimelineItem:
    t: float
    time: str
    scenario: str
    kind: str  # inject | decision | escalation | message | note | clock | jam
    teams: str
    title: str
    detail: str = ""
    dir: str = "ltr"
    ref: str = ""  # `#seq` of a message in the log


@dataclass(frozen=True)
class ChannelCount:
    id: str
    name: str
    kind: str
    total: int
    by_team: tuple[tuple[str, int], ...]  # (team id, messages written)


@dataclass(frozen=True)
class RelayItem:
    seq: int
    channel_name: str
    relay_team: str
    from_team_name: str
    to_names: str
    sender: str
    name: str
    time: str
    t: float
    outcome: str  # forwarded | edited | declined | waiting (never decided)
    held: bool
    held_for: str
    waited: str
    waited_s: float | None
    by: str
    original: str
    original_dir: str
    forwarded: str
    forwarded_dir: str
    original_marked: tuple[Segment, ...] = ()
    forwarded_marked: tuple[Segment, ...] = ()


@dataclass(frozen=True)
class Response:
    inject: str
    title: str
    time: str
    team: str
    team_name: str
    ack: str  # delay to the first acknowledgement, or "" / "none"
    message: str  # delay to the first message
    ack_s: float | None
    message_s: float | None


@dataclass(frozen=True)
class RelayTiming:
    incident: str
    incident_title: str
    incident_time: str
    steps: tuple[tuple[str, str, str], ...]  # (what, exercise time, delay after the incident)


@dataclass(frozen=True)
class DecisionItem:
    inject: str
    t: float
    title: str
    prompt: str
    teams: str
    opened: str
    time: str
    scenario: str
    took: str  # time from the prompt to the decision
    option: str
    label: str
    who: str
    rationale: str
    rationale_dir: str
    escalation: int
    how: str  # chosen | default at the deadline | lapsed
    released: tuple[str, ...]  # titles (with times) of the injects it released


@dataclass(frozen=True)
class Observation:
    time: str
    rating: str
    text: str
    dir: str
    team: str
    name: str


@dataclass(frozen=True)
class ObjectiveItem:
    id: str
    text: str
    capability: str
    counts: tuple[tuple[str, int], ...]  # (rating, count)
    rating: str  # the most frequent rating, the lower one on a tie; "" when unrated
    strengths: tuple[Observation, ...]
    improvements: tuple[Observation, ...]
    plan: tuple[PlanItem, ...] = ()


@dataclass(frozen=True)
class PlanItem:
    issue: str
    action: str
    organisation: str
    due: str
    objective: str


@dataclass(frozen=True)
class Hotwash:
    name: str
    role: str
    strengths: str
    strengths_dir: str
    improvements: str
    improvements_dir: str
    channels: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ChannelLog:
    id: str  # anchor-safe id
    name: str
    kind: str
    members: str
    messages: tuple[Message, ...]


@dataclass(frozen=True)
class Series:
    """Points for a chart: (exercise seconds, value)."""

    name: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class LaneMark:
    t: float
    kind: str  # inject | decision | message | ack | note
    label: str = ""


@dataclass(frozen=True)
class Lane:
    team: str
    name: str
    marks: tuple[LaneMark, ...]


@dataclass(frozen=True)
class ReportData:
    title: str
    exercise_id: str
    session_id: str
    session_title: str
    classification: str
    summary: str  # author Markdown
    dates: str
    played: str
    played_s: float
    duration_s: float
    scenario_span: str
    facilitators: tuple[str, ...]
    figures: tuple[Figure, ...]
    channel_counts: tuple[ChannelCount, ...]
    team_medians: tuple[tuple[str, str, int], ...]  # (team name, median response, injects answered)
    objectives: tuple[ObjectiveItem, ...]
    general_observations: tuple[Observation, ...]
    teams: tuple[TeamInfo, ...]
    observers: tuple[Participant, ...]
    timeline: tuple[TimelineItem, ...]
    relays: tuple[RelayItem, ...]
    relay_counts: tuple[tuple[str, int], ...]
    responses: tuple[Response, ...]
    relay_timing: RelayTiming | None
    decisions: tuple[DecisionItem, ...]
    escalation: Series
    peak_escalation: int
    final_escalation: int
    traffic: tuple[Series, ...]
    lanes: tuple[Lane, ...]
    hotwash: tuple[Hotwash, ...]
    channel_ratings: tuple[tuple[str, float, int], ...]  # (channel name, mean 1-5, answers)
    plan: tuple[PlanItem, ...]
    logs: tuple[ChannelLog, ...]
    exchanges: int
    injects_released: int
    scenario_start: str = ""
    built_from: int = 0  # number of events read
    extras: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------- helpers
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


def _median(values: Iterable[float]) -> float | None:
    values = list(values)
    return statistics.median(values) if values else None


def _anchor(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "x"


def _short(text: str, limit: int = KEY_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _Names:
    """Display names of teams, positions and channels, tolerant of ids the script no longer has."""

    def __init__(self, exercise: Exercise) -> None:
        self.teams = {t.id: t.name for t in exercise.teams}
        self.teams["control"] = "Exercise control"
        self.positions = {p.id: p.title for t in exercise.teams for p in t.positions}
        self.channels = {c.id: c.name for c in exercise.channels}

    def team(self, team: str | None) -> str:
        return self.teams.get(team or "", team or "")

    def channel(self, channel: str, team: str | None = None) -> str:
        if channel == TEAM_CHANNEL:
            return f"Team chat: {self.team(team)}"
        return self.channels.get(channel, channel)

    def sender(self, p: dict[str, Any]) -> str:
        name = str(p.get("name") or "")
        position = p.get("from_position")
        title = self.positions.get(position or "", position or "")
        if name and title:
            return f"{name} ({title})"
        return name or title or self.team(p.get("from_team"))


# --------------------------------------------------------------------- build
def build_report(
    exercise: Exercise,
    events: Sequence[Event],
    plan: Sequence[dict[str, Any]] | None = None,
    *,
    session_id: str = "",
    session_title: str = "",
    incident: str | None = None,
) -> ReportData:
    """Fold a session's event log into the report (pure: no I/O, same input, same output)."""
    names = _Names(exercise)
    scenario = exercise.scenario
    events = sorted(events, key=lambda e: e.seq)

    def scen(t: float | None) -> str:
        return format_scenario_at(scenario, t)

    # -- one pass over the log ------------------------------------------------
    participants: dict[int, dict[str, Any]] = {}
    facilitators: dict[str, None] = {}
    released: dict[str, tuple[Event, dict[str, Any]]] = {}
    acks: dict[tuple[str, str], float] = {}
    messages: list[Event] = []
    relay_actions: dict[int, list[Event]] = defaultdict(list)
    deliveries: dict[int, float] = {}
    decisions: list[Event] = []
    escalation_events: list[Event] = []
    notes: list[Event] = []
    observations: list[Event] = []
    feedback: list[Event] = []
    clock_events: list[Event] = []
    jams: list[Event] = []
    plan_items = list(plan) if plan is not None else None
    written: dict[str, dict[str, Any]] = {}
    last_t = 0.0
    first_wall: float | None = None
    last_wall: float | None = None
    ended_t: float | None = None

    for e in events:
        p = e.payload
        last_t = max(last_t, e.t)
        if e.actor is None and e.type != ev.MESSAGE_DELIVERED:
            for key in ("by", "spoofed_by"):
                if p.get(key) and not (e.type == ev.MESSAGE_RELAYED and p.get("relay") != "control"):
                    facilitators[str(p[key])] = None
            if e.type in (ev.NOTE, ev.MESSAGE, ev.OBSERVATION, ev.FEEDBACK) and p.get("name"):
                facilitators[str(p["name"])] = None
        kind = e.type
        if kind == ev.PARTICIPANT_JOINED:
            participants[int(p["participant"])] = p
        elif kind == ev.CLOCK_STARTED:
            first_wall = first_wall if first_wall is not None else e.wall
            clock_events.append(e)
        elif kind in (ev.CLOCK_PAUSED, ev.CLOCK_RESUMED, ev.SPEED_CHANGED):
            clock_events.append(e)
        elif kind == ev.SESSION_ENDED:
            ended_t, last_wall = e.t, e.wall
            clock_events.append(e)
        elif kind == ev.INJECT_WRITTEN:
            written[p["definition"]["inject"]] = p["definition"]
        elif kind == ev.INJECT_RELEASED:
            released[p["inject"]] = (e, p)
        elif kind == ev.INJECT_ACKNOWLEDGED:
            acks.setdefault((p["inject"], p["team"]), e.t)
        elif kind in (ev.MESSAGE, ev.MESSAGE_SENT, ev.MESSAGE_JAMMED):
            messages.append(e)
        elif kind == ev.MESSAGE_RELAYED:
            relay_actions[int(p["message"])].append(e)
        elif kind == ev.MESSAGE_DELIVERED:
            deliveries.setdefault(int(p["message"]), e.t)
        elif kind == ev.DECISION_MADE:
            decisions.append(e)
        elif kind == ev.ESCALATION_CHANGED:
            escalation_events.append(e)
        elif kind == ev.NOTE:
            notes.append(e)
        elif kind == ev.OBSERVATION:
            observations.append(e)
        elif kind == ev.FEEDBACK:
            feedback.append(e)
        elif kind == ev.CHANNEL_JAMMED:
            jams.append(e)
        elif kind == ev.IMPROVEMENT_PLAN and plan is None:
            plan_items = list(p.get("items", []))
    played = ended_t if ended_t is not None else last_t
    if last_wall is None and events:
        last_wall = events[-1].wall

    # -- messages -----------------------------------------------------------------
    channel_kind = {c.id: c for c in exercise.channels}
    msg_items: list[Message] = []
    relays: list[RelayItem] = []
    relay_counter: Counter[str] = Counter()
    sent_by_team: dict[str, list[float]] = defaultdict(list)
    for e in messages:
        p = e.payload
        channel = p["channel"]
        from_team = p.get("from_team") or ""
        if channel == TEAM_CHANNEL:
            key, cname = f"team:{p.get('team')}", names.channel(channel, p.get("team"))
        else:
            key, cname = channel, names.channel(channel)
        actions = relay_actions.get(e.seq, [])
        status = "delivered"
        if e.type == ev.MESSAGE_JAMMED:
            status = "jammed"
        elif e.type == ev.MESSAGE_SENT:
            final = next((a for a in reversed(actions) if a.payload["action"] != "hold"), None)
            if final is not None:
                action = final.payload["action"]
                status = {"forward": "forwarded", "edit": "edited", "decline": "declined"}[action]
                if action == "edit" and not final.payload.get("edited", True):
                    status = "forwarded"
            elif actions:
                status = "held"
            elif p.get("relay"):
                status = "waiting"
            else:
                status = "delivered" if e.seq in deliveries else "in transit"
        to = ", ".join(names.team(t) for t in p.get("to", []) if t != "*")
        text = str(p.get("text", ""))
        msg_items.append(
            Message(
                seq=e.seq,
                t=e.t,
                time=format_log_offset(e.t),
                channel=key,
                channel_name=cname,
                from_team=from_team,
                from_team_name=names.team(from_team),
                sender=names.sender(p),
                name=str(p.get("name") or "") or names.sender(p),
                text=text,
                dir=direction(text),
                status=status,
                spoofed=bool(p.get("spoofed")),
                to=to,
            )
        )
        if from_team and e.type != ev.MESSAGE_JAMMED and not p.get("spoofed"):
            sent_by_team[from_team].append(e.t)
        if e.type == ev.MESSAGE_SENT and p.get("relay"):
            relays.append(_relay_item(e, actions, deliveries, names, status))
            relay_counter[status] += 1
            if any(a.payload["action"] == "hold" for a in actions):
                relay_counter["held"] += 1
    for times in sent_by_team.values():
        times.sort()

    # -- channel counts and traffic -----------------------------------------------
    team_ids = [t.id for t in exercise.teams]
    log_keys: list[tuple[str, str, str, str]] = [
        (f"team:{t.id}", f"Team chat: {t.name}", "team", t.name) for t in exercise.teams
    ]
    for c in exercise.channels:
        members = "all teams read" if c.kind == "broadcast" else ", ".join(names.team(m) for m in c.members)
        if c.kind == "relay":
            members += f"; relayed by {names.team(c.relay)}"
        log_keys.append((c.id, c.name, c.kind, members))
    by_channel: dict[str, list[Message]] = defaultdict(list)
    for m in msg_items:
        by_channel[m.channel].append(m)
    known = {k for k, *_ in log_keys}
    for key in by_channel:
        if key not in known:  # a channel the script no longer has: still in the log
            log_keys.append((key, by_channel[key][0].channel_name, "other", ""))
    counts: list[ChannelCount] = []
    for key, cname, ckind, _members in log_keys:
        items = by_channel.get(key, [])
        per_team = Counter(m.from_team for m in items)
        counts.append(
            ChannelCount(key, cname, ckind, len(items), tuple((t, per_team.get(t, 0)) for t in [*team_ids, "control"]))
        )
    logs = tuple(
        ChannelLog(_anchor(key), cname, ckind, members, tuple(by_channel.get(key, [])))
        for key, cname, ckind, members in log_keys
        if by_channel.get(key)
    )
    span = max(played, 60.0)
    bins = 40
    width = span / bins
    traffic = []
    for key, cname, _k, _m in log_keys:
        items = by_channel.get(key, [])
        if not items:
            continue
        hist = [0] * bins
        for m in items:
            hist[min(bins - 1, int(m.t / width))] += 1
        traffic.append(Series(cname, tuple(((i + 0.5) * width, float(n)) for i, n in enumerate(hist))))

    # -- injects, responses and the timeline ------------------------------------------
    definitions: dict[str, dict[str, Any]] = dict(written)
    for inject_id, (_e, p) in released.items():
        definitions[inject_id] = p
    intermediaries = {t.id for t in exercise.teams if t.intermediary}
    responses: list[Response] = []
    answered: dict[str, list[float]] = defaultdict(list)
    timeline: list[TimelineItem] = []
    release_order = sorted(released.values(), key=lambda x: x[0].seq)
    for e, p in release_order:
        to = [t for t in p.get("to", []) if t in names.teams]
        body = p.get("body", "")
        how = p.get("how", "scheduled")
        detail = f"{p.get('medium', 'other')}" + (f", from {p['from']}" if p.get("from") else "")
        if how != "scheduled":
            detail += f"; released {how}"
        timeline.append(
            TimelineItem(
                e.t,
                format_log_offset(e.t),
                scen(e.t),
                "inject",
                ", ".join(names.team(t) for t in to),
                str(p.get("title", p["inject"])),
                detail,
                direction(body) if body else "ltr",
            )
        )
        for team in to:
            ack_t = acks.get((p["inject"], team))
            times = sent_by_team.get(team, [])
            i = bisect.bisect_left(times, e.t)
            msg_t = times[i] if i < len(times) else None
            ack_d = None if ack_t is None else ack_t - e.t
            msg_d = None if msg_t is None else msg_t - e.t
            first = min((d for d in (ack_d, msg_d) if d is not None), default=None)
            if first is not None:
                answered[team].append(first)
            responses.append(
                Response(
                    p["inject"],
                    str(p.get("title", "")),
                    format_log_offset(e.t),
                    team,
                    names.team(team),
                    format_span(ack_d) if ack_d is not None else ("none" if p.get("ack") else "not asked"),
                    format_span(msg_d) if msg_d is not None else "none",
                    ack_d,
                    msg_d,
                )
            )
    team_medians = tuple(
        (t.name, format_span(_median(answered.get(t.id, []))) or "no response", len(answered.get(t.id, [])))
        for t in exercise.teams
    )

    # -- decisions ------------------------------------------------------------------
    children: dict[tuple[str, str], list[str]] = defaultdict(list)
    for inject in exercise.injects:
        if inject.trigger is not None and inject.trigger.decision:
            children[(inject.trigger.decision, inject.trigger.option or "")].append(inject.id)
    decision_items: list[DecisionItem] = []
    for e in decisions:
        p = e.payload
        opened_e, definition = released.get(p["inject"], (None, {}))
        spec = definition.get("decision") or {}
        opened_t = opened_e.t if opened_e is not None else None
        if p.get("lapsed"):
            how = "lapsed: no option at the deadline"
        elif p.get("by_default"):
            how = "default at the deadline"
        else:
            how = "chosen"
        who = names.sender({"name": p.get("name"), "from_position": p.get("position")}) if p.get("name") else ""
        if who and p.get("team"):
            who += f", {names.team(p['team'])}"
        released_titles = tuple(
            f"{released[c][1].get('title', c)} ({format_log_offset(released[c][0].t)})"
            for c in children.get((p["inject"], p.get("option") or ""), [])
            if c in released
        )
        rationale = str(p.get("rationale") or "")
        decision_items.append(
            DecisionItem(
                inject=p["inject"],
                t=e.t,
                title=str(definition.get("title", p["inject"])),
                prompt=str(spec.get("prompt", "")),
                teams=", ".join(names.team(t) for t in e.audience),
                opened=format_log_offset(opened_t),
                time=format_log_offset(e.t),
                scenario=scen(e.t),
                took=format_span(e.t - opened_t) if opened_t is not None else "",
                option=str(p.get("option") or ""),
                label=str(p.get("label") or "no option"),
                who=who or ("nobody: the default applied" if p.get("by_default") else ""),
                rationale=rationale,
                rationale_dir=direction(rationale),
                escalation=int(p.get("escalation") or 0),
                how=how,
                released=released_titles,
            )
        )
        timeline.append(
            TimelineItem(
                e.t,
                format_log_offset(e.t),
                scen(e.t),
                "decision",
                ", ".join(names.team(t) for t in e.audience),
                f"{definition.get('title', p['inject'])}: {p.get('label') or 'no option'}",
                f"{how}" + (f" by {who}" if p.get("name") else ""),
            )
        )

    # -- escalation ---------------------------------------------------------------
    level, peak = 0, 0
    points: list[tuple[float, float]] = [(0.0, 0.0)]
    for e in escalation_events:
        p = e.payload
        level = int(p["level"])
        peak = max(peak, level)
        points.append((e.t, float(level)))
        delta = int(p.get("delta", 0))
        timeline.append(
            TimelineItem(
                e.t,
                format_log_offset(e.t),
                scen(e.t),
                "escalation",
                "",
                f"Escalation {delta:+d} to {level}",
                str(p.get("reason", "")),
            )
        )
    points.append((played, float(level)))

    # -- notes, clock, jams, key messages in the timeline ------------------------------
    for e in notes:
        text = str(e.payload.get("text", ""))
        timeline.append(
            TimelineItem(
                e.t, format_log_offset(e.t), scen(e.t), "note", "Control", f"Note by {e.payload.get('name', '')}",
                _short(text), direction(text),
            )
        )  # fmt: skip
    for e in clock_events:
        what = {
            ev.CLOCK_STARTED: "Clock started",
            ev.CLOCK_PAUSED: "Clock paused",
            ev.CLOCK_RESUMED: "Clock resumed",
            ev.SPEED_CHANGED: f"Speed set to {e.payload.get('speed')}x",
            ev.SESSION_ENDED: "End of exercise",
        }[e.type]
        timeline.append(
            TimelineItem(e.t, format_log_offset(e.t), scen(e.t), "clock", "All", what, str(e.payload.get("by", "")))
        )
    for e in jams:
        p = e.payload
        timeline.append(
            TimelineItem(
                e.t, format_log_offset(e.t), scen(e.t), "jam", "", f"{names.channel(p['channel'])} jammed",
                f"for {format_span(float(p.get('for', 0)))}",
            )
        )  # fmt: skip
    firsts: set[str] = set()
    for m in msg_items:
        reasons = []
        if m.channel not in firsts:
            firsts.add(m.channel)
            reasons.append(f"first on {m.channel_name}")
        kind = channel_kind.get(m.channel)
        if kind is not None and kind.kind == "broadcast":
            reasons.append("public statement")
        if m.spoofed:
            reasons.append("spoofed by control")
        if m.status in ("edited", "declined"):
            reasons.append(f"{m.status} by the intermediary")
        if m.status == "jammed":
            reasons.append("jammed: not delivered")
        if reasons:
            timeline.append(
                TimelineItem(
                    m.t,
                    m.time,
                    scen(m.t),
                    "message",
                    m.from_team_name,
                    f"{m.sender} on {m.channel_name}",
                    _short(m.text),
                    m.dir,
                    f"#{m.seq} ({'; '.join(reasons)})",
                )
            )
    timeline.sort(key=lambda item: item.t)

    # -- lanes: events per team over time -----------------------------------------------
    lane_marks: dict[str, list[LaneMark]] = defaultdict(list)
    for e, p in release_order:
        for team in p.get("to", []):
            lane_marks[team].append(LaneMark(e.t, "inject", str(p.get("title", ""))))
    for e in decisions:
        for team in e.audience:
            lane_marks[team].append(LaneMark(e.t, "decision", str(e.payload.get("label") or "")))
    for m in msg_items:
        if m.from_team:
            lane_marks[m.from_team].append(LaneMark(m.t, "message"))
    for (_inject, team), t in acks.items():
        lane_marks[team].append(LaneMark(t, "ack"))
    for e in notes:
        lane_marks["control"].append(LaneMark(e.t, "note"))
    lanes = tuple(
        Lane(team, names.team(team), tuple(sorted(lane_marks.get(team, []), key=lambda mk: mk.t)))
        for team in [*team_ids, "control"]
    )

    # -- first incident to the relay ----------------------------------------------------
    relay_timing = _relay_timing(exercise, release_order, msg_items, relays, deliveries, intermediaries, incident)

    # -- objectives, observations, hotwash, plan ----------------------------------------------
    plan_rows = tuple(
        PlanItem(
            str(i.get("issue", "")),
            str(i.get("action", "")),
            str(i.get("organisation", "")),
            str(i.get("due", "")),
            str(i.get("objective") or ""),
        )
        for i in (plan_items or [])
    )
    obs_by: dict[str | None, list[Observation]] = defaultdict(list)
    for e in observations:
        p = e.payload
        text = str(p.get("text", ""))
        obs_by[p.get("objective")].append(
            Observation(
                format_log_offset(e.t),
                str(p.get("rating", "")),
                text,
                direction(text),
                names.team(p.get("team")) if p.get("team") else "",
                str(p.get("name", "")),
            )
        )
    objectives = []
    for o in exercise.objectives:
        found = obs_by.get(o.id, [])
        counted = Counter(x.rating for x in found)
        rating = ""
        if counted:
            top = max(counted.values())
            rating = [r for r in RATINGS if counted.get(r) == top][-1]
        objectives.append(
            ObjectiveItem(
                o.id,
                o.text,
                o.capability or "",
                tuple((r, counted.get(r, 0)) for r in RATINGS),
                rating,
                tuple(x for x in found if x.rating in ("P", "S")),
                tuple(x for x in found if x.rating in ("M", "U")),
                tuple(item for item in plan_rows if item.objective == o.id),
            )
        )
    hotwash = []
    ratings: dict[str, list[int]] = defaultdict(list)
    for e in feedback:
        p = e.payload
        if p.get("kind") == "player":
            role = f"{names.team(p.get('team'))}, {names.positions.get(p.get('position') or '', '')}".strip(", ")
        else:
            role = {"observer": "Observer", "control": "Facilitator"}.get(str(p.get("kind")), str(p.get("kind")))
        chans = tuple((names.channel(c, p.get("team")), int(v)) for c, v in sorted(p.get("channels", {}).items()))
        for c, v in p.get("channels", {}).items():
            ratings[c].append(int(v))
        strengths, improvements = str(p.get("strengths", "")), str(p.get("improvements", ""))
        hotwash.append(
            Hotwash(
                str(p.get("name", "")),
                role,
                strengths,
                direction(strengths),
                improvements,
                direction(improvements),
                chans,
            )
        )
    channel_ratings = tuple(
        ("Team chats" if c == TEAM_CHANNEL else names.channel(c), round(statistics.mean(v), 1), len(v))
        for c, v in sorted(ratings.items())
    )

    # -- participants ---------------------------------------------------------------
    people = [
        Participant(
            pid,
            str(p.get("kind", "player")),
            str(p.get("name", "")),
            p.get("team"),
            names.team(p.get("team")),
            p.get("position"),
            names.positions.get(p.get("position") or "", p.get("position") or ""),
            tuple(p.get("teams", [])),
        )
        for pid, p in sorted(participants.items())
    ]
    teams = tuple(
        TeamInfo(
            t.id,
            t.name,
            t.intermediary,
            tuple((pos.id, pos.title, pos.authority) for pos in t.positions),
            tuple(x for x in people if x.kind == "player" and x.team == t.id),
        )
        for t in exercise.teams
    )
    observers = tuple(x for x in people if x.kind == "observer")

    # -- figures ---------------------------------------------------------------------
    scripted = len(exercise.injects)
    n_released = len(released)
    made = sum(1 for d in decision_items if d.how == "chosen")
    total_msgs = len(msg_items)
    figures = [
        Figure("Played time", format_span(played), f"exercise time, script planned {format_span(exercise.duration)}"),
        Figure(
            "Injects released",
            str(n_released),
            f"of {scripted} scripted" + (f", {len(written)} written live" if written else ""),
        ),
        Figure("Messages", str(total_msgs), f"on {len(logs)} channels"),
        Figure(
            "Through the relay",
            str(len(relays)),
            ", ".join(f"{relay_counter.get(k, 0)} {k}" for k in ("forwarded", "edited", "held", "declined", "waiting")),
        ),
        Figure("Decisions", str(len(decision_items)), f"{made} chosen, {len(decision_items) - made} by default"),
        Figure("Escalation", f"peak {peak}, final {level}", "from 0 at the start"),
        Figure("Observations", str(len(observations)), f"{len(feedback)} hotwash answers"),
    ]
    scenario_span = ""
    if scenario is not None:
        scenario_span = f"{scen(0)} to {scen(played)} (time scale {scenario.time_scale:g}x)"
    dates = format_wall(first_wall)
    if last_wall is not None and first_wall is not None:
        dates = f"{dates} to {format_wall(last_wall)}"
    return ReportData(
        title=exercise.title,
        exercise_id=exercise.id,
        session_id=session_id,
        session_title=session_title or exercise.title,
        classification=exercise.classification,
        summary=exercise.summary,
        dates=dates or "not started",
        played=format_span(played),
        played_s=played,
        duration_s=float(exercise.duration),
        scenario_span=scenario_span,
        facilitators=tuple(facilitators),
        figures=tuple(figures),
        channel_counts=tuple(counts),
        team_medians=team_medians,
        objectives=tuple(objectives),
        general_observations=tuple(obs_by.get(None, [])),
        teams=teams,
        observers=observers,
        timeline=tuple(timeline),
        relays=tuple(relays),
        relay_counts=tuple(
            (k, relay_counter.get(k, 0)) for k in ("forwarded", "edited", "held", "declined", "waiting")
        ),
        responses=tuple(responses),
        relay_timing=relay_timing,
        decisions=tuple(decision_items),
        escalation=Series("Escalation", tuple(points)),
        peak_escalation=peak,
        final_escalation=level,
        traffic=tuple(traffic),
        lanes=lanes,
        hotwash=tuple(hotwash),
        channel_ratings=channel_ratings,
        plan=plan_rows,
        logs=logs,
        exchanges=total_msgs,
        injects_released=n_released,
        scenario_start=scen(0),
        built_from=len(events),
    )


def _relay_item(e: Event, actions: list[Event], deliveries: dict[int, float], names: _Names, status: str) -> RelayItem:
    p = e.payload
    original = str(p.get("text", ""))
    final = next((a for a in reversed(actions) if a.payload["action"] != "hold"), None)
    holds = [a for a in actions if a.payload["action"] == "hold"]
    forwarded = ""
    left: tuple[Segment, ...] = ()
    right: tuple[Segment, ...] = ()
    if final is not None and final.payload["action"] in ("forward", "edit"):
        forwarded = str(final.payload.get("text", original))
        if status == "edited":
            left, right = marked_diff(original, forwarded)
    waited_s = final.t - e.t if final is not None else None
    held_for = ""
    if holds:
        end = final.t if final is not None else None
        held_for = format_span(end - holds[0].t) if end is not None else "never released"
    outcome = status if status in ("forwarded", "edited", "declined") else "waiting"
    return RelayItem(
        seq=e.seq,
        channel_name=names.channel(p["channel"]),
        relay_team=names.team(p.get("relay")),
        from_team_name=names.team(p.get("from_team")),
        to_names=", ".join(names.team(t) for t in p.get("to", [])),
        sender=names.sender(p),
        name=str(p.get("name") or "") or names.sender(p),
        time=format_log_offset(e.t),
        t=e.t,
        outcome=outcome,
        held=bool(holds),
        held_for=held_for,
        waited=format_span(waited_s) if waited_s is not None else "still waiting at the end",
        waited_s=waited_s,
        by=str(final.payload.get("by", "")) if final is not None else "",
        original=original,
        original_dir=direction(original),
        forwarded=forwarded,
        forwarded_dir=direction(forwarded) if forwarded else "ltr",
        original_marked=left,
        forwarded_marked=right,
    )


def _relay_timing(
    exercise: Exercise,
    release_order: list[tuple[Event, dict[str, Any]]],
    msg_items: list[Message],
    relays: list[RelayItem],
    deliveries: dict[int, float],
    intermediaries: set[str],
    incident: str | None,
) -> RelayTiming | None:
    """From the first incident to the first message through an intermediary, its delivery, and the reply."""
    first = None
    for e, p in release_order:
        if incident is not None:
            if p["inject"] == incident:
                first = (e, p)
                break
            continue
        if p.get("medium") != "order" and any(t not in intermediaries for t in p.get("to", [])):
            first = (e, p)
            break
    if first is None:
        return None
    e0, p0 = first
    t0 = e0.t
    through = [r for r in relays if r.t >= t0 and r.relay_team in {exercise.team(i).name for i in intermediaries}]
    steps: list[tuple[str, str, str]] = []

    def step(what: str, t: float | None) -> None:
        if t is None:
            steps.append((what, "", "did not happen"))
        else:
            steps.append((what, format_log_offset(t), format_span(t - t0)))

    if not through:
        step("First message through the intermediary", None)
        return RelayTiming(p0["inject"], str(p0.get("title", "")), format_log_offset(t0), tuple(steps))
    m1 = through[0]
    step(f"First message through the intermediary ({m1.from_team_name}, #{m1.seq}, {m1.outcome})", m1.t)
    passed = next((r for r in through if r.seq in deliveries), None)
    if passed is None:
        step("First message to reach the other side", None)
        step("First reply through the intermediary", None)
    else:
        d1 = deliveries[passed.seq]
        step(f"First message to reach the other side ({passed.to_names}, #{passed.seq})", d1)
        reply = next((r for r in through if r.t >= d1 and r.from_team_name != passed.from_team_name), None)
        if reply is None:
            step("First reply through the intermediary", None)
        else:
            step(f"First reply through the intermediary ({reply.from_team_name}, #{reply.seq})", reply.t)
            step(f"The reply reached {reply.to_names or 'the other side'} ({reply.outcome})", deliveries.get(reply.seq))
    return RelayTiming(p0["inject"], str(p0.get("title", "")), format_log_offset(t0), tuple(steps))
