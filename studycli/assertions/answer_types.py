"""The answer's value as the type its card promises (a torch tensor, a pair, a float, an int, a
list of ints), else a failure saying what came back: `expect_tensor`, `expect_pair`,
`as_number`, `tensor_or_float`, `as_int`, `plain_ints`, and the hints they give."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .comparisons import expect
from .described import _is_array, describe
from .failures import _fail

TENSOR_HINT = (
    "compute it with torch operations, or convert the result (torch.from_numpy(a) for a numpy "
    "array, torch.tensor(values) for a list)"
)

# For a loss or another value its card wants differentiable: TENSOR_HINT's conversions make a
# tensor of the right numbers that carries no gradient, and the check then failed on that
GRAPH_HINT = (
    "keep the computation in torch and return the tensor it gives: numpy, .item(), .tolist() "
    "and float() cut the autograd graph, and torch.tensor(...) of their numbers carries no "
    "gradient"
)


def expect_tensor(value: Any, what: str, *, hint: str = TENSOR_HINT) -> None:
    """Fail unless the answer's `value` is the torch tensor its card asks for: assert_close and
    assert_equal compare values alone, so a numpy array or a list of the right numbers passed
    them ("returned a numpy array of shape (3, 4), dtype=float64, expected a torch tensor")."""
    import torch

    if not isinstance(value, torch.Tensor):
        _fail(what, f"returned {_named(value)}, expected a torch tensor", hint)


def _named(value: Any) -> str:
    """`describe(value)`, saying "a numpy array" of a numpy array: `describe` says "array" of
    numpy's and a tensor's alike ("array([0, 1], dtype=int64)"), which did not tell the
    learner that the tensor they were asked for came back as numpy."""
    shown = describe(value)
    return f"a numpy {shown}" if type(value).__module__ == "numpy" else shown


def expect_pair(
    got: Any,
    names: tuple[str, str],
    what: str,
    dtype: Any = None,
    why: str = "",
    *,
    tensors: bool = False,
):
    """The answer's `got` as the pair it was to return, named by `names` in the failure
    ("expected a pair (m_new, s_new)"); with `tensors` or `dtype`, each of the two a torch
    tensor, else a failure naming it and what it was, with TENSOR_HINT ("returned var as a
    numpy array([0.5], dtype=float64), expected a torch tensor": a numpy member was said to be
    "array(...)", and with `dtype` the failure was `why`, "in the inputs' dtype", of a member
    whose dtype was right); with `dtype`, each of that dtype, else "returned s_new as ...",
    then `why`."""
    expect(
        isinstance(got, (tuple, list)) and len(got) == 2,
        what,
        f"returned {describe(got)}, expected a pair ({', '.join(names)})",
    )
    if dtype is not None or tensors:
        import torch

        for name, value in zip(names, got, strict=True):
            expect(
                isinstance(value, torch.Tensor),
                what,
                f"returned {name} as {_named(value)}, expected a torch tensor",
                hint=TENSOR_HINT,
            )
            expect(
                dtype is None or value.dtype == dtype,
                what,
                f"returned {name} as {describe(value)}{why}",
            )
    return got


def as_number(value: Any, what: str, *, hint: str = "") -> float:
    """The answer's `value` as a float (a Python or numpy number, a one-element tensor), else
    a failure saying what came back: `float()` of None (a missing `return`), of a tuple or of a
    tensor of many values raised in the checker, and the check ended in an error such as
    "TypeError: float() argument must be ... not 'NoneType'"."""
    too_large = False
    try:
        return float(value)
    except OverflowError:  # an int past a float's range
        too_large = True
    except (TypeError, ValueError, RuntimeError):
        pass  # (failed below, not within: the float() error is no part of the report)
    if too_large:
        _fail(what, f"returned {describe(value)}, too large for a float", hint)
    missing = " (a missing `return`?)" if value is None else ""
    _fail(what, f"returned {describe(value)}{missing}, expected a number", hint)


TENSOR_OR_FLOAT = "expected a 0-d tensor or a float"
NUMPY_FLOAT_HINT = (
    "return the torch tensor itself (no .numpy()), or a Python float (float(...) of a numpy number)"
)


def tensor_or_float(value: Any, what: str, *, hint: str = "") -> float:
    """The answer's `value` as a float where its card promises "a 0-d tensor or a float",
    else a failure saying what came back: as `as_number`, which also took numpy's arrays (a
    0-d one, which `.numpy()` of a 0-d tensor gives: "returned a numpy array(3.5,
    dtype=float64), expected a 0-d tensor or a float") and its other numbers ("returned
    np.float32(3.5), a numpy number, ..."), both with NUMPY_FLOAT_HINT. np.float64 is taken:
    it is a Python float (a subclass of it, to isinstance, arithmetic and json alike), the
    same double, which the card's "a float" allows."""
    import numpy as np

    if isinstance(value, np.ndarray):
        _fail(what, f"returned {_named(value)}, {TENSOR_OR_FLOAT}", NUMPY_FLOAT_HINT)
    if isinstance(value, np.generic) and not isinstance(value, float):
        shown = f"np.{type(value).__name__}({value})"
        _fail(what, f"returned {shown}, a numpy number, {TENSOR_OR_FLOAT}", NUMPY_FLOAT_HINT)
    return as_number(value, what, hint=hint)


