"""Performer (FAVOR+): positive random features for the softmax (exponential) kernel.

Cards: positive-random-features (coding), performer-unbiased-estimator-derivation (derivation).
"""

import math

import torch

from studycli.assertions import (
    assert_close,
    call,
    call_unchanged,
    describe,
    expect,
    expect_tensor,
    fails_with,
)


def positive_random_features(x, omega):
    """Positive random features for the exponential kernel exp(q . k).

    phi(x) = exp(x omega^T - ‖x‖² / 2) / sqrt(m): row i, column r is
    exp(omega_r . x_i - ‖x_i‖² / 2) / sqrt(m). With the rows of omega
    drawn from N(0, I), E[phi(q) . phi(k)] = exp(q . k), and every feature
    is positive.

    Args:
        x: (n, d) inputs (queries or keys, already scaled by d^(-1/4) if
            used in attention).
        omega: (m, d) random projection directions.

    Returns:
        (n, m) features in the inputs' dtype.
    """
    m = omega.shape[0]
    proj = x @ omega.transpose(0, 1)  # (n, m)
    half_norm = 0.5 * (x * x).sum(dim=-1, keepdim=True)  # (n, 1)
    return torch.exp(proj - half_norm) / math.sqrt(m)


def softmax_kernel_estimate(x, y, omega):
    """Monte Carlo estimate of exp(x_i . y_j)
    from random directions omega_1..omega_m.

    estimate[i, j] = (1/m) sum_r exp(omega_r . x_i - ‖x_i‖²/2)
                                 exp(omega_r . y_j - ‖y_j‖²/2),
    the sample mean, over the m directions, of the product whose
    expectation the derivation computes.

    Args:
        x: (n, d) first set of vectors.
        y: (p, d) second set of vectors.
        omega: (m, d) directions, rows drawn from N(0, I).

    Returns:
        (n, p) tensor of estimates, in the dtype of x. x, y and omega are
        left unchanged.
    """
    fx = torch.exp(x @ omega.T - 0.5 * (x * x).sum(-1, keepdim=True))  # (n, m)
    fy = torch.exp(y @ omega.T - 0.5 * (y * y).sum(-1, keepdim=True))  # (p, m)
    return fx @ fy.T / omega.shape[0]


# --- checker: positive_random_features --------------------------------------------------------


def _features_float64(x, omega):
    x, omega = x.double(), omega.double()
    proj = torch.einsum("id,rd->ir", x, omega)
    sq = torch.einsum("id,id->i", x, x)
    return torch.exp(proj - sq[:, None] / 2) / math.sqrt(omega.shape[0])


def _diagnose(got, alternatives, default):
    """The hint of the first (value, hint) alternative that `got` matches, else `default`."""
    if isinstance(got, torch.Tensor):
        got = got.detach().double().cpu()
        for value, hint in alternatives:
            value = value.double().cpu()
            if got.shape == value.shape and torch.allclose(got, value, atol=1e-9, rtol=1e-7):
                return hint
    return default


SAME_DTYPE = (
    "the features come back in the inputs' dtype (a float64 output doubles the memory of every "
    "layer after it; compute in float64 if you like, then cast back)"
)


FLOAT32_BUFFER = (
    "torch.zeros(n, m) and torch.empty(n, m) are float32 unless given dtype=x.dtype: a buffer "
    "filled row by row rounds float64 features to 7 digits"
)


ESTIMATES_BUFFER = (
    "torch.zeros(n, p) is float32 unless given dtype=x.dtype: a buffer filled entry by entry "
    "rounds float64 estimates to 7 digits"
)


def _expect_features(got, dtype, what) -> None:
    """A tensor in the inputs' dtype: a float32 answer for float64 inputs (a torch.zeros
    buffer filled row by row) was told to halve the squared norm, its formula right."""
    expect(isinstance(got, torch.Tensor), what, f"returned {type(got).__name__}, expected a tensor")
    narrower = got.is_floating_point() and torch.finfo(got.dtype).bits < torch.finfo(dtype).bits
    why = "the features come back in the inputs' dtype" if narrower else SAME_DTYPE
    expect(
        got.dtype == dtype,
        what,
        f"returned {str(got.dtype)[6:]} for {str(dtype)[6:]} x and omega: {why}",
        hint=FLOAT32_BUFFER if narrower else "",
    )


