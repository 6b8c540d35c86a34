"""The event contract: docs/protocol.md's event table and static/js/events.js agree with the classes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from tabletop.engine import contract
from tabletop.engine.events import EVENT_TYPES, GROUPS

from .services import need_program

JS = contract.EVENTS_JS.parent


def test_the_generated_files_are_what_the_classes_say() -> None:
    """Fails when an event class changed and `python -m tabletop.engine.contract` was not run (or a file was edited)."""
    for path, text in contract.generated().items():
        assert path.read_text() == text, f"{path.name} is stale: run python -m tabletop.engine.contract"


def test_the_protocol_table_has_a_row_per_type_naming_every_field() -> None:
    table = contract.event_table()
    rows = {line.split("|")[1].strip(" `"): line for line in table.splitlines()[2:]}
    assert list(rows) == list(EVENT_TYPES)
    for name, cls in EVENT_TYPES.items():
        for field_name, info in cls.model_fields.items():
            assert f"`{info.alias or field_name}`" in rows[name], (name, field_name)
    assert contract.BEGIN in contract.PROTOCOL.read_text()


def test_the_javascript_module_exports_the_types_fields_and_groups(tmp_path: Path) -> None:
    """static/js/events.js, run by node as the browser runs it."""
    need_program("node")
    module = tmp_path / "events.mjs"
    shutil.copy(contract.EVENTS_JS, module)
    script = f"""
import * as e from {json.dumps(module.as_uri())};
const groups = Object.fromEntries({json.dumps(list(GROUPS))}.map((g) => [g, [...e[g]]]));
console.log(JSON.stringify({{ types: e.EVENT_TYPES, fields: e.EVENT_FIELDS, optional: e.OPTIONAL_FIELDS, groups,
  names: Object.fromEntries(e.EVENT_TYPES.map((t) => [t.toUpperCase(), e[t.toUpperCase()]])) }}));
"""
    done = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["types"] == list(EVENT_TYPES)
    assert out["names"] == {name.upper(): name for name in EVENT_TYPES}
    for name, cls in EVENT_TYPES.items():
        assert out["fields"][name] == [f.alias or n for n, f in cls.model_fields.items()]
        assert out["optional"][name] == [f.alias or n for n, f in cls.model_fields.items() if not f.is_required()]
    assert out["groups"] == {group: list(names) for group, names in GROUPS.items()}


def _pages_js() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(JS.glob("*.js")) if p != contract.EVENTS_JS}


def test_the_pages_import_only_names_the_module_exports() -> None:
    exported = set(re.findall(r"^export const (\w+)", contract.events_js(), re.M))
    imports = 0
    for name, source in _pages_js().items():
        for block in re.findall(r"import\s*\{([^}]*)\}\s*from\s*\"\./events\.js\"", source):
            names = {n.strip() for n in block.split(",") if n.strip()}
            assert names <= exported, (name, sorted(names - exported))
            imports += 1
    assert imports >= 5  # console, room, observer, views, live (and setup)


def test_no_page_spells_an_event_type_by_hand() -> None:
    """Event type names come from events.js; a quoted `inject_released` elsewhere is a hand-copied list."""
    spelled = re.compile(r"[\"'`](" + "|".join(n for n in EVENT_TYPES if "_" in n) + r")[\"'`]")
    found = {name: spelled.findall(source) for name, source in _pages_js().items()}
    assert {name: hits for name, hits in found.items() if hits} == {}
