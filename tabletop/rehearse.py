"""Rehearsal: play a script at full speed with bot players, through the real engine.

`rehearse(path)` opens a session on a store (a temporary SQLite file unless a URL is given), seats
bot players in every team, starts the clock (a ManualTime moved by hand: no sleeping) and lets the
bots do what people do: acknowledge injects, decide (valid options, by authorised positions), talk
on every channel they may use (team chat, direct, the relay, public statements), relay as the
intermediary (forward, edit, hold then forward, decline), take notes, release the script's
contingency injects (so authors see them), hold a plenary at each move that stops the clock,
observe, write the improvement plan and answer the hotwash. Everything goes through `Live.command`,
so the log is a real game's log.

What a seat says and chooses comes from a `Player` (tabletop/rehearse_lines.py): the bot,
`ScriptPlayer`, speaks the scenario (the inject's `rehearsal:` lines, else text made from the
script). `rehearse(player_for=...)` seats another player (an AI seat) in any seat. What the
observer rates, and what control notes and plans, follows from the log (`Tally`), so ratings agree
with what happened.

Authors use it to see the timing and the report before the real game; the benchmark uses
`exchanges` to make large logs. No Flask here.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from tabletop.engine import Actor, ManualTime, NewEvent, Refused
from tabletop.engine import events as ev
from tabletop.engine.beliefs import parse_position, teams_asked
from tabletop.engine.events import Event
from tabletop.live import Live
from tabletop.rehearse_lines import Cue, Debrief, Player, ScriptPlayer, Seat, plain, soften
from tabletop.script import Exercise, load_exercise
from tabletop.script.models import TEAM_CHANNEL, Inject, KeyQuestion, Position, Team, snapshot
from tabletop.script.times import format_log_offset
from tabletop.store import Store

__all__ = ["Cue", "Player", "Rehearsal", "ScriptPlayer", "Seat", "open_session", "rehearse", "soften"]

NAMES = {
    0: ("Alice Carter", "Ben Ortiz", "Dana Brooks", "Ethan Clarke", "Grace Lee", "Henry Walsh"),
    1: ("Reza Ahmadi", "Maryam Karimi", "Hossein Rahimi", "Leila Moradi", "Ali Jafari", "Sara Hosseini"),
    2: ("Salim Al-Harthy", "Aisha Al-Busaidi", "Khalid Al-Rawahi", "Mona Al-Said", "Nasser Al-Lawati"),
}
PLENARY = 300.0  # wall seconds of plenary when the clock stops at a move


@dataclass
class Rehearsal:
    store: Store
    session: str
    exercise: Exercise
    live: Live
    time: ManualTime
    db_path: Path | None
    counts: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)

    def events(self) -> list[Event]:
        return self.store.events_after(self.session, 0)

    def summary(self) -> dict[str, Any]:
        events = self.events()
        kinds = Counter(e.type for e in events)
        state = self.live.state(self.session)
        return {
            "session": self.session,
            "events": len(events),
            "injects_released": kinds[ev.INJECT_RELEASED],
            "messages": kinds[ev.MESSAGE] + kinds[ev.MESSAGE_SENT] + kinds[ev.MESSAGE_JAMMED],
            "relayed": kinds[ev.MESSAGE_RELAYED],
            "decisions": kinds[ev.DECISION_MADE],
            "escalation": state.escalation,
            "observations": kinds[ev.OBSERVATION],
            "hotwash": kinds[ev.FEEDBACK],
            "refused": sum(self.refused.values()),
        }


# ------------------------------------------------------------------------ what happened so far
@dataclass
class _Sent:
    """A message a team sent to another team (on any channel but its team chat)."""

    t: float
    team: str
    channel: str
    delivered: bool = False
    edited: bool = False
    lost: str | None = None  # held, declined or jammed


@dataclass
class Tally:
    """The game so far, as the observer and control see it: released injects, acknowledgements,
    messages between teams and their fate, relay actions, decisions."""

    exercise: Exercise
    released: dict[str, tuple[float, ev.InjectReleased]] = field(default_factory=dict)
    latest: dict[str, ev.InjectReleased] = field(default_factory=dict)  # team -> last inject it received
    acks: set[tuple[str, str]] = field(default_factory=set)
    sent: dict[int, _Sent] = field(default_factory=dict)
    relays: list[tuple[float, str, str]] = field(default_factory=list)  # (t, relay team, action)
    decisions: dict[str, tuple[float, ev.DecisionMade]] = field(default_factory=dict)
    team_chat: Counter[str] = field(default_factory=Counter)

    def add(self, e: Event) -> None:
        match e.payload:
            case ev.InjectReleased() as p:
                self.released[p.inject] = (e.t, p)
                for team in p.to:
                    self.latest[team] = p
            case ev.InjectAcknowledged(inject=inject, team=team):
                self.acks.add((inject, team))
            case ev.Message(channel=channel, from_team=team, spoofed=False) if team != "control":
                if channel == TEAM_CHANNEL:
                    self.team_chat[team] += 1
                else:
                    self.sent[e.seq] = _Sent(e.t, team, channel, delivered=True)
            case ev.MessageSent(channel=channel, from_team=team):
                self.sent[e.seq] = _Sent(e.t, team, channel)
            case ev.MessageJammed(channel=channel, from_team=team):
                self.sent[e.seq] = _Sent(e.t, team, channel, lost="jammed")
            case ev.MessageRelayed(message=message, action=action, relay=relay):
                self.relays.append((e.t, relay, action))
                sent = self.sent.get(message)
                if sent is not None:
                    sent.edited |= action == "edit"
                    sent.lost = {"hold": "held", "decline": "declined"}.get(action)
            case ev.MessageDelivered(message=message):
                sent = self.sent.get(message)
                if sent is not None:
                    sent.delivered, sent.lost = True, None
            case ev.DecisionMade(inject=inject) as p:
                self.decisions[inject] = (e.t, p)

    def team_name(self, team: str) -> str:
        try:
            return self.exercise.team(team).name
        except KeyError:
            return team

    def decider(self, made: ev.DecisionMade) -> str:
        """The name of the team a decision was for: the player's team, else (a default at the deadline) the
        one team its positions or its inject's recipients belong to; "" when that is not one team."""
        if made.team:
            return self.team_name(made.team)
        released = self.released.get(made.inject)
        if released is None:
            return ""
        _t, inject = released
        by = set(inject.decision.by) if inject.decision is not None else set()
        teams = {t.id for t in self.exercise.teams if by & {p.id for p in t.positions}} or set(inject.to)
        return self.team_name(teams.pop()) if len(teams) == 1 else ""

    def channel_name(self, channel: str) -> str:
        try:
            return self.exercise.channel(channel).name
        except KeyError:
            return "team chat"

    # -- an objective, rated from what happened (the observer's rating)
    def rate(self, objective: str, team: str, now: float) -> tuple[str, str] | None:
        """P, S, M or U for a team against an objective, with the facts behind it; None when none of
        the objective's injects has reached the team yet (nothing to rate)."""
        tested = [
            (t, p) for t, p in self.released.values() if objective in p.objectives and team in p.to and t <= now + 1e-6
        ]
        if not tested:
            return None
        start = min(t for t, _ in tested)
        ex = self.exercise
        relaying = any(c.relay == team for c in ex.channels)
        mine = [s for s in self.sent.values() if s.team == team and s.t >= start]
        reached = [s for s in mine if s.delivered]
        edited = [s for s in reached if s.edited]
        lost = [s for s in mine if s.lost]
        relayed = [a for t, r, a in self.relays if r == team and t >= start]
        passed = [a for a in relayed if a in ("forward", "edit")]
        asked = [p for _, p in tested if p.ack]
        missed = [p for p in asked if (p.inject, team) not in self.acks]
        decisions = [self.decisions.get(p.inject) for _, p in tested if p.decision is not None]
        chosen = [d for d in decisions if d is not None and not d[1].by_default and not d[1].lapsed]
        defaulted = [d for d in decisions if d is not None and (d[1].by_default or d[1].lapsed)]
        first = min(tested, key=lambda tp: tp[0])[1]
        what = f"'{plain(first.title)}' ({format_log_offset(start)})" + (
            f" and {len(tested) - 1} more" if len(tested) > 1 else ""
        )
        facts = [f"Tested by {what}."]
        if mine:
            facts.append(
                f"{len(mine)} message{'s' if len(mine) != 1 else ''} to other teams since, "
                f"{len(reached)} reached them" + (f" ({len(edited)} edited on the way)" if edited else "")
                + (f", {len(lost)} held, declined or jammed" if lost else "") + "."
            )  # fmt: skip
        if relaying and relayed:
            facts.append(f"Passed on {len(passed)} of {len(relayed)} relay actions.")
        if asked:
            facts.append(f"Acknowledged {len(asked) - len(missed)} of {len(asked)} injects that asked for it.")
        if chosen or defaulted:
            facts.append(
                f"{len(chosen)} decision{'s' if len(chosen) != 1 else ''} taken, {len(defaulted)} left to the default."
            )
        got_through = bool(reached) or bool(passed)
        changed = [a for a in relayed if a in ("edit", "decline")]
        clean = got_through and not edited and not lost and not changed and not missed and not defaulted
        if clean:
            rating = "P"
        elif got_through:
            rating = "S"
        elif mine or relayed or chosen or len(missed) < len(asked):
            rating = "M"
        else:
            rating = "U"
            facts.append("Nothing reached the other side.")
        return rating, " ".join(facts)

    def deciders(self, released: ev.InjectReleased, made: ev.DecisionMade) -> set[str]:
        """The teams a decision was up to: who took it, else the teams of the positions that may."""
        if made.team and not made.by_default:
            return {made.team}
        spec = released.decision
        if spec is None or not spec.by:
            return set(released.to)
        teams = set()
        for position in spec.by:
            try:
                teams.add(self.exercise.position(position)[0].id)
            except KeyError:
                continue
        return teams & set(released.to)

    # -- what a team (or everyone, team None) went through, for the hotwash and the plan
    def debrief(self, team: str | None) -> Debrief:
        mine = [s for s in self.sent.values() if team is None or s.team == team]
        by_channel: dict[str, list[_Sent]] = {}
        for s in mine:
            by_channel.setdefault(s.channel, []).append(s)
        strengths: list[str] = []
        improvements: list[str] = []
        ratings: dict[str, int] = {}
        whose = "our" if team else "the teams'"
        for channel, items in by_channel.items():
            reached = [s for s in items if s.delivered]
            edited = [s for s in reached if s.edited]
            lost = [s for s in items if s.lost]
            name = self.channel_name(channel)
            share = (len(reached) - 0.5 * len(edited)) / len(items)
            ratings[channel] = max(1, min(5, 1 + round(4 * share)))
            if reached:
                strengths.append(
                    f"The {name} worked: {len(reached)} of {whose} {len(items)} messages reached the other side"
                    + (f", {len(edited)} of them edited on the way." if edited else ".")
                )
            if lost:
                improvements.append(f"{len(lost)} of {whose} messages on the {name} were held, declined or jammed.")
            if edited:
                wording = "our wording" if team else "the wording"
                improvements.append(f"Nobody checked how {wording} changed on the {name}: ask for a read-back.")
        if team is None or self.team_chat[team]:
            ratings[TEAM_CHANNEL] = 4
        for inject, (_t, made) in self.decisions.items():
            released = self.released.get(inject)
            if released is None or released[1].decision is None:
                continue
            if team is not None and team not in self.deciders(released[1], made):
                continue  # another team's decision
            prompt = plain(released[1].decision.prompt)
            if made.by_default or made.lapsed:
                improvements.append(f"'{prompt}' went to its default ({made.label or 'none'}): nobody decided in time.")
            else:
                who = "We" if team else self.team_name(made.team or "")
                strengths.append(f"{who} decided '{prompt}' ({made.label}) before the deadline.")
        for inject, (t, p) in self.released.items():
            if t > self.exercise.duration - 120:
                continue  # released as play ended: nobody had the time
            for who in p.to if team is None else [team]:
                if p.ack and who in p.to and (inject, who) not in self.acks:
                    improvements.append(f"'{plain(p.title)}' was never acknowledged by {self.team_name(who)}.")
        reached_all = [s for s in mine if s.delivered]
        share_all = (len(reached_all) - 0.5 * sum(s.edited for s in reached_all)) / len(mine) if mine else 0.0
        return Debrief(team, tuple(strengths), tuple(improvements), ratings, max(1, min(5, 1 + round(4 * share_all))))


