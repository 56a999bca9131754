"""Helpers for writing checkers in `solutions/`.

A checker calls a learner's function on many inputs and raises `AssertionError` with a message
that teaches: which input failed, what was expected, what came back. These helpers produce such
messages, so every checker reads the same way:

    from studycli.assertions import assert_close, describe

    def check_softmax(impl, device="cpu"):
        x = torch.randn(3, 5, device=device)
        assert_close(impl(x), x.softmax(-1), f"softmax({describe(x)})")

This module is only imported by solution modules (inside an isolated check process), so it may
import numpy and torch lazily without slowing the CLI down.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn

RAISED = ": raised "  # between a call and the exception it raised, in `call`'s failures
# Before the message of an `assert` of the answer's own that failed (in `call`'s failures, and
# the runner's where a checker called the answer without `call`): the words after it are the
# learner's, never a checker's verdict, whatever they say ("expected 3, got 4").
ANSWERS_ASSERT = "an assert in the answer failed"


def fails_with(expected: str) -> Callable[[Callable], Callable]:
    """Declare, on a wrong answer, the failure the checker must give it: a substring of the
    checker's message (or of the status line, such as "did not finish").

    `studycli check` reports a wrong answer that was rejected for another reason, so that each
    listed mistake proves the rule it stands for:

        @fails_with("missing exp(m_old - m_new) rescale")
        def _wrong_no_rescale(x, block_size): ...
    """

    def mark(function: Callable) -> Callable:
        function.fails_with = expected  # type: ignore[attr-defined]
        return function

    return mark


def likely_mistake(
    got: Any,
    known: list[tuple[Any, str]],
    default: str,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    equal_nan: bool = False,
) -> str:
    """The hint of the first known mistake whose result `got` reproduces, else `default`.

    `known` lists (the value that mistake gives on these inputs, a hint naming it), so that a
    checker's message names the rule that was broken rather than only the numbers:

        hint = likely_mistake(got, [(x * 2, "doubled instead of squared")], "must be x ** 2")
        assert_close(got, x ** 2, what, hint=hint)
    """
    import torch

    try:
        value = torch.as_tensor(got).detach().cpu().double()
    except (TypeError, ValueError, RuntimeError):
        return default
    for wrong, hint in known:
        expected = torch.as_tensor(wrong).detach().cpu().double()
        if value.shape == expected.shape and torch.allclose(
            value, expected, rtol=rtol, atol=atol, equal_nan=equal_nan
        ):
            return hint
    return default


def describe(value: Any, limit: int = 8) -> str:
    """A short, readable rendering of a checker input for a failure message.

    Tensors and arrays show their shape and dtype, and their values when small; a tuple, list
    or dict of them, each so; other values use `repr`, cut to a readable length.
    """
    return _described(value, limit, 0)


def _described(value: Any, limit: int, depth: int) -> str:
    """`describe`, within a tuple or list `depth` deep."""
    if _is_array(value):
        return _describe_array(value, limit)
    if isinstance(value, (tuple, list)) and any(_is_array(item) for item in value):
        if depth >= ITEMS_DEPTH:  # (a list inside itself, or lists of lists of lists)
            return f"{type(value).__name__} of {len(value)} items"
        return _describe_items(value, limit, depth)
    if isinstance(value, Mapping) and any(_is_array(item) for item in value.values()):
        if depth >= ITEMS_DEPTH:
            return f"{type(value).__name__} of {len(value)} items"
        return _describe_mapping(value, limit, depth)
    try:
        text = repr(value)
    except ValueError as exc:  # an int past Python's limit for str() (4300 digits), or within
        if "integer string conversion" not in message_of(exc):
            raise
        if isinstance(value, int):
            return f"an int of {_digits(value):,} digits"
        return f"a {type(value).__name__} holding an int too long to print"
    return _cut(text, 120)


def _digits(number: int) -> int:
    """How many decimal digits `number` has, without writing it out: an answer's int past
    Python's limit for str() (4300 digits: a factorial, a power) made its failure's message
    raise ValueError, and the check ended in that error."""
    size = abs(number)
    digits = int(math.log10(size)) + 1  # (log10 of 10**k may round to either side of k)
    if size >= 10**digits:
        digits += 1
    elif size < 10 ** (digits - 1):
        digits -= 1
    return digits


def _describe_array(value: Any, limit: int) -> str:
    """A tensor or array: its values when at most `limit`, else its shape; and its dtype."""
    shape = value.shape
    shape_text = "(" + ", ".join(str(int(s)) for s in shape) + ")"
    kind = "tensor" if type(value).__module__.startswith("torch") else "array"
    dtype = str(value.dtype).replace("torch.", "")
    numel = math.prod(int(s) for s in shape)
    if 0 < numel <= limit:
        values = value.detach().cpu().tolist() if kind == "tensor" else value.tolist()
        if dtype in ("float32", "float16", "bfloat16"):  # 0.9, not 0.8999999761581421
            values = _shortest(values)
        return f"{kind}({values}, dtype={dtype})"
    return f"{kind} of shape {shape_text}, dtype={dtype}"


def _is_array(value: Any) -> bool:
    return getattr(value, "shape", None) is not None and hasattr(value, "dtype")


ITEMS_SHOWN = 4  # of a tuple or list of tensors, in a failure message
ITEMS_DEPTH = 2  # tuples or lists of tensors described within one another, at most
KEY_SHOWN = 40  # characters of a dict's key, in a failure message


def _describe_items(value: tuple | list, limit: int, depth: int) -> str:
    """A tuple or list holding tensors or arrays, each described as above: its `repr` printed
    every value of every tensor (torch's printing is slow, and copies a GPU's tensor back:
    a second of a CUDA run's checks went to it) and was then cut at 120 characters."""
    shown = [_described(item, limit, depth + 1) for item in value[:ITEMS_SHOWN]]
    if len(value) > ITEMS_SHOWN:
        shown.append(f"... {len(value) - ITEMS_SHOWN} more")
    text = ", ".join(shown)
    if isinstance(value, list):
        return f"[{text}]"
    name = "" if type(value) is tuple else type(value).__name__  # a named tuple's name
    return f"{name}({text}{',' if len(value) == 1 and not name else ''})"


def _describe_mapping(value: Mapping, limit: int, depth: int) -> str:
    """A dict (or another mapping: Hugging Face's BatchEncoding) holding tensors or arrays, a
    batch as collators return one, each value described as above: its `repr` printed every
    value of every tensor, on many lines."""
    shown = [
        f"{_cut(repr(key), KEY_SHOWN)}: {_described(item, limit, depth + 1)}"
        for key, item in itertools.islice(value.items(), ITEMS_SHOWN)
    ]
    if len(value) > ITEMS_SHOWN:
        shown.append(f"... {len(value) - ITEMS_SHOWN} more")
    text = "{" + ", ".join(shown) + "}"
    return text if type(value) is dict else f"{type(value).__name__}({text})"


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 3] + "..."


