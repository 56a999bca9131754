"""L1/L2 regularisation: soft thresholding, one ISTA step for the lasso, priors as penalties."""

import math

import numpy as np
import torch

from studycli.assertions import (
    as_number,
    assert_close,
    call,
    call_unchanged,
    describe,
    expect,
    expect_tensor,
    fails_with,
    forbid,
    hinted,
)

# ---------------------------------------------------------------------------------------------
# References
# ---------------------------------------------------------------------------------------------


def soft_threshold(x, lam: float):
    """The proximal operator of lam * |z|, elementwise.

    For each element x, return argmin_z 1/2 (z - x)² + lam |z|, in closed
    form (no numerical minimisation).

    Args:
        x: tensor of any shape (float); left unchanged.
        lam: the threshold, lam >= 0.

    Returns:
        A new tensor of the same shape and dtype as x.
    """
    # |x| <= lam gives exactly 0; otherwise x moves lam towards zero.
    magnitude = torch.clamp(x.abs() - lam, min=0.0)
    return torch.sign(x) * magnitude


def ista_step(w, X, y, lam: float, lr: float):
    """One proximal-gradient (ISTA) step, with step size lr, for the lasso
    F(w) = 1/2 ‖X w - y‖² + lam ‖w‖₁.

    Args:
        w: (d,) tensor, the current weights.
        X: (n, d) tensor, the design matrix.
        y: (n,) tensor, the targets.
        lam: L1 penalty weight, lam >= 0.
        lr: the step size, > 0.

    Returns:
        The new weights, a (d,) tensor in the dtype of w.
    """
    # A gradient step on the smooth part, then the prox of lr * lam * ‖·‖₁: soft thresholding
    # by lr * lam (the threshold scales with the step). Converges for lr <= 1 / λ_max(XᵀX).
    z = w - lr * (X.T @ (X @ w - y))
    t = lr * lam
    return torch.sign(z) * torch.clamp(z.abs() - t, min=0.0)


def map_penalty(noise_var: float, prior: str, scale: float) -> float:
    """The penalty weight that makes MAP
    estimation equal to regularised least squares.

    Model: y_i = x_iᵀ w + ε_i with ε_i ~ N(0, noise_var), independent;
    prior on each weight, independently:
      - prior == "laplace": w_j ~ Laplace(0, scale), density
        exp(-|w_j| / scale) / (2 scale);
      - prior == "gaussian": w_j ~ N(0, scale²) (scale is the standard
        deviation).
    Return lam such that the MAP estimate argmax_w p(w | X, y) equals
    argmin_w Σ_i (y_i - x_iᵀ w)² + lam R(w), with R(w) = ‖w‖₁ for
    "laplace" and R(w) = ‖w‖² for "gaussian".

    Args:
        noise_var: σ², the variance of the observation noise.
        prior: "laplace" or "gaussian".
        scale: b of the Laplace prior, or τ (the standard deviation) of
            the Gaussian prior.

    Returns:
        lam as a Python float.
    """
    # -log p(w | data) = Σ (y - xᵀw)² / (2σ²) + R(w) / b  (Laplace)  or  + ‖w‖² / (2τ²)  + const.
    # Multiplying by 2σ² leaves the argmin unchanged.
    if prior == "laplace":
        return 2.0 * noise_var / scale
    if prior == "gaussian":
        return noise_var / scale**2
    raise ValueError(f"unknown prior {prior!r}")


# ---------------------------------------------------------------------------------------------
# Checkers
# ---------------------------------------------------------------------------------------------


def _closed_form_soft(x, lam):
    return np.sign(x) * np.maximum(np.abs(x) - lam, 0.0)


def _close(got, value) -> bool:
    got = np.asarray(got.detach().cpu() if isinstance(got, torch.Tensor) else got, dtype=float)
    value = np.asarray(value, dtype=float)
    return got.shape == value.shape and bool(np.allclose(got, value, rtol=1e-7, atol=1e-10))


