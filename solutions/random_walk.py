"""The symmetric random walk ("drunkard's walk") on the integers, via generating functions.

A walker starts at 0 and at every step moves +1 or -1 with probability 1/2 each. The position
after n steps has the generating function E[z^X_n] = ((z + 1/z) / 2)^n; reading off its
coefficients gives P(X_n = k) = C(n, (n + k) / 2) / 2^n. Returns to 0 are handled by the
renewal equation U(s) = 1 + F(s) U(s), with U(s) = 1 / sqrt(1 - s^2), so the first-return
generating function is F(s) = 1 - sqrt(1 - s^2).
"""

import math

from studycli.assertions import (
    assert_close,
    assert_equal,
    call,
    expect,
    fails_with,
    hinted,
    plain_ints,
)

# --------------------------------------------------------------------------------------------
# position_distribution
# --------------------------------------------------------------------------------------------


def position_distribution(n: int) -> dict[int, float]:
    """Distribution of the position of a
    symmetric +-1 random walk after n steps.

    The walker starts at 0; each step is +1 or -1 with probability 1/2,
    independently.

    Args:
        n: the number of steps, n >= 0 (the checker goes up to n = 1000).

    Returns:
        A dict {k: P(X_n = k)} with one key per reachable position:
        k = -n, -n + 2, ..., n. Positions that cannot be reached (|k| > n,
        or k of the wrong parity) are NOT keys. The values are floats that
        sum to 1.
    """
    # Coefficient of z^k in ((z + 1/z) / 2)^n: choose which j of the n factors give z
    # (the others give 1/z), so k = j - (n - j) = 2j - n, i.e. j = (n + k) / 2.
    total = 2**n
    return {2 * j - n: math.comb(n, j) / total for j in range(n + 1)}


def _dp_distribution(n: int) -> list[float]:
    """Ground truth by convolution: probs[k + n] = P(X_n = k), built one step at a time."""
    probs = [0.0] * (2 * n + 1)
    probs[n] = 1.0
    for _ in range(n):
        nxt = [0.0] * (2 * n + 1)
        for i, p in enumerate(probs):
            if p:
                nxt[i - 1] += 0.5 * p
                nxt[i + 1] += 0.5 * p
        probs = nxt
    return probs


INT_KEYS = (
    "a position is an int, k = 2j - n: keys such as 2.0 come from float arithmetic "
    "(np.linspace, a / 2); key by the int 2 * j - n"
)


def _as_float_dict(result, what: str) -> dict:
    """The answer's dict, its values as floats; its keys must be ints, the positions the card
    asks for (a float key 2.0 equals 2 and hashes like it, so keys of floats passed)."""
    expect(
        isinstance(result, dict),
        what,
        f"returned {type(result).__name__}, expected a dict {{position: probability}}",
    )
    plain_ints(list(result), f"{what} keys", hint=INT_KEYS)
    try:
        return {k: float(v) for k, v in result.items()}
    except (TypeError, ValueError):
        raise AssertionError(
            f"{what}: the values must be numbers, got {list(result.values())[:4]!r}"
        ) from None


def _keys_hint(got, n):
    """Say what is wrong with the learner's key set."""
    reachable = set(range(-n, n + 1, 2))
    keys = set(got)
    if keys == set(range(n + 1)) and keys != reachable:
        return "the keys are the numbers of right steps j = 0..n; key each probability by the position 2j - n"
    extra = keys - reachable
    if extra and all(got[k] == 0 for k in extra) and reachable <= keys:
        return (
            "unreachable positions (|k| > n, or n + k odd) are stored with probability 0: leave "
            "them out, only -n, -n + 2, ..., n are keys"
        )
    return "only positions with non-zero probability are keys: -n, -n+2, ..., n (k must have the parity of n)"


def _binomial_hint(values, n, keys, default):
    """Name the classic mistake whose probabilities match the learner's, if one does."""
    if n and all(
        math.isclose(v, math.comb(n, abs(k)) / 2**n, rel_tol=1e-9) for v, k in zip(values, keys)
    ):
        return "that is C(n, |k|) / 2^n: reaching k takes (n + k) / 2 right steps, so C(n, (n + k) / 2) / 2^n"
    return default


