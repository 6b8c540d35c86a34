"""What rehearsal bots say, drawn from the script: the inject's `rehearsal:` lines, else text made
from the script itself (the inject's title, text and `expect`, its decision's options, the team's
brief, the channel's name).

`Cue` is what a seat answers (an inject it received, a message it read); `ScriptPlayer` is the
bot seat: it says, decides, relays and answers the hotwash. Another seat (an AI seat) implements
the same `Player` protocol and is handed to `rehearse(player_for=...)`. Pure: no Flask, no engine
calls; the rehearsal (tabletop/rehearse.py) decides when a seat acts and sends what it says.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Protocol

from tabletop.engine import Actor
from tabletop.engine import events as ev
from tabletop.script import Exercise
from tabletop.script.models import TEAM_CHANNEL, BotLine, Inject

MAX_LINE = 400


@dataclass
class Seat:
    """A bot's place in the game: its actor, team and position."""

    actor: Actor
    team: str
    position: str
    authority: int


@dataclass(frozen=True)
class Cue:
    """What a seat is answering: the inject it received (as released, and as scripted when it is in
    the script), and the message it read, if any."""

    released: ev.InjectReleased | None = None
    scripted: Inject | None = None
    reply_to: str | None = None  # the text of the message being answered
    from_team: str | None = None


@dataclass(frozen=True)
class Debrief:
    """What a seat's team went through, for its hotwash answers (worked out from the log)."""

    team: str | None
    strengths: tuple[str, ...]
    improvements: tuple[str, ...]
    ratings: dict[str, int]  # channel id -> 1..5
    score: int  # 1..5: how well the team's messages got through


class Player(Protocol):
    """What a seat says and chooses; the rehearsal decides when. `ScriptPlayer` is the bot."""

    def say(self, seat: Seat, channel: str, cue: Cue | None) -> str: ...

    def decide(self, seat: Seat, cue: Cue) -> tuple[str, str] | None:
        """(option id, rationale), or None to let the deadline's default apply."""
        ...

    def relay(self, seat: Seat | None, channel: str, text: str, turn: int) -> tuple[str, str | None]:
        """What the intermediary does with a message: (forward|edit|hold|decline, the edited text)."""
        ...

    def hotwash(self, seat: Seat | None, debrief: Debrief) -> dict[str, object]:
        """The `feedback` command's fields: strengths, improvements, channels, answers."""
        ...


# ---------------------------------------------------------------------------------- text tools
_MARKUP = re.compile(r"[*_`#>]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'«(])")


def plain(markdown: str) -> str:
    """Markdown as one line of plain text."""
    return " ".join(_MARKUP.sub("", markdown).split())


def sentences(markdown: str, shortest: int = 25) -> list[str]:
    """The sentences of a text worth saying (a bare time stamp like "04:05 Gulf time." is not)."""
    return [s for s in _SENTENCE.split(plain(markdown)) if len(s) >= shortest]


def clip(text: str, limit: int = MAX_LINE) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_ASKS = re.compile(r" (Please acknowledge|Request your account|Confirm you have this|Read back, please)\.$")


def _key(line: str) -> str:
    """What makes a line the same line again: its words without the closing request."""
    return _ASKS.sub("", line)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