def _soft_hint(got, x, lam, default):
    """Name the classic mistake whose output matches the learner's, if one does."""
    x = np.asarray(x, dtype=float)
    known = [
        (
            np.where(np.abs(x) > lam, x, 0.0),
            "that is hard thresholding: the values above λ must also move λ towards zero",
        ),
        (
            x - lam * np.sign(x),
            "small values are pushed past zero: every |x| <= λ must become exactly 0",
        ),
        (
            _closed_form_soft(x, lam / 2),
            "the threshold is λ/2, the minimiser of (z - x)² + λ|z|; "
            "with the 1/2 in front of (z - x)² it is λ",
        ),
        (
            np.maximum(x - lam, 0.0),
            "negative values are all set to 0: treat both signs, sign(x) · max(|x| - λ, 0)",
        ),
    ]
    return next((text for value, text in known if _close(got, value)), default)


# (a 0-d x, shown as tensor(0.25...), raised in a loop over x or in torch.from_numpy of numpy's
# 0-d result, a numpy scalar, and the failure did not say that x had no dimension)
ZERO_D_HINT = (
    "x is 0-d here (shape (), one element), a tensor like any other: torch operations handle "
    "it, while a loop over x fails, and numpy's result on a 0-d array is a numpy scalar, which "
    "torch.from_numpy refuses (torch.as_tensor takes it)"
)

KEEP_DTYPE = (
    "the result keeps x's dtype: torch.tensor(values) and torch.zeros(...) make float32 unless "
    "given dtype=x.dtype, and float32 rounds a float64 x's values after 7 digits"
)

# (a float64 result for a float32 x, from x.double() or numpy's float64, passed)
CAST_BACK = (
    "the result keeps x's dtype, as the card asks: compute in float64 if you like, then cast "
    "back with .to(x.dtype)"
)


def _expect_soft_tensor(got, x, what) -> None:
    """A tensor, as the card asks, of x's dtype: a float32 result for a float64 x (a loop's
    torch.tensor(values)) was told the closed form was wrong."""
    expect_tensor(got, what)
    wider = got.is_floating_point() and got.element_size() > x.element_size()
    shown = str(got.dtype).removeprefix("torch."), str(x.dtype).removeprefix("torch.")
    expect(
        got.dtype == x.dtype,
        what,
        "returned {} values for {} x, expected {}".format(*shown, shown[1]),
        hint=CAST_BACK if wider else KEEP_DTYPE,
    )


