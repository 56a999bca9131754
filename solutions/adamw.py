"""AdamW (decoupled weight decay) and Adam with an L2 penalty: references, lockstep checkers
against torch.optim, and typical mistakes."""

import torch
from torch.optim import adam, adamw

from studycli.assertions import (
    CheckFailure,
    assert_close,
    call,
    call_unchanged,
    describe,
    expect,
    expect_tensor,
    fails_with,
    forbid,
)


def adamw_step(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
):
    """One step of AdamW (Loshchilov and Hutter), the same numbers as
    torch.optim.AdamW (amsgrad off).

    Args:
        param, grad, exp_avg, exp_avg_sq: float tensors of one shape: the
            parameter, its gradient, and the first and second moment
            estimates m and v before this step (both zero before the first
            step).
        step: the step number t, 1 for the first step.
        lr, betas, eps, weight_decay: the hyperparameters,
            betas = (beta1, beta2).

    Returns:
        (param, exp_avg, exp_avg_sq) after the step, as new tensors in the
        inputs' dtype: the inputs are not modified.
    """
    # Decoupled decay first, on the weights themselves: param * (1 - lr * wd); it never enters
    # m or v. Then Adam: m <- b1 m + (1 - b1) g, v <- b2 v + (1 - b2) g², bias-corrected
    # m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t), param -= lr * m_hat / (sqrt(v_hat) + eps).
    beta1, beta2 = betas
    param = param * (1 - lr * weight_decay)
    exp_avg = beta1 * exp_avg + (1 - beta1) * grad
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
    m_hat = exp_avg / (1 - beta1**step)
    v_hat = exp_avg_sq / (1 - beta2**step)
    param = param - lr * m_hat / (v_hat.sqrt() + eps)
    return param, exp_avg, exp_avg_sq


def adam_l2_step(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
):
    """One step of Adam on the loss plus an L2 penalty (weight_decay / 2)
    ||param||², the same numbers as torch.optim.Adam with its weight_decay
    (amsgrad off).

    Args:
        param, grad, exp_avg, exp_avg_sq: float tensors of one shape: the
            parameter, the gradient of the loss without the penalty, and
            the moments m and v before this step.
        step: the step number t, 1 for the first step.
        lr, betas, eps, weight_decay: the hyperparameters,
            betas = (beta1, beta2).

    Returns:
        (param, exp_avg, exp_avg_sq) after the step, as new tensors in the
        inputs' dtype.
    """
    # The penalty's gradient weight_decay * param joins the loss gradient and goes through the
    # moments and the 1 / (sqrt(v_hat) + eps) rescaling like any other gradient.
    beta1, beta2 = betas
    g = grad + weight_decay * param
    exp_avg = beta1 * exp_avg + (1 - beta1) * g
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
    m_hat = exp_avg / (1 - beta1**step)
    v_hat = exp_avg_sq / (1 - beta2**step)
    return param - lr * m_hat / (v_hat.sqrt() + eps), exp_avg, exp_avg_sq


# --- the checkers: lockstep with torch.optim ----------------------------------------------------

_SETTINGS = [
    # lr, betas, eps, weight_decay, gradient scale, dtype
    (1e-3, (0.9, 0.999), 1e-8, 0.01, 1.0, torch.float64),
    (1e-2, (0.9, 0.999), 1e-8, 0.0, 1.0, torch.float64),
    (0.1, (0.8, 0.99), 1e-8, 0.5, 1.0, torch.float64),  # large lr * wd: decay order matters
    (3e-3, (0.9, 0.95), 1e-3, 0.1, 1.0, torch.float64),  # large eps: where eps goes matters
    (1e-3, (0.9, 0.999), 1e-8, 0.05, 1e-4, torch.float64),  # tiny gradients: v_hat near eps^2
    (1e-3, (0.5, 0.9), 1e-6, 0.02, 1.0, torch.float32),
]


# torch.optim's own update for each optimizer, the function its class calls in step(): the
# same numbers without an optimizer object, whose making imports torch._dynamo (1.4 s in each
# process that checks)
_TORCH_UPDATE = {"AdamW": adamw.adamw, "Adam": adam.adam}


