"""Stochastic approximation: the incremental mean and the Robbins-Monro iteration.

Robbins-Monro finds a root of g(w) = E[g~(w, eta)] from noisy samples only:
w_(k+1) = w_k - a_k g~(w_k, eta_k), and converges (with probability 1, under mild conditions on g
and the noise) when sum a_k = infinity and sum a_k^2 < infinity. The running mean is the special
case g~(w, x) = w - x, a_k = 1/k: w_k = w_(k-1) + (x_k - w_(k-1)) / k.
"""

import math
import random

from studycli.assertions import (
    assert_close,
    call,
    call_unchanged,
    describe,
    expect,
    fails_with,
    paired_times,
)

LAZY_HINT = (
    "a generator (yield) or a map is read once and has no length: the caller asked for a list, "
    "so append each value to one and return it"
)


ONE_NUMBER_HINT = (
    "the card asks for the whole sequence, one value per step (w_1, ..., w_n), not only the "
    "last: append each value to a list and return the list"
)


LIST_HINT = (
    "the card asks for a list of floats: append each value to a list and return it "
    "(.tolist() makes one of a numpy array or a tensor)"
)


def _as_floats(result, what: str, n: int) -> list[float]:
    """The answer's list of n numbers as floats: a numpy array, a tensor or a tuple of the
    right numbers passed, though both cards ask for a list."""
    expect(result is not None, what, "returned None (a missing `return`?)")
    expect(
        hasattr(result, "__len__"),
        what,
        f"returned a {type(result).__name__}, expected a list",
        hint=LAZY_HINT if hasattr(result, "__iter__") else ONE_NUMBER_HINT,
    )
    expect(
        isinstance(result, list),
        what,
        f"returned {describe(result)}, expected a list",
        hint=LIST_HINT,
    )
    try:
        values = [float(v) for v in result]
    except (TypeError, ValueError):
        raise AssertionError(
            f"{what}: returned {describe(result)}, expected a list of {n} numbers"
        ) from None
    expect(len(values) == n, what, f"returned {len(values)} values, expected {n}")
    return values


# --------------------------------------------------------------------------------------------
# incremental_mean
# --------------------------------------------------------------------------------------------


def incremental_mean(xs) -> list[float]:
    """Running means of a stream, each computed from the previous mean and
    the new sample in O(1), without storing or re-summing the past
    samples.

    Args:
        xs: a sequence (list or tuple) of numbers x_1, ..., x_n; possibly
            empty. At most 2 reads per sample in all (an index, each entry
            of a slice, each step of an iteration), and at most 20
            operations per sample with the samples and the numbers made
            from them (arithmetic, comparisons, conversions).

    Returns:
        [w_1, ..., w_n] as a new list of floats, where
        w_k = (x_1 + ... + x_k) / k; xs is left unchanged.
    """
    # k w_k = (k - 1) w_(k-1) + x_k, i.e. w_k = w_(k-1) + (x_k - w_(k-1)) / k.
    means = []
    w = 0.0
    for k, x in enumerate(xs, start=1):
        w += (x - w) / k
        means.append(float(w))
    return means


def _mean_hint(xs, got, default):
    """Read off the step size the learner used at each sample and name the pattern."""
    steps, prev = [], 0.0
    for k, (x, w) in enumerate(zip(xs, got), start=1):
        if abs(x - prev) > 1e-9 * (1 + abs(x)):
            steps.append((k, (w - prev) / (x - prev)))
        prev = w
    if not steps:
        return default

    def all_match(rule):
        return all(math.isclose(a, rule(k), rel_tol=1e-6, abs_tol=1e-12) for k, a in steps)

    if all_match(lambda k: 1 / (k + 1)):
        return "the step at sample k is 1/(k + 1), as if the initial 0 were a sample: divide by k"
    if all_match(lambda k: 1.0 if k == 1 else 1 / (k - 1)):
        return (
            "the step at sample k is 1/(k - 1) (a zero-based index): divide by k, counting from 1"
        )
    later = [a for k, a in steps if k > 1]
    if len(later) >= 2 and all(math.isclose(a, later[0], rel_tol=1e-6) for a in later):
        return (
            f"the step is the same constant {later[0]:.3g} at every sample: that is an "
            "exponential moving average, not the mean; the step at sample k is 1/k"
        )
    return default


