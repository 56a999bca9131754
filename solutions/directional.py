"""Directional derivative, gradient and the direction of steepest ascent, with autograd.

For differentiable f, the rate of change at x along the unit vector u is D_u f(x) = grad f(x) . u;
along a non-unit v it is grad f(x) . v / ‖v‖. By Cauchy-Schwarz it is largest, equal to
‖grad f(x)‖, for u = grad f(x) / ‖grad f(x)‖.
"""

from functools import partial

import torch

from studycli.assertions import (
    assert_close,
    call_unchanged,
    describe,
    expect,
    expect_pair,
    expect_tensor,
    fails_with,
)


def directional_derivative(f, x, v) -> float:
    """The rate of change of f at x, per
    unit of distance, in the direction of v.

    Use autograd (torch.autograd.grad, .backward() or torch.func), not a
    finite difference: f must be evaluated at x itself only.

    Args:
        f: a Python callable taking a float tensor of shape (n,) and
            returning a 0-d tensor, built from differentiable torch
            operations.
        x: float tensor (n,), the point; it does not require grad on
            entry, nor on return.
        v: float tensor (n,), non-zero, of the same dtype as x; any length
            (only its direction matters). x and v are left unchanged.

    Returns:
        A Python float. Example: f(x, y) = x^2 + y^2 at (1, 2) in the
        direction of (3, 4) gives 4.4.
    """
    # grad f(x) . v / ‖v‖: the gradient dotted with the unit vector of v.
    point = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(point), point)
    unit = v.detach().to(grad.dtype) / v.detach().to(grad.dtype).pow(2).sum().sqrt()
    return float((grad * unit).sum())


class _Tracked:
    """Wraps a test function: records how far from x0 every evaluation point is."""

    def __init__(self, fn, x0):
        self.fn, self.x0, self.max_offset, self.calls = fn, x0.detach().clone(), 0.0, 0

    def __call__(self, x):
        self.calls += 1
        try:
            offset = float((x.detach().to(self.x0.dtype) - self.x0).abs().max())
            self.max_offset = max(self.max_offset, offset)
        except Exception:
            pass
        return self.fn(x)


def _cases(device):
    """(name, f, grad_f, x, v) with the gradient in closed form."""
    gen = torch.Generator().manual_seed(0)
    cases = []

    def rnd(*shape, scale=1.0):
        return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).to(device)

    for n in (1, 2, 3, 5, 8, 16):
        M = rnd(n, n)
        M = (M + M.T) / 2
        w = rnd(n)
        a = rnd(n)

        def f(x, M=M, w=w, a=a):
            return 0.5 * x @ M @ x + (w * torch.sin(x)).sum() + torch.log1p(torch.exp(a @ x))

        def grad(x, M=M, w=w, a=a):
            return M @ x + w * torch.cos(x) + torch.sigmoid(a @ x) * a

        for _ in range(2):
            x, v = rnd(n), rnd(n, scale=3.0)
            cases.append(
                (f"f(x) = 1/2 x^T M x + w . sin(x) + softplus(a . x), n={n}", f, grad, x, v)
            )
    # Large values in float32: a finite difference loses most of its digits here.
    for n in (2, 6):
        x = (8.0 + torch.rand(n, generator=gen, dtype=torch.float64)).to(
            device=device, dtype=torch.float32
        )
        v = rnd(n).to(torch.float32)
        cases.append(
            (f"f(x) = sum(exp(x)) (float32), n={n}", lambda x: torch.exp(x).sum(), torch.exp, x, v)
        )
    # Product of coordinates: every coordinate matters.
    x = torch.tensor([0.5, -1.5, 2.0, 1.25], dtype=torch.float64, device=device)
    v = torch.tensor([1.0, 2.0, -2.0, 0.5], dtype=torch.float64, device=device)
    cases.append(
        (
            "f(x) = prod(x)",
            lambda x: torch.prod(x),
            lambda x: torch.stack(
                [torch.prod(torch.cat([x[:i], x[i + 1 :]])) for i in range(len(x))]
            ),
            x,
            v,
        )
    )
    return cases


