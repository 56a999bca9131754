"""DDPM's forward (noising) process in closed form: q(x_t | x_0) = N(sqrt(ᾱ_t) x_0, (1 - ᾱ_t) I)."""

import math

import torch

from studycli.assertions import assert_close, call, describe, expect


def q_sample(x0, t, noise, betas):
    """Sample x_t ~ q(x_t | x_0) in one shot, for a batch of step indices.

        alpha_bar[t] = prod_{s <= t} (1 - betas[s])      (t counts from 0)
        x_t = sqrt(alpha_bar[t]) * x0 + sqrt(1 - alpha_bar[t]) * noise

    Each batch element n uses its own step t[n], broadcast over the remaining dimensions.

    Args:
        x0: tensor of shape (N, ...), the clean data.
        t: integer tensor of shape (N,), step indices in 0 .. T-1.
        noise: tensor of the shape of x0, standard-normal noise.
        betas: tensor of shape (T,), the noise schedule beta_0 .. beta_{T-1}.

    Returns:
        Tensor x_t of the shape of x0.
    """
    alpha_bar = torch.cumprod(1.0 - betas.to(torch.float64), dim=0)[t.long()]
    alpha_bar = alpha_bar.to(x0.dtype).reshape(-1, *([1] * (x0.dim() - 1)))
    return alpha_bar.sqrt() * x0 + (1.0 - alpha_bar).sqrt() * noise


def q_mean_var(x0, t, betas):
    """Mean and variance of the closed-form marginal q(x_t | x_0) = N(mean, var I).

        mean = sqrt(alpha_bar[t]) * x0,   var = 1 - alpha_bar[t],
        alpha_bar[t] = prod_{s <= t} (1 - betas[s])      (t counts from 0)

    Args:
        x0: tensor of shape (N, ...).
        t: integer tensor of shape (N,), step indices in 0 .. T-1.
        betas: tensor of shape (T,).

    Returns:
        (mean, var): mean of the shape of x0; var of shape (N,), one variance per batch element.
    """
    alpha_bar = torch.cumprod(1.0 - betas.to(torch.float64), dim=0)[t.long()]
    scale = alpha_bar.sqrt().to(x0.dtype).reshape(-1, *([1] * (x0.dim() - 1)))
    return scale * x0, (1.0 - alpha_bar).to(x0.dtype)


# --- ground truth and checkers ---------------------------------------------------------------


def _alpha_bar_loop(betas):
    """Cumulative products in Python floats (float64), one factor at a time."""
    out, running = [], 1.0
    for beta in betas.detach().cpu().double().tolist():
        running *= 1.0 - beta
        out.append(running)
    return out


def _linear_betas(T, lo=1e-4, hi=0.02, dtype=torch.float32, device="cpu"):
    return torch.linspace(lo, hi, T, dtype=dtype, device=device)


def _cosine_betas(T, s=0.008, dtype=torch.float32, device="cpu"):
    f = [math.cos((i / T + s) / (1 + s) * math.pi / 2) ** 2 for i in range(T + 1)]
    return torch.tensor(
        [min(1 - f[i + 1] / f[i], 0.999) for i in range(T)], dtype=dtype, device=device
    )


def _schedules(device):
    yield "linear 1e-4..0.02, T=1000", _linear_betas(1000, device=device)
    yield (
        "linear 1e-4..0.02, T=1000, float64",
        _linear_betas(1000, dtype=torch.float64, device=device),
    )
    yield "cosine, T=100", _cosine_betas(100, device=device)
    yield (
        "scaled-linear (Stable Diffusion), T=1000",
        (torch.linspace(0.00085**0.5, 0.012**0.5, 1000, device=device) ** 2),
    )
    yield "T=1, beta=0.3", torch.tensor([0.3], device=device)
    yield "T=5, large betas", torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5], device=device)


_HINT_Q = (
    "alpha_bar[t] multiplies (1 - beta_s) for s = 0 .. t inclusive; x_t = sqrt(alpha_bar) x0 "
    "+ sqrt(1 - alpha_bar) noise, with alpha_bar[t[n]] broadcast over every dim but the first"
)


