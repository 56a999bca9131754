"""The card schema: generated from the card format, shipped in sync, satisfied by every card,
and in agreement with `parse_card` on what a card file may hold."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from studycli.content.card import parse_card
from studycli.content.fields import CARD_FIELDS, FIELDS, Kind
from studycli.content.schema import MODELINE, card_schema, schema_text

from .conftest import FIXTURE_CONTENT, REPO_ROOT

SHIPPED = REPO_ROOT / "cards" / "schema.json"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SHIPPED.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_shipped_schema_is_the_generated_one():
    assert SHIPPED.read_text(encoding="utf-8") == schema_text(), (
        "cards/schema.json is stale: run `studycli schema > cards/schema.json`"
    )


def test_schema_command_prints_it(cli):
    result = cli("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == card_schema()


def card_files() -> list[Path]:
    return sorted((REPO_ROOT / "cards").rglob("*.yaml")) + sorted(
        (FIXTURE_CONTENT / "cards").rglob("*.yaml")
    )


def test_every_shipped_card_and_the_fixture_deck_validate(validator):
    files = card_files()
    assert len(files) > 200
    errors = {
        str(path.relative_to(REPO_ROOT)): [e.message for e in validator.iter_errors(load(path))]
        for path in files
    }
    assert {path: found for path, found in errors.items() if found} == {}


def load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_every_field_of_the_format_is_described():
    properties = card_schema()["properties"]
    assert set(properties) == FIELDS
    assert all(properties[spec.name]["description"] == spec.description for spec in CARD_FIELDS)


@pytest.mark.parametrize(
    "card, rule",
    [
        ({"kind": "concept", "solution": "m:f", "answer": "a"}, "allOf/0/then/properties"),
        ({"kind": "concept"}, "allOf/0/then/required"),
        ({"kind": "derivation", "answer": "a", "steps": []}, "allOf/1/then/properties/steps"),
        ({"kind": "coding"}, "allOf/2/then/required"),
        ({"kind": "coding", "solution": "m:f", "check": "x"}, "properties/check/pattern"),
        ({"kind": "cloze", "prompt": "no deletion here"}, "allOf/3/then/properties/prompt"),
        ({"kind": "cloze", "prompt": "a {{c1::b}}", "answer": "x"}, "allOf/3/then/properties"),
        ({"kind": "concept", "answer": "a", "topic": "no-such-topic"}, "properties/topic/enum"),
        ({"kind": "concept", "answer": "a", "tittle": "typo"}, "additionalProperties"),
        (
            {"kind": "derivation", "answer": "a", "steps": ["s"], "check": "m:c"},
            "dependentRequired",
        ),
    ],
)
def test_per_kind_rules_are_in_the_schema(validator, card, rule):
    """`allOf` holds one if/then per kind, in the order of `Kind`."""
    assert [k.value for k in Kind] == ["concept", "derivation", "coding", "cloze"]
    data = {"id": "x", "topic": "bias", "title": "t", "prompt": "p", **card}
    broken = ["/".join(map(str, e.schema_path)) for e in validator.iter_errors(data)]
    assert any(rule in where for where in broken), broken


def test_a_scaffolded_card_names_the_schema_in_its_first_line():
    assert MODELINE == "# yaml-language-server: $schema=../schema.json"
    # from cards/<deck>/, ../schema.json is the shipped file
    assert (REPO_ROOT / "cards" / "math" / ".." / "schema.json").resolve() == SHIPPED


TEXTS = ["", "  ", "text", "two\nlines", "a {{c1::b}} c"]
text_values = st.one_of(st.sampled_from(TEXTS), st.none(), st.integers(), st.just(["x"]))
list_values = st.one_of(
    st.lists(st.sampled_from(TEXTS), max_size=2), st.sampled_from(TEXTS), st.none()
)
VALUES = {
    "id": st.sampled_from(["the-card", "Bad_Id", "", 3]),
    "kind": st.sampled_from([*[k.value for k in Kind], "essay", None]),
    "topic": st.sampled_from(["bias", "", None]),
    "title": text_values,
    "prompt": text_values,
    "answer": text_values,
    "explanation": text_values,
    "starter": text_values,
    "tags": list_values,
    "hints": list_values,
    "requires": list_values,
    "steps": list_values,
    "solution": st.sampled_from(["mod:fn", "a.b:c", "../x:y", None, 5]),
    "check": st.sampled_from(["mod:check_fn", "nope", None]),
    "format_version": st.sampled_from([1, 2, 0, True, "1"]),
    "extra": st.just("unknown field"),
}
GOOD = {
    Kind.CONCEPT: {"answer": "a"},
    Kind.DERIVATION: {"answer": "a", "steps": ["s"]},
    Kind.CODING: {"solution": "mod:fn"},
    Kind.CLOZE: {"prompt": "a {{c1::b}} c"},
}


@st.composite
def card_mappings(draw):
    """A valid card of some kind, with fields then added, changed or removed at random."""
    kind = draw(st.sampled_from(list(Kind)))
    data = {"id": "the-card", "kind": kind.value, "topic": "bias", "title": "T", "prompt": "P"}
    data.update(GOOD[kind])
    for name in draw(st.lists(st.sampled_from(sorted(VALUES)), max_size=3, unique=True)):
        if draw(st.booleans()) and name in data:
            del data[name]
        else:
            data[name] = draw(VALUES[name])
    return data


@settings(max_examples=600, deadline=None)
@given(card_mappings())
def test_parse_card_and_the_schema_agree(validator, data):
    """One description drives both: a mapping is a valid card exactly when the schema says so
    (here the id always equals the file name, which only the loader can see)."""
    card_id = data.get("id")
    stem = card_id if isinstance(card_id, str) and card_id else "x"
    card, problems = parse_card(data, Path(f"cards/deck/{stem}.yaml"), "deck")
    errors = [e.message for e in validator.iter_errors(data)]
    assert (card is not None) == (not errors), (problems, errors)
