"""AI seats in `exercise rehearse`: a rehearsal `Player` whose words, choices and relay actions come
from the model (the rehearsal decides when, as for its bots; tabletop/rehearse.py).

`ai_players(exercise, seats, config)` gives `rehearse(player_for=...)` a function that hands the named
seats (`TEAM/POSITION`, or a team id for all its seats) to the model. The seat is labelled as any AI
seat is (`participant_joined` with `ai`, its name marked with the model). The model's answer is
constrained to a schema (a text, one of the options, one of the relay actions); when it fails or
times out the bot's answer stands, so the rehearsal always finishes, and the failures are counted.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from tabletop.engine import events as ev
from tabletop.rehearse_lines import Cue, Debrief, Player, Seat, plain
from tabletop.script import Exercise

from .client import ChatClient, ModelError
from .config import AIConfig
from .schema import MODEL_TEXT, RELAY_ACTIONS

log = logging.getLogger(__name__)


class ModelPlayer:
    """A rehearsal seat played by the model; `fallback` (the script bot) answers when it cannot."""

    def __init__(self, exercise: Exercise, config: AIConfig, fallback: Player, client: ChatClient | None = None):
        self.exercise = exercise
        self.config = config
        self.fallback = fallback
        self.client = client or ChatClient(config)
        self.ai = ev.AISeat(model=config.model, told=True)
        self.counts: Counter[str] = Counter()  # answered, failed
        self.latencies: list[float] = []

    def _ask(self, seat: Seat | None, task: str, schema: dict[str, Any]) -> Any:
        who = ""
        if seat is not None:
            team, position = self.exercise.position(seat.position)
            who = f"You play {position.title} of {team.name}. Your team's brief: {plain(team.brief)[:400]}\n"
        system = (
            "You play a seat in a tabletop crisis exercise (a rehearsal, not a prediction). "
            "Be short, clear and calm. Answer only with JSON that fits the schema."
        )
        messages = [{"role": "system", "content": system}, {"role": "user", "content": who + task}]
        try:
            reply = self.client.chat(messages, schema)
            self.latencies.append(reply.seconds)
            answer = json.loads(reply.text, strict=False)  # a raw newline in a text is no reason to drop it
        except (ModelError, ValueError) as exc:
            self.counts["failed"] += 1
            log.warning("rehearsal AI seat: %s", exc)
            return None
        self.counts["answered"] += 1
        return answer if isinstance(answer, dict) else None

    def say(self, seat: Seat, channel: str, cue: Cue | None) -> str:
        about = ""
        if cue is not None and cue.reply_to:
            about = f"Answer this message: {cue.reply_to[:300]}"
        elif cue is not None and cue.released is not None:
            about = f"React to this news: {cue.released.title}. {plain(cue.released.body)[:300]}"
        name = "team chat" if channel == "team" else self.exercise.channel(channel).name
        schema = {
            "type": "object",
            "properties": {"text": {"type": "string", "minLength": 1, "maxLength": MODEL_TEXT}},
            "required": ["text"],
        }
        answer = self._ask(seat, f"Write one message on {name}. {about}", schema)
        text = answer.get("text") if answer else None
        return text.strip() if isinstance(text, str) and text.strip() else self.fallback.say(seat, channel, cue)

    def decide(self, seat: Seat, cue: Cue) -> tuple[str, str] | None:
        released = cue.released
        if released is None or released.decision is None:
            return self.fallback.decide(seat, cue)
        options = {o.id: o.label for o in released.decision.options}
        listing = "; ".join(f"{k} = {v}" for k, v in options.items())
        schema = {
            "type": "object",
            "properties": {
                "option": {"enum": list(options)},
                "rationale": {"type": "string", "maxLength": MODEL_TEXT},
            },
            "required": ["option", "rationale"],
        }
        answer = self._ask(seat, f"Decide: {released.decision.prompt} Options: {listing}.", schema)
        if answer and answer.get("option") in options:
            return answer["option"], str(answer.get("rationale") or "")[:400]
        return self.fallback.decide(seat, cue)

    def relay(self, seat: Seat | None, channel: str, text: str, turn: int) -> tuple[str, str | None]:
        schema = {
            "type": "object",
            "properties": {
                "action": {"enum": list(RELAY_ACTIONS)},
                "text": {"type": "string", "maxLength": MODEL_TEXT},
            },
            "required": ["action"],
        }
        task = (
            f"You are the intermediary. This message waits for you: {text[:300]}\n"
            'Choose "forward" (as written), "edit" (pass on your "text" instead), "hold" or "decline".'
        )
        answer = self._ask(seat, task, schema)
        action = answer.get("action") if answer else None
        if action in RELAY_ACTIONS:
            edited = answer.get("text") if answer else None
            if action == "edit" and not (isinstance(edited, str) and edited.strip()):
                action = "forward"
            return str(action), (edited.strip() if action == "edit" and isinstance(edited, str) else None)
        return self.fallback.relay(seat, channel, text, turn)

    def hotwash(self, seat: Seat | None, debrief: Debrief) -> dict[str, object]:
        return self.fallback.hotwash(seat, debrief)


def ai_players(
    exercise: Exercise, seats: Iterable[str], config: AIConfig, fallback: Player
) -> Callable[[Seat], Player | None]:
    """`player_for` for `rehearse`: the named seats (`TEAM/POSITION`, or `TEAM`) are the model's."""
    wanted = set(seats)
    unknown = [s for s in wanted if s not in {t.id for t in exercise.teams} and s not in _positions(exercise)]
    if unknown:
        raise ValueError(f"unknown seat {unknown[0]!r}: name TEAM or TEAM/POSITION ({', '.join(_positions(exercise))})")
    player = ModelPlayer(exercise, config, fallback)

    def player_for(seat: Seat) -> Player | None:
        return player if seat.team in wanted or f"{seat.team}/{seat.position}" in wanted else None

    player_for.player = player  # type: ignore[attr-defined]  # its counts, for the summary
    return player_for


def _positions(exercise: Exercise) -> list[str]:
    return [f"{t.id}/{p.id}" for t in exercise.teams for p in t.positions]
