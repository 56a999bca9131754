"""`forbid` reads the answer's own code for the ways around its torch function mode: what the
answer reaches in its module counts, the checker beside it does not."""

from __future__ import annotations

import functools

import pytest
import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from studycli.assertions import CheckFailure, assert_close, call, forbid

STEPS_AROUND = "the answer steps around the check's watch of its torch calls"


class _SoftmaxOnExp(torch.Tensor):
    """The answer's helper: its exp is a softmax, run where the check's mode stepped aside."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func is torch.exp:
            return torch.softmax(args[0].plain, dim=-1)
        return super().__torch_function__(func, types, args, kwargs or {})


def _exp_of(x):
    wrapped = x.as_subclass(_SoftmaxOnExp)
    wrapped.plain = x
    return torch.exp(wrapped)


def _answer_through_a_subclass(x):
    return _exp_of(x)  # (the class is two steps away: a helper of the module names it)


class _CheckersWatch(TorchFunctionMode):
    """The checker's own mode, in the module beside the answers, which never name it."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


def _checker(impl, x):
    with _CheckersWatch():
        return impl(x)


def _plain_answer(x):
    e = torch.exp(x - x.max())
    return e / e.sum()


class _PassingMode(TorchDispatchMode):
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


_MODE = _PassingMode()  # (made as the module loads: the answer names the instance alone)


def _answer_under_a_mode_made_at_load(x):
    with _MODE:
        return _plain_answer(x)


def _answer_by_a_string(x):
    with getattr(torch._C, "DisableTorchFunction")():  # noqa: B009 (the name as a string)
        return torch.softmax(x, dim=-1)


class _Answer:
    """An answer that is a callable object: its class is read."""

    def __call__(self, x):
        with torch.overrides._pop_mode_temporarily():
            return torch.softmax(x, dim=-1)


def test_a_helper_class_the_answer_reaches_is_found_and_fails_at_the_call():
    """The subclass's softmax is not seen by the mode (the answer passed before the walk)."""
    guarded = forbid(_answer_through_a_subclass, "softmax", reason="write the softmax yourself")
    with pytest.raises(CheckFailure, match=r"\(__torch_function__\).*: write the softmax yourself"):
        call(guarded, "f(x)", torch.zeros(2))


def test_a_checkers_mode_in_the_answers_module_is_not_read():
    """_CheckersWatch defines __torch_function__ beside the answer, which never reaches it."""
    guarded = forbid(_plain_answer, "softmax", reason="-")
    assert_close(_checker(guarded, torch.zeros(2)), [0.5, 0.5], "f")


@pytest.mark.parametrize(
    ("answer", "found"),
    [
        (_answer_under_a_mode_made_at_load, "TorchDispatchMode, __torch_dispatch__"),
        (_answer_by_a_string, "DisableTorchFunction"),
        (functools.wraps(_answer_by_a_string)(lambda x: _answer_by_a_string(x)), "Disable"),
        (functools.cache(_answer_by_a_string), "DisableTorchFunction"),
        (_Answer(), "_pop_mode_temporarily"),
    ],
)
def test_a_mode_made_at_load_a_name_in_a_string_a_wrapped_answer_an_object_are_found(answer, found):
    with pytest.raises(CheckFailure, match=f"{STEPS_AROUND} \\({found}"):
        forbid(answer, "softmax", reason="-")(torch.zeros(2))


def test_a_forbidden_routine_the_answer_calls_is_named_first():
    """A call the mode saw says more than the way around it the code names."""

    def answer(x):
        with torch.overrides._pop_mode_temporarily():
            pass
        return torch.softmax(x, dim=-1)

    with pytest.raises(CheckFailure, match="the answer calls softmax: no"):
        forbid(answer, "softmax", reason="no")(torch.zeros(2))
