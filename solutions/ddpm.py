"""DDPM: the forward (noising) process in closed form, q(x_t | x_0) = N(sqrt(ᾱ_t) x_0, (1 - ᾱ_t) I),
and one step of the reverse (sampling) process."""

import math

import numpy as np
import torch

from studycli.assertions import (
    assert_close,
    call,
    call_unchanged,
    describe,
    expect,
    expect_pair,
    expect_tensor,
    fails_with,
    likely_mistake,
)


def q_sample(x0, t, noise, betas):
    """Noise a clean batch straight to step t of DDPM's forward process: a
    sample of q(x_t | x_0).

    Steps are counted from 0: betas[s] is the variance added by forward
    step s, and step t has gone through the steps 0 .. t (so t = 0 already
    holds one step of noise).

    Args:
        x0: tensor of shape (N, ...), the clean data.
        t: integer tensor of shape (N,), step indices in 0 .. T-1, one per
            batch element.
        noise: tensor of the shape of x0, standard-normal noise to use
            (do not draw your own).
        betas: tensor of shape (T,), the noise schedule
            beta_0 .. beta_{T-1}.

    Returns:
        A new tensor x_t of the shape and dtype of x0 (the inputs are left
        unchanged); batch element n is noised to its own step t[n].
    """
    # alpha_bar[t] = prod_{s <= t} (1 - beta_s), accumulated in float64 over up to 1000 factors;
    # x_t = sqrt(alpha_bar[t]) x0 + sqrt(1 - alpha_bar[t]) noise, alpha_bar[t[n]] broadcast over
    # every dimension but the batch.
    alpha_bar = torch.cumprod(1.0 - betas.to(torch.float64), dim=0)[t.long()]
    alpha_bar = alpha_bar.to(x0.dtype).reshape(-1, *([1] * (x0.dim() - 1)))
    return alpha_bar.sqrt() * x0 + (1.0 - alpha_bar).sqrt() * noise


def q_mean_var(x0, t, betas):
    """Mean and variance of the forward process's marginal
    q(x_t | x_0) = N(mean, var I).

    Steps are counted from 0: betas[s] is the variance added by forward
    step s, and step t has gone through the steps 0 .. t.

    Args:
        x0: tensor of shape (N, ...).
        t: integer tensor of shape (N,), step indices in 0 .. T-1.
        betas: tensor of shape (T,).

    Returns:
        (mean, var): mean of the shape of x0; var of shape (N,), one
        variance per batch element.
    """
    # mean = sqrt(alpha_bar[t]) x0, var = 1 - alpha_bar[t], alpha_bar[t] = prod_{s <= t} (1 - beta_s).
    alpha_bar = torch.cumprod(1.0 - betas.to(torch.float64), dim=0)[t.long()]
    scale = alpha_bar.sqrt().to(x0.dtype).reshape(-1, *([1] * (x0.dim() - 1)))
    return scale * x0, (1.0 - alpha_bar).to(x0.dtype)


def ddpm_sample_step(x_t, eps, t: int, betas, z):
    """One step of DDPM's ancestral sampler (Ho et al. 2020, Algorithm 2),
    with the reverse variance sigma_t² = beta_t: from x_t and the
    network's noise prediction, a sample of x_{t-1}.

    Steps are counted from 0, as in q_sample: betas[s] is the variance
    added by forward step s. t = 0 is the last sampling step; it returns
    the final sample x_0.

    Args:
        x_t: tensor of shape (N, ...), the current sample at step t.
        eps: tensor of the shape of x_t, the predicted noise
            eps_theta(x_t, t).
        t: int, 0 <= t < T, the step being undone (the same for the whole
            batch).
        betas: tensor of shape (T,), the noise schedule.
        z: tensor of the shape of x_t, standard-normal noise to use
            (do not draw your own).

    Returns:
        Tensor of the shape and dtype of x_t: x_{t-1} (x_0 when t = 0).
        The inputs are not modified.
    """
    b = betas.detach().to(torch.float64).cpu()
    beta = float(b[t])
    alpha_bar = float(torch.prod(1.0 - b[: t + 1]))
    # x_{t-1} = 1/sqrt(alpha_t) (x_t - beta_t / sqrt(1 - alpha_bar_t) eps) + sigma_t z,
    # alpha_t = 1 - beta_t, sigma_t = sqrt(beta_t); the last step (t = 0) adds no noise.
    mean = (x_t - (beta / math.sqrt(1.0 - alpha_bar)) * eps) / math.sqrt(1.0 - beta)
    if t == 0:
        return mean
    return mean + math.sqrt(beta) * z


