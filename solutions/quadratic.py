"""The extremum of a multivariate quadratic f(x) = 1/2 x^T A x + b^T x + c.

With A symmetric, grad f(x) = A x + b and the Hessian is A. For A positive definite the unique
minimiser is x* = -A^-1 b and the minimum value is f(x*) = c - 1/2 b^T A^-1 b.
"""

import torch

from studycli.assertions import assert_close, call, call_unchanged, describe, expect, fails_with


def _cholesky_solve(A: torch.Tensor, rhs: torch.Tensor) -> torch.Tensor:
    """Solve A y = rhs for symmetric positive-definite A by a hand-written Cholesky A = L L^T."""
    M = A.to(torch.float64)
    r = rhs.to(torch.float64)
    n = M.shape[-1]
    L = torch.zeros_like(M)
    for j in range(n):
        pivot = M[j, j] - (L[j, :j] ** 2).sum()
        if pivot <= 0:
            raise ValueError("A is not positive definite")
        L[j, j] = pivot.sqrt()
        L[j + 1 :, j] = (M[j + 1 :, j] - L[j + 1 :, :j] @ L[j, :j]) / L[j, j]
    z = torch.zeros(n, dtype=torch.float64, device=A.device)
    for i in range(n):  # L z = r
        z[i] = (r[i] - L[i, :i] @ z[:i]) / L[i, i]
    y = torch.zeros(n, dtype=torch.float64, device=A.device)
    for i in reversed(range(n)):  # L^T y = z
        y[i] = (z[i] - L[i + 1 :, i] @ y[i + 1 :]) / L[i, i]
    return y


def minimize_quadratic(A, b):
    """Minimiser of f(x) = 1/2 x^T A x + b^T x + c for symmetric
    positive-definite A.

    Args:
        A: torch tensor (n, n), symmetric positive definite, float32 or
            float64.
        b: torch tensor (n,), same dtype and device as A.

    Returns:
        x*: torch tensor (n,), same dtype as A, the minimiser (c shifts f
        but not its minimiser, so it is not an argument). A and b are not
        modified.
    """
    # The gradient A x + b vanishes at x* = -A^-1 b; solve A x = -b (Cholesky), no inverse.
    return (-_cholesky_solve(A, b)).to(A.dtype)


def _random_spd(n: int, gen: torch.Generator, dtype, device, low: float = 0.5, high: float = 10.0):
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
    eig = low + (high - low) * torch.rand(n, generator=gen, dtype=torch.float64)
    A = q @ torch.diag(eig) @ q.T
    A = (A + A.T) / 2
    return A.to(dtype=dtype, device=device)


def _minimiser_hint(got, A, b, default):
    """Name the classic mistake whose point matches the learner's, if one does."""
    if not isinstance(got, torch.Tensor) or got.shape != b.shape:
        return default
    got = got.detach().double().cpu()
    A, b = A.double().cpu(), b.double().cpu()
    solved = torch.linalg.solve(A, b)
    known = [
        (
            solved,
            "that is +A^-1 b, where the gradient A x + b equals 2b: the sign is wrong, "
            "x* = -A^-1 b",
        ),
        (-(A @ b), "that multiplies b by A; the stationary point solves A x = -b"),
        (
            -2 * solved,
            "that is -2 A^-1 b: the gradient of 1/2 x^T A x is A x (the 1/2 cancels the 2)",
        ),
        (
            -b / torch.diagonal(A),
            "that solves each coordinate alone (-b_i / A_ii), ignoring the "
            "cross terms A_ij x_i x_j: solve the whole linear system",
        ),
    ]
    for value, text in known:
        if torch.allclose(got, value, rtol=1e-7, atol=1e-10):
            return text
    return default


