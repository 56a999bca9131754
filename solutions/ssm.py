"""Discretising a continuous state-space model x'(t) = A x(t) + B u(t) with a zero-order hold.

Cards: ssm-zoh (coding), ssm-zoh-discretization-derivation and ssm-convolution-kernel-derivation
(derivations).
"""

import torch

from studycli.assertions import (
    assert_close,
    call,
    call_unchanged,
    describe,
    expect,
    expect_pair,
    fails_with,
)


def discretize_zoh(A, B, dt: float):
    """Zero-order-hold discretisation of x'(t) = A x(t) + B u(t).

    Holding u constant over each step of length dt gives the exact
    recurrence x_(k+1) = A_bar x_k + B_bar u_k with
        A_bar = exp(dt A)   (the matrix exponential, not elementwise exp)
        B_bar = A^(-1) (exp(dt A) - I) B.

    Args:
        A: (N, N) state matrix, invertible.
        B: (N, P) input matrix.
        dt: the step size Delta > 0.

    Returns:
        (A_bar, B_bar) with shapes (N, N) and (N, P), new tensors in the
        dtype of A (A and B are left unchanged).
    """
    A_bar = torch.linalg.matrix_exp(dt * A)
    eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    B_bar = torch.linalg.solve(A, (A_bar - eye) @ B)
    return A_bar, B_bar


def discretize_zoh_diagonal(a, b, dt: float):
    """Zero-order-hold discretisation for a diagonal state matrix
    (as in S4D and Mamba).

    With A = diag(a), every state coordinate is its own scalar system
    x' = a x + b u. Return the coefficients of its exact recurrence
    x_(k+1) = a_bar x_k + b_bar u_k when the input is held constant over
    each step of length dt.

    Args:
        a: (..., N) diagonal of A, real and non-zero (negative for a
            stable system).
        b: (..., N) input weights, same shape as a.
        dt: the step size Delta > 0.

    Returns:
        (a_bar, b_bar), new tensors, each of the shape and dtype of a
        (a and b are left unchanged).
    """
    # a_bar = exp(dt a) and b_bar = (exp(dt a) - 1) / a * b, the integral of exp(a s) b over
    # one step; expm1 keeps the small-dt case accurate.
    a_bar = torch.exp(dt * a)
    b_bar = torch.expm1(dt * a) / a * b
    return a_bar, b_bar


def ssm_kernel(A_bar, B_bar, C, length: int):
    """The convolution kernel of a discrete,
    time-invariant, single-input single-output SSM.

    For the recurrence x_k = A_bar x_(k-1) + B_bar u_k, y_k = C . x_k with
    x_(-1) = 0, return the first L taps of the kernel K with
    y_k = sum_(l=0..k) K[l] u_(k-l) for every input u
    (a causal convolution).

    Args:
        A_bar: (N, N) discrete state matrix.
        B_bar: (N,) input vector.
        C: (N,) output vector.
        length: L, the number of kernel taps.

    Returns:
        (L,) tensor K, in the dtype of A_bar.
    """
    # K[l] = C . (A_bar^l B_bar), l = 0 .. L-1: carry A_bar^l B_bar along instead of powers.
    taps = []
    state = B_bar
    for _ in range(length):
        taps.append(C @ state)
        state = A_bar @ state
    return torch.stack(taps) if taps else B_bar.new_zeros(0)


# --- checker: discretize_zoh ------------------------------------------------------------------


def _zoh_by_block_exp(A, B, dt):
    """Independent ground truth: exp(dt [[A, B], [0, 0]]) = [[A_bar, B_bar], [0, I]]."""
    A, B = A.double(), B.double()
    n, p = B.shape
    block = torch.zeros(n + p, n + p, dtype=torch.float64, device=A.device)
    block[:n, :n] = A
    block[:n, n:] = B
    e = torch.linalg.matrix_exp(dt * block)
    return e[:n, :n], e[:n, n:]


def _legs_A(n, device):
    i = torch.arange(n, dtype=torch.float64, device=device)
    r = torch.sqrt(2 * i + 1)
    A = -torch.tril(r[:, None] * r[None, :], diagonal=-1)
    return A - torch.diag(i + 1)


def _diagnose(got, alternatives, right, default):
    """The hint of the first (value, hint) alternative that `got` matches (and the right answer
    does not), else `default`."""
    if isinstance(got, torch.Tensor):
        got = got.detach().double()
        for value, hint in alternatives:
            value = value.double().to(got.device)
            if (
                got.shape == value.shape
                and torch.allclose(got, value, atol=1e-9, rtol=1e-8)
                and not torch.allclose(value, right.double().to(got.device), atol=1e-9, rtol=1e-8)
            ):
                return hint
    return default