def check_positive_random_features(impl, device="cpu"):
    gen = torch.Generator().manual_seed(0)
    hint = "phi(x) = exp(x omega^T - ‖x‖²/2) / sqrt(m): half the squared norm, and sqrt(m), not m"

    # A hand-checkable case: x = (1, 0), omega = [(1, 0), (0, 1)] -> exp(1 - 0.5), exp(-0.5), / sqrt(2).
    x = torch.tensor([[1.0, 0.0]], dtype=torch.float64, device=device)
    omega = torch.eye(2, dtype=torch.float64, device=device)
    what = f"positive_random_features({describe(x)}, {describe(omega)})"
    got = call(impl, what, x.clone(), omega.clone())
    _expect_features(got, x.dtype, what)
    want = torch.tensor([[math.exp(0.5), math.exp(-0.5)]], dtype=torch.float64) / math.sqrt(2)
    proj, sq, root_m = x @ omega.T, (x * x).sum(-1, keepdim=True), math.sqrt(2)
    mistakes = [
        (
            torch.exp(proj) / root_m,
            "the -‖x‖²/2 term is missing: exp(omega . x) alone estimates "
            "exp(q . k + ‖q‖²/2 + ‖k‖²/2)",
        ),
        (torch.exp(proj - sq) / root_m, "subtracted ‖x‖², the full squared norm: subtract half"),
        (
            torch.exp(proj - sq / 2) / 2,
            "divided by m: divide each feature by sqrt(m), so that phi(q) . phi(k) carries 1/m",
        ),
        (
            torch.cos(proj) * torch.exp(sq / 2) / root_m,
            "cos (trigonometric) features target the Gaussian kernel and can be negative: "
            "use exp(omega . x - ‖x‖²/2)",
        ),
    ]
    assert_close(got, want, what, atol=1e-12, rtol=1e-10, hint=_diagnose(got, mistakes, hint))

    # The formula over many shapes, float32 and float64.
    for n, d, m, dtype in [
        (1, 1, 1, torch.float64),
        (3, 4, 5, torch.float64),
        (10, 8, 64, torch.float32),
        (7, 16, 33, torch.float32),
        (16, 3, 2, torch.float64),
    ]:
        x = (torch.randn(n, d, generator=gen, dtype=dtype) * d**-0.25).to(device)
        omega = torch.randn(m, d, generator=gen, dtype=dtype).to(device)
        what = f"positive_random_features(x {describe(x)}, omega {describe(omega)})"
        got = call(impl, what, x.clone(), omega.clone())
        _expect_features(got, dtype, what)
        tol = 1e-10 if dtype == torch.float64 else 1e-5
        assert_close(got, _features_float64(x, omega), what, atol=tol, rtol=tol, hint=hint)
        expect(bool((got > 0).all()), what, "some features are not positive")

    # Unbiasedness: phi(q) . phi(k) averaged over many omegas approaches exp(q . k).
    m, d = 200_000, 8
    q = (torch.randn(4, d, generator=gen, dtype=torch.float64) * 0.5).to(device)
    k = (torch.randn(5, d, generator=gen, dtype=torch.float64) * 0.5).to(device)
    omega = torch.randn(m, d, generator=gen, dtype=torch.float64).to(device)
    what = f"positive_random_features with m = {m} random features, d = {d}"
    # (unchanged: the exact value is computed from q and k after the calls, and an answer
    # that squared x in place was told "the estimate is biased")
    fq = call_unchanged(impl, what + " (queries)", ("x", "omega"), q, omega)
    fk = call_unchanged(impl, what + " (keys)", ("x", "omega"), k, omega)
    estimate = (fq @ fk.T).double()
    exact = torch.exp(q @ k.T)
    # Standard error of the mean of exp(omega.(q+k) - ‖q‖²/2 - ‖k‖²/2) over m draws.
    sq_sum = ((q[:, None, :] + k[None, :, :]) ** 2).sum(-1)
    std_error = exact * torch.sqrt((torch.exp(sq_sum) - 1) / m)
    worst = float(((estimate - exact).abs() / std_error).max())
    expect(
        worst < 5.0,
        what,
        f"phi(q) . phi(k) is {worst:.1f} standard errors away from exp(q . k): the estimate "
        "is biased",
        hint=hint,
    )


def _features_into(x, omega, dtype):
    """The features row by row, into a torch.zeros buffer of `dtype`."""
    n, m = x.shape[0], omega.shape[0]
    phi = torch.zeros(n, m, dtype=dtype, device=x.device)
    for i in range(n):
        phi[i] = torch.exp(omega @ x[i] - x[i] @ x[i] / 2) / math.sqrt(m)
    return phi


@fails_with("returned float32 for float64 x and omega")
def _wrong_float32_buffer(x, omega):
    """Fills the features row by row into torch.zeros(n, m), float32 whatever x is: float64
    features rounded to 7 digits."""
    return _features_into(x, omega, torch.float32)


def _variant_rows(x, omega):
    """The same rows, into torch.zeros(n, m, dtype=x.dtype)."""
    return _features_into(x, omega, x.dtype)