def _expect_tensor_of(x, dtype, n, what) -> None:
    """A tensor of shape (n,) in the inputs' dtype: a float32 answer for float64 inputs (a
    torch.zeros(n) buffer filled by a hand-written solve) was told to find where the gradient
    vanishes, its solve right to float32's 7 digits."""
    expect(
        isinstance(x, torch.Tensor),
        what,
        f"returned {type(x).__name__}, expected a torch tensor of shape ({n},)",
    )
    expect(tuple(x.shape) == (n,), what, f"returned shape {tuple(x.shape)}, expected ({n},)")
    expect(
        x.dtype == dtype,
        what,
        f"returned {str(x.dtype)[6:]} for {str(dtype)[6:]} inputs: the minimiser comes "
        "back in the dtype of A and b (a solve done in float64, or in numpy, is cast "
        "back with .to(A.dtype); torch.zeros(n) is float32 unless given dtype=A.dtype)",
    )


def check_minimize_quadratic(impl, device="cpu") -> None:
    # A fixed non-diagonal example: A = [[4, 1], [1, 3]], b = [1, 2] -> x* = -[1, 7] / 11.
    A = torch.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=torch.float64, device=device)
    b = torch.tensor([1.0, 2.0], dtype=torch.float64, device=device)
    what = f"minimize_quadratic(A={describe(A)}, b={describe(b)})"
    got = call(impl, what, A.clone(), b.clone())
    _expect_tensor_of(got, A.dtype, 2, what)
    assert_close(
        got,
        torch.tensor([-1 / 11, -7 / 11], dtype=torch.float64),
        what,
        rtol=1e-9,
        atol=1e-12,
        hint=_minimiser_hint(got, A, b, "the minimiser is where the gradient of f vanishes"),
    )
    # 1 x 1: f = x^2 + 4x -> x* = -2.
    A = torch.tensor([[2.0]], dtype=torch.float64, device=device)
    b = torch.tensor([4.0], dtype=torch.float64, device=device)
    what = f"minimize_quadratic(A={describe(A)}, b={describe(b)})"
    got = call(impl, what, A.clone(), b.clone())
    _expect_tensor_of(got, A.dtype, 1, what)
    assert_close(
        got,
        torch.tensor([-2.0], dtype=torch.float64),
        what,
        rtol=1e-9,
        atol=1e-12,
    )

    gen = torch.Generator().manual_seed(0)
    for dtype, rtol, atol in ((torch.float64, 1e-8, 1e-10), (torch.float32, 2e-4, 2e-5)):
        for n in (1, 2, 3, 4, 5, 8, 13, 17, 32, 50, 64):
            A = _random_spd(n, gen, dtype, device)
            b = torch.randn(n, generator=gen, dtype=torch.float64).to(dtype=dtype, device=device)
            what = f"minimize_quadratic(A: random SPD {n}x{n} {str(dtype)[6:]}, b of shape ({n},))"
            x = call_unchanged(impl, what, ("A", "b"), A, b)
            _expect_tensor_of(x, dtype, n, what)
            A64, b64 = A.double().cpu(), b.double().cpu()
            truth = torch.linalg.solve(A64, -b64)
            assert_close(x, truth, what, rtol=rtol, atol=atol, hint="x* = -A^-1 b: solve A x = -b")
            grad = A64 @ x.detach().double().cpu() + b64
            scale = float(torch.linalg.matrix_norm(A64, 2) * truth.norm() + b64.norm())
            expect(
                float(grad.norm()) <= 50 * rtol * scale,
                what,
                f"the gradient A x + b at the returned x has norm {float(grad.norm()):.3g}, not ~0",
            )


@fails_with("the sign is wrong, x* = -A^-1 b")
def _wrong_sign(A, b):
    """Sign error: x = +A^-1 b (solves A x = b instead of A x = -b)."""
    return torch.linalg.solve(A, b)


@fails_with("that multiplies b by A")
def _wrong_no_inverse(A, b):
    """Multiplies by A instead of A^-1: x = -A b."""
    return -(A @ b)


@fails_with("that is -2 A^-1 b")
def _wrong_ignores_half(A, b):
    """Ignores the 1/2 in front of x^T A x (gradient taken as 1/2 A x + b): x = -2 A^-1 b."""
    return -2 * torch.linalg.solve(A, b)


@fails_with("ignoring the cross terms")
def _wrong_diagonal_only(A, b):
    """Treats the coordinates as independent: x_i = -b_i / A_ii (ignores the cross terms)."""
    return -b / torch.diagonal(A)


