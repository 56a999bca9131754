"""Parsing a card: one YAML mapping validated against the card format (`fields`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .card import Card, Ref
from .fields import (
    CARD_FIELDS,
    FIELDS,
    FORMAT_VERSION,
    ID_PATTERN,
    MAX_ID_LENGTH,
    REFERENCE_PATTERN,
    Field,
    Kind,
    Type,
)


def parse_card(data: Any, path: Path, deck: str) -> tuple[Card | None, list[str]]:
    """Validate one card's YAML mapping against the card format (`fields.CARD_FIELDS`).

    Returns the card (None when it is unusable) and every problem found, each a sentence that
    says how to fix it. Cross-card rules (unique ids, `requires`, solutions) live in `lint`.
    """
    if data is None:
        return None, ["the file holds no card: write its fields as `key: value` lines"]
    if not isinstance(data, dict):
        what = "a list" if isinstance(data, list) else "a single value"
        return None, [
            f"the file must hold one card as `key: value` lines (a YAML mapping), not {what}"
        ]
    problems: list[str] = []
    version = data.get("format_version", FORMAT_VERSION)
    if isinstance(version, bool) or not isinstance(version, int):
        problems.append(
            f"format_version {version!r} must be a whole number such as {FORMAT_VERSION} (or "
            "leave it out)"
        )
    elif version > FORMAT_VERSION:
        return None, [
            f"format_version {version!r} is newer than this studycli reads ({FORMAT_VERSION}): "
            "upgrade studycli (pip install -U studycli)"
        ]
    elif version < 1:
        problems.append(
            f"format_version {version!r} is not a version of the card format: the versions "
            f"are 1 to {FORMAT_VERSION} (or leave it out)"
        )
    for key in sorted(set(data) - FIELDS, key=str):
        problems.append(f"unknown field {key!r}{_unknown_field_fix(key)}")
    for spec in CARD_FIELDS:
        problems += _check_value(spec, data)
    problems += _check_identity(data, path)
    problems += _check_kind_rules(data)
    if problems:
        return None, problems
    return _build(data, path, deck), []


def _check_value(spec: Field, data: dict) -> list[str]:
    """The problems with one field's value, whatever the card's kind."""
    key = spec.name
    value = data.get(key)
    problems: list[str] = []
    if spec.required:
        if value is None:  # (missing, or `key:` with nothing after it)
            return [f"missing required field {key!r} (a non-empty string)"]
        if not isinstance(value, str):
            multi_line = f" (use `{key}: |` for multi-line text)" if spec.type is Type.TEXT else ""
            return [f"field {key!r} must be a string{multi_line}"]
        if not value.strip():
            return [f"field {key!r} is empty: give it its text"]
    if key not in data:
        return problems
    if spec.type is Type.TEXT and not isinstance(value, str):
        problems.append(f"field {key!r} must be a string (use `{key}: |` for multi-line text)")
    elif spec.type in _LISTS and not (
        isinstance(value, list) and all(_is_text(item) for item in value)
    ):
        problems.append(
            f"field {key!r} must be a list of non-empty strings" + _list_fix(key, value)
        )
    elif spec.type is Type.REF and not (isinstance(value, str) and REFERENCE_PATTERN.match(value)):
        problems.append(
            f"{key} {value!r} must be 'module:function' naming a module in solutions/ "
            "(no paths, no dots)"
        )
    return problems


def _list_fix(key: str, value: object) -> str:
    """What is wrong with a list field's value that is not a list of texts, and the fix: text
    ("hints: A hint" with `  - another` under it, which YAML folds into the text 'A hint -
    another'), or the first entry that is no text (`- Step 1: do x`, which YAML reads as a
    mapping, `-` alone, a number), named by its number, which lint places at its line."""
    if isinstance(value, str):
        return (
            f": it is text ({value[:40]!r}); put `{key}:` alone on its line and each entry on a "
            f"`- ` line under it, or write `{key}: [one, two]`"
        )
    if not isinstance(value, list):
        return ""
    for number, item in enumerate(value, 1):
        if _is_text(item):
            continue
        if item is None or isinstance(item, str):
            return f": entry {number} is empty: write its text, or remove its `-`"
        if isinstance(item, dict):
            return (
                f": entry {number} is read as a mapping ({item!r}): a `: ` in it makes a key of "
                'the text before it; put the entry in quotes (- "...: ...")'
            )
        return f": entry {number} is {item!r}, not text: put it in quotes"
    return ""


def _check_identity(data: dict, path: Path) -> list[str]:
    card_id = data.get("id")
    if not isinstance(card_id, str):
        return []
    problems = []
    if len(card_id) > MAX_ID_LENGTH:
        problems.append(too_long_id(card_id))
    elif not ID_PATTERN.match(card_id):
        problems.append(
            f"id {card_id!r} must be kebab-case: lowercase letters, digits and single dashes"
        )
    if card_id != path.stem and problems:  # (no name to give the file: the id is to fix)
        problems.append(f"id {card_id!r} must equal the file name {path.stem!r}: fix the id")
    elif card_id != path.stem and not _is_id(path.stem):  # (no id to give the card)
        problems.append(
            f"id {card_id!r} must equal the file name {path.stem!r}, which is no id (kebab-case, "
            f"at most {MAX_ID_LENGTH} characters): rename the file to {card_id}.yaml"
        )
    elif card_id != path.stem and (other := _card_file(path, card_id)) is not None:
        problems.append(
            f"id {card_id!r} must equal the file name {path.stem!r}, and {other} is the card "
            f"with that id (a copy's id left as it was?): give this card an id of its own, its "
            f"file's name {path.stem!r}"
        )
    elif card_id != path.stem:
        problems.append(
            f"id {card_id!r} must equal the file name {path.stem!r}: fix the id if it is the "
            f"typo, or rename the file to {card_id}.yaml (an id is a card's key for good: never "
            "rename a published card without listing its old id in `renamed_from`)"
        )
    return problems + _check_renamed_from(data, card_id)


def _card_file(path: Path, card_id: str) -> str | None:
    """The file of another deck's card (or this one's) named `card_id`, as `cards/DECK/ID.yaml`,
    beside the card file `path` in its `cards/` folder; None where there is none."""
    cards = path.parent.parent
    if cards.name != "cards":
        return None
    found = sorted(cards.glob(f"*/{card_id}.yaml"))
    return f"cards/{found[0].parent.name}/{found[0].name}" if found else None


def _is_id(name: str) -> bool:
    """Whether `name` may be a card's id."""
    return len(name) <= MAX_ID_LENGTH and bool(ID_PATTERN.match(name))


