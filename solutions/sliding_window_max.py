"""Sliding-window maximum (LeetCode 239) with a monotonic deque."""

import bisect
import heapq
import random
from collections import deque
from functools import partial

from studycli.assertions import (
    PAST_INT64,
    PAST_INT64_HINT,
    OverBudget,
    assert_equal,
    call,
    counting_ints,
    describe,
    expect,
    fails_with,
    hinted,
    over_budget,
    paired_times,
    plain_ints,
)


def max_sliding_window(nums: list[int], k: int) -> list[int]:
    """Maximum of every length-k window of `nums`, left to right.

    The total time must be O(n), whatever k is. `nums` must not be
    modified.

    Args:
        nums: Python ints of any size (may be negative, may repeat),
            len(nums) >= 1.
        k: the window length, 1 <= k <= len(nums).

    Returns:
        A list of len(nums) - k + 1 integers: item i is
        max(nums[i:i + k]).

    Example:
        max_sliding_window([1, 3, -1, -3, 5, 3, 6, 7], 3)
        == [3, 3, 5, 5, 6, 7]
    """
    window = deque()  # indices; their values strictly decrease from front to back
    out = []
    for i, x in enumerate(nums):
        while window and nums[window[-1]] <= x:
            window.pop()  # dominated: older and not larger, it can never be a maximum again
        window.append(i)
        if window[0] <= i - k:
            window.popleft()  # the front slid out of the window [i - k + 1, i]
        if i >= k - 1:
            out.append(nums[window[0]])
    return out


# --- checker --------------------------------------------------------------------------------


def _brute(nums, k):
    return [max(nums[i : i + k]) for i in range(len(nums) - k + 1)]


def _cases():
    yield [1, 3, -1, -3, 5, 3, 6, 7], 3
    yield [1], 1
    yield [7, 2], 1
    yield [7, 2], 2
    yield [1, -1], 1
    yield [9, 11], 2
    yield [4, -2], 2
    yield [5, 5, 5, 5, 5], 2
    yield [1, 3, 1, 2, 0, 5], 3
    yield [2, 2, 1, 2, 2, 1], 3
    yield list(range(10)), 4  # ascending: every new element evicts the rest
    yield list(range(10, 0, -1)), 4  # descending: nothing is evicted, the front expires
    yield list(range(10, 0, -1)), 10  # k == n
    yield [-5, -1, -3, -4, -2], 2  # all negative
    rng = random.Random(0)
    for _ in range(300):
        n = rng.randint(1, 40)
        k = rng.choice([1, n, rng.randint(1, n)])
        style = rng.randrange(4)
        if style == 0:
            nums = [rng.randint(-3, 3) for _ in range(n)]  # many duplicates
        elif style == 1:
            nums = [rng.randint(-(10**9), 10**9) for _ in range(n)]
        elif style == 2:  # monotone runs
            nums, value = [], rng.randint(-20, 20)
            for _ in range(n):
                value += (
                    rng.choice([-1, 1]) * rng.randint(0, 3)
                    if rng.random() < 0.2
                    else rng.choice([-1, 1])
                )
                nums.append(value)
        else:
            nums = sorted(rng.randint(-50, 50) for _ in range(n))
            if rng.random() < 0.5:
                nums.reverse()
        yield nums, k


def _times_in_k(impl, nums, small, large, limit):
    """The CPU times of the answer on `nums` with k = `small` and k = `large` (`paired_times`,
    measured again before a ratio of `limit` or more fails it)."""

    def at(k):
        return partial(
            call, impl, f"max_sliding_window(nums of length {len(nums)}, k={k})", nums, k
        )

    return paired_times(at(small), at(large), again_at=limit)


def _check_time_flat_in_k(impl):
    """O(n k) answers, even vectorised ones (numpy's strided windows), take ~k times longer for
    a large k; an O(n) one does not. n grows until the difference shows, so that a slow answer
    fails on the first size that exposes it."""
    rng = random.Random(1)
    small = 8
    for n in (2**12, 2**14, 2**16):
        large = n // 2
        nums = [rng.randint(-(10**6), 10**6) for _ in range(n)]
        t_small, t_large = _times_in_k(impl, nums, small, large, 4.0)
        ratio = t_large / max(t_small, 1e-9)
        expect(
            ratio < 4.0,
            f"max_sliding_window(n={n}, k={small}) vs (n={n}, k={large})",
            f"k={large} took {t_large:.3f} s of CPU time but k={small} {t_small:.3f} s (ratio "
            f"{ratio:.1f}); an O(n) solution takes about the same time for any k",
            hint="max() of every window is O(n k), even when numpy computes it: keep a "
            "monotonic deque of indices instead",
        )


