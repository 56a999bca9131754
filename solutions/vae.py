"""The VAE's reparameterisation trick: sampling written so that gradients reach mu and sigma."""

import torch

from studycli.assertions import (
    assert_close,
    call,
    call_unchanged,
    describe,
    dtype_name,
    expect,
    expect_pair,
    expect_tensor,
    fails_with,
)


def reparameterize(mu, logvar, eps):
    """A sample z ~ N(mu, diag(exp(logvar))), built from the given
    standard-normal noise eps, as a differentiable function of mu and
    logvar (autograd must reach both).

    Args:
        mu: tensor of shape (..., D), the means.
        logvar: tensor of shape (..., D), the log-variances log sigma².
        eps: standard-normal noise, broadcastable with mu (the same shape,
            or with extra leading sample dimensions such as (S, ..., D)).

    Returns:
        Tensor z of the broadcast shape of mu and eps, in their dtype, a
        new tensor: mu, logvar and eps are left unchanged.
    """
    # The randomness sits in eps, which depends on no parameter: z = mu + sigma * eps with the
    # standard deviation sigma = exp(logvar / 2), all inside the graph.
    return mu + torch.exp(0.5 * logvar) * eps


def pathwise_gradients(f_prime, mu, sigma, eps):
    """Reparameterisation (pathwise) Monte Carlo estimates of the
    gradients of L(mu, sigma) = E_{z ~ N(mu, diag(sigma²))}[Σ_d f(z_d)]
    with respect to mu and sigma, from the S given noise samples.

    Args:
        f_prime: callable, the derivative f' of the scalar function f,
            applied elementwise to a tensor.
        mu: tensor of shape (D,).
        sigma: tensor of shape (D,), positive.
        eps: tensor of shape (S, D), S standard-normal samples.

    Returns:
        (grad_mu, grad_sigma), two tensors of shape (D,), in the dtype of
        mu.
    """
    # z_s = mu + sigma * eps_s; by the chain rule dz/dmu = 1 and dz/dsigma = eps, so the
    # estimates are the sample means of f'(z_s) and of f'(z_s) * eps_s.
    z = mu + sigma * eps
    g = f_prime(z)
    return g.mean(dim=0), (g * eps).mean(dim=0)


# --- checkers -------------------------------------------------------------------------------


INPUTS = ("mu", "logvar", "eps")
IN_PLACE = (
    "leave mu, logvar and eps as they came, the caller still holds them: build z as a new "
    "tensor (mu + std * eps), not with eps.mul_(std).add_(mu), which writes it into the noise"
)


SAME_DTYPE = (
    "z comes back in the inputs' dtype (a float64 z from float32 mu and logvar runs the decoder "
    "and the backward pass in float64; compute in float64 if you like, then cast back)"
)