def _shortest(values: Any) -> Any:
    """Each float of a (nested) list as the shortest decimal that is the same float32."""
    import numpy as np

    if isinstance(values, list):
        return [_shortest(item) for item in values]
    return float(str(np.float32(values))) if isinstance(values, float) else values


def _as_numpy(value: Any):
    import numpy as np

    if type(value).__module__.startswith("torch"):
        value = value.detach().cpu()
        if str(value.dtype) in ("torch.bfloat16", "torch.float16"):
            value = value.float()
        return value.numpy()
    return np.asarray(value)


def _numbers(value: Any, what: str, hint: str):
    """The answer's `value` as a numpy array, or a failure that says why it does not read as
    numbers (a sparse, meta or nested tensor; an object whose conversion raises)."""
    if type(value).__module__.startswith("torch"):
        layout = str(getattr(value, "layout", "torch.strided"))
        if getattr(value, "is_nested", False):
            _fail(what, "returned a nested tensor, expected a dense tensor", hint)
        if layout != "torch.strided":
            _fail(what, f"returned a tensor of layout {layout}, expected a dense tensor", hint)
        if getattr(value, "is_meta", False):
            _fail(what, "returned a tensor on the meta device, which holds no values", hint)
    try:
        return _as_numpy(value)
    except Exception as exc:
        _fail(
            what,
            f"returned a {type(value).__name__} that does not read as numbers "
            f"({type(exc).__name__}: {message_of(exc)})",
            hint,
        )


