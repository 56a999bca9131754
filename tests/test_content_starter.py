"""A coding card's default starter: its reference's imports, signature and docstring. `show`
reads it from the module's head (up to the end of the reference) where that gives the same
text as parsing the whole module, and parses the whole module everywhere else."""

from __future__ import annotations

import pytest

from studycli.content.loader import load_content
from studycli.content.source import _head, card_starter, default_starter, module_path, read_module

from .conftest import REPO_ROOT

CONTENT = load_content(REPO_ROOT)
DEFAULT_STARTERS = [
    card for card in CONTENT.cards.values() if card.runnable and card.starter is None
]


@pytest.mark.parametrize("card", DEFAULT_STARTERS, ids=lambda card: card.id)
def test_every_shipped_starter_is_the_whole_modules(card):
    whole = default_starter(
        read_module(CONTENT.solutions_dir, card.solution.module), card.solution.function
    )
    assert card_starter(card, CONTENT.solutions_dir) == whole


def test_most_shipped_starters_come_from_the_modules_head():
    heads = [
        card
        for card in DEFAULT_STARTERS
        if _head(module_path(CONTENT.solutions_dir, card.solution.module), card.solution.function)
    ]
    assert len(heads) >= 0.8 * len(DEFAULT_STARTERS)
    assert "flash-attention" in {card.id for card in heads}


REFERENCE = '''"""A module."""

import math


def f(x):
    """Half of x.{extra}"""
    return x / 2{after}


def check_f(impl, device="cpu"):
    assert impl(2) == 1
'''


@pytest.mark.parametrize(
    "extra, after, head",
    [
        ("", "", True),
        # an import after the reference: only the whole module has it
        ("", "\n\n\nimport numpy as np", False),
        # a docstring line at column 0 inside the reference: the cut falls inside a string
        ("\n\nnot indented\n", "", False),
    ],
    ids=["head", "import-after", "column-0-docstring"],
)
def test_the_head_is_used_only_where_it_gives_the_whole_modules_starter(
    tmp_path, extra, after, head
):
    path = tmp_path / "mod.py"
    path.write_text(REFERENCE.format(extra=extra, after=after), encoding="utf-8")
    whole = default_starter(read_module(tmp_path, "mod"), "f")
    found = _head(path, "f")
    assert (found is not None) == head
    if found is not None:
        assert default_starter(found, "f") == whole
    if after:
        assert "import numpy as np" in whole


def test_a_def_named_in_the_module_docstring_is_not_the_function(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text('"""Usage:\n\ndef f(x)\n"""\n\n\ndef f(x):\n    return x\n', encoding="utf-8")
    assert _head(path, "f") is None
    assert "def f(x):" in default_starter(read_module(tmp_path, "mod"), "f")