def _check_renamed_from(data: dict, card_id: str) -> list[str]:
    """What is wrong with the entries of `renamed_from` (a list of texts: `_check_value` says
    what else it is), each at its entry: one that names no study item could carry no learner's
    history (`renamed_from.entry_problem`: an item entry's form), and the card's own id, or one
    old id twice, says nothing. What only the whole content can tell (an old id that is still a
    card's, or an item still its card's, or one that two cards claim) is lint's."""
    from .renamed_from import entry_problem, moved_to

    earlier = data.get("renamed_from")
    if not isinstance(earlier, list):
        return []
    prompt = data.get("prompt")
    deletions = None
    if data.get("kind") == Kind.CLOZE:
        from .cloze import numbers

        deletions = numbers(prompt) if isinstance(prompt, str) else []
    problems = []
    olds: list[str] = []
    for number, entry in enumerate(earlier, 1):
        if not isinstance(entry, str):
            continue
        at = f"field 'renamed_from': entry {number} "
        old = moved_to(card_id, entry)[0]
        if (problem := entry_problem(entry, card_id, deletions)) is not None:
            problems.append(at + problem)
        elif old == card_id:
            problems.append(
                f"{at}is the card's own id {old!r}: list only the ids it had before (or remove "
                "the field)"
            )
        elif old in olds:
            problems.append(f"{at}names {old!r} a second time: remove it")
        olds.append(old)
    return problems