def check_soft_threshold(impl, device="cpu") -> None:
    """The closed form sign(x) max(|x| - λ, 0), and a grid minimisation for a few points; a
    tensor every time, as the card asks (assert_close took a numpy array of the numbers)."""
    impl = forbid(
        impl,
        "softshrink",
        reason="torch's softshrink is this very operator: write its closed form yourself",
    )
    hint = (
        "the minimiser of 1/2 (z - x)² + λ|z| is 0 when |x| <= λ, else x - λ sign(x): "
        "zero the small values AND shrink the large ones"
    )
    fixed = torch.tensor(
        [-3.0, -1.0, -0.5, 0.0, 0.25, 1.0, 1.5, 4.0], dtype=torch.float64, device=device
    )
    for lam in (1.0, 0.0, 0.5, 10.0):
        what = f"soft_threshold({describe(fixed)}, lam={lam})"
        x = fixed.cpu().numpy().copy()  # (the target, from the input as it went in)
        got = call_unchanged(
            impl, what, ("x",), fixed, lam, hint="return a new tensor; do not write into x"
        )
        _expect_soft_tensor(got, fixed, what)
        assert_close(
            got,
            _closed_form_soft(x, lam),
            what,
            rtol=1e-9,
            atol=1e-12,
            hint=_soft_hint(got, x, lam, hint),
        )
    # Numerical minimisation on a fine grid, independent of the closed form.
    for xv, lam in ((2.3, 0.7), (-1.1, 0.4), (0.3, 0.5), (-0.45, 0.5), (5.0, 2.0), (0.9, 0.0)):
        x = torch.tensor([xv], dtype=torch.float64, device=device)
        what = f"soft_threshold({describe(x)}, lam={lam})"
        got = call(impl, what, x, lam)
        _expect_soft_tensor(got, x, what)
        grid = np.linspace(-abs(xv) - 1, abs(xv) + 1, 200001)
        best = grid[np.argmin(0.5 * (grid - xv) ** 2 + lam * np.abs(grid))]
        assert_close(
            got, np.array([best]), what + " vs a grid search over z", atol=1e-4, rtol=0, hint=hint
        )
    rng = np.random.default_rng(0)
    for shape in ((), (1,), (7,), (3, 4), (2, 3, 5), (1000,)):
        for lam in (0.1, 1.0, 2.5):
            data = rng.normal(size=shape) * 2
            for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 1e-5)):
                x = torch.tensor(data, dtype=dtype, device=device)
                what = f"soft_threshold({describe(x)}, lam={lam})"
                with hinted(ZERO_D_HINT if x.dim() == 0 else ""):
                    got = call(impl, what, x, lam)
                _expect_soft_tensor(got, x, what)
                want = _closed_form_soft(x.cpu().double().numpy(), lam)
                assert_close(got, want, what, rtol=tol, atol=tol, hint=hint)
    # Values exactly at ±λ go to zero; huge values shrink by exactly λ.
    x = torch.tensor([-2.0, 2.0, 1e8, -1e8], dtype=torch.float64, device=device)
    what = f"soft_threshold({describe(x)}, lam=2.0)"
    got = call(impl, what, x, 2.0)
    _expect_soft_tensor(got, x, what)
    assert_close(
        got,
        np.array([0.0, 0.0, 1e8 - 2, -1e8 + 2]),
        what,
        rtol=1e-15,
        atol=1e-12,
        hint=hint,
    )


def _ista_hint(got, w, X, y, lam, lr, default):
    """Name the classic mistake whose step matches the learner's, if one does."""
    grad = X.T @ (X @ w - y)
    known = [
        (
            _closed_form_soft(w - lr * grad, lam),
            "the threshold is λ; after a step of size lr the "
            "prox is that of lr·λ‖·‖₁, so threshold by lr·λ",
        ),
        (
            w - lr * (grad + lam * np.sign(w)),
            "that is a subgradient step; it never lands on exact "
            "zeros: take the gradient step, then soft-threshold",
        ),
        (
            _closed_form_soft(w, lr * lam) - lr * grad,
            "the thresholding comes first; take the "
            "gradient step first, then soft-threshold its result",
        ),
        (
            _closed_form_soft(w + lr * grad, lr * lam),
            "the gradient step goes uphill: w - lr Xᵀ(Xw - y), not w + lr Xᵀ(Xw - y)",
        ),
    ]
    # Only a mistake whose step stands apart from the right one is named: where no weight
    # crosses zero the subgradient step is the right step, and an answer right to 7 digits
    # (float32) was told it took a subgradient step
    right = _closed_form_soft(w - lr * grad, lr * lam)
    return next(
        (text for value, text in known if not _close(value, right) and _close(got, value)),
        default,
    )


def _same(a, b) -> bool:
    return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and torch.equal(a, b)