FLOAT64_KEPT = (
    " for float64 A and B: it comes back in the inputs' dtype (torch.zeros(N, P) and "
    "torch.eye(N) are float32 unless given dtype=A.dtype)"
)

ZOH_IN_PLACE = (
    "return new tensors (dt * A, not A.mul_(dt) or A *= dt): the caller's A and B (a model's "
    "parameters, in S4) must not change"
)


def check_discretize_zoh(impl, device="cpu"):
    gen = torch.Generator().manual_seed(0)
    hint = (
        "A_bar is the matrix exponential (torch.linalg.matrix_exp), not exp elementwise; "
        "B_bar = A^-1 (exp(dt A) - I) B, exact for inputs held constant over the step"
    )

    cases = []
    # Scalar system: A_bar = e^-1, B_bar = (1 - e^-1) / 2.
    cases.append((torch.tensor([[-2.0]]), torch.tensor([[1.0]]), 0.5))
    # Non-symmetric, non-diagonal matrices (stable-ish: shifted by -I), several sizes and steps.
    for n, p, dt in [(2, 1, 0.1), (3, 2, 1.0), (5, 1, 0.01), (8, 3, 0.3), (16, 4, 0.05)]:
        A = torch.randn(n, n, generator=gen, dtype=torch.float64) / n**0.5 - torch.eye(n)
        B = torch.randn(n, p, generator=gen, dtype=torch.float64)
        cases.append((A, B, dt))
    # A rotation plus decay (complex eigenvalues).
    cases.append((torch.tensor([[-0.1, 2.0], [-2.0, -0.1]]), torch.tensor([[1.0], [0.5]]), 0.7))
    # The HiPPO-LegS matrix, as S4 initialises it.
    n = 8
    cases.append(
        (_legs_A(n, "cpu"), torch.sqrt(2 * torch.arange(n, dtype=torch.float64) + 1)[:, None], 0.05)
    )

    for A, B, dt in cases:
        A, B = A.double().to(device), B.double().to(device)
        what = f"discretize_zoh(A {describe(A)}, B {describe(B)}, dt={dt:g})"
        got = call_unchanged(impl, what, ("A", "B"), A.clone(), B.clone(), dt, hint=ZOH_IN_PLACE)
        # (in float64: a float32 B_bar, a torch.zeros(N, P) buffer filled column by column, was
        # told that A_bar is the matrix exponential, its formula right to 7 digits)
        A_bar, B_bar = expect_pair(got, ("A_bar", "B_bar"), what, A.dtype, FLOAT64_KEPT)
        A_want, B_want = _zoh_by_block_exp(A, B, dt)
        eye = torch.eye(A.shape[0], dtype=A.dtype, device=A.device)
        a_mistakes = [
            (eye + dt * A, "forward Euler (I + dt A): the zero-order hold is exp(dt A)"),
            (torch.exp(dt * A), "torch.exp is elementwise: exp(dt A) is the MATRIX exponential"),
            (
                torch.linalg.solve(eye - dt / 2 * A, eye + dt / 2 * A),
                "the bilinear (Tustin) transform: the zero-order hold is exp(dt A)",
            ),
        ]
        b_mistakes = [
            (dt * B_want, "an extra factor dt in B_bar: A^-1 (exp(dt A) - I) B already ~ dt B"),
            (dt * B, "B_bar = dt B is forward Euler: use A^-1 (exp(dt A) - I) B"),
        ]
        assert_close(
            A_bar,
            A_want,
            what + " -> A_bar",
            atol=1e-9,
            rtol=1e-8,
            hint=_diagnose(A_bar, a_mistakes, A_want, hint),
        )
        assert_close(
            B_bar,
            B_want,
            what + " -> B_bar",
            atol=1e-9,
            rtol=1e-8,
            hint=_diagnose(B_bar, b_mistakes, B_want, hint),
        )

    # float32 inputs work too, and come back in float32.
    A = (torch.randn(4, 4, generator=gen) / 2 - torch.eye(4)).to(device)
    B = torch.randn(4, 2, generator=gen).to(device)
    what = f"discretize_zoh(A {describe(A)}, B {describe(B)}, dt=0.2)"
    A_bar, B_bar = expect_pair(
        call(impl, what, A.clone(), B.clone(), 0.2),
        ("A_bar", "B_bar"),
        what,
        A.dtype,
        " for float32 A and B: it comes back in the inputs' dtype (a float64 A_bar runs the "
        "whole scan in float64; compute in float64 if you like, then cast back)",
    )
    A_want, B_want = _zoh_by_block_exp(A, B, 0.2)
    assert_close(A_bar, A_want, what + " -> A_bar", atol=1e-5, rtol=1e-4, hint=hint)
    assert_close(B_bar, B_want, what + " -> B_bar", atol=1e-5, rtol=1e-4, hint=hint)


