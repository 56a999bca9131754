"""The kinds of card (its own module: `Card` needs it, not the format's table in `fields`)."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    CONCEPT = "concept"
    DERIVATION = "derivation"
    CODING = "coding"
    CLOZE = "cloze"