# The routines torch.optim's AdamW and Adam (classes and functions) look up as they step: in
# torch.optim.adam since torch 2.6 (AdamW is Adam with decoupled decay), in adamw before
_TORCH_ROUTINES = [
    (module, name)
    for module in (adam, adamw)
    for name in ("_single_tensor_adam", "_multi_tensor_adam", "_fused_adam")
    + ("_single_tensor_adamw", "_multi_tensor_adamw", "_fused_adamw")
    if hasattr(module, name)
]


_OWN_UPDATE = "the card is the AdamW step itself, written out with tensor operations"


def _without_torch_optim(impl):
    """The answer, with torch.optim's updates refusing while it runs: the card is the update
    itself, and an answer that stepped torch.optim.AdamW on clones of its inputs passed the
    lockstep (a helper's red-team pass); so did one that called the fused kernel those
    updates call, torch._fused_adamw_, or its out-of-place form, which `forbid` refuses."""

    def refused(*args, **kwargs):
        raise CheckFailure(f"the answer calls torch.optim's update: {_OWN_UPDATE}")

    def guarded(*args, **kwargs):
        saved = [(module, name, getattr(module, name)) for module, name in _TORCH_ROUTINES]
        for module, name, _ in saved:
            setattr(module, name, refused)
        try:
            return impl(*args, **kwargs)
        finally:
            for module, name, routine in saved:
                setattr(module, name, routine)

    guarded.__name__ = getattr(impl, "__name__", "impl")
    # (each kernel in place, as torch.optim calls it, and out of place, as aten has it too)
    fused = ("fused_adam", "fused_adam_", "fused_adamw", "fused_adamw_")
    return forbid(guarded, *fused, reason=_OWN_UPDATE)


def _step(impl, what, args, in_place_hint="", dtype_hint=""):
    """One step of the answer on `args` (param, grad, exp_avg, exp_avg_sq, step, lr, betas,
    eps, weight_decay): its inputs left unchanged, three results back, each in the dtype of
    param (the state stays in it, as the optimizer keeps it)."""
    names = ("param", "grad", "exp_avg", "exp_avg_sq")
    out = call_unchanged(impl, what, names, *args, hint=in_place_hint)
    expect(
        isinstance(out, (tuple, list)) and len(out) == 3,
        what,
        f"returned {type(out).__name__}, expected (param, exp_avg, exp_avg_sq)",
    )
    dtype = args[0].dtype
    for part, value in zip(("param", "exp_avg", "exp_avg_sq"), out, strict=True):
        # (a numpy array failed below, "the state stays in the inputs' dtype", in that dtype)
        expect_tensor(value, f"{what} -> {part}")
        expect(
            getattr(value, "dtype", None) == dtype,
            what,
            f"returned {part} as {describe(value)}: the state stays in the inputs' dtype, "
            f"{str(dtype)[6:]}, as the optimizer keeps it",
            hint=dtype_hint,
        )
    return out


