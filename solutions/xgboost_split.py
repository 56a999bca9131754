"""XGBoost: leaf weights, the structure score, the split gain and the exact greedy split search.

With g_i and h_i the first and second derivatives of the loss at the current prediction, and
G, H their sums over the samples of a leaf, the regularised second-order objective of a tree
with T leaves is minimised by w_j* = -G_j / (H_j + lambda), giving the structure score
-1/2 Σ_j G_j² / (H_j + lambda) + gamma T. Splitting one leaf into two changes it by the gain.
"""

import numpy as np
import torch

from studycli.assertions import (
    as_number,
    assert_close,
    call,
    call_unchanged,
    describe,
    expect,
    expect_pair,
    fails_with,
    tensor_or_float,
)

# ---------------------------------------------------------------------------------------------
# References
# ---------------------------------------------------------------------------------------------


def best_split(
    x,
    g,
    h,
    reg_lambda: float = 1.0,
    gamma: float = 0.0,
) -> tuple[float, float]:
    """Exact greedy split search of XGBoost on one feature.

    A split sends the samples with x < threshold to the left child and the
    others (x >= threshold) to the right child; both children must be
    non-empty. Its gain is

        gain = 1/2 [G_L²/(H_L + λ) + G_R²/(H_R + λ) - G²/(H + λ)] - γ

    where G_L, H_L (G_R, H_R) are the sums of g and h over the left
    (right) child and G, H the sums over all samples. Candidate thresholds
    lie midway between neighbouring distinct values of x (so duplicated x
    values always go to the same side). Among splits of equal gain, the
    smallest threshold is returned. The best gain may be negative (with a
    large γ, or when no split helps); it is still returned.

    Args:
        x: (n,) feature values, in any order, possibly with duplicates; at
            least two distinct.
        g: (n,) first-order gradients of the loss.
        h: (n,) second-order gradients (hessians), h > 0.
        reg_lambda: λ, the L2 penalty on leaf weights.
        gamma: γ, the cost of one extra leaf.

    Returns:
        (gain, threshold) as Python floats.
    """
    order = torch.argsort(x, stable=True)
    xs = x[order]
    gs = g[order].double()
    hs = h[order].double()
    G, H = gs.sum(), hs.sum()
    # Left child = the first i+1 sorted samples; a cut is only possible where the value changes.
    GL, HL = torch.cumsum(gs, 0)[:-1], torch.cumsum(hs, 0)[:-1]
    GR, HR = G - GL, H - HL
    valid = xs[1:] > xs[:-1]
    gains = (
        0.5 * (GL**2 / (HL + reg_lambda) + GR**2 / (HR + reg_lambda) - G**2 / (H + reg_lambda))
        - gamma
    )
    gains = torch.where(valid, gains, torch.full_like(gains, -float("inf")))
    best = int(torch.argmax(gains))  # first maximum = smallest threshold
    threshold = (xs[best] + xs[best + 1]) / 2
    return float(gains[best]), float(threshold)


def leaf_weight(g, h, reg_lambda: float = 1.0):
    """Optimal weight of one XGBoost leaf.

    The samples in the leaf have gradients g_i and hessians h_i; the
    leaf's part of the second-order objective is
    Σ_i (g_i w + 1/2 h_i w²) + 1/2 λ w². Return the w minimising it.

    Args:
        g: (n,) first-order gradients of the loss of the samples in the
            leaf.
        h: (n,) hessians of those samples (h > 0).
        reg_lambda: λ, the L2 penalty on the leaf weight.

    Returns:
        w* as a Python float or a 0-d tensor.
    """
    G = float(g.double().sum())
    H = float(h.double().sum())
    return -G / (H + reg_lambda)


def tree_objective(
    G,
    H,
    reg_lambda: float = 1.0,
    gamma: float = 0.0,
) -> float:
    """The structure score of a fixed tree: its
    round-t objective at the best leaf weights.

    The objective is Σ_i l(y_i, ŷ_i + f(x_i)) + γT + 1/2 λ Σ_j w_j², with
    the loss expanded to second order around the current predictions ŷ_i
    and the constant terms dropped; f gives every sample of leaf j the
    weight w_j. Return its minimum over the leaf weights.

    Args:
        G: (T,) sum of the gradients g_i of the samples in each leaf.
        H: (T,) sum of the hessians h_i of the samples in each leaf.
        reg_lambda: λ, the L2 penalty on leaf weights.
        gamma: γ, the cost per leaf.

    Returns:
        The minimal objective as a Python float (lower is better); G and H
        are left unchanged.
    """
    # Per leaf: G w + 1/2 (H + λ) w², minimised at w* = -G / (H + λ), value -1/2 G² / (H + λ).
    G = G.double()
    H = H.double()
    T = G.numel()
    return float(-0.5 * (G**2 / (H + reg_lambda)).sum() + gamma * T)


def split_gain(
    G_L: float,
    H_L: float,
    G_R: float,
    H_R: float,
    reg_lambda: float = 1.0,
    gamma: float = 0.0,
) -> float:
    """The gain of splitting one leaf into a left and a right child: how
    much the split lowers the tree's structure score
    -1/2 Σ_j G_j²/(H_j + λ) + γT (positive when the split helps).

    Args:
        G_L, H_L: sums of gradients and hessians over the left child's
            samples.
        G_R, H_R: the same over the right child's samples.
        reg_lambda: λ.
        gamma: γ, the cost of one leaf.

    Returns:
        The gain as a Python float.
    """
    G, H = G_L + G_R, H_L + H_R
    return (
        0.5 * (G_L**2 / (H_L + reg_lambda) + G_R**2 / (H_R + reg_lambda) - G**2 / (H + reg_lambda))
        - gamma
    )


