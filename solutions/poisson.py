"""The Poisson distribution and the exponential waiting time between Poisson events.

Events that happen at a constant average rate, independently, one at a time, give a count in a
window of length t with P(N(t) = n) = (rate t)^n e^(-rate t) / n!, the limit of
Binomial(m, rate t / m) as m -> infinity. The wait T until the next event has
P(T > t) = P(N(t) = 0) = e^(-rate t): the exponential distribution.
"""

import math

from studycli.assertions import (
    as_number,
    assert_close,
    call,
    expect,
    fails_with,
    hinted,
    tensor_or_float,
)


def poisson_pmf(n: int, rate: float, t: float = 1.0):
    """P(N(t) = n): the probability of exactly n events in a window of
    length t, for events that arrive independently, one at a time, at an
    average `rate` per unit time (a Poisson process).

    Args:
        n: the count, an integer >= 0 (the checker goes up to n = 1000).
        rate: the average number of events per unit time, > 0.
        t: the length of the window (same time unit as rate), > 0.
            rate * t goes up to ~1000.

    Returns:
        The probability as a Python float or a 0-d tensor, accurate to a
        relative error of about 1e-9 over that whole range.
    """
    # (rate t)^n e^(-rate t) / n!, evaluated in log space.
    mean = rate * t
    if mean == 0:
        return 1.0 if n == 0 else 0.0
    # log of e^(-mean) mean^n / n! as a sum of n small terms, so nothing overflows;
    # math.fsum adds them without accumulating rounding error.
    log_p = math.fsum([-mean] + [math.log(mean / i) for i in range(1, n + 1)])
    return math.exp(log_p)


def _log_pmf(n: int, mean: float) -> float:
    return n * math.log(mean) - mean - math.lgamma(n + 1)


_OVERFLOW = (
    "(rate t)^n and n! each overflow a float beyond n ≈ 170: combine the factors in log space, "
    "n log(rate t) - rate t - lgamma(n + 1), and exponentiate once"
)


_LGAMMA_ZERO = (
    "math.lgamma(0) is undefined (0 is a pole of the gamma function), and so is math.log(0): "
    "log n! is lgamma(n + 1), which is 0 at n = 0 (0! = 1)"
)
_LGAMMA_ZERO_INF = (
    "got 0 for n = 0, where nothing underflows: lgamma(0) is inf in numpy, scipy and torch (0 is "
    "a pole of the gamma function), and exp(-inf) = 0. log n! is lgamma(n + 1), which is 0 at "
    "n = 0 (0! = 1)"
)
_LGAMMA_N = (
    "lgamma(n) is log (n-1)!, not log n!, which makes the answer n times too large: "
    "log n! is lgamma(n + 1)"
)


def _pmf_call(impl, what, *args) -> float:
    """Call the learner's pmf and read its answer as the float or 0-d tensor the card asks
    for; an OverflowError, or a ValueError at n = 0, gets the hint it deserves."""
    with hinted(_OVERFLOW, when="OverflowError"):
        if args[0] != 0:
            got = call(impl, what, *args)
        else:
            with hinted(_LGAMMA_ZERO, when="ValueError"):
                got = call(impl, what, *args)
    return tensor_or_float(got, what)


STIRLING = (
    "Stirling's approximation of n! is not exact at small n (it gives 1! ≈ 0.922): use "
    "math.lgamma(n + 1), the exact log n!"
)


FLOAT32 = (
    "right to about 7 digits, float32's precision: the card asks for a relative error of 1e-9, "
    "so compute in float64 (Python floats and math.lgamma, or float64 tensors)"
)


def _stirling_log_factorials(n):
    """log n! as the two usual Stirling approximations (with and without the sqrt(2 pi n))."""
    if n == 0:
        return [0.0]
    crude = n * math.log(n) - n
    return [crude + 0.5 * math.log(2 * math.pi * n), crude]