def _directional_hint(got, g, v, tol):
    """Name the classic mistake whose value matches the learner's, if one does."""
    try:
        got = float(got)
    except (TypeError, ValueError, RuntimeError):
        return "return one number, a Python float"
    known = [
        (
            float(g @ v),
            "that is grad f . v with v unnormalised: the rate per unit of distance "
            "uses the unit vector v / ‖v‖",
        ),
        (
            float(g.norm()),
            "that is ‖grad f‖, the derivative along the gradient itself, whatever "
            "v is: dot grad f with v / ‖v‖",
        ),
    ]
    for value, text in known:
        if (
            abs(got - value) <= tol[1] + tol[0] * abs(value)
            and abs(value - float(g @ v / v.norm())) > tol[1]
        ):
            return text
    return "use autograd for grad f(x), then dot it with v / ‖v‖"


def _expect_autograd(tracked, what: str) -> None:
    """That the answer evaluated f (`tracked`) at x only: anywhere else is a finite difference."""
    expect(
        tracked.max_offset == 0.0,
        what,
        f"f was evaluated at a point {tracked.max_offset:.3g} away from x: that is a finite "
        "difference; the card asks for autograd",
        hint="make a leaf copy of x with requires_grad=True, evaluate f once, "
        "and take torch.autograd.grad",
    )


IN_PLACE = (
    "leave x and v as they came: differentiate a leaf copy, p = x.detach().clone()"
    ".requires_grad_(True), and divide into a new tensor, v / v.norm(), not v /= v.norm()"
)


def check_directional_derivative(impl, device="cpu") -> None:
    def paraboloid(p):
        return p[0] ** 2 + p[1] ** 2

    x = torch.tensor([1.0, 2.0], device=device)
    cases = [
        ("x^2 + y^2", paraboloid, lambda p: 2 * p, x, torch.tensor(v, device=device))
        for v in ([3.0, 4.0], [1.0, 0.0], [30.0, 40.0], [0.0, -2.0])
    ]
    for name, fn, grad_fn, x, v in cases + _cases(device):
        tracked = _Tracked(fn, x)
        what = f"directional_derivative({name}, x={describe(x)}, v={describe(v)})"
        x_in, v_in = x.clone(), v.clone()
        got = call_unchanged(partial(impl, tracked), what, ("x", "v"), x_in, v_in, hint=IN_PLACE)
        expect(
            not x_in.requires_grad,
            what,
            "the caller's x requires grad after the call: requires_grad_ was called on it",
            hint=IN_PLACE,
        )
        # Where f was evaluated comes first: a finite difference is the wrong method even when
        # its number happens to be close.
        _expect_autograd(tracked, what)
        expect(tracked.calls >= 1, what, "never called f")
        g = grad_fn(x.double())
        vd = v.double()
        want = float(g @ vd / vd.norm())
        # float32 inputs: the dot product may cancel, so the absolute tolerance scales with ‖g‖.
        tol = (1e-5, 1e-5 * float(g.norm())) if x.dtype == torch.float32 else (1e-8, 1e-10)
        assert_close(
            got, want, what, rtol=tol[0], atol=tol[1], hint=_directional_hint(got, g, vd, tol)
        )


@fails_with("with v unnormalised")
def _wrong_unnormalised(f, x, v) -> float:
    """Forgets to normalise v: returns grad f . v instead of grad f . v / ‖v‖."""
    point = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(point), point)
    return float(grad @ v)


@fails_with("that is a finite difference")
def _wrong_forward_difference(f, x, v) -> float:
    """A forward finite difference with step 1e-4 instead of autograd."""
    u = v / v.norm()
    h = 1e-4
    return float((f(x + h * u) - f(x)) / h)


@fails_with("the derivative along the gradient itself")
def _wrong_gradient_norm(f, x, v) -> float:
    """Returns ‖grad f‖, the largest directional derivative, whatever v is."""
    point = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(point), point)
    return float(grad.norm())