def _lockstep(impl, name, optimizer, device, steps=25):
    update = _TORCH_UPDATE[optimizer]
    gen = torch.Generator().manual_seed(0)
    for lr, betas, eps, wd, gscale, dtype in _SETTINGS:
        shape = (3, 7) if dtype == torch.float64 else (17,)
        init = torch.randn(*shape, generator=gen, dtype=dtype).to(device)
        torch_param, torch_m, torch_v = init.clone(), torch.zeros_like(init), torch.zeros_like(init)
        torch_step = torch.tensor(0.0)  # on the CPU, as the class keeps it
        param = init.clone()
        exp_avg = torch.zeros_like(init)
        exp_avg_sq = torch.zeros_like(init)
        tol = dict(atol=1e-12, rtol=1e-9) if dtype == torch.float64 else dict(atol=1e-6, rtol=1e-5)
        settings = (
            f"lr={lr:g}, betas={betas}, eps={eps:g}, weight_decay={wd:g}, dtype={str(dtype)[6:]}"
        )
        for t in range(1, steps + 1):
            grad = gscale * torch.randn(*shape, generator=gen, dtype=dtype).to(device)
            if t % 7 == 0:
                grad = grad * 0  # an occasional zero gradient
            with torch.no_grad():
                update(
                    [torch_param], [grad.clone()], [torch_m], [torch_v], [], [torch_step],
                    amsgrad=False, beta1=betas[0], beta2=betas[1], lr=lr, weight_decay=wd,
                    eps=eps, maximize=False,
                )  # fmt: skip
            what = f"{name}(step={t}, {settings}) in lockstep with torch.optim.{optimizer}"
            out = _step(
                impl, what, (param, grad, exp_avg, exp_avg_sq, t, lr, betas, eps, wd),
                in_place_hint="return new tensors: write param = param * ..., not "
                "param.mul_(...)",
            )  # fmt: skip
            param, exp_avg, exp_avg_sq = out
            assert_close(
                exp_avg,
                torch_m,
                what + ": exp_avg",
                **tol,
                hint="m = b1 m + (1 - b1) g, with the raw gradient"
                + (" plus weight_decay * param" if optimizer == "Adam" else ""),
            )
            assert_close(
                exp_avg_sq,
                torch_v,
                what + ": exp_avg_sq",
                **tol,
                hint="v = b2 v + (1 - b2) g²"
                + (
                    " with g = grad + weight_decay * param: the L2 gradient enters the second "
                    "moment too"
                    if optimizer == "Adam"
                    else ", from the raw gradient"
                ),
            )
            assert_close(
                param,
                torch_param,
                what + ": param",
                **tol,
                hint=_HINTS[optimizer],
            )


_HINTS = {
    "AdamW": (
        "decay first, param * (1 - lr * wd), and never through the gradient; bias-correct "
        "both moments; eps goes outside the square root and after the bias correction: "
        "sqrt(v_hat) + eps"
    ),
    "Adam": (
        "the L2 term wd * param is added to the gradient before the moments, so it is rescaled "
        "by 1 / (sqrt(v_hat) + eps) like the rest"
    ),
}


def _one_step(impl, what, param, grad, lr, eps, weight_decay, device):
    """Call impl for a first step (zero moments, step 1, betas (0.9, 0.999)) on float64 inputs."""
    param = torch.tensor(param, dtype=torch.float64, device=device)
    grad = torch.tensor(grad, dtype=torch.float64, device=device)
    zero = torch.zeros_like(param)
    out = call(
        impl, what, param, grad, zero.clone(), zero.clone(), 1, lr, (0.9, 0.999), eps, weight_decay
    )
    expect(
        isinstance(out, (tuple, list)) and len(out) == 3,
        what,
        f"returned {type(out).__name__}, expected (param, exp_avg, exp_avg_sq)",
    )
    return out