# --------------------------------------------------------------------------------- the bot seat
@dataclass
class ScriptPlayer:
    """A bot that speaks the scenario: authored lines first, lines made from the script otherwise."""

    exercise: Exercise
    rng: random.Random
    extra_lines: list[str] = field(default_factory=list)  # tests slip in markup and other scripts
    repeat: bool = False  # say something even when every line has been said (the benchmark's message counts)
    used: set[str] = field(default_factory=set)

    # -- saying
    def say(self, seat: Seat, channel: str, cue: Cue | None) -> str:
        """A line for this seat on this channel; empty when it has nothing new to say."""
        if self.extra_lines and self.rng.random() < 0.08:
            return self.extra_lines.pop(0)
        text = self._authored(seat, channel, cue) or self._derived(seat, channel, cue)
        if not text:
            return ""
        if cue is not None and cue.reply_to:
            text = f'Copy your "{clip(plain(cue.reply_to), 70)}". {text}'
        return clip(text)

    def _authored(self, seat: Seat, channel: str, cue: Cue | None) -> str | None:
        if cue is None or cue.scripted is None:
            return None
        fits = [line for line in cue.scripted.rehearsal if self._fits(line, seat, channel)]
        if not fits:
            return None
        fresh = [line for line in fits if line.text not in self.used] or (fits if self.repeat else [])
        if not fresh:
            return None
        # Lines written for this team or this channel come before lines for anyone.
        best = [line for line in fresh if line.team or line.channel] or fresh
        chosen = self.rng.choice(best).text
        self.used.add(chosen)
        return chosen

    @staticmethod
    def _fits(line: BotLine, seat: Seat, channel: str) -> bool:
        return (
            line.option is None
            and (line.team is None or line.team == seat.team)
            and (line.channel is None or line.channel == channel)
        )

    def _others(self, seat: Seat, channel: str) -> str:
        if channel == TEAM_CHANNEL:
            return ""
        c = self.exercise.channel(channel)
        names = [self.exercise.team(m).name for m in c.members if m != seat.team]
        return " and ".join(names) if names else "all"

    def _derived(self, seat: Seat, channel: str, cue: Cue | None) -> str:
        """A line made from the script: candidates from the inject (or the team's brief and its
        channels), one not said yet when there is one."""
        ex = self.exercise
        team = ex.team(seat.team)
        kind = "team" if channel == TEAM_CHANNEL else ex.channel(channel).kind
        released = cue.released if cue is not None else None
        candidates: list[str] = []
        if released is None:
            relays = [c.name for c in ex.channels if c.relay == team.id]
            if kind == "team":
                candidates = [f"From our brief: {s}" for s in sentences(team.brief)]
                candidates += [f"The {name} is manned; nothing waiting to pass on." for name in relays]
                candidates = candidates or [f"{team.name} standing by."]
            elif kind == "broadcast":
                candidates = [f"{team.name}: we are following events closely and will say more when we can."]
            else:
                name = ex.channel(channel).name
                candidates = [f"{team.name} to {self._others(seat, channel)}: we are on the {name} and ready to talk."]
        else:
            facts = (sentences(released.body) or [plain(released.title) + "."])[:4]
            title = plain(released.title)
            if kind == "team":
                candidates = [f"{title}: {fact}" for fact in facts]
                todo = sentences(released.expect, 15)
                candidates += [f"What we need now: {_lower_first(todo[0])}"] if todo else []
                if released.decision is not None:
                    prompt = plain(released.decision.prompt)
                    mine = not released.decision.by or seat.position in released.decision.by
                    lean = "I lean to" if mine else "I expect"
                    candidates += [f"On '{prompt}' {lean}: {o.label}." for o in released.decision.options]
            elif kind == "broadcast":  # in public only what is public already; else a line that gives nothing away
                if released.medium in ("news", "social"):
                    candidates = [f"Statement by {team.name} on '{title}': {fact}" for fact in facts]
                else:
                    candidates = [
                        f"{team.name} calls for calm and will answer through the proper channels.",
                        f"{team.name} is following events closely and will say more when it can.",
                    ]
            else:
                # To the other side: the figures (positions, times, distances) a team passes on, a
                # question about a public report; never its own deliberations.
                others = self._others(seat, channel)
                said = [f for f in facts if any(c.isdigit() for c in f)]
                asks = ("Please acknowledge.", "Request your account.", "Confirm you have this.", "Read back, please.")
                candidates = [f"{team.name} to {others}: {fact} {self.rng.choice(asks)}" for fact in said]
                if released.medium in ("news", "social"):
                    candidates.append(
                        f"{team.name} to {others}: we have seen the report '{title}'. Does it state your position?"
                    )
                name = ex.channel(channel).name
                candidates += [
                    f"{team.name} to {others}: we ask for your account of events and will answer on the {name}.",
                    f"{team.name} to {others}: we have no hostile intent. State your intentions.",
                    f"{team.name} to {others}: message received; we are passing it to our superiors.",
                ]
        fresh = [c for c in candidates if _key(c) not in self.used] or (candidates if self.repeat else [])
        if not fresh:
            return ""
        chosen = self.rng.choice(fresh)
        self.used.add(_key(chosen))
        return chosen

    # -- deciding
    def decide(self, seat: Seat, cue: Cue) -> tuple[str, str] | None:
        released = cue.released
        if released is None or released.decision is None or self.rng.random() < 0.15:
            return None  # nobody decides: the default applies at the deadline
        scripted = cue.scripted.decision if cue.scripted is not None else None
        options = scripted.options if scripted is not None else ()
        ids = [o.id for o in released.decision.options]
        option_id = self.rng.choice(ids)
        authored = [line.text for line in (cue.scripted.rehearsal if cue.scripted else ()) if line.option == option_id]
        if authored:
            return option_id, self.rng.choice(authored)
        levels = sorted({o.score for o in options})  # a mapping option ranks by its direction
        level = next((o.score for o in options if o.id == option_id), 0)
        whys: tuple[str, ...]
        if len(levels) > 1 and level == levels[0]:
            whys = (
                "The least escalatory choice we have, and it keeps the other side talking.",
                "Lowest risk of a clash while we learn more.",
            )
        elif len(levels) > 1 and level == levels[-1]:
            whys = ("Anything less would be read as weakness.", "They must see that this has a cost.")
        else:
            whys = (
                "It keeps our options open.",
                "It buys time without closing a door.",
                "It answers without raising the stakes.",
            )
        return option_id, self.rng.choice(whys)

    # -- relaying
    def relay(self, seat: Seat | None, channel: str, text: str, turn: int) -> tuple[str, str | None]:
        plans = ("forward", "edit", "hold", "decline")
        plan = plans[turn] if turn < 4 else self.rng.choices(plans, (0.6, 0.2, 0.1, 0.1))[0]
        if plan != "edit":
            return plan, None
        c = self.exercise.channel(channel)
        by = f"The {c.name}" if c.relay in (None, "control") else self.exercise.team(c.relay).name
        return plan, soften(text, by)

    # -- the hotwash
    def hotwash(self, seat: Seat | None, debrief: Debrief) -> dict[str, object]:
        answers: dict[str, object] = {}
        for question in self.exercise.hotwash.questions:
            if question.kind == "scale":
                answers[question.id] = debrief.score
            else:
                pool = [*debrief.strengths[:1], *debrief.improvements[:1]]
                answers[question.id] = " ".join(pool) or "Too little happened on our side to judge."
        return {
            "strengths": self.rng.choice(debrief.strengths) if debrief.strengths else "",
            "improvements": self.rng.choice(debrief.improvements) if debrief.improvements else "",
            "channels": debrief.ratings,
            **({"answers": answers} if answers else {}),
        }


def soften(text: str, by: str = "The intermediary") -> str:
    """What an intermediary makes of a message: calmer words and a preface naming who passes it on."""
    swaps = {"will": "may", "hostile": "unfriendly", "unsafe": "risky", "Any": "A", "must": "should"}
    words = [swaps.get(w, w) for w in text.split(" ")]
    edited = f"{by} passes on: " + " ".join(words)
    return edited if edited != text else text + f" (via {by})"
