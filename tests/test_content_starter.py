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


def test_a_signature_over_several_lines_gives_the_head(tmp_path):
    """A signature put one parameter a line (to fit the starter in 80 columns) ends in a `)`
    at column 0, which was taken for the next top-level statement: the cut fell inside the
    signature, and such a starter was always read from the whole module."""
    path = tmp_path / "mod.py"
    path.write_text(
        'def f(\n    x,\n    y: int = 1,\n) -> int:\n    """Doc."""\n    return x\n\n\n'
        'def check_f(impl, device="cpu"):\n    assert impl(2) == 2\n',
        encoding="utf-8",
    )
    found = _head(path, "f")
    assert found is not None
    assert default_starter(found, "f") == default_starter(read_module(tmp_path, "mod"), "f")
    assert "def f(\n    x,\n    y: int = 1,\n) -> int:\n" in default_starter(found, "f")


def test_a_def_named_in_the_module_docstring_is_not_the_function(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text('"""Usage:\n\ndef f(x)\n"""\n\n\ndef f(x):\n    return x\n', encoding="utf-8")
    assert _head(path, "f") is None
    assert "def f(x):" in default_starter(read_module(tmp_path, "mod"), "f")


def test_a_starter_carries_the_imports_its_reference_uses_not_its_checkers():
    """The module's checkers import their ground truths and their wrong answers' tools: a
    starter that carried them handed the learner AdamW's `torch.optim` (which its checker
    refuses) and sliding-window-max's `heapq` (the slow method its prompt warns of)."""
    adamw = card_starter(CONTENT.get("adamw-step"), CONTENT.solutions_dir)
    assert "from torch.optim import" not in adamw and "import torch\n" in adamw
    window = card_starter(CONTENT.get("sliding-window-max"), CONTENT.solutions_dir)
    assert "heapq" not in window and "bisect" not in window
    assert "from collections import deque" in window  # the reference's own


def test_an_import_statement_keeps_the_names_the_reference_uses(tmp_path):
    (tmp_path / "mod.py").write_text(
        "from __future__ import annotations\n\nimport bisect, heapq\n"
        "import torch.nn.functional as F\nfrom math import inf, sqrt as root\n"
        "import numpy as np\n\n\n"
        "def f(x: heapq.X = inf):\n    return root(x)\n\n\n"
        "def check_f(impl, device='cpu'):\n    F.relu(bisect.bisect([1], 0))\n",
        encoding="utf-8",
    )
    starter = default_starter(read_module(tmp_path, "mod"), "f")
    head = starter.split("\n\n\n")[0].splitlines()
    assert head == [
        "from __future__ import annotations",
        "import heapq",  # (in the signature)
        "from math import inf, sqrt as root",
        "import numpy as np",  # an array library: the answer's vocabulary, used or not
    ]