def _same(got, value):
    """Whether the answer's tensor holds value's numbers (float64, to 1e-6 relative)."""
    try:
        got = torch.as_tensor(got).detach().to("cpu", torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return False
    return got.shape == value.shape and torch.allclose(got, value, rtol=1e-6, atol=1e-15)


def _eps_hint(got, g, lr, eps):
    """The hint for a first step (zero moments, betas (0.9, 0.999)) whose param is wrong: the
    mistake whose update the answer's param matches, else the rule."""
    g = torch.tensor(g, dtype=torch.float64)
    bc2 = 1 - 0.999
    # m_hat = g and v_hat = g² at a first step; m = 0.1 g and v = bc2 g² before the correction.
    mistakes = [
        (
            -lr * g / (g * g + eps).sqrt(),
            "eps goes outside the square root: sqrt(v_hat) + eps, not sqrt(v_hat + eps)",
        ),
        (
            -lr * bc2**0.5 / 0.1 * (0.1 * g) / ((bc2 * g * g).sqrt() + eps),
            "eps is added before the bias correction of sqrt(v): the Adam paper's efficient "
            "form, lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t) and param -= lr_t * m / (sqrt(v) + "
            "eps), amounts to sqrt(v_hat) + eps / sqrt(1 - b2^t); torch adds eps after the "
            "correction: lr * m_hat / (sqrt(v_hat) + eps), v_hat = v / (1 - b2^t)",
        ),
    ]
    return next(
        (text for value, text in mistakes if _same(got, value)),
        "param -= lr * m_hat / (sqrt(v_hat) + eps), with m_hat = m / (1 - b1^t) and "
        "v_hat = v / (1 - b2^t): eps outside the square root, added after the bias correction; "
        "at a first step that is lr * g / (|g| + eps)",
    )


def check_adamw_step(impl, device="cpu"):
    impl = _without_torch_optim(impl)
    exact = dict(atol=1e-12, rtol=1e-9)

    # Pure decay: zero gradient and zero moments leave only param * (1 - lr * wd), and the
    # moments stay zero: the decay never enters m or v.
    what = (
        "adamw_step(param=[1, -2, 0.5, 4], grad=0, exp_avg=0, exp_avg_sq=0, step=1, lr=0.1, "
        "betas=(0.9, 0.999), eps=1e-8, weight_decay=0.2)"
    )
    p0 = [1.0, -2.0, 0.5, 4.0]
    out = _one_step(impl, what, p0, [0.0] * 4, 0.1, 1e-8, 0.2, device)
    zero = torch.zeros(4, dtype=torch.float64)
    for label, got in (("exp_avg", out[1]), ("exp_avg_sq", out[2])):
        assert_close(
            got,
            zero,
            f"{what}: {label}",
            atol=0,
            rtol=0,
            hint="the weight decay entered the moment estimates: that is Adam + L2; AdamW's decay "
            "never enters m or v",
        )
    assert_close(
        out[0],
        torch.tensor(p0, dtype=torch.float64) * (1 - 0.1 * 0.2),
        what + ": param",
        **exact,
        hint="with a zero gradient AdamW only shrinks the weights: param * (1 - lr * weight_decay)",
    )

    # First step with eps = 0: m_hat = g and v_hat = g², so the update is lr * g / |g|.
    g = [0.3, -5.0, 1e-3]
    what = (
        "adamw_step(param=0, grad=[0.3, -5, 0.001], zeros, step=1, lr=0.01, betas=(0.9, 0.999), "
        "eps=0, weight_decay=0)"
    )
    out = _one_step(impl, what, [0.0] * 3, g, 0.01, 0.0, 0.0, device)
    assert_close(
        out[0],
        torch.tensor([-0.01, 0.01, -0.01], dtype=torch.float64),
        what + ": param",
        **exact,
        hint="bias correction: with m_hat = m / (1 - b1^t) and v_hat = v / (1 - b2^t) the first "
        "step is lr * g / |g| = lr * sign(g)",
    )

    # Gradients as small as eps: the update is lr * g / (|g| + eps), half of lr at |g| = eps.
    g = [1e-8, -1e-8, 1e-6]
    what = (
        "adamw_step(param=0, grad=[1e-8, -1e-8, 1e-6], zeros, step=1, lr=0.01, "
        "betas=(0.9, 0.999), eps=1e-8, weight_decay=0)"
    )
    out = _one_step(impl, what, [0.0] * 3, g, 0.01, 1e-8, 0.0, device)
    want = torch.tensor([-0.01 * x / (abs(x) + 1e-8) for x in g], dtype=torch.float64)
    assert_close(
        out[0],
        want,
        what + ": param",
        **exact,
        hint=_eps_hint(out[0], g, lr=0.01, eps=1e-8),
    )

    # Order of decay and update: the decay shrinks the weights from before this step's update.
    what = (
        "adamw_step(param=[1, -2], grad=[0.5, 0.5], zeros, step=1, lr=0.1, betas=(0.9, 0.999), "
        "eps=0, weight_decay=0.5)"
    )
    out = _one_step(impl, what, [1.0, -2.0], [0.5, 0.5], 0.1, 0.0, 0.5, device)
    assert_close(
        out[0],
        torch.tensor([0.95 - 0.1, -1.9 - 0.1], dtype=torch.float64),
        what + ": param",
        **exact,
        hint="the decay multiplies the weights from before this step's update: "
        "param * (1 - lr * wd) - lr * m_hat / (sqrt(v_hat) + eps); decaying the updated weights "
        "is off by lr² * wd * update",
    )

    _lockstep(impl, "adamw_step", "AdamW", device)
    _bfloat16_steps(impl, device)


def _bfloat16_steps(impl, device, steps=3):
    """A few steps on bfloat16 state (as mixed-precision training may keep it): the answer
    returns bfloat16, the inputs' dtype, with the numbers of torch's update of the same inputs
    in float64 to bfloat16's precision. (An answer that upcast half-precision inputs to float32
    for the arithmetic and returned that passed every float32 and float64 case.)"""
    gen = torch.Generator().manual_seed(1)
    lr, betas, eps, wd = 1e-2, (0.9, 0.999), 1e-8, 0.1
    param = torch.randn(16, generator=gen).to(device, torch.bfloat16)
    exp_avg, exp_avg_sq = torch.zeros_like(param), torch.zeros_like(param)
    for t in range(1, steps + 1):
        grad = torch.randn(16, generator=gen).to(device, torch.bfloat16)
        what = (
            f"adamw_step(step={t}, lr={lr:g}, betas={betas}, eps={eps:g}, weight_decay={wd:g}) "
            "on bfloat16 param, grad and moments"
        )
        want = [x.double() for x in (param, exp_avg, exp_avg_sq)]
        with torch.no_grad():
            _TORCH_UPDATE["AdamW"](
                want[:1], [grad.double()], want[1:2], want[2:], [], [torch.tensor(t - 1.0)],
                amsgrad=False, beta1=betas[0], beta2=betas[1], lr=lr, weight_decay=wd,
                eps=eps, maximize=False,
            )  # fmt: skip
        out = _step(
            impl, what, (param, grad, exp_avg, exp_avg_sq, t, lr, betas, eps, wd),
            dtype_hint="compute in float32 if you like, then cast back: .to(param.dtype)",
        )  # fmt: skip
        for part, value, expected in zip(
            ("param", "exp_avg", "exp_avg_sq"), out, want, strict=True
        ):
            assert_close(
                value, expected, f"{what}: {part}", atol=2e-2, rtol=2e-2, hint=_HINTS["AdamW"]
            )
        param, exp_avg, exp_avg_sq = out


def check_adam_l2_step(impl, device="cpu"):
    _lockstep(_without_torch_optim(impl), "adam_l2_step", "Adam", device)


# --- wrong answers ----------------------------------------------------------------------------


@fails_with("the weight decay entered the moment estimates")
def _adam_plus_l2(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
):
    """Adam + L2: adds weight_decay * param to the gradient instead of decoupled decay."""
    return adam_l2_step(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay)


@fails_with("bias correction")
def _no_bias_correction(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
):
    """Uses m and v directly, without dividing by 1 - beta^t."""
    beta1, beta2 = betas
    param = param * (1 - lr * weight_decay)
    exp_avg = beta1 * exp_avg + (1 - beta1) * grad
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
    return param - lr * exp_avg / (exp_avg_sq.sqrt() + eps), exp_avg, exp_avg_sq


@fails_with("weights from before this step's update")
def _decay_after_update(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
):
    """Applies the decay to the already updated weights (after the Adam step, not before)."""
    beta1, beta2 = betas
    exp_avg = beta1 * exp_avg + (1 - beta1) * grad
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
    m_hat = exp_avg / (1 - beta1**step)
    v_hat = exp_avg_sq / (1 - beta2**step)
    param = param - lr * m_hat / (v_hat.sqrt() + eps)
    return param * (1 - lr * weight_decay), exp_avg, exp_avg_sq


@fails_with("eps goes outside the square root")
def _eps_inside_sqrt(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
):
    """Puts eps inside the square root: sqrt(v_hat + eps) instead of sqrt(v_hat) + eps."""
    beta1, beta2 = betas
    param = param * (1 - lr * weight_decay)
    exp_avg = beta1 * exp_avg + (1 - beta1) * grad
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
    m_hat = exp_avg / (1 - beta1**step)
    v_hat = exp_avg_sq / (1 - beta2**step)
    return param - lr * m_hat / (v_hat + eps).sqrt(), exp_avg, exp_avg_sq


@fails_with("eps is added before the bias correction of sqrt(v)")
def _eps_before_bias_correction(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
):
    """The Adam paper's efficient form, lr_t = lr sqrt(1 - b2^t) / (1 - b1^t) and
    param -= lr_t m / (sqrt(v) + eps): eps is added before sqrt(v)'s bias correction."""
    beta1, beta2 = betas
    param = param * (1 - lr * weight_decay)
    exp_avg = beta1 * exp_avg + (1 - beta1) * grad
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
    lr_t = lr * (1 - beta2**step) ** 0.5 / (1 - beta1**step)
    return param - lr_t * exp_avg / (exp_avg_sq.sqrt() + eps), exp_avg, exp_avg_sq


@fails_with("param * (1 - lr * weight_decay)")
def _decay_without_lr(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
):
    """Shrinks by (1 - weight_decay) instead of (1 - lr * weight_decay)."""
    p, m, v = adamw_step(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, 0.0)
    return p - weight_decay * param, m, v


@fails_with("modified its input param in place")
def _in_place(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
):
    """Right numbers, but updates param, exp_avg and exp_avg_sq in place (like the optimizer)."""
    beta1, beta2 = betas
    param.mul_(1 - lr * weight_decay)
    exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    denom = (exp_avg_sq / (1 - beta2**step)).sqrt().add_(eps)
    param.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1**step))
    return param, exp_avg, exp_avg_sq