def _check_expiry_flat_in_k(impl):
    """On a decreasing input nothing is dominated: the window keeps all k indices and the front
    expires at every step. Popping it from a plain list (list.pop(0), window = window[1:])
    moves the k - 1 others each time, O(n k) in memory moves that neither the comparison count
    nor the random input of _check_time_flat_in_k sees; a deque's popleft is O(1)."""
    n, small, limit = 2**15, 8, 2.5
    large = n // 2
    nums = list(range(n, 0, -1))
    # (2.5, not the 4 of the random input: an O(n) answer takes about 0.9, list.pop(0) about 7
    # here, less where memory moves faster: the margin is kept on both sides)
    t_small, t_large = _times_in_k(impl, nums, small, large, limit)
    ratio = t_large / max(t_small, 1e-9)
    expect(
        ratio < limit,
        f"max_sliding_window([{n}, {n - 1}, ..., 1], k={small}) vs (same nums, k={large})",
        f"k={large} took {t_large:.3f} s of CPU time but k={small} {t_small:.3f} s (ratio "
        f"{ratio:.1f}); on a decreasing input the front expires at every step, and an O(n) "
        "solution takes about the same time for any k",
        hint="popping the front of a list (list.pop(0), or a slice) moves every other index: "
        "O(k) a step; use collections.deque, whose popleft is O(1)",
    )


def _check_beyond_64_bits(impl):
    """Python ints have no size limit, and _check_comparisons needs values past int64 (numpy
    keeps those as Python ints, whose comparisons it counts): an answer that casts them to
    numpy's int64 (OverflowError) or to floats (2**64 + 1 == 2**64 + 2) is told so here."""
    big = PAST_INT64
    nums, k = [big + 2, big + 1, big + 3, -big], 2
    what = f"max_sliding_window([2**64 + 2, 2**64 + 1, 2**64 + 3, -2**64], k={k})"
    with hinted(PAST_INT64_HINT):
        values = plain_ints(call(impl, what, nums, k), what)
        assert_equal(values, [big + 2, big + 3, big + 3], what)


def _check_comparisons(impl):
    """Count the comparisons between values on a decreasing input. The deque then only expires
    its front, one comparison per element; a heap or a sorted window pays ~log k per element,
    a rescan of the window k. Counting is exact where timing cannot tell a log factor from a
    busy machine. The values lie beyond 64 bits (PAST_INT64), so that numpy's comparisons are
    counted too: its max or argmax of a window costs ~0.07 ns a value against ~1.5 us a call,
    and timing told that O(n k) from O(n) only at n = 2^17, a second a run, and barely (from
    n = 2^13 to 2^17, k = n / 2, its time grew 58 to 64 times, a deque's 16 to 18 times and
    numpy block maxima's, O(n) too, up to 30 times)."""
    n, k, per_element = 2**14, 2**10, 5
    nums = counting_ints(range(PAST_INT64 + n, PAST_INT64, -1), budget=per_element * n)
    what = f"max_sliding_window(nums = [2**64 + {n}, 2**64 + {n - 1}, ..., 2**64 + 1], k={k})"
    try:
        call(impl, what, nums, k)
        if over_budget(nums):  # stopped, but the answer caught it (a bare `except:`)
            raise OverBudget
    except OverBudget:
        expect(
            False,
            what,
            f"made more than {per_element * n} comparisons between values ({per_element} per "
            "element) and was stopped; an O(n) answer makes at most a few per element",
            hint="a heap or a sorted window costs O(log k) per element, max() of a window O(k), "
            "numpy's max or argmax too; the deque drops every value that can no longer be a "
            "maximum, so each index is pushed once and popped at most once",
        )


_REPEATS = (
    "this input repeats a value: a repeated maximum must stay until its last copy leaves the "
    "window (keep indices in the deque, or pop only strictly smaller values)"
)


