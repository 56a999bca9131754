"""`studycli new`: a new card to fill in, and how `check` tells one that is not filled in yet.

A scaffolded card is valid from the start (`lint` accepts it), so an author can lint as they
write. What is still to be written is marked: text fields begin with `TODO`, and a coding
card's reference, checker and wrong answers raise `NotImplementedError`. `not_done` finds
those marks, and `check` reports such a card as not done yet instead of running it; while a
text is marked, the card is a draft (`Card.draft`), which is not studied.
"""

from __future__ import annotations

import ast
import difflib
import keyword
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from studycli.errors import ContentError

from . import catalog
from .card import TODO, Card
from .fields import ID_PATTERN, MAX_ID_LENGTH, Kind
from .loader import Content
from .parse import too_long_id
from .schema import MODELINE, SCHEMA_FILE, schema_text
from .solution_code import raises_not_implemented
from .solution_tables import declared_failure, table_entries
from .source import (
    ModuleInfo,
    checker_ref,
    module_path,
    read_module,
)
from .topics import topics

NOT_IMPLEMENTED = "NotImplementedError"


@dataclass(frozen=True)
class NewCard:
    """What `new` is asked to write."""

    kind: Kind
    card_id: str
    topic: str
    deck: str

    @property
    def module(self) -> str:
        """A coding card's solution module, and its reference function: the id in snake_case."""
        return self.card_id.replace("-", "_")


