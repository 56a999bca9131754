"""Smooth L1 (Huber-like) loss, the box-regression loss of Fast/Faster R-CNN."""

import torch
import torch.nn.functional as F

from studycli.assertions import (
    GRAPH_HINT,
    assert_close,
    call,
    call_unchanged,
    describe,
    expect,
    expect_tensor,
    fails_with,
    forbid,
)


def smooth_l1(x, beta: float = 1.0):
    """Elementwise smooth L1 of the residual `x`.

        smooth_l1(x) = 0.5 * x**2 / beta    where |x| < beta
                       |x| - 0.5 * beta     otherwise

    The two pieces meet with equal value and slope at |x| = beta.

    Args:
        x: tensor of any shape (the residual prediction - target).
        beta: the positive width of the quadratic zone.

    Returns:
        A tensor of the same shape and dtype as x (no reduction).
    """
    ax = x.abs()
    return torch.where(ax < beta, 0.5 * x * x / beta, ax - 0.5 * beta)


# --- checker --------------------------------------------------------------------------------


# Models of the usual mistakes (x, beta -> values) and the hint naming each one.
_MISTAKES = (
    (
        lambda x, b: torch.where(x.abs() < b, 0.5 * x * x, x.abs() - 0.5 * b),
        "the quadratic piece is not divided by beta: inside |x| < beta it is 0.5 x^2 / beta",
    ),
    (
        lambda x, b: torch.where(x.abs() < b, 0.5 * x * x / b, x.abs() - 0.5),
        "the linear piece subtracts 0.5 instead of 0.5 beta (the two agree only for beta = 1)",
    ),
    (
        lambda x, b: torch.where(x.abs() < b, 0.5 * x * x / b, x.abs()),
        "the linear piece lacks its offset: outside the zone it is |x| - 0.5 beta, so that the "
        "pieces meet at |x| = beta",
    ),
)


def _diagnose(got, x, beta, hint):
    if tuple(got.shape) != tuple(x.shape):
        return "return one value per element, of x's shape: no mean or sum (no reduction)"
    for model, text in _MISTAKES:
        if torch.allclose(
            got.detach().double().cpu(), model(x, beta).double().cpu(), atol=1e-9, rtol=1e-6
        ):
            return text
    return hint or "inside |x| < beta it is 0.5 x^2 / beta; outside it is |x| - 0.5 beta"


SAME_DTYPE = (
    "the loss comes back in the inputs' dtype (a float64 loss runs the backward pass in float64 "
    "too; compute in float64 if you like, then cast back)"
)


def _compare(impl, x, beta, hint=""):
    what = f"smooth_l1({describe(x)}, beta={beta:g})"
    got = call(impl, what, x.clone(), beta)
    expect_tensor(got, what)  # (a numpy array has a shape, and failed below on a dtype it had)
    expect(
        getattr(got, "dtype", None) == x.dtype,
        what,
        f"returned {describe(got)} for {str(x.dtype)[6:]} x: {SAME_DTYPE}",
    )
    want = F.smooth_l1_loss(x, torch.zeros_like(x), reduction="none", beta=beta)
    double = x.dtype == torch.float64
    atol, rtol = (1e-9, 1e-7) if double else (1e-6, 1e-5)
    same = tuple(got.shape) == tuple(want.shape) and torch.allclose(
        got.detach().double().cpu(), want.double().cpu(), atol=atol, rtol=rtol
    )
    if not same:
        hint = _diagnose(got, x, beta, hint)
    assert_close(got, want, what, atol=atol, rtol=rtol, hint=hint)


