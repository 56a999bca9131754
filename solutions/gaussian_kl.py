"""KL divergence of a diagonal Gaussian to the standard normal: the VAE's regulariser."""

import math

import torch

from studycli.assertions import (
    GRAPH_HINT,
    assert_close,
    call,
    call_unchanged,
    describe,
    expect,
    expect_tensor,
    fails_with,
    likely_mistake,
)


def kl_to_standard_normal(mu, logvar):
    """KL(N(mu, diag(exp(logvar))) ‖ N(0, I)) for each batch element, over
    the last dimension (the latent dimension). Finite and accurate for
    log-variances from about -120 to 40 in float32, and differentiable.

    Args:
        mu: tensor of shape (..., D), the means of the encoder's Gaussian.
        logvar: tensor of shape (..., D), the log-variances log sigma².

    Returns:
        Tensor of shape (...) in the inputs' dtype: one KL value per batch
        element (no mean over the batch).
    """
    # Per dimension 1/2 (mu² + sigma² - log sigma² - 1), with sigma² = exp(logvar) and
    # log sigma² = logvar exactly (log(exp(logvar)) underflows to -inf); summed over the last dim.
    return 0.5 * (mu * mu + torch.exp(logvar) - logvar - 1.0).sum(dim=-1)


def kl_from_std(mu, sigma):
    """Elementwise KL(N(mu, sigma²) ‖ N(0, 1)) of one-dimensional
    Gaussians, given the std.

    Args:
        mu: tensor of any shape, the means.
        sigma: tensor of the same shape, the standard deviations
            (all > 0).

    Returns:
        A new tensor of the same shape, in the inputs' dtype (mu and sigma
        are left unchanged): the KL divergence of each coordinate
        (no reduction).
    """
    # 1/2 (mu² + sigma² - log sigma² - 1), the closed form the derivation ends in.
    var = sigma * sigma
    return 0.5 * (mu * mu + var - torch.log(var) - 1.0)


# --- checkers -------------------------------------------------------------------------------


def _kl_truth(mu, logvar):
    """Ground truth from torch.distributions, in float64, summed over the last dim."""
    # (imported here, not at the top: the learner's starter copies the top's imports, and
    # Normal + kl_divergence give inf at logvar = -120 in float32, which the card refuses)
    from torch.distributions import Normal, kl_divergence

    mu64, logvar64 = mu.detach().double(), logvar.detach().double()
    q = Normal(mu64, torch.exp(0.5 * logvar64))
    p = Normal(torch.zeros_like(mu64), torch.ones_like(mu64))
    return kl_divergence(q, p).sum(-1)


def _likely_mistake(got, known, default):
    return likely_mistake(got, known, default, equal_nan=True)


SAME_DTYPE = (
    "the loss comes back in the inputs' dtype (a float64 loss runs the backward pass in float64 "
    "too; compute in float64 if you like, then cast back)"
)


def _compare_kl(impl, mu, logvar, hint="", rtol=None, known=()):
    what = f"kl_to_standard_normal(mu={describe(mu)}, logvar={describe(logvar)})"
    got = call(impl, what, mu.clone(), logvar.clone())
    hint = _likely_mistake(got, known, hint)
    # (a numpy array has a shape, and failed below on a dtype it had)
    expect_tensor(got, what, hint=GRAPH_HINT)
    expect(
        getattr(got, "dtype", None) == mu.dtype,
        what,
        f"returned {describe(got)} for {str(mu.dtype)[6:]} mu and logvar: {SAME_DTYPE}",
    )
    double = mu.dtype == torch.float64
    tol = rtol if rtol is not None else (1e-9 if double else 1e-5)
    assert_close(
        got, _kl_truth(mu, logvar), what, atol=1e-9 if double else 1e-5, rtol=tol, hint=hint
    )


_HINT_KL = (
    "per dimension 1/2 (mu² + exp(logvar) - logvar - 1), summed over the last dim only; "
    "logvar is log sigma², not sigma"
)


