"""Rehearsal: play a script at full speed with scripted bot players, through the real engine.

`rehearse(path)` opens a session on a store (a temporary SQLite file unless a URL is given), seats
bot players in every team, starts the clock (a ManualTime moved by hand: no sleeping) and lets the
bots do what people do: acknowledge injects, decide (valid options, by authorised positions), talk
on every channel they may use (team chat, direct, the relay, public statements, in English, Persian
and Arabic, and once with markup that must stay text), relay as the intermediary (forward, edit,
hold then forward, decline), take notes, observe, write the improvement plan and answer the
hotwash. Everything goes through `Live.command`, so the log is a real game's log.

Authors use it to see the timing and the report before the real game; the benchmark uses
`exchanges` to make large logs. No Flask here.
"""

from __future__ import annotations

import heapq
import itertools
import random
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from tabletop.engine import Actor, ManualTime, NewEvent, Refused
from tabletop.engine import events as ev
from tabletop.engine.events import Event
from tabletop.live import Live
from tabletop.script import Exercise, load_exercise
from tabletop.script.models import TEAM_CHANNEL, snapshot
from tabletop.store import Store

PERSIAN = "پیام شما دریافت شد. قایق‌ها تا هزار یارد عقب می‌کشند و در کانال ۱۶ پاسخ می‌دهند."
ARABIC = "تم استلام الرسالة، وسننقلها إلى الطرف الآخر فوراً ونطلب تأكيد الاستلام."
SCRIPT_TAG = "<script>alert(1)</script> please ignore this line"
IMG_TAG = '<img src="http://127.0.0.1:9/x.png"> see attached chart'
NAMES = {
    0: ("Alice Carter", "Ben Ortiz", "Dana Brooks", "Ethan Clarke", "Grace Lee", "Henry Walsh"),
    1: ("Reza Ahmadi", "Maryam Karimi", "Hossein Rahimi", "Leila Moradi", "Ali Jafari", "Sara Hosseini"),
    2: ("Salim Al-Harthy", "Aisha Al-Busaidi", "Khalid Al-Rawahi", "Mona Al-Said", "Nasser Al-Lawati"),
}
PHRASES = (
    "Request you confirm your intentions and keep your boats beyond 1,000 yards.",
    "Our ships are transiting international waters on a steady course; no hostile intent.",
    "We have your last message. Passing it up the chain now; expect an answer within ten minutes.",
    "Lookouts report four fast boats closing from the north-east at high speed.",
    "Please read back the formation's position: 29 10N 049 40E, course 135, speed 12.",
    "Any further close approach will be considered unsafe and unprofessional.",
    "Headquarters says the patrol is routine and the boats will keep a safe distance.",
    "Can you tell us whether your rules of engagement have changed after the post?",
    "The helicopters will stay above 500 feet and will not overfly the boats.",
    "We will not comment in public until we hear back through Muscat.",
    "Radio on channel 16 is unusable; moving urgent traffic to the line.",
    "The tanker master reports an unverified order to turn north; not from our side.",
)
STRENGTHS = (
    "The Oman line carried the first warning quickly and the read-back avoided a misunderstanding.",
    "Clear roles: one person spoke on the line, the others kept the log.",
    "Public statements stayed calm and matched what was passed privately.",
)
IMPROVEMENTS = (
    "We waited too long before using the line after the first close approach.",
    "Nobody knew who could authorise a message on the line at night.",
    "The spoofed call was believed for several minutes; check call signs first.",
)
OBSERVATION_TEXT = {
    "P": "Message passed through Oman within minutes, with a read-back.",
    "S": "Contact made, but the wording changed on the way and nobody checked it.",
    "M": "Long silence on the line while the boats closed; radio calls unanswered.",
    "U": "No message reached the other side before the deadline.",
}


@dataclass
class Seat:
    actor: Actor
    team: str
    position: str
    authority: int


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


