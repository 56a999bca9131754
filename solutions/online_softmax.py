"""Online softmax: one pass over blocks with a running max and a running sum.

Cards: online-softmax (coding), online-softmax-rescaling-derivation (derivation).
"""

import collections
import contextlib
import functools
import math
import re
from contextlib import contextmanager

import torch

from studycli.assertions import (
    SOFTMAXES,
    assert_close,
    bare_name,
    call,
    call_unchanged,
    describe,
    expect,
    expect_pair,
    fails_with,
    forbid,
    hinted,
)


def online_softmax(x, block_size: int):
    """Softmax over the last dimension, its
    normaliser gathered in one pass over blocks.

    Read the last dimension in blocks of `block_size` entries (the last
    block may be shorter), once, keeping only a running state per row;
    then write the output. Do not call softmax, log_softmax or logsumexp
    (or any other softmax routine).

    Args:
        x: tensor of shape (..., n), floating point. Entries may be large
            (thousands): the result must not overflow.
        block_size: number of entries per block, >= 1 (it need not divide
            n; it may exceed n).

    Returns:
        A new tensor of the shape and dtype of x whose last dimension sums
        to 1 (x is left unchanged).
    """
    # State per row: the running max m and s = sum of exp(x_j - m) over the entries read.
    # When a block raises the max to m_new, the old sum is multiplied by exp(m - m_new).
    n = x.shape[-1]
    m = torch.full(x.shape[:-1], float("-inf"), dtype=x.dtype, device=x.device)
    s = torch.zeros(x.shape[:-1], dtype=x.dtype, device=x.device)
    for start in range(0, n, block_size):
        block = x[..., start : start + block_size]
        m_new = torch.maximum(m, block.amax(dim=-1))
        s = s * torch.exp(m - m_new) + torch.exp(block - m_new.unsqueeze(-1)).sum(dim=-1)
        m = m_new
    return torch.exp(x - m.unsqueeze(-1)) / s.unsqueeze(-1)


def running_stats_update(m, s, x_block):
    """One step of the online softmax: fold a
    block into the running max and running sum.

    The state (m, s) summarises the entries seen so far: m is their
    maximum and s = sum over them of exp(x_j - m). The empty state is
    m = -inf, s = 0.

    Args:
        m: tensor of shape (...), the running maximum (may be -inf).
        s: tensor of shape (...), the running sum relative to m.
        x_block: tensor of shape (..., b), b >= 1, the next entries of
            each row.

    Returns:
        (m_new, s_new), each of shape (...): the same summary of the
        entries seen so far followed by the block (the maximum of all of
        them, and the sum of exp(x_j - m_new) over all of them), computed
        from (m, s) and the block alone, in their dtype.
    """
    m_new = torch.maximum(m, x_block.amax(dim=-1))
    s_new = s * torch.exp(m - m_new) + torch.exp(x_block - m_new.unsqueeze(-1)).sum(dim=-1)
    return m_new, s_new


# --- checker: online_softmax ------------------------------------------------------------------


GENERIC_HINT = (
    "rescale the running sum by exp(m_old - m_new) whenever the max grows, "
    "and include the last, shorter block"
)
LAST_BLOCK_HINT = "include the last, shorter block: n need not be a multiple of block_size"
FALLING_HINT = (
    "falling values need no rescaling (the first block holds the max): output exp(x - m) / s, "
    "with m the max and s the sum of exp(x_j - m) over every entry"
)
RESCALE_HINT = (
    "the max grows from block to block: multiply the running sum by exp(m_old - m_new) (<= 1) "
    "before adding the new block's terms"
)
OVERFLOW_HINT = "exp(1000) overflows: measure every exponent against the running max, exp(x - m)"
MAX_START_HINT = (
    "start the running max at -inf, the max of no entries, not at 0: with every entry near "
    "-1000 a max that starts at 0 never moves, exp(x - 0) underflows to 0 and the sum ends at "
    "0 (0 / 0 = nan)"
)
LOG_STATE_HINT = (
    "nothing overflowed, but digits were lost: keep the state as the running max m and the sum "
    "s = sum exp(x_j - m), then output exp(x - m) / s, or exp((x - m) - log s); a log-sum-exp "
    "(m + log s as one number, kept as the state or formed at the end for exp(x - (m + log s))) "
    "is rounded to float32's spacing near 1000 (6e-5), off by about 1e-5 relative"
)


IN_PLACE_HINT = (
    "return a new tensor (torch.exp(x - m), not x.sub_(m).exp_()): the caller's x must not change"
)


def _near_1000_hint(got):
    """Overflow shows as inf or nan; finite values off near 1000 lost digits in the state."""
    finite = isinstance(got, torch.Tensor) and bool(torch.isfinite(got).all())
    return LOG_STATE_HINT if finite else OVERFLOW_HINT


def _falling_hint(x, got):
    """A last block dropped shows as the softmax of the full blocks (the first 4 of 5 entries,
    in blocks of 2) on those entries; any other mistake gets the rule the case tests (the
    last-block hint was given for every failure here, a `return x` too)."""
    head = torch.softmax(x[..., :4].double(), dim=-1)
    dropped = (
        isinstance(got, torch.Tensor)
        and got.shape == x.shape
        and torch.allclose(got[..., :4].double(), head, atol=1e-6, rtol=1e-5)
    )
    return LAST_BLOCK_HINT if dropped else FALLING_HINT


def check_online_softmax(impl, device="cpu"):
    impl = forbid(
        impl,
        *SOFTMAXES,
        "logsumexp",
        "logcumsumexp",
        "special_logsumexp",
        "cross_entropy",  # (a log-softmax inside: logsumexp(x) - x[target], a row at once)
        "cross_entropy_loss",
        reason="the card is the online softmax itself: keep a running max and sum",
    )
    gen = torch.Generator().manual_seed(0)

    def run(x, block_size, what_extra="", hint=GENERIC_HINT):
        what = f"online_softmax({describe(x)}, block_size={block_size}){what_extra}"
        got = call_unchanged(impl, what, ("x",), x.clone(), block_size, hint=IN_PLACE_HINT)
        expect(
            isinstance(got, torch.Tensor), what, f"returned {type(got).__name__}, expected a tensor"
        )
        expect(
            got.dtype == x.dtype,
            what,
            f"returned {str(got.dtype)[6:]} for {str(x.dtype)[6:]} x: the softmax comes back in "
            "x's dtype (a kernel that upcasts moves twice the memory and hides float32's "
            "rounding, which the running max is there to keep in check)",
        )
        want = torch.softmax(x.double(), dim=-1)
        if callable(hint):
            hint = hint(got)
        assert_close(
            got,
            want,
            what,
            atol=1e-6,
            rtol=1e-5,
            hint=hint,
        )

    # One rule at a time. Falling values: the max is set by the first block and never
    # grows, so no rescaling is needed; 5 entries in blocks of 2 end with a short block.
    falling = torch.tensor([[5.0, 4.0, 3.0, 2.0, 1.0]], device=device)
    run(falling, 2, " [falling values]", hint=lambda got: _falling_hint(falling, got))
    # Rising values: the max grows at every block.
    rising = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0]], device=device)
    for block_size in (1, 2):
        run(rising, block_size, " [rising values]", hint=RESCALE_HINT)
    # Values in the thousands: exp(x) itself overflows.
    run(
        torch.tensor([[1000.0, 999.0, 1001.0]], device=device),
        2,
        " [values near 1000]",
        hint=_near_1000_hint,
    )
    # Values all far below 0: the softmax is as well defined as near +1000.
    run(
        torch.tensor([[-1000.0, -1001.0, -999.0]], device=device),
        2,
        " [values near -1000]",
        hint=lambda got: GENERIC_HINT if bool(torch.isfinite(got).all()) else MAX_START_HINT,
    )

    # A fixed example whose maximum grows block after block.
    x = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0], [5.0, 4.0, 3.0, 2.0, 1.0]], device=device)
    for block_size in (1, 2, 3, 5, 8):
        run(x, block_size)

    # Seeded random inputs over many shapes and block sizes (dividing n or not, 1, n, > n).
    for shape in [(1,), (7,), (3, 10), (2, 3, 17), (4, 64), (2, 257)]:
        base = torch.randn(*shape, generator=gen, dtype=torch.float32).to(device)
        n = shape[-1]
        for block_size in sorted({1, 3, 4, 16, n, n + 5}):
            run(base * 3.0, block_size)

    # Large values: exp(1000) overflows float32 and float64 alike.
    for shape, block_size in [((3, 11), 4), ((2, 40), 7), ((5,), 2)]:
        big = torch.randn(*shape, generator=gen).to(device) * 1000.0
        run(big, block_size, " [values in the thousands]")
    increasing = (torch.arange(12, dtype=torch.float32, device=device) * 100.0).reshape(1, 12)
    run(increasing, 5, " [increasing values up to 1100]")
    run(-increasing, 5, " [decreasing values down to -1100]")

    # float64 inputs are handled as well.
    x64 = torch.randn(3, 23, generator=gen, dtype=torch.float64).to(device) * 10.0
    run(x64, 6)

    _check_block_by_block(impl, gen, device)


