"""The hash of a card's text that a review records, so that a later edit flags the card.

Three schemes, told apart by a recorded hash's first character:

- `shown_hash` (this studycli's, of a card that is not a cloze deletion's item): "m", then 16
  hex digits of the sha256 of what the learner reads (prompt, answer, steps, title, and the
  reference solution's name), the Markdown as `layout.shown` gives it: a paragraph reflowed,
  words spaced otherwise, whitespace at a line's end or blank lines around a text change no
  hash; a word, a paragraph break, a list or a code line does.
- `deletion_hash` (this studycli's, of a cloze card's study item `<id>#c<n>`): "n", then the
  same digest of what that item shows: the prompt with deletion n kept (its text, which the
  answer side shows, and its hint, which the front shows in its blank) and every other
  deletion as its plain text, which is all the terminal shows of it there. Wrapping a word
  as a new deletion, or editing another deletion's hint, changes no other item's hash;
  editing a deletion's text changes every item's (the others show it), and a word of the
  prompt outside the deletions too.
- `legacy_hash` (studycli's before either): 16 hex digits of the sha256 of the same fields as
  written, every line break and space counted, of the whole card.

A review recorded by an earlier studycli holds a legacy hash, and is compared with the legacy
hash of the card's text now (`same_text`): an upgrade flags no card, and a card edited since
that review is flagged as before; its next review records the new scheme, from which on a
reflow is no edit. So with a cloze item's review recorded by a studycli before deletions had
their own hash: it holds "m", the whole card's hash, and is compared with the whole card's
hash now (any deletion edited since flags it, as it did); its next review records its own.
An import records a file's hashes as they are, of any scheme. A hash of none (from a later
studycli's scheme), or an "n" hash of a card that is no cloze item, is taken for another
text: the card is flagged.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .card import Card
    from .cloze import Deletion

SHOWN = "m"  # what a hash of the text as shown begins with (never a hex digit)
DELETION = "n"  # what a hash of a cloze item's text as shown begins with (nor is it)
_LEGACY = re.compile(r"[0-9a-f]{16}")


def shown_hash(card: Card) -> str:
    """The hash of `card`'s text as the learner sees it, the whole card (a cloze item's: its
    card's, every deletion's markup as written; see the module's docstring)."""
    from .layout import shown

    return SHOWN + _digest(
        prompt=shown(card.prompt),
        answer=shown(card.answer),
        steps=[shown(step) for step in card.steps],
        solution=str(card.solution or ""),
        title=_words(card.title),
    )


def deletion_hash(card: Card) -> str:
    """The hash of what the cloze card's study item `card` (`card.cloze` is n) shows (see the
    module's docstring)."""
    from .cloze import blank
    from .layout import shown

    # deletion n as markup that holds its text and hint (`_kept`); every other deletion its
    # text, as `cloze.blank` shows it
    kept = blank(card.prompt, card.cloze, _kept)
    return DELETION + _digest(
        prompt=shown(kept),
        answer=shown(card.answer),
        steps=[shown(step) for step in card.steps],
        solution=str(card.solution or ""),
        title=_words(card.title),
    )


def _kept(deletion: Deletion) -> str:
    """The deletion an item asks, as markup that tells its text from its hint: `{{text::hint}}`
    (a hint left empty shows `[...]`, as none does), but `{{text}}` for a text that ends with
    ':', which has no hint (the parser ends a text at its first '::'): written `{{a:::}}`, it
    would read as text 'a' and hint ':' (`{{c1::a:::}}`, front `[:]`, answer 'a'), and an edit
    from one to the other would flag nothing."""
    if deletion.text.endswith(":"):
        return "{{" + deletion.text + "}}"
    return "{{" + deletion.text + "::" + (deletion.hint or "") + "}}"


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
    """Whether the hash of a text a review `recorded` (of any scheme) is that of `card`'s
    text now, in the same scheme: of the whole card ("m", legacy), or of a cloze item ("n")."""
    if recorded.startswith(SHOWN):
        return recorded == card.card_hash
    if recorded.startswith(DELETION):
        return card.cloze is not None and recorded == card.content_hash
    return bool(_LEGACY.fullmatch(recorded)) and recorded == card.legacy_hash


def _digest(**shown: str | list[str]) -> str:
    import hashlib  # here, not at the top: a card from the index has its hashes
    import json

    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()[:16]


def _words(text: str) -> str:
    """A plain text (the title) as the terminal shows it: each run of spaces and tabs one
    space, at neither end of a line."""
    return "\n".join(re.sub(r"[ \t]+", " ", line).strip(" ") for line in text.split("\n"))