def _pmf_hint(got, n, rate, t, default):
    try:
        got = float(got)
    except (TypeError, ValueError):
        return default
    want = math.exp(_log_pmf(n, rate * t))
    mean = rate * t
    for log_factorial in _stirling_log_factorials(n):
        stirling = math.exp(n * math.log(mean) - mean - log_factorial)
        # Only where Stirling stands apart from the exact value: at n = 0 it is exact (0! = 1),
        # and an answer merely close to it there is close to the right value.
        apart = not math.isclose(stirling, want, rel_tol=1e-7)
        if apart and math.isclose(got, stirling, rel_tol=1e-7):
            return STIRLING
    if got != want and math.isclose(got, want, rel_tol=1e-6):
        return FLOAT32
    if n >= 2 and math.isclose(got, n * want, rel_tol=1e-7):
        return _LGAMMA_N
    if n == 0 and got == 0.0 and want > 0.0 and mean < 700:
        # e^(-mean) alone cannot underflow here: the 0 is exp(-inf), from lgamma(0) = inf.
        return _LGAMMA_ZERO_INF
    if t != 1 and math.isclose(got, math.exp(_log_pmf(n, rate)), rel_tol=1e-7):
        return "that is the probability for a window of length 1: the mean count is rate * t"
    if got == 0.0 and want > 0.0:
        return (
            "the result underflowed to 0: an intermediate such as e^(-rate t) is below the "
            "smallest float; combine the factors in log space and exponentiate once"
        )
    if not math.isfinite(got):
        return _OVERFLOW
    return default


def check_poisson_pmf(impl, device="cpu") -> None:
    # The hospital: 3 births an hour on average.
    for args, want, note in (
        ((0, 3.0), math.exp(-3), "no birth in the next hour"),
        ((1, 3.0), 3 * math.exp(-3), "exactly one birth in the next hour"),
        ((3, 3.0, 1.0), 27 / 6 * math.exp(-3), "exactly three births in an hour"),
        ((0, 3.0, 2.0), math.exp(-6), "no birth in the next two hours"),
        ((2, 0.5, 4.0), 2.0 * math.exp(-2), "rate 0.5 per hour, two events in four hours"),
    ):
        what = f"poisson_pmf{args} ({note})"
        got = _pmf_call(impl, what, *args)
        n, rate, t = (*args, 1.0) if len(args) == 2 else args
        assert_close(
            got,
            want,
            what,
            rtol=1e-9,
            atol=0,
            hint=_pmf_hint(got, n, rate, t, "P(N(t) = n) = (rate t)^n e^(-rate t) / n!"),
        )
    # Just past the float factorial limit: 171! and 100^171 are both above 1.8e308.
    for n, rate, t in ((171, 100.0, 1.0), (200, 50.0, 4.0)):
        what = f"poisson_pmf({n}, {rate:g}, {t:g})"
        got = _pmf_call(impl, what, n, rate, t)
        assert_close(
            got,
            math.exp(_log_pmf(n, rate * t)),
            what,
            rtol=1e-9,
            atol=0,
            hint=_pmf_hint(got, n, rate, t, _OVERFLOW),
        )
    what = "poisson_pmf(n, 1.0, 1.0) summed over n = 0..60"
    total = math.fsum(_pmf_call(impl, what, n, 1.0, 1.0) for n in range(61))
    expect(abs(total - 1.0) < 1e-9, what, f"sums to {total!r}, not 1")
    # A grid up to n = 1000 and rate * t = 1000, against the closed form in log space.
    for n in (0, 1, 2, 5, 10, 50, 100, 170, 171, 250, 500, 999, 1000):
        for mean in (0.5, 1.0, 3.0, 10.0, 99.5, 500.0, 1000.0):
            for t in (1.0, 0.25, 4.0):
                rate = mean / t
                what = f"poisson_pmf({n}, rate={rate:g}, t={t:g})"
                got = _pmf_call(impl, what, n, rate, t)
                log_want = _log_pmf(n, mean)
                want = math.exp(log_want) if log_want > -745 else 0.0
                assert_close(
                    got,
                    want,
                    what,
                    rtol=1e-9,
                    atol=1e-300,
                    hint=_pmf_hint(got, n, rate, t, _OVERFLOW),
                )


