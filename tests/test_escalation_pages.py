"""Format 2's escalation mappings on the pages: the preview's options and effects and the console's MSEL
say where a mapping places the level ("at least 3", "+1, at most 1"), as they say a number ("+2")."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from tabletop.script import load_exercise
from tabletop.web.pagedata import effect_text, option_change

from .test_pages import PASSWORD, csrf, log_in

ROOT = Path(__file__).parent.parent
SPEEDBOAT = ROOT / "exercises" / "speedboat-harassment-2020.yaml"


@pytest.fixture
def app(tmp_path: Path, make_app):
    exercises = tmp_path / "exercises"
    exercises.mkdir()
    shutil.copy(SPEEDBOAT, exercises / SPEEDBOAT.name)
    app = make_app(EXERCISES_DIR=str(exercises), INJECTS_DIR=str(ROOT / "injects"), JOIN_RATE_LIMIT="1000 per minute")
    app.extensions["tabletop"].store.create_facilitator("ctl", PASSWORD)
    return app


def test_mapping_effects_and_options_in_words() -> None:
    exercise = load_exercise(SPEEDBOAT)
    (effect,) = exercise.inject("sb-boats-close").effects
    assert effect_text(effect) == "escalation at least 1"
    assert option_change({"id": "a", "label": "A", "escalation": 2}) == "+2"
    assert option_change({"id": "a", "label": "A", "escalation": 0}) == ""
    assert (
        option_change({"id": "a", "label": "A", "escalation": 0, "level": {"by": 1, "at_most": 1}}) == "+1, at most 1"
    )
    assert option_change({"id": "a", "label": "A", "escalation": 0, "level": {"to": 2}}) == "to 2"


def test_the_preview_says_where_a_mapping_option_places_the_level(client, app) -> None:
    log_in(client)
    page = html.unescape(client.get(f"/library/{SPEEDBOAT.stem}").get_data(as_text=True))
    row = page[page.index('id="inject-sb-guidance"') :]
    row = row[: row.index("</tr>")]
    assert "Fire warning shots ahead of the closest boat</span> (at least 3)" in row
    assert "Hold course and formation; keep warning on VHF 16 and by horn</span> ·" in row, "no change, no words"
    boats = page[page.index('id="inject-sb-boats-close"') :]
    assert "Effects: escalation at least 1" in boats[: boats.index("</tr>")]


def test_the_console_msel_lists_a_mapping_effect(client, app) -> None:
    log_in(client)
    token = csrf(client, "/library")
    response = client.post("/sessions", data={"exercise": SPEEDBOAT.stem, "csrf_token": token})
    session_id = response.headers["Location"].split("/")[-2]
    page = client.get(f"/console/{session_id}").get_data(as_text=True)
    script = json.loads(re.search(r'<script type="application/json" id="script-data">(.*?)</script>', page, re.S)[1])
    rows = {row["inject"]: row for row in script["msel"]}
    assert rows["sb-boats-close"]["effects"] == ["escalation at least 1"]
    options = {o["id"]: o for o in rows["sb-guidance"]["decision"]["options"]}
    assert options["warning-shots"]["level"] == {"at_least": 3}
    assert rows["sb-guidance"]["option_changes"]["warning-shots"] == "at least 3"
