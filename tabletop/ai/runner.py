"""Playing seats: a brain (a model, or a script) decides; the seat acts through `Live.command`.

Each seat has its own queue of wake-ups and its own thread (`SeatRunner.start`), so a slow model
holds up nobody: not the game (commands take the session's lock only to append, never while a
model thinks), not the other seats. A turn happens when something new that the seat may see has
arrived and something waits on it (a message to relay, an inject to acknowledge, a decision, a
message from another team). One model call per turn, time-limited; an answer that fails the check
is asked for once more with the reason, then dropped with a note to the facilitator. Tokens are
counted per seat and per session, against budgets; commands per seat are rate-limited. The same
`step` plays a seat synchronously for `exercise rehearse` (no thread).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from tabletop.engine import events as ev
from tabletop.engine.events import Event, NewEvent
from tabletop.engine.rules import Actor, Refused
from tabletop.live import Live

from . import prompt, schema
from .client import ChatClient, ModelError
from .config import AIConfig
from .schema import RELAY_ACTIONS, Command, Invalid, focus
from .view import SeatView, seat_view, seen

log = logging.getLogger(__name__)

POLL = 1.0  # seconds between two looks at the log when nothing woke the seat (events of other workers)
TELL_AGAIN = 60.0  # seconds before the facilitator is told the same trouble of a seat again
RETRY, MAX_RETRY = 5.0, 120.0  # seconds before a failed turn is tried again, doubling up to the most
SCRIPTED = "scripted bot"
#: Events that make a seat with nothing waiting on it consider a reply.
TALK_TRIGGERS = {ev.MESSAGE, ev.MESSAGE_DELIVERED, ev.INJECT_RELEASED, ev.RELAY_NOTE, ev.PERSONA_POSTED}


class Dropped(Exception):
    """The brain's answer was invalid twice: the turn is dropped (`tokens`: what the calls spent)."""

    def __init__(self, message: str, tokens: int = 0) -> None:
        super().__init__(message)
        self.tokens = tokens


class Brain(Protocol):
    label: str  # what the log and the console call it: the model's name, or "scripted bot"

    def decide(self, view: SeatView, seat_name: str, relay_actions: tuple[str, ...]) -> tuple[list[Command], int]:
        """The commands for this turn and the tokens spent; Dropped, or ModelError when the endpoint fails."""
        ...


class ModelBrain:
    """A language model behind the configured OpenAI-compatible endpoint."""

    def __init__(self, config: AIConfig, client: ChatClient | None = None) -> None:
        self.config = config
        self.client = client or ChatClient(config)
        self.label = config.model
        self.latencies: list[float] = []

    def decide(self, view: SeatView, seat_name: str, relay_actions: tuple[str, ...]) -> tuple[list[Command], int]:
        asked = schema.action_schema(view, relay_actions)
        messages = prompt.messages(view, seat_name, relay_actions)
        spent = 0
        problem = ""
        for _attempt in (1, 2):
            reply = self.client.chat(messages, asked)
            self.latencies.append(reply.seconds)
            spent += reply.tokens
            try:
                return schema.validate(reply.text, view, relay_actions), spent
            except Invalid as exc:
                problem = str(exc)
                messages = [
                    *messages,
                    {"role": "assistant", "content": reply.text[:1000]},
                    {"role": "user", "content": f"That answer is invalid: {problem}. Answer again with JSON only."},
                ]
        raise Dropped(f"{problem} (twice)", spent)


class ScriptedBrain:
    """A scripted bot: passes every message on as written, acknowledges, takes each decision's first option."""

    label = SCRIPTED

    def decide(self, view: SeatView, seat_name: str, relay_actions: tuple[str, ...]) -> tuple[list[Command], int]:
        kind = focus(view)
        actions: list[dict[str, Any]] = []
        if kind == "relay":
            how = "forward" if "forward" in relay_actions else relay_actions[0]
            actions = [{"do": "relay", "message": w.message, "action": how, "text": ""} for w in view.waiting]
        elif kind == "duty":
            actions = [{"do": "ack", "inject": inject} for inject, _title in view.acks]
            actions += [
                {"do": "decide", "inject": d.inject, "option": d.options[0][0], "rationale": "Scripted seat."}
                for d in view.decisions
            ]
        return schema.validate({"actions": actions[: schema.MAX_ACTIONS]}, view, relay_actions), 0


