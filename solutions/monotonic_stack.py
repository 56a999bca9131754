"""Next greater element with a monotonic stack."""

import random
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


def next_greater(nums: list[int]) -> list[int]:
    """For each position, the index of the next strictly greater element.

    Must run in O(n) total time. `nums` must not be modified.

    Args:
        nums: Python ints of any size (may be negative, may repeat); may
            be empty.

    Returns:
        A list `nxt` of len(nums) integers: nxt[i] is the smallest j > i
        with nums[j] > nums[i], or -1 when no element right of i is
        greater.

    Example:
        next_greater([2, 1, 2, 4, 3]) == [3, 2, 3, -1, -1]
    """
    nxt = [-1] * len(nums)
    stack = []  # indices still waiting for a greater element; their values never increase upward
    for j, x in enumerate(nums):
        while stack and nums[stack[-1]] < x:
            nxt[stack.pop()] = j  # x is the first greater element to the right of that index
        stack.append(j)
    return nxt


# --- checker --------------------------------------------------------------------------------


def _brute(nums):
    out = []
    for i, x in enumerate(nums):
        out.append(next((j for j in range(i + 1, len(nums)) if nums[j] > x), -1))
    return out


def _cases():
    yield [2, 1, 2, 4, 3]
    yield []
    yield [5]
    yield [1, 1]
    yield [1, 2]
    yield [2, 1]
    yield [3, 3, 3, 4]
    yield [-1, -3, -2, 0]
    yield list(range(8))
    yield list(range(8, 0, -1))
    yield [1, 5, 2, 5, 3, 6, 1]
    rng = random.Random(0)
    for _ in range(300):
        n = rng.randint(1, 40)
        style = rng.randrange(3)
        if style == 0:
            nums = [rng.randint(-3, 3) for _ in range(n)]  # many duplicates
        elif style == 1:
            nums = [rng.randint(-(10**9), 10**9) for _ in range(n)]
        else:
            nums = sorted(rng.randint(-20, 20) for _ in range(n))
            if rng.random() < 0.5:
                nums.reverse()
        yield nums


def _answer_hint(nums, got, want):
    """Name what the first wrong answer says about the learner's method."""
    if len(got) != len(want):
        return f"one answer per position: {len(want)} of them"
    i = next(j for j, (a, b) in enumerate(zip(got, want)) if a != b)
    g, w = got[i], want[i]
    if w != -1 and g == nums[w] and g != w:
        return f"answer {i} is {g!r}, the value nums[{w}]: return the index {w}, not the value"
    if isinstance(g, int) and i < g < len(nums) and nums[g] == nums[i]:
        return (
            f"answer {i} is {g}, but nums[{g}] == nums[{i}] == {nums[i]!r}: an equal value is not "
            "greater (pop only strictly smaller values)"
        )
    if g == -1 and w != -1:
        return (
            f"answer {i} is -1, but nums[{w}] = {nums[w]!r} > nums[{i}] = {nums[i]!r}: the first "
            "greater element can be further right than the next position; keep every index that "
            "is still waiting on a stack"
        )
    return "indices, not values; strictly greater; -1 where none is greater"


IN_PLACE_HINT = (
    "the caller still holds nums: read it by index (nums[i]) and keep the waiting indices on a "
    "stack of your own, never nums.pop() or nums[i] = ..."
)