class _Counting:
    """Counts the samples read from the list or tuple it is mixed into: 1 per index, a slice's
    length, 1 per element iterated over (numpy's conversions iterate once)."""

    reads = 0

    def __getitem__(self, index):
        item = super().__getitem__(index)
        self.reads += len(item) if isinstance(index, slice) else 1
        return item

    def __iter__(self):
        for item in super().__iter__():
            self.reads += 1
            yield item


class _CountedList(_Counting, list):
    pass


class _CountedTuple(_Counting, tuple):
    pass


class _Sample(float):
    """A sample, or a number made from one, that counts each operation it enters (`ops`, shared
    by all of them): arithmetic, comparisons and conversions. What its arithmetic returns is a
    _Sample again, so the running mean made from the samples counts too. The reads of xs alone
    miss a copy re-summed: list(xs) reads each sample once, and sum(x / k for x in copy[:k])
    then does O(n^2) work unseen (no overflow either, each term divided first); with samples
    that count, the reference does 4 operations per sample (x - w, / k, w +, float(w)) and
    that re-sum about n (1,001 per sample at n = 1000: a division and an addition for each
    past sample). Still a float, as the prompt promises. A number taken out as a plain float
    (float(x), numpy's array of xs: one operation each) is no longer followed: work on it is
    timed instead (`_check_time_linear_in_n`)."""

    ops = 0


def _counting(name: str, made: bool):
    """float's method `name`, counting each call; with `made`, a float it returns (or a tuple
    of them, divmod's) is a _Sample."""
    method = getattr(float, name)

    def counted(self, *args):
        _Sample.ops += 1
        result = method(self, *args)
        if made and isinstance(result, float):
            return _Sample(result)
        if made and isinstance(result, tuple):
            return tuple(_Sample(r) if isinstance(r, float) else r for r in result)
        return result

    counted.__name__ = name
    return counted


for _name in (
    *("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__pow__", "__rpow__"),
    *("__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__"),
    *("__divmod__", "__rdivmod__", "__neg__", "__pos__", "__abs__", "__round__", "conjugate"),
):
    setattr(_Sample, _name, _counting(_name, made=True))
# (as_integer_ratio: statistics.mean and Fraction read a float's value by it)
for _name in (
    *("__float__", "__int__", "__trunc__", "__floor__", "__ceil__", "__bool__", "__format__"),
    *("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__", "as_integer_ratio", "hex"),
    *("is_integer", "__repr__", "__str__"),
):
    setattr(_Sample, _name, _counting(_name, made=False))


READS_PER_SAMPLE = 2
# The reference does 4 operations per sample; an O(1) update written with care does up to 11
# (a Kahan or Neumaier compensated mean, a clamp to the samples' range, 9-10; float() of each
# mean one more): 10 refused the Neumaier form with float(w + c), 21 at n = 2. A re-sum of the
# past samples does about k/2 per sample: 26.5 (statistics.mean) and 51 (a scaled re-sum) at
# n = 50, about 500 at n = 1000, each refused at n = 50 as before.
OPS_PER_SAMPLE = 20
OVERFLOW_HINT = (
    "a running sum overflows where the mean itself fits (1e308 + 1e308 = inf): update the "
    "previous mean, w_k = w_(k-1) + (x_k - w_(k-1)) / k, never a sum of the samples (w * (k - "
    "1) / k makes one, the sum of the first k - 1: w * ((k - 1) / k) does not)"
)