@fails_with("comes back in the dtype of A and b")
def _wrong_numpy_dtype(A, b):
    """Solves with numpy and wraps the result: right numbers, but float64 for float32 inputs."""
    import numpy as np

    x = np.linalg.solve(A.detach().cpu().numpy(), -b.detach().cpu().numpy().astype(np.float64))
    return torch.from_numpy(x).to(A.device)


def _variant_inverse(A, b):
    """Explicit inverse: x = -inv(A) b."""
    return -torch.linalg.inv(A) @ b


def _variant_conjugate_gradient(A, b):
    """Conjugate gradient on f itself, in float64 (exact in n steps up to rounding)."""
    A64, b64 = A.double(), b.double()
    x = torch.zeros_like(b64)
    r = -b64 - A64 @ x
    p = r.clone()
    for _ in range(4 * len(b64)):
        rr = r @ r
        if rr.sqrt() < 1e-14:
            break
        Ap = A64 @ p
        alpha = rr / (p @ Ap)
        x = x + alpha * p
        r = r - alpha * Ap
        p = r + (r @ r) / rr * p
    return x.to(A.dtype)


# --------------------------------------------------------------------------------------------
# quadratic_minimum_value (the derivation)
# --------------------------------------------------------------------------------------------


def quadratic_minimum_value(A, b, c: float) -> float:
    """Minimum value of f(x) = 1/2 x^T A x + b^T x + c for symmetric
    positive-definite A.

    Args:
        A: torch tensor (n, n), symmetric positive definite
            (float64 in the checker).
        b: torch tensor (n,), same dtype and device.
        c: the constant term.

    Returns:
        min_x f(x), as a Python float; A and b are left unchanged.
    """
    # f(x*) at x* = -A^-1 b: c - 1/2 b^T A^-1 b.
    y = _cholesky_solve(A, b)  # A^-1 b
    return float(c - 0.5 * (b.to(torch.float64) @ y))


def _value_hint(got, A, b, c, default):
    """Name the classic mistake whose value matches the learner's, if one does."""
    try:
        got = float(got)
    except (TypeError, ValueError, RuntimeError):
        return default
    q = float(b.double().cpu() @ torch.linalg.solve(A.double().cpu(), b.double().cpu()))
    known = [
        (c + 0.5 * q, "that is c + 1/2 b^T A^-1 b: the sign is wrong, the minimum lies below c"),
        (
            c - q,
            "that is c + b^T x*, the linear term alone: the quadratic term "
            "1/2 x*^T A x* = +1/2 b^T A^-1 b is missing",
        ),
    ]
    for value, text in known:
        if abs(got - value) <= 1e-7 * (1 + abs(value)):
            return text
    return default


VALUE_IN_PLACE = (
    "leave A and b as they came (-b makes a new tensor; b.neg_() negates the caller's): the "
    "caller still holds them"
)


def check_quadratic_minimum_value(impl, device="cpu") -> None:
    # f(x) = x^2 + 4x + 1 = (x + 2)^2 - 3.
    A = torch.tensor([[2.0]], dtype=torch.float64, device=device)
    b = torch.tensor([4.0], dtype=torch.float64, device=device)
    what = f"quadratic_minimum_value(A={describe(A)}, b={describe(b)}, c=1.0)"
    got = call(impl, what, A, b, 1.0)
    assert_close(
        got,
        -3.0,
        what,
        rtol=1e-9,
        atol=1e-12,
        hint=_value_hint(got, A, b, 1.0, "complete the square: x^2 + 4x + 1 = (x + 2)^2 - 3"),
    )
    # A = [[4, 1], [1, 3]], b = [1, 2], c = 0: b^T A^-1 b = 15/11 -> -15/22.
    A = torch.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=torch.float64, device=device)
    b = torch.tensor([1.0, 2.0], dtype=torch.float64, device=device)
    what = f"quadratic_minimum_value(A={describe(A)}, b={describe(b)}, c=0.0)"
    assert_close(
        call(impl, what, A, b, 0.0),
        -15 / 22,
        what,
        rtol=1e-9,
        atol=1e-12,
        hint="f(x*) = c - 1/2 b^T A^-1 b",
    )

    gen = torch.Generator().manual_seed(1)
    for n in (1, 2, 3, 5, 8, 16, 33, 64):
        A = _random_spd(n, gen, torch.float64, device)
        b = torch.randn(n, generator=gen, dtype=torch.float64).to(device) * 3
        c = float(torch.randn((), generator=gen, dtype=torch.float64)) * 5
        what = f"quadratic_minimum_value(A: random SPD {n}x{n}, b of shape ({n},), c={c:.4g})"
        got = call_unchanged(impl, what, ("A", "b"), A.clone(), b.clone(), c, hint=VALUE_IN_PLACE)
        A64, b64 = A.cpu(), b.cpu()

        def f(x):
            return float(0.5 * x @ A64 @ x + b64 @ x + c)

        x_star = torch.linalg.solve(A64, -b64)
        assert_close(
            got,
            f(x_star),
            what,
            rtol=1e-8,
            atol=1e-10,
            hint="evaluate f at x* = -A^-1 b: c - 1/2 b^T A^-1 b",
        )
        # No point does better than the minimum.
        for _ in range(3):
            probe = x_star + 0.1 * torch.randn(n, generator=gen, dtype=torch.float64)
            expect(
                float(got) <= f(probe) + 1e-9,
                what,
                f"returned {float(got):.6g}, but f at a nearby point is {f(probe):.6g}, smaller",
            )


