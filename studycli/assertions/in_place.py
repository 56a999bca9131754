"""`call_unchanged`: `call`, failing where the answer wrote into its inputs, with what changed."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from .calls import call
from .comparisons import _as_numpy
from .described import _cut, _is_array, _item, describe
from .failures import _fail


def call_unchanged(
    impl: Callable, what: str, names: tuple[str, ...], *args: Any, hint: str = "", **kwargs: Any
) -> Any:
    """`call`, failing if the answer wrote into one of its leading arguments, named `names`
    (tensors, arrays or lists): the caller's inputs must come back as they went in, and an
    answer that changes them in place would otherwise move the target a checker computes from
    them after."""
    if not (isinstance(names, tuple) and all(isinstance(name, str) for name in names)):
        # the checker's own slip (the inputs passed where their names go): said as such, not
        # as the reference's failure to take its arguments
        raise TypeError(
            "call_unchanged(impl, what, names, *args): `names` is a tuple of the names of the "
            f"arguments to keep unchanged, such as ('x',), before the arguments; got {names!r}"
        )
    kept = [_snapshot(arg) for arg in args[: len(names)]]
    result = call(impl, what, *args, **kwargs)
    for name, arg, before in zip(names, args, kept, strict=False):
        if not _unchanged(arg, before):
            _fail(
                what,
                f"modified its input {name} in place{_change(arg, before)}",
                hint or IN_PLACE_HINT.format(name=name),
            )
    return result


IN_PLACE_HINT = (
    "return new values and leave {name} as it came: an in-place operation (a method ending in "
    "_ such as .add_(), {name}[...] = ..., {name} += ...) writes into the caller's {name}"
)


def _change(value: Any, before: Any) -> str:
    """ " (3 of 10 values changed; at index (1,) it was -2, now 2)", or the change of shape."""
    import numpy as np

    if isinstance(before, list):
        return _list_change(value, before)
    value, before = _as_numpy(value), _as_numpy(before)
    if value.shape != before.shape:
        return f" (its shape went from {before.shape} to {value.shape})"
    changed = ~((value == before) | (_nan(value) & _nan(before)))
    if not changed.any():  # (a change of dtype alone)
        return ""
    index = tuple(int(i) for i in np.argwhere(changed)[0])
    where = f"at index {index} " if value.ndim else ""
    return (
        f" ({int(changed.sum())} of {changed.size} values changed; {where}it was "
        f"{_number(before[index])}, now {_number(value[index])})"
    )


def _number(value: Any) -> str:
    value = _item(value)
    number = isinstance(value, (int, float, complex)) and not isinstance(value, bool)
    return f"{value:.6g}" if number else _cut(repr(value), 40)


def _nan(values: Any) -> Any:
    import numpy as np

    return np.isnan(values) if values.dtype.kind in "fc" else np.zeros(values.shape, bool)


def _snapshot(value: Any) -> Any:
    if type(value).__module__.startswith("torch"):
        return value.clone()
    if type(value) in (list, tuple):  # (a list of lists: a shallow copy shares the inner ones)
        return type(value)(_snapshot(item) for item in value)
    if type(value).__module__.startswith("numpy"):
        return value.copy()
    if isinstance(value, _IMMUTABLE):
        return value
    # (not `copy.deepcopy` of the whole list: it refused a tensor computed with grad, "only
    # graph leaves support the deepcopy protocol", and took 1.6 s for a million floats)
    return copy.deepcopy(value)


_IMMUTABLE = (int, float, complex, str, bytes, bool, type(None))


def _unchanged(value: Any, before: Any) -> bool:
    import numpy as np

    if isinstance(before, list):
        return _same(value, before)
    value, before = _as_numpy(value), _as_numpy(before)
    return bool(np.array_equal(value, before, equal_nan=value.dtype.kind in "fc"))


def _same(value: Any, before: Any) -> bool:
    """Whether a list input, or an item of one, is as it was: compared as Python values (`==`,
    NaN equal to NaN, lists item by item), where numpy made an array of a list and raised its
    own ValueError at an item that changed shape (nums[0] = (v, i), an appended list), or
    turned every int into a str where the answer put one str among them."""
    if isinstance(before, (list, tuple)):  # (a tuple too: one of tensors has no bool ==)
        return (
            type(value) is type(before)
            and len(value) == len(before)
            and all(_same(item, was) for item, was in zip(value, before, strict=True))
        )
    if _is_array(before) or _is_array(value):
        return _is_array(before) and _is_array(value) and _unchanged(value, before)
    if _is_nan(value) and _is_nan(before):
        return True
    try:
        return bool(value == before)
    except Exception:  # (an == that raises, or answers with something that is no bool)
        return False


def _is_nan(value: Any) -> bool:
    import numbers

    return isinstance(value, numbers.Number) and value != value


def _list_change(value: list, before: list) -> str:
    """ " (1 of 3 values changed; at index 0 it was 4, now (4, 0))", or the change of length."""
    if len(value) != len(before):
        return f" (its length went from {len(before)} to {len(value)})"
    changed = [i for i, (item, was) in enumerate(zip(value, before)) if not _same(item, was)]
    if not changed:
        return ""
    first = changed[0]
    return (
        f" ({len(changed)} of {len(before)} values changed; at index {first} it was "
        f"{_item_shown(before[first])}, now {_item_shown(value[first])})"
    )


def _item_shown(item: Any) -> str:
    """A list's item in `_list_change`, as the answer wrote it (5.0, not 5; a tensor of
    several values described: it has no .item())."""
    return _cut(describe(item), 60)
