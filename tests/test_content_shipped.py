"""The shipped content: clean under lint, and covering every topic and required coding card.

`studycli check` (run by CI through the README's quick start) proves the checkers; these tests
pin the coverage so that it cannot regress.
"""

from __future__ import annotations

import ast
import re
import runpy
from collections import Counter

import pytest

from studycli.content.card import Kind
from studycli.content.lint import lint
from studycli.content.loader import load_content
from studycli.content.source import parameters, read_module
from studycli.content.topics import required_coding_cards, topics

from .conftest import REPO_ROOT

CONTENT = load_content(REPO_ROOT)
CARDS = CONTENT.cards


def test_content_lints_clean():
    problems = lint(CONTENT)
    assert not problems, "\n".join(f"{p.location(REPO_ROOT)}: {p.message}" for p in problems)


def test_enough_cards_of_each_kind():
    kinds = Counter(card.kind for card in CARDS.values())
    assert len(CARDS) >= 400, kinds
    assert kinds[Kind.DERIVATION] >= 15, kinds
    assert kinds[Kind.CLOZE] >= 60, kinds


@pytest.mark.parametrize("slug", list(topics()))
def test_every_topic_has_cards_to_recall(slug):
    mine = [card for card in CARDS.values() if card.topic == slug]
    assert mine, f"no card has topic {slug!r}"
    recalled = [c for c in mine if c.kind in (Kind.CONCEPT, Kind.CLOZE)]
    assert len(recalled) >= 3, f"{slug}: {len(recalled)} concept or cloze cards, need 3"
    # the kinds the topic list asks of it (a derivation, a coding card, ...)
    missing = set(topics()[slug].kinds) - {card.kind.value for card in mine}
    assert not missing, f"{slug}: the topic list asks for {sorted(missing)} cards; it has none"


def _words(text: str) -> int:
    return len(text.split())


