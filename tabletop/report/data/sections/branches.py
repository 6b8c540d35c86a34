"""Format 2 in the report: what the script's conditions and choices made of injects (cancelled by an
`unless`, the alternative a choice released), and control's posts as personas on the public feed."""

from __future__ import annotations

from typing import Any

from tabletop.script import Exercise
from tabletop.script.times import format_log_offset, format_scenario_at

from ..log import Logged, ReportLog, ScenarioClock
from ..models import Message, TimelineItem
from ..names import Names
from ..text import direction


def branch_items(exercise: Exercise, log: ReportLog, clock: ScenarioClock) -> list[TimelineItem]:
    """An inject cancelled by its `unless`, and each choice with the alternative it released, or none."""
    titles = {i.id: i.title for i in exercise.injects}

    def title(ident: str) -> str:
        return titles.get(ident, ident)

    def item(x: Logged[Any], text: str, detail: str) -> TimelineItem:
        at = format_scenario_at(clock(x.t), x.t)
        return TimelineItem(x.t, format_log_offset(x.t), at, "inject", "Control", text, detail, seq=x.seq)

    items = [item(x, f"Cancelled: {title(x.p.inject)}", x.p.reason) for x in log.cancelled]
    items += [
        item(
            x,
            f"{title(x.p.choice)}: " + (f"chose {title(x.p.inject)}" if x.p.inject else "nothing chosen"),
            x.p.reason + ("; sent by hand" if x.p.how == "by hand" else ""),
        )
        for x in log.choices
    ]
    return items


def persona_posts(log: ReportLog, names: Names) -> list[Message]:
    """Control's posts as personas, as messages of the public channel they went to: written by control
    (they count in its column), under the persona's name."""
    return [
        Message(
            seq=x.seq,
            t=x.t,
            time=format_log_offset(x.t),
            channel=x.p.channel,
            channel_name=names.channel(x.p.channel),
            from_team="control",
            from_team_name="a persona played by control",
            sender=f"{x.p.name} (persona, posted by {x.p.spoofed_by})",
            name=x.p.name,
            text=x.p.text,
            dir=direction(x.p.text),
            status="delivered",
        )
        for x in log.persona_posts
    ]
