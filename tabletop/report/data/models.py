"""The report's data: small frozen dataclasses that the templates and charts read.

`ReportData` is the whole report. Times are kept twice where the templates need both: the
seconds (`t`, `played_s`, `waited_s`...) and the text shown (`time`, `played`, `waited`...), made
with the named formats of `tabletop.script.times`. Player text is kept as text: the templates
escape it (it is never marked safe).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RATINGS = ("P", "S", "M", "U")  # HSEEP: performed without / with some / with major challenges, unable
RELAY_OUTCOMES = ("forwarded", "edited", "held", "declined", "waiting")  # the relay's counts, in this order


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


#: Marks a field added after the golden fixtures (tests/data/logs/*.report.json) were written: the
#: fixtures' projection leaves it out, so the report data of the old logs stays pinned whole.
NEW = {"golden": False}


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
    seq: int = field(default=0, metadata=NEW)  # the event's sequence number (the replay tape's `?seq=`)
    # The whole line as a reader says it, when `title` and `detail` hold ids (an escalation's reason
    # "decision gh-first-move: oman-line"): titles instead (issue 12). The renderer prefers it.
    reader: str = field(default="", metadata=NEW)


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
    # The observer's own mark, beside the rating (issue 13): "strength", "improvement" or "".
    finding: str = field(default="", metadata=NEW)


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
    # Filled in from the console (issue 13): the objective's text, a capability in words, the point of
    # contact and the start date (`due` is the end date).
    objective_text: str = field(default="", metadata=NEW)
    capability: str = field(default="", metadata=NEW)
    contact: str = field(default="", metadata=NEW)
    start: str = field(default="", metadata=NEW)


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
    # What format 2 adds to the report, only where the script uses it (so a format-1 report keeps the
    # shape the golden fixtures, tests/data/logs/*.report.json, pin whole): `escalation` (a `Ladder`:
    # the rungs' names beside the levels) and `questions` (the script's own hotwash questions, each a
    # `QuestionAnswers`).
    extras: dict[str, Any] = field(default_factory=dict)
    # What the sponsor asks (issue 12), for every format; left out of the golden projection (`NEW`).
    sponsor: Sponsor | None = field(default=None, metadata=NEW)
    # A rehearsal played by bots (`exercise rehearse` titles its session "Rehearsal: ..."): every page
    # of its report says so (issue 12).
    rehearsal: bool = field(default=False, metadata=NEW)


@dataclass(frozen=True)
class Ladder:
    """The script's escalation ladder and where play stood on it (format 2)."""

    start: int
    start_rung: str
    peak_rung: str
    final_rung: str
    rungs: tuple[tuple[int, str, str], ...]  # (level, name, description), from the lowest


@dataclass(frozen=True)
class Answer:
    name: str
    role: str
    text: str  # the answer; for a scale, the rating as text
    dir: str
    rating: int | None = None


@dataclass(frozen=True)
class QuestionAnswers:
    """One of the script's own hotwash questions (format 2), with everyone's answers."""

    id: str
    text: str
    kind: str  # text | scale
    answers: tuple[Answer, ...]
    mean: float | None = None  # scale: the mean rating
    counts: tuple[tuple[int, int], ...] = ()  # scale: (rating 1-5, answers)


# --------------------------------------------------------------- the sponsor's questions (issue 12)
@dataclass(frozen=True)
class ResearchAnswer:
    """One of the script's research questions (or a standard one), answered from the log."""

    id: str
    question: str
    measure: str  # the `answer` kind: first_contact, relay_fidelity...
    answer: str  # the answer, one or two sentences
    details: tuple[str, ...] = ()  # one line each: per incident, per intermediary...
    section: str = ""  # the anchor of the section that shows the evidence


@dataclass(frozen=True)
class KeyFinding:
    text: str
    dir: str


@dataclass(frozen=True)
class Step:
    """One step after an incident on one channel: when it happened and how long after the incident."""

    seq: int
    t: float
    time: str  # exercise time
    after: str  # exercise time after the incident
    after_s: float
    scenario_after: str  # scenario time after the incident ("" without a scenario clock)
    scenario_after_s: float | None
    who: str  # sender (team), or the receiving team


@dataclass(frozen=True)
class ContactRow:
    """One channel after one incident: first message in, its delivery, the first answer back and its delivery."""

    channel: str
    name: str
    line: bool  # a relay channel with an intermediary team: the line
    first: Step | None
    delivered: Step | None
    answer: Step | None
    answered: Step | None