# --- ground truth and checkers ---------------------------------------------------------------


def _alpha_bar_loop(betas):
    """Cumulative products in Python floats (float64), one factor at a time."""
    out, running = [], 1.0
    for beta in betas.detach().cpu().double().tolist():
        running *= 1.0 - beta
        out.append(running)
    return out


def _likely_mistake(got, known, default):
    return likely_mistake(got, known, default)


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
        "linear 1e-4..0.02, T=1000, made in float64",
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


_HINT_Q_IN_PLACE = (
    "return a new tensor (sqrt(alpha_bar) * x0 + sqrt(1 - alpha_bar) * noise, not noise.mul_ or "
    "x0 *=): in training the caller's noise is the target the model learns to predict"
)


def _expect_dtype_of_x0(got, x0, what):
    """x_t in x0's dtype, float32 and float64 alike: an answer that cast its result to float32
    passed while only float32 batches were asked about."""
    expect(
        got.dtype == x0.dtype,
        what,
        f"returned {describe(got)} for {str(x0.dtype)[6:]} x0: x_t comes back in x0's dtype "
        "(take alpha_bar in float64 if you like, then .to(x0.dtype))",
    )


def check_q_sample(impl, device="cpu") -> None:
    gen = torch.Generator().manual_seed(0)

    # Hand example: T = 2, betas (0.5, 0.5): alpha_bar = (0.5, 0.25). Two batch elements at
    # different steps, with a last dimension of size N = 2, so that broadcasting alpha_bar
    # along the wrong dimension changes the values too.
    betas = torch.tensor([0.5, 0.5], device=device)
    x0 = torch.tensor([[1.0, 2.0], [1.0, 2.0]], device=device)
    noise = torch.tensor([[1.0, -1.0], [1.0, -1.0]], device=device)
    t = torch.tensor([0, 1], device=device)
    what = "q_sample(x0=[[1, 2], [1, 2]], t=[0, 1], noise=[[1, -1], [1, -1]], betas=[0.5, 0.5])"

    def mix(a_x, a_n):  # coefficients per batch row -> the (2, 2) result
        a_x = torch.tensor(a_x, dtype=torch.float64).reshape(2, 1)
        a_n = torch.tensor(a_n, dtype=torch.float64).reshape(2, 1)
        return a_x * x0.double().cpu() + a_n * noise.double().cpu()

    r = math.sqrt
    want = mix([r(0.5), r(0.25)], [r(0.5), r(0.75)])
    got = call(impl, what, x0.clone(), t.clone(), noise.clone(), betas.clone())
    expect_tensor(got, what)  # (assert_close took a numpy array, and its dtype was said wrong)
    hint = _likely_mistake(
        got,
        [
            (
                mix([1.0, r(0.5)], [0.0, r(0.5)]),
                "t = 0 already includes beta_0: alpha_bar[t] multiplies (1 - beta_s) for "
                "s = 0 .. t inclusive, not up to t - 1",
            ),
            (
                mix([r(0.5), r(0.25)], [r(0.5), r(0.5)]),
                "sqrt(beta_t) is the noise of one step; the jump from x0 to step t carries the "
                "accumulated noise sqrt(1 - alpha_bar_t)",
            ),
            (
                mix([0.5, 0.25], [0.5, 0.75]),
                "the coefficients are square roots: sqrt(alpha_bar_t) and sqrt(1 - alpha_bar_t)",
            ),
            (
                torch.tensor([[r(0.5), r(0.25)], [r(0.5), r(0.25)]], dtype=torch.float64)
                * x0.double().cpu()
                + torch.tensor([[r(0.5), r(0.75)], [r(0.5), r(0.75)]], dtype=torch.float64)
                * noise.double().cpu(),
                "alpha_bar[t] was broadcast along the last dimension: batch element n must use "
                "its own alpha_bar[t[n]], reshaped to (N, 1, ..., 1)",
            ),
        ],
        _HINT_Q,
    )
    assert_close(got, want, what, atol=1e-6, rtol=1e-6, hint=hint)

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
            got = call_unchanged(
                impl,
                what,
                ("x0", "t", "noise", "betas"),
                x0.clone(),
                t.clone(),
                noise.clone(),
                betas.clone(),
                hint=_HINT_Q_IN_PLACE,
            )
            expect_tensor(got, what)
            assert_close(got, want, what, atol=1e-5, rtol=1e-4, hint=_HINT_Q)
            _expect_dtype_of_x0(got, x0, what)
            # float64 data as well.
            what += " (float64)"
            got = call(impl, what, x0.double(), t, noise.double(), betas.clone())
            expect_tensor(got, what)
            assert_close(got, want, what, atol=1e-6, rtol=1e-5, hint=_HINT_Q)
            _expect_dtype_of_x0(got, x0.double(), what)

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

    # Hand example at t = [0, 1] with betas (0.5, 0.5): alpha_bar = (0.5, 0.25).
    x0 = torch.tensor([[2.0], [2.0]], device=device)
    what = "q_mean_var(x0=[[2], [2]], t=[0, 1], betas=[0.5, 0.5])"
    got = call(
        impl,
        what,
        x0.clone(),
        torch.tensor([0, 1], device=device),
        torch.tensor([0.5, 0.5], device=device),
    )
    mean, var = expect_pair(got, ("mean", "var"), what, tensors=True)
    assert_close(
        mean,
        torch.tensor([[2 * math.sqrt(0.5)], [2 * 0.5]], dtype=torch.float64),
        what + ", mean",
        atol=1e-6,
        rtol=1e-6,
        hint=_likely_mistake(
            mean,
            [
                (
                    torch.tensor([[2.0], [2 * math.sqrt(0.5)]]),
                    "t = 0 already includes beta_0: alpha_bar[t] multiplies (1 - beta_s) for "
                    "s = 0 .. t inclusive, not up to t - 1",
                ),
                (
                    torch.tensor([[2 * 0.5], [2 * 0.25]]),
                    "the mean is scaled by sqrt(alpha_bar_t), a square root: each step "
                    "multiplies it by sqrt(1 - beta_s)",
                ),
            ],
            "the mean is sqrt(alpha_bar_t) x0",
        ),
    )

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
            got = call_unchanged(
                impl,
                what,
                ("x0", "t", "betas"),
                x0.clone(),
                t.clone(),
                betas.clone(),
                hint="return new tensors (sqrt(alpha_bar) * x0, not x0.mul_(...)): the "
                "caller's x0, t and betas must not change",
            )
            mean, var = expect_pair(got, ("mean", "var"), what, tensors=True)
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
                var.numel() == n,
                what,
                f"var is {describe(var)}, expected one variance per batch element ({n} values)",
            )
            expect(
                tuple(var.shape) == (n,),
                what,
                f"var has shape {tuple(var.shape)}, expected ({n},)",
                hint="one variance per batch element, of shape (N,), as the docstring says: "
                "not reshaped to broadcast against x0 (the caller does that where it needs to)",
            )
            assert_close(
                var,
                want_var,
                what + ", var",
                atol=1e-5,
                rtol=1e-4,
                hint="variances do not simply add: each step scales the old variance by "
                "(1 - beta_s) before adding beta_s, giving 1 - alpha_bar[t]",
            )


