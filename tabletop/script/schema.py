"""The JSON Schema of the script format, from the models (committed as schema/exercise.schema.json)."""

from __future__ import annotations

from typing import Any

from .models import Exercise

SCHEMA_ID = "https://tabletop.invalid/schema/exercise.schema.json"


def _allow_include(schema: dict[str, Any]) -> None:
    """An inject entry may also be `include: PATH` plus overriding fields."""
    defs = schema["$defs"]
    inject = defs["Inject"]
    partial = {
        **{k: v for k, v in inject.items() if k != "anyOf"},
        "required": ["include"],
        "properties": {**inject["properties"], "include": {"type": "string"}},
    }
    partial["title"] = "Included inject"
    defs["IncludedInject"] = partial
    schema["properties"]["injects"]["items"] = {
        "anyOf": [{"$ref": "#/$defs/Inject"}, {"$ref": "#/$defs/IncludedInject"}]
    }


def _either(model: dict[str, Any], required: str, instead: str) -> None:
    """`required` may be left out when `instead` is given (teams from a base; `to` of a choice)."""
    model["required"] = [r for r in model["required"] if r != required]
    model["anyOf"] = [{"required": [required]}, {"required": [instead]}]


def exercise_schema() -> dict[str, Any]:
    schema = Exercise.model_json_schema(by_alias=True, mode="validation")
    _either(schema, "teams", "base")
    schema["$defs"]["Inject"]["required"].append("to")
    _either(schema["$defs"]["Inject"], "to", "choose")
    # A team without positions adds to the base's team of that id, and may leave out its name (the loader
    # checks that there is such a team).
    schema["$defs"]["Team"]["required"] = ["id"]
    _allow_include(schema)
    schema.pop("title", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Tabletop exercise script, format 1 or 2",
        "description": "See docs/exercise-format.md. Durations are strings like 90s, 15m, 1h30m.",
        **schema,
    }