@fails_with("the state stays in the inputs' dtype")
def _upcast(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
):
    """Steps in float64 (param.double(), ...) for accuracy and returns float64 tensors for
    float32 inputs: the weights and moments silently double in size."""
    tensors = (t.double() for t in (param, grad, exp_avg, exp_avg_sq))
    return adamw_step(*tensors, step, lr, betas, eps, weight_decay)


@fails_with("the state stays in the inputs' dtype, bfloat16")
def _half_upcast(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
):
    """Upcasts half-precision inputs to float32 for the arithmetic (as mixed precision does)
    and returns the float32 results: bfloat16 state comes back float32."""
    if param.dtype in (torch.float16, torch.bfloat16):
        param, grad, exp_avg, exp_avg_sq = (t.float() for t in (param, grad, exp_avg, exp_avg_sq))
    return adamw_step(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay)


@fails_with("the state stays in the inputs' dtype")
def _l2_upcast(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
):
    """Adam + L2 stepped in float64 and returned so for float32 inputs."""
    tensors = (t.double() for t in (param, grad, exp_avg, exp_avg_sq))
    return adam_l2_step(*tensors, step, lr, betas, eps, weight_decay)


@fails_with("-> param: returned a numpy array")
def _numpy_state(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
):
    """AdamW stepped with numpy, the three returned as numpy arrays, not tensors."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    p, g, m, v = (t.detach().cpu().numpy() for t in (param, grad, exp_avg, exp_avg_sq))
    beta1, beta2 = betas
    p = p * (1 - lr * weight_decay)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    p = p - lr * (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + eps)
    return p, m, v


@fails_with("-> param: returned a numpy array")
def _l2_numpy_state(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
):
    """Adam + L2 stepped with numpy, the three returned as numpy arrays, not tensors."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    p, g, m, v = (t.detach().cpu().numpy() for t in (param, grad, exp_avg, exp_avg_sq))
    beta1, beta2 = betas
    g = g + weight_decay * p
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    p = p - lr * (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + eps)
    return p, m, v