def check_ista_step(impl, device="cpu") -> None:
    """One step against its closed form, then many steps against the lasso's optimality conditions."""
    rng = np.random.default_rng(0)
    hint = (
        "gradient step on 1/2‖Xw - y‖² (gradient Xᵀ(Xw - y)), then soft-threshold by lr·λ, not by λ"
    )
    for n, d in ((1, 1), (5, 3), (20, 8), (8, 20)):
        for lam, lr in ((0.5, 0.01), (2.0, 0.05), (0.0, 0.02)):
            Xn, yn, wn = rng.normal(size=(n, d)), rng.normal(size=n), rng.normal(size=d)
            X, y, w = (torch.tensor(a, dtype=torch.float64, device=device) for a in (Xn, yn, wn))
            what = (
                f"ista_step(w={describe(w)}, X={describe(X)}, y={describe(y)}, lam={lam}, lr={lr})"
            )
            got = call(impl, what, w, X, y, lam, lr)
            expect_tensor(got, what)  # (assert_close took numpy's, and the loop below crashed)
            expect(
                got.dtype == w.dtype,
                what,
                f"returned {str(got.dtype)[6:]} weights for float64 w, X and y: the step "
                "comes back in w's dtype",
                hint="torch.zeros(d) is float32 unless given dtype=w.dtype: a buffer filled "
                "weight by weight rounds float64 weights to 7 digits",
            )
            z = wn - lr * Xn.T @ (Xn @ wn - yn)
            want = np.sign(z) * np.maximum(np.abs(z) - lr * lam, 0)
            assert_close(
                got,
                want,
                what,
                rtol=1e-9,
                atol=1e-12,
                hint=_ista_hint(got, wn, Xn, yn, lam, lr, hint),
            )
    # Iterate to convergence and test the lasso's subgradient optimality conditions:
    # X_jᵀ(y - Xw) = λ sign(w_j) where w_j != 0, and |X_jᵀ(y - Xw)| <= λ where w_j == 0.
    n, d = 30, 6
    Xn = rng.normal(size=(n, d))
    yn = Xn @ np.array([3.0, -2.0, 0.0, 0.0, 0.5, 0.0]) + 0.1 * rng.normal(size=n)
    X = torch.tensor(Xn, dtype=torch.float64, device=device)
    y = torch.tensor(yn, dtype=torch.float64, device=device)
    lr = 1.0 / float(np.linalg.eigvalsh(Xn.T @ Xn).max())
    for lam in (5.0, 20.0):
        w = torch.zeros(d, dtype=torch.float64, device=device)
        what = (
            f"ista_step iterated from w = 0 until it stops moving, at most 3000 times "
            f"(X {n}x{d}, lam={lam}, lr={lr:.4g})"
        )
        for step in range(3000):
            moved = call(impl, what, w, X, y, lam, lr)
            expect_tensor(moved, what)
            # a correct step reaches its fixed point exactly within a few hundred steps here
            if step % 25 == 24 and _same(moved, w):
                break
            w = moved
        wn = w.detach().cpu().double().numpy()
        corr = Xn.T @ (yn - Xn @ wn)
        zero = wn == 0
        expect(
            zero.any(),
            what,
            f"no weight is exactly 0 ({describe(wn)}); the lasso solution has exact zeros here",
            hint="only soft thresholding produces exact zeros",
        )
        expect(
            np.all(np.abs(corr[zero]) <= lam * (1 + 1e-6)),
            what,
            f"a zero weight has |X_jᵀ(y - Xw)| = {np.abs(corr[zero]).max():.6g} > λ = {lam}",
            hint=hint,
        )
        expect(
            np.allclose(corr[~zero], lam * np.sign(wn[~zero]), rtol=1e-6, atol=1e-6),
            what,
            f"non-zero weights violate X_jᵀ(y - Xw) = λ sign(w_j): got {describe(corr[~zero])}",
            hint=hint,
        )


def _penalty_hint(lam, noise_var, prior, scale):
    """Name the classic mistake whose λ matches the learner's, if one does."""
    right = 2 * noise_var / scale if prior == "laplace" else noise_var / scale**2
    known = [(right / 2, "half the right λ: multiply -log posterior by 2σ², not σ²")]
    if prior == "gaussian":
        known.append(
            (
                noise_var / scale,
                "scale is τ, the prior's standard deviation: its variance is τ², so λ = σ²/τ²",
            )
        )
    known.append(
        (
            1 / scale if prior == "laplace" else 1 / scale**2,
            "λ read off the prior alone: the noise variance σ² scales it (λ = 2σ²/b or σ²/τ²)",
        )
    )
    if prior == "laplace":
        known.append(
            (
                2 * noise_var / scale**2,
                "b is the Laplace prior's scale, not a variance: -log p(w) = |w|/b, so "
                "λ = 2σ²/b, b unsquared",
            )
        )
    else:
        known.append(
            (
                2 * noise_var / scale**2,
                "the Gaussian prior's -log is w²/(2τ²): times 2σ² that is σ²/τ², the 2s cancel",
            )
        )
    default = (
        "write -log p(y|w) - log p(w), then multiply by 2σ² so the data term is the plain "
        "sum of squares"
    )
    return next((text for value, text in known if np.isclose(lam, value, rtol=1e-9)), default)