@fails_with("modified its input v in place")
def _wrong_normalises_v_in_place(f, x, v) -> float:
    """Normalises v in place (v /= v.norm()): the right number, but the caller's v is changed."""
    point = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(point), point)
    v /= v.norm()
    return float(grad @ v)


@fails_with("requires_grad_ was called on it")
def _wrong_requires_grad_on_x(f, x, v) -> float:
    """Calls requires_grad_ on the caller's x instead of a detached copy."""
    x.requires_grad_(True)
    (grad,) = torch.autograd.grad(f(x), x)
    return float(grad @ (v / v.norm()))


def _variant_backward(f, x, v) -> float:
    """.backward() on a leaf copy, norm with torch.linalg.vector_norm."""
    point = x.detach().clone()
    point.requires_grad_()
    f(point).backward()
    return (point.grad @ (v / torch.linalg.vector_norm(v))).item()


def _variant_forward_mode(f, x, v) -> float:
    """Forward-mode autograd: a Jacobian-vector product with torch.func.jvp."""
    _, tangent = torch.func.jvp(f, (x,), (v / v.norm(),))
    return float(tangent)


def _variant_line_restriction(f, x, v):
    """Differentiates g(t) = f(x + t u) at t = 0; returns a 0-d tensor."""
    t = torch.zeros((), dtype=x.dtype, device=x.device, requires_grad=True)
    u = v / v.norm()
    (dt,) = torch.autograd.grad(f(x + t * u), t)
    return dt.detach()


# --------------------------------------------------------------------------------------------
# steepest_ascent (the derivation)
# --------------------------------------------------------------------------------------------


def steepest_ascent(f, x):
    """The direction of steepest ascent of f at x
    and the rate of increase along it.

    Use autograd, not a finite difference: f must be evaluated at x itself
    only.

    Args:
        f: a Python callable taking a float tensor of shape (n,) and
            returning a 0-d tensor.
        x: float tensor (n,), a point where grad f(x) is not zero; it does
            not require grad on entry, nor on return, and is left
            unchanged.

    Returns:
        (u, rate): u is the unit vector (tensor (n,)) that maximises the
        directional derivative D_u f(x), and rate = D_u f(x) for that u, a
        Python float.
    """
    point = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(point), point)
    norm = grad.pow(2).sum().sqrt()
    return grad / norm, float(norm)


X_IN_PLACE = (
    "leave x as it came: differentiate a leaf copy, p = x.detach().clone().requires_grad_(True)"
)


def check_steepest_ascent(impl, device="cpu") -> None:
    def paraboloid(p):
        return p[0] ** 2 + p[1] ** 2

    x = torch.tensor([1.0, 2.0], dtype=torch.float64, device=device)
    cases = [(paraboloid, lambda p: 2 * p, x, "x^2 + y^2")]
    cases += [(fn, grad_fn, x0, name) for name, fn, grad_fn, x0, _ in _cases(device)]
    gen = torch.Generator().manual_seed(5)
    for fn, grad_fn, x0, name in cases:
        what = f"steepest_ascent({name}, x={describe(x0)})"
        tracked = _Tracked(fn, x0)
        x_in = x0.clone()
        result = call_unchanged(partial(impl, tracked), what, ("x",), x_in, hint=X_IN_PLACE)
        expect(
            not x_in.requires_grad,
            what,
            "the caller's x requires grad after the call: requires_grad_ was called on it",
            hint=X_IN_PLACE,
        )
        # A central difference in float64 gets u and the rate right to 1e-9, within the
        # tolerance below: only where f was evaluated tells it from autograd.
        _expect_autograd(tracked, what)
        u, rate = expect_pair(result, ("u", "rate"), what)
        expect_tensor(u, what + " direction u")  # (assert_close took a list or numpy array)
        g = grad_fn(x0.double()).cpu()
        tol = (1e-5, 1e-6) if x0.dtype == torch.float32 else (1e-8, 1e-10)
        unit = g / g.norm()
        u_hint = "steepest ascent is along +grad f, scaled to unit length"
        if u.shape == g.shape:
            u64 = u.detach().double().cpu()
            if torch.allclose(u64, -unit, rtol=1e-6, atol=1e-8):
                u_hint = "u points along -grad f: that is steepest descent, not ascent"
            elif torch.allclose(u64, g, rtol=1e-6, atol=1e-8):
                u_hint = "u is grad f itself, not a unit vector: divide by ‖grad f‖"
        assert_close(
            u, unit.to(x0.dtype), what + " direction u", rtol=tol[0], atol=tol[1], hint=u_hint
        )
        rate_hint = "the largest directional derivative is grad f . (grad f / ‖grad f‖) = ‖grad f‖"
        try:
            if abs(float(rate) - float(g @ g)) <= 1e-6 * float(g @ g):
                rate_hint = "that is ‖grad f‖², grad f dotted with itself; the rate along the "
                rate_hint += "unit vector u is grad f . u = ‖grad f‖"
        except (TypeError, ValueError, RuntimeError):
            pass
        assert_close(
            rate, float(g.norm()), what + " rate", rtol=tol[0], atol=tol[1], hint=rate_hint
        )
        # No other unit direction climbs faster.
        for _ in range(3):
            w = torch.randn(len(g), generator=gen, dtype=torch.float64)
            w = w / w.norm()
            expect(
                float(g @ w) <= float(rate) * (1 + 1e-6) + 1e-9,
                what,
                f"direction {describe(w)} climbs at {float(g @ w):.6g} > the returned rate {float(rate):.6g}",
            )