@fails_with("overflow a float beyond n ≈ 170")
def _wrong_factorial(n: int, rate: float, t: float = 1.0) -> float:
    """The direct formula with floats: (rate t)^n and n! overflow for n > 170."""
    mean = rate * t
    return mean**n * math.exp(-mean) / float(math.factorial(n))


@fails_with("the mean count is rate * t")
def _wrong_forgets_t(n: int, rate: float, t: float = 1.0) -> float:
    """Forgets the window length: uses rate instead of rate * t."""
    return math.exp(n * math.log(rate) - rate - math.lgamma(n + 1))


@fails_with("underflowed to 0")
def _wrong_recurrence_underflow(n: int, rate: float, t: float = 1.0) -> float:
    """Starts the recurrence p_0 = e^(-rate t), p_i = p_(i-1) rate t / i in linear space: e^-1000 underflows to 0."""
    mean = rate * t
    p = math.exp(-mean)
    for i in range(1, n + 1):
        p *= mean / i
    return p


@fails_with("Stirling's approximation of n! is not exact")
def _wrong_stirling(n: int, rate: float, t: float = 1.0) -> float:
    """Replaces log n! by Stirling's n log n - n + 1/2 log(2 pi n): about 8% off at n = 1."""
    mean = rate * t
    log_factorial = n * math.log(n) - n + 0.5 * math.log(2 * math.pi * n) if n > 0 else 0.0
    return math.exp(n * math.log(mean) - mean - log_factorial)


@fails_with("right to about 7 digits, float32's precision")
def _wrong_float32(n: int, rate: float, t: float = 1.0):
    """The log-space formula on torch's default float32 tensors: right to 7 digits, not 1e-9."""
    import torch

    mean = torch.tensor(rate * t)  # float32
    return float(torch.exp(n * torch.log(mean) - mean - torch.lgamma(torch.tensor(n + 1.0))))


@fails_with("math.lgamma(0) is undefined")
def _wrong_lgamma_n(n: int, rate: float, t: float = 1.0) -> float:
    """Takes lgamma(n) for log n!: math.lgamma(0) raises a math domain error."""
    mean = rate * t
    return math.exp(n * math.log(mean) - mean - math.lgamma(n))


@fails_with("lgamma(n) is log (n-1)!")
def _wrong_lgamma_n_past_zero(n: int, rate: float, t: float = 1.0) -> float:
    """Takes lgamma(n) for log n!, with n = 0 handled on its own: n times too large."""
    mean = rate * t
    if n == 0:
        return math.exp(-mean)
    return math.exp(n * math.log(mean) - mean - math.lgamma(n))


@fails_with("got 0 for n = 0")
def _wrong_lgamma_n_torch(n: int, rate: float, t: float = 1.0) -> float:
    """Takes torch.lgamma(n) for log n! in float64: lgamma(0) is inf there, and exp(-inf) = 0."""
    import torch

    mean = torch.tensor(rate * t, dtype=torch.float64)
    log_factorial = torch.lgamma(torch.tensor(float(n), dtype=torch.float64))
    return float(torch.exp(n * torch.log(mean) - mean - log_factorial))


@fails_with("returned a numpy array(0.049787068367863944, dtype=float64), expected a 0-d")
def _wrong_numpy(n: int, rate: float, t: float = 1.0):
    """torch.distributions.Poisson in float64, its 0-d tensor turned into numpy's 0-d array
    (.numpy()): neither a float nor a 0-d tensor."""
    return _variant_torch(n, rate, t).numpy()


def _variant_lgamma(n: int, rate: float, t: float = 1.0) -> float:
    """Closed form in log space with math.lgamma."""
    mean = rate * t
    return math.exp(n * math.log(mean) - mean - math.lgamma(n + 1))


def _variant_torch(n: int, rate: float, t: float = 1.0):
    """torch.distributions.Poisson in float64, returned as a 0-d tensor."""
    import torch

    dist = torch.distributions.Poisson(torch.tensor(rate * t, dtype=torch.float64))
    return dist.log_prob(torch.tensor(float(n), dtype=torch.float64)).exp()


# --------------------------------------------------------------------------------------------
# waiting_time_cdf (the exponential-waiting-time derivation)
# --------------------------------------------------------------------------------------------