def _window_hint(nums, k, got):
    """Name what the first wrong window says about the learner's deque."""
    want = _brute(nums, k)
    if len(got) != len(want):
        return f"there are len(nums) - k + 1 = {len(want)} windows, one output each"
    i = next((j for j, (a, b) in enumerate(zip(got, want)) if a != b), 0)
    window = nums[i : i + k]
    if got[i] not in window and i > 0 and got[i] in nums[max(0, i - k) : i]:
        return (
            f"window {i} reported {got[i]!r}, which has already left it: the front expires a "
            "step late (pop it as soon as its index is <= i - k)"
        )
    repeats = f"; {_REPEATS}" if len(set(nums)) < len(nums) else ""
    if got[i] in window and got[i] < want[i]:
        return (
            f"window {i} reported {got[i]!r}, an element of the window but not its largest "
            f"({want[i]!r}): pop every smaller older element from the back before appending"
            + repeats
        )
    return "the window ending at i is [i - k + 1, i]; the deque front holds its max" + repeats


def check_max_sliding_window(impl, device="cpu") -> None:
    # Inputs with distinct values first: the repeated-value pitfalls then show on their own.
    cases = sorted(_cases(), key=lambda case: len(set(case[0])) < len(case[0]))
    for nums, k in cases:
        what = f"max_sliding_window({describe(nums)}, k={k})"
        original = list(nums)
        with hinted(_REPEATS if len(set(original)) < len(original) else ""):
            got = call(impl, what, nums, k)
        expect(
            nums == original,
            what,
            f"modified the input list: it came back as {describe(nums)}",
            hint="work on indices, not on nums",
        )
        expect(
            isinstance(got, (list, tuple)), what, f"returned {type(got).__name__}, expected a list"
        )
        values = plain_ints(
            got, what, hint="return the window maxima as the integers of nums (nums[front])"
        )
        if values != _brute(original, k):
            assert_equal(values, _brute(original, k), what, hint=_window_hint(original, k, values))

    _check_beyond_64_bits(impl)
    _check_comparisons(impl)  # exact and fast: catches O(n k) and O(n log k), numpy's too
    _check_time_flat_in_k(impl)  # comparisons made on copies of the values still show in time
    _check_expiry_flat_in_k(impl)  # a list's pop(0) is O(k) in memory moves


# --- wrong answers --------------------------------------------------------------------------


@fails_with("an O(n) answer makes at most a few per element")
def _wrong_slice_max(nums, k):
    """O(n k): takes max() of every slice; right values, too slow for large k."""
    return [max(nums[i : i + k]) for i in range(len(nums) - k + 1)]


@fails_with("the front expires a step late")
def _wrong_off_by_one_expiry(nums, k):
    """Expires the front only when it is < i - k, so windows hold k + 1 elements."""
    window, out = deque(), []
    for i, x in enumerate(nums):
        while window and nums[window[-1]] <= x:
            window.pop()
        window.append(i)
        if window[0] < i - k:
            window.popleft()
        if i >= k - 1:
            out.append(nums[window[0]])
    return out


@fails_with("not its largest")
def _wrong_no_pop_smaller(nums, k):
    """Never pops smaller elements from the back, so the front is the oldest, not the largest."""
    window, out = deque(), []
    for i in range(len(nums)):
        window.append(i)
        if window[0] <= i - k:
            window.popleft()
        if i >= k - 1:
            out.append(nums[window[0]])
    return out


@fails_with("this input repeats a value")
def _wrong_values_deque_pops_equal(nums, k):
    """A deque of values that also pops equal values, so a repeated maximum expires too early."""
    window, out = deque(), []
    for i, x in enumerate(nums):
        while window and window[-1] <= x:
            window.pop()
        window.append(x)
        if i >= k and window[0] == nums[i - k]:
            window.popleft()
        if i >= k - 1:
            out.append(window[0])
    return out


@fails_with("an O(n) answer makes at most a few per element")
def _wrong_numpy_windows(nums, k):
    """O(n k) in numpy: the max of every strided window; vectorised, yet k times the work."""
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    return sliding_window_view(np.asarray(nums), k).max(axis=1).tolist()


