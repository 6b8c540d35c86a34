"""The sponsor's questions (issue 12), composed: contact times per incident, what the relay changed,
rank pairing, what each decider knew, escalation peaks, the moves, outages, public beside private,
and the executive summary that answers the research questions from all of them."""

from __future__ import annotations

from tabletop.script import Exercise

from .log import ReportLog
from .models import Sponsor
from .names import Names
from .sections import contacts, knowledge, relayed, story, summary
from .sections.flow import flow as read_flow


def sponsor(exercise: Exercise, log: ReportLog, names: Names) -> Sponsor:
    flow = read_flow(exercise, log, names)
    incidents = contacts.contacts(exercise, log, names, flow)
    verdicts = relayed.verdicts(log, names, flow)
    figures = relayed.relay_figures(names, flow)
    ranks = relayed.ranks(exercise, log, names, flow)
    knew = knowledge.knowledge(exercise, log, names, flow)
    peaks = story.peaks(exercise, log, names)
    answers, scripted = summary.answers(exercise, names, flow, incidents, verdicts, figures, ranks, knew, peaks)
    findings, by = summary.findings(log)
    return Sponsor(
        answers=answers,
        findings=findings,
        findings_by=by,
        incidents=incidents,
        verdicts=verdicts,
        relay_figures=figures,
        ranks=ranks,
        knowledge=knew,
        peaks=peaks,
        moves=story.moves(exercise, log, names, flow),
        move_marks=story.move_marks(exercise, log),
        outages=story.outages(exercise, log),
        public_private=story.public_private(exercise, log, names, flow),
        lanes=story.lanes(exercise, log, flow),
        scripted=scripted,
    )
