"""What a change moves between a card's ids, for `check --changed` (changed_histories.py): a
card's text now under another id while its own card holds another, or put over another card's
(`moved_texts`), and a card whose first id at the base is listed now after another, which an
Anki export keys its note by (`reordered_cards`)."""

from __future__ import annotations

from studycli.content.card import Card
from studycli.content.loader import Content
from studycli.content.renamed_from import card_entries

from .changed_records import Moved, Reordered


def reordered_cards(
    was: dict[str, Card | None], content: Content, at_base: set[str]
) -> tuple[Reordered, ...]:
    """The cards at the base (`was`: the cards of the changed card files then, by id) whose
    first id then (their oldest) is listed now, by the card itself or by the new id it was
    renamed to, after another: an Anki export keys a note by the first id listed, so the
    card's note would come as another note. A card merged into one that was there at the base
    (`at_base`) is not one: of two notes, one is left behind whatever the order."""
    found = []
    for card_id, card in sorted(was.items()):
        if card is None:
            continue
        now = card_id if card_id in content.cards else content.renames.get(card_id)
        if now is None or now not in content.cards or (now != card_id and now in at_base):
            continue
        ids = card_entries(card.renamed_from)  # (an entry of one item keys no note)
        first = ids[0] if ids else card_id
        listed = content.cards[now].renamed_from
        if first in card_entries(listed)[1:]:
            found.append(Reordered(first, now, listed, content.cards[now].path))
    return tuple(found)


def moved_texts(
    was: dict[str, Card | None], content: Content, changed: set[str]
) -> tuple[Moved, ...]:
    """The texts of cards at the base (`was`: the cards of the changed card files then, by id;
    None where one did not load) that are now the text of another card changed (`changed`:
    their ids now), while their own card is still there with another text (two ids swapped,
    or a text given to a new id), or is gone while the card given it was there at the base (a
    text put over another card's: the id was not new, so the rename check saw a card removed
    on its own), unless it was a draft then and lists the gone id in `renamed_from` (`_taken`).
    A gone card's text under a new id is a rename, the rename check's. The text
    is the one `Card.content_hash` hashes (what the learner reads, as the terminal shows it):
    equal, not alike, so that two cards of a deck are never taken for one (a text reflowed as
    it moved is seen; one also edited is not).
    A card that was a draft at the base has no reviews to leave behind; two cards whose texts
    were equal then lose nothing."""
    then = {
        card_id: card.content_hash
        for card_id, card in was.items()
        if card is not None and not card.draft
    }

    def _taken(old: str, new: str) -> bool:
        """Whether the text of `old`, gone, put under `new`, leaves a history behind: `new`
        was there at the base (a new id is a rename, the rename check's), with reviews of
        its own (published), or does not carry `old`'s (no `renamed_from`)."""
        return new in was and (new in then or content.renames.get(old) != new)

    by_hash: dict[str, list[str]] = {}
    for card_id in sorted(changed & content.cards.keys()):
        by_hash.setdefault(content.cards[card_id].content_hash, []).append(card_id)
    moved = []
    for old, digest in sorted(then.items()):
        gone = old not in content.cards
        if not gone and content.cards[old].content_hash == digest:
            continue  # the text is still its own
        moved += [
            Moved(old, new, content.cards[new].path)
            for new in by_hash.get(digest, [])
            if new != old and then.get(new) != digest and (not gone or _taken(old, new))
        ]
    return tuple(moved)