ITEM_HINT = "a 0-d tensor's Python number is its .item()"
NUMPY_INT_HINT = "int(...) of a numpy integer is the Python int"


def as_int(value: Any, what: str, *, hint: str = "") -> int:
    """The answer's `value` as the Python int its card promises (`-> int`), else a failure
    saying what came back, with `hint`: a check that took whatever has `__index__` passed a
    0-d tensor, which an answer computed with torch operations returns where it leaves out
    .item() ("returned tensor(112, dtype=int64), expected an int", with ITEM_HINT instead),
    and numpy's integers (np.int64 of np.cumprod or np.floor_divide: "returned np.int64(112),
    a numpy integer, expected a Python int", with NUMPY_INT_HINT), which wrap around where a
    Python int grows and are no int to isinstance or json."""
    import numpy as np

    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, np.integer):
        shown = f"np.{type(value).__name__}({int(value)})"  # (numpy 1 would repr it as 112)
        _fail(what, f"returned {shown}, a numpy integer, expected a Python int", NUMPY_INT_HINT)
    if type(value).__module__.startswith("torch"):
        _fail(what, f"returned {describe(value)}, expected an int", ITEM_HINT)
    kind = "" if _is_array(value) else f" of type {type(value).__name__}"
    _fail(what, f"returned {describe(value)}{kind}, expected an int", hint)


ITEMS_HINT = "a 0-d tensor's Python int is its .item(), and a tensor's list of ints its .tolist()"


# What `plain_ints` refuses though it iterates: each kind, with how it would have been read
NOT_LISTS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (Mapping, "a dict is read as its keys alone"),
    ((set, frozenset), "a set's order is arbitrary"),
    (str, "a str is read as its characters"),
    ((bytes, bytearray), "bytes are read as their byte values"),
)


def plain_ints(values: Any, what: str, *, hint: str = "") -> list[int]:
    """The answer's items as plain ints (`operator.index`: numpy's integers read too), to
    compare as numbers: an int subclass whose == always said yes passed a comparison of the
    answer itself. Items that are no integers fail the check, named by type; so do 0-d
    tensors and arrays, as in `as_int` (their __index__ passed a list of them, which a loop
    over a tensor without .tolist() builds), with ITEMS_HINT instead of `hint`. So does a
    value whose iteration is no list the answer wrote (`NOT_LISTS`), said by its type: a dict
    passed as its keys, a set in an arbitrary order, a str as its characters, bytes as ints."""
    import operator

    import numpy as np

    for refused, reading in NOT_LISTS:
        if isinstance(values, refused):
            shown, name = describe(values), type(values).__name__
            shown = shown if shown.startswith(name) else f"{name} {shown}"  # (frozenset({2}))
            _fail(what, f"returned a {shown}, expected a list of ints ({reading})", hint)
    try:
        items = list(values)  # (read once: a generator has no second pass)
    except TypeError:  # (None, an int: the checker's own error named no answer's mistake)
        _fail(what, f"returned {describe(values)}, expected a list of ints", hint)
        raise  # (_fail raised already)
    for value in items:
        if type(value).__module__.startswith("torch") or isinstance(value, np.ndarray):
            _fail(what, f"returned items such as {describe(value)}, expected ints", ITEMS_HINT)
    try:
        return [operator.index(value) for value in items]
    except TypeError:
        kinds = ", ".join(sorted({type(value).__name__ for value in items}))
        _fail(what, f"returned items of type {kinds}, expected ints", hint)
        raise  # (_fail raised already)