@fails_with("forward Euler (I + dt A)")
def _wrong_euler(A, B, dt):
    """Forward Euler, (I + dt A, dt B): only first-order accurate, not the zero-order hold."""
    eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    return eye + dt * A, dt * B


@fails_with("torch.exp is elementwise")
def _wrong_elementwise_exp(A, B, dt):
    """Takes exp(dt A) elementwise instead of the matrix exponential."""
    A_bar = torch.exp(dt * A)
    eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    return A_bar, torch.linalg.solve(A, (A_bar - eye) @ B)


@fails_with("the bilinear (Tustin) transform")
def _wrong_bilinear(A, B, dt):
    """Uses the bilinear (Tustin) transform, a different discretisation, instead of ZOH."""
    eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    inv = torch.linalg.inv(eye - dt / 2 * A)
    return inv @ (eye + dt / 2 * A), inv @ (dt * B)


@fails_with("an extra factor dt in B_bar")
def _wrong_extra_dt(A, B, dt):
    """Multiplies B_bar by dt once more: dt A^-1 (exp(dt A) - I) B."""
    A_bar = torch.linalg.matrix_exp(dt * A)
    eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    return A_bar, dt * torch.linalg.solve(A, (A_bar - eye) @ B)


@fails_with("modified its input A in place")
def _wrong_scales_A_in_place(A, B, dt):
    """Scales A by dt in place (A *= dt) to reuse dt A: the right values, since
    (dt A)^-1 (exp(dt A) - I) dt B = A^-1 (exp(dt A) - I) B, but the caller's A is changed."""
    A *= dt
    A_bar = torch.linalg.matrix_exp(A)
    eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    return A_bar, torch.linalg.solve(A, (A_bar - eye) @ (dt * B))


@fails_with("it comes back in the inputs' dtype")
def _wrong_upcast(A, B, dt):
    """Discretises in float64 (A.double(), B.double()) and returns that for float32 inputs."""
    return discretize_zoh(A.double(), B.double(), dt)


def _variant_series(A, B, dt):
    """Both blocks at once: a scaling-and-squaring Taylor series of exp(dt [[A, B], [0, 0]])."""
    A64, B64 = A.double(), B.double()
    M = dt * A64
    # Scaling and squaring on the block matrix keeps the series short and accurate.
    n, p = B64.shape
    block = torch.zeros(n + p, n + p, dtype=torch.float64, device=A.device)
    block[:n, :n] = M
    block[:n, n:] = dt * B64
    norm = float(block.abs().sum(0).max())
    squarings = max(0, int(norm).bit_length() + 4)
    X = block / 2**squarings
    term = torch.eye(n + p, dtype=torch.float64, device=A.device)
    E = term.clone()
    for k in range(1, 30):
        term = term @ X / k
        E = E + term
    for _ in range(squarings):
        E = E @ E
    return E[:n, :n].to(A.dtype), E[:n, n:].to(A.dtype)


# --- checker: discretize_zoh_diagonal ---------------------------------------------------------