# How precise each dtype's numbers are: an answer less precise than the expected values is
# named in the failure (a float16 answer was told only which element was off, and the hint
# for another mistake)
_PRECISION = {"bool": 0, "float16": 2, "bfloat16": 2, "float32": 3, "float64": 4}
_PRECISION.update((f"{sign}int{bits}", 1) for sign in ("", "u") for bits in (8, 16, 32, 64))


def dtype_name(value: Any) -> str | None:
    """The dtype of `value` (a tensor or an array) as its failure messages name it, "float32"
    (not "torch.float32"); None for a value without one."""
    dtype = getattr(value, "dtype", None)
    return None if dtype is None else str(dtype).removeprefix("torch.")


def _less_precise(actual: Any, expected: Any) -> str:
    """ " (it returned float16 values, where float32 ones are expected)" where the answer's
    dtype holds its numbers less precisely than the expected values' floating point, and less
    precisely than float32; else "". (A float32 answer against float64 expected values is not
    named: checkers compute what they expect in float64 from float32 inputs, and every float32
    answer's failure said it should have been float64, whatever its mistake.)"""
    got, want = dtype_name(actual) or "", dtype_name(expected) or ""
    wanted = min(_PRECISION.get(want, 0), _PRECISION["float32"])
    if wanted < 2 or _PRECISION.get(got, wanted) >= wanted:
        return ""
    return f" (it returned {got} values, where {want} ones are expected)"


def assert_close(
    actual: Any,
    expected: Any,
    what: str,
    *,
    atol: float = 1e-5,
    rtol: float = 1e-5,
    hint: str = "",
) -> None:
    """Assert that `actual` matches `expected` elementwise within tolerances.

    Args:
        actual: what the learner's function returned (tensor, array, number or list).
        expected: the ground truth.
        what: the call that produced `actual`, e.g. ``"online_softmax(x of shape (2, 9), 4)"``.
        atol, rtol: absolute and relative tolerance, as in `numpy.isclose`.
        hint: a likely cause, shown after the numbers.

    Raises:
        AssertionError: naming `what`, the shapes or the worst element, expected vs actual.
    """
    import numpy as np

    if actual is None:
        _fail(what, "returned None (a missing `return`?)", hint)
    got = _numbers(actual, what, hint)
    want = _as_numpy(expected)
    if got.shape != want.shape:
        _fail(what, f"returned shape {tuple(got.shape)}, expected shape {tuple(want.shape)}", hint)
    if got.dtype.kind == "c" and want.dtype.kind != "c":  # (float64 would drop the imaginary)
        _fail(what, f"returned complex numbers ({dtype_name(actual)}), expected real ones", hint)
    if got.size == 0:
        return
    precision = _less_precise(actual, expected)
    numbers = np.complex128 if want.dtype.kind == "c" else np.float64
    try:
        got = got.astype(numbers)
    except (TypeError, ValueError):
        _fail(what, f"returned values of type {got.dtype}, expected numbers", hint)
    want = want.astype(numbers)
    nan_mismatch = np.isnan(got) != np.isnan(want)
    if nan_mismatch.any():
        index = tuple(int(i) for i in np.argwhere(nan_mismatch)[0])
        where = f"at index {index}: " if got.ndim else ""  # (a 0-d value has no index)
        _fail(
            what,
            f"{where}expected {float(want[index]):.6g}, got {float(got[index]):.6g}" + precision,
            hint,
        )
    close = np.isclose(got, want, atol=atol, rtol=rtol, equal_nan=True)
    if not close.all():
        with np.errstate(invalid="ignore"):  # inf - inf: a NaN, which counts as the worst
            error = np.where(close, 0.0, np.abs(np.nan_to_num(got - want, nan=np.inf)))
        index = tuple(int(i) for i in np.unravel_index(int(np.argmax(error)), error.shape))
        where = f"at index {index}: " if got.ndim else ""
        count = int((~close).sum())
        digits = 6 if f"{want[index]:.6g}" != f"{got[index]:.6g}" else 17  # (3.92 and 3.92)
        _fail(
            what,
            f"{where}expected {want[index]:.{digits}g}, got {got[index]:.{digits}g} "
            f"({count} of {close.size} values off; atol={atol:g}, rtol={rtol:g})" + precision,
            hint,
        )


