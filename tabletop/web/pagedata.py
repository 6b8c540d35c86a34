"""What the pages show, worked out away from the routes: library rows, the MSEL, QR codes,
uploads of scripts and who may fetch an attachment. No Flask request objects in here.
"""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import qrcode
import qrcode.image.svg

from tabletop.engine.conditions import describe
from tabletop.engine.state import TEAM_CHANNEL, SessionState, decision_payload
from tabletop.script import Exercise, Problem, ScriptError, load_exercise_bytes
from tabletop.script.models import Effect, Inject, LevelChange
from tabletop.script.timeline import timeline
from tabletop.script.times import format_duration, format_length, format_offset, format_scenario, format_scenario_at
from tabletop.sessions import library_entries
from tabletop.store import Identity

MAX_UPLOAD = 1024 * 1024  # a script is text: 1 MiB is plenty


# ----------------------------------------------------------------- library
@dataclass(frozen=True)
class LibraryRow:
    file: str
    exercise: Exercise | None
    problems: list[str]

    @property
    def length(self) -> str:
        return format_length(self.exercise.duration) if self.exercise else ""


def library(exercises_dir: Path, injects_dir: Path) -> list[LibraryRow]:
    return [LibraryRow(p.name, ex, problems) for p, ex, problems in library_entries(exercises_dir, injects_dir)]


# -------------------------------------------------------------------- MSEL
def msel_rows(exercise: Exercise) -> list[dict[str, Any]]:
    """The MSEL as plain rows, for the preview table and the console's timeline."""
    teams = {t.id: t.name for t in exercise.teams}
    rows = []
    for row in timeline(exercise):
        inject = row.inject
        to = list(exercise.recipients(inject))
        decision = decision_payload(inject)
        trigger = inject.trigger.model_dump(exclude_none=True) if inject.trigger else None
        rows.append(
            {
                "number": row.number,
                "inject": inject.id,
                "title": inject.title,
                "due": row.due,
                "time": row.exercise_time,
                "scenario": format_scenario_at(row.clock, row.due),  # the clock of the move it falls in
                "move": row.move.id if row.move else None,
                "move_title": row.move.title if row.move else "",
                "release": row.release,
                "release_words": release_words(exercise, inject, row.release),
                "kind": inject.release,
                "trigger": trigger,
                "delay": inject.delay,
                "to": to,
                "to_names": [teams.get(t, t) for t in to],
                "from": inject.from_ or "",
                "medium": inject.medium,
                "ack": inject.ack,
                "decision": decision,
                # What each option does to the level, in words ("+2", "at least 4"; "" for none): for the preview.
                "option_changes": {o["id"]: option_change(o) for o in decision["options"]} if decision else {},
                "attachments": list(inject.attachments),
                "objectives": list(inject.objectives),
                "expect": inject.expect,
                "effects": [effect_text(e) for e in inject.effects if e.jam or e.escalation or e.level or e.channel],
                **format2_row(exercise, inject),
            }
        )
    return rows


def release_words(exercise: Exercise, inject: Inject, release: str) -> str:
    """How an inject is released, as a person reads it: titles and option labels, never ids
    ("after the decision “Options”: Strike, 5m later"; the ids stay in `release`, for authors)."""

    def title(ident: str) -> str:
        try:
            return f"“{exercise.inject(ident).title}”"
        except KeyError:
            return ident

    later = f", {format_duration(inject.delay)} later" if inject.delay else ""
    trigger = inject.trigger
    if inject.at is None and trigger is not None:
        if trigger.inject is not None:
            return f"after {title(trigger.inject)}{later}"
        if trigger.decision is not None:
            label = trigger.option or ""
            try:
                spec = exercise.inject(trigger.decision).decision
            except KeyError:
                spec = None
            options = {o.id: o.label for o in spec.options} if spec is not None else {}
            label = options.get(label) or label
            return f"after the decision {title(trigger.decision)}{f': {label}' if label else ''}{later}"
    if release.startswith("choice "):
        return f"an alternative of the choice {title(release[len('choice ') :])}"
    return release


def format2_row(exercise: Exercise, inject: Inject) -> dict[str, Any]:
    """What an MSEL row adds for format 2's fields, only where the inject uses them: the exercise-event
    marking, its source, its conditions in words and a choice's alternatives."""
    row: dict[str, Any] = {}
    if inject.fiction:
        row["fiction"] = True
    if inject.source:
        row["source"] = inject.source
    if inject.when is not None:
        row["when"] = describe(inject.when, exercise)
    if inject.unless is not None:
        row["unless"] = describe(inject.unless, exercise)
    if inject.choose:
        row["choose"] = [
            f"{entry.target} if {describe(entry.when, exercise)}" if entry.when else f"{entry.target} otherwise"
            for entry in inject.choose
        ]
    return row


def effect_text(effect: Effect) -> str:
    """`jam bridge for 10m`, `escalation +2`, `escalation at least 4` (format 2's mapping), `open flag-line`,
    `close bridge`."""
    if effect.jam:
        return f"jam {effect.jam.channel} for {format_duration(effect.jam.for_)}"
    if effect.channel:
        return f"{effect.channel.action} {effect.channel.id}"
    if effect.level is not None:
        return f"escalation {effect.level.words()}"
    return f"escalation {effect.escalation or 0:+d}"


