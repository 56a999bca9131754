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
from studycli.content.source import ModuleInfo, checker_ref, module_names, starter_for

from .changed_git import _texts_at
from .changed_histories import _card_at_base

PARTS = ("starter", "checker")  # what `contract_edits` names, in this order


def contract_edits(
    repo: Path, base: str, content: Content, cards: list[Card]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each of `cards` (the change's) that runs code and was there at `base` under its id and
    file, with which of `PARTS` differ from what they were there; none where neither does,
    where either cannot be read then or now (lint says why of now's), or where the card was a
    draft then or is one now (no learner studied it, or is shown it: `study_items`)."""
    runnable = [card for card in cards if card.runnable]
    if not runnable:
        return ()
    solutions = content.solutions_dir.resolve()
    modules = {name: solutions / f"{name}.py" for c in runnable for name in module_names(c)}
    files = [card.path.resolve() for card in runnable]
    texts = _texts_at(repo, base, [*files, *modules.values()])
    infos = {name: _parsed(path, texts.get(path)) for name, path in modules.items()}
    now = {name: _parsed(path, _read(path)) for name, path in modules.items()}
    found = []
    for card, file in zip(runnable, files):
        before = _card_at_base(texts[file]) if file in texts else None
        if before is None or before.id != card.id or not before.runnable:
            continue
        if before.draft or card.draft:
            continue
        was, is_now = _contract(before, infos), _contract(card, now)
        if was is None or is_now is None:
            continue
        parts = tuple(part for part, a, b in zip(PARTS, was, is_now) if a != b)
        if parts:
            found.append((card.id, parts))
    return tuple(sorted(found))


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