def check_reparameterize(impl, device="cpu") -> None:
    gen = torch.Generator().manual_seed(0)

    # The given noise is the only randomness: with eps = 0 the sample is exactly mu.
    mu = torch.tensor([1.0, -1.0, 3.0], device=device)
    logvar = torch.tensor([0.5, 2.0, -1.0], device=device)
    eps = torch.zeros(3, device=device)
    what = f"reparameterize(mu={describe(mu)}, logvar={describe(logvar)}, eps=0)"
    assert_close(
        call_unchanged(impl, what, INPUTS, mu, logvar, eps, hint=IN_PLACE),
        mu,
        what,
        atol=1e-6,
        rtol=1e-6,
        hint="use the eps passed in (do not draw your own noise): with eps = 0 the sample is "
        "exactly mu",
    )

    # Hand example: logvar = log 4 means sigma = 2.
    mu = torch.tensor([1.0, -1.0], device=device)
    logvar = torch.log(torch.tensor([4.0, 1.0], device=device))
    eps = torch.tensor([0.5, 2.0], device=device)
    what = f"reparameterize(mu={describe(mu)}, logvar=log([4, 1]), eps={describe(eps)})"
    got = call_unchanged(impl, what, INPUTS, mu, logvar, eps, hint=IN_PLACE)
    assert_close(
        got,
        torch.tensor([2.0, 1.0]),
        what,
        atol=1e-6,
        rtol=1e-6,
        hint="sigma = exp(logvar / 2) is the standard deviation, not exp(logvar)",
    )

    # Random values over shapes, and a leading sample dimension on eps.
    cases = [
        ((1,), (1,)),
        ((6,), (6,)),
        ((3, 4), (3, 4)),
        ((2, 5, 8), (2, 5, 8)),
        ((4, 16), (10, 4, 16)),
    ]
    for shape, eps_shape in cases:
        for dtype, tol in ((torch.float32, 1e-5), (torch.float64, 1e-10)):
            mu = torch.randn(shape, generator=gen, dtype=dtype).to(device)
            logvar = (torch.randn(shape, generator=gen, dtype=dtype) * 2).to(device)
            eps = torch.randn(eps_shape, generator=gen, dtype=dtype).to(device)
            what = (
                f"reparameterize(mu of shape {shape}, logvar of shape {shape}, "
                f"eps of shape {eps_shape}, {str(dtype).replace('torch.', '')})"
            )
            got = call_unchanged(impl, what, INPUTS, mu, logvar, eps, hint=IN_PLACE)
            expect_tensor(got, what)
            expect(
                got.dtype == dtype,
                what,
                f"returned {dtype_name(got)} for {dtype_name(mu)} inputs: {SAME_DTYPE}",
            )
            want = mu.double() + torch.exp(logvar.double() / 2) * eps.double()
            assert_close(
                got,
                want,
                what,
                atol=tol,
                rtol=tol,
                hint="z = mu + exp(logvar / 2) * eps, using the eps that is passed in",
            )

    # Gradients: d z / d mu = 1 and d z / d logvar = eps * sigma / 2, so for the loss
    # (z * w).sum() the gradients are w and w * eps * exp(logvar / 2) / 2.
    for shape in [(5,), (3, 7), (10, 2, 4)]:
        mu = torch.randn(shape, generator=gen, dtype=torch.float64).to(device).requires_grad_()
        logvar = torch.randn(shape, generator=gen, dtype=torch.float64).to(device).requires_grad_()
        eps = torch.randn(shape, generator=gen, dtype=torch.float64).to(device)
        w = torch.randn(shape, generator=gen, dtype=torch.float64).to(device)
        what = f"the gradient of (reparameterize(mu, logvar, eps) * w).sum(), shapes {shape}"
        z = call(impl, what, mu, logvar, eps)
        expect(
            getattr(z, "requires_grad", False),
            what,
            "z carries no gradient: the sample must be computed from mu and logvar by autograd "
            "operations",
            hint="do not detach, use .data, numpy, or torch.normal(mu, std)",
        )
        (z * w).sum().backward()
        expect(mu.grad is not None, what, "no gradient reached mu")
        expect(
            logvar.grad is not None,
            what,
            "no gradient reached logvar",
            hint="sigma must be computed from logvar inside the graph (no .data, no .detach())",
        )
        assert_close(mu.grad, w, what + " with respect to mu", atol=1e-9, rtol=1e-9)
        want = w * eps * torch.exp(logvar.detach() / 2) / 2
        assert_close(
            logvar.grad,
            want,
            what + " with respect to logvar",
            atol=1e-9,
            rtol=1e-9,
            hint="d z / d logvar = eps * exp(logvar / 2) / 2",
        )


_FUNCTIONS = [
    ("f(z) = z²", lambda z: z * z, lambda z: 2 * z),
    ("f(z) = sin z", torch.sin, torch.cos),
    ("f(z) = exp(z / 2)", lambda z: torch.exp(z / 2), lambda z: 0.5 * torch.exp(z / 2)),
    ("f(z) = log(1 + exp(z))", torch.nn.functional.softplus, torch.sigmoid),
]


GRADIENTS_DTYPE = (
    " for float64 mu and sigma: the gradients come back in mu's dtype (torch.zeros(D) is "
    "float32 unless given dtype=mu.dtype; torch.zeros_like(mu) keeps it)"
)