def option_change(option: dict[str, Any]) -> str:
    """What a decision option (as JSON) does to the escalation level: `+2`, or format 2's mapping in words
    (`at least 4`, `+1, at most 3`, `to 2`); "" when it leaves the level alone."""
    if option.get("level"):
        return LevelChange(**option["level"]).words()
    return f"{option['escalation']:+d}" if option.get("escalation") else ""


def moves_view(exercise: Exercise) -> list[dict[str, Any]]:
    """The script's moves for the pages: title, start, the scenario date it starts at, whether the clock stops."""
    return [
        {
            "id": m.id,
            "title": m.title,
            "at": m.at,
            "time": format_offset(m.at),
            "scenario": format_scenario(exercise.move_anchor(m)),
            "stop_clock": m.stop_clock,
        }
        for m in exercise.moves
    ]


def script_view(exercise: Exercise) -> dict[str, Any]:
    """What the console and the observer pages need of the script, as JSON."""
    return {
        "id": exercise.id,
        "title": exercise.title,
        "classification": exercise.classification,
        "duration": exercise.duration,
        "teams": [
            {
                "id": t.id,
                "name": t.name,
                "intermediary": t.intermediary,
                "positions": [{"id": p.id, "title": p.title, "authority": p.authority} for p in t.positions],
            }
            for t in exercise.teams
        ],
        "channels": [
            {"id": TEAM_CHANNEL, "name": "Team chat", "kind": "team", "members": [t.id for t in exercise.teams]},
            *(
                {"id": c.id, "name": c.name, "kind": c.kind, "members": list(c.members), "relay": c.relay}
                for c in exercise.channels
            ),
        ],
        "objectives": [{"id": o.id, "text": o.text, "capability": o.capability or ""} for o in exercise.objectives],
        "moves": moves_view(exercise),
        "msel": msel_rows(exercise),
        # Format 2: the escalation ladder and the personas control may post as.
        "escalation": {
            "start": exercise.escalation.start,
            "rungs": [
                {"level": r.level, "name": r.name, "description": r.description} for r in exercise.escalation.rungs
            ],
        },
        "personas": [
            {"id": p.id, "name": p.name, "team": p.team, "description": p.description} for p in exercise.personas
        ],
    }


# ---------------------------------------------------------------- QR codes
def qr_svg(data: str, label: str) -> str:
    """An inline SVG QR code (no fixed size: CSS sizes it), generated here from our own URL."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    root = image.get_image()
    for attr in ("width", "height"):
        root.attrib.pop(attr, None)
    root.set("role", "img")
    root.set("aria-label", label)
    root.set("class", "qr")
    for node in root.iter():
        node.attrib.pop("id", None)
    ET.register_namespace("", "http://www.w3.org/2000/svg")
    return ET.tostring(root, encoding="unicode")


# ------------------------------------------------------------------ upload
@dataclass
class UploadResult:
    ok: bool
    problems: list[Problem] = field(default_factory=list)
    message: str = ""
    exercise: Exercise | None = None
    saved: str | None = None
    needs_confirm: bool = False


def store_upload(raw: bytes, filename: str, exercises_dir: Path, injects_dir: Path, replace: bool) -> UploadResult:
    """Validate an uploaded script; when valid, save it as exercises/<id>.yaml (never under the sent name)."""
    display = Path(filename or "upload.yaml").name[:100] or "upload.yaml"
    if not raw:
        if filename:
            return UploadResult(False, message=f"{display} is empty (0 bytes): choose the script file itself")
        return UploadResult(False, message="choose a YAML file to upload")
    if len(raw) > MAX_UPLOAD:
        return UploadResult(False, message="the file is larger than 1 MiB: is it really an exercise script?")
    try:
        exercise = load_exercise_bytes(raw, display, script_dir=exercises_dir, library=injects_dir)
    except ScriptError as exc:
        return UploadResult(False, problems=exc.problems, message=f"{display} does not load: nothing was stored")
    target = exercises_dir / f"{exercise.id}.yaml"
    for path, other, _problems in library_entries(exercises_dir, injects_dir):
        if other is not None and other.id == exercise.id and path.name != target.name:
            return UploadResult(
                False,
                exercise=exercise,
                message=f"the exercise id '{exercise.id}' is already used by {path.name}: change the id",
            )
    if target.exists():
        if target.read_bytes() == raw:
            return UploadResult(True, exercise=exercise, saved=target.name, message=f"{target.name} is unchanged")
        if not replace:
            return UploadResult(
                False,
                exercise=exercise,
                needs_confirm=True,
                message=f"{target.name} already exists with different content: tick 'replace' and upload again",
            )
    exercises_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=exercises_dir, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return UploadResult(True, exercise=exercise, saved=target.name, message=f"saved as exercises/{target.name}")


# ------------------------------------------------------------- attachments
def may_fetch_attachment(state: SessionState, identity: Identity | None, facilitator: bool, name: str) -> bool:
    """Facilitators: any attachment of the session's script. Participants: one their team has received."""
    for inject in state.injects.values():
        if name not in inject.definition.attachments:
            continue
        if facilitator:
            return True
        if identity is None or inject.status != "released":
            continue
        teams = set(inject.definition.to)
        if identity.kind == "player" and identity.team in teams:
            return True
        if identity.kind == "observer" and teams.intersection(identity.teams):
            return True
    return False