def check_map_penalty(impl, device="cpu") -> None:
    """-log posterior from torch.distributions must equal (SSE + λ R(w)) / (2σ²) up to a constant."""
    rng = np.random.default_rng(0)
    X = torch.tensor(rng.normal(size=(12, 4)), dtype=torch.float64, device=device)
    y = torch.tensor(rng.normal(size=12), dtype=torch.float64, device=device)
    for prior in ("laplace", "gaussian"):
        # The first case tells the mistakes apart: at (1, 1) 1/b equals σ²/b (the noise-free
        # mistake hides), and at (0.5, 2) 2σ²/b² equals σ²/b (Laplace with b² was told "half
        # the right λ", a Gaussian's 2σ²/τ² "its variance is τ²").
        for noise_var, scale in ((3.0, 0.3), (0.5, 2.0), (1.0, 1.0), (0.04, 5.0)):
            what = f"map_penalty(noise_var={noise_var}, prior={prior!r}, scale={scale})"
            lam = as_number(call(impl, what, noise_var, prior, scale), what)
            expect(math.isfinite(lam) and lam > 0, what, f"returned {lam!r}, expected λ > 0")
            noise = torch.distributions.Normal(
                torch.zeros((), dtype=torch.float64, device=device), math.sqrt(noise_var)
            )
            if prior == "laplace":
                dist = torch.distributions.Laplace(
                    torch.zeros((), dtype=torch.float64, device=device), scale
                )
            else:
                dist = torch.distributions.Normal(
                    torch.zeros((), dtype=torch.float64, device=device), scale
                )

            def neg_log_posterior(w):
                return float(-(noise.log_prob(y - X @ w).sum() + dist.log_prob(w).sum()))

            def penalised(w):
                penalty = w.abs().sum() if prior == "laplace" else (w**2).sum()
                return float((((y - X @ w) ** 2).sum() + lam * penalty) / (2 * noise_var))

            ws = [
                torch.tensor(rng.normal(size=4) * s, dtype=torch.float64, device=device)
                for s in (0.1, 1.0, 3.0, 10.0)
            ]
            for w1, w2 in zip(ws, ws[1:]):
                want = neg_log_posterior(w1) - neg_log_posterior(w2)
                got = penalised(w1) - penalised(w2)
                expect(
                    abs(got - want) <= 1e-8 * (1 + abs(want)),
                    what,
                    f"with λ = {lam:.6g}, (SSE + λR)/(2σ²) changes by {got:.6g} between two "
                    f"weight vectors but -log posterior changes by {want:.6g}: the two "
                    "objectives do not have the same minimiser",
                    hint=_penalty_hint(lam, noise_var, prior, scale),
                )


# ---------------------------------------------------------------------------------------------
# Wrong answers
# ---------------------------------------------------------------------------------------------


@fails_with("that is hard thresholding")
def _hard_threshold(x, lam):
    """Hard thresholding: zeroes |x| <= λ but keeps the rest unchanged."""
    return torch.where(x.abs() > lam, x, torch.zeros_like(x))


@fails_with("small values are pushed past zero")
def _shrink_without_zeroing(x, lam):
    """Shrinks every value by λ towards zero, overshooting past zero for small |x|."""
    return x - lam * torch.sign(x)


@fails_with("the threshold is λ/2")
def _threshold_half_lambda(x, lam):
    """Solves argmin (z - x)² + λ|z| (no 1/2), i.e. thresholds at λ/2."""
    return torch.sign(x) * torch.clamp(x.abs() - lam / 2, min=0.0)