def check_kl_to_standard_normal(impl, device="cpu") -> None:
    # Hand examples: KL is 0 exactly at N(0, 1); a unit mean shift costs 1/2 per dimension.
    def terms(mu, logvar):  # the per-dimension terms without the 1/2, in float64
        m, lv = mu.double().cpu(), logvar.double().cpu()
        return m * m + lv.exp() - lv - 1

    def logvar_as_std(mu, logvar):
        m, var = mu.double().cpu(), logvar.double().cpu() ** 2
        return 0.5 * (m * m + var - torch.log(var) - 1).sum(-1)

    hint_std = "logvar is log sigma², not sigma: sigma² = exp(logvar), so logvar = 0 is sigma = 1"
    hint_dim = (
        "sum over the last (latent) dimension only; the result keeps the batch dimensions, "
        "shape (...)"
    )
    mu = torch.zeros(1, 3, device=device)
    logvar = torch.zeros(1, 3, device=device)
    _compare_kl(
        impl,
        mu,
        logvar,
        hint="at mu = 0, logvar = 0 the two Gaussians coincide: KL = 0",
        known=[(logvar_as_std(mu, logvar), hint_std), (torch.zeros(3), hint_dim)],
    )
    mu = torch.tensor([[1.0, 0.0], [0.0, 0.0]], device=device)
    logvar = torch.tensor([[0.0, 0.0], [math.log(2.0), 0.0]], device=device)
    _compare_kl(
        impl,
        mu,
        logvar,
        hint=_HINT_KL,
        known=[
            (terms(mu, logvar).sum(-1), "keep the factor 1/2 in front of the sum"),
            (
                0.5 * terms(mu, logvar).mean(-1),
                "sum the per-dimension terms over the latent dimension; do not average them",
            ),
            (0.5 * terms(mu, logvar).sum(0), hint_dim),
            (logvar_as_std(mu, logvar), hint_std),
        ],
    )

    # Seeded random inputs over many shapes, float32 and float64.
    gen = torch.Generator().manual_seed(0)
    shapes = [(1,), (5,), (1, 1), (3, 4), (4, 4), (2, 3, 8), (4, 1, 16), (6, 32), (2, 2, 2, 5)]
    for shape in shapes:
        mu = (torch.randn(shape, generator=gen) * 2).to(device)
        logvar = (torch.randn(shape, generator=gen) * 1.5).to(device)
        _compare_kl(impl, mu, logvar, hint=_HINT_KL)
        _compare_kl(impl, mu.double(), logvar.double(), hint=_HINT_KL)

    # Large positive and negative log-variances: exp(-120) underflows to 0 in float32, so
    # log(exp(logvar)) becomes -inf; the formula in logvar stays finite.
    logvar = torch.tensor([[-120.0, -60.0], [-20.0, 0.0], [15.0, 40.0]], device=device)
    mu = torch.tensor([[0.5, -3.0], [10.0, 0.0], [1.0, -2.0]], device=device)
    _compare_kl(
        impl,
        mu,
        logvar,
        rtol=1e-5,
        hint="use logvar itself for log sigma²; recomputing log(sigma²) from "
        "sigma = exp(logvar / 2) underflows for very negative logvar",
    )

    # The gradient must be the analytic one: dKL/dmu = mu, dKL/dlogvar = (exp(logvar) - 1) / 2.
    mu = torch.randn(3, 5, generator=gen, dtype=torch.float64).to(device).requires_grad_()
    logvar = torch.randn(3, 5, generator=gen, dtype=torch.float64).to(device).requires_grad_()
    what = "the gradient of kl_to_standard_normal(mu, logvar).sum() with mu, logvar of shape (3, 5)"
    out = call(impl, what, mu, logvar)
    expect(
        getattr(out, "requires_grad", False),
        what,
        "the result carries no gradient (was it computed outside autograd, e.g. with numpy or .item()?)",
    )
    out.sum().backward()
    expect(
        mu.grad is not None and logvar.grad is not None, what, "no gradient reached mu or logvar"
    )
    assert_close(mu.grad, mu.detach(), what + " with respect to mu", atol=1e-9, rtol=1e-9)
    assert_close(
        logvar.grad,
        0.5 * (logvar.detach().exp() - 1),
        what + " with respect to logvar",
        atol=1e-9,
        rtol=1e-9,
    )

    # The inputs must not be modified in place.
    mu = torch.randn(4, 6, generator=gen).to(device)
    logvar = torch.randn(4, 6, generator=gen).to(device)
    what = "kl_to_standard_normal(mu, logvar) with shapes (4, 6)"
    call_unchanged(impl, what, ("mu", "logvar"), mu, logvar)


STD_IN_PLACE_HINT = (
    "return a new tensor and leave mu and sigma as they came (sigma * sigma, not sigma **= 2, "
    "which squares the caller's tensor): the caller still holds them"
)


