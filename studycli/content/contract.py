"""A coding card's contract: what an answer must fit besides the card's text, hashed.

`Card.content_hash` covers what the learner reads (prompt, answer, title, ...). A coding card
also has an interface, which its text does not hold: the starter the learner writes in (the
function's signature and docstring, or the card's `starter:`) and the checker that decides a
pass. A review of a coding card records both hashes after the text's (`recorded_hash`), so
that a later change to either flags the card as edited (`edited_parts`), as a text edit does.

A review recorded before contracts were (its hash the text's alone) compares by its text
only: a database made by an earlier studycli is not flagged on upgrade, and a card's contract
is compared from its first review after it.

The checker is hashed as the code it runs (its function and the module's definitions it
uses, imports left out) read as tokens, without its docstrings, comments, layout or the texts
of its strings, nor the commas and parentheses a formatter adds as a line grows
(`code_tokens`): a checker that refuses more, or tests other values, is a changed checker; one
whose messages are reworded, reformatted or commented is not. (Tokens, not the syntax tree:
`ast.dump` changes between Python versions, which would flag every coding card on an upgrade
of Python.) A strategy carried only by a string's text (a test case written as a string) is
not seen, nor is what the checker imports: a helper of `studycli.assertions` (`assert_close`'s
tolerances, `call`), or an oracle imported from another module, is not part of its hash, and
a change to it flags no card.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (the flags of a card studied before import this module, and no more)
    from collections.abc import Callable
    from pathlib import Path

    from .card import Card
    from .source import ModuleInfo

SEPARATOR = "+"  # between the text's hash and each hash of the contract (never a hex digit)
PARTS = ("text", "starter", "checker")  # what `edited_parts` names, in this order


def recorded_hash(card: Card, contract: str | None) -> str:
    """What a review of `card` records of what it was made on: its text's hash, then, for a
    coding card whose `contract` (`contract_hash`) is known, the contract's."""
    return card.content_hash if contract is None else f"{card.content_hash}{SEPARATOR}{contract}"


def seen_hash(recorded: str | None, crammed: str, *, checked: bool) -> str:
    """What a card's state records of the text the learner saw after a cram rating that
    recorded `crammed` (`recorded_hash`), the state having recorded `recorded` (its last
    review's, or an earlier cram's): the text the cram showed, so that an edit it showed is
    no longer flagged; and a coding card's contract (starter, checker) only where the attempt
    was `checked`, run against the checker as it is now (the cram recorded one). Rated
    without a check, the learner saw neither the starter nor the checker: a change to them
    stays flagged until a check or a review. Every replay of the log applies this too
    (`replay.CardReplay.crammed`), from the hashes the log holds: no rating is added."""
    text, *contract = crammed.split(SEPARATOR)
    if not (checked and contract):
        _, *contract = (recorded or "").split(SEPARATOR)
    return SEPARATOR.join([text, *contract])


def edited_parts(recorded: str, card: Card, contract: Callable[[], str | None]) -> tuple[str, ...]:
    """Which of `PARTS` of `card` changed since a review that recorded `recorded`
    (`recorded_hash`); none where nothing did. `contract` gives the card's contract now
    (`contract_hash`), asked only where the review recorded one: a card studied before
    contracts were recorded, or that runs no code, reads no solution module here."""
    from .text_hash import same_text

    text, *was = recorded.split(SEPARATOR)
    changed = [] if same_text(text, card) else ["text"]
    if len(was) == 2 and card.runnable:
        now = contract()
        if now is not None:
            starter, checker = now.split(SEPARATOR)
            changed += ["starter"] * (starter != was[0]) + ["checker"] * (checker != was[1])
    return tuple(changed)


def contract_hash(card: Card, solutions_dir: Path) -> str | None:
    """The hash of `card`'s starter, then of its checker (see the module's docstring), as
    `<starter>+<checker>`; None for a card that runs no code, or whose solution module does
    not read or lacks the function (`lint` says so: nothing to compare with).

    Args:
        card: the card (its `solution` and `check` name the functions).
        solutions_dir: the content's `solutions/` folder.
    """
    if card.solution is None:
        return None
    import hashlib  # here, not at the top: a card's flags need it only for a coding card

    from studycli.errors import ContentError

    from .source import card_module, card_starter, checker_ref

    try:
        starter = card_starter(card, solutions_dir)
        checker = checker_ref(card, card_module(card, solutions_dir))
        info = card_module(card, solutions_dir, checker.module)
    except (ContentError, OSError):
        return None
    code = checker_code(info, checker.function)
    if code is None:
        return None
    return SEPARATOR.join(hashlib.sha256(text.encode()).hexdigest()[:8] for text in (starter, code))


def checker_code(info: ModuleInfo, function: str) -> str | None:
    """What of the module `info` the checker `function` runs, as the tokens `contract_hash`
    hashes: the function and the top-level definitions it uses, directly or through another,
    in the module's order, imports left out; None where the module has no such function."""
    import ast

    from .code_tokens import code_tokens
    from .reference_code import used_top_level

    node = info.function(function)
    if node is None:
        return None
    lines = info.source.splitlines()
    used = [
        s for s in used_top_level(info.tree, node) if not isinstance(s, ast.Import | ast.ImportFrom)
    ]
    parts = []
    for statement in sorted([*used, node], key=lambda s: s.lineno):
        decorators = getattr(statement, "decorator_list", [])
        first = min([statement.lineno, *(d.lineno for d in decorators)])
        parts.append("\n".join(lines[first - 1 : statement.end_lineno or statement.lineno]))
    return code_tokens("\n\n".join(parts))
