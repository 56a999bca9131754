"""The answer's values against the expected ones: `assert_close`, `assert_equal`, `expect`,
`likely_mistake` (the known mistake a wrong value reproduces), `dtype_name`."""

from __future__ import annotations

from typing import Any

from .described import _item, describe
from .failures import _fail, message_of


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
