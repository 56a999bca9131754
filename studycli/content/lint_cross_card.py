"""Lint's rules across the cards: `requires` cycles, solution modules no card names, decks
that pyproject.toml does not list, and WRONG_ANSWERS or CORRECT_VARIANTS entries that name no
card's solution. The rules of one card's own fields: lint.py."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from .card import CardProblem
from .key_lines import KeyLines, file_text
from .lint_solution import module_meant
from .loader import Content
from .solution_tables import table_lines
from .source import module_names, module_path, read_module


def lint_cycles(content: Content, where: KeyLines) -> list[CardProblem]:
    """Report each `requires` cycle once, on the card where it was found."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    problems = []

    def visit(card_id: str, trail: list[str]) -> None:
        state[card_id] = 1
        for nxt in content.cards[card_id].requires:
            if nxt not in content.cards or nxt == card_id:  # (itself: said above)
                continue
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt) :] + [nxt] if nxt in trail else [card_id, nxt]
                card = content.cards[card_id]
                problems.append(
                    where.problem(
                        card,
                        "requires",
                        "requires forms a cycle: " + " -> ".join(cycle),
                        item=card.requires.index(nxt) + 1,
                    )
                )
            elif state.get(nxt) is None:
                visit(nxt, trail + [nxt])
        state[card_id] = 2

    for card_id in sorted(content.cards):
        if card_id not in state:
            visit(card_id, [card_id])
    return problems


def lint_orphans(content: Content, unloaded: list[Path]) -> list[CardProblem]:
    """A module of solutions/ that no card names. One that a card file which did not load
    (`unloaded`) names, by a search of its text, is left out: that card's problem is the one
    to fix; so is one that a card's missing module is a typo of (`solution: aritth:add_one`
    was said to mean arith, and arith, named by no card, was an orphan besides)."""
    if not content.solutions_dir.is_dir():
        return []
    used = {name for card in content.cards.values() for name in module_names(card)}
    missing = [name for name in used if not module_path(content.solutions_dir, name).is_file()]
    used |= {meant for name in missing if (meant := module_meant(content.solutions_dir, name))}
    orphans = [
        path
        for path in sorted(content.solutions_dir.glob("*.py"))
        if not path.name.startswith("_") and path.stem not in used
    ]
    if orphans and unloaded:
        texts = [file_text(path) for path in unloaded]
        orphans = [
            path
            for path in orphans
            if not any(re.search(rf"(?<!\w){re.escape(path.stem)}(?!\w)", t) for t in texts)
        ]
    return [
        CardProblem(path, "orphan solution module: no card names it in 'solution' or 'check'")
        for path in orphans
    ]


DECK_PACKAGE = "studycli._content.cards."  # a deck's package in pyproject.toml (it ships it)


def lint_decks(content: Content) -> list[CardProblem]:
    """In the repository (the content folder's pyproject.toml lists the decks' packages): a
    deck folder with cards that it does not list, whose cards an install would leave out: a
    new deck to list, or a deck's name mistyped (a card moved to cards/maths passed lint, and
    failed only the packaging test)."""
    import tomllib

    try:
        with open(content.root / "pyproject.toml", "rb") as file:
            setup = tomllib.load(file).get("tool", {}).get("setuptools", {})
    except (OSError, tomllib.TOMLDecodeError):
        return []
    packages = setup.get("packages") if isinstance(setup, dict) else None
    listed = {
        package.removeprefix(DECK_PACKAGE)
        for package in packages or ()
        if isinstance(package, str) and package.startswith(DECK_PACKAGE)
    }
    if not listed:  # (another project's pyproject.toml, or none of its decks listed)
        return []
    decks = {card.path.parent for card in content.cards.values()}
    return [
        CardProblem(
            folder,
            f"a deck that pyproject.toml's packages do not list, so an install leaves its cards "
            f'out: a new deck? add "{DECK_PACKAGE}{folder.name}" there; a mistyped one? move '
            f"its cards into their deck ({', '.join(sorted(listed))})",
        )
        for folder in sorted(decks)
        if folder.name not in listed
    ]


def lint_tables(content: Content, unloaded: list[Path]) -> list[CardProblem]:
    """A name in a module's WRONG_ANSWERS or CORRECT_VARIANTS that no card's `solution` in it
    is: a typo whose entries `check` never runs (a variant list keyed 'my_codin' passed lint
    and check, and was never tried). A name a card file that did not load mentions is left
    out: that card's problem is the one to fix."""
    solved: dict[str, set[str]] = {}
    for card in content.cards.values():
        if card.solution is not None:
            solved.setdefault(card.solution.module, set()).add(card.solution.function)
    # a card whose solution names another module by mistake has that problem said already
    anywhere = {name for functions in solved.values() for name in functions}
    texts = [file_text(path) for path in unloaded]
    problems = []
    for module, functions in sorted(solved.items()):
        if not module_path(content.solutions_dir, module).is_file():
            continue  # (the card's own problem)
        try:
            info = read_module(content.solutions_dir, module)
        except SyntaxError:
            continue  # (said by `lint_solution`)
        # a card whose solution names a function the module lacks has its own problem, with
        # the fix: a key that is a function of the module, close to that name, is not the typo
        defined = sorted(name for name in functions if info.function(name) is not None)
        missing = sorted(set(functions) - set(defined))
        for table in ("WRONG_ANSWERS", "CORRECT_VARIANTS"):
            for name, line in table_lines(info, table).items():
                if name in anywhere or any(re.search(rf"\b{re.escape(name)}\b", t) for t in texts):
                    continue
                if info.function(name) and difflib.get_close_matches(name, missing, n=1):
                    continue
                close = difflib.get_close_matches(name, defined, n=1)
                fix = f"did you mean {close[0]!r}?" if close else "name a card's solution function"
                problems.append(
                    CardProblem(
                        info.path,
                        f"{table}[{name!r}]: no card's solution is {module}:{name}, so check "
                        f"never runs these: {fix}",
                        line,
                    )
                )
    return problems