# ---------------------------------------------------------------------------------------------
# Checkers
# ---------------------------------------------------------------------------------------------


def _np(t):
    return t.detach().cpu().double().numpy()


def _gain_of_partition(left, g, h, lam, gamma):
    GL, HL = g[left].sum(), h[left].sum()
    GR, HR = g[~left].sum(), h[~left].sum()
    G, H = g.sum(), h.sum()
    return 0.5 * (GL**2 / (HL + lam) + GR**2 / (HR + lam) - G**2 / (H + lam)) - gamma


def _brute_force(x, g, h, lam, gamma):
    """Every valid threshold (midpoints of neighbouring distinct values) and its gain."""
    values = np.unique(x)
    mids = (values[:-1] + values[1:]) / 2
    gains = np.array([_gain_of_partition(x < t, g, h, lam, gamma) for t in mids])
    return mids, gains


def _as_pair(result, what):
    expect_pair(result, ("gain", "threshold"), what)
    try:
        return float(result[0]), float(result[1])
    except (TypeError, ValueError):
        raise AssertionError(f"{what}: returned {describe(result)}, expected two numbers") from None


def _split_hint(got, x, g, h, lam, gamma):
    """Name the classic mistake whose gain matches the learner's, if one does."""
    values = np.unique(x)
    mids = (values[:-1] + values[1:]) / 2
    G, H = g.sum(), h.sum()
    candidates = {
        "the 1/2 in front of the bracket is missing": lambda L: (
            2 * (_gain_of_partition(L, g, h, lam, gamma) + gamma) - gamma
        ),
        "gamma is not subtracted": lambda L: _gain_of_partition(L, g, h, lam, gamma) + gamma,
        "γ is inside the 1/2: the gain is 1/2 [G_L²/(H_L + λ) + G_R²/(H_R + λ) - G²/(H + λ)] - γ, "
        "the whole γ subtracted after halving the bracket": lambda L: (
            _gain_of_partition(L, g, h, lam, gamma) + gamma / 2
        ),
        "lambda is missing from the parent term G²/(H + λ)": lambda L: (
            _gain_of_partition(L, g, h, lam, gamma) + 0.5 * (G**2 / (H + lam) - G**2 / H)
        ),
    }
    for name, fn in candidates.items():
        alt = max(fn(x < t) for t in mids)
        if np.isclose(got, alt, rtol=1e-7, atol=1e-9):
            return name
    if np.isclose(got, -gamma, rtol=1e-9, atol=1e-12):
        return "a split with an empty side (gain exactly -gamma) is not allowed"
    n = len(x)
    order = np.argsort(x, kind="stable")
    prefixes = {
        "a cut between two equal values of x: no threshold separates them, so only cut where "
        "the sorted value changes": order,
        "the prefix sums follow the input order: sort the samples by x before scanning": np.arange(
            n
        ),
    }
    for name, perm in prefixes.items():
        alt = max(
            _gain_of_partition(np.isin(np.arange(n), perm[:k]), g, h, lam, gamma)
            for k in range(1, n)
        )
        if np.isclose(got, alt, rtol=1e-7, atol=1e-9):
            return name
    return "sort the samples by x, scan prefix sums, and only cut where the value changes"


THRESHOLD_FLOAT32 = (
    "that threshold is a midpoint rounded to float32's 7 digits: compute it in x's dtype "
    "(torch.zeros(n) and torch.tensor(values) are float32 unless given dtype=x.dtype)"
)


