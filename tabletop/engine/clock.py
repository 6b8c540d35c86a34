"""The exercise clock and the time sources the engine reads (real, or driven by tests)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

MIN_SPEED, MAX_SPEED = 1.0, 10.0


class TimeSource(Protocol):
    def now(self) -> float:
        """Wall-clock seconds (epoch)."""
        ...


class SystemTime:
    def now(self) -> float:
        return time.time()


class ManualTime:
    """A time source tests move by hand: no test sleeps to wait for an inject."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self.value = start

    def now(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


@dataclass
class ExerciseClock:
    """Elapsed exercise time: starts, pauses, resumes, runs 1x to 10x faster than the wall clock.

    `base` is the exercise time at `anchor` (wall seconds); while running,
    elapsed = base + (wall - anchor) * speed.
    """

    started: bool = False
    running: bool = False
    ended: bool = False
    base: float = 0.0
    anchor: float = 0.0
    speed: float = 1.0

    def elapsed(self, wall: float) -> float:
        if not self.running:
            return self.base
        return self.base + max(0.0, wall - self.anchor) * self.speed

    def wall_at(self, exercise_time: float) -> float | None:
        """When (wall seconds) the clock will read exercise_time, if it is running."""
        if not self.running:
            return None
        return self.anchor + max(0.0, exercise_time - self.base) / self.speed

    def start(self, wall: float) -> None:
        self.started = self.running = True
        self.base, self.anchor = 0.0, wall

    def pause(self, wall: float) -> None:
        self.base = self.elapsed(wall)
        self.running = False
        self.anchor = wall

    def stop_at(self, exercise_time: float, wall: float) -> None:
        """Stop at an exact exercise time (a move boundary with `stop_clock`), however late this is noticed."""
        self.base = exercise_time
        self.running = False
        self.anchor = wall

    def resume(self, wall: float) -> None:
        self.anchor = wall
        self.running = True

    def set_speed(self, speed: float, wall: float) -> None:
        self.base = self.elapsed(wall)
        self.anchor = wall
        self.speed = speed

    def end(self, wall: float) -> None:
        self.base = self.elapsed(wall)
        self.running = False
        self.ended = True

    @property
    def status(self) -> str:
        if self.ended:
            return "ended"
        if self.running:
            return "running"
        return "paused" if self.started else "ready"