def _posterior_step_truth(x_t, eps, t, betas, z):
    """x_{t-1} the other way round, in float64: recover x0 from the predicted noise, take the mean
    of the true posterior q(x_{t-1} | x_t, x0) (Ho et al., eq. 7), add sqrt(beta_t) z if t > 0."""
    b = betas.detach().cpu().double().tolist()
    alpha_bar = _alpha_bar_loop(betas)
    ab_t = alpha_bar[t]
    ab_prev = alpha_bar[t - 1] if t > 0 else 1.0
    x, e = x_t.detach().cpu().double(), eps.detach().cpu().double()
    x0 = (x - math.sqrt(1.0 - ab_t) * e) / math.sqrt(ab_t)
    mean = (math.sqrt(ab_prev) * b[t] / (1.0 - ab_t)) * x0 + (
        math.sqrt(1.0 - b[t]) * (1.0 - ab_prev) / (1.0 - ab_t)
    ) * x
    if t == 0:
        return mean
    return mean + math.sqrt(b[t]) * z.detach().cpu().double()


_HINT_STEP = (
    "x_{t-1} = 1/sqrt(alpha_t) (x_t - beta_t / sqrt(1 - alpha_bar_t) eps) + sqrt(beta_t) z, "
    "with alpha_t = 1 - beta_t, alpha_bar_t = prod_{s <= t} (1 - beta_s), and no noise at t = 0; "
    "it must equal the posterior mean of q(x_{t-1} | x_t, x0) with x0 = (x_t - sqrt(1 - "
    "alpha_bar_t) eps) / sqrt(alpha_bar_t)"
)


