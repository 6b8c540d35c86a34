"""The JSON Schema of the script format, from the models (committed as schema/exercise.schema.json)."""

from __future__ import annotations

from typing import Any

from .models import Exercise

SCHEMA_ID = "https://tabletop.invalid/schema/exercise.schema.json"


def _allow_include(schema: dict[str, Any]) -> None:
    """An inject entry may also be `include: PATH` plus overriding fields."""
    defs = schema["$defs"]
    inject = defs["Inject"]
    partial = {**inject, "required": ["include"], "properties": {**inject["properties"], "include": {"type": "string"}}}
    partial["title"] = "Included inject"
    defs["IncludedInject"] = partial
    schema["properties"]["injects"]["items"] = {
        "anyOf": [{"$ref": "#/$defs/Inject"}, {"$ref": "#/$defs/IncludedInject"}]
    }


def exercise_schema() -> dict[str, Any]:
    schema = Exercise.model_json_schema(by_alias=True, mode="validation")
    _allow_include(schema)
    schema.pop("title", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Tabletop exercise script, format 1",
        "description": "See docs/exercise-format.md. Durations are strings like 90s, 15m, 1h30m.",
        **schema,
    }