def check_discretize_zoh_diagonal(impl, device="cpu"):
    gen = torch.Generator().manual_seed(1)
    hint = "a_bar = exp(dt a), b_bar = (exp(dt a) - 1) / a * b: the exact integral of exp(a s) b over one step"

    cases = [
        (torch.tensor([-2.0]), torch.tensor([1.0]), 0.5),  # b_bar = (1 - e^-1) / 2
        (torch.tensor([-1.0, -0.5, -3.0, 0.25]), torch.tensor([1.0, 2.0, -1.0, 0.5]), 0.1),
    ]
    for shape, dt in [((8,), 0.01), ((3, 16), 0.2), ((2, 4, 5), 1.0), ((64,), 0.003)]:
        a = -torch.exp(
            torch.randn(*shape, generator=gen, dtype=torch.float64)
        )  # Mamba: A = -exp(A_log)
        b = torch.randn(*shape, generator=gen, dtype=torch.float64)
        cases.append((a, b, dt))
    # S4D-Real initialisation: a_n = -(n + 1).
    cases.append(
        (-(torch.arange(16, dtype=torch.float64) + 1), torch.ones(16, dtype=torch.float64), 0.05)
    )

    for a, b, dt in cases:
        a, b = a.double().to(device), b.double().to(device)
        what = f"discretize_zoh_diagonal(a {describe(a)}, b {describe(b)}, dt={dt:g})"
        got = call_unchanged(
            impl,
            what,
            ("a", "b"),
            a.clone(),
            b.clone(),
            dt,
            hint="return new tensors (dt * a, not a.mul_(dt)): the caller's a and b must not change",
        )
        expect_pair(got, ("a_bar", "b_bar"), what, tensors=True)
        # Ground truth: each coordinate's 2 x 2 block matrix [[a, b], [0, 0]], exponentiated.
        flat_a, flat_b = a.reshape(-1), b.reshape(-1)
        block = torch.zeros(flat_a.numel(), 2, 2, dtype=torch.float64, device=device)
        block[:, 0, 0] = flat_a
        block[:, 0, 1] = flat_b
        e = torch.linalg.matrix_exp(dt * block)
        a_want, b_want = e[:, 0, 0].reshape(a.shape), e[:, 0, 1].reshape(a.shape)
        a_mistakes = [(1 + dt * a, "forward Euler (1 + dt a): the zero-order hold is exp(dt a)")]
        b_mistakes = [
            (
                dt * b,
                "b_bar = dt b is only the first-order (small dt) approximation: the exact "
                "zero-order hold integrates exp(a s) b over the step",
            ),
            (torch.expm1(dt * a) * b, "(exp(dt a) - 1) b lacks the division by a"),
        ]
        assert_close(
            got[0],
            a_want,
            what + " -> a_bar",
            atol=1e-12,
            rtol=1e-9,
            hint=_diagnose(got[0], a_mistakes, a_want, hint),
        )
        assert_close(
            got[1],
            b_want,
            what + " -> b_bar",
            atol=1e-12,
            rtol=1e-8,
            hint=_diagnose(got[1], b_mistakes, b_want, hint),
        )

    _check_small_steps(impl, gen, device)


EXPM1_HINT = (
    "exp(dt a) - 1 cancels when dt a is small: exp(dt a) is rounded next to 1, and the digits "
    "of the difference are lost; torch.expm1(dt * a) computes it without the cancellation"
)


def _check_small_steps(impl, gen, device):
    """Small steps, where dt a is 1e-3 or less: float32 at dt = 1e-3 (Mamba's smallest step)
    and float64 at dt = 1e-9. The exact b_bar stays to the dtype's precision (2e-7 and 3e-16
    relative here); (exp(dt a) - 1) / a * b is off by 2e-4 and 2e-7."""
    a = -torch.exp(torch.randn(32, generator=gen, dtype=torch.float64))
    b = torch.randn(32, generator=gen, dtype=torch.float64)
    for dtype, dt, rtol in ((torch.float32, 1e-3, 1e-5), (torch.float64, 1e-9, 1e-8)):
        a_in, b_in = a.to(dtype=dtype, device=device), b.to(dtype=dtype, device=device)
        what = f"discretize_zoh_diagonal(a {describe(a_in)}, b {describe(b_in)}, dt={dt:g})"
        got = call(impl, what, a_in.clone(), b_in.clone(), dt)
        expect_pair(got, ("a_bar", "b_bar"), what, dtype, ": it comes back in the dtype of a")
        block = torch.zeros(32, 2, 2, dtype=torch.float64, device=device)
        block[:, 0, 0] = a_in.double()
        block[:, 0, 1] = b_in.double()
        e = torch.linalg.matrix_exp(dt * block)
        assert_close(got[0], e[:, 0, 0], what + " -> a_bar", atol=0.0, rtol=rtol)
        assert_close(got[1], e[:, 0, 1], what + " -> b_bar", atol=0.0, rtol=rtol, hint=EXPM1_HINT)


@fails_with("exp(dt a) - 1 cancels when dt a is small")
def _wrong_diag_exp_minus_one(a, b, dt):
    """Writes exp(dt a) - 1 where torch.expm1(dt a) is needed: right for large steps, digits
    lost to cancellation for small ones."""
    return torch.exp(dt * a), (torch.exp(dt * a) - 1) / a * b