MEANS_IN_PLACE = (
    "return a new list and leave xs as it came (means.append(w), not xs[k] = w): the caller "
    "still holds the samples, and a tuple cannot be written into at all"
)


def check_incremental_mean(impl, device="cpu") -> None:
    import numpy as np

    for xs, want in (
        ([], []),
        ([5.0], [5.0]),
        ([1.0, 2.0, 3.0, 4.0], [1.0, 1.5, 2.0, 2.5]),
        ([2, 4, 9], [2.0, 3.0, 5.0]),
        ((-1.0, 1.0, -1.0, 1.0), [-1.0, 0.0, -1 / 3, 0.0]),
    ):
        what = f"incremental_mean({xs!r})"
        # Plain lists here: the counted ones below would count the comparison's reads.
        got = _as_floats(
            call_unchanged(impl, what, ("xs",), xs, hint=MEANS_IN_PLACE), what, len(want)
        )
        if want:
            assert_close(
                got,
                want,
                what,
                rtol=1e-12,
                atol=1e-12,
                hint=_mean_hint(
                    list(xs), got, "w_k = w_(k-1) + (x_k - w_(k-1)) / k with k counting from 1"
                ),
            )
    # Samples near the largest float: every mean is 1e308, but a sum of any two is inf. Only
    # an update of the mean itself stays finite (a running sum, numpy's cumsum or a copy of xs
    # re-summed all overflow).
    big = [1e308, 1e308, 1e308]
    what = "incremental_mean([1e308, 1e308, 1e308])"
    got = _as_floats(call(impl, what, big), what, len(big))
    assert_close(got, big, what, rtol=1e-12, atol=0.0, hint=OVERFLOW_HINT)
    rng = np.random.default_rng(0)
    for n, loc, scale in (
        (2, 0.0, 1.0),
        (7, 3.0, 2.0),
        (50, -10.0, 5.0),
        (333, 1e6, 1.0),
        (1000, 0.5, 10.0),
    ):
        xs = [float(v) for v in rng.normal(loc, scale, size=n)]
        samples = [_Sample(x) for x in xs]
        arg = _CountedTuple(samples) if n % 2 else _CountedList(samples)
        what = f"incremental_mean(a {'tuple' if n % 2 else 'list'} of {n} samples around {loc:g})"
        _Sample.ops = 0
        result = call(impl, what, arg)
        ops = _Sample.ops
        got = _as_floats(result, what, n)
        want = [math.fsum(xs[:k]) / k for k in range(1, n + 1)]
        assert_close(
            got,
            want,
            what,
            rtol=1e-9,
            atol=1e-9 * (1 + abs(loc)),
            hint=_mean_hint(
                xs, got, "the k-th mean divides by k: w_k = w_(k-1) + (x_k - w_(k-1)) / k"
            ),
        )
        allowed = READS_PER_SAMPLE * n
        expect(
            arg.reads <= allowed,
            what,
            f"read the samples {arg.reads} times (indexing, slicing and iterating xs), where "
            f"{allowed} ({READS_PER_SAMPLE} per sample) are allowed",
            hint="re-summing the prefix x_1..x_k for every k reads about n²/2 samples; "
            "update the previous mean: w_k = w_(k-1) + (x_k - w_(k-1)) / k",
        )
        expect(
            ops <= OPS_PER_SAMPLE * n,
            what,
            f"did {ops} operations with the samples and the numbers made from them (arithmetic, "
            f"comparisons, conversions), where {OPS_PER_SAMPLE * n} ({OPS_PER_SAMPLE} per "
            "sample) are allowed",
            hint="re-summing the past samples (a copy of them too) for every k does about n²/2 "
            "operations; update the previous mean: w_k = w_(k-1) + (x_k - w_(k-1)) / k",
        )
    _check_time_linear_in_n(impl)