@fails_with("negative values are all set to 0")
def _one_sided(x, lam):
    """clamp(x - λ, min=0): correct for positive x, zeroes every negative value."""
    return torch.clamp(x - lam, min=0.0)


@fails_with("threshold by lr·λ")
def _ista_threshold_by_lam(w, X, y, lam, lr):
    """Soft-thresholds by λ instead of lr·λ."""
    z = w - lr * (X.T @ (X @ w - y))
    return torch.sign(z) * torch.clamp(z.abs() - lam, min=0.0)


@fails_with("that is a subgradient step")
def _ista_subgradient(w, X, y, lam, lr):
    """A subgradient step w - lr (∇f + λ sign(w)): never lands on exact zeros."""
    return w - lr * (X.T @ (X @ w - y) + lam * torch.sign(w))


@fails_with("the thresholding comes first")
def _ista_prox_first(w, X, y, lam, lr):
    """Thresholds w first, then adds the gradient step taken at the old w."""
    shrunk = torch.sign(w) * torch.clamp(w.abs() - lr * lam, min=0.0)
    return shrunk - lr * (X.T @ (X @ w - y))


@fails_with("the gradient step goes uphill")
def _ista_gradient_ascent(w, X, y, lam, lr):
    """Gets the sign of the gradient wrong: w + lr Xᵀ(Xw - y)."""
    z = w + lr * (X.T @ (X @ w - y))
    return torch.sign(z) * torch.clamp(z.abs() - lr * lam, min=0.0)


@fails_with("returned a numpy array(")
def _ista_numpy(w, X, y, lam, lr):
    """The right step, taken with numpy and returned as a numpy array, not a tensor."""
    wn, Xn, yn = (torch.as_tensor(a).cpu().numpy() for a in (w, X, y))
    z = wn - lr * (Xn.T @ (Xn @ wn - yn))
    return np.sign(z) * np.maximum(np.abs(z) - lr * lam, 0.0)


@fails_with("half the right λ")
def _penalty_without_factor_two(noise_var, prior, scale):
    """Multiplies -log posterior by σ² instead of 2σ² (λ = σ²/b, σ²/(2τ²))."""
    return noise_var / scale if prior == "laplace" else noise_var / (2 * scale**2)


@fails_with("its variance is τ²")
def _penalty_scale_as_variance(noise_var, prior, scale):
    """Treats the Gaussian prior's scale as a variance: λ = σ²/τ."""
    return 2 * noise_var / scale if prior == "laplace" else noise_var / scale


@fails_with("b is the Laplace prior's scale, not a variance")
def _penalty_laplace_scale_squared(noise_var, prior, scale):
    """Squares the Laplace scale as if it were a variance: λ = 2σ²/b²."""
    return 2 * noise_var / scale**2 if prior == "laplace" else noise_var / scale**2


@fails_with("the 2s cancel")
def _penalty_gaussian_factor_two(noise_var, prior, scale):
    """Keeps a factor 2 in the Gaussian's λ: 2σ²/τ² (the 2 of 2σ² and of 2τ² cancel)."""
    return 2 * noise_var / scale if prior == "laplace" else 2 * noise_var / scale**2


@fails_with("modified its input x in place")
def _soft_threshold_in_place(x, lam):
    """Shrinks x in place (x - clamp(x, -lam, lam), written into x): the right numbers, but
    the caller's tensor is gone."""
    return x.sub_(x.clamp(-lam, lam))


@fails_with("dtype=float64), expected a torch tensor")
def _soft_threshold_numpy(x, lam):
    """The right numbers computed on x.numpy() and returned as the numpy array, not the
    tensor the card asks for."""
    a = x.detach().cpu().numpy()
    return np.sign(a) * np.maximum(np.abs(a) - lam, 0.0)


@fails_with("x is 0-d here")
def _soft_threshold_from_numpy(x, lam):
    """The closed form in numpy, wrapped back with torch.from_numpy: right for every x with a
    dimension, but on a 0-d x numpy returns a numpy scalar, which from_numpy refuses."""
    a = x.detach().cpu().numpy()
    return torch.from_numpy(np.sign(a) * np.maximum(np.abs(a) - lam, 0.0)).to(x.device)