@dataclass
class Budget:
    """Tokens a session's AI seats may still spend, shared by its seats."""

    limit: int
    spent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def charge(self, tokens: int) -> None:
        with self.lock:
            self.spent += tokens

    @property
    def left(self) -> int:
        return self.limit - self.spent


class RateLimit:
    """A token bucket of commands a minute (wall clock)."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(max(1, min(per_minute, 5)))
        self.tokens = self.capacity
        self.last = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


Tell = Callable[[str, str], None]  # (session id, text): the facilitator is told


@dataclass
class SeatStats:
    turns: int = 0
    actions: int = 0
    refused: int = 0
    dropped: int = 0
    failures: int = 0
    tokens: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds from the trigger to the seat's first command


class SeatRunner:
    """One seat played by a brain, through the same commands and rules as a person."""

    def __init__(
        self,
        live: Live,
        session_id: str,
        actor: Actor,
        brain: Brain,
        config: AIConfig,
        budget: Budget,
        tell: Tell | None = None,
        relay_actions: tuple[str, ...] = RELAY_ACTIONS,
        talk: bool = True,
    ) -> None:
        self.live = live
        self.session_id = session_id
        self.actor = actor
        self.brain = brain
        self.config = config
        self.budget = budget
        self.tell_facilitator = tell or (lambda session_id, text: None)
        self.relay_actions = tuple(a for a in relay_actions if a in RELAY_ACTIONS) or RELAY_ACTIONS
        self.talk = talk
        self.status = "running"  # running | paused | taken_over | handed_over | out_of_tokens | ended
        self.problem = ""  # the last trouble, for the console
        self.stats = SeatStats()
        self.rate = RateLimit(config.actions_per_minute)
        self.events: list[Event] = []
        self.recent: list[dict[str, Any]] = []  # the seat's latest actions, for the console
        self.turned_at = 0  # the seq the last turn looked at
        self.queue: queue.Queue[float] = queue.Queue(maxsize=1)  # wake-ups, coalesced
        self.thread: threading.Thread | None = None
        self._told: dict[str, float] = {}
        self.retry_at: float | None = None  # a failed turn whose work still waits is tried again then
        self.backoff = RETRY
        self._stop = threading.Event()
        self.halt = threading.Event()  # the registry's: the app is closing

    # ------------------------------------------------------------------ the thread
    def start(self) -> None:
        if self.thread is None or not self.thread.is_alive():
            self._stop.clear()
            name = f"ai-seat-{self.session_id}-{self.actor.participant}"
            self.thread = threading.Thread(target=self._run, name=name, daemon=True)
            self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake()

    def wake(self) -> None:
        with contextlib.suppress(queue.Full):  # a wake-up is already waiting: one turn will see everything
            self.queue.put_nowait(time.monotonic())

    def _run(self) -> None:
        while not (self._stop.is_set() or self.halt.is_set()):
            try:
                woken = self.queue.get(timeout=POLL)
            except queue.Empty:
                woken = None
            if self._stop.is_set() or self.halt.is_set():
                break
            try:
                self.step(woken)
            except Exception:  # a seat's trouble never reaches the game
                log.exception("AI seat %s of session %s failed a turn", self.actor.name, self.session_id)
            if self.status == "ended":
                break

    # ------------------------------------------------------------------ a turn
    def step(self, woken: float | None = None) -> bool:
        """Look at the log; play a turn if something new waits on the seat. Whether a turn was played."""
        if self.status != "running":
            return False
        started = woken or time.monotonic()
        self.events += self.live.store.events_after(self.session_id, self.events[-1].seq if self.events else 0)
        retry = self.retry_at is not None and started >= self.retry_at
        if not self.events or (self.events[-1].seq <= self.turned_at and not retry):
            return False
        new = [e for e in self.events if e.seq > self.turned_at]
        with self.live.lock(self.session_id):
            state = self.live.state(self.session_id)
            if state.ended:
                self.status = "ended"
                return False
            view = seat_view(state, self.actor, self.events, state.elapsed(self.live.time.now()))
        self.turned_at = self.events[-1].seq
        if not (self._triggered(view, new) or (retry and view.has_work)):
            if retry:
                self.retry_at = None  # nothing waits any more
            return False
        if self.budget.left <= 0 or self.stats.tokens >= self.config.seat_tokens:
            self.status = "out_of_tokens"
            which = "the session's" if self.budget.left <= 0 else "its own"
            used = self.stats.tokens
            self.tell("budget", f"stopped: {which} token budget is spent ({used} tokens used by this seat)")
            return False
        self.stats.turns += 1
        try:
            commands, tokens = self.brain.decide(view, self.actor.name, self.relay_actions)
        except Dropped as exc:
            self.stats.dropped += 1
            self._charge(exc.tokens)
            self._later()
            self.tell("invalid", f"its answer was invalid and was dropped: {exc}")
            return True
        except ModelError as exc:
            self.stats.failures += 1
            self.problem = str(exc)
            self._later()
            self.tell("endpoint", f"the model endpoint failed ({exc}); the game goes on without this turn")
            return True
        self._charge(tokens)
        self.problem = ""
        self.retry_at, self.backoff = None, RETRY
        first = True
        for name, data in commands:
            if self.status != "running":
                break  # paused or taken over while the model thought
            if not self.rate.take():
                log.warning("AI seat %s: %s dropped, over its rate limit", self.actor.name, name)
                self.stats.refused += 1
                continue
            try:
                result = self.live.command(self.session_id, self.actor, name, data)
            except Refused as exc:
                self.stats.refused += 1
                log.info("AI seat %s: %s refused: %s", self.actor.name, name, exc.message)
                continue
            self.stats.actions += 1
            self.recent = [*self.recent[-19:], {"seq": result.seq, "command": name, **_summary(data)}]
            if first:
                self.stats.latencies.append(time.monotonic() - started)
                first = False
        return True

    def _triggered(self, view: SeatView, new: list[Event]) -> bool:
        me = self.actor.participant
        others = [e for e in new if e.actor != me and e.payload_json.get("participant") != me]
        if not others:
            return False
        if view.has_work:
            return True
        if not self.talk or self.brain.label == SCRIPTED:
            return False
        visible = {v["seq"] for v in seen(others, self.actor, self.live.current(self.session_id))}
        return any(e.seq in visible and e.type in TALK_TRIGGERS for e in others)

    def _later(self) -> None:
        """A failed turn is tried again after a while if its work still waits (sooner if something new comes)."""
        self.retry_at = time.monotonic() + self.backoff
        self.backoff = min(self.backoff * 2, MAX_RETRY)

    def _charge(self, tokens: int) -> None:
        self.stats.tokens += tokens
        self.budget.charge(tokens)

    def tell(self, kind: str, text: str) -> None:
        """Tell the facilitator (a note in the log, shown on the console), at most once a minute per trouble."""
        self.problem = text
        log.warning("AI seat %s (session %s): %s", self.actor.name, self.session_id, text)
        now = time.monotonic()
        if now - self._told.get(kind, -TELL_AGAIN) < TELL_AGAIN:
            return
        self._told[kind] = now
        try:
            label = "" if self.brain.label in self.actor.name else f" ({self.brain.label})"
            self.tell_facilitator(self.session_id, f"AI seat {self.actor.name}{label}: {text}")
        except Exception:
            log.exception("telling the facilitator about AI seat %s failed", self.actor.name)

    def info(self) -> dict[str, Any]:
        lat = sorted(self.stats.latencies)
        return {
            "participant": self.actor.participant,
            "name": self.actor.name,
            "team": self.actor.team,
            "position": self.actor.position,
            "model": self.brain.label,
            "status": self.status,
            "problem": self.problem,
            "turns": self.stats.turns,
            "actions": self.stats.actions,
            "refused": self.stats.refused,
            "dropped": self.stats.dropped,
            "failures": self.stats.failures,
            "tokens": self.stats.tokens,
            "seat_tokens": self.config.seat_tokens,
            "median_latency": round(lat[len(lat) // 2], 3) if lat else None,
        }


def _summary(data: dict[str, Any]) -> dict[str, Any]:
    """What the console lists of an action: its target and (cut) text."""
    keep = ("channel", "message", "action", "to", "inject", "option")
    found = {k: data[k] for k in keep if k in data}
    text = data.get("text") or data.get("rationale")
    if text:
        found["text"] = str(text)[:200]
    return found


# ------------------------------------------------------------------ the seats of every session
def seat_name(title: str, label: str, told: bool, name: str = "") -> str:
    """The seat's display name: marked with its model when players are told, else the name given."""
    if told:
        base = name or title
        kind = "bot" if label == SCRIPTED else "AI"
        return f"{base} ({kind}: {label})"[:80] if len(base) < 60 else f"{base[:56]} ({kind})"
    return (name or title)[:80]