# A copy of the samples as plain floats (float(x), numpy's array of xs) leaves the count: the
# work done on it is seen only as time. O(1) work per sample takes about 4x the CPU time for 4x
# the samples (3.8-4.2 for the reference and the variants, 2^9 to 2^15 samples, measured); a
# re-sum of a plain-float copy for every k about 16x (15.3-16.1); numpy's re-sum, (a[:k] /
# k).sum(), whose calls' overhead is linear, 5.1-9.3, 7.4 and 12.5 over the three steps: the
# last step is taken only where the two before grew faster than linear together (LINEAR_2)
TIME_SIZES = (2**9, 2**11, 2**13, 2**15)
TIME_RATIO = 8.0  # (at most, for 4x the samples: 2x the linear 4, half the quadratic 16)
LINEAR_2 = 25.0  # (two steps, 16x the samples, growing up to this: linear, with a margin)


def _on(impl, samples):
    """A call of the answer on the samples, to be timed (counted ones: a list as the card's)."""
    return lambda: call(
        impl, f"incremental_mean(a list of {len(samples)} samples)", _CountedList(samples)
    )


def _check_time_linear_in_n(impl):
    """Time the answer on 4x more samples at each step while its time grows faster than
    linear, so that a slow answer fails on the first size that exposes it (a re-sum in Python
    at 2^11 samples, 0.07 s a call; numpy's at 2^15, 0.5 s) and an O(1) one stops at 2^13
    (0.013 s a call for the reference)."""
    rng = random.Random(3)
    samples = [_Sample(rng.gauss(0.5, 10.0)) for _ in range(TIME_SIZES[-1])]
    grown = None  # the ratio of the step before
    for small, large in zip(TIME_SIZES, TIME_SIZES[1:]):
        t_small, t_large = paired_times(_on(impl, samples[:small]), _on(impl, samples[:large]))
        ratio = t_large / max(t_small, 1e-6)
        expect(
            ratio < TIME_RATIO,
            f"incremental_mean(a list of {small} samples) vs (a list of {large})",
            f"took {ratio:.1f}x the CPU time for 4x the samples ({t_small:.3f} s for {small}, "
            f"{t_large:.3f} s for {large}), where O(1) work per sample takes about 4x: the "
            "work grows as n²",
            hint="re-summing the past samples for every k is O(n²), also on a copy of them as "
            "plain floats (or a numpy array), where the count of operations does not follow "
            "them; update the previous mean: w_k = w_(k-1) + (x_k - w_(k-1)) / k",
        )
        if grown is not None and grown * ratio <= LINEAR_2:
            return
        grown = ratio


@fails_with("1/(k + 1)")
def _wrong_k_plus_1(xs) -> list[float]:
    """Off by one: divides by k + 1 (as if w_0 = 0 were a sample)."""
    means, w = [], 0.0
    for k, x in enumerate(xs, start=1):
        w += (x - w) / (k + 1)
        means.append(w)
    return means


@fails_with("1/(k - 1)")
def _wrong_k_minus_1(xs) -> list[float]:
    """Off by one: divides by k - 1 (the zero-based index), special-casing the first sample."""
    means, w = [], 0.0
    for i, x in enumerate(xs):
        w = x if i == 0 else w + (x - w) / i
        means.append(w)
    return means


@fails_with("exponential moving average")
def _wrong_constant_step(xs) -> list[float]:
    """A constant step 0.1 (an exponential moving average), not 1/k."""
    means, w = [], None
    for x in xs:
        w = x if w is None else w + 0.1 * (x - w)
        means.append(w)
    return means


@fails_with("update the previous mean")
def _wrong_resum(xs) -> list[float]:
    """Re-sums every prefix: right values, but O(k) work for the k-th mean (O(n²) in all)."""
    return [sum(xs[:k]) / k for k in range(1, len(xs) + 1)]