def check_next_greater(impl, device="cpu") -> None:
    for nums in _cases():
        what = f"next_greater({describe(nums)})"
        original = list(nums)
        got = call(impl, what, nums)
        expect(
            nums == original,
            what,
            f"modified the input list: it came back as {describe(nums)}",
            hint=IN_PLACE_HINT,
        )
        expect(
            isinstance(got, (list, tuple)), what, f"returned {type(got).__name__}, expected a list"
        )
        want = _brute(original)
        values = plain_ints(got, what, hint="return the indices as ints (-1 where none)")
        if values != want:
            assert_equal(values, want, what, hint=_answer_hint(original, values, want))

    _check_beyond_64_bits(impl)
    _check_comparisons(impl)  # exact and at once: catches O(n^2), numpy's too
    # Complexity in time too (comparisons made on copies of the values still show there): n
    # elements in random order vs. in descending order (every element waits until the end). A
    # stack does O(n) work on both; scanning right from every i is O(n^2) on the second.
    rng = random.Random(1)
    n = 2_500
    shuffled = [rng.randint(-(10**6), 10**6) for _ in range(n)]
    descending = sorted(shuffled, reverse=True)
    on_random = partial(call, impl, f"next_greater(random list of length {n})", shuffled)
    on_descending = partial(call, impl, f"next_greater(descending list of length {n})", descending)
    t_random, t_desc = paired_times(on_random, on_descending, again_at=4.0)
    ratio = t_desc / max(t_random, 1e-9)
    expect(
        ratio < 4.0,
        f"next_greater(random list of length {n}) vs next_greater(descending list of length {n})",
        f"the descending list took {t_desc:.4f} s, the random one {t_random:.4f} s (ratio {ratio:.1f}); "
        "an O(n) solution takes about the same time on both",
        hint=_QUADRATIC,
    )


_QUADRATIC = (
    "scanning to the right from every index is O(n^2) on a descending list, also when numpy "
    "scans: keep a stack of indices still waiting for their answer"
)


def _check_beyond_64_bits(impl) -> None:
    """Python ints have no size limit, and _check_comparisons needs values past int64 (numpy
    keeps those as Python ints, whose comparisons it counts): an answer that casts them to
    numpy's int64 (OverflowError) or to floats (2**64 + 1 == 2**64 + 2) is told so here."""
    big = PAST_INT64
    what = "next_greater([2**64 + 1, 2**64 + 2, 2**64])"
    with hinted(PAST_INT64_HINT):
        values = plain_ints(call(impl, what, [big + 1, big + 2, big]), what)
        assert_equal(values, [1, -1, -1], what)


def _check_comparisons(impl) -> None:
    """Count the comparisons between values on a descending list, where every element waits
    until the end: a stack compares each new element with its top once (at most two per
    element on any list: each index is pushed once and popped once); a scan to the right
    from every index makes n^2 / 2. The values lie beyond 64 bits (PAST_INT64), so that
    numpy's comparisons are counted too: its search right of an index costs ~0.1 ns a value
    against ~3 us a call, and timing told that O(n^2) from O(n) only at n = 2^17, a second a
    run, and barely (from 2^13 to 2^17 values its time grew 40 to 89 times, a stack's 16 to
    23 times)."""
    n, per_element = 2_000, 4
    nums = counting_ints(range(PAST_INT64 + n, PAST_INT64, -1), budget=per_element * n)
    what = f"next_greater([2**64 + {n}, 2**64 + {n - 1}, ..., 2**64 + 1])"
    try:
        call(impl, what, nums)
        if over_budget(nums):  # stopped, but the answer caught it (a bare `except:`)
            raise OverBudget
    except OverBudget:
        expect(
            False,
            what,
            f"made more than {per_element * n} comparisons between values ({per_element} per "
            "element) and was stopped; an O(n) answer makes at most two per element",
            hint=_QUADRATIC,
        )


# --- wrong answers --------------------------------------------------------------------------


@fails_with("an O(n) answer makes at most two per element")
def _wrong_scan_right(nums):
    """O(n^2): scans to the right from every index; right answers, quadratic on descending input."""
    out = []
    for i, x in enumerate(nums):
        j = i + 1
        while j < len(nums) and nums[j] <= x:
            j += 1
        out.append(j if j < len(nums) else -1)
    return out


