"""Exercise scripts: YAML loading, validation with file:line:column errors, the JSON Schema.

Pure domain code: never imports Flask.
"""

from .errors import Mark, Problem, ScriptError
from .loader import EXERCISES, LIBRARY, load_exercise, load_exercise_bytes
from .models import Exercise

__all__ = ["EXERCISES", "LIBRARY", "Exercise", "Mark", "Problem", "ScriptError", "load_exercise", "load_exercise_bytes"]