def too_long_id(card_id: str) -> str:
    """The problem with an id over `MAX_ID_LENGTH` characters (shown cut short)."""
    return (
        f"id {card_id[:20]!r}... is {len(card_id)} characters long, over the {MAX_ID_LENGTH} an "
        "id may have (it is the card's file name and the key of every review): shorten it"
    )


def _check_kind_rules(data: dict) -> list[str]:
    """The fields a card of its kind must have and must leave out."""
    kind = data.get("kind")
    if kind is None:
        return []  # (missing: `_check_value` says so)
    if not isinstance(kind, str) or kind not in {k.value for k in Kind}:
        return [f"kind {kind!r} must be one of: {', '.join(k.value for k in Kind)}"]
    problems = []
    for spec in CARD_FIELDS:
        present = spec.name in data
        if present and Kind(kind) not in spec.kinds:
            problems.append(_not_allowed(spec, Kind(kind)))
        elif (
            Kind(kind) in spec.needed_by
            and not _filled(spec, data)
            and not (present and _check_value(spec, data))  # (a value of the wrong type: said
            # by `_check_value` alone, where "needs an 'answer'" after it repeated it)
        ):
            problems.append(f"a {kind} card needs {spec.need_phrase}")
        if present and spec.needs and spec.needs not in data:
            problems.append(f"{spec.name!r} needs a {spec.needs!r} to {spec.name}")
    prompt = data.get("prompt")
    if kind == Kind.CLOZE and isinstance(prompt, str):
        from . import cloze

        problems += cloze.problems(prompt)
    return problems


def _not_allowed(spec: Field, kind: Kind) -> str:
    if kind is Kind.CLOZE:
        return (
            f"a cloze card has no {spec.name!r}: the deletions in its prompt are what is recalled"
            + (" (put what explains them in 'explanation')" if spec.name == "answer" else "")
        )
    allowed = " or ".join(k.value for k in spec.kinds)
    return f"a {kind} card has no {spec.name!r}: remove it, or make it a {allowed} card"


def _filled(spec: Field, data: dict) -> bool:
    value = data.get(spec.name)
    if spec.type is Type.TEXT:
        return _is_text(value)
    if spec.type in _LISTS:
        return bool(value)
    return spec.name in data


def _build(data: dict, path: Path, deck: str) -> Card:
    solution = Ref.parse(data["solution"]) if data.get("solution") else None
    check = Ref.parse(data["check"]) if data.get("check") else None
    return Card(
        id=data["id"],
        kind=Kind(data["kind"]),
        topic=data["topic"],
        title=data["title"].strip(),
        prompt=data["prompt"].strip(),
        deck=deck,
        path=path,
        answer=(data.get("answer") or "").strip(),
        tags=tuple(data.get("tags", [])),
        hints=tuple(h.strip() for h in data.get("hints", [])),
        requires=tuple(data.get("requires", [])),
        renamed_from=tuple(data.get("renamed_from", [])),
        steps=tuple(s.strip() for s in data.get("steps", [])),
        solution=solution,
        check=check,
        starter=data.get("starter"),
        explanation=(data.get("explanation") or "").strip(),
    )


_LISTS = (Type.LIST, Type.IDS)  # the fields whose value is a list of texts


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _unknown_field_fix(key: Any) -> str:
    """What to do about an unknown field: the field it is a typo of, or, for a "field" with a
    space in it, indent it: it is a line of a text that was written at the start of the line,
    where its `: ` made it a field."""
    if close := _closest(str(key)):
        return f": did you mean {close!r}?"
    if isinstance(key, str) and any(space in key.strip() for space in " \t"):
        return ": if it is a line of the text above it, indent it as the lines above it"
    return ""


def _closest(key: str) -> str | None:
    import difflib

    matches = difflib.get_close_matches(key, sorted(FIELDS), n=1, cutoff=0.6)
    return matches[0] if matches else None