def _check_split_case(impl, x, g, h, lam, gamma, device, dtype=torch.float64, defaults=False):
    xt = torch.tensor(x, dtype=dtype, device=device)
    gt = torch.tensor(g, dtype=dtype, device=device)
    ht = torch.tensor(h, dtype=dtype, device=device)
    # Ground truth from the values the learner actually receives.
    x, g, h = _np(xt), _np(gt), _np(ht)
    if defaults:
        what = f"best_split(x={describe(xt)}, g={describe(gt)}, h={describe(ht)})"
    else:
        what = (
            f"best_split(x={describe(xt)}, g={describe(gt)}, h={describe(ht)}, "
            f"reg_lambda={lam}, gamma={gamma})"
        )
    options = {} if defaults else {"reg_lambda": lam, "gamma": gamma}
    result = call_unchanged(impl, what, ("x", "g", "h"), xt, gt, ht, **options)
    gain, threshold = _as_pair(result, what)
    mids, gains = _brute_force(x, g, h, lam, gamma)
    best = gains.max()
    loose = dtype != torch.float64
    rtol, atol = (1e-5, 1e-6) if loose else (1e-9, 1e-10)
    if not np.isclose(gain, best, rtol=rtol, atol=atol):
        assert_close(
            gain,
            best,
            what + " -> gain",
            rtol=rtol,
            atol=atol,
            hint=_split_hint(gain, x, g, h, lam, gamma),
        )
    nearest = mids[np.argmin(np.abs(mids - threshold))]
    off = abs(nearest - threshold) if np.isfinite(threshold) else np.inf
    expect(
        off <= rtol * max(1.0, abs(nearest)),
        what,
        f"threshold {threshold!r} is not midway between two neighbouring distinct values of x "
        f"(valid thresholds: {describe([round(float(m), 6) for m in mids], 32)})",
        # (a float32 threshold, a torch.zeros(n) of midpoints, was told to take no value of x)
        hint=THRESHOLD_FLOAT32
        if off <= 1e-6 * max(1.0, abs(nearest))
        else "the threshold is (v_k + v_(k+1)) / 2 for consecutive distinct sorted values, "
        "not a value of x itself",
    )
    achieved = _gain_of_partition(x < threshold, g, h, lam, gamma)
    expect(
        abs(achieved - best) <= max(rtol * abs(best), atol),
        what,
        f"the split x < {threshold!r} has gain {achieved:.10g}, but the best split has gain "
        f"{best:.10g} (at threshold {mids[np.argmax(gains)]!r})",
        hint="the threshold returned must be the one that achieves the returned gain",
    )
    # Ties: only gains equal up to rounding (the tie cases use integers, whose gains tie
    # exactly in any order of summation), so that a genuinely better split is never called one.
    tied = mids[gains >= best - 1e-12 * max(1.0, abs(best))]
    smallest = tied[0]
    expect(
        abs(smallest - threshold) <= rtol * max(1.0, abs(smallest)),
        what,
        f"the thresholds {describe([float(t) for t in tied], 32)} tie for the best gain "
        f"{best:.10g}; the smallest, {float(smallest)!r}, must be returned, got {threshold!r}",
        hint="several thresholds tie: take the FIRST maximum of the gains in ascending order of "
        "x (torch.argmax and np.argmax return the first), not the last",
    )