@fails_with("a running sum overflows")
def _wrong_cumsum(xs):
    """Cumulative sums over k with numpy: right values until the sum overflows (and it
    stores every sample)."""
    import numpy as np

    a = np.asarray(xs, dtype=np.float64)
    with np.errstate(over="ignore"):
        return (np.cumsum(a) / np.arange(1, len(a) + 1)).tolist()


@fails_with("returned array of shape (0), dtype=float64, expected a list")
def _wrong_numpy_array(xs):
    """Collects the right means in a numpy array, not the list the card asks for."""
    import numpy as np

    means, w = np.zeros(len(xs)), 0.0
    for k, x in enumerate(xs, start=1):
        w += (x - w) / k
        means[k - 1] = w
    return means


@fails_with("a running sum overflows")
def _wrong_running_sum(xs):
    """A running sum divided by k: O(1) per sample, but it keeps the sum, not the mean, which
    overflows where the mean does not."""
    means, total = [], 0.0
    for k, x in enumerate(xs, start=1):
        total += x
        means.append(total / k)
    return means


@fails_with("w * (k - 1) / k makes one")
def _wrong_weighted_unscaled(xs):
    """The previous mean weighted by (k - 1)/k, written w * (k - 1) / k: Python multiplies
    first, and w * (k - 1), the sum of the first k - 1 samples, overflows at 1e308 where the
    mean does not (the variant's w * ((k - 1) / k) never leaves the samples' range)."""
    means, w = [], 0.0
    for k, x in enumerate(xs, start=1):
        w = w * (k - 1) / k + x / k
        means.append(w)
    return means


@fails_with("a running sum overflows")
def _wrong_copy_then_resum(xs):
    """Copies xs (reading each sample once) and re-sums the copy's prefixes: the read count
    sees n reads, but it is O(n²) work on a sum of the samples."""
    copy = list(xs)
    return [sum(copy[:k]) / k for k in range(1, len(copy) + 1)]


@fails_with("did 2550 operations with the samples")
def _wrong_copy_then_resum_scaled(xs):
    """Copies xs (reading each sample once) and re-sums the copy's prefixes, each sample
    divided by k first: no sum overflows, the read count sees n reads, but it is O(n²) work."""
    copy = list(xs)
    return [sum(x / k for x in copy[:k]) for k in range(1, len(copy) + 1)]


@fails_with("did 1325 operations with the samples")
def _wrong_copy_then_statistics_mean(xs):
    """Copies xs and takes statistics.mean of each prefix: exact (it sums fractions, which do
    not overflow), read once, but O(n²) work."""
    import statistics

    copy = list(xs)
    return [float(statistics.mean(copy[:k])) for k in range(1, len(copy) + 1)]


@fails_with("the CPU time for 4x the samples")
def _wrong_floats_copy_then_resum(xs):
    """Copies xs as plain Python floats (float(x): one counted operation each) and re-sums the
    copy's prefixes, each sample divided by k first: no sum overflows, n reads and n counted
    operations, but O(n²) work on numbers the count no longer follows."""
    copy = [float(x) for x in xs]
    return [sum(v / k for v in copy[:k]) for k in range(1, len(copy) + 1)]


@fails_with("the CPU time for 4x the samples")
def _wrong_floats_copy_then_fsum(xs):
    """Copies xs as plain Python floats and takes each prefix's mean by math.fsum over the
    terms x / k, made by map in C: O(n²) work with no Python loop over the past samples."""
    import itertools
    import operator

    copy = [float(x) for x in xs]
    return [
        math.fsum(map(operator.truediv, copy[:k], itertools.repeat(k)))
        for k in range(1, len(copy) + 1)
    ]


@fails_with("the CPU time for 4x the samples")
def _wrong_array_copy_then_resum(xs):
    """Copies xs into a numpy array (reading each sample once, one conversion each) and takes
    each prefix's mean as (a[:k] / k).sum(): no overflow, O(n²) work in numpy."""
    import numpy as np

    a = np.array(xs, dtype=np.float64)
    return [float((a[:k] / k).sum()) for k in range(1, len(a) + 1)]


