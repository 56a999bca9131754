"""The card: one study item, parsed and validated from one YAML file."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from . import cloze

FORMAT_VERSION = 1
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
REFERENCE_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*:[A-Za-z_][A-Za-z0-9_]*$")


class Kind(StrEnum):
    CONCEPT = "concept"
    DERIVATION = "derivation"
    CODING = "coding"
    CLOZE = "cloze"


FIELDS = {
    "id",
    "kind",
    "topic",
    "title",
    "prompt",
    "answer",
    "explanation",
    "tags",
    "hints",
    "requires",
    "steps",
    "solution",
    "check",
    "starter",
    "format_version",
}
REQUIRED = ("id", "kind", "topic", "title", "prompt")
LIST_FIELDS = ("tags", "hints", "requires", "steps")
TEXT_FIELDS = ("title", "prompt", "answer", "explanation", "starter")


@dataclass(frozen=True)
class Ref:
    """A `module:function` reference into `solutions/`."""

    module: str
    function: str

    @classmethod
    def parse(cls, text: str) -> Ref:
        module, function = text.split(":")
        return cls(module, function)

    def __str__(self) -> str:
        return f"{self.module}:{self.function}"


@dataclass(frozen=True)
class Card:
    id: str
    kind: Kind
    topic: str
    title: str
    prompt: str
    deck: str
    path: Path
    answer: str = ""
    tags: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    solution: Ref | None = None
    check: Ref | None = None
    starter: str | None = None
    explanation: str = ""
    cloze: int | None = None  # on a study item of a cloze card: the deletion number it asks

    def study_items(self) -> list[Card]:
        """What is scheduled: the card itself, or for a cloze card one item per deletion
        number, each a copy whose `id` is `<card id>#c<n>` (its own schedule and history)."""
        if self.kind != Kind.CLOZE or self.cloze is not None:
            return [self]
        return [
            replace(self, id=cloze.study_id(self.id, n), cloze=n)
            for n in cloze.numbers(self.prompt)
        ]

    @property
    def card_id(self) -> str:
        """The id of the card in the content (a cloze item's id without its `#c<n>`)."""
        return cloze.split_study_id(self.id)[0]

    @property
    def runnable(self) -> bool:
        """Whether the card is answered by code that its checker runs."""
        return self.solution is not None

    @property
    def content_hash(self) -> str:
        """A hash of what the learner sees, so that an edited card can be flagged (not reset)."""
        shown = {
            "prompt": self.prompt,
            "answer": self.answer,
            "steps": list(self.steps),
            "solution": str(self.solution or ""),
            "title": self.title,
        }
        return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()[:16]


def parse_card(data: Any, path: Path, deck: str) -> tuple[Card | None, list[str]]:
    """Validate one card's YAML mapping.

    Returns the card (None when it is unusable) and every problem found, each a sentence that
    says how to fix it. Cross-card rules (unique ids, `requires`, solutions) live in `lint`.
    """
    if not isinstance(data, dict):
        return None, [
            f"the file must hold one YAML mapping (key: value lines), not {type(data).__name__}"
        ]
    problems: list[str] = []
    version = data.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        return None, [
            f"format_version {version!r} is newer than this studycli reads ({FORMAT_VERSION}): "
            "upgrade studycli (pip install -U studycli)"
        ]
    for key in sorted(set(data) - FIELDS, key=str):
        close = _closest(str(key))
        problems.append(f"unknown field {key!r}" + (f": did you mean {close!r}?" if close else ""))
    for key in REQUIRED:
        if not _is_text(data.get(key)):
            problems.append(f"missing required field {key!r} (a non-empty string)")
    for key in TEXT_FIELDS:
        if key in data and not isinstance(data[key], str):
            problems.append(f"field {key!r} must be a string (use `{key}: |` for multi-line text)")
    for key in LIST_FIELDS:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(_is_text(item) for item in value):
            problems.append(f"field {key!r} must be a list of non-empty strings")
    problems += _check_identity(data, path)
    problems += _check_kind_rules(data)
    if problems:
        return None, problems
    return _build(data, path, deck), []


def _check_identity(data: dict, path: Path) -> list[str]:
    card_id = data.get("id")
    if not isinstance(card_id, str):
        return []
    problems = []
    if not ID_PATTERN.match(card_id):
        problems.append(
            f"id {card_id!r} must be kebab-case: lowercase letters, digits and single dashes"
        )
    if card_id != path.stem:
        problems.append(
            f"id {card_id!r} must equal the file name: rename the file to {card_id}.yaml"
        )
    return problems


def _check_kind_rules(data: dict) -> list[str]:
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in {k.value for k in Kind}:
        return [f"kind {kind!r} must be one of: {', '.join(k.value for k in Kind)}"]
    problems = []
    if kind == "cloze":
        return _check_cloze(data)
    if kind in ("concept", "derivation") and not _is_text(data.get("answer")):
        problems.append(f"a {kind} card needs an 'answer'")
    if kind == "derivation" and not data.get("steps"):
        problems.append(
            "a derivation card needs 'steps': the ordered steps, revealed one at a time"
        )
    if kind != "derivation" and data.get("steps"):
        problems.append("only derivation cards have 'steps'")
    if kind == "coding" and "solution" not in data:
        problems.append(
            "a coding card needs 'solution: module:function' naming its reference in solutions/"
        )
    if kind == "concept":
        for key in ("solution", "check", "starter"):
            if key in data:
                problems.append(
                    f"a concept card has no {key!r}: make it a coding or derivation card"
                )
    if "check" in data and "solution" not in data:
        problems.append("'check' needs a 'solution' to check")
    for key in ("solution", "check"):
        value = data.get(key)
        if value is not None and not (isinstance(value, str) and REFERENCE_PATTERN.match(value)):
            problems.append(
                f"{key} {value!r} must be 'module:function' naming a module in solutions/ "
                "(no paths, no dots)"
            )
    return problems


def _check_cloze(data: dict) -> list[str]:
    problems = [
        f"a cloze card has no {key!r}: the deletions in its prompt are what is recalled"
        + (" (put what explains them in 'explanation')" if key == "answer" else "")
        for key in ("answer", "steps", "hints", "solution", "check", "starter")
        if key in data
    ]
    prompt = data.get("prompt")
    if isinstance(prompt, str):
        problems += cloze.problems(prompt)
    return problems


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
        steps=tuple(s.strip() for s in data.get("steps", [])),
        solution=solution,
        check=check,
        starter=data.get("starter"),
        explanation=(data.get("explanation") or "").strip(),
    )


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _closest(key: str) -> str | None:
    import difflib

    matches = difflib.get_close_matches(key, sorted(FIELDS), n=1, cutoff=0.6)
    return matches[0] if matches else None


@dataclass
class CardProblem:
    """One problem found in the content, tied to the file (and line) where it is."""

    path: Path
    message: str
    line: int | None = None
    card_id: str | None = field(default=None)

    def location(self, root: Path | None = None) -> str:
        shown = self.path
        if root is not None:
            with contextlib.suppress(ValueError):
                shown = self.path.relative_to(root)
        return f"{shown}:{self.line}" if self.line else str(shown)
