"""The engine: exercise clock, session state folded from the event log, rules, scheduling.

Pure Python: knows nothing of Flask or the database; time comes from a TimeSource.
"""

from .clock import ExerciseClock, ManualTime, SystemTime, TimeSource
from .events import ALL, Event, NewEvent, Viewer, redact, visible
from .rules import COMMANDS, Actor, Refused, handle
from .state import SessionState

__all__ = [
    "ALL",
    "COMMANDS",
    "Actor",
    "Event",
    "ExerciseClock",
    "ManualTime",
    "NewEvent",
    "Refused",
    "SessionState",
    "SystemTime",
    "TimeSource",
    "Viewer",
    "handle",
    "redact",
    "visible",
]