def check_kl_from_std(impl, device="cpu") -> None:
    from torch.distributions import Normal, kl_divergence

    def compare(mu, sigma, hint="", known=()):
        what = f"kl_from_std(mu={describe(mu)}, sigma={describe(sigma)})"
        got = call_unchanged(
            impl, what, ("mu", "sigma"), mu.clone(), sigma.clone(), hint=STD_IN_PLACE_HINT
        )
        hint = _likely_mistake(got, known, hint)
        expect_tensor(got, what, hint=GRAPH_HINT)  # (a numpy array failed below, on a dtype it had)
        expect(
            getattr(got, "dtype", None) == mu.dtype,
            what,
            f"returned {describe(got)} for {str(mu.dtype)[6:]} mu and sigma: {SAME_DTYPE}",
        )
        mu64, sigma64 = mu.double(), sigma.double()
        want = kl_divergence(
            Normal(mu64, sigma64), Normal(torch.zeros_like(mu64), torch.ones_like(mu64))
        )
        double = mu.dtype == torch.float64
        assert_close(
            got, want, what, atol=1e-9 if double else 1e-5, rtol=1e-9 if double else 1e-5, hint=hint
        )

    # N(0, 1) itself: KL 0. sigma = 1, mu = 2: KL = 2. mu = 0, sigma = e: KL = (e² - 3) / 2.
    mu = torch.tensor([0.0, 2.0, 0.0, 0.0], dtype=torch.float64, device=device)
    sigma = torch.tensor([1.0, 1.0, math.e, 0.5], dtype=torch.float64, device=device)
    m, sd = mu.cpu(), sigma.cpu()
    compare(
        mu,
        sigma,
        hint="1/2 (mu² + sigma² - log sigma² - 1)",
        known=[
            (
                0.5 * (m * m + sd * sd - torch.log(sd) - 1),
                "the formula has log sigma² (= 2 log sigma), not log sigma",
            ),
            (m * m + sd * sd - torch.log(sd * sd) - 1, "keep the factor 1/2"),
            (
                0.5 * (m * m + sd * sd - torch.log(sd * sd)),
                "the -1 is missing: the divergence must be 0 at mu = 0, sigma = 1",
            ),
        ],
    )

    gen = torch.Generator().manual_seed(1)
    for shape in [(1,), (7,), (3, 5), (2, 3, 4)]:
        mu = (torch.randn(shape, generator=gen) * 2).to(device)
        sigma = torch.exp(torch.randn(shape, generator=gen)).to(device)
        compare(mu, sigma, hint="1/2 (mu² + sigma² - log sigma² - 1), elementwise, no sum")
        compare(mu.double(), sigma.double())

    # KL is never negative, and zero only at mu = 0, sigma = 1.
    mu = torch.linspace(-3, 3, 13, dtype=torch.float64, device=device)
    sigma = torch.linspace(0.05, 4, 13, dtype=torch.float64, device=device)
    got = call(impl, "kl_from_std(mu, sigma) on a grid", mu, sigma)
    expect(
        bool((got >= -1e-12).all()),
        "kl_from_std(mu, sigma) on a grid",
        f"returned a negative divergence: {got.min().item():.4g}",
        hint="a KL divergence is >= 0; a missing -1 or a wrong sign breaks that",
    )


# --- wrong answers --------------------------------------------------------------------------


@fails_with("logvar is log sigma², not sigma")
def _wrong_logvar_as_std(mu, logvar):
    """Treats logvar as the standard deviation sigma, so sigma² = logvar²."""
    var = logvar * logvar
    return 0.5 * (mu * mu + var - torch.log(var) - 1.0).sum(dim=-1)


@fails_with("keep the factor 1/2")
def _wrong_no_half(mu, logvar):
    """Forgets the factor 1/2 in front of the sum."""
    return (mu * mu + torch.exp(logvar) - logvar - 1.0).sum(dim=-1)


@fails_with("sum over the last (latent) dimension only")
def _wrong_sum_first_dim(mu, logvar):
    """Sums over the first (batch) dimension instead of the last (latent) one."""
    return 0.5 * (mu * mu + torch.exp(logvar) - logvar - 1.0).sum(dim=0)


@fails_with("do not average them")
def _wrong_mean_last_dim(mu, logvar):
    """Averages over the latent dimension instead of summing."""
    return 0.5 * (mu * mu + torch.exp(logvar) - logvar - 1.0).mean(dim=-1)