def check_q_sample(impl, device="cpu") -> None:
    gen = torch.Generator().manual_seed(0)

    # Hand example: T = 2, betas (0.5, 0.5): alpha_bar = (0.5, 0.25).
    betas = torch.tensor([0.5, 0.5], device=device)
    x0 = torch.tensor([[1.0], [1.0]], device=device)
    noise = torch.tensor([[1.0], [1.0]], device=device)
    t = torch.tensor([0, 1], device=device)
    what = "q_sample(x0=[[1], [1]], t=[0, 1], noise=[[1], [1]], betas=[0.5, 0.5])"
    want = torch.tensor([[2 * math.sqrt(0.5)], [0.5 + math.sqrt(0.75)]])
    assert_close(
        call(impl, what, x0, t, noise, betas),
        want,
        what,
        atol=1e-6,
        rtol=1e-6,
        hint="t = 0 already includes beta_0: alpha_bar[0] = 1 - beta_0",
    )

    for name, betas in _schedules(device):
        T = betas.shape[0]
        alpha_bar = _alpha_bar_loop(betas)
        for shape in [(1,), (5, 3), (4, 4), (3, 2, 5), (2, 3, 4, 4)]:
            n = shape[0]
            x0 = torch.randn(shape, generator=gen).to(device)
            noise = torch.randn(shape, generator=gen).to(device)
            picks = [0, T - 1] + torch.randint(0, T, (max(n - 2, 0),), generator=gen).tolist()
            t = torch.tensor(picks[:n], device=device)
            a = torch.tensor([alpha_bar[i] for i in t.tolist()], dtype=torch.float64)
            a = a.reshape(-1, *([1] * (len(shape) - 1)))
            want = a.sqrt() * x0.double().cpu() + (1 - a).sqrt() * noise.double().cpu()
            what = f"q_sample(x0 of shape {shape}, t={t.tolist()}, noise, betas: {name})"
            got = call(impl, what, x0.clone(), t.clone(), noise.clone(), betas.clone())
            expect(hasattr(got, "shape"), what, f"returned {describe(got)}, expected a tensor")
            assert_close(got, want, what, atol=1e-5, rtol=1e-4, hint=_HINT_Q)
            # float64 data as well.
            got = call(impl, what + " (float64)", x0.double(), t, noise.double(), betas.clone())
            assert_close(got, want, what + " (float64)", atol=1e-6, rtol=1e-5, hint=_HINT_Q)

    # t = T-1 for everyone: at the end of the DDPM schedule x_t is almost pure noise.
    betas = _linear_betas(1000, device=device)
    x0 = torch.ones(3, 2, device=device)
    noise = torch.randn(3, 2, generator=gen).to(device)
    got = call(
        impl,
        "q_sample(x0 = 1, t = [999] * 3, noise, linear betas T=1000)",
        x0,
        torch.full((3,), 999, device=device),
        noise,
        betas,
    )
    assert_close(
        got,
        noise,
        "q_sample at t = T-1 = 999 with the linear schedule",
        atol=2e-2,
        rtol=2e-2,
        hint="alpha_bar[999] is about 4e-5 for the DDPM schedule: x_T is nearly pure noise",
    )


def check_q_mean_var(impl, device="cpu") -> None:
    gen = torch.Generator().manual_seed(0)

    def truth(x0, t, betas):
        # Step by step: x_s = sqrt(1 - beta_s) x_{s-1} + sqrt(beta_s) eps_s, so the mean is
        # scaled by sqrt(1 - beta_s) and var_s = (1 - beta_s) var_{s-1} + beta_s.
        b = betas.detach().cpu().double().tolist()
        scales, variances = [], []
        for step in t.tolist():
            scale, var = 1.0, 0.0
            for s in range(step + 1):
                scale *= math.sqrt(1.0 - b[s])
                var = (1.0 - b[s]) * var + b[s]
            scales.append(scale)
            variances.append(var)
        sc = torch.tensor(scales, dtype=torch.float64).reshape(-1, *([1] * (x0.dim() - 1)))
        return sc * x0.detach().cpu().double(), torch.tensor(variances, dtype=torch.float64)

    cases = [
        ("T=2, betas=[0.5, 0.5]", torch.tensor([0.5, 0.5], device=device)),
        ("T=5, large betas", torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5], device=device)),
        ("linear 1e-4..0.02, T=200", _linear_betas(200, device=device)),
        ("cosine, T=50", _cosine_betas(50, device=device)),
    ]
    for name, betas in cases:
        T = betas.shape[0]
        for shape in [(1,), (2, 3), (4, 4), (3, 2, 2)]:
            n = shape[0]
            x0 = torch.randn(shape, generator=gen).to(device)
            picks = [0, T - 1] + torch.randint(0, T, (max(n - 2, 0),), generator=gen).tolist()
            t = torch.tensor(picks[:n], device=device)
            what = f"q_mean_var(x0 of shape {shape}, t={t.tolist()}, betas: {name})"
            got = call(impl, what, x0.clone(), t.clone(), betas.clone())
            expect(
                isinstance(got, (tuple, list)) and len(got) == 2,
                what,
                f"returned {describe(got)}, expected a pair (mean, var)",
            )
            mean, var = got
            want_mean, want_var = truth(x0, t, betas)
            assert_close(
                mean,
                want_mean,
                what + ", mean",
                atol=1e-5,
                rtol=1e-4,
                hint="the mean shrinks by sqrt(1 - beta_s) at every step s = 0 .. t: "
                "sqrt(alpha_bar[t]) x0",
            )
            expect(
                hasattr(var, "shape") and var.numel() == n,
                what,
                f"var is {describe(var)}, expected one variance per batch element ({n} values)",
            )
            assert_close(
                var.reshape(n),
                want_var,
                what + ", var",
                atol=1e-5,
                rtol=1e-4,
                hint="variances do not simply add: each step scales the old variance by "
                "(1 - beta_s) before adding beta_s, giving 1 - alpha_bar[t]",
            )


