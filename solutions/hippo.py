"""HiPPO-LegS: the state matrices that keep an optimal Legendre projection of the whole history.

Card: hippo-legs (coding).
"""

import numpy as np

from studycli.assertions import (
    assert_close,
    call,
    dtype_name,
    expect,
    expect_pair,
    fails_with,
)


def legs(N: int):
    """The HiPPO-LegS matrices (A, B) of state size N.

    A[n, k] = -sqrt((2n+1)(2k+1))  if n > k
              -(n+1)               if n == k
              0                    if n < k
    B[n]    = sqrt(2n+1)
    (indices from 0). With them, the coefficients c(t) of the projection
    of the input history u(s), s in [0, t], onto scaled Legendre
    polynomials follow c'(t) = (1/t) (A c(t) + B u(t)).

    Args:
        N: the state size, >= 1.

    Returns:
        (A, B) as numpy arrays of shapes (N, N) and (N,), dtype float64.
    """
    r = np.sqrt(2.0 * np.arange(N) + 1.0)
    A = -np.tril(np.outer(r, r), k=-1) - np.diag(np.arange(N) + 1.0)
    B = r.copy()
    return A, B


# --- checker ----------------------------------------------------------------------------------


def _legs_loop(N):
    A = np.zeros((N, N))
    B = np.zeros(N)
    for n in range(N):
        B[n] = (2 * n + 1) ** 0.5
        for k in range(N):
            if n > k:
                A[n, k] = -(((2 * n + 1) * (2 * k + 1)) ** 0.5)
            elif n == k:
                A[n, k] = -(n + 1)
    return A, B


def _low_precision(got):
    """The names of the float types below float64 that the answer's A or B came in."""
    names = {dtype_name(x) for x in got}
    return sorted(names & {"float32", "float16", "bfloat16"})


def _as_arrays(got, N, what):
    expect_pair(got, ("A", "B"), what)
    for name, value in zip(("A", "B"), got, strict=True):
        expect(
            isinstance(value, np.ndarray),
            what,
            f"returned {name} as a {type(value).__module__}.{type(value).__qualname__}, "
            "expected a numpy array",
            hint="the card asks for numpy arrays: build them with numpy, or convert with "
            "np.array(...) before returning",
        )
    A, B = np.asarray(got[0], dtype=float), np.asarray(got[1], dtype=float)
    expect(A.shape == (N, N), what, f"A has shape {A.shape}, expected ({N}, {N})")
    expect(
        B.shape == (N,),
        what,
        f"B has shape {B.shape}, expected ({N},)",
        hint=COLUMN_HINT if B.shape == (N, 1) else "",
    )
    return A, B


COLUMN_HINT = (
    "return B as a vector of shape (N,), as the state c is: a column of shape (N, 1) broadcasts "
    "in A @ c + B * u into an (N, N) matrix"
)
UPPER_HINT = "A is lower triangular: every entry above the diagonal (n < k) is 0"
LOWER_HINT = "below the diagonal (n > k), A[n, k] = -sqrt((2n+1)(2k+1))"
DIAGONAL_HINT = "on the diagonal, A[n, n] = -(n+1) with n counted from 0, so A[0, 0] = -1"
B_HINT = "B[n] = sqrt(2n+1): a square root"
SIGN_HINT = "the sign is flipped: A's entries are negative (a stable system), B's positive"
DTYPE_HINT = (
    "the values match the formula only to float32 precision (about 1e-7 relative): compute "
    "in float64, numpy's default (no dtype=np.float32, no torch float32 tensors), and return "
    "float64 arrays"
)


def _hint(got_part, want_part, part_hint, low):
    """part_hint, unless the answer is the formula at float32 precision (then DTYPE_HINT), or
    came in a type below float64 (then part_hint with a note on the dtype)."""
    if np.allclose(got_part, want_part, rtol=1e-5, atol=1e-6):
        return DTYPE_HINT
    if low:
        return f"{part_hint}; also, the answer is {'/'.join(low)}: compute and return float64"
    return part_hint


