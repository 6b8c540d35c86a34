"""The library of scripts and creating sessions from them: shared by the pages, the JSON API and the CLI.

No Flask: the callers pass the folders and turn `NotFound` into a 404 or an error line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tabletop.script import Exercise, ScriptError, load_exercise
from tabletop.script.models import snapshot
from tabletop.store import Store


class NotFound(LookupError):
    pass


def library_entries(exercises_dir: Path, library: Path) -> list[tuple[Path, Exercise | None, list[str]]]:
    """Every script in the folder: loaded, or with its problems."""
    entries: list[tuple[Path, Exercise | None, list[str]]] = []
    for path in sorted(exercises_dir.glob("*.y*ml")):
        try:
            entries.append((path, load_exercise(path, library=library, display=path.name), []))
        except ScriptError as exc:
            entries.append((path, None, [str(p) for p in exc.problems]))
    return entries


def find_exercise(exercise_id: str, exercises_dir: Path, library: Path) -> Exercise:
    for path in (exercises_dir / f"{exercise_id}.yaml", exercises_dir / f"{exercise_id}.yml"):
        if path.is_file():
            exercise = load_exercise(path, library=library, display=path.name)
            if exercise.id == exercise_id:
                return exercise
    for _path, listed, _problems in library_entries(exercises_dir, library):
        if listed is not None and listed.id == exercise_id:
            return listed
    known = ", ".join(e.id for _p, e, _x in library_entries(exercises_dir, library) if e is not None)
    raise NotFound(f"no exercise '{exercise_id}' in exercises/ (exercises: {known or 'none'})")


def session_info(store: Store, session_id: str, base_url: str = "") -> dict[str, Any]:
    row = store.get_session(session_id)
    if row is None:
        raise NotFound(f"unknown session '{session_id}'")
    codes = store.codes(session_id)
    teams = {c.team: c.code for c in codes if c.kind == "player" and c.team}
    observer = next((c for c in codes if c.kind == "observer"), None)
    return {
        "session": row.id,
        "exercise": row.exercise_id,
        "title": row.title,
        "status": row.status,
        "codes": teams,
        "observer_code": observer.code if observer else None,
        "observer_teams": observer.teams if observer else [],
        "urls": {
            "join": f"{base_url}/join",
            "console": f"{base_url}/console/{row.id}",
            **{team: f"{base_url}/join?code={code}" for team, code in teams.items()},
            "observer": f"{base_url}/join?code={observer.code}" if observer else None,
        },
    }


def create_session(
    store: Store, exercise_id: str, exercises_dir: Path, library: Path, created_by: int | None, base_url: str = ""
) -> dict[str, Any]:
    exercise = find_exercise(exercise_id, exercises_dir, library)
    session_id = store.create_session(
        exercise.id, exercise.title, snapshot(exercise), [t.id for t in exercise.teams], created_by
    )
    return session_info(store, session_id, base_url)