class Seats:
    """The AI and bot seats this process plays, per session (a registry the web layer keeps on its runtime)."""

    def __init__(
        self, live: Live, config: AIConfig, tell: Tell | None = None, halt: threading.Event | None = None
    ) -> None:
        self.live = live
        self.config = config
        self.halt = halt or threading.Event()  # set: every seat's thread ends (the app is closing)
        self.tell = tell or self._note
        self.runners: dict[str, dict[int, SeatRunner]] = {}
        self.budgets: dict[str, Budget] = {}
        self.lock = threading.Lock()
        self.start_threads = True

    def _note(self, session_id: str, text: str) -> None:
        """The default way to tell the facilitator: a note in the log (control only)."""
        try:
            self.live.command(session_id, Actor("control", None, "AI seats"), "note", {"text": text[:3900]})
        except Refused as exc:
            log.warning("AI seats: could not note %r: %s", text, exc.message)

    def told(self, session_id: str) -> bool:
        """The session's setting: are players told which seats added from now on are AI (default yes)? It
        lives in the log (`ai_disclosure`), so a restart keeps it and every worker sees it."""
        return self.live.current(session_id).ai_told

    def disclose(self, session_id: str, told: bool, by: str = "control") -> bool:
        """Set whether players are told which seats added from now on are AI: an `ai_disclosure` event
        (control only), appended only when it changes the setting. The setting."""
        if self.told(session_id) != told:
            self.live.record(session_id, NewEvent.of(ev.AIDisclosure(told=told, by=by[:80])))
        return told

    def budget(self, session_id: str) -> Budget:
        with self.lock:
            return self.budgets.setdefault(session_id, Budget(self.config.session_tokens))

    def brain(self, kind: str) -> Brain:
        if kind == "bot":
            return ScriptedBrain()
        if not self.config.enabled:
            raise ValueError("AI seats need AI_BASE_URL and AI_MODEL (docs/ai-seats.md)")
        return ModelBrain(self.config)

    def add(
        self,
        session_id: str,
        team: str,
        position: str,
        *,
        kind: str = "ai",
        name: str = "",
        told: bool | None = None,
        relay_actions: tuple[str, ...] = RELAY_ACTIONS,
        talk: bool | None = None,
        brain: Brain | None = None,
    ) -> SeatRunner:
        """Seat an AI (or a scripted bot) in a position: a participant, its `participant_joined` (with `ai`:
        the model, and whether players are told: `told`, else the session's setting), and its runner,
        started. `talk`: whether it also answers messages when nothing waits on it (default: yes, except
        for an intermediary's seats)."""
        state = self.live.current(session_id)
        if state.ended:
            raise ValueError("this session has ended")
        if told is None:
            told = state.ai_told
        ex = state.exercise
        try:
            found_team, found = ex.position(position)
        except KeyError:
            raise ValueError(f"unknown position '{position}'") from None
        if found_team.id != team:
            raise ValueError(f"'{position}' is not a position of '{team}'")
        brain = brain or self.brain(kind)
        display = seat_name(found.title, brain.label, told, name)
        pid = self.live.store.add_participant(session_id, "player", display, team, position, [])
        joined = ev.ParticipantJoined(
            participant=pid,
            kind="player",
            name=display,
            team=team,
            position=position,
            ai=ev.AISeat(model=brain.label, told=told),
        )
        self.live.record(session_id, NewEvent.of(joined, (team,), actor=pid))
        actor = Actor("player", pid, display, team, position)
        runner = SeatRunner(
            self.live,
            session_id,
            actor,
            brain,
            self.config,
            self.budget(session_id),
            self.tell,
            relay_actions,
            not found_team.intermediary if talk is None else talk,
        )
        with self.lock:
            self.runners.setdefault(session_id, {})[pid] = runner
        runner.halt = self.halt
        if self.start_threads:
            runner.start()
        return runner

    def adopt(self, session_id: str) -> list[SeatRunner]:
        """The AI seats of the log that no runner here plays (the server restarted): runners for them,
        paused, for the facilitator to resume. One worker only: with several, another may play them."""
        if self.live.shared:
            return []
        seated = {p.id for p in self.live.store.participants(session_id, removed=False)}
        state = self.live.current(session_id)
        adopted = []
        for pid, joined in list(state.participants.items()):
            if joined.ai is None or pid not in seated or self.get(session_id, pid) is not None:
                continue
            if joined.ai.model == SCRIPTED:
                brain: Brain = ScriptedBrain()
            elif self.config.enabled:
                brain = ModelBrain(self.config)
            else:
                continue
            actor = Actor("player", pid, joined.name, joined.team, joined.position)
            runner = SeatRunner(self.live, session_id, actor, brain, self.config, self.budget(session_id), self.tell)
            runner.status, runner.problem = "paused", "the server restarted: resume the seat to play it again"
            runner.halt = self.halt
            with self.lock:
                self.runners.setdefault(session_id, {})[pid] = runner
            adopted.append(runner)
        return adopted

    def of(self, session_id: str) -> list[SeatRunner]:
        with self.lock:
            return list(self.runners.get(session_id, {}).values())

    def get(self, session_id: str, participant: int) -> SeatRunner | None:
        with self.lock:
            return self.runners.get(session_id, {}).get(participant)

    def wake(self, session_id: str) -> None:
        for runner in self.of(session_id):
            if runner.status == "running":
                runner.wake()

    def set_status(self, session_id: str, participant: int, status: str) -> SeatRunner:
        """pause | resume | take_over | hand_over: what the facilitator does with a seat."""
        runner = self.get(session_id, participant)
        if runner is None:
            raise LookupError(f"no AI seat {participant} in this session")
        if status == "resume":
            if runner.status == "handed_over":
                raise ValueError("this seat was handed to a person")
            runner.status = "running"
            runner.turned_at = 0  # look at what is waiting again
            if self.start_threads:
                runner.start()
            runner.wake()
        elif status in ("pause", "take_over", "hand_over"):
            runner.status = {"pause": "paused", "take_over": "taken_over", "hand_over": "handed_over"}[status]
            if status == "hand_over":
                runner.stop()
        else:
            raise ValueError("the action is pause, resume, take_over or hand_over")
        return runner

    def close(self) -> None:
        with self.lock:
            runners = [r for seats in self.runners.values() for r in seats.values()]
        for runner in runners:
            runner.stop()
