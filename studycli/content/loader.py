"""Loading the content folder: every card file, with every problem collected, none fatal."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from studycli.errors import CardNotFound, ContentError

from .card import Card, CardProblem, parse_card

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster


@dataclass
class Content:
    """The cards of a content folder and the problems met while reading them."""

    root: Path
    cards: dict[str, Card] = field(default_factory=dict)
    problems: list[CardProblem] = field(default_factory=list)

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions"

    def get(self, card_id: str) -> Card:
        """The card with this id.

        Raises:
            CardNotFound: with the closest ids as suggestions.
        """
        try:
            return self.cards[card_id]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(card_id, list(self.cards), n=3)
            tip = (
                f"; did you mean {', '.join(close)}?"
                if close
                else "; `studycli list` shows all ids"
            )
            raise CardNotFound(f"no card with id {card_id!r}{tip}") from None

    def select(
        self,
        deck: str | None = None,
        topic: str | None = None,
        kind: str | None = None,
        tag: str | None = None,
    ) -> list[Card]:
        """Cards matching every given filter, sorted by deck then id."""
        chosen = [
            card
            for card in self.cards.values()
            if (deck is None or card.deck == deck)
            and (topic is None or card.topic == topic)
            and (kind is None or card.kind.value == kind)
            and (tag is None or tag in card.tags)
        ]
        return sorted(chosen, key=lambda c: (c.deck, c.id))


def load_content(root: Path) -> Content:
    """Read every `cards/<deck>/<id>.yaml` under `root`.

    A broken file becomes a `CardProblem` (with the YAML line where there is one) and the rest
    still loads, so `lint` can report everything at once. Duplicate ids keep the first file.
    """
    cards_dir = root / "cards"
    if not cards_dir.is_dir():
        raise ContentError(f"{root} has no cards/ folder")
    content = Content(root=root)
    for path in sorted(cards_dir.rglob("*")):
        if path.is_dir() or path.name.startswith("."):
            continue
        if path.suffix == ".yml":
            content.problems.append(CardProblem(path, "card files end in .yaml: rename it"))
            continue
        if path.suffix != ".yaml":
            continue
        _load_file(content, path, cards_dir)
    return content


def _load_file(content: Content, path: Path, cards_dir: Path) -> None:
    relative = path.relative_to(cards_dir)
    if len(relative.parts) != 2:
        content.problems.append(
            CardProblem(path, "a card lives at cards/<deck>/<id>.yaml: move it into a deck folder")
        )
        return
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except UnicodeDecodeError:
        content.problems.append(CardProblem(path, "the file is not UTF-8 text: save it as UTF-8"))
        return
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        content.problems.append(
            CardProblem(path, f"YAML syntax error: {reason} (quote the text or use `key: |`)", line)
        )
        return
    card, problems = parse_card(data, path, deck=relative.parts[0])
    card_id = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
    content.problems += [CardProblem(path, message, card_id=card_id) for message in problems]
    if card is None:
        return
    if card.id in content.cards:
        first = content.cards[card.id].path
        content.problems.append(
            CardProblem(path, f"duplicate id {card.id!r}: {first} already uses it", card_id=card.id)
        )
        return
    content.cards[card.id] = card
