"""GELU (tanh approximation) and SwiGLU: references, checkers and typical mistakes."""

import math

import torch

from studycli.assertions import (
    assert_close,
    call_unchanged,
    describe,
    expect,
    expect_tensor,
    fails_with,
    forbid,
    likely_mistake,
)


def gelu_tanh(x):
    """GELU with the tanh approximation
    (as in BERT and GPT-2), elementwise.

    Args:
        x: float tensor of any shape.

    Returns:
        A new tensor of the shape and dtype of x (x is not modified): the
        same numbers as torch.nn.functional.gelu(x, approximate="tanh").
    """
    # 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))); tanh saturates cleanly for large |x|.
    inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)
    return 0.5 * x * (1.0 + torch.tanh(inner))


def swiglu(x, w, v):
    """The SwiGLU gate of a gated feed-forward layer (Shazeer 2020; LLaMA,
    PaLM), before the down projection.

    Args:
        x: tensor of shape (..., d).
        w: tensor of shape (d, h), the gate projection (the branch that
            goes through the activation).
        v: tensor of shape (d, h), the value projection
            (the linear branch).

    Returns:
        Tensor of shape (..., h).
    """
    # silu(x @ w) * (x @ v), with silu(a) = a * sigmoid(a) (Swish with beta = 1).
    a = x @ w
    return a * torch.sigmoid(a) * (x @ v)


def _likely_mistake(got, known, default):
    return likely_mistake(got, known, default)


SAME_DTYPE = (
    "an activation returns x's dtype (a wider output, float64 for a float32 x or float32 for "
    "a bfloat16 one, doubles the memory of every layer after it; compute wider if you like, "
    "then cast back)"
)


def _call_keeping_input(impl, what, x):
    """`impl(x)`, failing if the answer changed x (the expected values, computed from x after
    the call, are then those of the input given) or returned anything but a tensor of x's
    dtype (assert_close took a numpy array of the right values)."""
    got = call_unchanged(
        impl,
        what,
        ("x",),
        x,
        hint="return a new tensor (x.clamp(...), not x.clamp_(...)): the caller's x must not "
        "change",
    )
    expect_tensor(got, what)
    expect(
        got.dtype == x.dtype,
        what,
        f"returned {str(got.dtype)[6:]} for a {str(x.dtype)[6:]} x: {SAME_DTYPE}",
    )
    return got


def check_gelu_tanh(impl, device="cpu"):
    impl = forbid(impl, "gelu", reason="write the tanh approximation's formula")
    from torch.nn.functional import gelu

    # Known values: gelu(0) = 0, gelu is close to x for large x and to 0 for very negative x.
    x = torch.tensor([0.0, 1.0, -1.0, 3.0, -3.0], device=device)
    what = f"gelu_tanh({describe(x)})"
    got = _call_keeping_input(impl, what, x)
    c = math.sqrt(2.0 / math.pi)
    x64 = x.double().cpu()
    hint = _likely_mistake(
        got,
        [
            (
                0.5 * x64 * (1 + torch.erf(x64 / math.sqrt(2.0))),
                "that is the exact GELU x * Phi(x) (with erf); the card asks for its tanh "
                "approximation",
            ),
            (
                0.5 * x64 * (1 + torch.tanh(c * x64)),
                "the cubic term 0.044715 x^3 is missing inside the tanh",
            ),
            (
                x64 * torch.sigmoid(1.702 * x64),
                "that is the sigmoid approximation x * sigmoid(1.702 x), not the tanh one",
            ),
            (
                0.5 * x64 * (1 + torch.tanh(math.sqrt(2 * math.pi) * (x64 + 0.044715 * x64**3))),
                "the constant in front is sqrt(2/pi) ≈ 0.798, not sqrt(2 pi)",
            ),
        ],
        "must match torch.nn.functional.gelu(x, approximate='tanh')",
    )
    assert_close(got, gelu(x, approximate="tanh"), what, atol=1e-6, rtol=1e-5, hint=hint)

    gen = torch.Generator().manual_seed(0)
    for shape, scale in [
        ((), 1.0),
        ((1,), 1.0),
        ((0,), 1.0),
        ((7,), 2.0),
        ((4, 5), 3.0),
        ((2, 3, 33), 1.0),
        ((1000,), 4.0),
    ]:
        x = (scale * torch.randn(shape, generator=gen)).to(device)
        what = f"gelu_tanh({describe(x)})"
        out = _call_keeping_input(impl, what, x)
        assert_close(
            out,
            gelu(x, approximate="tanh"),
            what,
            atol=1e-6,
            rtol=1e-5,
            hint="the tanh approximation differs from the exact x * Phi(x) by up to ~5e-4",
        )
        expect(tuple(out.shape) == tuple(x.shape), what, f"returned shape {tuple(out.shape)}")

    # A dense grid where the exact and approximate forms differ most, in float64 too.
    x = torch.linspace(-6, 6, 2401, dtype=torch.float64, device=device)
    what = "gelu_tanh(linspace(-6, 6, 2401), float64)"
    got = _call_keeping_input(impl, what, x)
    assert_close(got, gelu(x, approximate="tanh"), what, atol=1e-9, rtol=1e-9)

    # Large magnitudes: no overflow to nan (x^3 is huge, tanh saturates).
    x = torch.tensor([-1e4, -50.0, 50.0, 1e4, 1e12], device=device)
    what = f"gelu_tanh({describe(x)})"
    assert_close(
        _call_keeping_input(impl, what, x),
        gelu(x, approximate="tanh"),
        what,
        atol=1e-6,
        rtol=1e-5,
        hint="for large |x| the result is x (positive) or 0 (negative); avoid inf * 0",
    )