# Reductions that gather many entries into one (the max and the sum of a softmax), counted by
# what each gathers: by name, without private underscores, operator overloads (`bare_name`)
# or a trailing underscore; a max picked by topk, a sum by a product with ones, a running one
# along the row. Any other routine that does not keep entries apart (`_keeps_entries`) counts
# as gathering along its operands' longest dim.
_REDUCTIONS = frozenset(
    {"sum", "nansum", "mean", "nanmean", "amax", "max", "amin", "min", "aminmax", "logsumexp"}
    | {"prod", "norm", "topk", "kthvalue", "median", "nanmedian", "mode", "quantile", "tensordot"}
    | {"argmax", "argmin"}  # (the max's place, read back by gather: the max itself)
    | {"linalg_vector_norm", "linalg_norm"}  # (of exp(x - m) with ord=1: its sum)
)
# Products whose every entry sums along the last dim of their first operand (by ones: a sum)
_PRODUCTS = frozenset({"matmul", "mm", "mv", "bmm", "dot", "inner", "vdot", "linear"})
_GATHERING = _REDUCTIONS | _PRODUCTS
# Whole-dimension routines (x, dim): a running reduction, or a sort (its last entry the max)
_ALONG = frozenset({"cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "sort", "argsort"})
# Sums spelled otherwise: torch.einsum("...j->...", e), F.normalize(e, p=1, dim=-1)
_SPELLED = frozenset({"einsum", "normalize"})
_COUNTED = _GATHERING | _ALONG | _SPELLED  # (counted by what each gathers, in `_gathered`)
# Copies of entries picked by index (x.index_select(-1, idx), x[..., idx]): blocks, as slices are
_PICKING = frozenset({"index_select", "__getitem__", "gather", "take_along_dim"})

TWO_PASS_HINT = (
    "a max over the whole row, then a sum of exp(x - max), is the two-pass softmax: right "
    "numbers, but not the online algorithm. Read x[..., start : start + block_size] in turn and "
    "fold each block into the running state: m_new = max(m, max(block)), "
    "s = s * exp(m - m_new) + sum(exp(block - m_new))"
)


# Conversions that take a tensor's value out of torch as numbers it can be computed on, where
# it can no longer be followed: a bool too (`if entry >= row max` picks the max's place), and
# DLPack's capsule (np.from_dlpack), which numpy reads with no numpy() call
_TO_NUMBERS = frozenset(
    {"item", "tolist", "numpy", "__float__", "__int__", "__index__", "__complex__", "__array__"}
    | {"__bool__", "__dlpack__"}
)
_SHARING = frozenset({"numpy", "__array__", "__dlpack__"})  # (their array shares the memory)


def _numbers_out(result):
    """Whether a torch call's result holds a tensor's values outside torch, whatever the call's
    name: text (repr, str, format: print(x) too, and a number parsed back from it), a float, a
    numpy array, the storage's bytes (pickle reads them by untyped_storage). Ints are left to
    the names of `_TO_NUMBERS`: sizes, strides and dims are ints read off a tensor's shape."""
    return (
        isinstance(
            result,
            (float, complex, str, bytes, bytearray, torch.UntypedStorage, torch.TypedStorage),
        )
        or type(result).__module__ == "numpy"
    )


def _leaves(value):
    """The numbers in a nested list (tolist's), or the value itself."""
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def _followed_as(name, result):
    """How what left torch by the call `name` is followed back (`_watched_reductions`):
    "many" values (a list, text) by the escape that last held a value that comes back;
    "numpy" as many, and by numbers numpy made that are none of those that left (exp(x -
    max) made in numpy), as every numpy read before them; "one" float (item(),
    float(entry)), where Python's max over many of them picks one of them, by every such
    escape before a value that comes back; "control": a
    bool (`if entry > top`), an int, a storage's bytes carry what they tell by the answer's
    control flow or by no value of an entry, and count wherever numbers come back into the
    pass."""
    if name in ("__bool__", "__int__", "__index__") or isinstance(
        result, (bytes, bytearray, torch.UntypedStorage, torch.TypedStorage)
    ):
        return "control"
    if any(isinstance(leaf, int) for leaf in _leaves(result)):
        return "control"
    if name in _SHARING or type(result).__module__ == "numpy":
        return "numpy"
    return "one" if isinstance(result, float) else "many"


_NUMBER_IN_TEXT = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _values_left(name, args, result):
    """The values that left torch by the call `name`, as floats: a tensor's entries read by
    numpy (numpy(), __array__, DLPack's capsule), the floats item(), tolist() and float()
    return, the numbers text (repr, str, format) shows, as float() would parse them back.
    Only those that may be an entry's value and not a literal a pass writes are kept: finite
    and not whole (float("-inf"), 0.0, 1.0 are never one of the check's randn * 3 entries)."""
    if name in _SHARING and args and isinstance(args[0], torch.Tensor):
        found = args[0].detach().cpu().reshape(-1).tolist()
    elif isinstance(result, str):
        found = [float(token) for token in _NUMBER_IN_TEXT.findall(result)]
    elif type(result).__module__ == "numpy":
        import numpy as np  # (only where numpy made the value)

        found = np.asarray(result).reshape(-1).tolist()
    else:
        found = list(_leaves(result))
    return {
        float(value)
        for value in found
        if isinstance(value, float) and math.isfinite(value) and not value.is_integer()
    }


class _Number(float):
    """A float that left torch by item() or tolist() in the watch (`_watched_reductions`), or
    one made from such floats by Python's arithmetic: it carries the escapes it was made of
    (`escapes`, their indices), so that where it goes back into a torch call of the pass, the
    entries it was read from are known. Python's max, min and sorted return the floats they
    were given, and sum adds them: a max over a row's tolist() keeps the whole row, and a
    comparison gives each side the other's escapes (`_comparing`: max over item() of each
    entry). float() of one, math's functions and numpy return plain floats: those are
    followed by their value (`_values_left`). Still a float, as the prompt's x.tolist()
    promises; printed as one."""

    escapes: frozenset = frozenset()


def _comparing(name):
    """float's comparison `name`, after which each operand carries the escapes of both: what
    max(), min() or sorted() pick has been compared with the others (a max over item() of
    each entry carries the row)."""
    method = getattr(float, name)

    def compared(self, other):
        if isinstance(other, _Number) and other.escapes != self.escapes:
            self.escapes = other.escapes = self.escapes | other.escapes
        return method(self, other)

    compared.__name__ = name
    return compared


def _number(value, escapes):
    number = _Number(value)
    number.escapes = escapes
    return number


def _carrying(name):
    """float's method `name`, its float results (divmod's pair too) made _Numbers carrying the
    escapes of both operands."""
    method = getattr(float, name)

    def carried(self, *args):
        result = method(self, *args)
        escapes = self.escapes.union(*(a.escapes for a in args if isinstance(a, _Number)))
        if isinstance(result, float):
            return _number(result, escapes)
        if isinstance(result, tuple):
            return tuple(_number(r, escapes) if isinstance(r, float) else r for r in result)
        return result

    carried.__name__ = name
    return carried


for _name in (
    *("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__pow__", "__rpow__"),
    *("__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__"),
    *("__divmod__", "__rdivmod__", "__neg__", "__pos__", "__abs__", "__round__"),
):
    setattr(_Number, _name, _carrying(_name))
for _name in ("__lt__", "__le__", "__gt__", "__ge__"):
    setattr(_Number, _name, _comparing(_name))


def _as_numbers(value, escapes):
    """tolist()'s or item()'s result with each float a _Number carrying `escapes`."""
    if isinstance(value, list):
        return [_as_numbers(item, escapes) for item in value]
    if isinstance(value, float):
        return _number(value, escapes)
    return value


def _literals(values):
    """Whether numbers numpy made are all such as a pass writes for its state without reading
    an entry (np.zeros, np.ones, np.full(shape, -np.inf), np.finfo's min): not finite, or whole
    and 0 or +-1 or of 1e6 or more. A pass that starts (m, s) so and brought them in by
    torch.from_numpy or torch.tensor after print(x.numpy()) was refused as 'read 40 entries
    of a row out of torch (by numpy)'; a max made whole (np.ceil of the row's max: the check's
    entries lie within 5,000 of 0, most rows' max within 20) is still none of these."""
    return all(
        not math.isfinite(value)
        or (value.is_integer() and abs(value) in (0.0, 1.0))
        or (value.is_integer() and abs(value) >= 1e6)
        for value in values
    )


def _numbers_back(values, left):
    """The escapes that come back in a torch call's arguments: those its _Numbers carry, and
    for each plain float or numpy value among them that is one of the values `left` (value ->
    the last escape that held it: a float() of an entry, a numpy max, a number parsed from
    text), that escape; and whether numpy made floats among them of which none left torch
    (`_followed_as`'s "numpy")."""
    escapes: set = set()
    by_numpy = False
    for value in values:
        if isinstance(value, (list, tuple)) and not isinstance(value, torch.Size):
            more, again = _numbers_back(value, left)
            escapes |= more
            by_numpy = by_numpy or again
        elif isinstance(value, _Number):
            escapes |= value.escapes
        elif type(value).__module__ == "numpy":  # (before float: numpy's float64 is one)
            import numpy as np  # (only where numpy made the value)

            array = np.asarray(value)
            if array.dtype.kind == "f":
                numbers = array.reshape(-1).tolist()
                more, _ = _numbers_back(numbers, left)
                escapes |= more
                by_numpy = by_numpy or not (more or _literals(numbers))
            elif array.dtype.kind in "iu":  # (indices numpy found: x.numpy().argmax(-1))
                by_numpy = by_numpy or not _literals(map(float, array.reshape(-1).tolist()))
        elif isinstance(value, float) and value in left:
            escapes.add(left[value])
    return escapes, by_numpy


# Writes into the first argument's storage: methods named with one trailing underscore
# (add_, copy_), and these operators; other dunders (__getitem__, __eq__) write nothing
_IN_PLACE = frozenset(
    {"__setitem__", "__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__"}
    | {"__imod__", "__ipow__", "__imatmul__", "__iand__", "__ior__", "__ixor__"}
    | {"__ilshift__", "__irshift__"}
)


def _tensors_in(values):
    """The tensors among values, in lists and tuples too."""
    for value in values:
        if isinstance(value, (list, tuple)):
            yield from _tensors_in(value)
        elif isinstance(value, torch.Tensor):
            yield value


def _storage(tensor):
    """A key for the memory a tensor lives in, shared by its views (an address on its device:
    a CPU and a CUDA address may be the same number); None for a tensor with no storage to
    read (one seen inside torch.vmap, a sparse one): it is followed by its own making alone."""
    try:
        return ("storage", str(tensor.device), tensor.untyped_storage().data_ptr())
    except (NotImplementedError, RuntimeError):
        return None


def _copies_a_block(value, source):
    """Whether `value`, a tensor made outside the pass from numbers (torch.from_numpy, or
    torch.tensor of a numpy array or a list), holds a run of consecutive entries of the input
    `source`, in order: of every row at once (the block x[..., p : p + k], whatever shape
    holds its rows: x.reshape(-1, n)'s too), or of one row (k >= 2). That is the input's block read back into torch, not a max found over it: the
    whole input read out by numpy() or tolist() first, then each block of the copy taken back
    in turn, is a one-pass answer (refused as 'read 40 entries of a row out of torch' before:
    the copy's values were taken for a row read ahead). One entry is a block only where it
    ends the row (the last, short block): a max read back in a tensor of one entry per row
    is rarely x[..., n - 1], and never the same column of every row of the check's inputs."""
    if (
        source is None
        or not isinstance(value, torch.Tensor)
        or not value.is_floating_point()
        or value.dim() < 1
        or source.dim() < 1
        or value.numel() == 0
    ):
        return False
    k, n = value.shape[-1], source.shape[-1]
    if not 1 <= k <= n:
        return False
    got = value.detach().to("cpu", torch.float64).reshape(-1, k)  # (in rows, as x's are)
    rows = source.detach().to("cpu", torch.float64).reshape(-1, n)
    windows = rows.unfold(-1, k, 1)  # (rows, p, k): each run of k entries of each row
    if len(got) == len(rows):  # (the same p in every row)
        same = (windows == got.unsqueeze(1)).all(dim=-1).all(dim=0)
    elif len(got) == 1 and k >= 2:
        same = (windows == got).all(dim=-1).any(dim=0)
    else:
        return False
    starts = torch.nonzero(same).reshape(-1).tolist()
    return any(k >= 2 or start + k == n for start in starts)


_NOT_AHEAD = (0, 0, 0, "")  # (entries read past what the pass allowed, entries read, blocks, via)
_NONE = frozenset()


def _way(count=0, name="", second=False, numbers_in=0, of=_NONE, ahead=_NOT_AHEAD, **more):
    """One way into a value, as `_merged` takes them ("against", "tested", "returned" and
    "matched": see `_watched_reductions`)."""
    return {
        "count": count,
        "name": name,
        "second pass": second,
        "numbers in": numbers_in,
        "of": of,
        "ahead": ahead,
        "against": more.get("against", _NONE),
        "tested": more.get("tested", _NONE),
        "returned": more.get("returned", _NONE),
        "matched": more.get("matched", 0),
        "numpy in": more.get("numpy in", 0),
    }


def _merged(ways):
    """The widest reduction among several ways into a value, any second pass among them, the
    last step at which numbers from outside torch went into any of them, the entries of the
    input they are made of ("of", their positions in it), and the furthest any of them read
    the input out of torch ahead of the pass ("ahead")."""
    widest = max(ways, key=lambda way: way["count"], default={"count": 0, "name": ""})
    return _way(
        widest["count"],
        widest["name"],
        any(way["second pass"] for way in ways),
        max((way["numbers in"] for way in ways), default=0),
        frozenset().union(*(way["of"] for way in ways)),
        max((way["ahead"] for way in ways), default=_NOT_AHEAD),
        against=frozenset().union(*(way["against"] for way in ways)),
        tested=frozenset().union(*(way["tested"] for way in ways)),
        returned=frozenset().union(*(way["returned"] for way in ways)),
        matched=max((way["matched"] for way in ways), default=0),
        **{"numpy in": max((way["numpy in"] for way in ways), default=0)},
    )


# (a shape, as in out.reshape(x.shape), is read off a tensor: not numbers a result left torch as)
_NO_NUMBERS = (
    torch.Tensor,
    torch.Size,
    torch.dtype,
    torch.device,
    torch.layout,
    torch.memory_format,
    str,
)


def _takes_numbers(values):
    """Whether a call's arguments hold values from outside torch (ints, floats, slices, numpy
    arrays), which may be numbers a reduction's result left torch as."""
    for value in values:
        if isinstance(value, (list, tuple)) and not isinstance(value, torch.Size):
            if _takes_numbers(value):
                return True
        elif not (value is None or value is Ellipsis or isinstance(value, _NO_NUMBERS)):
            return True
    return False


# Routines that keep each entry apart, beyond those torch tags pointwise or returns a view of
# an operand (`_keeps_entries`): the reflected and in-place operators, joins and picks, copies
# and casts, tensors made like another, and the conversions to numbers (followed as such)
_KEEPING = frozenset(
    {"radd", "iadd", "isub", "rmul", "imul", "truediv", "rtruediv", "itruediv", "floordiv"}
    | {"rfloordiv", "ifloordiv", "mod", "rmod", "imod", "rpow", "ipow", "and", "rand", "iand"}
    | {"or", "ror", "ior", "rxor", "invert", "pos", "rlshift", "rrshift", "irshift"}
    | {"cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack", "column_stack"}
    | {"row_stack", "pad", "constant_pad_nd", "flip", "fliplr", "flipud", "roll", "rot90"}
    | {"repeat", "tile", "repeat_interleave", "broadcast_tensors", "tril", "triu", "diag_embed"}
    | {"index_select", "gather", "take_along_dim", "take", "masked_select", "setitem"}
    | {"index_put", "index_copy", "index_fill", "masked_scatter", "put", "copy", "fill", "zero"}
    | {"type", "type_as", "double", "float", "half", "bfloat16", "long", "int", "bool", "short"}
    | {"char", "byte", "cfloat", "cdouble", "requires_grad", "retain_grad", "new_tensor"}
    | {"zeros_like", "ones_like", "full_like", "empty_like", "rand_like", "randn_like"}
    | {"randint_like", "new_zeros", "new_ones", "new_full", "new_empty", "tensor", "asarray"}
    | {"from_numpy", "item", "tolist", "numpy", "index", "complex", "array", "dlpack", "iter"}
    | {"isclose", "deepcopy", "resize", "resize_as"}
    | {"atleast_1d", "atleast_2d", "atleast_3d"}  # (x itself, or a reshape of it)
    | {"unsafe_split", "unsafe_chunk", "unsafe_split_with_sizes"}  # (split's, unaliased)
    # src written into a copy at a view's place: slice_scatter's kin (torch tags that one as a
    # view's copy, not these), each entry of the result one of self's or one of src's
    | {"select_scatter", "diagonal_scatter", "as_strided_scatter"}
)
# Tests of a whole tensor, answered by one bool (torch.isfinite(x).all(), asserted, to check
# the input): not counted, or a check of the input, which gives no number, would be refused
# where a later literal (float("-inf")) goes into the output. Nor is what they are made of read
# out by one (`_watched_reductions`, "of"), but a test against numbers is (`TESTS_AHEAD`).
_TESTS = frozenset({"all", "any", "allclose", "equal"})
# Counts of the entries a test holds for (torch.isnan(x).sum() or count_nonzero, asserted 0,
# to check the input): what any() tells, a number of entries, and no more; not counted either
# (a sum of bools was refused as 'reduced 120 entries at once with sum' where any() passed)
_COUNTS = frozenset({"sum", "nansum"})  # (of a bool tensor; count_nonzero of any)
# Tests of entries that numbers from outside went into (row > c, x.abs() < 1e30, any() or
# all() of them) the pass may make of a row ahead of it: one tells where the row lies about
# one number (a guard: any entry above 1e30?) and finds no max, two bound it on both sides
# (x.min() > -1e30 and x.max() < 1e30, refused at 1 as 'read 40 entries of a row out of
# torch (by 2 tests of it against numbers)'); more, each number chosen after the answers
# before, are a search, as a bisection's sixty are (`_watched_reductions`). Two answers
# place no max to float32's precision; one already tells a row whose entries all lie below
# some c, for which exp(x - c) is as safe as exp(x - max), which no count of tests can refuse
TESTS_AHEAD = 2


@functools.cache
def _keeps_entries(name):
    """Whether the torch routine `name` (bare, without a trailing underscore) keeps each entry
    apart: every other one may gather entries, so it counts as gathering along its operands'
    longest dim. A list of the reductions someone thought of let 36 of 53 torch routes tried
    through: a row's max by F.max_pool1d (2d, 3d, adaptive), msort, nanquantile, unique,
    scatter_reduce or index_reduce with amax, cdist or dist with p = inf; its sum by
    avg_pool1d, lp_pool1d, conv1d with ones, torch.fft's first entry, trapezoid, scatter_add,
    index_add, bincount's weights, addmv, addmm, baddbmm, multi_dot, std_mean, var_mean,
    pairwise_distance, l1_loss, embedding_bag, trace, segment_reduce, interpolate (area).
    The entrywise routines torch itself lists (the pointwise tag, a view's aliasing result,
    their aliases in its docs) and `_KEEPING` close it instead: each of the 36 is refused."""
    return name in _KEEPING or name in _TESTS or name in _registered_keeping()


@functools.cache
def _registered_keeping():
    """The names of aten's operators tagged pointwise, returning views of an operand, or tagged
    as a view's copy (their overloads and in-place forms: add, add_, exp, maximum, where,
    reshape, select, unfold; narrow_copy, slice_scatter), read from torch's registry and docs
    once (0.04-0.06 s of CPU); a name of the gathering lists is never one."""
    names = set()
    for schema in torch._C._jit_get_all_schemas():
        namespace, _, name = schema.name.partition("::")
        aliases = [r.alias_info for r in schema.returns]  # (a view: Tensor(a), not out's a!)
        if namespace == "aten" and aliases and all(a and not a.is_write for a in aliases):
            names.add(name)
    for name, tags in _aten_tags().items():
        if torch.Tag.pointwise in tags or torch.Tag.view_copy in tags:
            names.add(name)
    # (less two views that sum: sum_to_size's for autograd, a sparse tensor's coalesce, which
    # adds the values of an index given twice)
    summing = {"grad_sum_to_size", "coalesce"}
    keeping = {bare_name(name).rstrip("_") for name in names} - _COUNTED - summing
    for name, target in _aliases():  # (torch.divide, torch.special.expit: untagged aliases)
        if target in keeping or name in keeping:
            keeping |= {name, target}
    return frozenset(keeping)


@functools.cache
def _aten_tags():
    """The tags of each of aten's operators, over its overloads."""
    tagged = {}
    for name in dir(torch.ops.aten):
        packet = getattr(torch.ops.aten, name, None)
        overloads = packet.overloads() if hasattr(packet, "overloads") else ()
        tagged[name] = {tag for ov in overloads for tag in getattr(packet, ov).tags}
    return tagged


@functools.cache
def _pointwise():
    """The names of the routines that compute each entry from the operands' entries at its
    place (aten's pointwise tag, and their aliases: gt and greater, sub and subtract), as the
    watch names them."""
    names = {
        bare_name(name).rstrip("_")
        for name, tags in _aten_tags().items()
        if torch.Tag.pointwise in tags
    }
    names |= {name for name, target in _aliases() if target in names}
    return frozenset(names)


def _aliases():
    """(name, routine) for each routine torch's docs call an alias of another ("Alias for
    :func:`torch.div`"), named as the watch sees them (special_expit for torch.special's)."""
    import re

    said = re.compile(r"[Aa]lias (?:for|of) :(?:func|meth):`~?(?:torch\.)?([\w.]+)`")
    for module, prefix in ((torch, ""), (torch.special, "special_"), (torch.linalg, "linalg_")):
        for name in dir(module):
            doc = getattr(getattr(module, name, None), "__doc__", None)
            found = said.search(doc) if isinstance(doc, str) else None
            if found:
                target = (
                    found.group(1).replace("special.", "special_").replace("linalg.", "linalg_")
                )
                yield prefix + name.rstrip("_"), target.rpartition(".")[2].rstrip("_")


# Made here, as the module loads, where a check's worker loads it once: torch's registry and
# docs read the same in every check, and each check forked from the worker finds the tables
# made. Made on first use instead, each of the card's 111 checks read them again: 0.05 s of
# CPU each, 5.9 of `studycli check`'s 39 CPU seconds (bench/check_all.py), and 0.05 s of a
# learner's wait on each attempt.
_registered_keeping()
_pointwise()


def _widest_operand(args, kwargs, rows):
    """The most entries of a row that the tensors among a call's operands may hold (0 for
    none): the longest dim of one, or its entries per row of x (a row tiled into 5 x 8 for
    max_pool2d or fft2 holds 40 entries, no dim longer than 8)."""
    tensors = list(_tensors_in((*args, *kwargs.values())))
    return max((max(*t.shape, t.numel() // rows, 1) for t in tensors), default=0)


def _gathered(name, args, kwargs, result, rows=1):
    """How many entries the torch call `name` gathered into one entry of its result (0 for a
    call that gathers none); a routine not known to keep entries apart may gather all that its
    operands hold of a row (`_widest_operand`, the input having `rows` rows)."""
    source = args[0] if args else None
    if name == "einsum":
        return _einsum_gathered(args)
    of_bools = isinstance(source, torch.Tensor) and source.dtype == torch.bool
    if name == "count_nonzero" or (name in _COUNTS and of_bools):
        return 0  # (a number of entries, none of their values)
    if name not in _COUNTED:
        if name == "scatter" and "reduce" not in kwargs and len(args) < 5:
            return 0  # (writes each value at its index, as setitem does; with reduce, it sums)
        if name in ("index_put", "put") and kwargs.get("accumulate", args[3:4] == (True,)):
            return _widest_operand(args, kwargs, rows)  # (adds the values put at one index)
        if name in ("index_add", "index_reduce"):
            return _most_at_one_index(kwargs.get("index", args[2] if len(args) > 2 else None))
        made_tensors = any(True for _ in _tensors_in((result,)))  # (not a shape, a bool)
        if made_tensors and not _keeps_entries(name):
            return _widest_operand(args, kwargs, rows)
        return 0
    if not isinstance(source, torch.Tensor):
        return 0
    with contextlib.suppress(IndexError, TypeError):
        if name in _PRODUCTS:
            return source.shape[-1] if source.dim() else 0  # what one entry sums
        out = result[0] if isinstance(result, tuple) else result  # (values, indices)
        if name in _GATHERING and isinstance(out, torch.Tensor):
            return source.numel() // max(out.numel(), 1)
        if name in _ALONG:
            return source.shape[args[1] if len(args) > 1 else kwargs.get("dim", -1)]
        if name == "normalize":  # F.normalize(e, p, dim), dim 1 unless given
            return source.shape[args[2] if len(args) > 2 else kwargs.get("dim", 1)]
    return 0


def _most_at_one_index(index):
    """What index_add (or index_reduce) gathers into one entry of its result: self's entry and
    every entry of source put at the same index (a row's n at one index sum it; outputs
    written at distinct indices, 2 each, as a copy writes them)."""
    if not isinstance(index, torch.Tensor) or index.numel() == 0:
        return 1
    with contextlib.suppress(RuntimeError, NotImplementedError):  # (inside vmap: no storage)
        return 1 + int(torch.unique(index, return_counts=True)[1].max())
    return index.numel() + 1  # (as many as it may put at one index)


def _einsum_gathered(args):
    """The entries an einsum sums into one entry of its result: the product of the sizes of
    the letters its operands name and its result does not (torch.einsum("...j->...", e): the
    size of j); the dims of an ellipsis are kept."""
    equation, *operands = args
    if not isinstance(equation, str):  # (the sublist form: einsum(a, [0, 1], b, [1, 2]))
        return 0
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = list(operands[0])
    inputs, arrow, output = equation.replace(" ", "").partition("->")
    sizes: dict = {}
    for term, operand in zip(inputs.split(","), operands):
        if not isinstance(operand, torch.Tensor):
            return 0
        before, dots, after = term.partition("...")
        letters = list(before) + [""] * (operand.dim() - len(before) - len(after)) + list(after)
        sizes.update((letter, size) for letter, size in zip(letters, operand.shape) if letter)
    if not arrow:  # the implicit result: the letters named once
        output = "".join(letter for letter in sizes if inputs.count(letter) == 1)
    count = 1
    for letter, size in sizes.items():
        count *= 1 if letter in output else size
    return count


@contextmanager
def _watched_reductions(rows=1, source=None, block_size=None):
    """Watch the torch calls in the block; yield `reach`, which tells of a value the call
    returned the reduction (max, sum, ...) in its making that gathered the most entries into
    one output value (of an input of `rows` rows), as {"count": entries, "name": the routine},
    and whether the answer made a
    second pass over the blocks to gather more for it ("second pass"): a
    reduction of what was made of blocks reduced before (the max block by block, then the sum
    of exp(block - max) block by block, views or copies of them: two passes, each one block
    at a time), other than those of the last two reductions that read a new block (the online
    pass reduces a block for its max, then exp(block - m_new) for its sum; a loop that reads
    the next block's max before it sums this one, as a pipelined kernel prefetches, sums the
    block before last). A two-pass answer's second pass starts at a block read three or more
    reductions back (the check has 5 or more blocks), and is still seen. The blocks' order is
    free, and a pass that only writes outputs block by block reduces nothing: both are
    allowed.

    Only what went into the value counts: a reduction is carried forward to every tensor made
    from its result (written into one in place or by out=, its whole storage, which views
    share). One whose result left torch as numbers (item, float, tolist, ...) counts where
    numbers from outside torch went into the value afterwards (torch.tensor(values), x - m,
    a slice's bounds, but not a shape): they may be those; so does a bool read off one (an `if`
    on it). A check of the answer's own on its output (out.sum(-1) near 1, asserted, with
    torch.allclose or .item()) makes nothing the output is made of, and is free.

    What the answer reads out of `source` (the input it was given) is followed as well: the
    entries of it that each value left torch with are made of ("of", their positions: a view
    holds those it views, any other tensor those its operands held; a test or a count of the
    entries, `_TESTS` and `_COUNTS`, none). Python's and numpy's arithmetic on them is not
    seen, but where they come back into a reduction of the pass, the row may have been
    looked at already: a reduction whose operands took back what left torch after more of a
    row was read out than the pass had gathered in torch, plus one block of `block_size`
    ("ahead"), gave a max found outside torch over the whole row to a pass that only sums
    (x.numpy().max(-1), max(row.tolist()), float(entry) for each, repr(row) parsed back, `if
    entry > top` on each). What comes back is followed (`came_back`, `_followed_as`): the
    floats item() and tolist() return are `_Number`s that carry their escape through
    Python's arithmetic, comparisons, max and sum; a plain float, a numpy value or a tensor
    no watched call made (from_numpy's) equal to a value that left torch (`_values_left`:
    numpy's, float()'s, the numbers text shows) brings back the last escape that held it,
    and, if that was a float of one entry (float(entry)), every such float before it (a
    tensor that holds a run of the input's entries in their order, a block of a copy of x
    taken back, brings nothing: `_copies_a_block`); numbers
    numpy made that none of those are (exp(x - max) made in numpy) bring back every numpy
    read before them, unless all are such as a pass starts its state with (np.zeros,
    np.full(-inf): `_literals`), and so do indices numpy made (an argmax); a bool, an int or a storage's bytes, whose news Python's control flow
    carries, count wherever any numbers come back (a slice's bounds, a literal). A debugging
    print(x), print(x.tolist()), print(x.numpy()) or print(x.max()) brings nothing back and
    is free (the pass's own float("-inf") was taken for its numbers before). Not seen: a
    max that comes back as a plain float none of whose values left (math.exp(-max(row
    .tolist())): math's functions return plain floats, as the pass's literals are), or one
    numpy writes into a copy of x through the array numpy() shares with it (into x itself,
    the check refuses: x must not change). A pass wholly in Python floats or numpy gathers
    nothing in torch and is free, as is one that reads each block out as it reaches it. A
    test's bool holds no entry, but where numbers from outside went into what it tests
    ("against": row > c, the entries against c), the entries are "tested": more than
    `TESTS_AHEAD` such tests of a row past the pass read it as its entries would (a
    bisection's `(row > c).any()`), where a guard of the input (torch.isfinite(x).all(),
    (x.abs() > 1e30).any()) is free; a bool read off entries against numbers is such a test
    (x.abs().max() < 1e30 asserted: the max it was read off stays out of the pass)."""
    from torch.overrides import TorchFunctionMode

    made: dict = {}  # id or storage -> (tensor, what went into it), alive while watched
    # (step, what went into the value, by what, how it is followed back: `_followed_as`) for
    # each value that left torch; each value that left (`_values_left`) -> the last escape
    # that held it
    escapes: list = []
    left: dict = {}
    source_key = None if source is None else _storage(source)
    n = 1 if source is None else max(source.shape[-1] if source.dim() else 1, 1)
    steps = [0]  # the torch calls watched so far
    kept: dict[int, tuple] = {}  # id -> (tensor, the blocks it was made of), alive while watched
    gathered: set = set()  # the blocks reduced so far, as (id of their base, offset in it)
    latest: set = set()  # the blocks of the last reduction that read a new one
    before: set = set()  # those of the one before it

    def blocks_of(values):
        found = set()
        for value in values:
            if isinstance(value, (list, tuple)):
                found |= blocks_of(value)
            elif isinstance(value, torch.Tensor):
                found |= kept.get(id(value), (None, set()))[1]
                base = value._base  # a slice of its rows: along their dim, not a new one
                if (
                    base is not None
                    and 0 < value.dim() <= base.dim()
                    and value.stride(-1) == base.stride(-1)
                    and value.shape[-1] < base.shape[-1]
                ):
                    kept.setdefault(id(base), (base, set()))  # (its id names its blocks)
                    found.add((id(base), value.storage_offset() - base.storage_offset()))
        return found

    def picked_block(args, kwargs, result):
        """A copy of some entries of a row picked by their indices (x.index_select(-1, idx),
        x[..., idx]) is a block as much as the slice x[..., start : end] is: named by the
        source and the first index picked, so that it is recognised when picked again."""
        source = args[0] if args else None
        if not (
            isinstance(source, torch.Tensor)
            and isinstance(result, torch.Tensor)
            and result._base is None  # (a view is recognised by its base)
            and 0 < result.dim() <= source.dim()
            and result.shape[-1] < source.shape[-1]
        ):
            return
        index = kwargs.get("index", args[-1] if len(args) > 1 else None)
        if isinstance(index, tuple):  # x[..., idx]: the index of the last dimension
            index = index[-1] if index else None
        if isinstance(index, (list, range)):
            index = torch.tensor(list(index))
        if not isinstance(index, torch.Tensor) or index.numel() == 0 or index.is_floating_point():
            return
        kept.setdefault(id(source), (source, set()))  # (its id names its blocks)
        kept[id(result)] = (result, {(id(source), "picked", int(index.min()))})

    class _Reductions(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            nonlocal latest, before
            result = func(*args, **(kwargs or {}))
            # (__rsub__ as rsub, add_ as add: an operator and an in-place form as their routine)
            name = bare_name(getattr(func, "__name__", "")).rstrip("_")
            second = False
            blocks = blocks_of((*args, *(kwargs or {}).values()))
            count = _gathered(name, args, kwargs or {}, result, rows)
            gathers = name in _COUNTED or count > 0
            if gathers and blocks:
                if blocks - gathered:  # a block read for the first time: the pass goes on
                    gathered.update(blocks)
                    latest, before = blocks, latest
                elif not blocks <= latest | before:
                    second = True
            elif blocks:  # what is made of blocks (a copy, exp(block - m)) carries them
                for out in result if isinstance(result, (tuple, list)) else (result,):
                    if isinstance(out, torch.Tensor):
                        kept[id(out)] = (out, blocks)
            elif getattr(func, "__name__", "") in _PICKING:
                picked_block(args, kwargs or {}, result)
            steps[0] += 1
            values = (*args, *(kwargs or {}).values())
            numbers_in = steps[0] if _takes_numbers(values) else 0
            returned, by_numpy = _numbers_back(values, left) if numbers_in else (set(), False)
            for value in _tensors_in(values):
                more, again = foreign(value)
                returned, by_numpy = returned | more, by_numpy or again
            if (returned or by_numpy) and _copies_a_block(result, source):
                returned, by_numpy = set(), False  # (torch.tensor(a block of x's copy))
            operands = [into(value) for value in _tensors_in(values)]
            matched = any(escapes[escape][3] == "one" for escape in returned)
            back = {
                "returned": frozenset(returned),
                "matched": steps[0] if matched else 0,
                "numpy in": steps[0] if by_numpy else 0,
            }
            carried = _merged([_way(count, name, second, numbers_in, **back), *operands])
            mine = [bool(way["of"]) for way in operands]  # (made of the input's entries)
            if name in _pointwise() and any(mine) and (numbers_in or not all(mine)):
                carried["against"] = carried["against"] | carried["of"]
            if name in _TESTS or name == "count_nonzero" or (name in _COUNTS and not count):
                carried["tested"] = carried["tested"] | carried["against"]
                carried["of"] = carried["against"] = _NONE  # (a bool, a count: no entry)
            if gathers:
                carried["ahead"] = max(carried["ahead"], read_ahead(carried))
            return carry(func, args, kwargs or {}, result, carried)

    def came_back(way):
        """The escapes that may have come back into a value made as `way` tells
        (`_followed_as`): those its _Numbers carried back or whose values came back, every
        float of one entry before a step at which any of them came back (Python's max over
        float(entry) of each returns a plain float, one of them), and the others before the
        last step at which any numbers went in (a bool's `if`, which a slice's bounds, a
        literal may carry on)."""
        return [
            (escape, way_out, via)
            for escape, (step, way_out, via, kind) in enumerate(escapes)
            if escape in way["returned"]
            or (kind == "one" and step < way["matched"])
            or (kind == "numpy" and step < way["numpy in"])
            or (kind == "control" and step < way["numbers in"])
        ]

    def read_ahead(way):
        """How far the numbers read out of the input that came back into a gathering made as
        `way` tells (`came_back`) run ahead of the pass: a pass may have read out the blocks
        it has gathered in torch and the next (one ahead, as a pipelined pass prefetches);
        more of a row means the row was looked at before the sum over its earlier blocks was
        formed."""
        if block_size is None:
            return _NOT_AHEAD
        allowed = (len(gathered) + 1) * block_size
        before = [(way_out, via) for _, way_out, via in came_back(way)]
        per_row = collections.Counter(
            at // n for at in frozenset().union(*(way["of"] for way, _ in before))
        )
        most, via = max(per_row.values(), default=0), ""
        if most:
            via = max(before, key=lambda pair: len(pair[0]["of"]))[1]
        searches: collections.Counter = collections.Counter()  # row -> its tests past the pass
        for way, _ in before:
            past = collections.Counter(at // n for at in way["tested"])
            searches.update(row for row, count in past.items() if count > allowed)
        if searches and max(searches.values()) > TESTS_AHEAD:
            row, tests = searches.most_common(1)[0]
            most, via = max(most, n), f"{tests} tests of it against numbers"
        return (most - allowed, most, len(gathered), via) if most > allowed else _NOT_AHEAD

    def foreign(value):
        """What comes back by `value` where it is a tensor that no watched call made,
        torch.from_numpy's (which torch does not show a mode): its values, as numpy's in
        torch.tensor(array) (`_numbers_back`)."""
        key = _storage(value)
        if key is None or key == source_key or id(value) in made or key in made:
            return set(), False
        if value.dtype == torch.bool or _copies_a_block(value, source):
            return set(), False
        numbers = value.reshape(-1).tolist()
        if not value.is_floating_point():  # (indices numpy found, as in `_numbers_back`)
            return set(), not _literals(map(float, numbers))
        more, _ = _numbers_back(numbers, left)
        return more, not (more or _literals(numbers))

    def into(value):
        """What went into a tensor: its own making and whatever was written into its storage;
        a view of the input is made of the entries it views (and what was written there)."""
        stored = made.get(_storage(value), (None, None))[1]
        merged = _merged([way for way in (made.get(id(value), (None, None))[1], stored) if way])
        if source_key is not None and _storage(value) == source_key:
            merged["of"] = viewed(value) | (stored["of"] if stored else frozenset())
        return merged

    def viewed(value):
        """The positions in the input (its entries in order) of the entries that `value`, a
        view of it, holds."""
        places = torch.arange(source.untyped_storage().nbytes() // source.element_size())
        at = places.as_strided(value.shape, value.stride(), value.storage_offset())
        return frozenset(at.reshape(-1).tolist())

    def carry(func, args, kwargs, result, carried):
        name = getattr(func, "__name__", "")
        outs = list(_tensors_in(result if isinstance(result, (tuple, list)) else (result,)))
        written = list(_tensors_in((kwargs.get("out"),)))  # torch.amax(x, -1, out=buf)
        if name in _IN_PLACE or (name.endswith("_") and not name.endswith("__")):
            written += list(_tensors_in(args[:1]))  # x[...] = v, x.copy_(v)
        if name in _TO_NUMBERS or _numbers_out(result):
            kind = _followed_as(name, result)
            escape = len(escapes)
            told = carried
            if kind == "control" and carried["against"]:
                # (a bool of entries against a number, x.abs().max() < 1e6: a test of them)
                tested = carried["tested"] | carried["against"]
                told = {**carried, "count": 0, "name": "", "of": _NONE, "against": _NONE}
                told["tested"] = tested
            escapes.append((steps[0], told, name.strip("_"), kind))
            if kind != "control":
                left.update(dict.fromkeys(_values_left(name, args, result), escape))
            if kind != "control" and name in ("item", "tolist"):
                result = _as_numbers(result, frozenset({escape}))
            for shared in _tensors_in(args[:1]) if name in _SHARING else ():
                # numpy may write the tensor's memory from here on, unwatched: numbers, not the
                # entries the array holds (a block read after print(x.numpy()) is of its own)
                if (key := _storage(shared)) is not None:
                    stored = made.get(key, (None, _way()))[1]
                    made[key] = (shared, {**stored, "numbers in": steps[0]})
        for out in written:  # into the storage, which its views share
            if _storage(out) is not None:
                made[_storage(out)] = (out, _merged([into(out), carried]))
        for out in outs + written:
            made[id(out)] = (out, carried)
        return result

    def reach(value):
        tensors = list(_tensors_in((value,)))
        made_of = _merged([into(out) for out in tensors])
        if not tensors:  # (no tensor to follow: whatever left torch may be in it)
            made_of.update({"numbers in": steps[0] + 1, "matched": steps[0] + 1})
            made_of["numpy in"] = steps[0] + 1
            made_of["returned"] = frozenset(range(len(escapes)))
        return _merged([made_of, *(way for _, way, _ in came_back(made_of))])

    with _Reductions():
        yield reach


def _check_block_by_block(impl, gen, device):
    """The answer's torch reductions are watched: with 2 <= block_size < n, none may gather a
    whole row (n entries) at once, as the max and the sum of a two-pass softmax do. A loop over
    blocks reduces block_size entries at a time, and a vectorised form that reduces each block
    and then combines the ceil(n / block_size) block summaries reduces fewer than n; code
    in plain Python floats makes no torch reduction at all. A max taken in numpy or Python
    numbers, x.numpy().max(-1) or max(row) over x.tolist(), is seen where the pass that sums
    by blocks in torch takes it: the whole row was read out of torch before the sum over its
    first block was formed (`_watched_reductions`, "ahead"), as is one found by bisection
    on `(row > c).any()`; a debugging print of the input (x, x.tolist(), x.numpy(), x.max())
    brings no number back and is free. A two-pass answer wholly in Python floats reads the
    row as a correct one in Python floats does and is no more seen: left to the card's
    word."""
    for shape, block_size in (((3, 40), 8), ((2, 23), 5), ((37,), 2)):
        x = torch.randn(*shape, generator=gen).to(device) * 3.0
        n = shape[-1]
        what = f"online_softmax({describe(x)}, block_size={block_size})"
        given = x.clone()
        with _watched_reductions(x.numel() // n, given, block_size) as reach:
            got = call(impl, what, given, block_size)
        widest = reach(got)
        expect(
            widest["count"] < n,
            what,
            f"reduced {widest['count']} entries at once with {widest['name']}, a whole row "
            f"(n = {n}), where one block holds {block_size}: the max and the sum must be "
            "gathered block by block (a check of your own on the output, such as out.sum(-1) "
            "asserted near 1, is not counted)",
            hint=TWO_PASS_HINT,
        )
        expect(
            not widest["second pass"],
            what,
            "went back to an earlier block to gather more after reducing later ones: a max over "
            "the blocks, then a sum over them again, is the two-pass softmax done block by "
            "block; the online one folds each block into (m, s) once, as it reads it",
            hint=TWO_PASS_HINT,
        )
        _, read, blocks, via = widest["ahead"]
        expect(
            not read,
            what,
            f"read {read} entries of a row out of torch (by {via}) when its pass had gathered "
            f"{blocks} block(s) of {block_size} in torch, and put numbers back into that "
            "pass: a max taken over the whole row outside torch (numpy, Python's max, a "
            "number parsed from text), then a sum of exp(x - max) by blocks, is the two-pass "
            "softmax. Read each block out as the pass reaches it, or do the whole pass in "
            "Python floats or numpy",
            hint=TWO_PASS_HINT,
        )
        assert_close(got, torch.softmax(x.double(), dim=-1), what, atol=1e-6, rtol=1e-5)


@fails_with("multiply the running sum by exp(m_old - m_new)")
def _wrong_no_rescale(x, block_size):
    """Forgets to rescale the running sum by exp(m_old - m_new) when the max grows."""
    n = x.shape[-1]
    m = torch.full(x.shape[:-1], float("-inf"), dtype=x.dtype, device=x.device)
    s = torch.zeros(x.shape[:-1], dtype=x.dtype, device=x.device)
    for start in range(0, n, block_size):
        block = x[..., start : start + block_size]
        m = torch.maximum(m, block.amax(dim=-1))
        s = s + torch.exp(block - m.unsqueeze(-1)).sum(dim=-1)
    return torch.exp(x - m.unsqueeze(-1)) / s.unsqueeze(-1)


@fails_with("exp(1000) overflows")
def _wrong_no_max(x, block_size):
    """Sums exp(x) directly without subtracting a running max (overflows for large inputs)."""
    n = x.shape[-1]
    s = torch.zeros(x.shape[:-1], dtype=x.dtype, device=x.device)
    for start in range(0, n, block_size):
        s = s + torch.exp(x[..., start : start + block_size]).sum(dim=-1)
    return torch.exp(x) / s.unsqueeze(-1)


@fails_with("multiply the running sum by exp(m_old - m_new)")
def _wrong_inverted_rescale(x, block_size):
    """Rescales the running sum by exp(m_new - m_old) instead of exp(m_old - m_new)."""
    n = x.shape[-1]
    m = torch.full(x.shape[:-1], float("-inf"), dtype=x.dtype, device=x.device)
    s = torch.zeros(x.shape[:-1], dtype=x.dtype, device=x.device)
    for start in range(0, n, block_size):
        block = x[..., start : start + block_size]
        m_new = torch.maximum(m, block.amax(dim=-1))
        factor = torch.where(torch.isinf(m), torch.zeros_like(m), torch.exp(m_new - m))
        s = s * factor + torch.exp(block - m_new.unsqueeze(-1)).sum(dim=-1)
        m = m_new
    return torch.exp(x - m.unsqueeze(-1)) / s.unsqueeze(-1)


@fails_with("falling values need no rescaling")
def _wrong_no_division(x, block_size):
    """Keeps the running max and sum right, then forgets to divide: exp(x - m), unnormalised
    (given the last-block hint, which it has nothing to do with)."""
    m, _ = _folded_state(x, block_size, range(0, x.shape[-1], block_size))
    return torch.exp(x - m.unsqueeze(-1))


@fails_with("include the last, shorter block")
def _wrong_drops_last_block(x, block_size):
    """Loops over full blocks only, silently dropping a shorter last block."""
    return _fold_blocks(x, block_size, range(0, x.shape[-1] - block_size + 1, block_size))


@fails_with("start the running max at -inf")
def _wrong_max_starts_at_zero(x, block_size):
    """Starts the running max at 0 instead of -inf: right while some entry of a row is >= 0,
    but with every entry near -1000 each exp(x - 0) underflows and the sum is 0."""
    return _fold_blocks(x, block_size, range(0, x.shape[-1], block_size), max_start=0.0)


def _fold_blocks(x, block_size, starts, max_start=float("-inf"), picked=False):
    """The online softmax over the blocks of x that begin at `starts`, folded in that order,
    the running max starting at `max_start` (-inf: the max of no entries); with `picked`, each
    block is a copy picked by index (index_select) instead of a slice of x."""
    m, s = _folded_state(x, block_size, starts, max_start, picked)
    return torch.exp(x - m.unsqueeze(-1)) / s.unsqueeze(-1)


def _folded_state(x, block_size, starts, max_start=float("-inf"), picked=False):
    """The running (max, sum) per row after folding the blocks as `_fold_blocks` does."""
    m = torch.full(x.shape[:-1], max_start, dtype=x.dtype, device=x.device)
    s = torch.zeros(x.shape[:-1], dtype=x.dtype, device=x.device)
    n = x.shape[-1]
    for start in starts:
        if picked:
            block = x.index_select(
                -1, torch.arange(start, min(start + block_size, n), device=x.device)
            )
        else:
            block = x[..., start : start + block_size]
        m_new = torch.maximum(m, block.amax(dim=-1))
        s = s * torch.exp(m - m_new) + torch.exp(block - m_new.unsqueeze(-1)).sum(dim=-1)
        m = m_new
    return m, s


@fails_with("a log-sum-exp (m + log s as one number, kept as the state")
def _wrong_log_state(x, block_size):
    """Keeps one number per row, the running log-sum-exp l = m + log s, instead of (m, s): no
    overflow, but in float32 l near 1000 is rounded to 6e-5, 1e-5 relative in the output."""
    n = x.shape[-1]
    lse = torch.full(x.shape[:-1], float("-inf"), dtype=x.dtype, device=x.device)
    for start in range(0, n, block_size):
        block = x[..., start : start + block_size]
        m = torch.maximum(lse, block.amax(dim=-1))
        lse = m + torch.log(torch.exp(lse - m) + torch.exp(block - m.unsqueeze(-1)).sum(dim=-1))
    return torch.exp(x - lse.unsqueeze(-1))


@fails_with("formed at the end for exp(x - (m + log s))")
def _wrong_log_output(x, block_size):
    """Keeps (m, s) right, then outputs exp(x - (m + log s)): the sum m + log s near 1000 is
    rounded to float32's 6e-5, 1e-5 relative in the output, as a log-sum-exp state is."""
    m, s = _folded_state(x, block_size, range(0, x.shape[-1], block_size))
    return torch.exp(x - (m + torch.log(s)).unsqueeze(-1))


def _variant_asserts_row_sums(x, block_size):
    """The reference, then a check of its own that the output's rows sum to 1 (as an assert
    would, raising where they do not): a whole-row sum of the output, which makes nothing the
    output is made of."""
    out = _fold_blocks(x, block_size, range(0, x.shape[-1], block_size))
    sums = out.sum(dim=-1)
    if not torch.allclose(sums, torch.ones_like(sums), atol=1e-4):
        raise AssertionError(f"rows sum to {sums}")
    return out


def _variant_float64_checked_then_cast(x, block_size):
    """The pass in float64, each block's outputs joined with torch.cat, the rows' sums checked
    in float64 (a sum of what was made of every block), then cast back to x's dtype."""
    x64 = x.double()
    starts = range(0, x.shape[-1], block_size)
    m, s = _folded_state(x64, block_size, starts)
    blocks = [torch.exp(x64[..., a : a + block_size] - m.unsqueeze(-1)) for a in starts]
    out = torch.cat(blocks, dim=-1) / s.unsqueeze(-1)
    torch.testing.assert_close(out.sum(-1), torch.ones_like(s))
    return out.to(x.dtype)


def _variant_row_sums_read_as_numbers(x, block_size):
    """The pass in float64, the rows' sums read out of torch as numbers (tolist) and checked
    one by one, then the output cast back to x's dtype: the numbers go into nothing after."""
    x64 = x.double()
    m, s = _folded_state(x64, block_size, range(0, x.shape[-1], block_size))
    out = torch.exp(x64 - m.unsqueeze(-1)) / s.unsqueeze(-1)
    for total in out.sum(dim=-1).reshape(-1).tolist():
        if abs(total - 1.0) > 1e-9:
            raise AssertionError(f"a row sums to {total}")
    return out.to(x.dtype)


def _variant_reports_rows_off(x, block_size):
    """The reference, then a check of its own that picks the output's rows whose sums are off
    (out[mask], the mask made of a whole-row sum) to report them: indexing the output writes
    nothing into it."""
    out = _fold_blocks(x, block_size, range(0, x.shape[-1], block_size))
    off = out[(out.sum(dim=-1) - 1).abs() > 1e-4]
    if len(off):
        raise AssertionError(f"these rows do not sum to 1: {off}")
    return out


def _variant_vmapped_rows(x, block_size):
    """The pass written for one row and mapped over the rows by torch.vmap (whose tensors
    have no storage to read)."""
    rows = x.reshape(-1, x.shape[-1])
    starts = range(0, x.shape[-1], block_size)
    out = torch.vmap(lambda row: _fold_blocks(row, block_size, starts))(rows)
    return out.reshape(x.shape)


def _variant_rows_checked_then_reshaped(x, block_size):
    """The pass over x's rows flattened to 2-d, the rows' sums checked (a bool read off them by
    an `if`, their largest error by item()), then the output reshaped to x.shape: a shape read
    off x is not a number that left torch."""
    rows = x.reshape(-1, x.shape[-1])
    out = _fold_blocks(rows, block_size, range(0, x.shape[-1], block_size))
    error = (out.sum(dim=-1) - 1).abs()
    if (error > 1e-4).any() or error.max().item() > 1e-4:
        raise AssertionError(f"rows do not sum to 1: {error}")
    return out.reshape(x.shape)


@fails_with("reduced 40 entries at once with amax")
def _wrong_max_found_by_bools(x, block_size):
    """The two-pass softmax whose row max is found again by bools: the first entry of each row
    that is >= the row's max (an `if` on a tensor), read back by its index."""
    rows = x.reshape(-1, x.shape[-1])
    top = rows.amax(dim=-1)
    where = [
        next(j for j in range(rows.shape[-1]) if rows[i, j] >= top[i]) for i in range(len(rows))
    ]
    m = rows[torch.arange(len(rows)), where].reshape(*x.shape[:-1], 1)
    return _summed_by_blocks(torch.exp(x - m), block_size)


@fails_with("reduced 40 entries at once with amax")
def _wrong_max_through_dlpack(x, block_size):
    """The two-pass softmax whose row max goes out to numpy by DLPack (np.from_dlpack, no
    numpy() call) and comes back by torch.from_numpy."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    shared = np.from_dlpack(x.amax(dim=-1, keepdim=True).cpu())
    m = torch.from_numpy(shared.copy()).to(x.device)
    return _summed_by_blocks(torch.exp(x - m), block_size)


@fails_with("reduced 40 entries at once with argmax")
def _wrong_max_by_argmax(x, block_size):
    """The two-pass softmax whose row max is read at its place, found by argmax over the whole
    row (x.gather(-1, x.argmax(-1, keepdim=True))), then the sum of exp(x - max) by blocks."""
    m = x.gather(-1, x.argmax(dim=-1, keepdim=True))
    return _summed_by_blocks(torch.exp(x - m), block_size)


@fails_with("reduced 40 entries at once with sort")
def _wrong_max_by_sort(x, block_size):
    """The two-pass softmax whose row max is the last entry of the row sorted, then the sum of
    exp(x - max) by blocks."""
    m = x.sort(dim=-1).values[..., -1:]
    return _summed_by_blocks(torch.exp(x - m), block_size)


@fails_with("reduced 40 entries at once with einsum")
def _wrong_sum_by_einsum(x, block_size):
    """The max block by block, then the sum of exp(x - m) over the whole row by
    torch.einsum("...j->...", e): a two-pass softmax whose sum is spelled as an einsum."""
    m, _ = _folded_state(x, block_size, range(0, x.shape[-1], block_size))
    e = torch.exp(x - m.unsqueeze(-1))
    return e / torch.einsum("...j->...", e).unsqueeze(-1)


@fails_with("reduced 40 entries at once with linalg_vector_norm")
def _wrong_sum_by_vector_norm(x, block_size):
    """The max block by block, then the sum of exp(x - m) over the whole row as its 1-norm
    (torch.linalg.vector_norm(e, ord=1, dim=-1))."""
    m, _ = _folded_state(x, block_size, range(0, x.shape[-1], block_size))
    e = torch.exp(x - m.unsqueeze(-1))
    return e / torch.linalg.vector_norm(e, ord=1, dim=-1, keepdim=True)


@fails_with("reduced 40 entries at once with normalize")
def _wrong_sum_by_normalize(x, block_size):
    """The max block by block, then exp(x - m) divided by its whole row's sum by
    F.normalize(e, p=1, dim=-1)."""
    m, _ = _folded_state(x, block_size, range(0, x.shape[-1], block_size))
    return torch.nn.functional.normalize(torch.exp(x - m.unsqueeze(-1)), p=1.0, dim=-1)


@fails_with("reduced 40 entries at once with max_pool1d")
def _wrong_max_by_max_pool(x, block_size):
    """The two-pass softmax whose row max is a max pool over the whole row (F.max_pool1d with
    a kernel of n), then the sum of exp(x - max) by blocks."""
    n = x.shape[-1]
    m = torch.nn.functional.max_pool1d(x.reshape(-1, 1, n), n).reshape(*x.shape[:-1], 1)
    return _summed_by_blocks(torch.exp(x - m), block_size)


@fails_with("reduced 40 entries at once with max_pool2d")
def _wrong_max_by_tiled_pool(x, block_size):
    """The two-pass softmax whose row max is a 2-d max pool over the row tiled into rows of 8
    (5 x 8 for n = 40, padded with -inf), a kernel as large as the tile: no dim of its input
    is longer than 8, yet each output entry gathers the whole row."""
    n = x.shape[-1]
    rows = x.reshape(-1, n)
    tiles = torch.nn.functional.pad(rows, (0, -n % 8), value=float("-inf"))
    tiles = tiles.reshape(rows.shape[0], 1, -1, 8)
    m = torch.nn.functional.max_pool2d(tiles, tiles.shape[-2:]).reshape(*x.shape[:-1], 1)
    return _summed_by_blocks(torch.exp(x - m), block_size)


@fails_with("reduced 40 entries at once with scatter_reduce")
def _wrong_max_by_scatter_reduce(x, block_size):
    """The two-pass softmax whose row max is every entry of the row scattered into one slot
    with reduce="amax", then the sum of exp(x - max) by blocks."""
    slot = torch.zeros(x.shape, dtype=torch.long, device=x.device)
    m = x.new_zeros(*x.shape[:-1], 1).scatter_reduce(-1, slot, x, "amax", include_self=False)
    return _summed_by_blocks(torch.exp(x - m), block_size)


@fails_with("reduced 120 entries at once with index_put")
def _wrong_sum_by_index_put(x, block_size):
    """The max block by block, then the sum of exp(x - m) over the whole row by putting every
    entry of a row at one index with accumulate=True, which adds them."""
    n = x.shape[-1]
    m, _ = _folded_state(x, block_size, range(0, n, block_size))
    e = torch.exp(x - m.unsqueeze(-1))
    rows = e.reshape(-1, n)
    row_of = torch.arange(rows.shape[0], device=x.device).repeat_interleave(n)
    s = rows.new_zeros(rows.shape[0]).index_put_((row_of,), rows.reshape(-1), accumulate=True)
    return e / s.reshape(*x.shape[:-1], 1)


@fails_with("reduced 41 entries at once with index_add")
def _wrong_sum_by_index_add(x, block_size):
    """The max block by block, then the sum of exp(x - m) over the whole row by index_add with
    every entry of the row added at index 0 of a zero."""
    n = x.shape[-1]
    m, _ = _folded_state(x, block_size, range(0, n, block_size))
    e = torch.exp(x - m.unsqueeze(-1))
    at_0 = torch.zeros(n, dtype=torch.long, device=x.device)
    s = e.new_zeros(*x.shape[:-1], 1).index_add_(-1, at_0, e)
    return e / s


@fails_with("reduced 40 entries at once with conv1d")
def _wrong_sum_by_conv1d(x, block_size):
    """The max block by block, then the sum of exp(x - m) over the whole row as a convolution
    with a kernel of n ones."""
    n = x.shape[-1]
    m, _ = _folded_state(x, block_size, range(0, n, block_size))
    e = torch.exp(x - m.unsqueeze(-1))
    ones = torch.ones(1, 1, n, dtype=x.dtype, device=x.device)
    s = torch.nn.functional.conv1d(e.reshape(-1, 1, n), ones).reshape(*x.shape[:-1], 1)
    return e / s


@fails_with("reduced 40 entries at once with fft_rfft")
def _wrong_sum_by_fft(x, block_size):
    """The max block by block, then the sum of exp(x - m) over the whole row as the first
    entry of its Fourier transform (torch.fft.rfft(e)[..., 0], the frequency 0)."""
    m, _ = _folded_state(x, block_size, range(0, x.shape[-1], block_size))
    e = torch.exp(x - m.unsqueeze(-1))
    return e / torch.fft.rfft(e, dim=-1)[..., :1].real


def _summed_by_blocks(e, block_size):
    """e divided by its rows' sums, each gathered block by block."""
    s = torch.zeros(e.shape[:-1], dtype=e.dtype, device=e.device)
    for start in range(0, e.shape[-1], block_size):
        s = s + e[..., start : start + block_size].sum(dim=-1)
    return e / s.unsqueeze(-1)


def _variant_validates_input(x, block_size):
    """The reference after a check of its own on the input (every entry finite, raising where
    not torch.isfinite(x).all(), as an assert would: one bool for the whole of x, which gives
    no number)."""
    if not torch.isfinite(x).all():
        raise ValueError("x must be finite")
    return _fold_blocks(x, block_size, range(0, x.shape[-1], block_size))


def _variant_guards_input(x, block_size):
    """The reference after guards of its own on the input: every entry finite, and none beyond
    1e30 in size (one test against a number, which tells where no max lies)."""
    if not torch.isfinite(x).all() or (x.abs() > 1e30).any():
        raise ValueError("x must be finite and below 1e30 in size")
    return _fold_blocks(x, block_size, range(0, x.shape[-1], block_size))


def _variant_bounds_input_by_its_max(x, block_size):
    """The reference after an assert of its own that the input is in range, on its largest
    size (x.abs().max() < 1e30): one bool of a whole-input max against a number, as (x.abs()
    > 1e30).any() is (refused as 'reduced 120 entries at once with max' before: the bool
    carried the max it was read off into the pass)."""
    if not x.abs().max() < 1e30:  # (as an assert would: a solution module may not assert)
        raise AssertionError("x must be below 1e30 in size")
    return _fold_blocks(x, block_size, range(0, x.shape[-1], block_size))


def _variant_bounds_input_both_ways(x, block_size):
    """The reference after a range check of its own on the input, both bounds (x.min() >
    -1e30 and x.max() < 1e30, asserted): two tests of each row against numbers."""
    if not (x.min() > -1e30 and x.max() < 1e30):  # (as an assert would)
        raise AssertionError("x must lie within 1e30 of 0")
    return _fold_blocks(x, block_size, range(0, x.shape[-1], block_size))


def _debug_print(*values):
    """print(*values), as a learner's debugging line calls it (str, repr and format of each
    value), into a screen no one reads: a correct variant's check may print nothing."""
    import io  # (here, not at the top: the starters show the module's imports)

    print(*values, file=io.StringIO())


def _variant_prints_input(x, block_size):
    """The reference after a debugging print of its input, print(x): text that shows every
    entry, none of whose numbers comes back into the pass (refused as 'read 40 entries of a
    row out of torch (by repr)' before: the pass's float("-inf") was taken for them)."""
    _debug_print("x is", x)
    return _fold_blocks(x, block_size, range(0, x.shape[-1], block_size))


def _variant_prints_input_named(x, block_size):
    """The reference after print(f"{x=}"), the input's repr in an f-string."""
    _debug_print(f"{x=}")
    return _fold_blocks(x, block_size, range(0, x.shape[-1], block_size))


def _variant_prints_input_listed(x, block_size):
    """The reference after print(x.tolist()): every entry out as a Python float, none of
    which goes back into torch."""
    _debug_print(x.tolist())
    return _fold_blocks(x, block_size, range(0, x.shape[-1], block_size))


def _variant_prints_input_in_numpy(x, block_size):
    """The reference after print(x.numpy()): the input read whole by numpy, nothing of numpy's
    coming back into torch."""
    _debug_print(x.cpu().numpy())
    return _fold_blocks(x, block_size, range(0, x.shape[-1], block_size))


def _variant_prints_an_entry(x, block_size):
    """The reference after a print of one entry as a Python float (float(x[0, 0]), for a
    1-d x too)."""
    _debug_print("first entry:", float(x.reshape(-1)[0]))
    return _fold_blocks(x, block_size, range(0, x.shape[-1], block_size))


def _variant_prints_row_max(x, block_size):
    """The reference after prints of the whole row's max (x.max(), x.amax(-1), and as a number
    by item()): a whole-row reduction whose result goes only to the screen."""
    _debug_print("max:", x.max(), x.amax(dim=-1), x.max().item())
    return _fold_blocks(x, block_size, range(0, x.shape[-1], block_size))


def _variant_prints_each_block(x, block_size):
    """The reference's loop with a debugging line in it: each block printed, and the running
    max as numbers (tolist), as it is read."""
    n = x.shape[-1]
    m = torch.full(x.shape[:-1], float("-inf"), dtype=x.dtype, device=x.device)
    s = torch.zeros(x.shape[:-1], dtype=x.dtype, device=x.device)
    for start in range(0, n, block_size):
        block = x[..., start : start + block_size]
        m_new = torch.maximum(m, block.amax(dim=-1))
        _debug_print(f"block at {start}: {block}, running max {m_new.tolist()}")
        s = s * torch.exp(m - m_new) + torch.exp(block - m_new.unsqueeze(-1)).sum(dim=-1)
        m = m_new
    return torch.exp(x - m.unsqueeze(-1)) / s.unsqueeze(-1)


def _variant_counts_bad_input(x, block_size):
    """The reference after a check of its own on the input that counts the bad entries
    (torch.isnan(x).sum(), count_nonzero of isinf), raising where there are any: what
    torch.isfinite(x).all() tells, counted."""
    if torch.isnan(x).sum() > 0 or torch.count_nonzero(torch.isinf(x)) > 0:
        raise ValueError("x must be finite")
    return _fold_blocks(x, block_size, range(0, x.shape[-1], block_size))


def _variant_deep_copy_into_resized(x, block_size):
    """The pass over a copy.deepcopy of x, its result copied into an empty buffer grown to x's
    shape by resize_: a copy and a buffer, neither of which gathers."""
    import copy

    y = copy.deepcopy(x)
    out = torch.empty(0, dtype=x.dtype, device=x.device)
    out.resize_(x.shape)
    return out.copy_(_fold_blocks(y, block_size, range(0, y.shape[-1], block_size)))


def _variant_at_least_2d_scattered(x, block_size):
    """The rows made 2-d by torch.atleast_2d (a 1-d x's reshape), their blocks copied out by
    narrow_copy, each block's outputs written into a copy of a zero by slice_scatter, and the
    whole added into another zero at distinct indices by index_add: a reshape, copies and
    writes, none of which gathers (each was refused as a whole-row reduction)."""
    n = x.shape[-1]
    rows = torch.atleast_2d(x).reshape(-1, n)
    starts = range(0, n, block_size)
    blocks = [rows.narrow_copy(-1, start, min(block_size, n - start)) for start in starts]
    m = rows.new_full(rows.shape[:-1], float("-inf"))
    s = rows.new_zeros(rows.shape[:-1])
    for block in blocks:
        m_new = torch.maximum(m, block.amax(dim=-1))
        s = s * torch.exp(m - m_new) + torch.exp(block - m_new.unsqueeze(-1)).sum(dim=-1)
        m = m_new
    out = torch.zeros_like(rows)
    for start, block in zip(starts, blocks):
        part = torch.exp(block - m.unsqueeze(-1)) / s.unsqueeze(-1)
        out = torch.slice_scatter(out, part, dim=-1, start=start, end=start + block.shape[-1])
    every = torch.arange(n, device=x.device)
    return torch.zeros_like(rows).index_add_(-1, every, out).reshape(x.shape)


def _variant_spelled_out(x, block_size):
    """The pass with torch's named aliases (torch.subtract, multiply, divide, which torch does
    not tag pointwise, as it does sub) and a base-2 exponential (torch.special.exp2), over
    the blocks torch.split makes."""
    log2e = 1.4426950408889634
    m = x.new_full(x.shape[:-1], float("-inf"))
    s = x.new_zeros(x.shape[:-1])
    for block in torch.split(x, block_size, dim=-1):
        m_new = torch.maximum(m, block.amax(dim=-1))
        rescale = torch.special.exp2(torch.multiply(torch.subtract(m, m_new), log2e))
        s = s * rescale + torch.exp2((block - m_new.unsqueeze(-1)) * log2e).sum(dim=-1)
        m = m_new
    return torch.divide(torch.exp(torch.subtract(x, m.unsqueeze(-1))), s.unsqueeze(-1))


def _variant_padded_and_unfolded(x, block_size):
    """The row padded with -inf to whole blocks (F.pad), its blocks a view (unfold), read one
    by one (unbind); the padding's exp(-inf - m) = 0 adds nothing, and where() writes 0 for
    it at the end."""
    n = x.shape[-1]
    padded = torch.nn.functional.pad(x, (0, -n % block_size), value=float("-inf"))
    m = torch.full(x.shape[:-1], float("-inf"), dtype=x.dtype, device=x.device)
    s = torch.zeros_like(m)
    for block in padded.unfold(-1, block_size, block_size).unbind(-2):
        m_new = torch.maximum(m, block.amax(dim=-1))
        s = s * torch.exp(m - m_new) + torch.exp(block - m_new.unsqueeze(-1)).sum(dim=-1)
        m = m_new
    e = torch.exp(x - m.unsqueeze(-1))
    return torch.where(torch.isneginf(x), torch.zeros_like(x), e) * s.reciprocal().unsqueeze(-1)


@fails_with("reduced 40 entries at once with max")
def _wrong_max_as_numbers(x, block_size):
    """The two-pass softmax whose max per row is taken out of torch as a Python number (item)
    and put back with torch.tensor, then the sum of exp(x - max) block by block."""
    rows = x.reshape(-1, x.shape[-1])
    m = torch.tensor([row.max().item() for row in rows], dtype=x.dtype, device=x.device)
    return _summed_by_blocks(torch.exp(x - m.reshape(*x.shape[:-1], 1)), block_size)


@fails_with("reduced 40 entries at once with amax")
def _wrong_two_pass_in_the_output(x, block_size):
    """The two-pass softmax written in place into a copy of x that is returned: the max of the
    whole row subtracted from it, then the sum of its blocks; the row's max went into the
    output through its storage."""
    out = x.clone()
    out.sub_(out.amax(dim=-1, keepdim=True)).exp_()
    s = torch.zeros(x.shape[:-1], dtype=x.dtype, device=x.device)
    for start in range(0, x.shape[-1], block_size):
        s = s + out[..., start : start + block_size].sum(dim=-1)
    return out.div_(s.unsqueeze(-1))


@fails_with("reduced 40 entries at once with amax")
def _wrong_max_into_out_buffer(x, block_size):
    """The two-pass softmax whose row max is written into a buffer by out= (torch.amax(x, -1,
    out=buf)) and read back through a view of the buffer made before: the max reaches the
    output through the buffer's storage."""
    buf = torch.empty(x.shape[:-1], dtype=x.dtype, device=x.device)
    view = buf[...]
    torch.amax(x, -1, out=buf)
    return _summed_by_blocks(torch.exp(x - view.unsqueeze(-1)), block_size)


@fails_with("read 40 entries of a row out of torch (by numpy)")
def _wrong_max_in_numpy(x, block_size):
    """The two-pass softmax whose row max is taken in numpy (x.numpy().max(-1)), then the sum
    of exp(x - max) block by block in torch."""
    m = torch.from_numpy(x.cpu().numpy().max(axis=-1, keepdims=True)).to(x.device)
    return _summed_by_blocks(torch.exp(x - m), block_size)


@fails_with("read 40 entries of a row out of torch (by numpy)")
def _wrong_exp_in_numpy(x, block_size):
    """The two-pass softmax whose row max and exp(x - max) are made in numpy, brought back by
    torch.from_numpy, then summed block by block in torch: none of the numbers that come back
    is one that left torch, but numpy made them from the row it read."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    xn = x.cpu().numpy()
    e = torch.from_numpy(np.exp(xn - xn.max(axis=-1, keepdims=True))).to(x.device)
    return _summed_by_blocks(e, block_size)


@fails_with("read 40 entries of a row out of torch (by tolist)")
def _wrong_max_of_listed_rows(x, block_size):
    """The two-pass softmax whose row max is Python's max over the row as a list (tolist),
    then the sum of exp(x - max) block by block in torch."""
    rows = x.reshape(-1, x.shape[-1])
    m = torch.tensor([max(row.tolist()) for row in rows], dtype=x.dtype, device=x.device)
    return _summed_by_blocks(torch.exp(x - m.reshape(*x.shape[:-1], 1)), block_size)


@fails_with("read 40 entries of a row out of torch (by tolist)")
def _wrong_shifted_max_of_listed_rows(x, block_size):
    """The two-pass softmax whose row max is Python's max over the row as a list, printed, then
    raised by 1 (exp(x - c) for any c above the max is as safe), then the sum of exp(x - c)
    block by block: no number that comes back is one that left torch, but the floats tolist
    gave carry where they came from through Python's arithmetic."""
    rows = x.reshape(-1, x.shape[-1])
    _debug_print(x)
    tops = [max(row.tolist()) + 1.0 for row in rows]
    m = torch.tensor(tops, dtype=x.dtype, device=x.device)
    return _summed_by_blocks(torch.exp(x - m.reshape(*x.shape[:-1], 1)), block_size)


@fails_with("read 40 entries of a row out of torch (by float)")
def _wrong_max_of_entry_floats(x, block_size):
    """The two-pass softmax whose row max is Python's max over float(t) of each entry, then
    the sum of exp(x - max) block by block in torch."""
    rows = x.reshape(-1, x.shape[-1])
    m = torch.tensor([max(float(t) for t in row) for row in rows], dtype=x.dtype)
    return _summed_by_blocks(torch.exp(x - m.to(x.device).reshape(*x.shape[:-1], 1)), block_size)


@fails_with("read 40 entries of a row out of torch (by item)")
def _wrong_max_of_entry_items(x, block_size):
    """The two-pass softmax whose row max is Python's max over item() of each entry (each a
    number of one entry: the one max() returns was compared with the others), then the sum
    of exp(x - max) block by block in torch."""
    rows = x.reshape(-1, x.shape[-1])
    m = torch.tensor([max(t.item() for t in row) for row in rows], dtype=x.dtype)
    return _summed_by_blocks(torch.exp(x - m.to(x.device).reshape(*x.shape[:-1], 1)), block_size)


@fails_with("read 40 entries of a row out of torch (by tolist)")
def _wrong_max_of_entry_lists(x, block_size):
    """The two-pass softmax whose row max is Python's max over each entry read as a list of
    one (entry.reshape(1).tolist()[0]): each float holds one entry, and the one max() returns
    was compared with the others (`_comparing`), then the sum of exp(x - max) by blocks."""
    rows = x.reshape(-1, x.shape[-1])
    tops = [max(t.reshape(1).tolist()[0] for t in row) for row in rows]
    m = torch.tensor(tops, dtype=x.dtype, device=x.device)
    return _summed_by_blocks(torch.exp(x - m.reshape(*x.shape[:-1], 1)), block_size)


@fails_with("reduced 40 entries at once with amax")
def _wrong_max_through_format(x, block_size):
    """The two-pass softmax whose row max (amax) leaves torch as text, f"{row.amax():.9g}",
    and is parsed back by float(), then the sum of exp(x - max) block by block."""
    rows = x.reshape(-1, x.shape[-1])
    m = torch.tensor([float(f"{row.amax():.9g}") for row in rows], dtype=x.dtype)
    return _summed_by_blocks(torch.exp(x - m.to(x.device).reshape(*x.shape[:-1], 1)), block_size)


@fails_with("read 40 entries of a row out of torch (by repr)")
def _wrong_max_of_repr(x, block_size):
    """The two-pass softmax whose row max is Python's max over the row's repr() parsed back
    (its entries to 4 decimals: a max need not be exact), then the sum of exp(x - max) block
    by block."""
    rows = x.reshape(-1, x.shape[-1])
    listed = [repr(row).partition("[")[2].partition("]")[0].split(",") for row in rows]
    m = torch.tensor([max(float(v) for v in row) for row in listed], dtype=x.dtype)
    return _summed_by_blocks(torch.exp(x - m.to(x.device).reshape(*x.shape[:-1], 1)), block_size)


@fails_with("read 40 entries of a row out of torch (by bool)")
def _wrong_max_by_comparisons(x, block_size):
    """The two-pass softmax whose row max is found by comparing entries, `if entry > m: m =
    entry` over each row (a bool read out of torch per entry, no number), then the sum of
    exp(x - max) block by block."""
    rows = x.reshape(-1, x.shape[-1])
    found = []
    for row in rows:
        top = row[0]
        for entry in row:
            if entry > top:
                top = entry
        found.append(top)
    m = torch.stack(found).reshape(*x.shape[:-1], 1)
    return _summed_by_blocks(torch.exp(x - m), block_size)


@fails_with("60 tests of it against numbers")
def _wrong_max_by_bisection(x, block_size):
    """The two-pass softmax whose row max is found by bisection, `(row > c).any()` sixty times
    (a test of the whole row, one bool each), then the sum of exp(x - max) block by block."""
    rows = x.reshape(-1, x.shape[-1])
    found = []
    for row in rows:
        lo, hi = -1e4, 1e4  # (the check's entries lie within 5,000 of 0)
        for _ in range(60):
            c = (lo + hi) / 2
            lo, hi = (c, hi) if (row > c).any() else (lo, c)
        found.append(hi)
    m = torch.tensor(found, dtype=x.dtype, device=x.device).reshape(*x.shape[:-1], 1)
    return _summed_by_blocks(torch.exp(x - m), block_size)


@fails_with("60 tests of it against numbers")
def _wrong_max_by_bisection_on_row_max(x, block_size):
    """The two-pass softmax whose row max is found by bisection on `row.max() > c` sixty times
    (a bool of the row's max against a number, a test as `(row > c).any()` is), then the sum
    of exp(x - max) block by block."""
    rows = x.reshape(-1, x.shape[-1])
    found = []
    for row in rows:
        lo, hi = -1e4, 1e4  # (the check's entries lie within 5,000 of 0)
        for _ in range(60):
            c = (lo + hi) / 2
            lo, hi = (c, hi) if row.max() > c else (lo, c)
        found.append(hi)
    m = torch.tensor(found, dtype=x.dtype, device=x.device).reshape(*x.shape[:-1], 1)
    return _summed_by_blocks(torch.exp(x - m), block_size)


def _variant_log_output(x, block_size):
    """Keeps (m, s), then outputs exp((x - m) - log s): x - m is exact, log s small."""
    m, s = _folded_state(x, block_size, range(0, x.shape[-1], block_size))
    return torch.exp(x - m.unsqueeze(-1) - torch.log(s).unsqueeze(-1))


def _variant_scalar_loop(x, block_size):
    """Row by row with Python floats, the textbook two-pass online normaliser."""
    import math

    rows = x.reshape(-1, x.shape[-1]).tolist()
    out = []
    for row in rows:
        m, s = float("-inf"), 0.0
        for start in range(0, len(row), block_size):
            block = row[start : start + block_size]
            m_new = max(m, max(block))
            s = s * math.exp(m - m_new) + sum(math.exp(v - m_new) for v in block)
            m = m_new
        out.append([math.exp(v - m) / s for v in row])
    return torch.tensor(out, dtype=x.dtype, device=x.device).reshape(x.shape)


def _variant_numpy_blocks(x, block_size):
    """The whole pass in numpy: x read out once (numpy()), its blocks folded into (m, s) as
    numpy arrays, the output made in numpy and brought back by torch.from_numpy."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    xn = x.cpu().numpy()
    m = np.full(xn.shape[:-1], -np.inf, dtype=xn.dtype)
    s = np.zeros(xn.shape[:-1], dtype=xn.dtype)
    for start in range(0, xn.shape[-1], block_size):
        block = xn[..., start : start + block_size]
        m_new = np.maximum(m, block.max(axis=-1))
        s = s * np.exp(m - m_new) + np.exp(block - m_new[..., None]).sum(axis=-1)
        m = m_new
    return torch.from_numpy(np.exp(xn - m[..., None]) / s[..., None]).to(x.device)


def _variant_block_max_as_numbers(x, block_size):
    """Each block's max taken in Python (max of the block's tolist(), row by row) as it is
    read, its sum of exp(block - m_new) in torch: numbers out of a block, back into the pass
    at that block."""
    m = torch.full(x.shape[:-1], float("-inf"), dtype=x.dtype, device=x.device)
    s = torch.zeros_like(m)
    for start in range(0, x.shape[-1], block_size):
        block = x[..., start : start + block_size]
        listed = block.reshape(-1, block.shape[-1]).tolist()
        top = torch.tensor([max(row) for row in listed], dtype=x.dtype, device=x.device)
        m_new = torch.maximum(m, top.reshape(m.shape))
        s = s * torch.exp(m - m_new) + torch.exp(block - m_new.unsqueeze(-1)).sum(dim=-1)
        m = m_new
    return torch.exp(x - m.unsqueeze(-1)) / s.unsqueeze(-1)


def _variant_block_max_as_numbers_after_print(x, block_size):
    """print(x.tolist()), then each block's max taken in Python from the block's own tolist():
    the floats that come back carry the block they were read from, not the row printed."""
    _debug_print(x.tolist())
    return _variant_block_max_as_numbers(x, block_size)


def _variant_block_max_in_numpy_after_print(x, block_size):
    """print(x.numpy()), then each block's max taken in numpy (block.numpy().max(-1), back by
    torch.from_numpy) as it is read: a value that comes back is taken for the last read that
    held it, the block's, not the row printed before."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    _debug_print(x.cpu().numpy())
    m = torch.full(x.shape[:-1], float("-inf"), dtype=x.dtype, device=x.device)
    s = torch.zeros_like(m)
    for start in range(0, x.shape[-1], block_size):
        block = x[..., start : start + block_size]
        top = torch.from_numpy(np.asarray(block.cpu().numpy().max(axis=-1))).to(x.device)
        m_new = torch.maximum(m, top)
        s = s * torch.exp(m - m_new) + torch.exp(block - m_new.unsqueeze(-1)).sum(dim=-1)
        m = m_new
    return torch.exp(x - m.unsqueeze(-1)) / s.unsqueeze(-1)


def _variant_blocks_of_numpy_copy(x, block_size):
    """x read out whole by numpy() first, then each block of that copy taken back into torch
    (torch.from_numpy) and folded into (m, s) in turn: the copy's blocks are x's entries in
    their places, not a max found over the row (refused as 'read 40 entries of a row out of
    torch (by numpy)' before `_copies_a_block`)."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    xn = x.cpu().numpy()
    m = torch.full(x.shape[:-1], float("-inf"), dtype=x.dtype, device=x.device)
    s = torch.zeros_like(m)
    for start in range(0, xn.shape[-1], block_size):
        block = torch.from_numpy(np.ascontiguousarray(xn[..., start : start + block_size]))
        block = block.to(x.device)
        m_new = torch.maximum(m, block.amax(dim=-1))
        s = s * torch.exp(m - m_new) + torch.exp(block - m_new.unsqueeze(-1)).sum(dim=-1)
        m = m_new
    return torch.exp(x - m.unsqueeze(-1)) / s.unsqueeze(-1)


def _variant_blocks_of_flat_numpy_copy(x, block_size):
    """As `_variant_blocks_of_numpy_copy` on the copy's rows, x.numpy().reshape(-1, n): its
    blocks of shape (rows, k) hold x's, whichever shape x had (for a 1-d x, refused as 'read
    37 entries of a row out of torch (by numpy)' where `_copies_a_block` asked for x's own
    leading shape)."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    n = x.shape[-1]
    rows = x.cpu().numpy().reshape(-1, n)
    m = torch.full((len(rows),), float("-inf"), dtype=x.dtype, device=x.device)
    s = torch.zeros_like(m)
    for start in range(0, n, block_size):
        block = torch.from_numpy(np.ascontiguousarray(rows[:, start : start + block_size]))
        block = block.to(x.device)
        m_new = torch.maximum(m, block.amax(dim=-1))
        s = s * torch.exp(m - m_new) + torch.exp(block - m_new.unsqueeze(-1)).sum(dim=-1)
        m = m_new
    return (torch.exp(x.reshape(-1, n) - m.unsqueeze(-1)) / s.unsqueeze(-1)).reshape(x.shape)


def _variant_blocks_of_listed_rows(x, block_size):
    """Row by row from x.tolist(), each block of the row's list made a tensor again
    (torch.tensor(row[start : start + block_size])) and folded into (m, s) in torch, the
    output made of the whole list again (refused as 'read 40 entries of a row out of torch
    (by tolist)' before `_copies_a_block`)."""
    out = []
    for row in x.reshape(-1, x.shape[-1]).tolist():
        m = torch.tensor(float("-inf"), dtype=x.dtype, device=x.device)
        s = torch.zeros_like(m)
        for start in range(0, len(row), block_size):
            block = torch.tensor(row[start : start + block_size], dtype=x.dtype, device=x.device)
            m_new = torch.maximum(m, block.amax())
            s = s * torch.exp(m - m_new) + torch.exp(block - m_new).sum()
            m = m_new
        out.append(torch.exp(torch.tensor(row, dtype=x.dtype, device=x.device) - m) / s)
    return torch.stack(out).reshape(x.shape)


def _variant_state_from_numpy_after_print(x, block_size):
    """print(x.numpy()), then the state started in numpy (np.full(-inf), np.zeros) and brought
    in by torch.from_numpy and torch.tensor, the pass in torch: numbers numpy made without
    reading an entry (refused as 'read 40 entries of a row out of torch (by numpy)' before
    `_literals`)."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    _debug_print(x.cpu().numpy())
    m = torch.from_numpy(np.full(x.shape[:-1], -np.inf)).to(x.device, x.dtype)
    s = torch.tensor(np.zeros(x.shape[:-1]), dtype=x.dtype, device=x.device)
    for start in range(0, x.shape[-1], block_size):
        block = x[..., start : start + block_size]
        m_new = torch.maximum(m, block.amax(dim=-1))
        s = s * torch.exp(m - m_new) + torch.exp(block - m_new.unsqueeze(-1)).sum(dim=-1)
        m = m_new
    return torch.exp(x - m.unsqueeze(-1)) / s.unsqueeze(-1)


@fails_with("read 40 entries of a row out of torch (by numpy)")
def _wrong_whole_max_in_numpy(x, block_size):
    """The two-pass softmax whose row max is taken in numpy and rounded up to a whole number
    (np.ceil: exp(x - c) is as safe for any c above the max), then the sum of exp(x - c)
    block by block: a whole number, but none that a pass writes for its state (`_literals`)."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    c = np.ceil(x.cpu().numpy().max(axis=-1, keepdims=True))
    return _summed_by_blocks(torch.exp(x - torch.from_numpy(c).to(x.device)), block_size)


@fails_with("read 40 entries of a row out of torch (by numpy)")
def _wrong_max_at_numpy_argmax(x, block_size):
    """The two-pass softmax whose row max is picked in torch at the index numpy found
    (x.gather(-1, torch.from_numpy(x.numpy().argmax(-1)))): no float comes back, the index
    does (accepted before: only numpy's floats were followed)."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    at = torch.from_numpy(np.asarray(x.cpu().numpy().argmax(axis=-1)))
    m = x.gather(-1, at.to(x.device).unsqueeze(-1))
    return _summed_by_blocks(torch.exp(x - m), block_size)


@fails_with("read 40 entries of a row out of torch (by numpy)")
def _wrong_max_at_numpy_argmax_indexed(x, block_size):
    """As `_wrong_max_at_numpy_argmax`, the row max read by indexing with numpy's arrays
    (rows[np.arange(r), argmax]): numpy's ints straight into a torch call."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    rows = x.reshape(-1, x.shape[-1])
    at = rows.cpu().numpy().argmax(axis=-1)
    m = rows[np.arange(len(at)), at].reshape(*x.shape[:-1], 1)
    return _summed_by_blocks(torch.exp(x - m), block_size)


@fails_with("read 40 entries of a row out of torch (by numpy)")
def _wrong_max_in_numpy_over_copied_blocks(x, block_size):
    """The two-pass softmax on a numpy copy of x: the row max taken in numpy, then the blocks
    of the copy taken back by torch.from_numpy and summed: the blocks are x's entries, which
    come back free, but the max is none of the copy's runs (`_copies_a_block`)."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    xn = x.cpu().numpy()
    m = torch.from_numpy(xn.max(axis=-1, keepdims=True)).to(x.device)
    s = torch.zeros(x.shape[:-1], dtype=x.dtype, device=x.device)
    for start in range(0, xn.shape[-1], block_size):
        block = torch.from_numpy(np.ascontiguousarray(xn[..., start : start + block_size]))
        s = s + torch.exp(block.to(x.device) - m).sum(dim=-1)
    return torch.exp(x - m) / s.unsqueeze(-1)


@fails_with("read 40 entries of a row out of torch (by numpy)")
def _wrong_row_max_in_numpy_over_copied_blocks(x, block_size):
    """As `_wrong_max_in_numpy_over_copied_blocks` row by row: each row's max in numpy, kept
    as an array of one (keepdims), a tensor of one entry as a short last block is."""
    rows = x.cpu().numpy().reshape(-1, x.shape[-1])
    out = []
    for row in rows:
        m = torch.from_numpy(row.max(keepdims=True)).to(x.device)
        s = torch.zeros((), dtype=x.dtype, device=x.device)
        for start in range(0, row.shape[-1], block_size):
            block = torch.from_numpy(row[start : start + block_size].copy()).to(x.device)
            s = s + torch.exp(block - m).sum()
        out.append(torch.exp(torch.from_numpy(row.copy()).to(x.device) - m) / s)
    return torch.stack(out).reshape(x.shape)


# --- checker: running_stats_update ------------------------------------------------------------


LAST_DIM_HINT = (
    "m and s may have any shape (...), x_block then (..., b): the block's entries lie along "
    "its last dimension, so reduce and broadcast over dim=-1 (amax(dim=-1), unsqueeze(-1), "
    "sum(dim=-1)), not dim=1"
)


def _diagnose_update(s_got, m, s, xb, m_new, default):
    """Name the mistake whose formula gives s_got, if one does."""
    old = torch.where(torch.isinf(m), torch.zeros_like(s), s)  # the empty state's sum is 0
    block_new = torch.exp(xb - m_new.unsqueeze(-1)).sum(-1)
    ref_old = torch.where(torch.isinf(m), m_new, m)
    mistakes = [
        (old + block_new, "the old sum was not rescaled: multiply it by exp(m - m_new)"),
        (
            old * torch.exp(m - m_new) + torch.exp(xb - ref_old.unsqueeze(-1)).sum(-1),
            "the block's terms were measured against the old max: use exp(x_j - m_new)",
        ),
        (
            old * torch.exp(m_new - ref_old) + block_new,
            "the old sum was rescaled by exp(m_new - m): the factor is exp(m - m_new), at most 1",
        ),
    ]
    if isinstance(s_got, torch.Tensor) and s_got.shape == s.shape:
        for value, text in mistakes:
            right = old * torch.exp(m - m_new) + block_new
            if torch.allclose(
                s_got.double(), value.double(), atol=1e-10, rtol=1e-10
            ) and not torch.allclose(value, right):
                return text
    return default


def check_running_stats_update(impl, device="cpu"):
    gen = torch.Generator().manual_seed(1)
    hint = "s_new = s * exp(m - m_new) + sum_j exp(x_j - m_new), with m_new = max(m, max_j x_j)"

    # Single steps from a known state.
    cases = [
        (torch.tensor([5.0]), torch.tensor([2.0]), torch.tensor([[1.0, 3.0]])),  # max unchanged
        (torch.tensor([1.0]), torch.tensor([2.0]), torch.tensor([[4.0, 0.0]])),  # max grows
        (torch.tensor([float("-inf")]), torch.tensor([0.0]), torch.tensor([[0.5, -1.0, 2.0]])),
        (
            torch.tensor([3.0, -2.0]),
            torch.tensor([1.5, 4.0]),
            torch.tensor([[3.0, 2.0], [7.0, -9.0]]),
        ),
    ]
    # Other leading shapes: a single row (0-d state, 1-D block) and a (2, 3) grid of rows
    # (the block (2, 3, b)); the block's entries lie along its last dimension either way.
    leading = [
        (torch.tensor(float("-inf")), torch.tensor(0.0), torch.tensor([1.0, 2.0])),
        (torch.tensor(1.5), torch.tensor(2.0), torch.tensor([0.5, 3.0, -1.0])),
        (
            torch.tensor([[float("-inf"), 0.5, 4.0], [1.0, float("-inf"), -2.0]]),
            torch.tensor([[0.0, 1.0, 2.5], [3.0, 0.0, 1.0]]),
            torch.arange(18.0).reshape(2, 3, 3) / 4,
        ),
    ]
    for index, (m, s, xb) in enumerate(cases + leading):
        m, s, xb = m.double().to(device), s.double().to(device), xb.double().to(device)
        other_shape = index >= len(cases)
        default = LAST_DIM_HINT if other_shape else hint
        what = f"running_stats_update(m={describe(m)}, s={describe(s)}, x_block={describe(xb)})"
        with hinted(LAST_DIM_HINT if other_shape else ""):
            got = call(impl, what, m.clone(), s.clone(), xb.clone())
        expect_pair(got, ("m_new", "s_new"), what, tensors=True)
        m_want = torch.maximum(m, xb.max(dim=-1).values)
        # Ground truth for s_new: the exact sum of everything seen, measured against m_new,
        # where "everything seen before" is s * exp(m) (finite for these small values).
        s_want = (s * torch.exp(m) + torch.exp(xb).sum(-1)) / torch.exp(m_want)
        m_hint = LAST_DIM_HINT if other_shape else ""
        assert_close(got[0], m_want, what + " -> m_new", atol=1e-12, rtol=1e-12, hint=m_hint)
        assert_close(
            got[1],
            s_want,
            what + " -> s_new",
            atol=1e-10,
            rtol=1e-10,
            hint=_diagnose_update(got[1], m, s, xb, m_want, default),
        )

    # Folding whole rows block by block from the empty state gives max and sum exp(x - max).
    for rows, n, block_size, scale in [
        (3, 10, 3, 1.0),
        (2, 33, 8, 5.0),
        (4, 50, 7, 1000.0),
        (1, 9, 1, 300.0),
        (2, 12, 12, 2.0),
    ]:
        x = (torch.randn(rows, n, generator=gen, dtype=torch.float64) * scale).to(device)
        m = torch.full((rows,), float("-inf"), dtype=torch.float64, device=device)
        s = torch.zeros(rows, dtype=torch.float64, device=device)
        what = f"folding x of shape ({rows}, {n}) (scale {scale:g}) in blocks of {block_size}"
        for start in range(0, n, block_size):
            got = call(impl, what, m, s, x[:, start : start + block_size])
            m, s = expect_pair(got, ("m_new", "s_new"), what, tensors=True)
        m_want = x.max(dim=-1).values
        s_want = torch.exp(torch.logsumexp(x, dim=-1) - m_want)
        assert_close(m, m_want, what + " -> final m", atol=1e-12, rtol=1e-12)
        assert_close(s, s_want, what + " -> final s", atol=1e-9, rtol=1e-9, hint=hint)

    _check_float32_fold(impl, gen, device)


UPDATE_LOG_STATE_HINT = (
    "nothing overflowed, but digits were lost: a state passed through one log-sum-exp number "
    "(l = m + log s, then s_new = exp(l_new - m_new)) is rounded to float32's spacing near "
    "1000 (6e-5), 3e-5 relative in s; update s itself: s * exp(m - m_new) + sum exp(x_j - m_new)"
)


def _check_float32_fold(impl, gen, device):
    """Rows of float32 scores near 1000 folded in blocks of 5: the state stays in float32, and
    the update keeps s to float32's precision (about 2e-7 relative here), where a detour
    through the log-sum-exp m + log s, exact enough in float64, loses 4e-5."""
    x = (1000.0 + 3.0 * torch.randn(8, 24, generator=gen, dtype=torch.float64)).float().to(device)
    m = torch.full((8,), float("-inf"), device=device)
    s = torch.zeros(8, device=device)
    what = "folding float32 x of shape (8, 24) (values near 1000) in blocks of 5"
    for start in range(0, 24, 5):
        got = call(impl, what, m, s, x[:, start : start + 5])
        m, s = expect_pair(
            got,
            ("m_new", "s_new"),
            what,
            torch.float32,
            " for a float32 state and block: the state stays in the inputs' dtype",
        )
    truth = x.double()
    m_want = truth.max(dim=-1).values
    s_want = torch.exp(torch.logsumexp(truth, dim=-1) - m_want)
    assert_close(m, m_want, what + " -> final m", atol=0.0, rtol=0.0)
    assert_close(s, s_want, what + " -> final s", atol=1e-6, rtol=1e-5, hint=UPDATE_LOG_STATE_HINT)


@fails_with("the old sum was not rescaled")
def _wrong_update_no_rescale(m, s, x_block):
    """Adds the new block's sum without rescaling the old sum to the new max."""
    m_new = torch.maximum(m, x_block.amax(dim=-1))
    return m_new, s + torch.exp(x_block - m_new.unsqueeze(-1)).sum(dim=-1)


@fails_with("measured against the old max")
def _wrong_update_old_max(m, s, x_block):
    """Rescales the old sum but measures the new block against the old max m."""
    m_new = torch.maximum(m, x_block.amax(dim=-1))
    ref = torch.where(torch.isinf(m), m_new, m)
    return m_new, s * torch.exp(m - m_new) + torch.exp(x_block - ref.unsqueeze(-1)).sum(dim=-1)


@fails_with("rescaled by exp(m_new - m)")
def _wrong_update_inverted(m, s, x_block):
    """Rescales the old sum by exp(m_new - m) instead of exp(m - m_new)."""
    m_new = torch.maximum(m, x_block.amax(dim=-1))
    factor = torch.where(torch.isinf(m), torch.zeros_like(m), torch.exp(m_new - m))
    return m_new, s * factor + torch.exp(x_block - m_new.unsqueeze(-1)).sum(dim=-1)


@fails_with("a state passed through one log-sum-exp number")
def _wrong_update_log_state(m, s, x_block):
    """Goes through the log-sum-exp l = m + log s and back, s_new = exp(l_new - m_new): exact
    in float64, but l near 1000 is rounded to 6e-5 in float32."""
    lse = m + torch.log(s)  # -inf for the empty state
    m_new = torch.maximum(m, x_block.amax(dim=-1))
    terms = torch.exp(x_block - m_new.unsqueeze(-1)).sum(dim=-1)
    lse_new = m_new + torch.log(torch.exp(lse - m_new) + terms)
    return m_new, torch.exp(lse_new - m_new)


@fails_with("the state stays in the inputs' dtype")
def _wrong_update_upcast(m, s, x_block):
    """Folds the block in float64 (m.double(), ...) and returns that: right numbers, but the
    state leaves the inputs' dtype."""
    return running_stats_update(m.double(), s.double(), x_block.double())


@fails_with("reduce and broadcast over dim=-1")
def _wrong_update_dim1(m, s, x_block):
    """Reduces and broadcasts over dim=1, right only for a state of shape (rows,)."""
    m_new = torch.maximum(m, x_block.amax(dim=1))
    return m_new, s * torch.exp(m - m_new) + torch.exp(x_block - m_new.unsqueeze(1)).sum(dim=1)


@fails_with("the max and the sum must be gathered block by block")
def _wrong_two_pass(x, block_size):
    """The two-pass softmax: ignores block_size, takes the max of the whole row, then the sum of
    exp(x - max) over it; right numbers, no running state."""
    m = x.amax(dim=-1, keepdim=True)
    e = torch.exp(x - m)
    return e / e.sum(dim=-1, keepdim=True)


def _variant_vectorised_blocks(x, block_size):
    """No Python loop over blocks: pad the row to whole blocks with -inf, reduce every block
    at once to its (max, sum of exp), then combine the block summaries with the same rescaling."""
    n = x.shape[-1]
    blocks = -(-n // block_size)
    pad = torch.full((*x.shape[:-1], blocks * block_size - n), float("-inf"), dtype=x.dtype)
    xb = torch.cat((x, pad.to(x.device)), dim=-1).reshape(*x.shape[:-1], blocks, block_size)
    m_b = xb.amax(dim=-1)  # (..., blocks): every block holds at least one real entry
    s_b = torch.exp(xb - m_b.unsqueeze(-1)).sum(dim=-1)
    m = m_b.amax(dim=-1, keepdim=True)
    s = (s_b * torch.exp(m_b - m)).sum(dim=-1, keepdim=True)
    return torch.exp(x - m) / s


@fails_with("the answer calls softmax")
def _wrong_calls_library(x, block_size):
    """Calls torch.softmax instead of keeping a running max and sum."""
    return torch.softmax(x, dim=-1)


@fails_with("the answer calls _softmax")
def _wrong_calls_the_operator(x, block_size):
    """Calls the softmax operator itself (torch.ops.aten._softmax), past a check of names."""
    return torch.ops.aten._softmax(x, -1, False)


@fails_with("the answer calls special_softmax")
def _wrong_calls_special(x, block_size):
    """Calls torch.special.softmax, whose operator is named special_softmax, past a check of
    the name softmax alone."""
    return torch.special.softmax(x, -1)


@fails_with("the answer calls cross_entropy")
def _wrong_cross_entropy_normaliser(x, block_size):
    """Takes each row's log-sum-exp from F.cross_entropy (logsumexp(x) - x[target]) with target
    0: a softmax routine in a loss, over the whole row at once."""
    rows = x.reshape(-1, x.shape[-1]).double()
    if rows.numel() == 0:
        return x.clone()
    first = torch.zeros(rows.shape[0], dtype=torch.long, device=x.device)
    lse = torch.nn.functional.cross_entropy(rows, first, reduction="none") + rows[:, 0]
    return torch.exp(rows - lse[:, None]).reshape(x.shape).to(x.dtype)


@fails_with("the answer calls _masked_softmax")
def _wrong_calls_masked(x, block_size):
    """Calls torch._masked_softmax with nothing masked, past a check of the public names."""
    nothing = torch.zeros(x.shape, dtype=torch.bool, device=x.device)
    return torch._masked_softmax(x, nothing, x.dim() - 1, 0)


@fails_with("went back to an earlier block")
def _wrong_two_pass_over_blocks(x, block_size):
    """The two-pass softmax, each pass one block at a time: the max over the blocks, then the
    sum of exp(block - max) over them again (no running state, no rescaling)."""
    n = x.shape[-1]
    starts = range(0, n, block_size)
    m = torch.full(x.shape[:-1], float("-inf"), dtype=x.dtype, device=x.device)
    for start in starts:
        m = torch.maximum(m, x[..., start : start + block_size].amax(dim=-1))
    s = torch.zeros_like(m)
    for start in starts:
        s = s + torch.exp(x[..., start : start + block_size] - m.unsqueeze(-1)).sum(dim=-1)
    return torch.exp(x - m.unsqueeze(-1)) / s.unsqueeze(-1)


@fails_with("went back to an earlier block")
def _wrong_two_pass_back_over_blocks(x, block_size):
    """The two-pass softmax block by block, its second pass from the last block back: the
    sums of the last two blocks come right after their maxima, as a pipelined pass's may,
    and the third from last is where it is seen."""
    starts = range(0, x.shape[-1], block_size)
    m = torch.full(x.shape[:-1], float("-inf"), dtype=x.dtype, device=x.device)
    for start in starts:
        m = torch.maximum(m, x[..., start : start + block_size].amax(dim=-1))
    s = torch.zeros_like(m)
    for start in reversed(starts):
        s = s + torch.exp(x[..., start : start + block_size] - m.unsqueeze(-1)).sum(dim=-1)
    return torch.exp(x - m.unsqueeze(-1)) / s.unsqueeze(-1)


def _variant_output_block_by_block(x, block_size):
    """One pass for (m, s), then a second loop over the blocks that only writes each block's
    outputs (as FlashAttention writes its output tiles): no reduction in it."""
    n = x.shape[-1]
    m, s = _folded_state(x, block_size, range(0, n, block_size))
    out = torch.empty_like(x)
    for start in range(0, n, block_size):
        block = x[..., start : start + block_size]
        out[..., start : start + block_size] = torch.exp(block - m.unsqueeze(-1)) / s.unsqueeze(-1)
    return out


def _variant_rows_output_block_by_block(x, block_size):
    """Row by row: each row's (m, s) in one pass over its blocks, then its outputs written
    block by block, before the next row's blocks are read."""
    n = x.shape[-1]
    rows = x.reshape(-1, n)
    out = torch.empty_like(rows)
    for i, row in enumerate(rows):
        m = torch.tensor(float("-inf"), dtype=x.dtype, device=x.device)
        s = torch.zeros((), dtype=x.dtype, device=x.device)
        for start in range(0, n, block_size):
            block = row[start : start + block_size]
            m_new = torch.maximum(m, block.max())
            s = s * torch.exp(m - m_new) + torch.exp(block - m_new).sum()
            m = m_new
        for start in range(0, n, block_size):
            out[i, start : start + block_size] = torch.exp(row[start : start + block_size] - m) / s
    return out.reshape(x.shape)


def _variant_pipelined(x, block_size):
    """One pass that reads the next block's max before it sums this block's terms (as a
    pipelined kernel prefetches the next tile): the sum of a block comes after the max of the
    block after it."""
    n = x.shape[-1]
    starts = list(range(0, n, block_size))
    m = torch.full(x.shape[:-1], float("-inf"), dtype=x.dtype, device=x.device)
    s = torch.zeros_like(m)
    ahead = x[..., :block_size].amax(dim=-1)
    for i, start in enumerate(starts):
        m_new = torch.maximum(m, ahead)
        if i + 1 < len(starts):
            ahead = x[..., starts[i + 1] : starts[i + 1] + block_size].amax(dim=-1)
        block = x[..., start : start + block_size]
        s = s * torch.exp(m - m_new) + torch.exp(block - m_new.unsqueeze(-1)).sum(dim=-1)
        m = m_new
    return torch.exp(x - m.unsqueeze(-1)) / s.unsqueeze(-1)


def _variant_blocks_last_first(x, block_size):
    """One pass over the blocks from the last to the first: (m, s) does not depend on the
    order the blocks are read in."""
    return _fold_blocks(x, block_size, reversed(range(0, x.shape[-1], block_size)))


@fails_with("went back to an earlier block")
def _wrong_two_pass_over_copied_blocks(x, block_size):
    """The two-pass softmax over copies of the blocks (cloned first): the max over them, then
    the sum of exp(block - max) over them again."""
    n = x.shape[-1]
    blocks = [x[..., start : start + block_size].clone() for start in range(0, n, block_size)]
    m = torch.full(x.shape[:-1], float("-inf"), dtype=x.dtype, device=x.device)
    for block in blocks:
        m = torch.maximum(m, block.amax(dim=-1))
    s = torch.zeros_like(m)
    for block in blocks:
        s = s + torch.exp(block - m.unsqueeze(-1)).sum(dim=-1)
    return torch.exp(x - m.unsqueeze(-1)) / s.unsqueeze(-1)


@fails_with("went back to an earlier block")
def _wrong_two_pass_over_picked_blocks(x, block_size):
    """The two-pass softmax over blocks picked by index (x.index_select(-1, idx), copies, not
    slices): the max over them, then the sum of exp(block - max) over them again."""
    n = x.shape[-1]
    picks = [torch.arange(start, min(start + block_size, n)) for start in range(0, n, block_size)]
    m = torch.full(x.shape[:-1], float("-inf"), dtype=x.dtype, device=x.device)
    for pick in picks:
        m = torch.maximum(m, x.index_select(-1, pick.to(x.device)).amax(dim=-1))
    s = torch.zeros_like(m)
    for pick in picks:
        s = s + torch.exp(x[..., pick.to(x.device)] - m.unsqueeze(-1)).sum(dim=-1)
    return torch.exp(x - m.unsqueeze(-1)) / s.unsqueeze(-1)


def _variant_picked_blocks(x, block_size):
    """One pass over blocks picked by index (copies, not slices of x)."""
    return _fold_blocks(x, block_size, range(0, x.shape[-1], block_size), picked=True)


@fails_with("modified its input x in place")
def _wrong_in_place(x, block_size):
    """Writes the softmax into x to save memory (x.sub_(m).exp_().div_(s)) and returns it: right
    values, but the caller's x is overwritten."""
    m, s = _folded_state(x, block_size, range(0, x.shape[-1], block_size))
    return x.sub_(m.unsqueeze(-1)).exp_().div_(s.unsqueeze(-1))


@fails_with("returned float64 for float32 x")
def _wrong_upcast(x, block_size):
    """Runs the pass in float64 (x.double()) and returns that: right numbers, wrong dtype."""
    return _fold_blocks(x.double(), block_size, range(0, x.shape[-1], block_size))


@fails_with("with topk, a whole row")
def _wrong_two_pass_in_disguise(x, block_size):
    """A two-pass softmax whose max is a topk and whose sum a product with ones."""
    e = torch.exp(x - torch.topk(x, 1, dim=-1).values)
    return e / (e @ torch.ones(x.shape[-1], dtype=x.dtype, device=x.device)).unsqueeze(-1)


def _softmax_of_rows(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x, dim=-1)


def _two_passes(x: torch.Tensor) -> torch.Tensor:
    e = torch.exp(x - x.amax(dim=-1, keepdim=True))
    return e / e.sum(dim=-1, keepdim=True)


@fails_with("the answer calls softmax")
def _wrong_scripted_library(x, block_size):
    """Calls torch.softmax in a TorchScript function, whose operations TorchScript's own
    interpreter ran, out of a watch of torch's Python calls."""
    return torch.jit.script(_softmax_of_rows)(x)


@fails_with("amax, a whole row")
def _wrong_traced_two_pass(x, block_size):
    """A two-pass softmax traced by torch.jit.trace, its passes run by TorchScript."""
    return torch.jit.trace(_two_passes, (x,))(x)


# (taken as the module loads: forbid watches calls, not names, so the alias is seen too)
_SAVED_SOFTMAX = torch.nn.functional.softmax


@fails_with("the answer calls softmax")
def _wrong_calls_saved_alias(x, block_size):
    """Calls F.softmax through a name the module took for it as it loaded."""
    return _SAVED_SOFTMAX(x, dim=-1)


@fails_with("the answer calls softmax")
def _wrong_calls_through_the_class(x, block_size):
    """Calls the softmax method through torch.Tensor's class, not the tensor."""
    return torch.Tensor.softmax(x, -1)


@fails_with("the answer calls softmax")
def _wrong_calls_the_binding(x, block_size):
    """Calls the C binding torch.softmax is (torch._C._VariableFunctions.softmax)."""
    return torch._C._VariableFunctions.softmax(x, -1)


@fails_with("the answer calls softmax.int")
def _wrong_calls_an_overload(x, block_size):
    """Calls the public softmax operator's overload (torch.ops.aten.softmax.int)."""
    return torch.ops.aten.softmax.int(x, -1)


@fails_with("the answer calls _softmax")
def _wrong_calls_private_softmax(x, block_size):
    """Calls torch._softmax, the private name of the operator."""
    return torch._softmax(x, -1, False)


@fails_with("the answer calls cross_entropy_loss")
def _wrong_calls_the_loss_binding(x, block_size):
    """Takes each row's log-sum-exp from torch._C._nn.cross_entropy_loss, F.cross_entropy's
    binding: with the row's max as the target, the loss is log-sum-exp(x) - max(x)."""
    rows = x.reshape(-1, x.shape[-1])
    top = rows.argmax(dim=-1)
    loss = torch._C._nn.cross_entropy_loss(rows, top, None, 0, -100, 0.0)  # (reduction none)
    shifted = rows - rows.gather(-1, top.unsqueeze(-1))
    return torch.exp(shifted - loss.unsqueeze(-1)).reshape(x.shape)


class _SoftmaxFunction(torch.autograd.Function):
    """torch.softmax inside an autograd Function, its own backward beside it."""

    @staticmethod
    def forward(ctx, x):
        out = torch.softmax(x, dim=-1)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return out * (grad - (grad * out).sum(dim=-1, keepdim=True))


@fails_with("the answer calls softmax")
def _wrong_in_an_autograd_function(x, block_size):
    """Calls torch.softmax in a torch.autograd.Function's forward."""
    return _SoftmaxFunction.apply(x)


@fails_with("the answer calls softmax")
def _wrong_scripted_by_private_name(x, block_size):
    """Calls torch.softmax in a function scripted by torch.jit._script.script, the compiler
    that torch.jit.script names."""
    return torch.jit._script.script(_softmax_of_rows)(x)


@functools.cache
def _scripted_softmax():
    """A softmax module whose forward TorchScript compiles as the module is made (a script
    method; the class made on first use: torch.jit.script_method warns as it is deprecated)."""

    class ScriptedSoftmax(torch.jit.ScriptModule):
        @torch.jit.script_method
        def forward(self, x):
            return torch.softmax(x, dim=-1)

    return ScriptedSoftmax()


@fails_with("the answer calls softmax")
def _wrong_script_method(x, block_size):
    """Calls torch.softmax in a ScriptModule's script method."""
    return _scripted_softmax()(x)


class _SoftmaxOfRows(torch.nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)


def _traced_softmax_of_rows():
    """_SoftmaxOfRows traced by torch.jit.trace_module on an input of its own (deprecated: it
    warns where a check worker has not made it give the module back)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.trace_module(_SoftmaxOfRows(), {"forward": (torch.zeros(1, 2),)})


_TRACED_AT_IMPORT = _traced_softmax_of_rows()  # (as the module loads: before any check watches)


# (made as the module loads: its code is Python that torch.fx wrote, which calls torch.softmax)
_FX_TRACED = torch.fx.symbolic_trace(_SoftmaxOfRows())


@fails_with("the answer calls softmax")
def _wrong_fx_traced(x, block_size):
    """Calls torch.softmax in a GraphModule torch.fx.symbolic_trace made as the answer loaded."""
    return _FX_TRACED(x)


@fails_with("the answer calls softmax")
def _wrong_traced_at_import(x, block_size):
    """Calls torch.softmax in a module torch.jit.trace_module traced as the answer loaded."""
    return _TRACED_AT_IMPORT(x)


@fails_with("the answer runs TorchScript")
def _wrong_compiled_from_source(x, block_size):
    """Calls torch.softmax in TorchScript source, compiled by torch.jit.CompilationUnit: no
    Python function to give back."""
    unit = torch.jit.CompilationUnit("def f(x):\n    return torch.softmax(x, dim=-1)\n")
    return unit.f(x)


@fails_with("the answer runs TorchScript")
def _wrong_scripted_torch_module(x, block_size):
    """Runs torch's own softmax module scripted (torch.jit.script compiles what is torch's)."""
    return torch.jit.script(torch.nn.Softmax(dim=-1))(x)


@fails_with("the answer runs TorchScript")
def _wrong_loaded_from_bytes(x, block_size):
    """Runs a scripted softmax module from bytes, by torch.jit.load (an answer may carry them
    in its source; here they are made by the compiler torch.jit.script calls)."""
    import io

    compile = torch.jit._recursive
    made = compile.create_script_module(_SoftmaxOfRows(), compile.infer_methods_to_compile)
    saved = io.BytesIO()
    torch.jit.save(made, saved)
    return torch.jit.load(io.BytesIO(saved.getvalue()))(x)


# Answers that step around forbid's torch function mode, each found by the walk over the
# answer's own code as forbid wraps it (each passed the check before it, fifty-ninth session).


class _SoftmaxOnExp(torch.Tensor):
    """A tensor whose exp is a softmax of the plain tensor it was made from (`plain`): torch
    runs a subclass's __torch_function__ with the function modes stepped aside."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func is torch.exp:
            return torch.softmax(args[0].plain, dim=-1)
        return super().__torch_function__(func, types, args, kwargs or {})


@fails_with("steps around the check's watch of its torch calls (__torch_function__)")
def _wrong_softmax_in_a_subclass(x, block_size):
    """Calls torch.softmax in its tensor subclass's __torch_function__, unseen by the modes.
    (torch.exp of the subclass is the softmax.)"""
    wrapped = x.as_subclass(_SoftmaxOnExp)
    wrapped.plain = x
    return torch.exp(wrapped)


class _SoftmaxOnExpMode(torch.utils._python_dispatch.TorchDispatchMode):
    """A dispatch mode whose exp is a softmax: torch calls its __torch_dispatch__ below the
    torch function modes."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten.exp.default:
            return torch.softmax(args[0], dim=-1)
        return func(*args, **(kwargs or {}))


@fails_with("steps around the check's watch of its torch calls (TorchDispatchMode, __torch_")
def _wrong_softmax_in_a_dispatch_mode(x, block_size):
    """Calls torch.softmax in its dispatch mode's __torch_dispatch__, below the function modes.
    (torch.exp under the mode is the softmax.)"""
    with _SoftmaxOnExpMode():
        return torch.exp(x)


@functools.cache
def _exp_that_normalises():
    """A custom operator named exp whose Python kernel calls torch.softmax, registered on first
    use (a check runs in a fork of its own: the registration ends with it). Named exp, it is
    taken for an entrywise routine by the block-by-block watch, which sees the call."""

    @torch.library.custom_op("studycli_wrong_answers::exp", mutates_args=())
    def exp(x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=-1)

    return exp


@fails_with("steps around the check's watch of its torch calls (custom_op)")
def _wrong_softmax_in_a_custom_op(x, block_size):
    """Calls torch.softmax in a custom operator's Python kernel, below the function modes.
    (torch.library.custom_op's, an operator named exp.)"""
    return _exp_that_normalises()(x)


@fails_with("steps around the check's watch of its torch calls (DisableTorchFunction)")
def _wrong_softmax_with_torch_function_disabled(x, block_size):
    """Calls torch.softmax with torch functions disabled, the modes among them.
    (torch._C.DisableTorchFunction)"""
    with torch._C.DisableTorchFunction():
        return torch.softmax(x, dim=-1)


@fails_with("(_pop_torch_function_stack, _push_on_torch_function_stack)")
def _wrong_softmax_with_the_modes_popped(x, block_size):
    """Calls torch.softmax with every function mode popped off torch's stack, the check's too.
    (torch._C._pop_torch_function_stack, each pushed back after.)"""
    popped = []
    while torch._C._len_torch_function_stack():
        popped.append(torch._C._pop_torch_function_stack())
    try:
        return torch.softmax(x, dim=-1)
    finally:
        for mode in reversed(popped):
            torch._C._push_on_torch_function_stack(mode)


@fails_with("returned m_new as a numpy array")
def _wrong_update_numpy(m, s, x_block):
    """Updates the state with numpy and returns m_new and s_new as numpy arrays, not tensors."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    mn, sn, xb = (torch.as_tensor(t).cpu().numpy() for t in (m, s, x_block))
    m_new = np.maximum(mn, xb.max(axis=-1))
    return m_new, sn * np.exp(mn - m_new) + np.exp(xb - m_new[..., None]).sum(axis=-1)


WRONG_ANSWERS = {
    "online_softmax": [
        _wrong_calls_library,
        _wrong_calls_the_operator,
        _wrong_calls_special,
        _wrong_calls_masked,
        _wrong_cross_entropy_normaliser,
        _wrong_two_pass_in_disguise,
        _wrong_scripted_library,
        _wrong_traced_two_pass,
        _wrong_scripted_by_private_name,
        _wrong_script_method,
        _wrong_traced_at_import,
        _wrong_compiled_from_source,
        _wrong_scripted_torch_module,
        _wrong_loaded_from_bytes,
        _wrong_calls_saved_alias,
        _wrong_calls_through_the_class,
        _wrong_calls_the_binding,
        _wrong_calls_an_overload,
        _wrong_calls_private_softmax,
        _wrong_calls_the_loss_binding,
        _wrong_in_an_autograd_function,
        _wrong_fx_traced,
        _wrong_softmax_in_a_subclass,
        _wrong_softmax_in_a_dispatch_mode,
        _wrong_softmax_in_a_custom_op,
        _wrong_softmax_with_torch_function_disabled,
        _wrong_softmax_with_the_modes_popped,
        _wrong_no_rescale,
        _wrong_no_max,
        _wrong_inverted_rescale,
        _wrong_drops_last_block,
        _wrong_no_division,
        _wrong_max_starts_at_zero,
        _wrong_two_pass,
        _wrong_log_state,
        _wrong_log_output,
        _wrong_two_pass_over_blocks,
        _wrong_two_pass_back_over_blocks,
        _wrong_two_pass_over_copied_blocks,
        _wrong_two_pass_over_picked_blocks,
        _wrong_in_place,
        _wrong_upcast,
        _wrong_max_as_numbers,
        _wrong_max_in_numpy,
        _wrong_exp_in_numpy,
        _wrong_max_in_numpy_over_copied_blocks,
        _wrong_max_at_numpy_argmax,
        _wrong_max_at_numpy_argmax_indexed,
        _wrong_whole_max_in_numpy,
        _wrong_row_max_in_numpy_over_copied_blocks,
        _wrong_max_of_listed_rows,
        _wrong_max_of_entry_floats,
        _wrong_shifted_max_of_listed_rows,
        _wrong_max_of_entry_items,
        _wrong_max_of_entry_lists,
        _wrong_max_through_format,
        _wrong_max_of_repr,
        _wrong_max_by_comparisons,
        _wrong_max_by_bisection,
        _wrong_max_by_bisection_on_row_max,
        _wrong_two_pass_in_the_output,
        _wrong_max_into_out_buffer,
        _wrong_max_found_by_bools,
        _wrong_max_through_dlpack,
        _wrong_max_by_argmax,
        _wrong_max_by_sort,
        _wrong_sum_by_einsum,
        _wrong_sum_by_vector_norm,
        _wrong_sum_by_normalize,
        _wrong_max_by_max_pool,
        _wrong_max_by_tiled_pool,
        _wrong_max_by_scatter_reduce,
        _wrong_sum_by_conv1d,
        _wrong_sum_by_index_put,
        _wrong_sum_by_index_add,
        _wrong_sum_by_fft,
    ],
    "running_stats_update": [
        _wrong_update_no_rescale,
        _wrong_update_old_max,
        _wrong_update_inverted,
        _wrong_update_dim1,
        _wrong_update_log_state,
        _wrong_update_upcast,
        _wrong_update_numpy,
    ],
}

CORRECT_VARIANTS = {
    "online_softmax": [
        _variant_scalar_loop,
        _variant_numpy_blocks,
        _variant_block_max_as_numbers,
        _variant_vectorised_blocks,
        _variant_output_block_by_block,
        _variant_rows_output_block_by_block,
        _variant_blocks_last_first,
        _variant_picked_blocks,
        _variant_log_output,
        _variant_asserts_row_sums,
        _variant_float64_checked_then_cast,
        _variant_row_sums_read_as_numbers,
        _variant_reports_rows_off,
        _variant_vmapped_rows,
        _variant_rows_checked_then_reshaped,
        _variant_spelled_out,
        _variant_padded_and_unfolded,
        _variant_validates_input,
        _variant_deep_copy_into_resized,
        _variant_at_least_2d_scattered,
        _variant_pipelined,
        _variant_counts_bad_input,
        _variant_guards_input,
        _variant_bounds_input_by_its_max,
        _variant_bounds_input_both_ways,
        _variant_prints_input,
        _variant_prints_input_named,
        _variant_prints_input_listed,
        _variant_prints_input_in_numpy,
        _variant_prints_an_entry,
        _variant_prints_row_max,
        _variant_prints_each_block,
        _variant_block_max_as_numbers_after_print,
        _variant_block_max_in_numpy_after_print,
        _variant_blocks_of_numpy_copy,
        _variant_blocks_of_listed_rows,
        _variant_blocks_of_flat_numpy_copy,
        _variant_state_from_numpy_after_print,
    ],
}
