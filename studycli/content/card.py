"""The card: one study item, parsed and validated from one YAML file."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass, replace
from pathlib import Path
from typing import Any

from studycli.records import Record

from .kind import Kind

__all__ = ["TODO", "Card", "CardProblem", "Kind", "Ref"]  # and parse_card, FIELDS, FORMAT_VERSION

TODO = "TODO"  # what a text still to be written begins with (`studycli new` writes them so)


def __getattr__(name: str) -> Any:
    """`parse_card` and the format's `FIELDS` and `FORMAT_VERSION`, from `parse` and `fields`
    on first use: a command that reads cards from the index parses none (nor imports the
    format's table)."""
    if name == "parse_card":
        from .parse import parse_card

        return parse_card
    if name in ("FIELDS", "FORMAT_VERSION"):
        from . import fields

        return getattr(fields, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Ref(Record):  # named tuples here: a frozen dataclass costs ~0.5-1 ms at start-up
    """A `module:function` reference into `solutions/`."""

    module: str
    function: str

    @classmethod
    def parse(cls, text: str) -> Ref:
        module, function = text.split(":")
        return cls(module, function)

    def __str__(self) -> str:
        return f"{self.module}:{self.function}"


# A frozen dataclass whose methods are written below, not generated: the dataclass compiles
# what it generates when the class is made, on every command's start-up (1.3 ms against
# 0.2 ms; `review` to its first card runs ~400 M instructions, 1.25x its floor's)
@dataclass(init=False, eq=False, repr=False)
class Card:
    """A card as its file declares it, or one study item of a cloze card (`study_items`).
    Its fields cannot be set after it is made (FrozenInstanceError): `dataclasses.replace`
    gives a changed copy."""

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
    renamed_from: tuple[str, ...] = ()  # the ids the card had before, oldest first
    cloze: int | None = None  # on a study item of a cloze card: the deletion number it asks

    def __init__(
        self,
        id: str,
        kind: Kind,
        topic: str,
        title: str,
        prompt: str,
        deck: str,
        path: Path,
        answer: str = "",
        tags: tuple[str, ...] = (),
        hints: tuple[str, ...] = (),
        requires: tuple[str, ...] = (),
        steps: tuple[str, ...] = (),
        solution: Ref | None = None,
        check: Ref | None = None,
        starter: str | None = None,
        explanation: str = "",
        renamed_from: tuple[str, ...] = (),
        cloze: int | None = None,
    ) -> None:
        self.__dict__.update(
            id=id, kind=kind, topic=topic, title=title, prompt=prompt, deck=deck, path=path,
            answer=answer, tags=tags, hints=hints, requires=requires, steps=steps,
            solution=solution, check=check, starter=starter, explanation=explanation,
            renamed_from=renamed_from, cloze=cloze,
        )  # fmt: skip

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:  # as the dataclass's, and across subclasses
        if not isinstance(other, Card):
            return NotImplemented
        # field by field, stopping at the first difference: a card from the index reads its
        # long text only if the two agree up to it
        return all(getattr(self, name) == getattr(other, name) for name in _NAMES)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in _NAMES))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _NAMES)
        return f"{type(self).__name__}({shown})"

    def study_items(self) -> list[Card]:
        """What is scheduled: the card itself, or for a cloze card one item per deletion
        number, each a copy whose `id` is `<card id>#c<n>` (its own schedule and history)."""
        if self.kind != Kind.CLOZE or self.cloze is not None:
            return [self]
        from . import cloze  # here, not at the top: `list` and `show` need none

        return [
            replace(self, id=cloze.study_id(self.id, n), cloze=n)
            for n in cloze.numbers(self.prompt)
        ]

    def todo_fields(self) -> list[str]:
        """The fields with a text still to be written: one that begins with TODO."""
        return [
            name
            for name in _TEXTS
            if any(text.startswith(TODO) for text in _texts(getattr(self, name)))
        ]

    @property
    def draft(self) -> bool:
        """Whether the card is still being written (`todo_fields`): `lint` accepts it, so that
        its author can lint as they write, `check` reports it as not done, and it is not
        studied (a learner was shown "TODO: the question, in your own words.")."""
        return bool(self.todo_fields())

    @property
    def card_id(self) -> str:
        """The id of the card in the content (a cloze item's id without its `#c<n>`)."""
        from . import cloze

        return cloze.split_study_id(self.id)[0]

    @property
    def runnable(self) -> bool:
        """Whether the card is answered by code that its checker runs."""
        return self.solution is not None

    @property
    def content_hash(self) -> str:
        """A hash of what the learner sees, so that an edited card can be flagged (not reset),
        which a review of it records: a reflowed paragraph is not an edit. A cloze card's
        study item hashes what it shows (`text_hash.deletion_hash`: an edit of another
        deletion's hint is none), any other card its whole text (`card_hash`)."""
        if self.cloze is None:
            return self.card_hash
        from .text_hash import deletion_hash  # here, not at the top: listing cards needs none

        return deletion_hash(self)

    @property
    def card_hash(self) -> str:
        """The hash of the whole card's text as the learner sees it (`text_hash.shown_hash`):
        a cloze item's is its card's, which a review recorded before items had their own."""
        from .text_hash import shown_hash

        return shown_hash(self)

    @property
    def legacy_hash(self) -> str:
        """The hash an earlier studycli recorded of this text (`text_hash.legacy_hash`), which
        a review it recorded is compared with."""
        from .text_hash import legacy_hash

        return legacy_hash(self)


_NAMES = tuple(Card.__dataclass_fields__)
_TEXTS = ("title", "prompt", "answer", "explanation", "hints", "steps")  # what is written


def _texts(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value


class CardProblem(Record):
    """One problem found in the content, tied to the file (and line) where it is."""

    path: Path
    message: str
    line: int | None = None
    card_id: str | None = None

    def location(self, root: Path | None = None) -> str:
        shown = self.path if root is None else shown_path(self.path, root)
        return f"{shown}:{self.line}" if self.line else str(shown)


def why_unloaded(problems: list[CardProblem]) -> str:
    """Why a card file does not load, from its `problems` (`Content.unloaded()`'s of that
    file, in lint's order): the first as lint says it (its line, its fix), and how many more
    lint lists: a command that leaves the file out says why, not only "`studycli lint` says
    why"."""
    if not problems:  # (not among them: a file fixed since it was left out)
        return "`studycli lint` says why"
    first = problems[0]
    said = f"line {first.line}: {first.message}" if first.line else first.message
    more = len(problems) - 1
    if more:
        said += f"; and {more} more problem{'s' if more > 1 else ''}: `studycli lint` lists them"
    return said


def shown_path(path: Path, root: Path) -> Path:
    """`path` as problems show a file: relative to the content folder `root` where it lies in
    it."""
    try:
        return path.relative_to(root)
    except ValueError:
        return path