@fails_with("the sign is wrong, the minimum lies below c")
def _wrong_plus_half(A, b, c: float) -> float:
    """Sign error: c + 1/2 b^T A^-1 b."""
    return float(c + 0.5 * (b @ torch.linalg.solve(A, b)))


@fails_with("the quadratic term")
def _wrong_no_half(A, b, c: float) -> float:
    """Forgets the 1/2: c - b^T A^-1 b (b^T x* without the quadratic term's +1/2 b^T A^-1 b)."""
    return float(c - (b @ torch.linalg.solve(A, b)))


@fails_with("modified its input b in place")
def _wrong_negates_b_in_place(A, b, c: float) -> float:
    """Negates b in place (b.neg_()) to solve A x* = -b: the right value, but the caller's b is
    negated."""
    b.neg_()
    x = torch.linalg.solve(A, b)  # x* = -A^-1 b
    return float(c - 0.5 * (b @ x))  # c - 1/2 b^T A^-1 b, with b now -b


def _variant_evaluate(A, b, c: float) -> float:
    """Finds x* with torch.linalg.solve and evaluates f there."""
    x = torch.linalg.solve(A, -b)
    return float(0.5 * x @ A @ x + b @ x + c)


def _eliminate(A, b, dtype):
    """Gaussian elimination on [A | -b], its back substitution into torch.zeros(n, dtype)."""
    n = len(b)
    M = torch.cat([A, -b[:, None]], dim=1)
    for i in range(n):
        for r in range(i + 1, n):
            M[r] = M[r] - M[r, i] / M[i, i] * M[i]
    x = torch.zeros(n, dtype=dtype, device=A.device)
    for i in reversed(range(n)):
        x[i] = (M[i, n] - M[i, i + 1 : n] @ x[i + 1 :].to(M.dtype)) / M[i, i]
    return x


@fails_with("returned float32 for float64 inputs")
def _wrong_float32_buffer(A, b):
    """A hand-written elimination whose solution goes into torch.zeros(n), float32 whatever A
    is: right to 7 digits for float64 inputs."""
    return _eliminate(A, b, torch.float32)


def _variant_elimination(A, b):
    """The same elimination, its solution in torch.zeros(n, dtype=A.dtype)."""
    return _eliminate(A, b, A.dtype)


WRONG_ANSWERS = {
    "minimize_quadratic": [
        _wrong_sign,
        _wrong_no_inverse,
        _wrong_ignores_half,
        _wrong_diagonal_only,
        _wrong_numpy_dtype,
        _wrong_float32_buffer,
    ],
    "quadratic_minimum_value": [_wrong_plus_half, _wrong_no_half, _wrong_negates_b_in_place],
}

CORRECT_VARIANTS = {
    "minimize_quadratic": [_variant_inverse, _variant_conjugate_gradient, _variant_elimination],
    "quadratic_minimum_value": [_variant_evaluate],
}
