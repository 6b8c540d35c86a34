"""The after-action report as data: a pure function of (exercise script, event log).

`build_report(exercise, events)` reads the log once (`log.read_log`: every event filed by kind,
its payload as its own class) and composes small section functions (`sections/`) into
`ReportData`, frozen dataclasses that the templates and charts read (`models`). No Flask, no
database, no clock: the same log always gives the same report. The relay rule (what relay actions
make of a message) is the engine's (`engine.state.relay_outcome`); times are formatted by
`script.times`.

Definitions where HSEEP leaves a choice (see docs/report.md):
- an *exchange* is one message a participant (or control) wrote: `message`, `message_sent`
  or `message_jammed`; deliveries and relay actions are what happened to it;
- a team's *response* to an inject is its first acknowledgement or first message after the
  release, whichever comes first; the per-team median is over the injects it responded to;
- the *first incident* is the first released inject addressed to a team other than an
  intermediary whose medium is not an order (tasking from one's own side is not an incident).
"""

from __future__ import annotations

from .compose import build_report
from .models import (
    RATINGS,
    RELAY_OUTCOMES,
    ChannelCount,
    ChannelLog,
    DecisionItem,
    Figure,
    Hotwash,
    Lane,
    LaneMark,
    Message,
    ObjectiveItem,
    Observation,
    Participant,
    PlanItem,
    RelayItem,
    RelayTiming,
    ReportData,
    Response,
    Segment,
    Series,
    TeamInfo,
    TimelineItem,
)
from .text import direction, marked_diff

__all__ = [
    "RATINGS",
    "RELAY_OUTCOMES",
    "ChannelCount",
    "ChannelLog",
    "DecisionItem",
    "Figure",
    "Hotwash",
    "Lane",
    "LaneMark",
    "Message",
    "ObjectiveItem",
    "Observation",
    "Participant",
    "PlanItem",
    "RelayItem",
    "RelayTiming",
    "ReportData",
    "Response",
    "Segment",
    "Series",
    "TeamInfo",
    "TimelineItem",
    "build_report",
    "direction",
    "marked_diff",
]