def check_ddpm_sample_step(impl, device="cpu") -> None:
    betas = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64, device=device)
    one = torch.ones(1, 1, dtype=torch.float64, device=device)
    zero = torch.zeros_like(one)

    def probe(x_t, eps, t, z, want, label, hint):
        what = f"ddpm_sample_step({label}, t={t}, betas=[0.1, 0.2, 0.3])"
        got = call(impl, what, x_t.clone(), eps.clone(), t, betas.clone(), z.clone())
        expect_tensor(got, what)  # (a numpy array passed, then failed on its dtype's name)
        assert_close(
            got, torch.tensor([[want]], dtype=torch.float64), what, atol=1e-9, rtol=1e-9, hint=hint
        )

    # One rule at a time, on 1 x 1 inputs (alpha_bar = 0.9, 0.72, 0.504).
    probe(
        one,
        zero,
        1,
        zero,
        1 / math.sqrt(0.8),
        "x_t=[[1]], eps=0, z=0",
        "with eps = 0 and z = 0 the step only rescales x_t by 1 / sqrt(alpha_t) = "
        "1 / sqrt(1 - beta_t), this step's alpha, not 1 / sqrt(alpha_bar_t)",
    )
    probe(
        zero,
        one,
        1,
        zero,
        -0.2 / math.sqrt(1 - 0.72) / math.sqrt(0.8),
        "x_t=0, eps=[[1]], z=0",
        "the predicted noise is subtracted with the coefficient beta_t / sqrt(1 - alpha_bar_t) "
        "(not beta_t, not sqrt(1 - alpha_bar_t)), then the whole bracket is divided by "
        "sqrt(alpha_t)",
    )
    probe(
        one,
        one,
        0,
        3 * one,
        (1 - 0.1 / math.sqrt(0.1)) / math.sqrt(0.9),
        "x_t=[[1]], eps=[[1]], z=[[3]]",
        "t = 0 is the last sampling step: it returns the mean and adds no noise (z is ignored)",
    )
    probe(
        zero,
        zero,
        2,
        one,
        math.sqrt(0.3),
        "x_t=0, eps=0, z=[[1]]",
        "for t > 0 the step adds sigma_t z with sigma_t = sqrt(beta_t), a standard deviation "
        "(sigma_t² = beta_t)",
    )

    # Seeded random inputs over schedules, steps and shapes, against the posterior-mean route.
    gen = torch.Generator().manual_seed(0)
    for name, sched in _schedules(device):
        T = sched.shape[0]
        steps = sorted({0, 1, T - 1, T // 2} & set(range(T)))
        for t in steps:
            for shape in [(1,), (4, 3), (2, 3, 5), (2, 1, 4, 4)]:
                x_t = torch.randn(shape, generator=gen).to(device)
                eps = torch.randn(shape, generator=gen).to(device)
                z = torch.randn(shape, generator=gen).to(device)
                # float32: 1e-3, as the posterior-mean route in float32 (diffusers' form, the
                # checker's own route) loses up to 3e-4 relative at t = 0, where beta_0 / (1 -
                # alpha_bar_0) divides 1e-4 by 1 - 0.9999 rounded to float32 (1.2e-4 off here at
                # 1e-4: a correct step failed). A wrong formula still fails the float64 run.
                for dtype, tol in ((torch.float32, 1e-3), (torch.float64, 1e-9)):
                    args = [a.to(dtype) for a in (x_t, eps)]
                    zz = z.to(dtype)
                    # float64 inputs come with a float64 schedule: 1e-9 asks the formula to be
                    # right to float64's precision, which a float32 schedule is not (its
                    # alpha_bar_0 is off by 1.7e-4 relative: a correct step failed at 1e-7)
                    betas = sched if dtype == torch.float32 else sched.double()
                    what = (
                        f"ddpm_sample_step(x_t, eps, z of shape {shape}, {str(dtype)[6:]}, "
                        f"t={t}, betas: {name}, {str(betas.dtype)[6:]})"
                    )
                    got = call_unchanged(
                        impl,
                        what,
                        ("x_t", "eps", "t", "betas", "z"),
                        *args,
                        t,
                        betas,
                        zz,
                        hint="return a new tensor; do not write into x_t, eps, z or betas",
                    )
                    expect_tensor(got, what)
                    expect(
                        tuple(got.shape) == tuple(shape) and got.dtype == dtype,
                        what,
                        f"returned shape {tuple(got.shape)} and dtype {got.dtype}, "
                        f"expected {tuple(shape)} and {dtype}",
                    )
                    want = _posterior_step_truth(args[0], args[1], t, betas, zz)
                    assert_close(got, want, what, atol=tol, rtol=tol, hint=_HINT_STEP)


# --- wrong answers --------------------------------------------------------------------------


def _alpha_bar_exclusive(betas):
    ab = torch.cumprod(1.0 - betas.double(), dim=0)
    return torch.cat([torch.ones(1, dtype=ab.dtype, device=ab.device), ab[:-1]])


def _bcast(v, x0):
    return v.to(x0.dtype).reshape(-1, *([1] * (x0.dim() - 1)))


@fails_with("t = 0 already includes beta_0")
def _wrong_off_by_one(x0, t, noise, betas):
    """Uses alpha_bar up to t-1 (an exclusive cumulative product): alpha_bar[0] = 1."""
    a = _bcast(_alpha_bar_exclusive(betas)[t], x0)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


@fails_with("x_t comes back in x0's dtype")
def _wrong_q_float64_result(x0, t, noise, betas):
    """Takes alpha_bar in float64, as is wise over 1000 factors, and never casts it back: a
    float32 batch comes back float64 (twice the memory, and a dtype the model never sees)."""
    a = torch.cumprod(1.0 - betas.double(), dim=0)[t].reshape(-1, *([1] * (x0.dim() - 1)))
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


@fails_with("dtype=float32) for float64 x0: x_t comes back in x0's dtype")
def _wrong_q_cast_to_float32(x0, t, noise, betas):
    """Casts the result with .float(), float32 as in most training code: right for a float32
    batch, but a float64 x0 comes back float32."""
    a = _bcast(torch.cumprod(1.0 - betas.double(), dim=0)[t], x0)
    return (a.sqrt() * x0 + (1 - a).sqrt() * noise).float()


@fails_with("returned a numpy array(")
def _wrong_q_numpy(x0, t, noise, betas):
    """Computes x_t with numpy, as DDPM's original code does, and returns a numpy array."""
    alpha_bar = np.cumprod(1.0 - betas.detach().cpu().double().numpy())[t.cpu().numpy()]
    a = alpha_bar.reshape(-1, *([1] * (x0.dim() - 1)))
    x, n = x0.detach().cpu().numpy(), noise.detach().cpu().numpy()
    return (np.sqrt(a) * x + np.sqrt(1.0 - a) * n).astype(x.dtype)


@fails_with("accumulated noise sqrt(1 - alpha_bar_t)")
def _wrong_sqrt_beta_noise(x0, t, noise, betas):
    """Scales the noise by sqrt(beta_t), the one-step coefficient, instead of sqrt(1 - alpha_bar_t)."""
    a = _bcast(torch.cumprod(1.0 - betas.double(), dim=0)[t], x0)
    b = _bcast(betas.double()[t], x0)
    return a.sqrt() * x0 + b.sqrt() * noise


@fails_with("the coefficients are square roots")
def _wrong_no_sqrt(x0, t, noise, betas):
    """Uses alpha_bar and 1 - alpha_bar as the coefficients, without the square roots."""
    a = _bcast(torch.cumprod(1.0 - betas.double(), dim=0)[t], x0)
    return a * x0 + (1 - a) * noise


@fails_with("broadcast along the last dimension")
def _wrong_broadcast_last_dim(x0, t, noise, betas):
    """Indexes alpha_bar[t] but does not reshape it: it broadcasts along the last dim, not the batch."""
    a = torch.cumprod(1.0 - betas.double(), dim=0)[t].to(x0.dtype)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


@fails_with("variances do not simply add")
def _wrong_mv_variances_add(x0, t, betas):
    """Adds the per-step variances (var = Σ beta_s) and forgets that each step shrinks the old noise."""
    ab = torch.cumprod(1.0 - betas.double(), dim=0)[t]
    var = torch.cumsum(betas.double(), dim=0)[t]
    return _bcast(ab.sqrt(), x0) * x0, var.to(x0.dtype)


@fails_with("scaled by sqrt(alpha_bar_t), a square root")
def _wrong_mv_no_sqrt_mean(x0, t, betas):
    """Scales the mean by alpha_bar instead of sqrt(alpha_bar)."""
    ab = torch.cumprod(1.0 - betas.double(), dim=0)[t]
    return _bcast(ab, x0) * x0, (1 - ab).to(x0.dtype)


@fails_with("not reshaped to broadcast against x0")
def _wrong_mv_var_keepdims(x0, t, betas):
    """Returns the variance with singleton dims, (N, 1, ...), where (N,) is asked."""
    ab = _bcast(torch.cumprod(1 - betas.double(), 0)[t], x0)
    return ab.sqrt() * x0, 1 - ab


@fails_with("modified its input x0 in place")
def _wrong_mv_in_place(x0, t, betas):
    """Scales x0 in place (x0.mul_) and returns it as the mean: right values, but the caller's
    x0 is overwritten."""
    ab = torch.cumprod(1 - betas.double(), 0)[t]
    return x0.mul_(_bcast(ab.sqrt(), x0).to(x0.dtype)), (1 - ab).to(x0.dtype)


@fails_with("t = 0 already includes beta_0")
def _wrong_mv_off_by_one(x0, t, betas):
    """Uses alpha_bar up to t-1 (an exclusive cumulative product)."""
    ab = _alpha_bar_exclusive(betas)[t]
    return _bcast(ab.sqrt(), x0) * x0, (1 - ab).to(x0.dtype)


@fails_with("expected a pair (mean, var)")
def _wrong_mv_with_log_var(x0, t, betas):
    """Returns improved-diffusion's triple (mean, var, log var) where the pair is asked for."""
    ab = torch.cumprod(1 - betas.double(), 0)[t]
    var = (1 - ab).to(x0.dtype)
    return _bcast(ab.sqrt(), x0) * x0, var, var.log()


@fails_with("returned var as a numpy array")
def _wrong_mv_numpy_schedule(x0, t, betas):
    """Keeps the schedule in numpy, as DDPM's original code does, and returns var as an array."""
    alpha_bar = np.cumprod(1.0 - betas.detach().cpu().double().numpy())[t.cpu().numpy()]
    scale = torch.as_tensor(np.sqrt(alpha_bar), device=x0.device)
    return _bcast(scale, x0) * x0, 1.0 - alpha_bar


def _step_parts(betas, t):
    b = betas.detach().to(torch.float64).cpu()
    return float(b[t]), float(torch.prod(1.0 - b[: t + 1]))


@fails_with("the predicted noise is subtracted with the coefficient beta_t / sqrt(1 - alpha_bar_t)")
def _wrong_step_beta_coefficient(x_t, eps, t, betas, z):
    """Subtracts beta_t * eps instead of beta_t / sqrt(1 - alpha_bar_t) * eps."""
    beta, _ = _step_parts(betas, t)
    mean = (x_t - beta * eps) / math.sqrt(1.0 - beta)
    return mean if t == 0 else mean + math.sqrt(beta) * z


@fails_with("t = 0 is the last sampling step: it returns the mean and adds no noise")
def _wrong_step_noise_at_the_end(x_t, eps, t, betas, z):
    """Adds sigma_t z at every step, the last one (t = 0) included."""
    beta, alpha_bar = _step_parts(betas, t)
    mean = (x_t - beta / math.sqrt(1.0 - alpha_bar) * eps) / math.sqrt(1.0 - beta)
    return mean + math.sqrt(beta) * z


@fails_with("rescales x_t by 1 / sqrt(alpha_t)")
def _wrong_step_alpha_bar_scale(x_t, eps, t, betas, z):
    """Divides by sqrt(alpha_bar_t) instead of sqrt(alpha_t) = sqrt(1 - beta_t)."""
    beta, alpha_bar = _step_parts(betas, t)
    mean = (x_t - beta / math.sqrt(1.0 - alpha_bar) * eps) / math.sqrt(alpha_bar)
    return mean if t == 0 else mean + math.sqrt(beta) * z


@fails_with("sigma_t = sqrt(beta_t), a standard deviation")
def _wrong_step_variance_as_std(x_t, eps, t, betas, z):
    """Scales z by the variance beta_t instead of the standard deviation sqrt(beta_t)."""
    beta, alpha_bar = _step_parts(betas, t)
    mean = (x_t - beta / math.sqrt(1.0 - alpha_bar) * eps) / math.sqrt(1.0 - beta)
    return mean if t == 0 else mean + beta * z


@fails_with("modified its input noise in place")
def _wrong_q_in_place(x0, t, noise, betas):
    """Saves a buffer by scaling noise in place and adding into it: the right x_t, but the
    caller's noise, the training target, now holds x_t."""
    alpha_bar = torch.cumprod(1.0 - betas.to(torch.float64), dim=0)[t.long()]
    alpha_bar = alpha_bar.to(x0.dtype).reshape(-1, *([1] * (x0.dim() - 1)))
    noise *= (1.0 - alpha_bar).sqrt()
    return noise.add_(alpha_bar.sqrt() * x0)


@fails_with("returned a numpy array(")
def _wrong_step_numpy(x_t, eps, t, betas, z):
    """Takes the step with numpy and returns a numpy array in x_t's dtype, not a tensor."""
    b = betas.detach().cpu().double().numpy()
    alpha_bar = np.cumprod(1.0 - b)
    x, e = x_t.detach().cpu().numpy(), eps.detach().cpu().numpy()
    out = (x - b[t] / np.sqrt(1.0 - alpha_bar[t]) * e) / np.sqrt(1.0 - b[t])
    if t > 0:
        out = out + np.sqrt(b[t]) * z.detach().cpu().numpy()
    return out.astype(x.dtype)


WRONG_ANSWERS = {
    "q_sample": [
        _wrong_off_by_one,
        _wrong_sqrt_beta_noise,
        _wrong_no_sqrt,
        _wrong_broadcast_last_dim,
        _wrong_q_in_place,
        _wrong_q_float64_result,
        _wrong_q_cast_to_float32,
        _wrong_q_numpy,
    ],
    "q_mean_var": [
        _wrong_mv_variances_add,
        _wrong_mv_no_sqrt_mean,
        _wrong_mv_off_by_one,
        _wrong_mv_var_keepdims,
        _wrong_mv_in_place,
        _wrong_mv_with_log_var,
        _wrong_mv_numpy_schedule,
    ],
    "ddpm_sample_step": [
        _wrong_step_beta_coefficient,
        _wrong_step_noise_at_the_end,
        _wrong_step_alpha_bar_scale,
        _wrong_step_variance_as_std,
        _wrong_step_numpy,
    ],
}


# --- correct variants -----------------------------------------------------------------------


def _variant_log_space(x0, t, noise, betas):
    """Accumulates log(1 - beta) with cumsum and indexes with view-based broadcasting."""
    log_ab = torch.cumsum(torch.log1p(-betas.double()), dim=0)[t]
    a = torch.exp(log_ab).to(x0.dtype).view(x0.shape[0], *([1] * (x0.dim() - 1)))
    return torch.sqrt(a) * x0 + torch.sqrt(1 - a) * noise


def _variant_mv_as_list(x0, t, betas):
    """Returns the pair as a list, the variance in float64."""
    ab = torch.cumprod(1 - betas.double(), 0)[t]
    return [_bcast(ab.sqrt(), x0) * x0, 1 - ab]


def _variant_step_via_x0(x_t, eps, t, betas, z):
    """Recovers x0 from eps, then takes the posterior mean of q(x_{t-1} | x_t, x0); t as a tensor
    schedule lookup with cumprod."""
    ab = torch.cumprod(1 - betas.double(), 0)
    ab_t = ab[t]
    ab_prev = ab[t - 1] if t > 0 else torch.ones((), dtype=ab.dtype, device=ab.device)
    beta = betas.double()[t]
    x0 = (x_t - (1 - ab_t).sqrt().to(x_t.dtype) * eps) / ab_t.sqrt().to(x_t.dtype)
    c0 = (ab_prev.sqrt() * beta / (1 - ab_t)).to(x_t.dtype)
    ct = ((1 - beta).sqrt() * (1 - ab_prev) / (1 - ab_t)).to(x_t.dtype)
    mean = c0 * x0 + ct * x_t
    return mean + (beta.sqrt().to(x_t.dtype) * z if t > 0 else 0 * z)


def _variant_step_via_x0_in_schedule_dtype(x_t, eps, t, betas, z):
    """The posterior-mean route with the schedule left in its own dtype (float32 for float32
    inputs) and beta_t taken from betas: at t = 0 beta_0 / (1 - alpha_bar_0) divides 1e-4 by
    1 - 0.9999 rounded in float32, 1.2e-4 off relative, which a 1e-4 tolerance refused."""
    alphas = 1 - betas
    abar = torch.cumprod(alphas, 0)
    abar_prev = abar[t - 1] if t > 0 else torch.ones((), dtype=betas.dtype, device=betas.device)
    x0 = (x_t - torch.sqrt(1 - abar[t]) * eps) / torch.sqrt(abar[t])
    c0 = torch.sqrt(abar_prev) * betas[t] / (1 - abar[t])
    ct = torch.sqrt(alphas[t]) * (1 - abar_prev) / (1 - abar[t])
    noise = torch.sqrt(betas[t]) * z if t > 0 else 0
    return (c0 * x0 + ct * x_t + noise).to(x_t.dtype)


CORRECT_VARIANTS = {
    "q_sample": [_variant_log_space],
    "q_mean_var": [_variant_mv_as_list],
    "ddpm_sample_step": [_variant_step_via_x0, _variant_step_via_x0_in_schedule_dtype],
}
