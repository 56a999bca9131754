"""`studycli lint`: every rule the content must follow, every problem reported at once."""

from __future__ import annotations

import ast
import difflib
import re
import sys
from pathlib import Path

from . import cloze
from .card import Card, CardProblem, Ref
from .key_lines import KeyLines
from .lint_text import lint_text
from .loader import Content
from .source import (
    ModuleInfo,
    checker_ref,
    declared_failure,
    module_names,
    module_path,
    parameters,
    read_module,
    starter_for,
)
from .topics import topics

MIN_WRONG_ANSWERS = 2


def lint(content: Content) -> list[CardProblem]:
    """All problems in the content: loading, topics, prerequisites, text, solutions, orphans.
    A problem with one field of a card file is reported at the line of that field's key."""
    where = KeyLines()
    problems = [where.locate(problem) for problem in content.problems]
    unloaded = _unloaded_cards(content)  # their own problems are the ones to report
    unloaded_ids = {path.stem for path in unloaded}
    known_topics = topics()
    for card in content.cards.values():
        if card.topic not in known_topics:
            close = difflib.get_close_matches(card.topic, list(known_topics), n=3)
            problems.append(
                where.problem(
                    card,
                    "topic",
                    f"unknown topic {card.topic!r}: "
                    + (f"did you mean {', '.join(close)}? " if close else "")
                    + "use a slug from studycli/content/topics.yaml",
                )
            )
        for required in card.requires:
            if required not in content.cards and required not in unloaded_ids:
                problems.append(
                    where.problem(card, "requires", f"requires {required!r}, which no card has")
                )
        problems += lint_text(card, where)
        problems += _lint_title(card, where)
        if card.runnable:
            problems += _lint_solution(card, content.solutions_dir, where)
    problems += _lint_cycles(content, where)
    problems += _lint_orphans(content, unloaded)
    problems += _lint_tables(content, unloaded)
    problems += _lint_imports(content)
    return sorted(problems, key=lambda p: (str(p.path), p.line or 0))


def _lint_title(card: Card, where: KeyLines) -> list[CardProblem]:
    """A cloze deletion in a title: only the prompt's deletions are hidden, and the title is
    the card's header, shown above the question as written, hidden text and all."""
    found = re.search(cloze.DELETION, card.title)
    if found is None:
        return []
    return [
        where.problem(
            card,
            "title",
            f"title has a cloze deletion ({found.group(0)!r}), which the card's header shows as "
            "written, the hidden text in plain sight: only the prompt's deletions are hidden, "
            "so keep them there and write the title without one",
        )
    ]


def _lint_solution(card: Card, solutions_dir: Path, where: KeyLines) -> list[CardProblem]:
    assert card.solution is not None
    ref = card.solution
    path = module_path(solutions_dir, ref.module)
    if not path.is_file():
        return [
            where.problem(
                card, "solution", f"solution {ref}: there is no solutions/{ref.module}.py"
            )
        ]
    try:
        info = read_module(solutions_dir, ref.module)
    except SyntaxError as exc:
        return [CardProblem(path, f"Python syntax error: {exc.msg}", exc.lineno, card.id)]
    reference = info.function(ref.function)
    if reference is None:
        return [
            where.problem(
                card,
                "solution",
                f"solution {ref}: solutions/{ref.module}.py defines no "
                f"top-level function {ref.function!r}" + _missing_reference_fix(ref, info),
            )
        ]
    problems = []
    check = checker_ref(card, info)
    if check.module != ref.module and not module_path(solutions_dir, check.module).is_file():
        problems.append(
            where.problem(card, "check", f"check {check}: there is no solutions/{check.module}.py")
        )
    elif (
        read_module(solutions_dir, check.module) if check.module != ref.module else info
    ).function(check.function) is None:
        named = card.check is not None
        problems.append(
            where.problem(
                card,
                ("check", "solution"),
                f"check {check}: solutions/{check.module}.py defines no function {check.function!r}"
                if named
                else f"no checker: define check_{ref.function}(impl, device='cpu') "
                f"in solutions/{ref.module}.py, or name one with 'check:'",
            )
        )
    listed = info.table_entries("WRONG_ANSWERS", ref.function)
    wrong = len({ast.unparse(entry) for entry in listed})  # a repeat proves nothing more
    if wrong < MIN_WRONG_ANSWERS:
        problems.append(
            where.problem(
                card,
                "solution",
                f"solutions/{ref.module}.py lists {wrong} wrong answer(s) for "
                f"{ref.function!r} in WRONG_ANSWERS"
                + (" (repeats not counted)" if len(listed) > wrong else "")
                + f"; at least {MIN_WRONG_ANSWERS} different ones are needed (a dict literal "
                "of lists, so lint can read it without running the module)",
            )
        )
    problems += _lint_wrong_answers(card, info)
    problems += _lint_repeats(card, info, "CORRECT_VARIANTS")
    problems += _lint_starter(card, info, parameters(reference), where)
    return problems