@fails_with("it comes back in the dtype of a")
def _wrong_diag_upcast(a, b, dt):
    """Discretises in float64 (a.double(), b.double()) and returns that for float32 inputs."""
    return discretize_zoh_diagonal(a.double(), b.double(), dt)


@fails_with("modified its input a in place")
def _wrong_diag_in_place(a, b, dt):
    """Scales a by dt in place (a.mul_(dt)) to reuse it: right values, but the caller's a (a
    model's parameter, in S4D and Mamba) is changed."""
    x = a.mul_(dt)
    return torch.exp(x), torch.expm1(x) / x * dt * b


@fails_with("forward Euler (1 + dt a)")
def _wrong_diag_euler(a, b, dt):
    """Forward Euler: (1 + dt a, dt b)."""
    return 1 + dt * a, dt * b


@fails_with("b_bar = dt b is only the first-order")
def _wrong_diag_simplified_b(a, b, dt):
    """Exact a_bar but the first-order shortcut b_bar = dt b (Mamba's simplification, not ZOH)."""
    return torch.exp(dt * a), dt * b


@fails_with("lacks the division by a")
def _wrong_diag_no_division(a, b, dt):
    """Forgets to divide by a: b_bar = (exp(dt a) - 1) b."""
    return torch.exp(dt * a), torch.expm1(dt * a) * b


# --- checker: ssm_kernel ----------------------------------------------------------------------


def _scan(A_bar, B_bar, C, u):
    """Run the recurrence step by step: the definition the kernel must reproduce."""
    x = torch.zeros(A_bar.shape[0], dtype=torch.float64, device=A_bar.device)
    ys = []
    for u_k in u:
        x = A_bar.double() @ x + B_bar.double() * u_k
        ys.append(C.double() @ x)
    return torch.stack(ys)


def check_ssm_kernel(impl, device="cpu"):
    gen = torch.Generator().manual_seed(2)
    hint = (
        "K[l] = C . (A_bar^l B_bar) with a matrix power, starting at l = 0 (K[0] = C . B_bar); "
        "the response to an impulse u = (1, 0, 0, ...) is K itself"
    )

    cases = [
        (torch.tensor([[0.5]]), torch.tensor([1.0]), torch.tensor([2.0]), 4)
    ]  # 2, 1, 0.5, 0.25
    for n, length in [(2, 1), (3, 7), (4, 16), (8, 33)]:
        A_bar = torch.randn(n, n, generator=gen, dtype=torch.float64) * (0.9 / n**0.5)
        cases.append(
            (
                A_bar,
                torch.randn(n, generator=gen, dtype=torch.float64),
                torch.randn(n, generator=gen, dtype=torch.float64),
                length,
            )
        )
    for A_bar, B_bar, C, length in cases:
        A_bar, B_bar, C = (
            A_bar.double().to(device),
            B_bar.double().to(device),
            C.double().to(device),
        )
        what = f"ssm_kernel(A_bar {describe(A_bar)}, B_bar {describe(B_bar)}, C {describe(C)}, length={length})"
        got = call(impl, what, A_bar.clone(), B_bar.clone(), C.clone(), length)
        expect(
            isinstance(got, torch.Tensor), what, f"returned {type(got).__name__}, expected a tensor"
        )
        # (a float32 kernel, a torch.zeros(L) filled tap by tap, was told its powers were wrong)
        expect(
            got.dtype == A_bar.dtype,
            what,
            f"returned {describe(got)} for float64 A_bar, B_bar and C: K comes back in their "
            "dtype (torch.zeros(L) is float32 unless given dtype=A_bar.dtype)",
        )
        impulse = torch.zeros(length, dtype=torch.float64, device=device)
        impulse[0] = 1.0
        want = _scan(A_bar, B_bar, C, impulse)
        mistakes = [
            (
                _scan(A_bar, A_bar @ B_bar, C, impulse),
                "the powers start at A_bar^1: K[0] = C . B_bar, the current input's own tap",
            ),
            (
                torch.stack([C @ ((A_bar**l) @ B_bar) for l in range(length)]),
                "A_bar^l was taken elementwise: it is the matrix power (A_bar^0 = I)",
            ),
            (
                want.flip(0),
                "the taps are reversed: K[0] multiplies the current input u_k, K[l] the input "
                "l steps back",
            ),
        ]
        assert_close(
            got,
            want,
            what + " vs the impulse response of the scan",
            atol=1e-10,
            rtol=1e-9,
            hint=_diagnose(got, mistakes, want, hint),
        )
        # The causal convolution with K equals the recurrence on a random input.
        u = torch.randn(length, generator=gen, dtype=torch.float64).to(device)
        kernel = got.double().reshape(-1)
        conv = torch.stack([(kernel[: k + 1].flip(0) * u[: k + 1]).sum() for k in range(length)])
        assert_close(
            conv,
            _scan(A_bar, B_bar, C, u),
            f"{what}: y = K * u (causal convolution) vs the recurrence on random u",
            atol=1e-9,
            rtol=1e-9,
            hint=hint,
        )


