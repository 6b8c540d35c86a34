"""The one error type of script loading: every problem of a file, each with its place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Mark:
    """A place in a file: 1-based line and column."""

    file: str
    line: int
    column: int


@dataclass(frozen=True)
class Problem:
    mark: Mark
    message: str

    def __str__(self) -> str:
        return f"{self.mark.file}:{self.mark.line}:{self.mark.column}: {self.message}"


class ScriptError(Exception):
    """Raised when a script does not load; carries every problem found, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        unique = sorted(set(problems), key=lambda p: (p.mark, p.message))
        self.problems: list[Problem] = unique
        super().__init__("\n".join(str(p) for p in unique))