# ----------------------------------------------------------------------------------- the bots
class _Bots:
    """The seats (each played by a `Player`), the intermediary, control and an observer."""

    def __init__(
        self,
        game: Rehearsal,
        players: int,
        rng: random.Random,
        exchanges: int | None,
        player_for: Callable[[Seat], Player | None] | None,
        extra_lines: Sequence[str],
    ) -> None:
        self.g = game
        self.rng = rng
        self.ex = game.exercise
        self.queue: list[tuple[float, int, Callable[[], None]]] = []
        self.counter = itertools.count()
        self.control = Actor("control", None, "White Cell Director")
        self.control2 = Actor("control", None, "Deputy Controller")
        self.bot = ScriptPlayer(self.ex, rng, list(extra_lines), repeat=exchanges is not None)
        self.seats: list[Seat] = []
        self.players: dict[int, Player] = {}
        self.relay_turn = 0
        self.exchanges = exchanges
        self.tally = Tally(self.ex)
        # the channels another team relays (the line): what heard() looks for
        self.lines = frozenset(c.id for c in self.ex.channels if c.relay and c.relay != "control")
        self.rated: dict[str, str] = {}  # objective -> its worst rating so far
        self._seat_players(players, player_for)
        self.observer = self._join_observer()

    # ------------------------------------------------------------------ seating
    def ranked(self, team: Team) -> list[Position]:
        """A team's positions in the order bots take them: each next seat covers most of what the seats
        before it cannot do (the decisions it may take, the channels it may write on), then by authority."""
        tasks: dict[str, dict[str, float]] = {}
        for p in team.positions:
            found = {
                f"decision:{i.id}": 1.0
                for i in self.ex.injects
                if i.decision and team.id in self.ex.recipients(i) and (not i.decision.by or p.id in i.decision.by)
            }
            for c in self.ex.channels:  # an open relay (the line) weighs most
                if self.ex.can_write(c, p.id):
                    open_relay = c.kind == "relay" and c.initially == "open" and c.relay != "control"
                    found[f"channel:{c.id}"] = 6.0 if open_relay else 0.5 if c.kind == "broadcast" else 2.0
            tasks[p.id] = found
        left, order = list(team.positions), []
        covered: set[str] = set()

        def gain(p: Position) -> tuple[float, float, int, str]:
            new = sum(w for k, w in tasks[p.id].items() if k not in covered)
            return new, sum(tasks[p.id].values()), p.authority, p.id

        while left:
            best = max(left, key=gain)
            order.append(best)
            covered |= set(tasks[best.id])
            left.remove(best)
        return order

    def _seat_players(self, players: int, player_for: Callable[[Seat], Player | None] | None) -> None:
        for n, team in enumerate(self.ex.teams):
            ranked = self.ranked(team)
            names = NAMES.get(n, tuple(f"{team.name} player {k}" for k in range(1, 7)))
            for k in range(players):
                position = ranked[k % len(ranked)]
                name = names[k % len(names)] + (f" {k // len(names) + 1}" if k >= len(names) else "")
                pid = self.g.store.add_participant(self.g.session, "player", name, team.id, position.id, [])
                seat = Seat(Actor("player", pid, name, team.id, position.id), team.id, position.id, position.authority)
                chosen = player_for(seat) if player_for is not None else None
                ai = getattr(chosen, "ai", None)  # an AI seat (tabletop/ai/rehearsal.py): labelled, as in a live game
                if ai is not None:
                    name = f"{name} (AI: {ai.model})"[:80]
                    seat = Seat(
                        Actor("player", pid, name, team.id, position.id), team.id, position.id, position.authority
                    )
                joined = ev.ParticipantJoined(
                    participant=pid,
                    kind="player",
                    name=name,
                    team=team.id,
                    position=position.id,
                    **({"ai": ai} if ai else {}),
                )
                self.g.live.record(self.g.session, NewEvent.of(joined, (team.id,), actor=pid))
                self.seats.append(seat)
                self.players[id(seat)] = chosen if chosen is not None else self.bot

    def player(self, seat: Seat) -> Player:
        return self.players.get(id(seat), self.bot)

    def _join_observer(self) -> Actor:
        teams = [t.id for t in self.ex.teams]
        pid = self.g.store.add_participant(self.g.session, "observer", "Evelyn Shaw", None, None, teams)
        joined = ev.ParticipantJoined(participant=pid, kind="observer", name="Evelyn Shaw", teams=tuple(teams))
        self.g.live.record(self.g.session, NewEvent.of(joined, (), actor=pid))
        return Actor("observer", pid, "Evelyn Shaw", teams=frozenset(teams))

    # --------------------------------------------------------------- scheduling
    def at(self, t: float, action: Callable[[], None]) -> None:
        heapq.heappush(self.queue, (t, next(self.counter), action))

    def do(self, actor: Actor, command: str, **data: Any) -> Any:
        try:
            result = self.g.live.command(self.g.session, actor, command, data)
        except Refused as exc:
            self.g.refused[exc.code] += 1
            return None
        self.g.counts[command] += 1
        return result

    def team_seats(self, team: str) -> list[Seat]:
        return [s for s in self.seats if s.team == team]

    def now(self) -> float:
        return self.g.live.current(self.g.session).elapsed(self.g.time.now())

    # ------------------------------------------------------------------ talking
    def channels_for(self, seat: Seat) -> list[tuple[str, float]]:
        """The channels a seat may write on, with how often people use each."""
        weights = {"direct": 1.5, "relay": 2.0, "broadcast": 0.25}
        found = [(TEAM_CHANNEL, 3.0)]
        state = self.g.live.current(self.g.session)
        for c in self.ex.channels:
            # Membership, authority and the channel's write list (format 2); closed channels carry nothing.
            if self.ex.can_write(c, seat.position) and state.is_open(c.id):
                weight = weights[c.kind]
                if c.kind == "relay" and c.relay == "control":
                    weight = 0.4  # the slow diplomatic channel
                found.append((c.id, weight))
        return found

    def cue(self, team: str, released: ev.InjectReleased | None = None, **reply: Any) -> Cue | None:
        """What a seat of a team answers: the given inject, else the last one its team received."""
        released = released or self.tally.latest.get(team)
        if released is None and not reply:
            return None
        scripted = None
        if released is not None and not released.live:
            try:
                scripted = self.ex.inject(released.inject)
            except KeyError:
                scripted = None
        return Cue(released, scripted, **reply)

    def chatter(self, seat: Seat | None = None, cue: Cue | None = None, channel: str | None = None) -> None:
        seat = seat or self.rng.choice(self.seats)
        options = self.channels_for(seat)
        if channel is None or channel not in [c for c, _ in options]:
            channel = self.rng.choices([c for c, _ in options], [w for _, w in options])[0]
        text = self.player(seat).say(seat, channel, cue or self.cue(seat.team))
        if text:  # nothing new to say: the seat stays quiet
            self.do(seat.actor, "send_message", channel=channel, text=text)

    # --------------------------------------------------------------- reactions
    def on_event(self, e: Event, now: float) -> None:
        self.tally.add(e)
        match e.payload:
            case ev.InjectReleased() as p:
                self.on_inject(p, now)
            case ev.MessageSent(relay=relay, text=text, channel=channel) if relay:
                self.on_relay(e.seq, relay, text, now, channel)
            case ev.MessageDelivered(from_team=sender, text=text, channel=channel) if (
                self.exchanges is None and self.rng.random() < 0.5
            ):
                readers = [s for s in self.seats if s.team != sender and self._reads(s, channel)]
                if readers:
                    seat = self.rng.choice(readers)
                    cue = self.cue(seat.team, reply_to=text, from_team=sender)
                    self.at(now + self.rng.uniform(30, 180), partial(self.chatter, seat, cue, channel))

    def _reads(self, seat: Seat, channel: str) -> bool:
        try:
            return self.ex.can_read(self.ex.channel(channel), seat.position)
        except KeyError:
            return False

    def on_inject(self, p: ev.InjectReleased, now: float) -> None:
        self.ask(p, now)
        for team in p.to:
            seats = self.team_seats(team)
            if not seats:
                continue
            if p.ack:
                for seat in seats:
                    if self.rng.random() < 0.9:
                        delay = self.rng.uniform(10, 90)
                        self.at(now + delay, partial(self.do, seat.actor, "ack_inject", inject=p.inject))
            if self.exchanges is None:
                seat = self.rng.choice(seats)
                self.at(now + self.rng.uniform(20, 150), partial(self.chatter, seat, self.cue(team, p)))
        decision = p.decision
        if decision is not None:
            for team in p.to:
                allowed = [s for s in self.team_seats(team) if not decision.by or s.position in decision.by]
                if not allowed:
                    continue
                seat = self.rng.choice(allowed)
                cue = self.cue(team, p)
                choice = self.player(seat).decide(seat, cue) if cue is not None else None
                if choice is None:
                    continue  # nobody decides: the default applies at the deadline
                option, rationale = choice
                deadline = decision.deadline or 600
                self.at(
                    now + self.rng.uniform(0.2, 0.8) * deadline,
                    partial(self.do, seat.actor, "decide", inject=p.inject, option=option, rationale=rationale),
                )

    # ------------------------------------------------------------------ key questions
    def ask(self, p: ev.InjectReleased, now: float) -> None:
        """An inject that asks key questions: a bot of each team asked answers, and later updates its answer."""
        for question in self.ex.key_questions:
            if p.inject not in question.ask_at:
                continue
            for team in set(p.to) & set(teams_asked(self.ex, question)):
                seats = self.team_seats(team)
                if not seats:
                    continue
                first = now + self.rng.uniform(30, 150)
                for at in (first, first + self.rng.uniform(300, 900)):
                    self.at(at, partial(self.assess, self.rng.choice(seats), question))

    def heard(self, team: str) -> bool:
        """Whether a message from another team has reached this one through a relay (the line)."""
        return any(s.delivered and s.team != team and s.channel in self.lines for s in self.tally.sent.values())

    def assess(self, seat: Seat, question: KeyQuestion) -> None:
        """A bot's picture: the truth blurred by noise, less of it once the other side has spoken through
        the line (a rehearsal's bots stand in for people; their pictures only exercise the report)."""
        answer = self.picture(question, self.heard(seat.team))
        if answer is not None:
            confidence = self.rng.randint(35, 85)
            self.do(seat.actor, "assess", question=question.id, answer=answer, confidence=confidence)

    def picture(self, q: KeyQuestion, heard: bool) -> float | int | str | None:
        """A bot's answer to a key question: the truth blurred, less so once its team has heard the other side."""
        truth, rng = q.truth, self.rng
        blur = 0.35 if heard else 1.0
        if q.kind == "choice":
            if truth in q.options and rng.random() > 0.55 * blur:
                return truth
            others = [o for o in q.options if o != truth] or list(q.options)
            return rng.choice(others) if others else None
        if q.kind == "number" and isinstance(truth, (int, float)):
            guess = float(truth) * (1 + rng.gauss(0, 0.4 * blur))
            return round(guess) if float(truth).is_integer() else round(guess, 2)
        if q.kind == "position" and truth is not None:
            here = parse_position(truth)
            if here is None:
                return None
            km, bearing = rng.uniform(0, 80 * blur), rng.uniform(0, 2 * math.pi)
            lat = here[0] + km * math.cos(bearing) / 111.0
            lon = here[1] + km * math.sin(bearing) / (111.0 * max(0.1, math.cos(math.radians(here[0]))))
            return f"{lat:.3f}, {lon:.3f}"
        if q.kind == "text":
            if heard:
                return "As the other side told us through the line."
            return "Not yet clear: we are waiting for the other side's account."
        return None

    def on_relay(self, seq: int, relay_team: str, text: str, now: float, channel: str) -> None:
        seat: Seat | None = None
        if relay_team == "control":
            actor = self.control2
        else:
            handles = self.ex.channel(channel)
            seats = [s for s in self.team_seats(relay_team) if self.ex.can_relay(handles, s.position)]
            if not seats:
                return
            seat = self.rng.choice(seats)
            actor = seat.actor
        player = self.player(seat) if seat is not None else self.bot
        turn = self.relay_turn
        self.relay_turn += 1
        plan, edited = player.relay(seat, channel, text, turn)
        delay = self.rng.uniform(15, 120)
        if plan == "hold":
            self.at(now + delay, lambda: self.do(actor, "relay", message=seq, action="hold"))
            self.at(
                now + delay + self.rng.uniform(60, 300), lambda: self.do(actor, "relay", message=seq, action="forward")
            )
        elif plan == "edit":
            self.at(now + delay, lambda: self.do(actor, "relay", message=seq, action="edit", text=edited or text))
        else:
            self.at(now + delay, lambda: self.do(actor, "relay", message=seq, action=plan))

    # ------------------------------------------------------------------- control
    def plan_control(self, duration: float) -> None:
        for k in range(1, int(duration // 900) + 1):
            self.at(k * 900 - 30, partial(self.check_note, k))
        self.at(duration * 0.3, self.pause_and_resume)
        self.at(duration * 0.2, self.spoof)
        self.plan_contingencies(duration)
        self.plan_observations(duration)

    def check_note(self, k: int) -> None:
        """Control's note every 15 minutes: what the log says about the last quarter of an hour."""
        now = self.now()
        recent = [s for s in self.tally.sent.values() if s.t > now - 900]
        busiest = Counter(s.channel for s in recent).most_common(1)
        waiting = [
            f"'{plain(p.title)}'"
            for inject, (_t, p) in self.tally.released.items()
            if p.ack and any((inject, team) not in self.tally.acks for team in p.to)
        ]
        text = f"Check {k}: {len(recent)} messages between teams in the last 15 minutes"
        text += f", most on the {self.tally.channel_name(busiest[0][0])}" if busiest else ""
        text += f"; awaiting acknowledgement: {', '.join(waiting[:3])}." if waiting else "; every inject acknowledged."
        self.do(self.control, "note", text=text)

    def spoof(self) -> None:
        """Control's spoofed call, in the voice of the team it imitates (what that team might say)."""
        teams = [t.id for t in self.ex.teams]
        as_team = teams[-1 if len(teams) < 2 else 1]
        channel = next((c.id for c in self.ex.channels if c.kind == "direct" and as_team in c.members), TEAM_CHANNEL)
        imitated = next((s for s in self.seats if s.team == as_team), None)
        if imitated is None:
            return
        text = self.bot.say(imitated, channel, self.cue(as_team))
        self.do(self.control, "spoof", channel=channel, as_team=as_team, text=text)

    def plan_contingencies(self, duration: float) -> None:
        """Release every contingency inject by hand once, in its move when it names one, so authors see it.
        Contingencies of one move whose titles share what comes before a colon ("Adjudication: the
        strikes go in", "Adjudication: the strikes are recalled") are alternatives: one of them is released."""
        groups: dict[tuple[str | None, str], list[Inject]] = {}
        for i in self.ex.injects:
            if i.release == "contingency" and not i.is_choice and not self.ex.choice_of(i.id):
                head = i.title.split(":", 1)[0].strip().lower() if ":" in i.title else i.id
                groups.setdefault((i.move, head), []).append(i)
        by_hand = [self.rng.choice(group) for group in groups.values()]
        for n, inject in enumerate(by_hand):
            start, end = 0.0, duration
            if inject.move is not None:
                move = self.ex.move(inject.move)
                later = [m.at for m in self.ex.moves if m.at > move.at]
                start, end = float(move.at), float(min(later, default=duration))
            t = start + (end - start) * (0.3 + 0.5 * (n + 1) / (len(by_hand) + 1))
            self.at(min(t, duration - 60), partial(self.do, self.control, "release_inject", inject=inject.id))

    def plan_observations(self, duration: float) -> None:
        """The observer rates each objective for each team its injects reach, after they had time to act."""
        for objective in self.ex.objectives:
            tagged = [i for i in self.ex.injects if objective.id in i.objectives]
            due = [i.at for i in tagged if i.at is not None]
            t = min(duration - 30, (max(due) + 900) if due else duration * 0.9)
            self.at(t, partial(self.observe, objective.id))
        self.at(duration * 0.6, self.observe_overall)

    def observe(self, objective: str) -> None:
        now = self.now()
        order = "PSMU"
        for team in self.ex.teams:
            rated = self.tally.rate(objective, team.id, now)
            if rated is None:
                continue
            rating, text = rated
            finding = "strength" if rating == "P" else "improvement"  # S names what fell short
            self.do(
                self.observer, "observe", objective=objective, rating=rating, text=text, team=team.id, finding=finding
            )
            worst = self.rated.get(objective, "P")
            self.rated[objective] = max(worst, rating, key=order.index)

    def observe_overall(self) -> None:
        debrief = self.tally.debrief(None)
        rating = "PSMU"[max(0, min(3, 5 - debrief.score))]
        notes = [*debrief.strengths[:1], *debrief.improvements[:1]] or ["Little traffic between the teams so far."]
        self.do(self.observer, "observe", rating=rating, text=" ".join(notes))

    def pause_and_resume(self) -> None:
        """A two-minute pause (wall time): the exercise clock stands still meanwhile."""
        self.do(self.control, "clock", action="pause")
        self.g.time.advance(120)
        self.do(self.control, "clock", action="resume")

    def plenary(self, move_id: str) -> None:
        """The clock stopped at a move: control notes the plenary, then starts the move."""
        move = self.ex.move(move_id)
        decided = [
            f"{team}: {p.label}" if (team := self.tally.decider(p)) else p.label
            for _t, p in self.tally.decisions.values()
            if p.label and not p.lapsed
        ]
        text = f"Plenary before {move.title}."
        text += f" Decisions so far: {'; '.join(decided[-4:])}." if decided else " No decisions taken yet."
        self.do(self.control, "note", text=text)
        self.g.time.advance(PLENARY)
        self.do(self.control, "start_move", move=move_id)

    def schedule_chatter(self, duration: float) -> None:
        count = self.exchanges if self.exchanges is not None else max(12, int(len(self.seats) * duration / 600))
        for _ in range(count):
            self.at(self.rng.uniform(5, duration - 5), self.chatter)

    def hotwash(self) -> None:
        for seat in self.seats:
            answer = self.player(seat).hotwash(seat, self.tally.debrief(seat.team))
            self.do(seat.actor, "feedback", **answer)
        overall = self.tally.debrief(None)
        for actor in (self.observer, self.control):
            self.do(actor, "feedback", **self.bot.hotwash(None, overall))
        self.do(self.control, "improvement_plan", items=self.plan_items())

    def plan_items(self) -> list[dict[str, Any]]:
        """The improvement plan: what went wrong in the log, who should fix it, due a month or two on."""
        played = datetime.fromtimestamp(self.g.time.now(), UTC).date()
        worst = [o for o, r in self.rated.items() if r in "MU"] or list(self.rated)
        items: list[dict[str, Any]] = []
        for team in self.ex.teams:
            debrief = self.tally.debrief(team.id)
            for issue in debrief.improvements[:1]:
                items.append(
                    {
                        "issue": issue,
                        "action": "Name who speaks on each channel, and add a read-back before anything is acted on.",
                        "organisation": team.name,
                        "due": (played + timedelta(days=30 * (len(items) + 1))).isoformat(),
                        "objective": worst[len(items) % len(worst)] if worst else None,
                    }
                )
        if not items:
            items.append(
                {
                    "issue": "The rehearsal found no gap in how messages got through.",
                    "action": "Play the script with people before relying on it.",
                    "organisation": "Exercise control",
                    "due": (played + timedelta(days=30)).isoformat(),
                }
            )
        return items


def open_session(script: Path | str, url: str | None = None, library: Path | None = None) -> Rehearsal:
    exercise = load_exercise(script, library=library) if library else load_exercise(script)
    db_path: Path | None = None
    if url is None:
        db_path = Path(tempfile.mkdtemp(prefix="tabletop-rehearsal-")) / "rehearsal.db"
        url = f"sqlite:///{db_path}"
    store = Store(url)
    store.migrate()
    session = store.create_session(
        exercise.id, f"Rehearsal: {exercise.title}", snapshot(exercise), [t.id for t in exercise.teams], None
    )
    clock = ManualTime(float(int(time.time())))  # played today, as the report's cover says
    return Rehearsal(store, session, exercise, Live(store, clock), clock, db_path)


def rehearse(
    script: Path | str,
    *,
    players: int = 1,
    seed: int = 0,
    exchanges: int | None = None,
    url: str | None = None,
    library: Path | None = None,
    step: float = 15.0,
    player_for: Callable[[Seat], Player | None] | None = None,
    extra_lines: Sequence[str] = (),
) -> Rehearsal:
    """Play the whole script at full speed; returns the finished game (ended, hotwash answered).

    `player_for(seat)` may return the `Player` for a seat (None: the script bot); `extra_lines` are
    lines the bots slip in now and then (tests pass markup and other scripts that must stay text).
    """
    game = open_session(script, url, library)
    rng = random.Random(seed)  # noqa: S311 bots, not secrets
    bots = _Bots(game, max(1, players), rng, exchanges, player_for, extra_lines)
    duration = float(game.exercise.duration)
    last_seq = game.store.last_seq(game.session)
    bots.do(bots.control, "clock", action="start")
    bots.plan_control(duration)
    bots.schedule_chatter(duration)
    state = game.live.state(game.session)
    while True:
        now = state.elapsed(game.time.now())
        target = min(now + step, duration)
        if bots.queue and bots.queue[0][0] < target:
            target = max(now, bots.queue[0][0])
        game.time.advance(max(0.0, target - now))
        game.live.run_due(game.session)
        now = state.elapsed(game.time.now())
        while bots.queue and bots.queue[0][0] <= now + 1e-6:
            _t, _n, action = heapq.heappop(bots.queue)
            action()
            for e in game.store.events_after(game.session, last_seq):
                last_seq = e.seq
                bots.on_event(e, state.elapsed(game.time.now()))
        for e in game.store.events_after(game.session, last_seq):
            last_seq = e.seq
            bots.on_event(e, now)
        if state.waiting is not None:  # the clock stopped at a move (format 2): a plenary, then the next move
            bots.plenary(state.waiting)
            continue
        if now >= duration - 1e-6:
            break
    bots.do(bots.control, "clock", action="end")
    for e in game.store.events_after(game.session, last_seq):
        bots.tally.add(e)
    bots.hotwash()
    return game