@fails_with("modified its input x in place")
def _wrong_norm_in_place(x, omega):
    """Squares x in place for its norm (x.pow_(2)) once it is projected: the right features,
    but the caller's x comes back squared."""
    proj = x @ omega.T
    sq = x.pow_(2).sum(-1, keepdim=True)
    return torch.exp(proj - sq / 2) / math.sqrt(omega.shape[0])


@fails_with("the -‖x‖²/2 term is missing")
def _wrong_no_norm_term(x, omega):
    """Drops the -‖x‖²/2 term: exp(x omega^T) / sqrt(m) estimates exp(q.k + ‖q‖²/2 + ‖k‖²/2)."""
    return torch.exp(x @ omega.T) / math.sqrt(omega.shape[0])


@fails_with("subtracted ‖x‖², the full squared norm")
def _wrong_full_norm(x, omega):
    """Subtracts ‖x‖² instead of ‖x‖²/2."""
    return torch.exp(x @ omega.T - (x * x).sum(-1, keepdim=True)) / math.sqrt(omega.shape[0])


@fails_with("divided by m: divide each feature by sqrt(m)")
def _wrong_divide_by_m(x, omega):
    """Divides each feature by m instead of sqrt(m) (the dot product then shrinks by m)."""
    return torch.exp(x @ omega.T - 0.5 * (x * x).sum(-1, keepdim=True)) / omega.shape[0]


@fails_with("trigonometric) features")
def _wrong_trig_features(x, omega):
    """Uses the Gaussian-kernel trig features cos(omega.x) scaled by exp(‖x‖²/2) (can be negative)."""
    proj = x @ omega.T
    scale = torch.exp(0.5 * (x * x).sum(-1, keepdim=True)) / math.sqrt(omega.shape[0])
    return torch.cos(proj) * scale


@fails_with("the features come back in the inputs' dtype")
def _wrong_upcast(x, omega):
    """Computes in float64 (x.double(), ...) and returns float64 features for float32 inputs."""
    return positive_random_features(x.double(), omega.double())


# --- checker: softmax_kernel_estimate ---------------------------------------------------------


def check_softmax_kernel_estimate(impl, device="cpu"):
    gen = torch.Generator().manual_seed(1)
    hint = (
        "average over r of exp(omega_r.x - ‖x‖²/2) exp(omega_r.y - ‖y‖²/2): "
        "half squared norms, and a mean (divide by m)"
    )

    # The formula, on small inputs, against a loop over the directions.
    for n, p, d, m in [(1, 1, 1, 1), (2, 3, 4, 5), (5, 4, 8, 50), (3, 6, 2, 17)]:
        x = (torch.randn(n, d, generator=gen, dtype=torch.float64) * 0.7).to(device)
        y = (torch.randn(p, d, generator=gen, dtype=torch.float64) * 0.7).to(device)
        omega = torch.randn(m, d, generator=gen, dtype=torch.float64).to(device)
        what = f"softmax_kernel_estimate(x {describe(x)}, y {describe(y)}, omega {describe(omega)})"
        got = call(impl, what, x.clone(), y.clone(), omega.clone())
        expect_tensor(got, what)
        # (a float32 estimate, a torch.zeros(n, p) filled entry by entry, was told its formula)
        expect(
            got.dtype == x.dtype,
            what,
            f"returned {str(got.dtype)[6:]} for float64 x, y and omega: the estimates come back "
            "in their dtype",
            hint=ESTIMATES_BUFFER,
        )
        want = torch.zeros(n, p, dtype=torch.float64, device=device)
        for r in range(m):
            w = omega[r]
            want += torch.outer(
                torch.exp(x @ w - (x * x).sum(-1) / 2), torch.exp(y @ w - (y * y).sum(-1) / 2)
            )
        hx, hy = (x * x).sum(-1, keepdim=True) / 2, (y * y).sum(-1, keepdim=True) / 2
        px, py = x @ omega.T, y @ omega.T
        mistakes = [
            (
                torch.exp(px) @ torch.exp(py).T / m,
                "the -‖x‖²/2 and -‖y‖²/2 terms are missing: without them the mean estimates "
                "exp(‖x + y‖²/2)",
            ),
            (want, "summed over the m directions: take the mean (divide by m)"),
            (
                torch.exp(px - 2 * hx) @ torch.exp(py - 2 * hy).T / m,
                "subtracted the full squared norms ‖x‖² and ‖y‖²: subtract half of each",
            ),
        ]
        if m == 1:
            mistakes.pop(1)  # with one direction the sum is the mean
        assert_close(
            got, want / m, what, atol=1e-12, rtol=1e-9, hint=_diagnose(got, mistakes, hint)
        )

    # Unbiasedness: with many directions the estimate is within sampling error of exp(x . y).
    m, d = 200_000, 6
    x = (torch.randn(3, d, generator=gen, dtype=torch.float64) * 0.5).to(device)
    y = (torch.randn(4, d, generator=gen, dtype=torch.float64) * 0.5).to(device)
    omega = torch.randn(m, d, generator=gen, dtype=torch.float64).to(device)
    what = f"softmax_kernel_estimate with m = {m} directions, d = {d}"
    # (the target is computed from x and y after the call: an answer that wrote into them,
    # its estimate right, was told its estimate was off, "expected 5.13, got 0.89")
    got = call_unchanged(impl, what, ("x", "y", "omega"), x, y, omega)
    expect_tensor(got, what)
    exact = torch.exp(x @ y.T)
    sq_sum = ((x[:, None, :] + y[None, :, :]) ** 2).sum(-1)
    std_error = exact * torch.sqrt((torch.exp(sq_sum) - 1) / m)
    assert_close(got, exact, what, atol=0.0, rtol=float((5 * std_error / exact).max()), hint=hint)