@fails_with("not a unit vector")
def _wrong_unnormalised_direction(f, x):
    """Returns the raw gradient as the direction (not a unit vector)."""
    point = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(point), point)
    return grad, float(grad.norm())


@fails_with("steepest descent, not ascent")
def _wrong_descent(f, x):
    """Confuses ascent with descent: returns -grad f / ‖grad f‖."""
    point = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(point), point)
    return -grad / grad.norm(), float(grad.norm())


@fails_with("that is ‖grad f‖²")
def _wrong_rate_squared(f, x):
    """Gives the rate as grad f . grad f = ‖grad f‖^2 (the direction left unnormalised in the dot)."""
    point = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(point), point)
    return grad / grad.norm(), float(grad @ grad)


@fails_with("that is a finite difference")
def _wrong_central_difference(f, x):
    """Estimates the gradient by central differences in float64 (step 1e-5) instead of
    autograd: accurate to about 1e-10, but not the method the card asks for."""
    point, h = x.detach().double(), 1e-5
    grad = torch.zeros_like(point)
    for i in range(len(point)):
        step = torch.zeros_like(point)
        step[i] = h
        grad[i] = (f(point + step) - f(point - step)) / (2 * h)
    norm = grad.norm()
    return (grad / norm).to(x.dtype), float(norm)


@fails_with("requires_grad_ was called on it")
def _wrong_ascent_requires_grad_on_x(f, x):
    """Calls requires_grad_ on the caller's x instead of a detached copy, and backward on f(x)."""
    x.requires_grad_(True)
    f(x).backward()
    grad = x.grad.detach()
    return grad / grad.norm(), float(grad.norm())


@fails_with("direction u: returned [")
def _wrong_direction_as_list(f, x):
    """The right direction as a plain list (u.tolist()), not the tensor the card asks for."""
    u, rate = steepest_ascent(f, x)
    return u.tolist(), rate


WRONG_ANSWERS = {
    "directional_derivative": [
        _wrong_unnormalised,
        _wrong_forward_difference,
        _wrong_gradient_norm,
        _wrong_normalises_v_in_place,
        _wrong_requires_grad_on_x,
    ],
    "steepest_ascent": [
        _wrong_unnormalised_direction,
        _wrong_descent,
        _wrong_rate_squared,
        _wrong_central_difference,
        _wrong_direction_as_list,
        _wrong_ascent_requires_grad_on_x,
    ],
}

CORRECT_VARIANTS = {
    "directional_derivative": [_variant_backward, _variant_forward_mode, _variant_line_restriction],
}