def _missing_reference_fix(ref: Ref, info: ModuleInfo) -> str:
    """What to do about a card's `solution:` function that its module does not define. A
    table keyed by the card's name says the card is right and the `def` is missing (or
    misspelled); otherwise a function the module defines under a close name is most likely
    what the card meant, and the card is what to fix (lint used to say to rename the table's
    key, which was right, to the card's typo)."""
    defined = [
        node.name
        for node in info.tree.body
        if isinstance(node, ast.FunctionDef)
        and not node.name.startswith(("_", "check"))  # wrong answers, variants, checkers
    ]
    close = difflib.get_close_matches(ref.function, defined, n=1)
    keyed = [
        table
        for table in ("WRONG_ANSWERS", "CORRECT_VARIANTS")
        if ref.function in info.tables(table)
    ]
    if keyed:
        verb = "name" if len(keyed) > 1 else "names"
        return (
            f", which its {' and '.join(keyed)} {verb} too: define `def {ref.function}(...)` "
            "there" + (f" (is `def {close[0]}` a misspelling of it?)" if close else "")
        )
    if close:
        return f": did you mean {ref.module}:{close[0]}? set the card's `solution:` to it"
    return ""


def _lint_wrong_answers(card: Card, info: ModuleInfo) -> list[CardProblem]:
    """Every wrong answer is a top-level function of its own, listed once, with a docstring
    that names its mistake (check's report names it by that line), and declares with
    @fails_with the failure the checker must give it (check then proves it is rejected for
    that mistake)."""
    assert card.solution is not None
    function = card.solution.function
    problems = _lint_repeats(card, info, "WRONG_ANSWERS")
    seen = set()  # (a repeat's own problems are its first listing's)
    for entry in info.table_entries("WRONG_ANSWERS", function):
        if (text := ast.unparse(entry)) in seen:
            continue
        seen.add(text)
        node = info.function(entry.id) if isinstance(entry, ast.Name) else None
        if node is None:
            problems.append(
                CardProblem(
                    info.path,
                    f"WRONG_ANSWERS[{function!r}] lists {ast.unparse(entry)}, which is not a "
                    f"top-level function of {info.path.name}: define each wrong answer with "
                    "`def`, so that it can declare @fails_with",
                    entry.lineno,
                    card.id,
                )
            )
        elif node.name == function:
            problems.append(
                CardProblem(
                    info.path,
                    f"WRONG_ANSWERS[{function!r}] lists {function}, the reference itself: "
                    "check would demand that the checker reject the correct answer; list only "
                    "wrong answers, each a `def` of its own that makes one mistake",
                    entry.lineno,
                    card.id,
                )
            )
        else:
            problems += _lint_wrong_answer(card, info, node)
    return problems


def _lint_wrong_answer(card: Card, info: ModuleInfo, node: ast.FunctionDef) -> list[CardProblem]:
    """One wrong answer's docstring and declared failure, each reported at its `def` line."""
    assert card.solution is not None
    what = f"wrong answer {node.name} (for {card.solution.function!r})"
    problems = []
    if not (ast.get_docstring(node) or "").strip():
        problems.append(
            CardProblem(
                info.path,
                f"{what} has no docstring: write one line under `def {node.name}` that names "
                "its mistake (check's report names the wrong answer by it)",
                node.lineno,
                card.id,
            )
        )
    declared = declared_failure(node)
    if declared is None or not declared.strip():
        problems.append(
            CardProblem(
                info.path,
                f"{what} "
                + ("declares an empty failure" if declared is not None else "declares no failure")
                + f': put @fails_with("<a part of the checker\'s message for this mistake>") '
                f"on the line above `def {node.name}`, a string literal "
                "(from studycli.assertions import fails_with)",
                node.lineno,
                card.id,
            )
        )
    return problems


def _lint_repeats(card: Card, info: ModuleInfo, table: str) -> list[CardProblem]:
    """An entry listed twice in the card's list of `table`: check runs it twice and counts it
    twice ("2 wrong answer(s) rejected" for one mistake), so the list looks longer than what
    it proves."""
    assert card.solution is not None
    function = card.solution.function
    first: dict[str, int] = {}
    problems = []
    for entry in info.table_entries(table, function):
        text = ast.unparse(entry)
        if text not in first:
            first[text] = entry.lineno
            continue
        problems.append(
            CardProblem(
                info.path,
                f"{table}[{function!r}] lists {text} more than once"
                + (f" (first on line {first[text]})" if first[text] != entry.lineno else "")
                + ": "
                "check would run it twice and count it twice; list each answer once "
                "(write another one if the list needs more)",
                entry.lineno,
                card.id,
            )
        )
    return problems