@fails_with("the powers start at A_bar^1")
def _wrong_kernel_starts_at_one(A_bar, B_bar, C, length):
    """Starts the powers at A_bar^1: K[l] = C . A_bar^(l+1) B_bar (an off-by-one)."""
    return ssm_kernel(A_bar, A_bar @ B_bar, C, length)


@fails_with("A_bar^l was taken elementwise")
def _wrong_kernel_elementwise_power(A_bar, B_bar, C, length):
    """Raises A_bar to the power l elementwise instead of as a matrix."""
    return torch.stack([C @ ((A_bar**l) @ B_bar) for l in range(length)])


@fails_with("the taps are reversed")
def _wrong_kernel_reversed(A_bar, B_bar, C, length):
    """Returns the taps in reverse order (C A_bar^(L-1) B_bar first)."""
    return ssm_kernel(A_bar, B_bar, C, length).flip(0)


@fails_with("returned A_bar as a numpy array")
def _wrong_numpy(A, B, dt):
    """Returns A_bar and B_bar as numpy arrays (.numpy()), not the tensors promised."""
    A_bar, B_bar = discretize_zoh(A, B, dt)
    return A_bar.cpu().numpy(), B_bar.cpu().numpy()


@fails_with("returned a_bar as a numpy array")
def _wrong_diag_numpy(a, b, dt):
    """Computes a_bar and b_bar with numpy and returns numpy arrays, not the tensors promised."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    an, bn = a.detach().cpu().numpy(), b.detach().cpu().numpy()
    return np.exp(dt * an), np.expm1(dt * an) / an * bn


def _zoh_by_columns(A, B, dt, dtype):
    """B_bar column by column into a torch.zeros(N, P) buffer of `dtype`."""
    A_bar = torch.linalg.matrix_exp(dt * A)
    eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    B_bar = torch.zeros(B.shape, dtype=dtype, device=B.device)
    for j in range(B.shape[1]):
        B_bar[:, j] = torch.linalg.solve(A, (A_bar - eye) @ B[:, j])
    return A_bar, B_bar


@fails_with("dtype=float32) for float64 A and B: it comes back in the inputs")
def _wrong_float32_columns(A, B, dt):
    """Fills B_bar column by column into torch.zeros(N, P), float32 whatever A is: a float64
    B_bar rounded to 7 digits."""
    return _zoh_by_columns(A, B, dt, torch.float32)


def _variant_columns(A, B, dt):
    """The same columns, into torch.zeros(N, P, dtype=A.dtype)."""
    return _zoh_by_columns(A, B, dt, A.dtype)


@fails_with("K comes back in their dtype")
def _wrong_kernel_float32_buffer(A_bar, B_bar, C, length):
    """Writes the taps into torch.zeros(L), float32 whatever A_bar is: right to 7 digits."""
    K = torch.zeros(length, device=A_bar.device)
    state = B_bar
    for tap in range(length):
        K[tap] = C @ state
        state = A_bar @ state
    return K


WRONG_ANSWERS = {
    "discretize_zoh": [
        _wrong_euler,
        _wrong_elementwise_exp,
        _wrong_bilinear,
        _wrong_extra_dt,
        _wrong_scales_A_in_place,
        _wrong_upcast,
        _wrong_numpy,
        _wrong_float32_columns,
    ],
    "discretize_zoh_diagonal": [
        _wrong_diag_euler,
        _wrong_diag_simplified_b,
        _wrong_diag_no_division,
        _wrong_diag_exp_minus_one,
        _wrong_diag_upcast,
        _wrong_diag_in_place,
        _wrong_diag_numpy,
    ],
    "ssm_kernel": [
        _wrong_kernel_starts_at_one,
        _wrong_kernel_elementwise_power,
        _wrong_kernel_reversed,
        _wrong_kernel_float32_buffer,
    ],
}

CORRECT_VARIANTS = {
    "discretize_zoh": [_variant_series, _variant_columns],
}