def check_legs(impl, device="cpu"):
    hint = (
        "A is lower triangular: -sqrt((2n+1)(2k+1)) below the diagonal, -(n+1) on it "
        "(n counted from 0); B[n] = sqrt(2n+1)"
    )

    # N = 3 written out.
    s3, s5, s15 = 3**0.5, 5**0.5, 15**0.5
    A3 = np.array([[-1.0, 0.0, 0.0], [-s3, -2.0, 0.0], [-s5, -s15, -3.0]])
    B3 = np.array([1.0, s3, s5])
    what = "legs(3)"
    got = call(impl, what, 3)
    A, B = _as_arrays(got, 3, what)
    low = _low_precision(got)
    # Part by part, so that the message names the part that is wrong.
    parts = [
        (np.triu(A, k=1), np.triu(A3, k=1), "A above the diagonal", UPPER_HINT),
        (np.tril(A, k=-1), np.tril(A3, k=-1), "A below the diagonal", LOWER_HINT),
        (np.diag(A), np.diag(A3), "the diagonal of A", DIAGONAL_HINT),
        (B, B3, "B", B_HINT),
    ]
    for got_part, want_part, name, part_hint in parts:
        if np.allclose(got_part, -want_part) and not np.allclose(want_part, 0):
            part_hint = SIGN_HINT
        else:
            part_hint = _hint(got_part, want_part, part_hint, low)
        assert_close(
            got_part, want_part, f"{what} -> {name}", atol=1e-12, rtol=1e-12, hint=part_hint
        )

    for N in (1, 2, 4, 7, 16, 64):
        what = f"legs({N})"
        got = call(impl, what, N)
        A, B = _as_arrays(got, N, what)
        low = _low_precision(got)
        A_want, B_want = _legs_loop(N)
        # A constant input u = 1 is remembered exactly by c = (1, 0, ..., 0): that c must be a
        # fixed point of c' = (A c + B) / t, i.e. the first column of A is -B.
        # the hint from the side that is off (A's column right: B is wrong)
        column_right = np.allclose(A[:, 0], A_want[:, 0], atol=1e-12, rtol=1e-12)
        assert_close(
            A[:, 0],
            -B,
            what + ": first column of A vs -B (constant input is a fixed point)",
            atol=1e-12,
            rtol=1e-12,
            hint=_hint(B, B_want, B_HINT, low)
            if column_right
            else _hint(A[:, 0], A_want[:, 0], hint, low),
        )
        assert_close(
            A, A_want, what + " -> A", atol=1e-12, rtol=1e-12, hint=_hint(A, A_want, hint, low)
        )
        assert_close(
            B, B_want, what + " -> B", atol=1e-12, rtol=1e-12, hint=_hint(B, B_want, hint, low)
        )


@fails_with("the sign is flipped")
def _wrong_positive_sign(N):
    """Drops the minus sign: A[n, k] = +sqrt((2n+1)(2k+1)) below and +(n+1) on the diagonal."""
    A, B = legs(N)
    return -A, B


@fails_with("A[n, n] = -(n+1)")
def _wrong_diagonal_n(N):
    """Puts -n on the diagonal instead of -(n+1) (an off-by-one in the 0-based index)."""
    A, B = legs(N)
    return A + np.eye(N), B


@fails_with("A is lower triangular")
def _wrong_upper_triangular(N):
    """Fills the entries with n < k (above the diagonal) instead of n > k."""
    A, B = legs(N)
    return np.diag(np.diag(A)) + np.tril(A, k=-1).T, B


@fails_with("B[n] = sqrt(2n+1): a square root")
def _wrong_b_no_sqrt(N):
    """Uses B[n] = 2n + 1, forgetting the square root."""
    A, _ = legs(N)
    return A, 2.0 * np.arange(N) + 1.0


@fails_with("a column of shape (N, 1) broadcasts")
def _wrong_b_column(N):
    """Returns B as a column of shape (N, 1) (the S4 code's convention), not the (N,) asked."""
    A, B = legs(N)
    return A, B.reshape(N, 1)


@fails_with("only to float32 precision")
def _wrong_float32(N):
    """The right formula computed in float32: sqrt(3) and the like are off by about 1e-8."""
    r = np.sqrt(2.0 * np.arange(N, dtype=np.float32) + 1.0)
    A = -np.tril(np.outer(r, r), k=-1) - np.diag(np.arange(N, dtype=np.float32) + 1.0)
    return A, r.copy()


@fails_with("returned A as a builtins.list, expected a numpy array")
def _wrong_lists(N):
    """Builds A and B entry by entry as Python lists (of lists), not the numpy arrays asked."""
    A = [[0.0] * N for _ in range(N)]
    B = []
    for n in range(N):
        B.append((2 * n + 1) ** 0.5)
        for k in range(n):
            A[n][k] = -(((2 * n + 1) * (2 * k + 1)) ** 0.5)
        A[n][n] = -(n + 1.0)
    return A, B


WRONG_ANSWERS = {
    "legs": [
        _wrong_positive_sign,
        _wrong_diagonal_n,
        _wrong_upper_triangular,
        _wrong_b_no_sqrt,
        _wrong_float32,
        _wrong_b_column,
        _wrong_lists,
    ],
}