def check_pathwise_gradients(impl, device="cpu") -> None:
    gen = torch.Generator().manual_seed(0)

    # Ground truth: autograd through the sample-average objective (1/S) Σ_s Σ_d f(mu + sigma eps_s).
    for name, f, f_prime in _FUNCTIONS:
        for samples, dim in [(1, 1), (1, 4), (7, 3), (64, 5), (500, 2)]:
            mu = torch.randn(dim, generator=gen, dtype=torch.float64).to(device)
            sigma = torch.exp(torch.randn(dim, generator=gen, dtype=torch.float64) * 0.5).to(device)
            eps = torch.randn(samples, dim, generator=gen, dtype=torch.float64).to(device)
            m, s = mu.clone().requires_grad_(), sigma.clone().requires_grad_()
            f(m + s * eps).sum(-1).mean(0).backward()
            what = f"pathwise_gradients(f' of {name}, mu of shape ({dim},), eps of shape ({samples}, {dim}))"
            got = call(impl, what, f_prime, mu, sigma, eps)
            # (float64 kept: float32 sums, torch.zeros(D) accumulators, were told to average)
            expect_pair(got, ("grad_mu", "grad_sigma"), what, mu.dtype, GRADIENTS_DTYPE)
            summed = (
                got[0] is not None
                and samples > 1
                and torch.allclose(
                    torch.as_tensor(got[0]).detach().double().cpu(),
                    m.grad.detach().cpu() * samples,
                    rtol=1e-7,
                    atol=1e-9,
                )
            )
            assert_close(
                got[0],
                m.grad,
                what + ", grad_mu",
                atol=1e-9,
                rtol=1e-7,
                hint="average over the S samples; do not sum them"
                if summed
                else "grad_mu is the sample mean of f'(z), z = mu + sigma * eps",
            )
            assert_close(
                got[1],
                s.grad,
                what + ", grad_sigma",
                atol=1e-9,
                rtol=1e-7,
                hint="by the chain rule d z / d sigma = eps: average f'(z) * eps",
            )

    # With many samples the estimate approaches the exact gradient: for f(z) = z²,
    # E[z²] = mu² + sigma², so the gradients are 2 mu and 2 sigma.
    mu = torch.tensor([1.0, -0.5, 0.0], dtype=torch.float64, device=device)
    sigma = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64, device=device)
    eps = torch.randn(200_000, 3, generator=gen, dtype=torch.float64).to(device)
    what = "pathwise_gradients(f'(z) = 2z, mu=[1, -0.5, 0], sigma=[0.5, 1, 2], 200000 samples)"
    got = call(impl, what, lambda z: 2 * z, mu, sigma, eps)
    expect_pair(got, ("grad_mu", "grad_sigma"), what, tensors=True)
    assert_close(got[0], 2 * mu, what + ", grad_mu vs 2 mu", atol=0.05, rtol=0.02)
    assert_close(
        got[1],
        2 * sigma,
        what + ", grad_sigma vs 2 sigma",
        atol=0.05,
        rtol=0.02,
        hint="d/dsigma E[(mu + sigma eps)²] = E[2 (mu + sigma eps) eps] = 2 sigma",
    )


# --- wrong answers --------------------------------------------------------------------------


@fails_with("is the standard deviation, not exp(logvar)")
def _wrong_var_as_std(mu, logvar, eps):
    """Scales the noise by the variance exp(logvar) instead of the std exp(logvar / 2)."""
    return mu + torch.exp(logvar) * eps


@fails_with("no gradient reached logvar")
def _wrong_std_from_data(mu, logvar, eps):
    """Computes sigma from logvar.data (outside autograd), so no gradient reaches logvar."""
    return mu + torch.exp(0.5 * logvar.data) * eps


@fails_with("use the eps passed in")
def _wrong_fresh_noise(mu, logvar, eps):
    """Samples with torch.normal(mu, std), ignoring the given eps; no pathwise gradient."""
    return torch.normal(mu.detach(), torch.exp(0.5 * logvar.detach()))


