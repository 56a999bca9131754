"""The JSON Schema of a card file, generated from the card format (`fields.CARD_FIELDS`).

The repository ships it as `cards/schema.json` (`studycli schema > cards/schema.json`), and
every card that `studycli new` writes starts with a YAML language-server modeline pointing at
it, so an editor validates the card as it is typed. The schema says what one file may hold;
what only the whole content can tell (the id equals the file name, `requires` names real
cards, the solution module defines the function) stays with `studycli lint`.
"""

from __future__ import annotations

import json
from typing import Any

from .fields import (
    CARD_FIELDS,
    FORMAT_VERSION,
    ID_PATTERN,
    MAX_ID_LENGTH,
    NON_BLANK,
    REFERENCE_PATTERN,
    Field,
    Kind,
    Type,
)
from .renamed_from import ENTRY_PATTERN
from .topics import topics

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILE = "schema.json"  # in cards/, next to the deck folders
# The first line of a card file: editors running the YAML language server (VS Code's YAML
# extension, Neovim's yamlls, ...) validate the file against the schema it names. The path is
# relative to the card's folder, cards/<deck>/.
MODELINE = f"# yaml-language-server: $schema=../{SCHEMA_FILE}"


def card_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that every card file satisfies."""
    return {
        "$schema": DIALECT,
        "title": "studycli card",
        "description": (
            f"One card of studycli's content (format_version {FORMAT_VERSION}), in "
            "cards/<deck>/<id>.yaml. Generated from the card format by `studycli schema`: "
            "do not edit by hand. `studycli lint` checks the rest (the id equals the file "
            "name, requires names real cards, the solution exists)."
        ),
        "type": "object",
        "required": [spec.name for spec in CARD_FIELDS if spec.required],
        "properties": {spec.name: _property(spec) for spec in CARD_FIELDS},
        "additionalProperties": False,
        "dependentRequired": {spec.name: [spec.needs] for spec in CARD_FIELDS if spec.needs},
        "allOf": [_kind_rule(kind) for kind in Kind],
    }


def schema_text() -> str:
    """The schema as the file `cards/schema.json` holds it."""
    return json.dumps(card_schema(), indent=2, ensure_ascii=False) + "\n"


def _property(spec: Field) -> dict[str, Any]:
    shape: dict[str, Any]
    if spec.type is Type.ID:
        shape = {"type": "string", "pattern": ID_PATTERN.pattern, "maxLength": MAX_ID_LENGTH}
    elif spec.type is Type.KIND:
        shape = {"enum": [kind.value for kind in Kind]}
    elif spec.type is Type.TOPIC:
        shape = {"type": "string", "enum": list(topics())}
    elif spec.type is Type.TEXT:
        shape = {"type": "string", **({"pattern": NON_BLANK} if spec.required else {})}
    elif spec.type is Type.LIST:
        shape = {"type": "array", "items": {"type": "string", "pattern": NON_BLANK}}
    elif spec.type is Type.IDS:
        shape = {
            "type": "array",
            "items": {"type": "string", "pattern": ENTRY_PATTERN},
            "uniqueItems": True,
        }
    elif spec.type is Type.REF:
        shape = {"type": "string", "pattern": REFERENCE_PATTERN.pattern}
    else:
        shape = {"type": "integer", "minimum": 1, "maximum": FORMAT_VERSION}
    return {"description": spec.description, **shape}


def _kind_rule(kind: Kind) -> dict[str, Any]:
    """`if kind is K then`: the fields K needs (filled in), and those it must leave out."""
    needed = [spec for spec in CARD_FIELDS if kind in spec.needed_by]
    properties: dict[str, Any] = {}
    for spec in needed:
        if spec.type is Type.TEXT:
            properties[spec.name] = {"pattern": NON_BLANK}
        elif spec.type is Type.LIST:
            properties[spec.name] = {"minItems": 1}
    for spec in CARD_FIELDS:
        for pattern_kind, pattern in spec.patterns:
            if pattern_kind is kind:
                properties[spec.name] = {"pattern": pattern}
    for spec in CARD_FIELDS:
        if kind not in spec.kinds:
            properties[spec.name] = False
    then: dict[str, Any] = {}
    if needed:
        then["required"] = [spec.name for spec in needed]
    then["properties"] = properties
    return {
        "if": {"properties": {"kind": {"const": kind.value}}, "required": ["kind"]},
        "then": then,
    }