def _call_swiglu(impl, what, x, w, v):
    """`impl(x, w, v)`, failing unless it returned the tensor the interface promises
    (assert_close took a numpy array of the right values), in x's dtype (a float64 result of
    float32 inputs passed), and left x, w and v as they came (the expected values, computed
    after the call, were those of the changed inputs)."""
    got = call_unchanged(impl, what, ("x", "w", "v"), x, w, v)
    expect_tensor(got, what)
    expect(
        got.dtype == x.dtype,
        what,
        f"returned {str(got.dtype)[6:]} for a {str(x.dtype)[6:]} x: {SAME_DTYPE}",
    )
    return got


def check_swiglu(impl, device="cpu"):
    from torch.nn.functional import silu

    # Hand example: d = h = 1, x = 1, w = 2, v = 3: silu(2) * 3.
    x = torch.tensor([[1.0]], device=device)
    w = torch.tensor([[2.0]], device=device)
    v = torch.tensor([[3.0]], device=device)
    what = "swiglu(x=[[1]], w=[[2]], v=[[3]])"

    def silu_(a):
        return a / (1.0 + math.exp(-a))

    got = _call_swiglu(impl, what, x, w, v)
    hint = _likely_mistake(
        got,
        [
            (
                torch.tensor([[3.0 / (1.0 + math.exp(-2.0))]]),
                "the gate is SiLU, a * sigmoid(a), not a plain sigmoid (that is the original GLU)",
            ),
            (
                torch.tensor([[silu_(3.0) * 2.0]]),
                "silu goes on x @ w (the gate projection); x @ v stays linear",
            ),
            (
                torch.tensor([[silu_(6.0)]]),
                "apply silu to x @ w, then multiply by x @ v; silu of the product is something else",
            ),
        ],
        "silu(a) = a * sigmoid(a), applied to x @ w; then multiply by x @ v",
    )
    assert_close(got, torch.tensor([[silu_(2.0) * 3.0]]), what, atol=1e-5, rtol=1e-5, hint=hint)

    gen = torch.Generator().manual_seed(0)
    for batch, d, h in [
        ((1,), 1, 1),
        ((5,), 4, 6),
        ((3, 7), 8, 16),
        ((2, 3, 4), 16, 11),
        ((), 10, 3),
    ]:
        x = torch.randn((*batch, d), generator=gen).to(device)
        w = torch.randn(d, h, generator=gen).to(device)
        v = torch.randn(d, h, generator=gen).to(device)
        what = f"swiglu(x of shape {tuple(x.shape)}, w {tuple(w.shape)}, v {tuple(v.shape)})"
        assert_close(
            _call_swiglu(impl, what, x, w, v),
            silu(x @ w) * (x @ v),
            what,
            atol=1e-5,
            rtol=1e-4,
            hint="the gate is silu(x @ w), not a sigmoid; x @ v stays linear",
        )

    # Large gate pre-activations, a = x @ w in the hundreds (massive activations do occur):
    # silu(a) is a for large a and 0 for very negative a; a * exp(a) / (1 + exp(a)) is inf / inf
    # = nan once exp(a) overflows (a > 88 in float32).
    x = torch.tensor([[1.0, 2.0], [-3.0, 1.0], [0.5, -0.25]], device=device)
    w = torch.tensor([[60.0, -90.0, 0.5], [30.0, 45.0, -1.0]], device=device)
    v = torch.tensor([[1.0, 0.5, 2.0], [-1.0, 1.0, 0.25]], device=device)
    what = f"swiglu(x={describe(x)}, w={describe(w)}, v={describe(v)}) (x @ w from -150 to 315)"
    assert_close(
        _call_swiglu(impl, what, x, w, v),
        silu(x.double() @ w.double()) * (x.double() @ v.double()),
        what,
        atol=1e-5,
        rtol=1e-5,
        hint="silu(a) = a * sigmoid(a) = a / (1 + exp(-a)) is finite for every a; "
        "a * exp(a) / (1 + exp(a)) overflows to inf / inf = nan for large a",
    )

    # bfloat16 inputs, as a feed-forward layer runs under mixed precision: the result comes
    # back in bfloat16 (every case above is float32, where a gate computed in float32 for
    # stability, (x @ w).float(), is x's dtype whether or not it is cast back).
    x = torch.randn(3, 5, 16, generator=gen).to(device, torch.bfloat16)
    w = torch.randn(16, 8, generator=gen).to(device, torch.bfloat16)
    v = torch.randn(16, 8, generator=gen).to(device, torch.bfloat16)
    what = f"swiglu(x {describe(x)}, w {describe(w)}, v {describe(v)})"
    assert_close(  # bfloat16 keeps 8 bits: about 1e-2 relative, on values of a few units
        _call_swiglu(impl, what, x, w, v),
        silu(x.double() @ w.double()) * (x.double() @ v.double()),
        what,
        atol=0.1,
        rtol=3e-2,
        hint="silu(x @ w) * (x @ v)",
    )


