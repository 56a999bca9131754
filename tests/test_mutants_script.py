"""scripts/mutants.py, the checkers' mutation audit: the mutants it makes of a function."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "mutants.py"

SOURCE = '''"""A module."""

import torch


def helper(x):
    return x + 1


def window_max(nums, k):
    """The docstring is never mutated."""
    best = []
    for i in range(len(nums) - k + 1):
        best.append(max(nums[i : i + k]))
    return torch.tensor(best, dtype=torch.float64)
'''


@pytest.fixture(scope="module")
def mutants():
    spec = importlib.util.spec_from_file_location("mutants_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (its dataclasses look their module up)
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_the_mutants_of_a_function_change_it_alone_one_edit_each(mutants):
    made = mutants.make_mutants(SOURCE, "window_max")
    changes = {(m.operator, m.after.strip()) for m in made}
    assert ("arithmetic", "for i in range(len(nums) + k + 1):") in changes
    assert ("int-constant", "for i in range(len(nums) - k + 2):") in changes
    assert ("function-swap", "best.append(min(nums[i:i + k]))") in changes
    assert ("off-by-one", "best.append(max(nums[i:i + k + 1]))") in changes
    assert ("keyword-dropped", "return torch.tensor(best)") in changes
    assert any(m.operator == "statement-deleted" and m.after.strip() == "pass" for m in made)
    for mutant in made:
        assert mutant.source.startswith('"""A module."""') and "return x + 1" in mutant.source
        assert "The docstring is never mutated." in mutant.source
        assert mutant.source != SOURCE and compile(mutant.source, "mutant", "exec")
    assert len({m.source for m in made}) == len(made)  # no two alike
    assert [m.index for m in made] == list(range(len(made)))
    again = mutants.make_mutants(SOURCE, "window_max")
    assert [m.source for m in again] == [m.source for m in made]  # the same every run


def test_a_capped_run_shares_its_mutants_out_over_the_operators(mutants):
    made = mutants.make_mutants(SOURCE, "window_max")
    operators = {m.operator for m in made}
    chosen = mutants.spread(made, len(operators))
    assert {m.operator for m in chosen} == operators
    assert mutants.spread(made, len(made) + 5) == made