def check_best_split(impl, device="cpu") -> None:
    """Brute force over every valid threshold, on fixed, tied, duplicated and random inputs."""
    ones4 = [1.0] * 4
    # Hand-checkable: best cut at 2.5, gain 1/2 (4/3 + 4/3 - 0) = 4/3.
    _check_split_case(impl, [1, 2, 3, 4], [-1, -1, 1, 1], ones4, 1.0, 0.0, device)
    # The same, unsorted.
    _check_split_case(impl, [3, 1, 4, 2], [1, -1, 1, -1], ones4, 1.0, 0.0, device)
    # Defaults reg_lambda = 1, gamma = 0.
    _check_split_case(
        impl,
        [0.5, 2.0, -1.0, 7.0, 3.0],
        [2.0, -1.0, 3.0, -2.0, 0.5],
        [1.0, 0.5, 2.0, 1.5, 1.0],
        1.0,
        0.0,
        device,
        defaults=True,
    )
    # The smallest case: two samples.
    _check_split_case(impl, [5.0, 2.0], [1.0, -1.0], [1.0, 1.0], 1.0, 0.0, device)
    # Ties: the smallest threshold is returned. Between 0.5 and 2.5 (gain 3/8 each).
    _check_split_case(impl, [0, 1, 2, 3], [1, -1, -1, 1], ones4, 1.0, 0.0, device)
    # Between 1.5 and 2.5, the samples given in descending order of x.
    _check_split_case(impl, [3, 2, 1], [-1.0, 0.0, 1.0], [1.0] * 3, 1.0, 0.0, device)
    # Between 1.5 and 3.5 (of 3 thresholds), with duplicated values, negative gains and gamma.
    _check_split_case(
        impl,
        [4, 1, 2, 4, 3, 1],
        [1.0, 1.0, -1.0, 1.0, -1.0, 1.0],
        [1.0] * 6,
        1.0,
        0.5,
        device,
    )
    # Duplicates: equal values must stay on one side.
    _check_split_case(
        impl,
        [3, 1, 3, 2, 1, 2, 3],
        [2.0, -1.0, -3.0, 1.0, -1.0, 0.5, 2.5],
        [1.0, 1.0, 0.5, 2.0, 1.0, 1.0, 1.5],
        1.0,
        0.0,
        device,
    )
    # Every split has negative gain (equal gradients): the best is still a real split.
    _check_split_case(impl, [0, 1, 2, 3], ones4, ones4, 1.0, 0.0, device)
    _check_split_case(impl, [4, 1, 3, 2, 0], [1.0] * 5, [1.0] * 5, 2.0, 0.3, device)
    # A large gamma makes the gain negative.
    _check_split_case(impl, [1, 2, 3, 4], [-1, -1, 1, 1], ones4, 1.0, 5.0, device)
    # lambda = 0.
    _check_split_case(
        impl,
        [0.1, 0.7, 0.3, 0.9, 0.5],
        [1.0, -2.0, 0.5, -1.0, 3.0],
        [0.5, 1.0, 2.0, 1.0, 0.25],
        0.0,
        0.0,
        device,
    )
    rng = np.random.default_rng(0)
    for n in (2, 3, 4, 5, 7, 10, 16, 31, 64, 200, 500):
        for integer in (False, True):
            if integer:
                x = rng.integers(0, max(2, n // 3), n).astype(float)
                if len(np.unique(x)) < 2:
                    x[0], x[-1] = 0.0, 1.0
            else:
                x = rng.normal(size=n) * 10
            g = rng.normal(size=n)
            h = rng.uniform(0.1, 2.0, size=n)
            lam = float(rng.choice([0.0, 0.5, 1.0, 10.0]))
            gamma = float(rng.choice([0.0, 0.0, 0.2, 3.0]))
            _check_split_case(impl, x, g, h, lam, gamma, device)
    # float32 inputs, looser tolerance.
    x = rng.integers(0, 20, 100).astype(float)
    _check_split_case(
        impl,
        x,
        rng.normal(size=100),
        rng.uniform(0.1, 2.0, size=100),
        1.0,
        0.1,
        device,
        dtype=torch.float32,
    )


def _leaf_hint(got, g, h, lam):
    """Name the classic mistake whose leaf weight matches the learner's, if one does."""
    G, H, n = g.sum(), h.sum(), len(g)
    known = [
        (-G / H, "λ is missing: w* = -G / (H + λ)"),
        (-g.mean() / (h.mean() + lam), "g and h are averaged; sum them over the leaf"),
        (G / (H + lam), "the sign is flipped: the weight moves against the gradient, -G / (H + λ)"),
        (
            -G / (n + lam),
            "the sample count replaces the hessian sum: H = Σ h_i (h_i = 1 only for squared error)",
        ),
    ]
    want = -G / (H + lam)
    for value, text in known:
        # Only a mistake whose value stands apart from the right one is named: with h_i = 1 the
        # sample count is the hessian sum, and at λ = 0 -G / H is right, so a near miss there
        # says nothing about either.
        apart = not np.isclose(value, want, rtol=1e-7, atol=1e-12)
        if apart and np.isfinite(value) and np.isclose(got, value, rtol=1e-7, atol=1e-12):
            return text
    if got != want and np.isclose(got, want, rtol=1e-6, atol=0):
        return _LEAF_FLOAT32
    return "w* = -G / (H + λ) with G, H the sums over the leaf"


_LEAF_FLOAT32 = (
    "right to about 7 digits, float32's precision: sum g and h in their own dtype (float64 "
    "here), not in float32"
)


def check_leaf_weight(impl, device="cpu") -> None:
    """Closed form -G/(H+λ), and the stationarity of the leaf objective at the answer."""
    # Squared error: g = pred - y, h = 1. With pred = 0 and λ = 0 the best weight is mean(y).
    y = torch.tensor([1.0, 2.0, 3.0, 6.0], dtype=torch.float64, device=device)
    ones = torch.ones_like(y)
    for lam, want in ((0.0, 3.0), (1.0, 12.0 / 5.0), (4.0, 1.5)):
        what = f"leaf_weight(g={describe(-y)}, h={describe(ones)}, reg_lambda={lam})"
        got = tensor_or_float(call(impl, what, -y, ones, reg_lambda=lam), what)
        assert_close(
            got,
            want,
            what,
            rtol=1e-9,
            atol=1e-12,
            hint=_leaf_hint(got, _np(-y), _np(ones), lam),
        )
    what = f"leaf_weight(g={describe(-y)}, h={describe(ones)})  (default reg_lambda=1)"
    assert_close(
        tensor_or_float(call(impl, what, -y, ones), what), 12.0 / 5.0, what, rtol=1e-9, atol=1e-12
    )
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 8, 50, 1000):
        for lam in (0.0, 1.0, 3.5):
            g = torch.tensor(rng.normal(size=n) + 0.3, dtype=torch.float64, device=device)
            h = torch.tensor(rng.uniform(0.05, 3.0, size=n), dtype=torch.float64, device=device)
            what = f"leaf_weight(g={describe(g)}, h={describe(h)}, reg_lambda={lam})"
            got = tensor_or_float(call(impl, what, g, h, reg_lambda=lam), what)
            G, H = _np(g).sum(), _np(h).sum()
            # The derivative of Σ (g_i w + h_i w²/2) + λ w²/2 must vanish at the answer.
            slope = G + (H + lam) * got
            expect(
                abs(slope) <= 1e-8 * (abs(G) + (H + lam) * abs(got) + 1),
                what,
                f"returned {got:.10g}; the leaf objective's derivative there is {slope:.3g}, "
                f"not 0 (expected {-G / (H + lam):.10g})",
                hint=_leaf_hint(got, _np(g), _np(h), lam),
            )
    g = torch.tensor([0.5, -2.0, 1.25], dtype=torch.float32, device=device)
    h = torch.tensor([0.2, 0.3, 1.5], dtype=torch.float32, device=device)
    what = f"leaf_weight(g={describe(g)}, h={describe(h)}, reg_lambda=0.5)"
    assert_close(
        tensor_or_float(call(impl, what, g, h, reg_lambda=0.5), what), 0.25 / 2.5, what, rtol=1e-5
    )


def _objective_hint(got, G, H, lam, gamma):
    """Name the classic mistake whose structure score matches the learner's, if one does."""
    T = len(G)
    known = [
        (
            -(G**2 / (H + lam)).sum() + gamma * T,
            "the 1/2 is missing: substituting w* gives -1/2 G²/(H + λ) per leaf",
        ),
        (-0.5 * (G**2 / (H + lam)).sum(), "γT is missing: each leaf costs γ"),
        (-0.5 * (G**2 / H).sum() + gamma * T, "λ is missing from the denominators H + λ"),
        (
            0.5 * (G**2 / (H + lam)).sum() + gamma * T,
            "the sign is flipped: at the best weights "
            "each leaf contributes -1/2 G²/(H + λ), a decrease",
        ),
    ]
    for value, text in known:
        if np.isfinite(value) and np.isclose(got, value, rtol=1e-7, atol=1e-12):
            return text
    return "-1/2 Σ G_j²/(H_j + λ) + γT: mind the 1/2, the λ, the sign and γT"


OBJECTIVE_IN_PLACE = (
    "leave G and H as they came (H + reg_lambda makes a new tensor; H += reg_lambda adds λ to "
    "the caller's sums): the caller still holds them, to score the next split"
)


def check_tree_objective(impl, device="cpu") -> None:
    """Minimum over w of Σ [G w + (H+λ) w²/2] + γT, leaf by leaf (min of a w² + b w = -b²/4a)."""
    rng = np.random.default_rng(0)
    cases = [
        # First a case where every classic mistake gives a different number.
        ([2.0, -4.0], [3.0, 1.0], 1.0, 0.5),
        ([2.0], [1.0], 1.0, 0.0),
        ([0.0, 0.0, 0.0], [1.0, 2.0, 3.0], 1.0, 2.0),
        ([1.5, -0.5], [0.5, 0.25], 0.0, 1.0),
    ]
    for T in (1, 2, 5, 17, 64):
        cases.append(
            (
                list(rng.normal(size=T) * 3),
                list(rng.uniform(0.1, 10, size=T)),
                float(rng.choice([0.0, 1.0, 5.0])),
                float(rng.choice([0.0, 0.7])),
            )
        )
    for G, H, lam, gamma in cases:
        Gt = torch.tensor(G, dtype=torch.float64, device=device)
        Ht = torch.tensor(H, dtype=torch.float64, device=device)
        what = f"tree_objective({describe(Gt)}, {describe(Ht)}, reg_lambda={lam}, gamma={gamma})"
        got = as_number(
            call_unchanged(
                impl, what, ("G", "H"), Gt, Ht, reg_lambda=lam, gamma=gamma, hint=OBJECTIVE_IN_PLACE
            ),
            what,
        )
        G_, H_ = np.array(G), np.array(H)
        a, b = 0.5 * (H_ + lam), G_
        want = float(np.sum(-(b**2) / (4 * a))) + gamma * len(G)
        assert_close(
            got, want, what, rtol=1e-9, atol=1e-12, hint=_objective_hint(got, G_, H_, lam, gamma)
        )
    Gt = torch.tensor([1.0, -3.0], dtype=torch.float64, device=device)
    Ht = torch.tensor([2.0, 1.0], dtype=torch.float64, device=device)
    what = f"tree_objective({describe(Gt)}, {describe(Ht)})  (defaults λ=1, γ=0)"
    assert_close(as_number(call(impl, what, Gt, Ht), what), -0.5 * (1 / 3 + 9 / 2), what, rtol=1e-9)


def _gain_hint(got, GL, HL, GR, HR, lam, gamma):
    """Name the classic mistake whose gain matches the learner's, if one does."""
    G, H = GL + GR, HL + HR
    bracket = GL**2 / (HL + lam) + GR**2 / (HR + lam) - G**2 / (H + lam)
    known = [
        (bracket - gamma, "the 1/2 in front of the bracket is missing"),
        (0.5 * bracket, "γ is not subtracted: the split adds a leaf, which costs γ"),
        (
            -0.5 * bracket + gamma,
            "the sign is flipped: the gain is the score before the split minus the score after it",
        ),
    ]
    if H > 0:
        known.append(
            (
                0.5 * (GL**2 / (HL + lam) + GR**2 / (HR + lam) - G**2 / H) - gamma,
                "λ is missing from the parent term G²/(H + λ)",
            )
        )
    for value, text in known:
        if np.isfinite(value) and np.isclose(got, value, rtol=1e-7, atol=1e-12):
            return text
    return (
        "gain = score(parent) - score(children) = 1/2 [G_L²/(H_L+λ) + G_R²/(H_R+λ) - G²/(H+λ)] - γ"
    )


def check_split_gain(impl, device="cpu") -> None:
    """The parent's structure score minus the children's, each from min_w of its quadratic."""

    def score(Gs, Hs, lam, gamma):
        """Each leaf's quadratic G w + (H + λ) w²/2 at its stationary point, plus γ per leaf."""
        total = gamma * len(Gs)
        for G, H in zip(Gs, Hs):
            w = -G / (H + lam)
            total += G * w + 0.5 * (H + lam) * w * w
        return total

    rng = np.random.default_rng(0)
    cases = [
        (-2.0, 2.0, 2.0, 2.0, 1.0, 0.0),
        (1.0, 1.0, 1.0, 1.0, 1.0, 0.0),
        (3.0, 0.5, -1.0, 4.0, 0.0, 0.5),
        (0.0, 1.0, 0.0, 1.0, 2.0, 1.0),
    ]
    for _ in range(20):
        GL, GR = rng.normal(size=2) * 3
        HL, HR = rng.uniform(0.1, 5.0, size=2)
        cases.append(
            (
                float(GL),
                float(HL),
                float(GR),
                float(HR),
                float(rng.choice([0.0, 1.0, 3.0])),
                float(rng.choice([0.0, 0.4])),
            )
        )
    for GL, HL, GR, HR, lam, gamma in cases:
        what = (
            f"split_gain({GL:.4g}, {HL:.4g}, {GR:.4g}, {HR:.4g}, reg_lambda={lam}, gamma={gamma})"
        )
        got = as_number(call(impl, what, GL, HL, GR, HR, reg_lambda=lam, gamma=gamma), what)
        want = score([GL + GR], [HL + HR], lam, gamma) - score([GL, GR], [HL, HR], lam, gamma)
        assert_close(
            got, want, what, rtol=1e-9, atol=1e-12, hint=_gain_hint(got, GL, HL, GR, HR, lam, gamma)
        )
    what = "split_gain(-2.0, 2.0, 2.0, 2.0)  (defaults λ=1, γ=0)"
    assert_close(as_number(call(impl, what, -2.0, 2.0, 2.0, 2.0), what), 4.0 / 3.0, what, rtol=1e-9)


# ---------------------------------------------------------------------------------------------
# Wrong answers
# ---------------------------------------------------------------------------------------------


def _scan(
    x,
    g,
    h,
    lam,
    gamma,
    *,
    half=True,
    parent_lambda=True,
    use_gamma=True,
    gamma_inside_half=False,
    allow_empty=False,
    sort=True,
    skip_duplicates=True,
    threshold_at_value=False,
):
    """A configurable split search, for building the wrong answers."""
    order = torch.argsort(x, stable=True) if sort else torch.arange(len(x), device=x.device)
    xs, gs, hs = x[order].double(), g[order].double(), h[order].double()
    G, H = gs.sum(), hs.sum()
    zero = torch.zeros(1, dtype=torch.float64, device=x.device)
    GL = torch.cumsum(gs, 0)[:-1]
    HL = torch.cumsum(hs, 0)[:-1]
    left_vals, right_vals = xs[:-1], xs[1:]
    valid = right_vals > left_vals if skip_duplicates else torch.ones_like(GL, dtype=torch.bool)
    if allow_empty:  # a "split" with nothing on the left, threshold below every value
        GL, HL = torch.cat([zero, GL]), torch.cat([zero, HL])
        left_vals = torch.cat([xs[:1] - 1, left_vals])
        right_vals = torch.cat([xs[:1], right_vals])
        valid = torch.cat([torch.ones(1, dtype=torch.bool, device=x.device), valid])
    GR, HR = G - GL, H - HL
    parent = G**2 / (H + lam) if parent_lambda else G**2 / H
    gains = GL**2 / (HL + lam) + GR**2 / (HR + lam) - parent
    if gamma_inside_half:
        gains, use_gamma = gains - gamma, False
    if half:
        gains = 0.5 * gains
    if use_gamma:
        gains = gains - gamma
    gains = torch.where(valid, gains, torch.full_like(gains, -float("inf")))
    best = int(torch.argmax(gains))
    thr = left_vals[best] if threshold_at_value else (left_vals[best] + right_vals[best]) / 2
    return float(gains[best]), float(thr)


def _numpy_gains(x, g, h, reg_lambda, gamma):
    """The sorted x and the gain of every cut after a sorted sample (-inf between equal values),
    in numpy: shared by a wrong answer and a correct variant."""
    xn, gn, hn = (t.detach().cpu().double().numpy() for t in (x, g, h))
    order = np.argsort(xn, kind="stable")
    xs, gs, hs = xn[order], gn[order], hn[order]
    GL, HL = np.cumsum(gs)[:-1], np.cumsum(hs)[:-1]
    G, H = gs.sum(), hs.sum()
    gains = (
        0.5
        * (
            GL**2 / (HL + reg_lambda)
            + (G - GL) ** 2 / (H - HL + reg_lambda)
            - G**2 / (H + reg_lambda)
        )
        - gamma
    )
    return xs, np.where(xs[1:] > xs[:-1], gains, -np.inf)


@fails_with("not midway between two neighbouring distinct values")
def _split_threshold_at_value(x, g, h, reg_lambda=1.0, gamma=0.0):
    """Returns the last value on the left (x <= v) as the threshold instead of the midpoint."""
    return _scan(x, g, h, reg_lambda, gamma, threshold_at_value=True)


@fails_with("lambda is missing from the parent term")
def _split_no_lambda_in_parent(x, g, h, reg_lambda=1.0, gamma=0.0):
    """Omits λ in the parent term: G²/H instead of G²/(H + λ)."""
    return _scan(x, g, h, reg_lambda, gamma, parent_lambda=False)


@fails_with("the 1/2 in front of the bracket is missing")
def _split_no_half(x, g, h, reg_lambda=1.0, gamma=0.0):
    """Forgets the 1/2 in front of the bracket."""
    return _scan(x, g, h, reg_lambda, gamma, half=False)


@fails_with("gamma is not subtracted")
def _split_no_gamma(x, g, h, reg_lambda=1.0, gamma=0.0):
    """Forgets to subtract γ."""
    return _scan(x, g, h, reg_lambda, gamma, use_gamma=False)


@fails_with("γ is inside the 1/2")
def _split_gamma_inside_half(x, g, h, reg_lambda=1.0, gamma=0.0):
    """Subtracts γ inside the bracket, 1/2 [... - γ]: only half of γ is paid."""
    return _scan(x, g, h, reg_lambda, gamma, gamma_inside_half=True)


@fails_with("a split with an empty side")
def _split_allows_empty_side(x, g, h, reg_lambda=1.0, gamma=0.0):
    """Also considers the split with an empty left child (gain -γ)."""
    return _scan(x, g, h, reg_lambda, gamma, allow_empty=True)


@fails_with("sort the samples by x before scanning")
def _split_unsorted(x, g, h, reg_lambda=1.0, gamma=0.0):
    """Scans prefix sums in the given order without sorting by x."""
    return _scan(x, g, h, reg_lambda, gamma, sort=False, skip_duplicates=False)


@fails_with("a cut between two equal values of x")
def _split_between_duplicates(x, g, h, reg_lambda=1.0, gamma=0.0):
    """Cuts between equal x values, a partition no threshold can produce."""
    return _scan(x, g, h, reg_lambda, gamma, skip_duplicates=False)


@fails_with("the smallest,")
def _split_last_tie(x, g, h, reg_lambda=1.0, gamma=0.0):
    """Returns the largest threshold among splits of equal gain (the last maximum, e.g.
    `nonzero(gains == best)[-1]`), where the prompt asks for the smallest."""
    xs, gains = _numpy_gains(x, g, h, reg_lambda, gamma)
    i = len(gains) - 1 - int(np.argmax(gains[::-1]))
    return (
        torch.tensor(gains[i], device=x.device),
        torch.tensor((xs[i] + xs[i + 1]) / 2, device=x.device),
    )


@fails_with("λ is missing")
def _leaf_no_lambda(g, h, reg_lambda=1.0):
    """Forgets λ: -G / H."""
    return float(-g.sum() / h.sum())


@fails_with("g and h are averaged")
def _leaf_means(g, h, reg_lambda=1.0):
    """Averages g and h over the leaf instead of summing them."""
    return float(-g.mean() / (h.mean() + reg_lambda))


@fails_with("the sign is flipped")
def _leaf_wrong_sign(g, h, reg_lambda=1.0):
    """Drops the minus sign: G / (H + λ) moves up the gradient."""
    return float(g.sum() / (h.sum() + reg_lambda))


@fails_with("the sample count replaces the hessian sum")
def _leaf_unit_hessians(g, h, reg_lambda=1.0):
    """Counts samples instead of summing hessians (only right for squared error)."""
    return float(-g.sum() / (len(g) + reg_lambda))


@fails_with("the 1/2 is missing")
def _objective_no_half(G, H, reg_lambda=1.0, gamma=0.0):
    """Forgets the 1/2: -Σ G²/(H+λ) + γT."""
    return float(-(G**2 / (H + reg_lambda)).sum() + gamma * G.numel())


@fails_with("γT is missing")
def _objective_no_gamma(G, H, reg_lambda=1.0, gamma=0.0):
    """Leaves out the γT leaf penalty."""
    return float(-0.5 * (G**2 / (H + reg_lambda)).sum())


@fails_with("λ is missing from the denominators")
def _objective_no_lambda(G, H, reg_lambda=1.0, gamma=0.0):
    """Leaves λ out of the denominators."""
    return float(-0.5 * (G**2 / H).sum() + gamma * G.numel())


@fails_with("the sign is flipped")
def _objective_plus_sign(G, H, reg_lambda=1.0, gamma=0.0):
    """Plugs w* in with the wrong sign: +1/2 Σ G²/(H+λ)."""
    return float(0.5 * (G**2 / (H + reg_lambda)).sum() + gamma * G.numel())


@fails_with("modified its input H in place")
def _objective_adds_lambda_in_place(G, H, reg_lambda=1.0, gamma=0.0):
    """Adds λ to H in place (H += reg_lambda): the right score, but the caller's H is changed."""
    H += reg_lambda
    return float(-0.5 * (G**2 / H).sum() + gamma * G.numel())


@fails_with("the 1/2 in front of the bracket is missing")
def _gain_no_half(G_L, H_L, G_R, H_R, reg_lambda=1.0, gamma=0.0):
    """Forgets the 1/2."""
    G, H = G_L + G_R, H_L + H_R
    return (
        G_L**2 / (H_L + reg_lambda) + G_R**2 / (H_R + reg_lambda) - G**2 / (H + reg_lambda) - gamma
    )


@fails_with("γ is not subtracted")
def _gain_no_gamma(G_L, H_L, G_R, H_R, reg_lambda=1.0, gamma=0.0):
    """Forgets that the split adds a leaf, costing γ."""
    G, H = G_L + G_R, H_L + H_R
    return 0.5 * (
        G_L**2 / (H_L + reg_lambda) + G_R**2 / (H_R + reg_lambda) - G**2 / (H + reg_lambda)
    )


@fails_with("the sign is flipped")
def _gain_reversed(G_L, H_L, G_R, H_R, reg_lambda=1.0, gamma=0.0):
    """Children's score minus the parent's: the sign of the gain is flipped."""
    G, H = G_L + G_R, H_L + H_R
    return (
        -0.5 * (G_L**2 / (H_L + reg_lambda) + G_R**2 / (H_R + reg_lambda) - G**2 / (H + reg_lambda))
        + gamma
    )


@fails_with("λ is missing from the parent term")
def _gain_parent_without_lambda(G_L, H_L, G_R, H_R, reg_lambda=1.0, gamma=0.0):
    """Omits λ in the parent term."""
    G, H = G_L + G_R, H_L + H_R
    return 0.5 * (G_L**2 / (H_L + reg_lambda) + G_R**2 / (H_R + reg_lambda) - G**2 / H) - gamma


@fails_with("right to about 7 digits, float32's precision")
def _wrong_leaf_float32(g, h, reg_lambda: float = 1.0) -> float:
    """Sums g and h in float32 (g.float()): right to 7 digits only."""
    return float(-g.float().sum() / (h.float().sum() + reg_lambda))


@fails_with("returned a numpy array(3.0, dtype=float64), expected a 0-d tensor or a float")
def _leaf_numpy(g, h, reg_lambda: float = 1.0):
    """Returns the right weight as numpy's 0-d array (computed on g.numpy()), neither a float
    nor a 0-d tensor."""
    G, H = g.cpu().numpy().sum(), h.cpu().numpy().sum()
    return np.asarray(-G / (H + reg_lambda))


@fails_with("returned None (a missing `return`?), expected a number")
def _leaf_no_return(g, h, reg_lambda: float = 1.0):
    """Computes the weight and leaves out the `return` (Python returns None)."""
    weight = -g.sum() / (h.sum() + reg_lambda)  # noqa: F841


@fails_with("a midpoint rounded to float32's 7 digits")
def _split_float32_thresholds(x, g, h, reg_lambda=1.0, gamma=0.0):
    """The right scan, its midpoints kept in torch.zeros(n - 1), float32 whatever x is: the
    best split found, its threshold rounded (0.6000000238418579 for 0.6)."""
    xs, order = torch.sort(x, stable=True)
    gs, hs = g[order].double(), h[order].double()
    G, H = gs.sum(), hs.sum()
    GL, HL = torch.cumsum(gs, 0)[:-1], torch.cumsum(hs, 0)[:-1]
    gains = (
        0.5 * (GL**2 / (HL + reg_lambda) + (G - GL) ** 2 / (H - HL + reg_lambda))
        - 0.5 * G**2 / (H + reg_lambda)
        - gamma
    )
    gains = torch.where(xs[1:] > xs[:-1], gains, torch.full_like(gains, float("-inf")))
    mids = torch.zeros(len(xs) - 1, device=x.device)
    mids[:] = (xs[1:] + xs[:-1]) / 2
    k = int(torch.argmax(gains))
    return float(gains[k]), float(mids[k])


WRONG_ANSWERS = {
    "best_split": [
        _split_threshold_at_value,
        _split_no_lambda_in_parent,
        _split_no_half,
        _split_no_gamma,
        _split_gamma_inside_half,
        _split_allows_empty_side,
        _split_unsorted,
        _split_between_duplicates,
        _split_last_tie,
        _split_float32_thresholds,
    ],
    "leaf_weight": [
        _leaf_no_lambda,
        _leaf_means,
        _leaf_wrong_sign,
        _leaf_unit_hessians,
        _wrong_leaf_float32,
        _leaf_numpy,
        _leaf_no_return,
    ],
    "tree_objective": [
        _objective_adds_lambda_in_place,
        _objective_no_half,
        _objective_no_gamma,
        _objective_no_lambda,
        _objective_plus_sign,
    ],
    "split_gain": [_gain_no_half, _gain_no_gamma, _gain_reversed, _gain_parent_without_lambda],
}


# ---------------------------------------------------------------------------------------------
# Correct variants
# ---------------------------------------------------------------------------------------------


def _best_split_loop(x, g, h, reg_lambda=1.0, gamma=0.0):
    """Plain Python: try every midpoint, recompute the sums, keep the best as a list."""
    xs = sorted(set(x.tolist()))
    xl, gl, hl = x.tolist(), g.tolist(), h.tolist()
    G, H = sum(gl), sum(hl)
    best = None
    for a, b in zip(xs, xs[1:]):
        t = (a + b) / 2
        GL = sum(gi for xi, gi in zip(xl, gl) if xi < t)
        HL = sum(hi for xi, hi in zip(xl, hl) if xi < t)
        gain = (
            0.5
            * (
                GL**2 / (HL + reg_lambda)
                + (G - GL) ** 2 / (H - HL + reg_lambda)
                - G**2 / (H + reg_lambda)
            )
            - gamma
        )
        if best is None or gain > best[0]:
            best = (gain, t)
    return [best[0], best[1]]


def _best_split_numpy(x, g, h, reg_lambda=1.0, gamma=0.0):
    """numpy, returning 0-d tensors on x's device; np.argmax gives the first (smallest) of tied
    thresholds."""
    xs, gains = _numpy_gains(x, g, h, reg_lambda, gamma)
    i = int(np.argmax(gains))
    return (
        torch.tensor(gains[i], device=x.device),
        torch.tensor((xs[i] + xs[i + 1]) / 2, device=x.device),
    )


def _leaf_weight_tensor(g, h, reg_lambda=1.0):
    """Returns a 0-d tensor instead of a float."""
    return -g.sum() / (h.sum() + reg_lambda)


CORRECT_VARIANTS = {
    "best_split": [_best_split_loop, _best_split_numpy],
    "leaf_weight": [_leaf_weight_tensor],
}