def check_position_distribution(impl, device="cpu") -> None:
    # Small n: exact counts by brute-force convolution, and the whole key set.
    for n in list(range(0, 13)) + [17, 30, 51]:
        what = f"position_distribution({n})"
        got = _as_float_dict(call(impl, what, n), what)
        dp = _dp_distribution(n)
        want = {k: dp[k + n] for k in range(-n, n + 1) if dp[k + n] > 0}
        assert_equal(sorted(got), sorted(want), what + " keys", hint=_keys_hint(got, n))
        keys = sorted(want)
        values = [got[k] for k in keys]
        assert_close(
            values,
            [want[k] for k in keys],
            what,
            rtol=1e-9,
            atol=0,
            hint=_binomial_hint(
                values,
                n,
                keys,
                "P(X_n = k) = C(n, (n + k) / 2) / 2^n: (n + k) / 2 of the steps go right",
            ),
        )
    # Exact binomial counts, including tails as small as 2^-1000.
    for n in (64, 99, 200, 513, 1000):
        what = f"position_distribution({n})"
        got = _as_float_dict(call(impl, what, n), what)
        keys = list(range(-n, n + 1, 2))
        assert_equal(
            sorted(got),
            keys,
            what + " keys",
            hint="only positions with non-zero probability are keys",
        )
        want = [math.comb(n, (n + k) // 2) / 2**n for k in keys]
        assert_close(
            [got[k] for k in keys],
            want,
            what,
            rtol=1e-7,
            atol=0,
            hint="P(X_n = k) = C(n, (n + k) / 2) / 2^n; compute it without overflow",
        )
        expect(
            abs(sum(got.values()) - 1.0) < 1e-9,
            what,
            f"the probabilities sum to {sum(got.values())!r}, not 1",
        )


@fails_with("unreachable positions")
def _wrong_keeps_zero_keys(n: int) -> dict[int, float]:
    """Includes the unreachable positions of the wrong parity, with probability 0."""
    return {
        k: (math.comb(n, (n + k) // 2) / 2**n if (n + k) % 2 == 0 else 0.0)
        for k in range(-n, n + 1)
    }


@fails_with("that is C(n, |k|) / 2^n")
def _wrong_comb_of_k(n: int) -> dict[int, float]:
    """Uses C(n, |k|) / 2^n instead of C(n, (n + k) / 2) / 2^n."""
    return {k: math.comb(n, abs(k)) / 2**n for k in range(-n, n + 1, 2)}


@fails_with("the keys are the numbers of right steps")
def _wrong_counts_right_steps(n: int) -> dict[int, float]:
    """Keys are the number j of right steps (0..n), not the position 2j - n."""
    return {j: math.comb(n, j) / 2**n for j in range(n + 1)}


@fails_with("keys: returned items of type float64, expected ints")
def _wrong_float_keys(n: int):
    """Keys from np.linspace(-n, n, n + 1): the right probabilities, keyed by floats."""
    import numpy as np

    positions = np.linspace(-n, n, n + 1)
    return {k: math.comb(n, j) / 2**n for j, k in enumerate(positions)}


def _variant_dp(n: int) -> dict[int, float]:
    """Step-by-step convolution with a dict."""
    probs = {0: 1.0}
    for _ in range(n):
        nxt: dict[int, float] = {}
        for k, p in probs.items():
            nxt[k - 1] = nxt.get(k - 1, 0.0) + p / 2
            nxt[k + 1] = nxt.get(k + 1, 0.0) + p / 2
        probs = nxt
    return probs


def _variant_log_space(n: int) -> dict[int, float]:
    """Log-space binomial with lgamma."""
    out = {}
    for j in range(n + 1):
        log_p = math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) - n * math.log(2)
        out[2 * j - n] = math.exp(log_p)
    return out


# --------------------------------------------------------------------------------------------
# position_probability (the generating-function derivation)
# --------------------------------------------------------------------------------------------


def position_probability(n: int, k: int) -> float:
    """P(X_n = k) for the symmetric +-1 random walk started at 0.

    Args:
        n: the number of steps, n >= 0 (the checker goes up to n = 1000).
        k: any integer position (negative, unreachable or out of range
            allowed).

    Returns:
        The probability as a float (0.0 for a position the walk cannot be
        at).
    """
    # The coefficient of z^k in ((z + 1/z) / 2)^n: j = (n + k) / 2 steps to the right, which
    # must be an integer in 0..n.
    if abs(k) > n or (n + k) % 2:
        return 0.0
    return math.comb(n, (n + k) // 2) / 2**n


_FACTORIAL_OVERFLOWS = (
    "n! overflows a float beyond n = 170: compute C(n, j) / 2^n with exact integers "
    "(math.comb(n, j) / 2**n) or in log space (lgamma)"
)


def check_position_probability(impl, device="cpu") -> None:
    what = "position_probability(4, 0)"
    got = call(impl, what, 4, 0)
    assert_close(
        got,
        6 / 16,
        what,
        rtol=1e-12,
        atol=0,
        hint=_binomial_hint(
            [float(got)] if isinstance(got, (int, float)) else [],
            4,
            [0],
            "6 of the 16 paths of 4 steps end at 0",
        ),
    )
    for n in range(0, 25):
        dp = _dp_distribution(n)
        for k in range(-n - 3, n + 4):
            what = f"position_probability({n}, {k})"
            want = dp[k + n] if -n <= k <= n else 0.0
            got = call(impl, what, n, k)
            hint = (
                "n + k odd or |k| > n is impossible: probability 0"
                if want == 0
                else _binomial_hint(
                    [float(got)] if isinstance(got, (int, float)) else [],
                    n,
                    [k],
                    "(n + k) / 2 of the n steps go right: C(n, (n + k) / 2) / 2^n",
                )
            )
            assert_close(got, want, what, rtol=1e-9, atol=0, hint=hint)
    for n, k in (
        (1000, 0),
        (1000, 40),
        (1000, -998),
        (1000, 1000),
        (999, 1),
        (777, -55),
        (1000, 3),
    ):
        what = f"position_probability({n}, {k})"
        want = math.comb(n, (n + k) // 2) / 2**n if (n + k) % 2 == 0 else 0.0
        with hinted(_FACTORIAL_OVERFLOWS, when="OverflowError"):
            got = call(impl, what, n, k)
        assert_close(
            got,
            want,
            what,
            rtol=1e-7,
            atol=0,
            hint="compute C(n, j) / 2^n without overflow (exact integers or lgamma)",
        )


@fails_with("that is C(n, |k|) / 2^n")
def _wrong_comb_of_k_pp(n: int, k: int) -> float:
    """Uses C(n, |k|) / 2^n instead of C(n, (n + k) / 2) / 2^n."""
    if abs(k) > n or (n + k) % 2:
        return 0.0
    return math.comb(n, abs(k)) / 2**n


@fails_with("n + k odd or |k| > n is impossible")
def _wrong_ignores_parity(n: int, k: int) -> float:
    """Forgets the parity condition: floor((n + k) / 2) gives odd k a non-zero value."""
    if abs(k) > n:
        return 0.0
    return math.comb(n, (n + k) // 2) / 2**n


@fails_with("n! overflows a float")
def _wrong_overflows(n: int, k: int) -> float:
    """Float factorials: math.factorial(n) / 2.0**n overflows for n > 170."""
    if abs(k) > n or (n + k) % 2:
        return 0.0
    j = (n + k) // 2
    return (
        float(math.factorial(n))
        / (float(math.factorial(j)) * float(math.factorial(n - j)))
        / 2.0**n
    )


# --------------------------------------------------------------------------------------------
# first_return_probability (the first-return derivation)
# --------------------------------------------------------------------------------------------


def first_return_probability(n: int) -> float:
    """Probability that the symmetric +-1 walk from 0 returns to 0 for the
    FIRST time at step n.

    Args:
        n: the step, n >= 1 (the checker goes up to n = 2000).

    Returns:
        f_n = P(X_n = 0 and X_j != 0 for 0 < j < n) as a float (0.0 where
        it is impossible).
    """
    # The coefficient of s^n in F(s) = 1 - sqrt(1 - s^2).
    if n % 2 or n <= 0:
        return 0.0
    m = n // 2
    return math.comb(2 * m, m) / ((2 * m - 1) * 4**m)


def _dp_first_return(n_max: int) -> list[float]:
    """Ground truth: walk with 0 absorbing; f[n] = mass that reaches 0 for the first time at n."""
    size = 2 * n_max + 3
    mid = n_max + 1
    probs = [0.0] * size
    probs[mid] = 1.0
    first = [0.0] * (n_max + 1)
    for step in range(1, n_max + 1):
        nxt = [0.0] * size
        for i in range(1, size - 1):
            p = probs[i]
            if p:
                nxt[i - 1] += 0.5 * p
                nxt[i + 1] += 0.5 * p
        first[step] = nxt[mid]
        nxt[mid] = 0.0
        probs = nxt
    return first


def _first_return_hint(got, n, default):
    """Name the classic mistake whose value matches the learner's, if one does."""
    if n % 2 or n <= 0:
        return "the walk can only be at 0 after an even number of steps"
    try:
        got = float(got)
    except (TypeError, ValueError):
        return default
    m = n // 2
    u = math.comb(2 * m, m) / 4**m
    if math.isclose(got, u, rel_tol=1e-9):
        return (
            "that is u_n = P(X_n = 0), being at 0 at step n whether or not it was there before; the FIRST "
            "return has probability u_2m / (2m - 1)"
        )
    if math.isclose(got, u / (2 * m), rel_tol=1e-9):
        return "that divides u_2m by 2m; the first return is u_2m / (2m - 1) (f_2 = 1/2)"
    return default


def check_first_return_probability(impl, device="cpu") -> None:
    for n, want in ((1, 0.0), (2, 0.5), (3, 0.0), (4, 0.125), (6, 1 / 16)):
        what = f"first_return_probability({n})"
        got = call(impl, what, n)
        assert_close(
            got,
            want,
            what,
            rtol=1e-12,
            atol=0,
            hint=_first_return_hint(
                got, n, "f_2 = 1/2 (out and straight back); f_4 = 1/8 (++-- and --++)"
            ),
        )
    first = _dp_first_return(120)
    for n in range(1, 121):
        what = f"first_return_probability({n})"
        hint = (
            "that is P(X_n = 0), any return; the first return is C(2m, m) / ((2m - 1) 4^m)"
            if n % 2 == 0
            else "the walk can only be at 0 after an even number of steps"
        )
        assert_close(call(impl, what, n), first[n], what, rtol=1e-9, atol=0, hint=hint)
    # Large n: f_2m = u_(2m-2) - u_2m with u_2m = C(2m, m) / 4^m, exact big integers.
    for n in (500, 998, 1000, 1001, 2000):
        what = f"first_return_probability({n})"
        if n % 2:
            want = 0.0
        else:
            m = n // 2
            want = (math.comb(2 * m - 2, m - 1) * 4 - math.comb(2 * m, m)) / 4**m
        assert_close(
            call(impl, what, n),
            want,
            what,
            rtol=1e-7,
            atol=0,
            hint="compute C(2m, m) / 4^m without overflow (exact integers or lgamma)",
        )


@fails_with("that is u_n = P(X_n = 0)")
def _wrong_any_return(n: int) -> float:
    """Returns P(X_n = 0), the probability of being at 0, not of the first return."""
    if n % 2:
        return 0.0
    m = n // 2
    return math.comb(2 * m, m) / 4**m


@fails_with("that divides u_2m by 2m")
def _wrong_divides_by_2m(n: int) -> float:
    """Divides by 2m instead of 2m - 1: C(2m, m) / (2m 4^m)."""
    if n % 2:
        return 0.0
    m = n // 2
    return math.comb(2 * m, m) / (2 * m * 4**m)


def _variant_difference(n: int) -> float:
    """f_2m = u_(2m-2) - u_2m, in log space."""
    if n % 2:
        return 0.0
    m = n // 2

    def u(j: int) -> float:
        return math.exp(math.lgamma(2 * j + 1) - 2 * math.lgamma(j + 1) - 2 * j * math.log(2))

    return u(m - 1) - u(m)


WRONG_ANSWERS = {
    "position_distribution": [
        _wrong_keeps_zero_keys,
        _wrong_comb_of_k,
        _wrong_counts_right_steps,
        _wrong_float_keys,
    ],
    "position_probability": [_wrong_comb_of_k_pp, _wrong_ignores_parity, _wrong_overflows],
    "first_return_probability": [_wrong_any_return, _wrong_divides_by_2m],
}

CORRECT_VARIANTS = {
    "position_distribution": [_variant_dp, _variant_log_space],
    "first_return_probability": [_variant_difference],
}