@fails_with("returned float32 values for float64 x")
def _soft_threshold_loop_float32(x, lam):
    """The closed form element by element, collected with torch.tensor(values): float32 by
    default, so a float64 x's results are rounded to 7 digits."""
    values = [v - lam if v > lam else v + lam if v < -lam else 0.0 for v in x.flatten().tolist()]
    return torch.tensor(values, device=x.device).reshape(x.shape)


@fails_with("returned float64 values for float32 x, expected float32")
def _soft_threshold_upcast(x, lam):
    """The closed form computed in float64 (x.double()) and returned so: the right numbers,
    in another dtype than the float32 x the card says to keep."""
    xd = x.double()
    return torch.sign(xd) * torch.clamp(xd.abs() - lam, min=0.0)


def _soft_threshold_loop(x, lam):
    """The same loop, its tensor made in x's dtype."""
    values = [v - lam if v > lam else v + lam if v < -lam else 0.0 for v in x.flatten().tolist()]
    return torch.tensor(values, dtype=x.dtype, device=x.device).reshape(x.shape)


@fails_with("λ read off the prior alone")
def _penalty_ignores_noise(noise_var, prior, scale):
    """Reads the penalty off the prior alone: λ = 1/b or 1/τ², forgetting the noise variance."""
    return 1 / scale if prior == "laplace" else 1 / scale**2


@fails_with("the answer calls softshrink")
def _soft_threshold_library(x, lam):
    """Calls torch.nn.functional.softshrink, the operator the card asks to derive."""
    return torch.nn.functional.softshrink(x, lam)


@fails_with("returned float32 weights for float64 w, X and y")
def _ista_float32_buffer(w, X, y, lam, lr):
    """Thresholds weight by weight into torch.zeros(d), float32 whatever w is: the right step
    to 7 digits (a checker that named mistakes within 1e-7 called it a subgradient step)."""
    z = w - lr * (X.T @ (X @ w - y))
    out = torch.zeros(len(w), device=w.device)
    for j in range(len(w)):
        out[j] = torch.sign(z[j]) * max(abs(float(z[j])) - lr * lam, 0.0)
    return out


WRONG_ANSWERS = {
    "soft_threshold": [
        _soft_threshold_library,
        _soft_threshold_in_place,
        _hard_threshold,
        _shrink_without_zeroing,
        _threshold_half_lambda,
        _one_sided,
        _soft_threshold_numpy,
        _soft_threshold_loop_float32,
        _soft_threshold_upcast,
        _soft_threshold_from_numpy,
    ],
    "ista_step": [
        _ista_threshold_by_lam,
        _ista_subgradient,
        _ista_prox_first,
        _ista_gradient_ascent,
        _ista_numpy,
        _ista_float32_buffer,
    ],
    "map_penalty": [
        _penalty_without_factor_two,
        _penalty_scale_as_variance,
        _penalty_ignores_noise,
        _penalty_laplace_scale_squared,
        _penalty_gaussian_factor_two,
    ],
}


# ---------------------------------------------------------------------------------------------
# Correct variants
# ---------------------------------------------------------------------------------------------


def _soft_threshold_clip(x, lam):
    """x minus its projection onto [-λ, λ]."""
    return x - torch.clamp(x, -lam, lam)


def _soft_threshold_where(x, lam):
    """Three cases with torch.where."""
    zero = torch.zeros_like(x)
    return torch.where(x > lam, x - lam, torch.where(x < -lam, x + lam, zero))


def _ista_step_two_relus(w, X, y, lam, lr):
    """Soft thresholding written as relu(z - t) - relu(-z - t)."""
    z = w - lr * (X.T @ X @ w - X.T @ y)
    t = lr * lam
    return torch.relu(z - t) - torch.relu(-z - t)


CORRECT_VARIANTS = {
    "soft_threshold": [_soft_threshold_clip, _soft_threshold_where, _soft_threshold_loop],
    "ista_step": [_ista_step_two_relus],
}