@fails_with("not only the last")
def _wrong_last_mean_only(xs):
    """Returns the last running mean alone, a float, where the card asks for all n of them
    (told before to return a list, not a generator, which it never was)."""
    w = 0.0
    for k, x in enumerate(xs, start=1):
        w += (x - w) / k
    return w


@fails_with("modified its input xs in place")
def _wrong_means_into_xs(xs):
    """Writes each running mean over its sample (xs[k] = w) and returns xs: one read per
    sample, but the caller's samples are overwritten (and a tuple raises)."""
    w = 0.0
    for k in range(len(xs)):
        w += (xs[k] - w) / (k + 1)
        xs[k] = w
    return xs


@fails_with("returned a generator, expected a list")
def _wrong_generator(xs):
    """Yields each running mean (a generator) instead of returning the list of them: right
    values, read once, and no len() or indexing for the caller."""
    w = 0.0
    for k, x in enumerate(xs, start=1):
        w += (x - w) / k
        yield w


def _variant_weighted(xs):
    """The previous mean weighted by (k - 1)/k plus the new sample by 1/k: an update of the
    mean itself, never a sum of samples."""
    means, w = [], 0.0
    for k, x in enumerate(xs, start=1):
        w = w * ((k - 1) / k) + x / k
        means.append(w)
    return means


def _variant_no_overflow_for_opposite_signs(xs):
    """The answer's form safe for huge samples of opposite signs, w += x/k - w/k (5
    operations per sample with the float(w), where the reference does 4)."""
    means, w = [], 0.0
    for k, x in enumerate(xs, start=1):
        w += x / k - w / k
        means.append(float(w))
    return means


def _variant_compensated(xs):
    """A Neumaier-compensated update of the mean (c keeps the low-order part that w + step
    loses), each mean returned as float(w + c): O(1), 11 operations per sample, refused by a
    limit of 10."""
    means, w, c = [], 0.0, 0.0
    for k, x in enumerate(xs, start=1):
        step = (x - w) / k
        t = w + step
        c += (w - t) + step if abs(w) >= abs(step) else (step - t) + w
        w = t
        means.append(float(w + c))
    return means


def _variant_index_loop(xs):
    """Indexes xs[i] once per sample."""
    means, w = [], 0.0
    for i in range(len(xs)):
        w += (xs[i] - w) / (i + 1)
        means.append(w)
    return means


def _variant_plain_floats(xs):
    """Each sample taken out as a plain float as it is read (map(float, xs): ints accepted as
    floats), the update in plain floats from there: O(1) per sample, the count sees only the
    conversions."""
    means, w = [], 0.0
    for k, x in enumerate(map(float, xs), start=1):
        w += (x - w) / k
        means.append(w)
    return means


# --------------------------------------------------------------------------------------------
# robbins_monro (the derivation)
# --------------------------------------------------------------------------------------------


def robbins_monro(g, w1: float, step_size, num_steps: int) -> list[float]:
    """Run num_steps steps of the Robbins-Monro
    iteration from w1, with step sizes a_k.

    Args:
        g: a callable g(w, k) -> float returning the noisy observation
            g~(w, eta_k) of the increasing function whose root is sought,
            at the current estimate w and step k (k = 1, 2, ...).
        w1: the initial guess w_1.
        step_size: a callable step_size(k) -> float returning a_k, for
            k = 1, 2, ...
        num_steps: the number of updates, >= 0.

    Returns:
        [w_2, ..., w_(num_steps + 1)]: the estimate after each update, as
        a list of floats.
    """
    # w_(k+1) = w_k - a_k g~(w_k, eta_k): step against the noisy observation.
    w = float(w1)
    out = []
    for k in range(1, num_steps + 1):
        w = w - step_size(k) * g(w, k)
        out.append(w)
    return out