@fails_with("enters the second moment too")
def _l2_through_m_only(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
):
    """Adds the L2 gradient to the first moment but builds v from the raw gradient."""
    beta1, beta2 = betas
    exp_avg = beta1 * exp_avg + (1 - beta1) * (grad + weight_decay * param)
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
    m_hat = exp_avg / (1 - beta1**step)
    v_hat = exp_avg_sq / (1 - beta2**step)
    return param - lr * m_hat / (v_hat.sqrt() + eps), exp_avg, exp_avg_sq


@fails_with("plus weight_decay * param")
def _l2_as_decoupled(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
):
    """Treats the L2 penalty as decoupled decay (that is AdamW, not Adam + L2)."""
    return adamw_step(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay)


# --- correct variants -------------------------------------------------------------------------


def _torch_form(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
):
    """torch's own arrangement: step_size = lr / bc1, denom = sqrt(v) / sqrt(bc2) + eps, on clones."""
    beta1, beta2 = betas
    param, exp_avg, exp_avg_sq = param.clone(), exp_avg.clone(), exp_avg_sq.clone()
    param.mul_(1 - lr * weight_decay)
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    denom = (exp_avg_sq.sqrt() / (1 - beta2**step) ** 0.5).add_(eps)
    param.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1**step))
    return [param, exp_avg, exp_avg_sq]