# --- wrong answers --------------------------------------------------------------------------


def _alpha_bar_exclusive(betas):
    ab = torch.cumprod(1.0 - betas.double(), dim=0)
    return torch.cat([torch.ones(1, dtype=ab.dtype, device=ab.device), ab[:-1]])


def _bcast(v, x0):
    return v.to(x0.dtype).reshape(-1, *([1] * (x0.dim() - 1)))


def _wrong_off_by_one(x0, t, noise, betas):
    """Uses alpha_bar up to t-1 (an exclusive cumulative product): alpha_bar[0] = 1."""
    a = _bcast(_alpha_bar_exclusive(betas)[t], x0)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def _wrong_sqrt_beta_noise(x0, t, noise, betas):
    """Scales the noise by sqrt(beta_t), the one-step coefficient, instead of sqrt(1 - alpha_bar_t)."""
    a = _bcast(torch.cumprod(1.0 - betas.double(), dim=0)[t], x0)
    b = _bcast(betas.double()[t], x0)
    return a.sqrt() * x0 + b.sqrt() * noise


def _wrong_no_sqrt(x0, t, noise, betas):
    """Uses alpha_bar and 1 - alpha_bar as the coefficients, without the square roots."""
    a = _bcast(torch.cumprod(1.0 - betas.double(), dim=0)[t], x0)
    return a * x0 + (1 - a) * noise


def _wrong_broadcast_last_dim(x0, t, noise, betas):
    """Indexes alpha_bar[t] but does not reshape it: it broadcasts along the last dim, not the batch."""
    a = torch.cumprod(1.0 - betas.double(), dim=0)[t].to(x0.dtype)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def _wrong_mv_variances_add(x0, t, betas):
    """Adds the per-step variances (var = Σ beta_s) and forgets that each step shrinks the old noise."""
    ab = torch.cumprod(1.0 - betas.double(), dim=0)[t]
    var = torch.cumsum(betas.double(), dim=0)[t]
    return _bcast(ab.sqrt(), x0) * x0, var.to(x0.dtype)


def _wrong_mv_no_sqrt_mean(x0, t, betas):
    """Scales the mean by alpha_bar instead of sqrt(alpha_bar)."""
    ab = torch.cumprod(1.0 - betas.double(), dim=0)[t]
    return _bcast(ab, x0) * x0, (1 - ab).to(x0.dtype)


def _wrong_mv_off_by_one(x0, t, betas):
    """Uses alpha_bar up to t-1 (an exclusive cumulative product)."""
    ab = _alpha_bar_exclusive(betas)[t]
    return _bcast(ab.sqrt(), x0) * x0, (1 - ab).to(x0.dtype)


WRONG_ANSWERS = {
    "q_sample": [
        _wrong_off_by_one,
        _wrong_sqrt_beta_noise,
        _wrong_no_sqrt,
        _wrong_broadcast_last_dim,
    ],
    "q_mean_var": [_wrong_mv_variances_add, _wrong_mv_no_sqrt_mean, _wrong_mv_off_by_one],
}


# --- correct variants -----------------------------------------------------------------------


def _variant_log_space(x0, t, noise, betas):
    """Accumulates log(1 - beta) with cumsum and indexes with view-based broadcasting."""
    log_ab = torch.cumsum(torch.log1p(-betas.double()), dim=0)[t]
    a = torch.exp(log_ab).to(x0.dtype).view(x0.shape[0], *([1] * (x0.dim() - 1)))
    return torch.sqrt(a) * x0 + torch.sqrt(1 - a) * noise


def _variant_mv_keepdims(x0, t, betas):
    """Returns the variance with singleton dims, (N, 1, ...), as a list."""
    ab = _bcast(torch.cumprod(1 - betas.double(), 0)[t], x0)
    return [ab.sqrt() * x0, 1 - ab]


CORRECT_VARIANTS = {
    "q_sample": [_variant_log_space],
    "q_mean_var": [_variant_mv_keepdims],
}