def assert_equal(actual: Any, expected: Any, what: str, *, hint: str = "") -> None:
    """Assert exact equality (ints, lists, tuples, dicts, integer tensors or arrays)."""
    shape = getattr(expected, "shape", None)
    if shape is not None:
        got, want = _numbers(actual, what, hint), _as_numpy(expected)
        if got.shape != want.shape:
            _fail(
                what, f"returned shape {tuple(got.shape)}, expected shape {tuple(want.shape)}", hint
            )
        diff = got != want
        if diff.any():
            import numpy as np

            index = tuple(int(i) for i in np.argwhere(diff)[0])
            _fail(
                what,
                f"at index {index}: expected {_item(want[index])!r}, got {_item(got[index])!r}",
                hint,
            )
        return
    try:
        differs = bool(actual != expected)
    except (ValueError, RuntimeError):  # an array or a tensor, compared elementwise: its truth
        differs = True  # was ambiguous, and the check ended in that error, naming no call
    if differs:
        _fail(what, f"expected {describe(expected, 32)}, got {describe(actual, 32)}", hint)


def expect(condition: bool, what: str, message: str, *, hint: str = "") -> None:
    """Assert a property (a shape, an invariant, a complexity bound) with a teaching message."""
    if not condition:
        _fail(what, message, hint)


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