def _lint_starter(
    card: Card, info: ModuleInfo, expected: list[str], where: KeyLines
) -> list[CardProblem]:
    assert card.solution is not None
    name = card.solution.function
    at = ("starter", "solution")  # no starter: the reference's signature makes it
    try:
        tree = ast.parse(starter_for(card, info))
    except SyntaxError as exc:
        return [
            where.problem(
                card, at, f"the starter does not compile: {exc.msg} (starter line {exc.lineno})"
            )
        ]
    defined = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    if not defined:
        return [where.problem(card, at, f"the starter must define {name}({', '.join(expected)})")]
    found = parameters(defined[0])
    if found != expected:
        return [
            where.problem(
                card,
                at,
                f"the starter's {name} takes ({', '.join(found)}); the reference "
                f"takes ({', '.join(expected)})",
            )
        ]
    return []


def _lint_cycles(content: Content, where: KeyLines) -> list[CardProblem]:
    """Report each `requires` cycle once, on the card where it was found."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    problems = []

    def visit(card_id: str, trail: list[str]) -> None:
        state[card_id] = 1
        for nxt in content.cards[card_id].requires:
            if nxt not in content.cards:
                continue
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt) :] + [nxt] if nxt in trail else [card_id, nxt]
                problems.append(
                    where.problem(
                        content.cards[card_id],
                        "requires",
                        "requires forms a cycle: " + " -> ".join(cycle),
                    )
                )
            elif state.get(nxt) is None:
                visit(nxt, trail + [nxt])
        state[card_id] = 2

    for card_id in sorted(content.cards):
        if card_id not in state:
            visit(card_id, [card_id])
    return problems


ALLOWED_IMPORTS = ("numpy", "torch", "studycli.assertions")  # beside the standard library


def _lint_imports(content: Content) -> list[CardProblem]:
    """A solution module imports, at its top level, only the standard library, numpy, torch
    and studycli.assertions: what every install has (a missing package would otherwise show
    only when `check` imports it). An optional one is imported inside the function that
    needs it."""
    names = {
        name for card in content.cards.values() if card.runnable for name in module_names(card)
    }
    problems = []
    for name in sorted(names):
        try:
            info = read_module(content.solutions_dir, name)
        except (OSError, SyntaxError):
            continue  # reported with its card
        for node in info.tree.body:
            if isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                imported = ["." * node.level + (node.module or node.names[0].name)]
            else:
                continue
            problems += [
                CardProblem(
                    info.path,
                    f"imports {module!r}: a solution module imports only the standard library, "
                    "numpy, torch and studycli.assertions at its top level (not another solution "
                    "module); import an optional package inside the function that needs it",
                    node.lineno,
                )
                for module in imported
                if not _allowed_import(module)
            ]
    return problems


def _allowed_import(module: str) -> bool:
    if module.startswith("."):
        return False
    top = module.partition(".")[0]
    if top == "studycli":
        return any(module == name or module.startswith(name + ".") for name in ALLOWED_IMPORTS)
    return top in sys.stdlib_module_names or top in ALLOWED_IMPORTS


def _lint_orphans(content: Content, unloaded: list[Path]) -> list[CardProblem]:
    """A module of solutions/ that no card names. One that a card file which did not load
    (`unloaded`) names, by a search of its text, is left out: that card's problem is the one
    to fix."""
    if not content.solutions_dir.is_dir():
        return []
    used = {name for card in content.cards.values() for name in module_names(card)}
    orphans = [
        path
        for path in sorted(content.solutions_dir.glob("*.py"))
        if not path.name.startswith("_") and path.stem not in used
    ]
    if orphans and unloaded:
        texts = [_text(path) for path in unloaded]
        orphans = [
            path
            for path in orphans
            if not any(re.search(rf"(?<!\w){re.escape(path.stem)}(?!\w)", t) for t in texts)
        ]
    return [
        CardProblem(path, "orphan solution module: no card names it in 'solution' or 'check'")
        for path in orphans
    ]


def _lint_tables(content: Content, unloaded: list[Path]) -> list[CardProblem]:
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
    texts = [_text(path) for path in unloaded]
    problems = []
    for module, functions in sorted(solved.items()):
        if not module_path(content.solutions_dir, module).is_file():
            continue  # (the card's own problem)
        try:
            info = read_module(content.solutions_dir, module)
        except SyntaxError:
            continue  # (said by `_lint_solution`)
        # a card whose solution names a function the module lacks has its own problem, with
        # the fix: a key that is a function of the module, close to that name, is not the typo
        defined = sorted(name for name in functions if info.function(name) is not None)
        missing = sorted(set(functions) - set(defined))
        for table in ("WRONG_ANSWERS", "CORRECT_VARIANTS"):
            for name, line in info.table_lines(table).items():
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


def _unloaded_cards(content: Content) -> list[Path]:
    """The card files with a problem that made no card (broken YAML, a schema error, a
    duplicate id, a .yml name). A card's file is named by its id."""
    loaded = {card.path for card in content.cards.values()}
    cards_dir = content.root / "cards"
    return sorted(
        {p.path for p in content.problems if p.path not in loaded and cards_dir in p.path.parents}
    )


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