def check_smooth_l1(impl, device="cpu") -> None:
    # Fixed points around the knee, for several widths, including Faster R-CNN's beta = 1/9.
    impl = forbid(
        impl, "smooth_l1_loss", "huber_loss", reason="write the two pieces of the formula yourself"
    )
    for beta in (1.0, 0.5, 2.0, 3.0, 1 / 9):
        pts = [
            0.0,
            0.25 * beta,
            -0.5 * beta,
            0.99 * beta,
            beta,
            -beta,
            1.01 * beta,
            2 * beta,
            -3.5 * beta,
            10.0,
        ]
        x = torch.tensor(pts, dtype=torch.float64, device=device)
        _compare(
            impl,
            x,
            beta,
            hint="inside |x| < beta it is 0.5 x^2 / beta; outside it is |x| - 0.5 beta",
        )
    gen = torch.Generator().manual_seed(0)
    for shape in [(1,), (7,), (3, 5), (2, 3, 4), (4, 1, 6)]:
        for beta in (1.0, 0.3, 2.5):
            x = (torch.randn(shape, generator=gen) * 2 * beta).to(device)
            _compare(impl, x, beta)
            _compare(impl, x.double(), beta)
    # Large residuals stay linear (and finite).
    x = torch.tensor([-1e4, -50.0, 50.0, 1e4], device=device)
    _compare(impl, x, 1.0)
    # The input must not be modified in place.
    x = torch.randn(10, generator=gen).to(device)
    call_unchanged(
        impl,
        f"smooth_l1({describe(x)}, beta=1)",
        ("x",),
        x,
        1.0,
        hint="return a new tensor: x.abs(), not x.abs_(), which overwrites the caller's x",
    )
    _check_default_beta(impl, device)
    _check_gradient(impl, gen, device)


def _check_default_beta(impl, device) -> None:
    """Called without beta, it is 1: Faster R-CNN's 1/9 is its caller's choice."""
    x = torch.tensor([-2.0, -0.5, 0.0, 0.3, 0.9, 1.5], dtype=torch.float64, device=device)
    what = f"smooth_l1({describe(x)})"
    got = call(impl, what, x.clone())
    expect_tensor(got, what)
    want = F.smooth_l1_loss(x, torch.zeros_like(x), reduction="none")
    hint = "beta defaults to 1.0, as the card's signature smooth_l1(x, beta=1.0) says"
    assert_close(got, want, what, atol=1e-9, rtol=1e-7, hint=hint)


def _check_gradient(impl, gen, device) -> None:
    """A loss is backpropagated: its gradient in x is x / beta in the zone, sign(x) outside."""
    x = (torch.randn(12, generator=gen, dtype=torch.float64) * 2).to(device).requires_grad_()
    what = f"the gradient of smooth_l1({describe(x)}, beta=0.5).sum() in x"
    got = call(impl, what, x, 0.5)
    expect(
        getattr(got, "requires_grad", False),
        what,
        "the result carries no gradient (was it computed outside autograd, e.g. with numpy, "
        ".item() or .tolist()?)",
        hint=GRAPH_HINT,
    )
    got.sum().backward()
    expect(x.grad is not None, what, "no gradient reached x", hint=GRAPH_HINT)
    want = (x.detach() / 0.5).clamp(-1.0, 1.0)
    assert_close(x.grad, want, what, atol=1e-9, rtol=1e-7, hint=GRAPH_HINT)


# --- wrong answers --------------------------------------------------------------------------


@fails_with("not divided by beta")
def _wrong_no_divide_by_beta(x, beta=1.0):
    """Forgets to divide the quadratic part by beta: 0.5 x^2 inside the zone."""
    ax = x.abs()
    return torch.where(ax < beta, 0.5 * x * x, ax - 0.5 * beta)


@fails_with("subtracts 0.5 instead of 0.5 beta")
def _wrong_offset_half(x, beta=1.0):
    """Subtracts 0.5 instead of 0.5 * beta in the linear part (only right for beta = 1)."""
    ax = x.abs()
    return torch.where(ax < beta, 0.5 * x * x / beta, ax - 0.5)


@fails_with("lacks its offset")
def _wrong_no_offset(x, beta=1.0):
    """Leaves out the 0.5 * beta offset: |x| outside the zone, so the pieces do not meet."""
    ax = x.abs()
    return torch.where(ax < beta, 0.5 * x * x / beta, ax)