@fails_with("the answer calls torch.optim's update")
def _calls_torch_optim(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    step: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
):
    """Has torch.optim's AdamW take the step, on clones, instead of writing it out."""
    param, exp_avg, exp_avg_sq = param.clone(), exp_avg.clone(), exp_avg_sq.clone()
    with torch.no_grad():
        adamw.adamw(
            [param], [grad], [exp_avg], [exp_avg_sq], [], [torch.tensor(float(step - 1))],
            amsgrad=False, beta1=betas[0], beta2=betas[1], lr=lr, weight_decay=weight_decay,
            eps=eps, maximize=False,
        )  # fmt: skip
    return [param, exp_avg, exp_avg_sq]


@fails_with("the answer calls _fused_adamw_: the card is the AdamW step itself")
def _calls_fused_kernel(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay):
    """Hands copies to torch._fused_adamw_, the kernel behind torch.optim.AdamW(fused=True),
    past the refusal of torch.optim's Python updates."""
    p, m, v = param.clone(), exp_avg.clone(), exp_avg_sq.clone()
    steps = [torch.tensor(float(step), dtype=torch.float32, device=param.device)]
    torch._fused_adamw_(
        [p],
        [grad.clone()],
        [m],
        [v],
        [],
        steps,
        lr=lr,
        beta1=betas[0],
        beta2=betas[1],
        weight_decay=weight_decay,
        eps=eps,
        amsgrad=False,
        maximize=False,
    )
    return p, m, v


@fails_with("the answer calls _fused_adamw: the card is the AdamW step itself")
def _calls_fused_kernel_out_of_place(
    param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay
):
    """The fused kernel's out-of-place form, torch.ops.aten._fused_adamw, which returns new
    tensors and leaves its inputs alone: past a refusal of the in-place one."""
    steps = [torch.tensor(float(step), dtype=torch.float32, device=param.device)]
    p, _, m, v, _ = torch.ops.aten._fused_adamw(
        [param],
        [grad],
        [exp_avg],
        [exp_avg_sq],
        [],
        steps,
        lr=lr,
        beta1=betas[0],
        beta2=betas[1],
        weight_decay=weight_decay,
        eps=eps,
        amsgrad=False,
        maximize=False,
    )
    return p[0], m[0], v[0]


WRONG_ANSWERS = {
    "adamw_step": [
        _calls_torch_optim,
        _calls_fused_kernel,
        _calls_fused_kernel_out_of_place,
        _adam_plus_l2,
        _no_bias_correction,
        _decay_after_update,
        _eps_inside_sqrt,
        _eps_before_bias_correction,
        _decay_without_lr,
        _in_place,
        _upcast,
        _half_upcast,
        _numpy_state,
    ],
    "adam_l2_step": [_l2_as_decoupled, _l2_through_m_only, _l2_upcast, _l2_numpy_state],
}

CORRECT_VARIANTS = {"adamw_step": [_torch_form]}
