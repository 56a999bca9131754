"""Sliding-window maximum (LeetCode 239) with a monotonic deque."""

import random
import time
from collections import deque

from studycli.assertions import assert_equal, call, describe, expect


def max_sliding_window(nums: list[int], k: int) -> list[int]:
    """Maximum of every length-k window of `nums`, left to right, in O(n).

    Args:
        nums: the integers (may be negative, may repeat), len(nums) >= 1.
        k: the window length, 1 <= k <= len(nums).

    Returns:
        A list of len(nums) - k + 1 integers: item i is max(nums[i:i + k]).

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


def _best_time(impl, nums, k, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call(impl, f"max_sliding_window(nums of length {len(nums)}, k={k})", nums, k)
        best = min(best, time.perf_counter() - start)
    return best


def check_max_sliding_window(impl, device="cpu") -> None:
    for nums, k in _cases():
        what = f"max_sliding_window({describe(nums)}, k={k})"
        original = list(nums)
        got = call(impl, what, nums, k)
        expect(
            nums == original, what, "modified the input list", hint="work on indices, not on nums"
        )
        expect(
            isinstance(got, (list, tuple)), what, f"returned {type(got).__name__}, expected a list"
        )
        assert_equal(
            list(got),
            _brute(original, k),
            what,
            hint="the window ending at i is [i - k + 1, i]; the deque front holds its max",
        )

    # Complexity: the same n with a small and a large k. O(n) barely notices k; O(n k) grows ~k-fold.
    rng = random.Random(1)
    n, small, large = 100_000, 8, 500
    nums = [rng.randint(-(10**6), 10**6) for _ in range(n)]
    t_small = _best_time(impl, nums, small, 2)
    t_large = _best_time(impl, nums, large, 1)
    for _ in range(2):  # a busy machine can stall one run: re-measure before failing
        if t_large / max(t_small, 1e-9) < 4.0:
            break
        t_small = min(t_small, _best_time(impl, nums, small, 2))
        t_large = min(t_large, _best_time(impl, nums, large, 1))
    ratio = t_large / max(t_small, 1e-9)
    expect(
        ratio < 4.0,
        f"max_sliding_window(n={n}, k={small}) vs (n={n}, k={large})",
        f"k={large} took {t_large:.3f} s but k={small} took {t_small:.3f} s (ratio {ratio:.1f}); "
        "an O(n) solution takes about the same time for any k",
        hint="max(nums[i:i+k]) per window is O(n k): keep a monotonic deque of indices instead",
    )


# --- wrong answers --------------------------------------------------------------------------


def _wrong_slice_max(nums, k):
    """O(n k): takes max() of every slice; right values, too slow for large k."""
    return [max(nums[i : i + k]) for i in range(len(nums) - k + 1)]


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


WRONG_ANSWERS = {
    "max_sliding_window": [
        _wrong_slice_max,
        _wrong_off_by_one_expiry,
        _wrong_no_pop_smaller,
        _wrong_values_deque_pops_equal,
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