@fails_with("modified its input eps in place")
def _wrong_sample_into_eps(mu, logvar, eps):
    """Writes the sample into the noise, eps.mul_(std).add_(mu) (the in-place form of
    eps.mul(std).add_(mu)): the right z, but the caller's eps is changed."""
    return eps.mul_(torch.exp(0.5 * logvar)).add_(mu)


@fails_with("z comes back in the inputs' dtype")
def _wrong_float64_sample(mu, logvar, eps):
    """Computes z in float64 for accuracy and returns it as it is, for float32 inputs."""
    return mu.double() + torch.exp(0.5 * logvar.double()) * eps.double()


@fails_with("d z / d sigma = eps")
def _wrong_no_eps_factor(f_prime, mu, sigma, eps):
    """Forgets d z / d sigma = eps: uses the mean of f'(z) for both gradients."""
    g = f_prime(mu + sigma * eps)
    return g.mean(dim=0), g.mean(dim=0)


@fails_with("d z / d sigma = eps")
def _wrong_z_factor(f_prime, mu, sigma, eps):
    """Multiplies by z instead of eps in the sigma gradient."""
    z = mu + sigma * eps
    g = f_prime(z)
    return g.mean(dim=0), (g * z).mean(dim=0)


@fails_with("do not sum them")
def _wrong_sum_samples(f_prime, mu, sigma, eps):
    """Sums over the samples instead of averaging."""
    g = f_prime(mu + sigma * eps)
    return g.sum(dim=0), (g * eps).sum(dim=0)


@fails_with("returned grad_mu as a numpy array(")
def _wrong_numpy_gradients(f_prime, mu, sigma, eps):
    """Returns the two means as numpy arrays (.numpy()), not the tensors promised."""
    g = f_prime(mu + sigma * eps)
    return g.mean(dim=0).cpu().numpy(), (g * eps).mean(dim=0).cpu().numpy()


@fails_with("the gradients come back in mu's dtype")
def _wrong_float32_accumulators(f_prime, mu, sigma, eps):
    """Sums the samples' terms into torch.zeros(D) accumulators, float32 whatever mu is: the
    float64 gradients rounded to 7 digits."""
    grad_mu = torch.zeros(mu.shape[0], device=mu.device)
    grad_sigma = torch.zeros(mu.shape[0], device=mu.device)
    for e in eps:
        slope = f_prime(mu + sigma * e)
        grad_mu += slope
        grad_sigma += slope * e
    return grad_mu / len(eps), grad_sigma / len(eps)


WRONG_ANSWERS = {
    "reparameterize": [
        _wrong_var_as_std,
        _wrong_std_from_data,
        _wrong_fresh_noise,
        _wrong_sample_into_eps,
        _wrong_float64_sample,
    ],
    "pathwise_gradients": [
        _wrong_no_eps_factor,
        _wrong_z_factor,
        _wrong_sum_samples,
        _wrong_numpy_gradients,
        _wrong_float32_accumulators,
    ],
}


# --- correct variants -----------------------------------------------------------------------


def _variant_sqrt_exp(mu, logvar, eps):
    """Computes the std as sqrt(exp(logvar)), equal to exp(logvar / 2)."""
    return torch.addcmul(mu, torch.sqrt(torch.exp(logvar)), eps)


def _variant_autograd(f_prime, mu, sigma, eps):
    """Integrates nothing by hand: builds the surrogate Σ f'(z).detach() * z and lets autograd
    differentiate it (same gradient as the sample-average objective)."""
    m = mu.detach().clone().requires_grad_()
    s = sigma.detach().clone().requires_grad_()
    z = m + s * eps
    (f_prime(z).detach() * z).sum(-1).mean(0).backward()
    return [m.grad, s.grad]


CORRECT_VARIANTS = {
    "reparameterize": [_variant_sqrt_exp],
    "pathwise_gradients": [_variant_autograd],
}
