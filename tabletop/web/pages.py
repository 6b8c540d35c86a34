"""HTML pages."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, render_template

from tabletop.script import ScriptError, load_exercise

pages = Blueprint("pages", __name__)


@pages.get("/")
def index() -> str:
    """The exercise library: every script in exercises/, with its problems if it does not load."""
    folder = Path(current_app.config["EXERCISES_DIR"])
    library = Path(current_app.config["INJECTS_DIR"])
    entries = []
    for path in sorted(folder.glob("*.y*ml")):
        try:
            exercise = load_exercise(path, library=library, display=path.name)
            entries.append({"file": path.name, "exercise": exercise, "problems": []})
        except ScriptError as exc:
            entries.append({"file": path.name, "exercise": None, "problems": [str(p) for p in exc.problems]})
    return render_template("index.html", entries=entries)