@dataclass(frozen=True)
class Benchmark:
    what: str  # first contact | first answer
    benchmark: str  # "30 min"
    actual: str  # "27 min 12 s" or "not reached"
    verdict: str  # met | missed | not reached


@dataclass(frozen=True)
class IncidentContacts:
    inject: str
    title: str
    seq: int
    t: float
    time: str
    scenario: str
    move: str
    rows: tuple[ContactRow, ...]
    benchmarks: tuple[Benchmark, ...]


@dataclass(frozen=True)
class RelayVerdict:
    """An edited message's classification, and what the receiver did next."""

    seq: int
    time: str
    channel: str
    intermediary: str
    by: str
    sender: str
    kind: str  # substantive | cosmetic
    hits: tuple[tuple[str, str], ...]  # (rule, what it saw)
    next: str  # what the receiving team did next, or ""


@dataclass(frozen=True)
class RelayFigures:
    """What one intermediary (or one of its people) did with the messages it was given; each message
    counted once, by what finally became of it: the columns add up to `total`."""

    intermediary: str
    who: str  # "" for the intermediary's total row
    control: bool  # played by control (a relay channel of control's), reported apart
    total: int
    unchanged: int
    cosmetic: int
    substantive: int
    declined: int
    waiting: int
    held_first: int  # of all of them, held before being decided (not a separate outcome)


@dataclass(frozen=True)
class Seat:
    name: str  # person, or "" for a seat nobody played
    title: str
    authority: int | None


@dataclass(frozen=True)
class RankPair:
    seq: int
    time: str
    channel: str
    sender: Seat
    relayer: Seat | None
    receivers: tuple[Seat, ...]  # the receiving team's seats that read the channel
    receiver_team: str
    outcome: str
    flags: tuple[str, ...]  # mismatches against the script's channel rule; () when it matched


@dataclass(frozen=True)
class Received:
    channel: str
    count: int
    last: str  # "#12 +0:10:05 Reza (IRGC Navy commander): text"


@dataclass(frozen=True)
class DecisionKnowledge:
    seq: int
    title: str
    label: str
    team: str
    time: str
    scenario: str
    received: tuple[Received, ...]  # from the other side, by channel, before the decision
    pending: tuple[str, ...]  # in flight, held or waiting with the intermediary at the decision
    stopped: tuple[str, ...]  # declined by the intermediary before the decision (never arrived)
    informed: bool  # it had received at least one message from the other side
    # Against the same deciding team's previous decision (issue 12: section 8 lists a team's messages once).
    # `received`, `pending` and `stopped` stay whole (what it knew in all); `new` is `received` cut down to the
    # messages that had not reached it by `previous` (by channel: how many, the last of them), `new_stopped`
    # likewise; `earlier` is how many messages it knew then. `previous` is "" for a team's first decision (or
    # when it had known nothing then): `received` is listed whole.
    previous: str = field(default="", metadata=NEW)  # that decision's title
    previous_time: str = field(default="", metadata=NEW)
    previous_seq: int = field(default=0, metadata=NEW)
    earlier: int = field(default=0, metadata=NEW)
    new: tuple[Received, ...] = field(default=(), metadata=NEW)
    new_stopped: tuple[str, ...] = field(default=(), metadata=NEW)


@dataclass(frozen=True)
class Peak:
    t: float
    time: str
    level: int
    rung: str
    cause: str


@dataclass(frozen=True)
class MovePart:
    title: str
    span: str  # exercise time
    scenario: str  # scenario time span
    happened: tuple[str, ...]
    not_released: tuple[str, ...]
    not_taken: tuple[str, ...]


@dataclass(frozen=True)
class Outage:
    t: float  # exercise time when something fell due and was not done
    time: str
    text: str
    until: float = 0.0  # exercise time when it was done (the server back)


@dataclass(frozen=True)
class Sponsor:
    answers: tuple[ResearchAnswer, ...]
    findings: tuple[KeyFinding, ...]
    findings_by: str
    incidents: tuple[IncidentContacts, ...]
    verdicts: tuple[RelayVerdict, ...]
    relay_figures: tuple[RelayFigures, ...]
    ranks: tuple[RankPair, ...]
    knowledge: tuple[DecisionKnowledge, ...]
    peaks: tuple[Peak, ...]
    moves: tuple[MovePart, ...]
    move_marks: tuple[tuple[float, str], ...]  # (exercise time, title) of each move's start, for the charts
    outages: tuple[Outage, ...]
    public_private: tuple[TimelineItem, ...]  # public statements, line traffic and decisions, in time order
    lanes: tuple[Lane, ...]  # public, line, decisions: the chart beside them
    scripted: bool  # the questions are the script's own (else the standard set)