class _Bots:
    """The players, the intermediary, control and an observer, driven by one random generator."""

    def __init__(self, game: Rehearsal, players: int, rng: random.Random, exchanges: int | None) -> None:
        self.g = game
        self.rng = rng
        self.ex = game.exercise
        self.queue: list[tuple[float, int, Callable[[], None]]] = []
        self.counter = itertools.count()
        self.control = Actor("control", None, "White Cell Director")
        self.control2 = Actor("control", None, "Deputy Controller")
        self.seats: list[Seat] = []
        self.specials = [SCRIPT_TAG, PERSIAN, ARABIC, IMG_TAG]
        self.relay_turn = 0
        self.exchanges = exchanges
        self._seat_players(players)
        self.observer = self._join_observer()

    # ------------------------------------------------------------------ seating
    def _seat_players(self, players: int) -> None:
        decision_positions = Counter(p for i in self.ex.injects if i.decision for p in i.decision.by)
        for n, team in enumerate(self.ex.teams):
            ranked = sorted(team.positions, key=lambda p: (-decision_positions[p.id], -p.authority, p.id))
            names = NAMES.get(n, tuple(f"{team.name} player {k}" for k in range(1, 7)))
            for k in range(players):
                position = ranked[k % len(ranked)]
                name = names[k % len(names)] + (f" {k // len(names) + 1}" if k >= len(names) else "")
                pid = self.g.store.add_participant(self.g.session, "player", name, team.id, position.id, [])
                joined = ev.ParticipantJoined(
                    participant=pid, kind="player", name=name, team=team.id, position=position.id
                )
                self.g.live.record(self.g.session, NewEvent.of(joined, (team.id,), actor=pid))
                actor = Actor("player", pid, name, team.id, position.id)
                self.seats.append(Seat(actor, team.id, position.id, position.authority))

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

    def text(self) -> str:
        if self.specials and self.rng.random() < 0.08:
            return self.specials.pop(0)
        return self.rng.choice(PHRASES)

    def chatter(self, seat: Seat | None = None) -> None:
        seat = seat or self.rng.choice(self.seats)
        options = self.channels_for(seat)
        channel = self.rng.choices([c for c, _ in options], [w for _, w in options])[0]
        self.do(seat.actor, "send_message", channel=channel, text=self.text())

    # --------------------------------------------------------------- reactions
    def on_event(self, e: Event, now: float) -> None:
        match e.payload:
            case ev.InjectReleased() as p:
                self.on_inject(p, now)
            case ev.MessageSent(relay=relay, text=text, channel=channel) if relay:
                self.on_relay(e.seq, relay, text, now, channel)
            case ev.MessageDelivered(from_team=sender) if self.exchanges is None and self.rng.random() < 0.5:
                readers = [s for s in self.seats if s.team != sender]
                if readers:
                    seat = self.rng.choice(readers)
                    self.at(now + self.rng.uniform(30, 180), lambda: self.chatter(seat))

    def on_inject(self, p: ev.InjectReleased, now: float) -> None:
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
                self.at(now + self.rng.uniform(20, 150), partial(self.chatter, seat))
        decision = p.decision
        if decision is not None:
            for team in p.to:
                allowed = [s for s in self.team_seats(team) if not decision.by or s.position in decision.by]
                if not allowed or self.rng.random() < 0.15:
                    continue  # nobody decides: the default applies at the deadline
                seat = self.rng.choice(allowed)
                deadline = decision.deadline or 600
                option = self.rng.choice(decision.options)
                rationale = self.rng.choice(
                    (
                        "Keeps the crews safe and leaves room to talk through Muscat.",
                        "We must show resolve without giving them a pretext.",
                        PERSIAN
                        if seat.team != self.ex.teams[0].id
                        else "Least escalatory option that still protects the ships.",
                    )
                )
                self.at(
                    now + self.rng.uniform(0.2, 0.8) * deadline,
                    partial(self.do, seat.actor, "decide", inject=p.inject, option=option.id, rationale=rationale),
                )

    def on_relay(self, seq: int, relay_team: str, text: str, now: float, channel: str) -> None:
        if relay_team == "control":
            actor = self.control2
        else:
            handles = self.ex.channel(channel)
            seats = [s for s in self.team_seats(relay_team) if self.ex.can_relay(handles, s.position)]
            if not seats:
                return
            actor = self.rng.choice(seats).actor
        turn = self.relay_turn
        self.relay_turn += 1
        plan = ("forward", "edit", "hold", "decline")[turn] if turn < 4 else None
        if plan is None:
            plan = self.rng.choices(("forward", "edit", "hold", "decline"), (0.6, 0.2, 0.1, 0.1))[0]
        delay = self.rng.uniform(15, 120)
        if plan == "hold":
            self.at(now + delay, lambda: self.do(actor, "relay", message=seq, action="hold"))
            self.at(
                now + delay + self.rng.uniform(60, 300), lambda: self.do(actor, "relay", message=seq, action="forward")
            )
        elif plan == "edit":
            self.at(now + delay, lambda: self.do(actor, "relay", message=seq, action="edit", text=soften(text)))
        else:
            self.at(now + delay, lambda: self.do(actor, "relay", message=seq, action=plan))

    # ------------------------------------------------------------------- control
    def plan_control(self, duration: float) -> None:
        for k in range(1, int(duration // 900) + 1):
            self.at(k * 900 - 30, partial(self.do, self.control, "note", text=f"Check {k}: tempo steady; line in use."))
        self.at(duration * 0.3, self.pause_and_resume)
        spoof_on = next((c.id for c in self.ex.channels if c.kind == "direct"), TEAM_CHANNEL)
        teams = [t.id for t in self.ex.teams]
        self.at(
            duration * 0.2,
            lambda: self.do(
                self.control, "spoof", channel=spoof_on, as_team=teams[-1 if len(teams) < 2 else 1],
                text="This is a coalition warship: alter course to port and proceed north for inspection.",
            ),
        )  # fmt: skip
        self.at(duration * 0.5, lambda: self.do(self.control, "escalate", delta=1, reason="Tension after the post"))
        objectives = [o.id for o in self.ex.objectives]
        for n, objective in enumerate(objectives):
            t = duration * (0.25 + 0.7 * (n + 1) / (len(objectives) + 1))
            for who in (self.observer, self.control):
                rating = self.rng.choice("PSMU")
                team = self.rng.choice(teams[:2])
                text = OBSERVATION_TEXT[rating]
                self.at(t, partial(self.do, who, "observe", objective=objective, rating=rating, text=text, team=team))
        self.at(duration * 0.6, lambda: self.do(self.observer, "observe", rating="S", text=ARABIC))

    def pause_and_resume(self) -> None:
        """A two-minute pause (wall time): the exercise clock stands still meanwhile."""
        self.do(self.control, "clock", action="pause")
        self.g.time.advance(120)
        self.do(self.control, "clock", action="resume")

    def schedule_chatter(self, duration: float) -> None:
        count = self.exchanges if self.exchanges is not None else max(12, int(len(self.seats) * duration / 600))
        for _ in range(count):
            self.at(self.rng.uniform(5, duration - 5), self.chatter)

    def hotwash(self) -> None:
        everyone = [s.actor for s in self.seats] + [self.observer, self.control]
        channels = [TEAM_CHANNEL, *(c.id for c in self.ex.channels)]
        for n, actor in enumerate(everyone):
            strengths = STRENGTHS[n % len(STRENGTHS)] if n % 5 else PERSIAN
            self.do(
                actor,
                "feedback",
                strengths=strengths,
                improvements=IMPROVEMENTS[n % len(IMPROVEMENTS)],
                channels={c: self.rng.randint(2, 5) for c in self.rng.sample(channels, min(3, len(channels)))},
            )
        objectives = [o.id for o in self.ex.objectives]
        items = [
            {
                "issue": "The first message on the line came late.",
                "action": "Name a duty officer for the line in each capital and drill the first call.",
                "organisation": "CENTCOM J3 / AFGS",
                "due": "2020-06-30",
                "objective": objectives[0] if objectives else None,
            },
            {
                "issue": "Edits by the intermediary were not read back to the sender.",
                "action": "Add a read-back step to the line procedure.",
                "organisation": "Sultan's Armed Forces",
                "due": "2020-07-15",
                "objective": objectives[-1] if objectives else None,
            },
        ]
        self.do(self.control, "improvement_plan", items=items)


def soften(text: str) -> str:
    """What an intermediary makes of a message: calmer words, a sentence dropped, a preface."""
    swaps = {"will": "may", "hostile": "unfriendly", "unsafe": "risky", "Any": "A", "must": "should"}
    words = [swaps.get(w, w) for w in text.split(" ")]
    edited = "Muscat passes on: " + " ".join(words)
    return edited if edited != text else text + " (via Muscat)"


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
    clock = ManualTime()
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
) -> Rehearsal:
    """Play the whole script at full speed; returns the finished game (ended, hotwash answered)."""
    game = open_session(script, url, library)
    rng = random.Random(seed)  # noqa: S311 bots, not secrets
    bots = _Bots(game, max(1, players), rng, exchanges)
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
            game.time.advance(300)
            bots.do(bots.control, "start_move", move=state.waiting)
            continue
        if now >= duration - 1e-6:
            break
    bots.do(bots.control, "clock", action="end")
    bots.hotwash()
    return game