# --- wrong answers ----------------------------------------------------------------------------


@fails_with("exact GELU")
def _gelu_exact_erf(x):
    """The exact GELU x * Phi(x) with erf, not the tanh approximation asked for."""
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


@fails_with("cubic term")
def _gelu_no_cubic(x):
    """Drops the 0.044715 x^3 term: 0.5 x (1 + tanh(sqrt(2/pi) x))."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * x))


@fails_with("sigmoid approximation")
def _gelu_sigmoid_approx(x):
    """The sigmoid approximation x * sigmoid(1.702 x) instead of the tanh one."""
    return x * torch.sigmoid(1.702 * x)


@fails_with("sqrt(2/pi)")
def _gelu_sqrt_2pi(x):
    """sqrt(2 pi) instead of sqrt(2 / pi) in front of the bracket."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 * math.pi) * (x + 0.044715 * x**3)))


@fails_with("not a plain sigmoid")
def _swiglu_sigmoid_gate(x, w, v):
    """sigmoid(x @ w) * (x @ v): the original GLU gate, not SiLU."""
    return torch.sigmoid(x @ w) * (x @ v)


@fails_with("silu goes on x @ w")
def _swiglu_swapped(x, w, v):
    """silu(x @ v) * (x @ w): the gate and value projections swapped."""
    a = x @ v
    return a * torch.sigmoid(a) * (x @ w)


@fails_with("silu of the product")
def _swiglu_silu_after_product(x, w, v):
    """silu((x @ w) * (x @ v)): the activation applied after the product."""
    a = (x @ w) * (x @ v)
    return a * torch.sigmoid(a)


@fails_with("overflows to inf / inf = nan")
def _swiglu_exp_ratio(x, w, v):
    """Writes silu(a) as a * exp(a) / (1 + exp(a)): the same function, but exp(a) overflows to
    inf for a gate pre-activation above 88 (float32), and inf / inf is nan."""
    a = x @ w
    return a * torch.exp(a) / (1.0 + torch.exp(a)) * (x @ v)