def test_concept_answers_are_short_enough_to_be_learnt():
    """The minimum information principle: an answer is recalled and judged in seconds. What
    explains it lives in `explanation`, which is never rated. `lint` refuses a concept answer
    over 90 words, card by card (test_content_lints_clean); this pins the collection's median."""
    lengths = sorted(_words(c.answer) for c in CARDS.values() if c.kind is Kind.CONCEPT)
    median = lengths[len(lengths) // 2]
    assert median <= 50, f"median concept answer is {median} words; move the why to explanation"


def test_no_card_sends_the_learner_to_another_card_for_its_answer():
    for card in CARDS.values():
        text = f"{card.answer} {card.prompt}".lower()
        assert "see the card" not in text and "see card" not in text, card.id


def test_every_cloze_item_is_its_own_study_item():
    items = [i for c in CARDS.values() if c.kind is Kind.CLOZE for i in c.study_items()]
    assert len(items) >= len([c for c in CARDS.values() if c.kind is Kind.CLOZE])
    assert len({i.id for i in items}) == len(items)
    assert all("#c" in i.id and i.card_id in CARDS for i in items)


@pytest.mark.parametrize("required", required_coding_cards(), ids=lambda r: r.id)
def test_required_coding_card_exists_with_its_interface(required):
    assert required.id in CARDS, f"missing coding card {required.id!r}"
    card = CARDS[required.id]
    assert card.kind is Kind.CODING
    assert str(card.solution) == required.solution
    module = read_module(CONTENT.solutions_dir, card.solution.module)
    expected = parameters(ast.parse(f"def {required.signature.split(' -> ')[0]}: pass").body[0])
    assert parameters(module.function(card.solution.function)) == expected
    assert card.answer, f"{card.id}: a coding card's answer explains the solution"
    assert card.hints, f"{card.id}: a coding card needs hints"


def test_derivations_have_several_steps():
    for card in CARDS.values():
        if card.kind is Kind.DERIVATION:
            assert len(card.steps) >= 3, f"{card.id}: only {len(card.steps)} steps"


def test_flash_attention_builds_on_the_online_softmax():
    assert "online-softmax" in CARDS["flash-attention"].requires


def test_readme_deck_table_matches_the_content():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- decks -->")[1].split("<!-- /decks -->")[0]
    rows = {}
    for line in block.strip().splitlines()[2:]:
        cells = [c.strip(" *") for c in line.strip("|").split("|")]
        rows[cells[0]] = tuple(int(c) for c in cells[1:])
    expected = {}
    for deck in sorted({c.deck for c in CARDS.values()}) + ["all"]:
        kinds = Counter(c.kind.value for c in CARDS.values() if deck in ("all", c.deck))
        expected[deck] = (
            kinds["concept"],
            kinds["cloze"],
            kinds["derivation"],
            kinds["coding"],
            sum(kinds.values()),
        )
    table = "\n".join(
        ["| deck | concept | cloze | derivation | coding | total |", "|---|---:|---:|---:|---:|---:|"]
        + [
            "| " + (f"**{deck}**" if deck == "all" else deck) + " | "
            + " | ".join(str(n) for n in counts) + " |"
            for deck, counts in expected.items()
        ]
    )  # fmt: skip
    runnable = sum(c.runnable for c in CARDS.values())
    sentences = (f"{len(CARDS)} cards over the", f"{runnable} of them are")
    missing = [s for s in sentences if s not in readme]
    # both at once: the sentences were asked for only once the table was right, a second run
    said = "".join(f"\nand say {sentence!r}" for sentence in missing)
    assert rows == expected, f"a card was added or removed: in README.md, put\n{table}{said}\n"
    assert not missing, "a card was added or removed: README.md must say " + " and ".join(
        repr(sentence) for sentence in missing
    )


def test_readme_counts_the_topics():
    """A topic added to topics.yaml left README's "the 45 topics" behind: nothing counted them."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    count = len(topics())
    for sentence in (f"over the {count} study topics", f"the {count} topics:"):
        assert sentence in readme, f"a topic was added or removed: README.md must say {sentence!r}"


def _global_names(code) -> set[str]:
    """The global names a code object and the functions inside it may read."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if hasattr(constant, "co_names"):
            names |= _global_names(constant)
    return names


@pytest.mark.parametrize(
    "card", [c for c in CARDS.values() if c.solution is not None], ids=lambda card: card.id
)
def test_the_reference_show_answer_shows_defines_every_name_it_reads(card):
    """`show --answer` showed the reference function alone: five read a helper or a constant
    of their module (`_cholesky_solve`, `FLOAT32_MAX`), and none showed its imports. What it
    shows runs as it is: every module-level name the function reads is defined in it."""
    import builtins

    from studycli.content.reference_code import reference_source
    from studycli.content.source import module_path

    shown = reference_source(card, CONTENT.solutions_dir)
    assert shown is not None
    namespace: dict = {"__name__": "shown"}
    exec(compile(shown, f"<{card.id}>", "exec"), namespace)  # our own reference
    assert callable(namespace[card.solution.function])
    shown_code = [
        value.__code__
        for value in namespace.values()
        if getattr(getattr(value, "__code__", None), "co_filename", "") == f"<{card.id}>"
    ]
    missing = {
        name
        for code in shown_code
        for name in _global_names(code)
        if name not in namespace and not hasattr(builtins, name)
    }
    # attribute names (x.shape) are in co_names too: only those the module defines matter
    module = runpy.run_path(str(module_path(CONTENT.solutions_dir, card.solution.module)))
    assert not {name for name in missing if name in module}, missing


_REFUSALS = {"forbid", "without_package"}


def _refusing_functions(tree: ast.Module) -> set[str]:
    """The module's functions that refuse a routine or a library: those that call `forbid` or
    `without_package`, or one of the module's functions that does (`_without_torch_optim`)."""
    calls = {
        node.name: {
            call.func.id
            for call in ast.walk(node)
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
        }
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }
    refusing = set(_REFUSALS)
    while more := {name for name, called in calls.items() if called & refusing} - refusing:
        refusing |= more
    return refusing


@pytest.mark.parametrize(
    "card", [c for c in CARDS.values() if c.solution is not None], ids=lambda card: card.id
)
def test_a_card_whose_checker_refuses_a_routine_says_so(card):
    """A learner cannot guess what a checker refuses: kernel-logistic-regression's prompt said
    'computed by hand' where its checker refused autograd, forward mode included, and
    adamw-vs-adam-l2-derivation's said nothing where its checker refused torch.optim's update.
    A card whose checker refuses something says that it refuses, or what not to call."""
    from studycli.content.source import checker_ref

    info = read_module(CONTENT.solutions_dir, card.solution.module)
    if checker_ref(card, info).function not in _refusing_functions(info.tree):
        return
    told = re.compile(r"\brefuse|\b(do not|without)\b[^.:]*\bcall", re.IGNORECASE)
    assert told.search(" ".join(card.prompt.split())), card.prompt