def kebab_cased(text: str) -> str | None:
    """`text` as the id `new` takes, what an id it refuses is offered as (`Bad_ID`, `bad id`,
    `BadId`: bad-id; `Café`: cafe; a capital after a small letter begins a word, `GELU` and
    `2D` stay one); None where nothing of it is left, or too much."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    split = re.sub(r"(?<=[a-z])(?=[A-Z])", "-", ascii_text)
    cased = re.sub(r"[^a-z0-9]+", "-", split.lower()).strip("-")
    return cased if cased and len(cased) <= MAX_ID_LENGTH else None


def plan_card(content: Content, kind: Kind, card_id: str, topic: str, deck: str | None) -> NewCard:
    """Check the request against the content and settle the deck.

    The deck defaults to the one the topic's cards are in.

    Raises:
        ContentError: a bad id or topic, an id or solution module that exists already, a deck
            that is no folder under cards/, or no deck to default to (the message says which
            to pass).
    """
    if len(card_id) > MAX_ID_LENGTH:
        raise ContentError(too_long_id(card_id))
    if not ID_PATTERN.match(card_id):
        suggested = kebab_cased(card_id)
        raise ContentError(
            f"id {card_id!r} must be kebab-case: lowercase letters, digits and single dashes "
            "(it becomes the file name and the key of every review; it never changes)"
            + (f": did you mean {suggested!r}?" if suggested else "")
        )
    existing = sorted(content.root.glob(f"cards/*/{card_id}.yaml"))
    if card_id in content.cards or existing:
        where = content.cards[card_id].path if card_id in content.cards else existing[0]
        raise ContentError(f"a card with id {card_id!r} exists already ({where}): pick another id")
    known = topics()
    if topic not in known:
        close = difflib.get_close_matches(topic, list(known), n=3)
        tip = f"did you mean {', '.join(close)}? " if close else ""
        raise ContentError(  # (a new topic's author was told of a near slug alone)
            f"unknown topic {topic!r}: {tip}`studycli topics` lists them; a subject no topic "
            "covers adds one to studycli/content/topics.yaml (CONTRIBUTING.md says how)"
        )
    request = NewCard(kind, card_id, topic, deck or _default_deck(content, topic))
    if not ID_PATTERN.match(request.deck):
        raise ContentError(f"deck {request.deck!r} must be kebab-case, like the deck folders")
    _require_deck(content, request.deck)
    if kind is Kind.CODING:
        if keyword.iskeyword(request.module):
            raise ContentError(
                f"a coding card's id names its solution module: {request.module!r} is a Python "
                f"keyword, which cannot be a module's name; pick another id (e.g. "
                f"{card_id}-count)"
            )
        if not request.module.isidentifier():
            raise ContentError(
                f"a coding card's id names its solution module: {request.module!r} is not a "
                "Python name; pick an id that starts with a letter"
            )
        if module_path(content.solutions_dir, request.module).exists():
            raise ContentError(
                f"solutions/{request.module}.py exists already: pick another id (new never "
                "overwrites a file); for a card whose function joins that module, copy a card "
                f"that names it (`solution: {request.module}:<function>`), then add the function "
                "and its checker to the module"
            )
    return request


def _require_deck(content: Content, deck: str) -> None:
    """Refuse a deck that is no folder under cards/ yet: `--deck` mistyped made a deck of its
    own, which lint could not tell from a new one. A new deck is asked for by making its
    folder first.

    Raises:
        ContentError: naming the decks there are, the closest one, and the folder to make.
    """
    decks = catalog.decks(content.root)
    if deck in decks:
        return
    close = difflib.get_close_matches(deck, decks, n=1)
    folder = content.root / "cards" / deck
    try:
        shown = folder.relative_to(Path.cwd())
    except ValueError:
        shown = folder
    raise ContentError(
        f"no deck {deck!r}: there is no folder cards/{deck}/"
        + (f"; did you mean --deck {close[0]}?" if close else "")
        + (f" (the decks: {', '.join(decks)})" if decks else "")
        + f". To start a new deck, make its folder first (mkdir -p {shown}) and run this again"
    )


def _default_deck(content: Content, topic: str) -> str:
    decks = sorted({card.deck for card in content.cards.values() if card.topic == topic})
    if len(decks) == 1:
        return decks[0]
    if decks:
        raise ContentError(
            f"topic {topic!r} has cards in several decks ({', '.join(decks)}): pass --deck"
        )
    every = sorted({card.deck for card in content.cards.values()})
    raise ContentError(
        f"no card has topic {topic!r} yet, so there is no deck to default to: pass --deck"
        + (f" (the decks: {', '.join(every)})" if every else "")
        + "; for a new deck, make its folder under cards/ first"
    )


def write_card(content: Content, request: NewCard) -> list[Path]:
    """Write the card file (and a coding card's solution module), never overwriting a file.

    Also writes `cards/schema.json` when the content has none, so the card's modeline
    resolves. Returns the paths written, the card first.
    """
    root = content.root
    installed = Path(__file__).resolve().parents[1] / "_content"
    if root.resolve() == installed:
        raise ContentError(
            "this is the content installed with studycli: run `studycli new` in a clone of the "
            "repository (the folder with cards/ and solutions/), or pass --content DIR"
        )
    files = {root / "cards" / request.deck / f"{request.card_id}.yaml": card_text(request)}
    if request.kind is Kind.CODING:
        files[module_path(content.solutions_dir, request.module)] = module_text(request)
    schema = root / "cards" / SCHEMA_FILE
    if not schema.exists():
        files[schema] = schema_text()
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as out:  # "x": fail rather than overwrite
            out.write(text)
    return list(files)


def card_text(request: NewCard) -> str:
    """The YAML of a new card: valid, with every text still to be written marked TODO."""
    lines = [
        MODELINE,
        f"id: {request.card_id}",
        f"kind: {request.kind}",
        f"topic: {request.topic}",
        f'title: "{TODO}: a short title"',
        "prompt: |",
        *_PROMPTS[request.kind],
    ]
    if request.kind is not Kind.CLOZE:
        lines += [
            "answer: |",
            f"  {TODO}: the answer, short enough to recall and judge in seconds.",
        ]
    lines += [
        "explanation: |",
        f"  {TODO}: why the answer holds (or delete this field).",
    ]
    if request.kind is Kind.DERIVATION:
        lines += ["steps:", f'  - "{TODO}: the first step"', f'  - "{TODO}: the next step"']
    if request.kind is Kind.CODING:
        lines.append(f"solution: {request.module}:{request.module}")
    return "\n".join(lines) + "\n"


_PROMPTS = {
    Kind.CONCEPT: [f"  {TODO}: the question, in your own words."],
    Kind.DERIVATION: [f"  {TODO}: what to derive, in your own words."],
    Kind.CODING: [
        f"  {TODO}: what to write, e.g. Write `name(x)` that returns ... State the contract",
        "  (arguments, result, shapes); the method is what the learner recalls.",
    ],
    Kind.CLOZE: [
        f"  {TODO}: a sentence in which {{{{c1::the part to recall}}}} is hidden (one study",
        "  item per number: c1, c2, ...; {{c2::text::hint}} shows a hint).",
    ],
}


def module_text(request: NewCard) -> str:
    """A coding card's solution module: reference, checker and two wrong answers, all stubs."""
    name = request.module
    return f'''"""{TODO}: what {name} computes, in one line (card: {request.deck}/{request.card_id})."""

from studycli.assertions import fails_with


def {name}(x):
    """{TODO}: the contract: arguments, what comes back, edge cases.

    This docstring is the learner's starter: say what, never how.
    """
    raise {NOT_IMPLEMENTED}


def check_{name}(impl, device="cpu"):
    """Call `impl` (through `call(impl, what, ...)`) on fixed examples, edge cases and seeded
    random inputs over many sizes, created on `device`; compare with ground truth that does not
    come from the reference (`assert_close`, `assert_equal`, `expect` from studycli.assertions),
    so that each failure names the input, the expected and the actual value."""
    raise {NOT_IMPLEMENTED}


@fails_with("{TODO}: a part of the checker's message for this mistake")
def _wrong_first(x):
    """{TODO}: the mistake, in one line (an off-by-one, a missing rescale, ...)."""
    raise {NOT_IMPLEMENTED}


@fails_with("{TODO}: a part of the checker's message for this mistake")
def _wrong_second(x):
    """{TODO}: another plausible mistake, in one line."""
    raise {NOT_IMPLEMENTED}


WRONG_ANSWERS = {{"{name}": [_wrong_first, _wrong_second]}}
'''


def not_done(card: Card, solutions_dir: Path) -> list[str]:
    """What is still to be written in a card: TODO text (its fields', its module's docstrings),
    and code that raises NotImplementedError (the reference, the checker, a wrong answer).
    Empty when done."""
    marked = card.todo_fields()
    verb = "begins" if len(marked) == 1 else "begin"
    reasons = [f"{', '.join(marked)} still {verb} with {TODO}"] if marked else []
    info = _module_of(card, solutions_dir)
    if info is None:
        return reasons
    return [*_stubs(card, info, solutions_dir), *_code_not_done(card, info), *reasons]


def stubbed(card: Card, solutions_dir: Path) -> bool:
    """Whether a card's code still raises NotImplementedError where `new` wrote it so (the
    reference, the checker, a wrong answer): then there is nothing to run yet. A card whose
    code is written but whose texts still begin with TODO is run all the same (`check` says
    it is not done, and how its checks went: an author who writes the code first)."""
    info = _module_of(card, solutions_dir)
    return info is not None and bool(_stubs(card, info, solutions_dir))


def _module_of(card: Card, solutions_dir: Path) -> ModuleInfo | None:
    """The solution module of a runnable card; None for a card with none, or one that does
    not read (lint reports it)."""
    if card.solution is None:
        return None
    try:
        return read_module(solutions_dir, card.solution.module)
    except (OSError, SyntaxError):
        return None


def _stubs(card: Card, info: ModuleInfo, solutions_dir: Path) -> list[str]:
    """What of a card's code still raises NotImplementedError."""
    assert card.solution is not None
    function = card.solution.function
    reasons = []
    if raises_not_implemented(info.function(function)):
        reasons.append(f"the reference raises {NOT_IMPLEMENTED}")
    check = checker_ref(card, info)
    try:
        checker_module = (
            info
            if check.module == card.solution.module
            else read_module(solutions_dir, check.module)
        )
    except (OSError, SyntaxError):
        checker_module = None
    if checker_module and raises_not_implemented(checker_module.function(check.function)):
        reasons.append(f"the checker raises {NOT_IMPLEMENTED}")
    wrong = _wrong_answers(info, function)
    stubs = [node.name for node in wrong if node and raises_not_implemented(node)]
    if stubs:
        reasons.append(f"wrong answer(s) {', '.join(stubs)} raise {NOT_IMPLEMENTED}")
    return reasons


def _code_not_done(card: Card, info: ModuleInfo) -> list[str]:
    """What of a card's written code still holds TODO text: a declared failure, a docstring."""
    assert card.solution is not None
    function = card.solution.function
    reasons = []
    wrong = _wrong_answers(info, function)
    todo = [node.name for node in wrong if node and (declared_failure(node) or "").startswith(TODO)]
    if todo:
        reasons.append(f"the @fails_with of {', '.join(todo)} still begins with {TODO}")
    return reasons + _docstrings_not_done(info, function, [node for node in wrong if node])


def _wrong_answers(info: ModuleInfo, function: str) -> list[ast.FunctionDef | None]:
    return [
        info.function(entry.id)
        for entry in table_entries(info, "WRONG_ANSWERS", function)
        if isinstance(entry, ast.Name)
    ]


def _docstrings_not_done(
    info: ModuleInfo, function: str, wrong: list[ast.FunctionDef]
) -> list[str]:
    """The docstrings `new` wrote that still begin with TODO: the module's, the reference's
    (the starter a learner is shown: a card whose texts and code were written passed check and
    was studied with "TODO: the contract: ..." as its starter) and the wrong answers'."""
    documented = [
        ("the module", info.tree),
        (f"{function} (the learner's starter)", info.function(function)),
        *((node.name, node) for node in wrong),
    ]
    marked = [
        name
        for name, node in documented
        if node and (ast.get_docstring(node) or "").startswith(TODO)
    ]
    return [f"the docstring of {', '.join(marked)} still begins with {TODO}"] if marked else []
