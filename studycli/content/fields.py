"""The card format's fields, declared once.

`CARD_FIELDS` says, for every field a card file may hold, its type, whether every card needs
it, which kinds of card may have it, which need it, and what it is for. `card.parse_card`
validates a card against this table and `schema.card_schema` turns the same table into the
JSON Schema that editors validate card files with, so the two cannot disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from .kind import Kind

FORMAT_VERSION = 1
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# The longest id a card may have: it is the file name (a system refuses one of over 255 bytes:
# `new` ended in a traceback) and the key of every review, in every review log written (an
# import takes ids of at most 200 characters, so a longer one's reviews would not come back).
# The longest shipped id has 54.
MAX_ID_LENGTH = 60
REFERENCE_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*:[A-Za-z_][A-Za-z0-9_]*$")
# Where a text must hold more than whitespace (str.strip() leaves something).
NON_BLANK = r"\S"


class Type(StrEnum):
    """What a field's value is."""

    ID = "id"  # a kebab-case string
    KIND = "kind"  # one of `Kind`
    TOPIC = "topic"  # a topic slug (the list is in topics.yaml; `lint` checks membership)
    TEXT = "text"  # a string, Markdown
    LIST = "list"  # a list of non-empty strings
    IDS = "ids"  # a list of card ids (each as `ID` is)
    REF = "ref"  # `module:function` in solutions/
    VERSION = "version"  # a whole number, at most FORMAT_VERSION


ALL_KINDS = tuple(Kind)
RUNNABLE_KINDS = (Kind.DERIVATION, Kind.CODING)


@dataclass(frozen=True)
class Field:
    """One field of the card format.

    `required`: every card has it, not blank. `kinds`: the kinds whose cards may have it (a
    card of another kind must leave it out). `needed_by`: the kinds whose cards must have it,
    not blank and, for a list, not empty; `need_phrase` completes "a <kind> card needs ...".
    `needs`: another field that must be present alongside it. `patterns`: per kind, a regular
    expression the value must contain (the schema's hint; the full rule is in code).
    """

    name: str
    type: Type
    description: str
    required: bool = False
    kinds: tuple[Kind, ...] = ALL_KINDS
    needed_by: tuple[Kind, ...] = ()
    need_phrase: str = ""
    needs: str | None = None
    patterns: tuple[tuple[Kind, str], ...] = ()


CARD_FIELDS: tuple[Field, ...] = (
    Field(
        "id",
        Type.ID,
        "The card's key, in kebab-case and equal to the file name. Every learner's review "
        "history is keyed by it: to rename a published card, give it its new id and file "
        "name and list the old id in 'renamed_from', which carries the history over.",
        required=True,
    ),
    Field(
        "kind",
        Type.KIND,
        "concept (shown, then self-rated), derivation (steps revealed one at a time), coding "
        "(answered with code that the card's checker runs) or cloze (deletions {{c1::...}} in "
        "the prompt, one study item per number).",
        required=True,
    ),
    Field(
        "topic",
        Type.TOPIC,
        "The study topic: a slug from studycli/content/topics.yaml.",
        required=True,
    ),
    Field("title", Type.TEXT, "A short title, shown above the prompt.", required=True),
    Field(
        "prompt",
        Type.TEXT,
        "The question, in Markdown. A cloze card's prompt holds its deletions, written "
        "{{c1::hidden text}} or {{c1::hidden text::hint}}.",
        required=True,
        patterns=((Kind.CLOZE, r"\{\{c[0-9]+::"),),
    ),
    Field(
        "answer",
        Type.TEXT,
        "The short answer, recalled and judged in seconds (concept and derivation cards need "
        "it; a coding card may give one). Put what explains it in 'explanation'.",
        kinds=(Kind.CONCEPT, Kind.DERIVATION, Kind.CODING),
        needed_by=(Kind.CONCEPT, Kind.DERIVATION),
        need_phrase="an 'answer'",
    ),
    Field(
        "explanation",
        Type.TEXT,
        "Optional: why the answer holds, shown after it.",
    ),
    Field("tags", Type.LIST, "Optional free-form tags, for filtering reviews."),
    Field(
        "hints",
        Type.LIST,
        "Optional progressive hints: the first gentle, the last nearly the answer.",
        kinds=(Kind.CONCEPT, Kind.DERIVATION, Kind.CODING),
    ),
    Field("requires", Type.LIST, "Optional ids of cards to learn first."),
    Field(
        "renamed_from",
        Type.IDS,
        "Optional: the ids this card had before, oldest first (`renamed_from: [old-id]`). "
        "Every learner's reviews, schedule and suspension under an old id become this card's "
        "(a cloze card's deletion by deletion), and an Anki export keeps the note of the "
        "first id. Keep every id the card ever had: a learner may not have studied since. "
        "An entry may name one cloze deletion split off another card: `old-id#c2` in a plain "
        "card, `old-id#c2 -> c1` in a cloze card (onto its deletion c1; a plain card's "
        "`old-id -> c1` too): that item's history becomes this card's (not in Anki).",
    ),
    Field(
        "steps",
        Type.LIST,
        "A derivation's ordered steps, revealed one per key press.",
        kinds=(Kind.DERIVATION,),
        needed_by=(Kind.DERIVATION,),
        need_phrase="'steps': the ordered steps, revealed one at a time",
    ),
    Field(
        "solution",
        Type.REF,
        "module:function naming the reference answer in solutions/<module>.py (a coding card "
        "needs it; a derivation may have one).",
        kinds=RUNNABLE_KINDS,
        needed_by=(Kind.CODING,),
        need_phrase="'solution: module:function' naming its reference in solutions/",
    ),
    Field(
        "check",
        Type.REF,
        "Optional module:function naming the checker (default: check_<function> in the "
        "solution's module, else check).",
        kinds=RUNNABLE_KINDS,
        needs="solution",
    ),
    Field(
        "starter",
        Type.TEXT,
        "Optional code the learner starts from (default: the reference's imports, signature "
        "and docstring, then `raise NotImplementedError`). It states the contract, never the "
        "method.",
        kinds=RUNNABLE_KINDS,
    ),
    Field(
        "format_version",
        Type.VERSION,
        f"Optional; the card format version ({FORMAT_VERSION}). A newer one is refused.",
    ),
)

FIELDS = frozenset(field.name for field in CARD_FIELDS)
