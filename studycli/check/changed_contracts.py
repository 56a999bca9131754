"""`check --changed`'s word on the coding cards whose contract a change alters: the starter a
learner writes in (the reference's signature and docstring, or the card's `starter:`) and the
code its checker runs (`content.contract`). A review records both, so each learner who studied
such a card is told at its next review that its starter or its checker changed, as they are
of a text edited (changed_histories.py says which texts)."""

from __future__ import annotations

import ast
from pathlib import Path

from studycli.content.card import Card
from studycli.content.contract import checker_code
from studycli.content.loader import Content
from studycli.content.renamed_from import card_entries
from studycli.content.source import ModuleInfo, checker_ref, module_names, starter_for

from .changed_git import _texts_at
from .changed_histories import _card_at_base

PARTS = ("starter", "checker")  # what `contract_edits` names, in this order


def contract_edits(
    repo: Path, base: str, content: Content, cards: list[Card], paths: set[Path]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each of `cards` (the change's; `paths`: its changed files) that runs code and was there
    at `base`, under its id or an id its `renamed_from` lists (its learners' histories follow
    it), in any card file, with which of `PARTS` differ from what they were there, each read
    from the modules the card named then and names now; none where neither does, where
    either cannot be read then or now (lint says why of now's), or where the card was a draft
    then or is one now (no learner studied it, or is shown it: `study_items`)."""
    runnable = [card for card in cards if card.runnable]
    if not runnable:
        return ()
    folder = content.root.resolve() / "cards"
    files = {card.path.resolve() for card in runnable}
    files |= {p for p in paths if p.suffix == ".yaml" and folder in p.parents}  # (moved, renamed)
    modules = _modules(content, runnable)
    texts = _texts_at(repo, base, [*sorted(files), *modules.values()])
    own = {card.path.resolve() for card in runnable}
    then = _cards_then(texts, own)  # (the other files only where a card is not in its own)
    if any(_before(card, then) is None for card in runnable):
        then = _cards_then(texts, files - own) | then
    befores = {card.id: _before(card, then) for card in runnable}
    more = _modules(content, [b for b in befores.values() if b is not None])
    if more.keys() - modules.keys():  # (a module the card named then, another now)
        texts |= _texts_at(
            repo, base, [more[name] for name in sorted(more.keys() - modules.keys())]
        )
    infos = {name: _parsed(path, texts.get(path)) for name, path in (modules | more).items()}
    now = {name: _parsed(path, _read(path)) for name, path in modules.items()}
    found = []
    for card in runnable:
        before = befores[card.id]
        if before is None or before.draft or card.draft:
            continue
        was, is_now = _contract(before, infos), _contract(card, now)
        if was is None or is_now is None:
            continue
        parts = tuple(part for part, a, b in zip(PARTS, was, is_now) if a != b)
        if parts:
            found.append((card.id, parts))
    return tuple(sorted(found))


def _modules(content: Content, cards: list[Card]) -> dict[str, Path]:
    """The solution modules `cards` name, by name, with their files."""
    solutions = content.solutions_dir.resolve()
    return {name: solutions / f"{name}.py" for card in cards for name in sorted(module_names(card))}


def _cards_then(texts: dict[Path, str], files: set[Path]) -> dict[str, Card]:
    """The cards that `files` held at the base (`texts`), by id, those that loaded."""
    then = {}
    for file in sorted(files & texts.keys()):
        card = _card_at_base(texts[file])
        if card is not None:
            then[card.id] = card
    return then


def _before(card: Card, then: dict[str, Card]) -> Card | None:
    """`card` as it was at the base (`then`), under its id, else under an id it lists in
    `renamed_from` (a whole card's, oldest first), where it ran code then; None where it was
    not there."""
    for card_id in (card.id, *card_entries(card.renamed_from)):
        before = then.get(card_id)
        if before is not None:
            return before if before.runnable else None
    return None


def _contract(card: Card, infos: dict[str, ModuleInfo | None]) -> tuple[str, str] | None:
    """`card`'s starter and its checker's code, read from `infos` (its modules, by name); None
    where a module it names cannot be read or lacks the function."""
    assert card.solution is not None
    info = infos.get(card.solution.module)
    if info is None or info.function(card.solution.function) is None:
        return None
    check = checker_ref(card, info)
    checker = infos.get(check.module)
    code = checker_code(checker, check.function) if checker is not None else None
    return None if code is None else (starter_for(card, info), code)


def _parsed(path: Path, text: str | None) -> ModuleInfo | None:
    if text is None:
        return None
    try:
        return ModuleInfo(path=path, tree=ast.parse(text), source=text)
    except (SyntaxError, ValueError):
        return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
