"""The hash of a card's text that a review records, so that a later edit flags the card.

Two schemes, told apart by a recorded hash's first character:

- `shown_hash` (this studycli's): "m", then 16 hex digits of the sha256 of what the learner
  reads (prompt, answer, steps, title, and the reference solution's name), the Markdown as
  `layout.shown` gives it: a paragraph reflowed, words spaced otherwise, whitespace at a
  line's end or blank lines around a text change no hash; a word, a paragraph break, a list
  or a code line does.
- `legacy_hash` (studycli's before): 16 hex digits of the sha256 of the same fields as
  written, every line break and space counted.

A review recorded by an earlier studycli holds a legacy hash, and is compared with the legacy
hash of the card's text now (`same_text`): an upgrade flags no card, and a card edited since
that review is flagged as before; its next review records the new scheme, from which on a
reflow is no edit. An import records a file's hashes as they are, of either scheme. A hash of
neither (from a later studycli's scheme) is taken for another text: the card is flagged.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .card import Card

SHOWN = "m"  # what a hash of the text as shown begins with (never a hex digit)
_LEGACY = re.compile(r"[0-9a-f]{16}")


def shown_hash(card: Card) -> str:
    """The hash of `card`'s text as the learner sees it (see the module's docstring)."""
    from .layout import shown

    return SHOWN + _digest(
        prompt=shown(card.prompt),
        answer=shown(card.answer),
        steps=[shown(step) for step in card.steps],
        solution=str(card.solution or ""),
        title=_words(card.title),
    )


def legacy_hash(card: Card) -> str:
    """The hash earlier studycli recorded: the same fields as written."""
    return _digest(
        prompt=card.prompt,
        answer=card.answer,
        steps=list(card.steps),
        solution=str(card.solution or ""),
        title=card.title,
    )


def same_text(recorded: str, card: Card) -> bool:
    """Whether the hash of a text a review `recorded` (of either scheme) is that of `card`'s
    text now."""
    if recorded.startswith(SHOWN):
        return recorded == card.content_hash
    return bool(_LEGACY.fullmatch(recorded)) and recorded == card.legacy_hash


def _digest(**shown: str | list[str]) -> str:
    import hashlib  # here, not at the top: a card from the index has its hashes
    import json

    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()[:16]


def _words(text: str) -> str:
    """A plain text (the title) as the terminal shows it: each run of spaces and tabs one
    space, at neither end of a line."""
    return "\n".join(re.sub(r"[ \t]+", " ", line).strip(" ") for line in text.split("\n"))