class _Samples:
    """g~(w, eta_k) = c (w - x_k): its root in expectation is E[x]; k must be 1..len(xs)."""

    def __init__(self, xs, c=1.0):
        self.xs, self.c = xs, c

    def __call__(self, w, k):
        if not 1 <= k <= len(self.xs):
            raise IndexError(f"g was called with k={k}; the steps are k = 1..{len(self.xs)}")
        return self.c * (float(w) - self.xs[k - 1])


def _harmonic(k):
    if k < 1:
        raise ValueError(f"step_size({k}): a_k is defined for k = 1, 2, ...")
    return 1.0 / k


def _rm_hint(got, g, w1, step_size, n, default):
    """Replay the classic mistakes on the same (deterministic) observations; name a match."""

    def run(sign, shift, freeze):
        w, out = float(w1), []
        for k in range(1, n + 1):
            a = step_size(1 if freeze else k + shift)
            w = w + sign * a * g(w, k)
            out.append(w)
        return out

    known = [
        (
            run(+1, 0, False),
            "the update adds a_k g: that climbs away from the root; subtract it, "
            "w_(k+1) = w_k - a_k g(w_k, k)",
        ),
        (run(-1, 1, False), "step k used a_(k+1): the step sizes are off by one, start at a_1"),
        (
            run(-1, 0, True),
            "a_1 was used at every step: the step size must be a_k, changing with k",
        ),
    ]
    for values, text in known:
        if all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) for a, b in zip(got, values)):
            return text
    return default


def check_robbins_monro(impl, device="cpu") -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    what = "robbins_monro(g, 0.0, a_k = 1/k, 0)"
    expect(
        len(list(call(impl, what, _Samples([]), 0.0, _harmonic, 0))) == 0,
        what,
        "with num_steps = 0 there is nothing to return",
    )

    # a_k = 1/k, g = w - x_k: the iterates are the running means, whatever w_1 is.
    for n, w1 in ((1, 7.0), (5, -3.0), (200, 10.0)):
        xs = [float(v) for v in rng.normal(2.0, 1.5, size=n)]
        what = f"robbins_monro(g = w - x_k, w1={w1}, a_k = 1/k, {n}) on {n} samples"
        got = _as_floats(call(impl, what, _Samples(xs), w1, _harmonic, n), what, n)
        want = [math.fsum(xs[:k]) / k for k in range(1, n + 1)]
        assert_close(
            got,
            want,
            what,
            rtol=1e-9,
            atol=1e-9,
            hint=_rm_hint(
                got,
                _Samples(xs),
                w1,
                _harmonic,
                n,
                "w_(k+1) = w_k - a_k g(w_k, k) with a_1 = 1: then w_2 = x_1, the first mean",
            ),
        )

    # a_k = 1/(k+1): w_(k+1) = (w_1 + x_1 + ... + x_k) / (k + 1), w_1 counting as a sample.
    n, w1 = 60, 4.0
    xs = [float(v) for v in rng.normal(-1.0, 1.0, size=n)]
    what = f"robbins_monro(g = w - x_k, w1={w1}, a_k = 1/(k+1), {n})"
    got = _as_floats(call(impl, what, _Samples(xs), w1, lambda k: _harmonic(k + 1), n), what, n)
    want = [math.fsum([w1] + xs[:k]) / (k + 1) for k in range(1, n + 1)]
    assert_close(
        got,
        want,
        what,
        rtol=1e-9,
        atol=1e-9,
        hint=_rm_hint(
            got,
            _Samples(xs),
            w1,
            lambda k: _harmonic(k + 1),
            n,
            "use a_k for step k, starting at k = 1",
        ),
    )

    # Constant step a with g = c (w - x_k): w_(K+1) = (1 - ca)^K w_1 + sum_k ca (1 - ca)^(K-k) x_k.
    for a, c in ((0.2, 1.0), (0.05, 2.0)):
        n, w1 = 80, 1.0
        xs = [float(v) for v in rng.normal(0.0, 1.0, size=n)]
        what = f"robbins_monro(g = {c:g} (w - x_k), w1={w1}, a_k = {a:g}, {n})"
        got = _as_floats(call(impl, what, _Samples(xs, c), w1, lambda k, a=a: a, n), what, n)
        r = 1 - c * a
        want = [
            r**K * w1 + math.fsum(c * a * r ** (K - k) * xs[k - 1] for k in range(1, K + 1))
            for K in range(1, n + 1)
        ]
        assert_close(
            got,
            want,
            what,
            rtol=1e-9,
            atol=1e-9,
            hint=_rm_hint(
                got,
                _Samples(xs, c),
                w1,
                lambda k, a=a: a,
                n,
                "step against the observation: w_(k+1) = w_k - a_k g(w_k, k)",
            ),
        )

    # A nonlinear root with noise: tanh(w) = 1/2, w* = atanh(1/2).
    noise = rng.normal(0.0, 0.3, size=4000)

    def noisy(w, k):
        return math.tanh(float(w)) - 0.5 + float(noise[k - 1])

    what = "robbins_monro(g = tanh(w) - 1/2 + noise, w1=2.0, a_k = 1/k, 4000)"
    got = _as_floats(call(impl, what, noisy, 2.0, _harmonic, 4000), what, 4000)
    root = math.atanh(0.5)
    expect(
        abs(got[-1] - root) < 0.05,
        what,
        f"the last iterate is {got[-1]:.4g}, expected to approach the root {root:.4g}",
        hint="subtract a_k times the observation: moving along +g climbs away from the root",
    )