@fails_with("no reduction")
def _wrong_mean(x, beta=1.0):
    """Reduces to the mean, as the loss's default reduction does, instead of elementwise values."""
    ax = x.abs()
    return torch.where(ax < beta, 0.5 * x * x / beta, ax - 0.5 * beta).mean()


@fails_with("the answer calls huber_loss")
def _wrong_calls_huber(x, beta=1.0):
    """Calls F.huber_loss with delta = beta and divides by beta: the same loss, from the
    library (the prompt names it as refused too)."""
    return F.huber_loss(x, torch.zeros_like(x), reduction="none", delta=beta) / beta


@fails_with("the answer calls smooth_l1_loss")
def _wrong_calls_library(x, beta=1.0):
    """Calls F.smooth_l1_loss, the routine the card is about."""
    import torch
    import torch.nn.functional as F

    return F.smooth_l1_loss(x, torch.zeros_like(x), reduction="none", beta=beta)


@fails_with("modified its input x in place")
def _wrong_abs_in_place(x, beta=1.0):
    """Takes |x| in place (x.abs_()): the losses are right (x * x is unchanged by it), and the
    caller's residuals lose their signs."""
    ax = x.abs_()
    return torch.where(ax < beta, 0.5 * x * x / beta, ax - 0.5 * beta)


@fails_with("the loss comes back in the inputs' dtype")
def _wrong_upcast(x, beta=1.0):
    """Computes in float64 (x.double()) and returns float64 losses for float32 residuals."""
    return smooth_l1(x.double(), beta)


@fails_with("returned a numpy array")
def _wrong_numpy(x, beta=1.0):
    """Computes with numpy and returns a numpy array in x's dtype, not a tensor."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    xn = x.detach().cpu().numpy()
    ax = np.abs(xn)
    return np.where(ax < beta, 0.5 * xn * xn / beta, ax - 0.5 * beta)


@fails_with("beta defaults to 1.0")
def _wrong_default_ninth(x, beta=1 / 9):
    """Gives beta Faster R-CNN's RPN value, 1/9, as its default instead of the card's 1.0."""
    ax = x.abs()
    return torch.where(ax < beta, 0.5 * x * x / beta, ax - 0.5 * beta)


@fails_with("the result carries no gradient")
def _wrong_python_floats(x, beta=1.0):
    """Loops over x.tolist() in Python floats and builds a new tensor of the values: right
    numbers in x's dtype, cut off from autograd, so a box regressor would never learn."""
    flat = x.reshape(-1).tolist()
    values = [0.5 * v * v / beta if abs(v) < beta else abs(v) - 0.5 * beta for v in flat]
    return torch.tensor(values, dtype=x.dtype, device=x.device).reshape(x.shape)


WRONG_ANSWERS = {
    "smooth_l1": [
        _wrong_default_ninth,
        _wrong_python_floats,
        _wrong_upcast,
        _wrong_calls_library,
        _wrong_calls_huber,
        _wrong_no_divide_by_beta,
        _wrong_offset_half,
        _wrong_no_offset,
        _wrong_mean,
        _wrong_abs_in_place,
        _wrong_numpy,
    ],
}


# --- correct variants -----------------------------------------------------------------------


def _variant_le(x, beta=1.0):
    """Uses <= at the knee: both pieces equal 0.5 beta at |x| = beta, so this is also right."""
    ax = x.abs()
    return torch.where(ax <= beta, 0.5 * x * x / beta, ax - 0.5 * beta)


def _variant_clamp(x, beta=1.0):
    """Huber form: with q = min(|x|, beta), loss = q (|x| - 0.5 q) / beta."""
    ax = x.abs()
    q = ax.clamp(max=beta)
    return q * (ax - 0.5 * q) / beta


CORRECT_VARIANTS = {"smooth_l1": [_variant_le, _variant_clamp]}