@fails_with("use logvar itself for log sigma²")
def _wrong_log_of_exp(mu, logvar):
    """Recomputes log sigma² from sigma = exp(logvar / 2): log(0) = -inf when exp underflows."""
    sigma = torch.exp(0.5 * logvar)
    return 0.5 * (mu * mu + sigma * sigma - torch.log(sigma * sigma) - 1.0).sum(dim=-1)


@fails_with("log sigma² (= 2 log sigma), not log sigma")
def _wrong_std_log_sigma(mu, sigma):
    """Writes log sigma where the formula has log sigma²."""
    return 0.5 * (mu * mu + sigma * sigma - torch.log(sigma) - 1.0)


@fails_with("keep the factor 1/2")
def _wrong_std_no_half(mu, sigma):
    """Forgets the factor 1/2."""
    return mu * mu + sigma * sigma - torch.log(sigma * sigma) - 1.0


@fails_with("the -1 is missing")
def _wrong_std_no_minus_one(mu, sigma):
    """Forgets the -1 (the entropy constant), so N(0, 1) does not get KL 0."""
    return 0.5 * (mu * mu + sigma * sigma - torch.log(sigma * sigma))


@fails_with("the loss comes back in the inputs' dtype")
def _wrong_upcast(mu, logvar):
    """Computes in float64 and returns a float64 KL for float32 inputs (in float64 even
    log(exp(logvar)) survives logvar = -120: the upcast hides the card's float32 lesson)."""
    m, lv = mu.double(), logvar.double()
    return 0.5 * (m * m + lv.exp() - lv - 1).sum(-1)


@fails_with("the loss comes back in the inputs' dtype")
def _wrong_std_upcast(mu, sigma):
    """Computes in float64 and returns a float64 KL for float32 inputs."""
    m, sd = mu.double(), sigma.double()
    return 0.5 * (m * m + sd * sd - torch.log(sd * sd) - 1.0)


@fails_with("modified its input mu in place")
def _wrong_std_squares_in_place(mu, sigma):
    """Squares with mu **= 2 and sigma **= 2, which on tensors square the caller's mu and
    sigma in place: right values, changed inputs."""
    mu **= 2
    sigma **= 2
    return 0.5 * (mu + sigma - torch.log(sigma) - 1.0)


@fails_with("returned a numpy array(")
def _wrong_numpy(mu, logvar):
    """Computes the KL with numpy and returns a numpy array in mu's dtype, not a tensor."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    m, lv = mu.detach().cpu().numpy(), logvar.detach().cpu().numpy()
    return 0.5 * (m * m + np.exp(lv) - lv - 1).sum(-1)


@fails_with("returned a numpy array(")
def _wrong_std_numpy(mu, sigma):
    """Computes the KL with numpy and returns a numpy array in mu's dtype, not a tensor."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    m, sd = mu.detach().cpu().numpy(), sigma.detach().cpu().numpy()
    return 0.5 * (m * m + sd * sd - np.log(sd * sd) - 1.0)


WRONG_ANSWERS = {
    "kl_to_standard_normal": [
        _wrong_upcast,
        _wrong_logvar_as_std,
        _wrong_no_half,
        _wrong_sum_first_dim,
        _wrong_mean_last_dim,
        _wrong_log_of_exp,
        _wrong_numpy,
    ],
    "kl_from_std": [
        _wrong_std_upcast,
        _wrong_std_squares_in_place,
        _wrong_std_log_sigma,
        _wrong_std_no_half,
        _wrong_std_no_minus_one,
        _wrong_std_numpy,
    ],
}


# --- correct variants -----------------------------------------------------------------------


def _variant_kingma_form(mu, logvar):
    """The form of the VAE paper: -1/2 Σ (1 + logvar - mu² - exp(logvar))."""
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=-1)


def _variant_float64(mu, logvar):
    """Computes in float64, then casts back to the inputs' dtype."""
    m, lv = mu.double(), logvar.double()
    return (0.5 * (m * m + lv.exp() - lv - 1).sum(-1)).to(mu.dtype)


def _variant_std_log_sigma_twice(mu, sigma):
    """Uses 2 log sigma for log sigma²."""
    return 0.5 * (mu**2 + sigma**2 - 2 * torch.log(sigma) - 1)


CORRECT_VARIANTS = {
    "kl_to_standard_normal": [_variant_kingma_form, _variant_float64],
    "kl_from_std": [_variant_std_log_sigma_twice],
}