def call(impl: Callable, what: str, *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function, turning an exception it raises into a named failure.

    `NotImplementedError` (the starter) and any other exception become an `AssertionError`
    naming the call, so the learner sees which input broke their code.
    """
    try:
        return impl(*args, **kwargs)
    except OutOfTime as exc:  # the innermost call names the input it was stuck on
        exc.what = exc.what or what
        raise
    except CheckFailure:
        raise
    except AssertionError as exc:  # the learner's own `assert`: which input tripped it
        said = answers_message(exc)
        said = f": {said}" if said else ""
        raise CheckFailure(f"{what}: {ANSWERS_ASSERT}{said}") from exc
    except NotImplementedError:
        raise CheckFailure(
            f"{what}: not implemented yet (the starter raises NotImplementedError)"
        ) from None
    except Exception as exc:
        raise CheckFailure(f"{what}{RAISED}{type(exc).__name__}: {answers_message(exc)}") from exc


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


def message_of(exc: BaseException) -> str:
    """`str(exc)`, or a note where the answer's exception cannot say it (its __str__ raises:
    a check died without a report, and looked like a call to os._exit)."""
    try:
        return str(exc)
    except Exception:
        return f"{type(exc).__name__} (its message could not be read)"


def answers_message(exc: BaseException) -> str:
    """`message_of` an exception the answer raised, cut at MESSAGE_SHOWN characters or
    MESSAGE_LINES lines, saying how much more it had: an attempt's 10 MB message filled the failure panel with 263 lines
    of it (the 20,000 characters a report keeps, cut with nothing said), the call and the
    traceback scrolled out of sight; 2000 line feeds made 2000 lines (so: MESSAGE_LINES)."""
    said = message_of(exc)
    lines = said[:MESSAGE_SHOWN].split("\n")
    kept = "\n".join(lines[:MESSAGE_LINES])
    if len(kept) == len(said):
        return said
    return f"{kept} … {len(said) - len(kept):,} more characters not shown"


MESSAGE_SHOWN = 2000  # characters of an answer's exception's message kept (output: 2000 bytes)
MESSAGE_LINES = 40  # its lines kept


@contextmanager
def hinted(hint: str, when: str = "") -> Iterator[None]:
    """Add `hint` to a failure in the block (what `call` or `expect` raised), on its own line;
    with `when`, only to a failure whose message holds it (an OverflowError, say).

        with hinted("n! overflows a float beyond n = 170: use math.comb", when="OverflowError"):
            got = call(impl, what, n, k)
    """
    try:
        yield
    except AssertionError as exc:
        said = message_of(exc)
        if not hint or when not in said:
            raise
        raise CheckFailure(f"{said}\n  hint: {hint}") from None


class TorchWatch:
    """What `watch_torch` saw: the largest tensor made (in elements) and the functions called."""

    def __init__(self) -> None:
        self.numel = 0
        self.called: set[str] = set()


@contextmanager
def watch_torch() -> Iterator[TorchWatch]:
    """Watch every torch operation in the block: record the largest tensor any of them returns
    and the names of the functions called.

    A card that forbids a quadratic intermediate (FlashAttention's Lq x Lk score matrix) can
    then check the learner's code on a modest input, on any device, in milliseconds:

        with watch_torch() as seen:
            out = impl(q, k, v)
        expect(seen.numel < n_q * n_k // 8, what, f"built a tensor of {seen.numel} elements")
    """
    with _watch(sizes=True) as record:
        yield record


@contextmanager
def _watch(*, sizes: bool) -> Iterator[TorchWatch]:
    """`watch_torch`; without `sizes` only the names are recorded. The mode runs for every
    operation of the learner's code, so it does as little as it can (a check of a loop over
    single rows calls it hundreds of thousands of times)."""
    import torch
    from torch.overrides import TorchFunctionMode

    record = TorchWatch()
    called = record.called
    tensor = torch.Tensor

    def visit(value: Any) -> None:
        if isinstance(value, tensor):
            if (numel := value.numel()) > record.numel:
                record.numel = numel
        elif isinstance(value, (tuple, list)):
            for item in value:
                visit(item)

    class _Watch(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            try:
                called.add(func.__name__)
            except AttributeError:
                called.add(str(func))
            result = func(*args, **(kwargs or {}))
            if sizes:
                visit(result)
            return result

    with _Watch():
        yield record


def forbid(impl: Callable, *names: str, reason: str) -> Callable:
    """Wrap the learner's function so that calling a torch routine named in `names` fails.

    A card about how a routine works must not be answered by calling it (`F.pixel_shuffle` in
    the pixel-shuffle card). The wrapper raises AssertionError naming the routine and `reason`.
    A name covers its private and operator forms too (`torch.ops.aten._softmax.default`,
    `torch._softmax` for "softmax").
    """

    def guarded(*args: Any, **kwargs: Any) -> Any:
        with _watch(sizes=False) as seen:
            result = impl(*args, **kwargs)
        used = sorted(name for name in seen.called if bare_name(name) in names)
        if used:
            raise CheckFailure(f"the answer calls {', '.join(used)}: {reason}")
        return result

    guarded.__name__ = getattr(impl, "__name__", "impl")
    return guarded


def bare_name(name: str) -> str:
    """A torch routine's name without its private underscores or its operator overload:
    "_softmax.default" -> "softmax"."""
    return name.partition(".")[0].lstrip("_")


@contextmanager
def gpu_memory_budget(device: Any, limit_mb: float, what: str, *, hint: str = "") -> Iterator[None]:
    """Assert that the code in the block allocates at most `limit_mb` of GPU memory at its peak.

    A card that forbids a quadratic intermediate (an L x L attention matrix) makes L so large
    that the matrix cannot be allocated. On the CPU the check runner's memory cap enforces that;
    a large GPU may hold the matrix after all, so on CUDA the peak is measured instead. On other
    devices the block runs unmeasured.
    """
    import torch

    if torch.device(device).type != "cuda":
        yield
        return
    torch.cuda.synchronize(device)
    before = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    yield
    torch.cuda.synchronize(device)
    peak_mb = (torch.cuda.max_memory_allocated(device) - before) / 2**20
    expect(
        peak_mb <= limit_mb,
        what,
        f"allocated {peak_mb:,.0f} MB of GPU memory at its peak; the budget is {limit_mb:,.0f} MB",
        hint=hint,
    )


def _item(value: Any) -> Any:
    """A numpy scalar as the plain Python value it holds (np.int64(3) -> 3)."""
    return value.item() if hasattr(value, "item") else value


class OverBudget(BaseException):
    """Stops an answer past its comparison budget (see `counting_ints`): a BaseException, so
    that neither `call` nor an `except Exception` in the answer takes it for the answer's own
    error."""


def counting_ints(values: Any, budget: int) -> list[int]:
    """`values` as ints that count the order comparisons (<, <=, >, >=) made on them, also after
    a negation (a heap of -x). The comparison past `budget` raises `OverBudget`, so an answer
    that compares too much is stopped as soon as that is known: exact where timing cannot tell
    a log factor from a busy machine, and immediate where an O(n^2) answer would run on."""
    made = 0

    def counting(name: str) -> Callable[[int, Any], Any]:
        compare = getattr(int, name)

        def method(self: int, other: Any) -> Any:
            nonlocal made
            made += 1
            if made > budget:
                raise OverBudget
            return compare(self, other)

        return method

    methods: dict[str, Any] = {
        name: counting(name) for name in ("__lt__", "__le__", "__gt__", "__ge__")
    }
    methods["__neg__"] = lambda self: counted(int.__neg__(self))
    methods["spent"] = staticmethod(lambda: made > budget)  # (see `over_budget`)
    counted: type[int] = type("CountedInt", (int,), methods)
    return [counted(value) for value in values]


def over_budget(values: list[int]) -> bool:
    """Whether the comparisons made on `values` (from `counting_ints`) went past its budget.
    A checker asks once the answer has returned: one that catches everything (a bare
    `except:` around a comparison) swallowed the `OverBudget` and returned as if within it,
    and an O(n^2) answer passed the count."""
    return bool(values) and type(values[0]).spent()  # type: ignore[attr-defined]


PAST_INT64 = 2**64
"""Where `counting_ints` values start for numpy's comparisons to be counted too: np.asarray
makes int64 of smaller ints, whose comparisons in C no one sees (numpy's max of every window,
O(n k), passed for O(n)), but keeps larger ones as the Python ints they are (dtype object).
Ask for such values in a case of their own first, with PAST_INT64_HINT: an answer that casts
them to int64 raises OverflowError, one that makes floats of them gets them rounded."""

PAST_INT64_HINT = (
    "nums holds Python ints, here beyond 64 bits: numpy's int64 cannot hold them and a float "
    "rounds them; compare the ints themselves"
)


class OutOfTime(BaseException):
    """Raised in a check that nears its time limit (a timer of its own, see `child._child`),
    so that its report names the call it was in, and the learner's line, where a kill at the
    limit said only that it did not finish. A BaseException: an answer's `except Exception`
    does not swallow it."""

    def __init__(self) -> None:
        super().__init__()
        self.what: str | None = None


class CheckFailure(AssertionError):
    """A checker's verdict on the answer (what `_fail`, `call` and `forbid` raise), where a
    plain AssertionError out of the learner's function is an `assert` of its own."""


def _fail(what: str, message: str, hint: str) -> NoReturn:
    text = f"{what}: {message}"
    if hint:
        text += f"\n  hint: {hint}"
    raise CheckFailure(text)