@fails_with("climbs away from the root")
def _wrong_ascent(g, w1: float, step_size, num_steps: int) -> list[float]:
    """Sign error: w_(k+1) = w_k + a_k g(w_k, k)."""
    w, out = float(w1), []
    for k in range(1, num_steps + 1):
        w = w + step_size(k) * g(w, k)
        out.append(w)
    return out


@fails_with("the step sizes are off by one")
def _wrong_step_index(g, w1: float, step_size, num_steps: int) -> list[float]:
    """Off by one in the step size: uses a_(k+1) at step k."""
    w, out = float(w1), []
    for k in range(1, num_steps + 1):
        w = w - step_size(k + 1) * g(w, k)
        out.append(w)
    return out


@fails_with("a_1 was used at every step")
def _wrong_first_step_only(g, w1: float, step_size, num_steps: int) -> list[float]:
    """Keeps a_1 for every step instead of the decreasing a_k."""
    w, out = float(w1), []
    a = step_size(1) if num_steps else 0.0
    for k in range(1, num_steps + 1):
        w = w - a * g(w, k)
        out.append(w)
    return out


WRONG_ANSWERS = {
    "incremental_mean": [
        _wrong_k_plus_1,
        _wrong_k_minus_1,
        _wrong_constant_step,
        _wrong_resum,
        _wrong_cumsum,
        _wrong_numpy_array,
        _wrong_running_sum,
        _wrong_weighted_unscaled,
        _wrong_copy_then_resum,
        _wrong_copy_then_resum_scaled,
        _wrong_copy_then_statistics_mean,
        _wrong_floats_copy_then_resum,
        _wrong_floats_copy_then_fsum,
        _wrong_array_copy_then_resum,
        _wrong_means_into_xs,
        _wrong_generator,
        _wrong_last_mean_only,
    ],
    "robbins_monro": [_wrong_ascent, _wrong_step_index, _wrong_first_step_only],
}

CORRECT_VARIANTS = {
    "incremental_mean": [
        _variant_weighted,
        _variant_index_loop,
        _variant_no_overflow_for_opposite_signs,
        _variant_compensated,
        _variant_plain_floats,
    ],
}