def waiting_time_cdf(t: float, rate: float) -> float:
    """P(T <= t), T being the waiting time
    until the next event of a Poisson process.

    Args:
        t: a duration, >= 0.
        rate: the average number of events per unit time, > 0.

    Returns:
        The probability, a Python float, that at least one event happens
        within time t.
    """
    # T > t exactly when the window [0, t] has no event: P(N(t) = 0) = e^(-rate t).
    return -math.expm1(-rate * t)


def _cdf_hint(got, t, rate, default):
    try:
        got = float(got)
    except (TypeError, ValueError):
        return default
    if math.isclose(got, math.exp(-rate * t), rel_tol=1e-7) and rate * t > 0:
        return "that is P(T > t) = e^(-rate t), the chance of no event yet; the CDF is 1 minus it"
    if math.isclose(got, 1 - math.exp(-t / rate), rel_tol=1e-7) and rate != 1:
        return "that is 1 - e^(-t / rate): rate counts events per unit time, so the mean wait is 1 / rate"
    return default


def check_waiting_time_cdf(impl, device="cpu") -> None:
    import torch

    for args, want, note in (
        ((0.25, 3.0), 1 - math.exp(-0.75), "3 births an hour: the next within 15 minutes"),
        ((2.0, 3.0), 1 - math.exp(-6.0), "the next within two hours"),
        ((1.0, 1.0), 1 - math.exp(-1.0), "one mean waiting time"),
        ((0.0, 2.0), 0.0, "no time at all"),
    ):
        what = f"waiting_time_cdf{args} ({note})"
        got = call(impl, what, *args)
        assert_close(
            got,
            want,
            what,
            rtol=1e-9,
            atol=1e-12,
            hint=_cdf_hint(got, *args, "the wait exceeds t exactly when [0, t] holds no event"),
        )
    for rate in (0.1, 0.5, 2.0, 7.0, 40.0):
        for t in (1e-6, 0.01, 0.3, 1.0, 2.5, 10.0):
            what = f"waiting_time_cdf({t:g}, rate={rate:g})"
            want = float(
                torch.distributions.Exponential(torch.tensor(rate, dtype=torch.float64)).cdf(
                    torch.tensor(t, dtype=torch.float64)
                )
            )
            got = call(impl, what, t, rate)
            assert_close(
                got,
                want,
                what,
                rtol=1e-9,
                atol=1e-12,
                hint=_cdf_hint(
                    got, t, rate, "rate is events per unit time; the mean wait is 1 / rate"
                ),
            )
    what = "waiting_time_cdf(t, 2.0) for increasing t"
    values = [as_number(call(impl, what, t, 2.0), what) for t in (0.1, 0.5, 1.0, 3.0, 20.0)]
    expect(
        all(a < b for a, b in zip(values, values[1:])),
        what,
        f"a CDF must increase with t, got {values}",
    )


@fails_with("that is P(T > t)")
def _wrong_survival(t: float, rate: float) -> float:
    """Returns P(T > t) = e^(-rate t) instead of P(T <= t)."""
    return math.exp(-rate * t)


@fails_with("the mean wait is 1 / rate")
def _wrong_scale(t: float, rate: float) -> float:
    """Uses rate as the mean wait: 1 - e^(-t / rate)."""
    return 1 - math.exp(-t / rate)


def _variant_one_minus_exp(t: float, rate: float) -> float:
    """The textbook 1 - exp(-rate t) (a little less precise for tiny rate t, still within 1e-12)."""
    return 1 - math.exp(-rate * t)


WRONG_ANSWERS = {
    "poisson_pmf": [
        _wrong_factorial,
        _wrong_forgets_t,
        _wrong_recurrence_underflow,
        _wrong_stirling,
        _wrong_float32,
        _wrong_lgamma_n,
        _wrong_lgamma_n_past_zero,
        _wrong_lgamma_n_torch,
        _wrong_numpy,
    ],
    "waiting_time_cdf": [_wrong_survival, _wrong_scale],
}

CORRECT_VARIANTS = {
    "poisson_pmf": [_variant_lgamma, _variant_torch],
    "waiting_time_cdf": [_variant_one_minus_exp],
}