@fails_with("dtype=float32), expected a torch tensor")
def _swiglu_numpy(x, w, v):
    """Returns the result as a numpy array (computed with numpy), not a tensor."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    a, b = (x @ w).detach().cpu().numpy(), (x @ v).detach().cpu().numpy()
    return a / (1.0 + np.exp(-a)) * b


@fails_with("an activation returns x's dtype")
def _swiglu_upcasts(x, w, v):
    """Computes in float64 for accuracy and returns the float64 result of float32 inputs."""
    a = x.double() @ w.double()
    return a * torch.sigmoid(a) * (x.double() @ v.double())


@fails_with("modified its input x in place")
def _swiglu_scales_input_in_place(x, w, v):
    """Normalises x in place (x.div_) before the projections, changing the caller's x."""
    x.div_(1.5)
    a = x @ w
    return 1.5 * a * torch.sigmoid(1.5 * a) * (1.5 * (x @ v))


@fails_with("returned float32 for a bfloat16 x")
def _swiglu_float32_gate(x, w, v):
    """Computes the gate in float32 for stability ((x @ w).float()) and returns that: right for
    float32 inputs, but bfloat16 inputs get a float32 result."""
    a, b = (x @ w).float(), (x @ v).float()
    return a * torch.sigmoid(a) * b


# --- correct variants -------------------------------------------------------------------------


def _gelu_x_cubed_pow(x):
    """Written with a sigmoid: 0.5 (1 + tanh(u)) = sigmoid(2u)."""
    u = math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3))
    return x * torch.sigmoid(2.0 * u)  # 0.5 (1 + tanh(u)) = sigmoid(2u)


def _swiglu_fused(x, w, v):
    """One matmul with [w | v] concatenated, then split."""
    h = w.shape[1]
    both = x @ torch.cat((w, v), dim=1)
    return torch.nn.functional.silu(both[..., :h]) * both[..., h:]


@fails_with("modified its input x in place")
def _gelu_clamps_input_in_place(x):
    """Clamps x in place (x.clamp_) before the formula: right values, but the caller's x is
    changed."""
    x.clamp_(-20.0, 20.0)
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


@fails_with("dtype=float32), expected a torch tensor")
def _gelu_numpy(x):
    """Computes with numpy on x.numpy() and returns the numpy array, not a tensor."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    a = x.detach().cpu().numpy()
    return 0.5 * a * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (a + 0.044715 * a**3)))


@fails_with("an activation returns x's dtype")
def _gelu_upcasts(x):
    """Computes in float64 for accuracy and returns the float64 result."""
    x = x.double()
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def _gelu_float64_cast_back(x):
    """Computes in float64, then casts back to x's dtype."""
    y = x.double()
    out = 0.5 * y * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (y + 0.044715 * y**3)))
    return out.to(x.dtype)


@fails_with("the answer calls gelu")
def _wrong_calls_library_gelu_tanh(x):
    """Calls F.gelu(approximate="tanh"), the routine the card is about."""
    import torch.nn.functional as F

    return F.gelu(x, approximate="tanh")


@fails_with("the answer runs TorchScript")
def _wrong_scripted_gelu_module(x):
    """Runs torch's own nn.GELU(approximate="tanh") scripted by torch.jit.script, whose
    operations TorchScript ran out of forbid's sight."""
    return torch.jit.script(torch.nn.GELU(approximate="tanh"))(x)


WRONG_ANSWERS = {
    "gelu_tanh": [
        _wrong_calls_library_gelu_tanh,
        _wrong_scripted_gelu_module,
        _gelu_exact_erf,
        _gelu_no_cubic,
        _gelu_sigmoid_approx,
        _gelu_sqrt_2pi,
        _gelu_clamps_input_in_place,
        _gelu_upcasts,
        _gelu_numpy,
    ],
    "swiglu": [
        _swiglu_sigmoid_gate,
        _swiglu_swapped,
        _swiglu_silu_after_product,
        _swiglu_exp_ratio,
        _swiglu_numpy,
        _swiglu_upcasts,
        _swiglu_scales_input_in_place,
        _swiglu_float32_gate,
    ],
}

CORRECT_VARIANTS = {
    "gelu_tanh": [_gelu_x_cubed_pow, _gelu_float64_cast_back],
    "swiglu": [_swiglu_fused],
}