@fails_with("an O(n) answer makes at most a few per element")
def _wrong_numpy_argmax_per_window(nums, k):
    """O(n k): numpy's argmax of every window, one call a window, whose cost hides the k."""
    import numpy as np

    values = np.asarray(nums)
    return [values[i + np.argmax(values[i : i + k])] for i in range(len(values) - k + 1)]


@fails_with("numpy's int64 cannot hold them")
def _wrong_numpy_int64_argmax_per_window(nums, k):
    """The same argmax of every window on the values cast to int64, where numpy's comparisons
    are not counted: values past 64 bits raise OverflowError."""
    import numpy as np

    values = np.asarray(nums, dtype=np.int64)
    return [int(values[i + np.argmax(values[i : i + k])]) for i in range(len(values) - k + 1)]


@fails_with("an O(n) answer makes at most a few per element")
def _wrong_sorted_window(nums, k):
    """Keeps the window sorted with bisect.insort: O(log k) comparisons and O(k) shifts a step."""
    window, out = sorted(nums[: k - 1]), []
    for i in range(k - 1, len(nums)):
        bisect.insort(window, nums[i])
        out.append(window[-1])
        del window[bisect.bisect_left(window, nums[i - k + 1])]
    return out


@fails_with("an O(n) answer makes at most a few per element")
def _wrong_heap(nums, k):
    """A max-heap of (-value, index) with lazy deletion: O(n log n), not the O(n) asked for."""
    heap, out = [], []
    for i, x in enumerate(nums):
        heapq.heappush(heap, (-x, i))
        while heap[0][1] <= i - k:
            heapq.heappop(heap)  # stale: its index left the window
        if i >= k - 1:
            out.append(-heap[0][0])
    return out


@fails_with("on a decreasing input the front expires at every step")
def _wrong_list_pop_front(nums, k):
    """The deque of indices kept in a plain list: window.pop(0) moves the k - 1 other indices
    at every expiry, O(n k) on a decreasing input."""
    window, out = [], []
    for i, x in enumerate(nums):
        while window and nums[window[-1]] <= x:
            window.pop()
        window.append(i)
        if window[0] <= i - k:
            window.pop(0)
        if i >= k - 1:
            out.append(nums[window[0]])
    return out


class _AlwaysEqual(int):
    """An int whose == says yes to anything (and != no)."""

    __eq__ = lambda self, other: True  # noqa: E731
    __ne__ = lambda self, other: False  # noqa: E731
    __hash__ = int.__hash__


@fails_with("max_sliding_window([1], k=1): expected [1], got [0]")
def _wrong_always_equal_items(nums, k):
    """Zeros whose == says yes to any number: compared as they were, they passed every window."""
    return [_AlwaysEqual(0) for _ in range(len(nums) - k + 1)]


WRONG_ANSWERS = {
    "max_sliding_window": [
        _wrong_always_equal_items,
        _wrong_slice_max,
        _wrong_numpy_windows,
        _wrong_numpy_argmax_per_window,
        _wrong_numpy_int64_argmax_per_window,
        _wrong_sorted_window,
        _wrong_heap,
        _wrong_off_by_one_expiry,
        _wrong_no_pop_smaller,
        _wrong_values_deque_pops_equal,
        _wrong_list_pop_front,
    ],
}


# --- correct variants -----------------------------------------------------------------------


def _variant_blocks(nums, k):
    """Prefix/suffix maxima over blocks of k: another O(n) solution."""
    n = len(nums)
    prefix, suffix = list(nums), list(nums)
    for i in range(1, n):
        if i % k:
            prefix[i] = max(prefix[i - 1], nums[i])
    for i in range(n - 2, -1, -1):
        if (i + 1) % k:
            suffix[i] = max(suffix[i + 1], nums[i])
    return [max(suffix[i], prefix[i + k - 1]) for i in range(n - k + 1)]


def _variant_values_deque(nums, k):
    """A deque of values (duplicates kept), expiring the front when it equals the leaving value."""
    window, out = deque(), []
    for i, x in enumerate(nums):
        while window and window[-1] < x:
            window.pop()
        window.append(x)
        if i >= k and window[0] == nums[i - k]:
            window.popleft()
        if i >= k - 1:
            out.append(window[0])
    return tuple(out)


CORRECT_VARIANTS = {"max_sliding_window": [_variant_blocks, _variant_values_deque]}