@fails_with("returned float32 for float64 x, y and omega")
def _wrong_estimate_float32_buffer(x, y, omega):
    """Writes each estimate into torch.zeros(n, p), float32 whatever x is: right to 7 digits."""
    fx = torch.exp(x @ omega.T - 0.5 * (x * x).sum(-1, keepdim=True))
    fy = torch.exp(y @ omega.T - 0.5 * (y * y).sum(-1, keepdim=True))
    out = torch.zeros(x.shape[0], y.shape[0], device=x.device)
    for i in range(x.shape[0]):
        for j in range(y.shape[0]):
            out[i, j] = (fx[i] * fy[j]).mean()
    return out


@fails_with("dtype=float64), expected a torch tensor")
def _wrong_estimate_numpy(x, y, omega):
    """Returns the estimates as a numpy array (.numpy()), not the tensor the card asks for."""
    fx = torch.exp(x @ omega.T - 0.5 * (x * x).sum(-1, keepdim=True))
    fy = torch.exp(y @ omega.T - 0.5 * (y * y).sum(-1, keepdim=True))
    return (fx @ fy.T / omega.shape[0]).cpu().numpy()


@fails_with("the -‖x‖²/2 and -‖y‖²/2 terms are missing")
def _wrong_estimate_no_norms(x, y, omega):
    """Forgets the -‖x‖²/2 and -‖y‖²/2 terms: estimates exp(‖x + y‖²/2), not exp(x . y)."""
    return torch.exp(x @ omega.T) @ torch.exp(y @ omega.T).T / omega.shape[0]


@fails_with("take the mean (divide by m)")
def _wrong_estimate_sum(x, y, omega):
    """Sums over the directions instead of averaging (off by a factor m)."""
    fx = torch.exp(x @ omega.T - 0.5 * (x * x).sum(-1, keepdim=True))
    fy = torch.exp(y @ omega.T - 0.5 * (y * y).sum(-1, keepdim=True))
    return fx @ fy.T


@fails_with("modified its input x in place")
def _wrong_estimate_norm_in_place(x, y, omega):
    """Squares x in place (x.pow_(2)) for ‖x‖², after projecting it: the estimate is right,
    and the caller's x is gone."""
    proj = x @ omega.T
    fx = torch.exp(proj - 0.5 * x.pow_(2).sum(-1, keepdim=True))
    fy = torch.exp(y @ omega.T - 0.5 * (y * y).sum(-1, keepdim=True))
    return fx @ fy.T / omega.shape[0]


@fails_with("subtracted the full squared norms")
def _wrong_estimate_full_norms(x, y, omega):
    """Subtracts the full squared norms ‖x‖² and ‖y‖² (biased low by exp(-(‖x‖² + ‖y‖²)/2))."""
    fx = torch.exp(x @ omega.T - (x * x).sum(-1, keepdim=True))
    fy = torch.exp(y @ omega.T - (y * y).sum(-1, keepdim=True))
    return fx @ fy.T / omega.shape[0]


WRONG_ANSWERS = {
    "positive_random_features": [
        _wrong_upcast,
        _wrong_no_norm_term,
        _wrong_full_norm,
        _wrong_divide_by_m,
        _wrong_trig_features,
        _wrong_norm_in_place,
        _wrong_float32_buffer,
    ],
    "softmax_kernel_estimate": [
        _wrong_estimate_no_norms,
        _wrong_estimate_sum,
        _wrong_estimate_full_norms,
        _wrong_estimate_numpy,
        _wrong_estimate_norm_in_place,
        _wrong_estimate_float32_buffer,
    ],
}

CORRECT_VARIANTS = {"positive_random_features": [_variant_rows]}