@fails_with("an O(n) answer makes at most two per element")
def _wrong_scan_right_catching_everything(nums):
    """O(n^2) under a bare except, which swallows the checker's stop at the budget."""
    out = []
    for i, x in enumerate(nums):
        try:
            j = i + 1
            while j < len(nums) and nums[j] <= x:
                j += 1
            out.append(j if j < len(nums) else -1)
        except:  # noqa: E722  (the mistake's: it takes the checker's OverBudget too)
            out.append(-1)
    return out


@fails_with("an O(n) answer makes at most two per element")
def _wrong_numpy_search_right(nums):
    """O(n^2): numpy finds the first greater value right of each index, a vectorised search
    whose cost a call hides the n."""
    import numpy as np

    values = np.asarray(nums)
    out = []
    for i in range(len(values)):
        greater = values[i + 1 :] > values[i]
        j = int(np.argmax(greater)) if greater.size else 0
        out.append(i + 1 + j if greater.size and greater[j] else -1)
    return out


@fails_with("a float rounds them")
def _wrong_numpy_float_search_right(nums):
    """The same search on the values cast to floats, where numpy's comparisons are not
    counted: past 2**53 neighbouring ints round to one float, and a greater one looks equal."""
    import numpy as np

    values = np.asarray(nums, dtype=float)
    out = []
    for i in range(len(values)):
        greater = np.flatnonzero(values[i + 1 :] > values[i])
        out.append(i + 1 + int(greater[0]) if greater.size else -1)
    return out


@fails_with("an equal value is not greater")
def _wrong_greater_or_equal(nums):
    """Pops on <=, so an equal element counts as 'greater'."""
    nxt, stack = [-1] * len(nums), []
    for j, x in enumerate(nums):
        while stack and nums[stack[-1]] <= x:
            nxt[stack.pop()] = j
        stack.append(j)
    return nxt


@fails_with("not the value")
def _wrong_values_not_indices(nums):
    """Returns the next greater value instead of its index."""
    nxt, stack = [-1] * len(nums), []
    for j, x in enumerate(nums):
        while stack and nums[stack[-1]] < x:
            nxt[stack.pop()] = x
        stack.append(j)
    return nxt


@fails_with("can be further right than the next position")
def _wrong_only_neighbour(nums):
    """Compares each element only with the previous one instead of keeping a stack."""
    nxt = [-1] * len(nums)
    for j in range(1, len(nums)):
        if nums[j - 1] < nums[j]:
            nxt[j - 1] = j
    return nxt


@fails_with("got [0")
def _wrong_always_equal_items(nums):
    """Zeros whose == says yes to any number: compared as they were, they passed every case."""
    equal = type(
        "AlwaysEqual",
        (int,),
        {"__eq__": lambda *_: True, "__ne__": lambda *_: False, "__hash__": int.__hash__},
    )
    return [equal(0) for _ in nums]


@fails_with("modified the input list: it came back as []")
def _wrong_pops_nums(nums):
    """Takes the elements off the caller's list (nums.pop(0)) as it scans them."""
    nxt = []
    while nums:
        value = nums.pop(0)
        later = next((j for j, other in enumerate(nums) if other > value), None)
        nxt.append(-1 if later is None else len(nxt) + 1 + later)
    return nxt


WRONG_ANSWERS = {
    "next_greater": [
        _wrong_pops_nums,
        _wrong_always_equal_items,
        _wrong_scan_right,
        _wrong_scan_right_catching_everything,
        _wrong_numpy_search_right,
        _wrong_numpy_float_search_right,
        _wrong_greater_or_equal,
        _wrong_values_not_indices,
        _wrong_only_neighbour,
    ],
}


def _variant_right_to_left(nums):
    """Right to left: the stack holds candidates, popping those not greater than nums[i]."""
    nxt, stack = [-1] * len(nums), []
    for i in range(len(nums) - 1, -1, -1):
        while stack and nums[stack[-1]] <= nums[i]:
            stack.pop()
        nxt[i] = stack[-1] if stack else -1
        stack.append(i)
    return tuple(nxt)


CORRECT_VARIANTS = {"next_greater": [_variant_right_to_left]}
