"""Rotary position embedding (RoPE, RoFormer): the reference, the relative-score formula,
their checkers and typical mistakes."""

import numpy as np
import torch

from studycli.assertions import (
    assert_close,
    call,
    call_unchanged,
    describe,
    dtype_name,
    expect,
    expect_tensor,
    fails_with,
)


def apply_rope(x, positions, base: float = 10000.0):
    """Rotate consecutive pairs of features by
    position-dependent angles (RoFormer's RoPE).

    For each pair i = 0 .. d/2 - 1, the features
    (x[..., p, 2i], x[..., p, 2i+1]) at sequence index p are rotated by
    the angle positions[p] * theta_i, with theta_i = base ** (-2i / d):

        out[2i]   = x[2i] cos(a) - x[2i+1] sin(a)
        out[2i+1] = x[2i] sin(a) + x[2i+1] cos(a)

    Args:
        x: tensor of shape (..., n, d), d even.
        positions: integer tensor of shape (n,), the position of each of
            the n rows.
        base: the frequency base (10000 in RoFormer).

    Returns:
        A new tensor of the shape and dtype of x.
    """
    d = x.shape[-1]
    i = torch.arange(d // 2, device=x.device, dtype=torch.float64)
    theta = base ** (-2.0 * i / d)  # (d/2,)
    angles = positions.to(torch.float64)[:, None] * theta[None, :]  # (n, d/2)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    even, odd = x[..., 0::2], x[..., 1::2]
    out_even = even * cos - odd * sin
    out_odd = even * sin + odd * cos
    return torch.stack((out_even, out_odd), dim=-1).flatten(-2)


def rope_relative_score(q, k, delta: int, base: float = 10000.0):
    """The RoPE attention score <R_m q, R_n k>
    written as a function of delta = m - n only.

    R_p is the RoPE rotation at position p (pairs (2i, 2i+1) rotated by
    p * theta_i, theta_i = base ** (-2i / d)). Compute the score without
    rotating q and k separately, from the formula the derivation ends in.

    Args:
        q, k: tensors of shape (..., d), d even (one query and one key per
            leading index).
        delta: the relative position m - n (any integer, may be negative).
        base: the frequency base.

    Returns:
        Tensor of shape (...): the score <R_m q, R_n k> for any m, n with
        m - n = delta.
    """
    d = q.shape[-1]
    i = torch.arange(d // 2, device=q.device, dtype=torch.float64)
    phi = (delta * base ** (-2.0 * i / d)).to(q.dtype)  # (d/2,)
    q0, q1 = q[..., 0::2], q[..., 1::2]
    k0, k1 = k[..., 0::2], k[..., 1::2]
    aligned = q0 * k0 + q1 * k1  # Re(z_q conj(z_k))
    crossed = q0 * k1 - q1 * k0  # -Im(z_q conj(z_k))
    return (aligned * phi.cos() + crossed * phi.sin()).sum(-1)


# --- ground truth: the complex-number form, in numpy float64 --------------------------------


def _rope_complex(x, positions, base=10000.0):
    """RoPE as z_i * exp(i p theta_i) on complex pairs z_i = x[2i] + i x[2i+1] (numpy)."""
    x = np.asarray(x, dtype=np.float64)
    pos = np.asarray(positions, dtype=np.float64)
    d = x.shape[-1]
    theta = base ** (-np.arange(0, d, 2, dtype=np.float64) / d)
    z = x[..., 0::2] + 1j * x[..., 1::2]
    z = z * np.exp(1j * pos[:, None] * theta[None, :])
    out = np.empty_like(x)
    out[..., 0::2] = z.real
    out[..., 1::2] = z.imag
    return out


def _np(t):
    return t.detach().cpu().double().numpy()


def _rope_half_split_np(x, positions, base=10000.0):
    """RoPE with the half-split pairs (x[i], x[i + d/2]) of GPT-NeoX (numpy), to name that mistake."""
    d = x.shape[-1]
    perm = np.stack([np.arange(d // 2), np.arange(d // 2) + d // 2], axis=-1).reshape(-1)
    out = np.empty_like(x)
    out[..., perm] = _rope_complex(x[..., perm], positions, base)
    return out


def _rope_concatenated_np(x, positions, base=10000.0):
    """RoPE with the rotated pairs written back concatenated, every pair's first feature, then
    every pair's second, instead of interleaved (numpy), to name that mistake."""
    out = _rope_complex(x, positions, base)
    return np.concatenate((out[..., 0::2], out[..., 1::2]), axis=-1)


def _diagnose(got, alternatives, default):
    """The hint of the first (value, hint) alternative that `got` matches, else `default`."""
    if isinstance(got, torch.Tensor):
        got = _np(got)
        for value, hint in alternatives:
            if got.shape == np.shape(value) and np.allclose(got, value, atol=1e-4, rtol=1e-4):
                return hint
    return default


DIRECTION_HINT = (
    "rotated the wrong way (by -angle): out[2i] = x[2i] cos a - x[2i+1] sin a, "
    "out[2i+1] = x[2i] sin a + x[2i+1] cos a"
)
ROW_INDEX_HINT = (
    "rotated by the row index p (arange(n)), not by positions[p]: the angle of row p is "
    "positions[p] * theta_i, and the positions need not be 0, 1, 2, ..."
)
EXPONENT_HINT = "theta_i = base ** (-2i / d) with i the pair index: the factor 2 is missing"
SIN_TERM_HINT = (
    "the sin term is missing: score = sum_i (q0 k0 + q1 k1) cos(delta theta_i) "
    "+ (q0 k1 - q1 k0) sin(delta theta_i)"
)
SIGN_HINT = "computed for n - m: delta = m - n, and the sin term changes sign with it"

CONCATENATED_HINT = (
    "the rotated pairs go back where they came from, interleaved: out[2i], out[2i+1] "
    "(torch.stack((a, b), dim=-1).flatten(-2)); torch.cat((a, b), dim=-1) puts every pair's "
    "first feature before every pair's second"
)

_HINT_PAIRS = (
    "the pairs are interleaved, (x[2i], x[2i+1]), as in RoFormer; the half-split layout "
    "(x[i], x[i + d/2]) of GPT-NeoX is a different (incompatible) convention"
)


IN_PLACE_HINT = (
    "return a new tensor: keep x[..., 0::2] and x[..., 1::2] and write the rotated pairs into a "
    "fresh tensor (torch.stack(...).flatten(-2), or out = torch.empty_like(x)), never into x"
)


def _call_rope(impl, what, x, positions, **kwargs):
    """The answer, failing at once if it wrote into x or positions, or is no tensor (a numpy
    array of x's values passed assert_close, and then failed "returned dtype float32,
    expected torch.float32")."""
    out = call_unchanged(impl, what, ("x", "positions"), x, positions, hint=IN_PLACE_HINT, **kwargs)
    expect_tensor(out, what)
    return out


HALF_ANGLES_HINT = (
    "compute the angles positions * theta in float32 or float64 and cast only cos and sin to "
    "x's dtype: in bfloat16 (8 bits) a product near 2000 is rounded to a multiple of 8, an "
    "error of radians"
)


def check_apply_rope(impl, device="cpu"):
    gen = torch.Generator().manual_seed(0)

    # A hand example: d = 2, one pair rotated by exactly the position (theta_0 = 1).
    x = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 2.0]], device=device)
    pos = torch.tensor([0, 1, 2], device=device)
    want = torch.tensor(
        [[1.0, 0.0], [np.cos(1.0), np.sin(1.0)], [-2 * np.sin(2.0), 2 * np.cos(2.0)]]
    )
    what = f"apply_rope({describe(x)}, positions=[0, 1, 2])"
    out = _call_rope(impl, what, x.clone(), pos)
    hint = "pair (x0, x1) at angle a becomes (x0 cos a - x1 sin a, x0 sin a + x1 cos a)"
    mistakes = [(_rope_complex(_np(x), [0, -1, -2]), DIRECTION_HINT)]
    assert_close(out, want, what, atol=1e-5, rtol=1e-5, hint=_diagnose(out, mistakes, hint))

    # Random inputs over shapes and bases, against the complex formulation.
    cases = [
        ((1, 2), 10000.0),
        ((5, 4), 10000.0),
        ((7, 8), 10000.0),
        ((3, 6, 16), 10000.0),
        ((2, 3, 9, 32), 10000.0),
        ((4, 10), 100.0),
        ((6, 64), 500000.0),
        ((2, 12, 6), 10.0),
    ]
    for shape, base in cases:
        n = shape[-2]
        x = torch.randn(*shape, generator=gen).to(device)
        pos = torch.randint(0, 60, (n,), generator=gen).to(device)
        what = f"apply_rope(x of shape {shape}, positions={pos.tolist()}, base={base:g})"
        out = _call_rope(impl, what, x.clone(), pos, base=base)
        p = pos.cpu().numpy()
        mistakes = [
            (_rope_half_split_np(_np(x), p, base), _HINT_PAIRS),
            (_rope_complex(_np(x), p, base**0.5), EXPONENT_HINT),
            (_rope_concatenated_np(_np(x), p, base), CONCATENATED_HINT),
        ]  # with one pair (d = 2) none changes anything
        mistakes = mistakes if shape[-1] > 2 else []
        mistakes += [
            (_rope_complex(_np(x), -p, base), DIRECTION_HINT),
            (_rope_complex(_np(x), np.arange(n), base), ROW_INDEX_HINT),
        ]
        assert_close(
            out,
            _rope_complex(_np(x), p, base),
            what,
            atol=1e-4,
            rtol=1e-4,
            hint=_diagnose(out, mistakes, ""),
        )
        expect(
            out.dtype == x.dtype,
            what,
            f"returned {dtype_name(out)} for {dtype_name(x)} x: the rotated features come back "
            "in x's dtype",
            hint="compute the angles (or everything) in float64 if you like, then cast the "
            "result back with .to(x.dtype)",
        )

    # The default base and large positions (float32 angles lose some digits: looser tolerance).
    x = torch.randn(2, 5, 8, generator=gen).to(device)
    pos = torch.tensor([0, 17, 250, 1023, 2047], device=device)
    what = f"apply_rope(x of shape (2, 5, 8), positions={pos.tolist()})"
    assert_close(
        _call_rope(impl, what, x.clone(), pos),
        _rope_complex(_np(x), pos.cpu().numpy()),
        what,
        atol=2e-3,
        rtol=1e-3,
        hint="theta_i = base ** (-2i / d) for pair i = 0 .. d/2 - 1",
    )

    # float64 in, float64 out.
    x = torch.randn(4, 12, generator=gen, dtype=torch.float64).to(device)
    pos = torch.arange(4, device=device) * 3
    what = "apply_rope(x of shape (4, 12), dtype=float64, positions=[0, 3, 6, 9])"
    out = _call_rope(impl, what, x.clone(), pos)
    expect(  # (assert_close's tolerance here takes float32's values)
        out.dtype == x.dtype,
        what,
        f"returned {dtype_name(out)} for {dtype_name(x)} x: the rotated features come back in "
        "x's dtype",
        hint="return x's dtype: compute in it, or cast the result back with .to(x.dtype)",
    )
    assert_close(out, _rope_complex(_np(x), pos.cpu().numpy()), what, atol=1e-6, rtol=1e-6)

    # bfloat16 in, bfloat16 out: cos and sin tables built in float32 (or float64) and multiplied
    # into a bfloat16 x promote the result to float32 unless cast to x's dtype (the float32 and
    # float64 cases above cannot tell).
    x = torch.randn(2, 6, 16, generator=gen).to(device=device, dtype=torch.bfloat16)
    pos = torch.tensor([0, 1, 5, 9, 20, 33], device=device)
    what = f"apply_rope(x of shape (2, 6, 16), dtype=bfloat16, positions={pos.tolist()})"
    out = _call_rope(impl, what, x.clone(), pos)
    expect(
        isinstance(out, torch.Tensor) and out.dtype == x.dtype,
        what,
        f"returned {describe(out)}, expected bfloat16",
        hint="cast the cos and sin tables to x's dtype (cos.to(x.dtype)) before multiplying, "
        "or cast the result back: bfloat16 times a float32 table is float32",
    )
    # (the expected values in bfloat16 too: a failure then names no float64 it should return)
    want = torch.from_numpy(_rope_complex(_np(x), pos.cpu().numpy())).to(torch.bfloat16)
    assert_close(out, want, what, atol=3e-2, rtol=3e-2)
    # Large positions with bfloat16 x: the angles p theta must be formed in float32 or
    # float64 (bfloat16 keeps 8 bits, so p theta near 2000 is off by up to 4 radians); only
    # cos and sin are rounded to x's dtype.
    pos = torch.tensor([3, 250, 1023, 2047, 4001], device=device)
    what = f"apply_rope(x of shape (2, 5, 16), dtype=bfloat16, positions={pos.tolist()})"
    x = torch.randn(2, 5, 16, generator=gen).to(device=device, dtype=torch.bfloat16)
    assert_close(
        _call_rope(impl, what, x.clone(), pos),
        torch.from_numpy(_rope_complex(_np(x), pos.cpu().numpy())).to(torch.bfloat16),
        what,
        atol=3e-2,
        rtol=3e-2,
        hint=HALF_ANGLES_HINT,
    )

    # Rotations preserve norms, and scores depend only on position differences.
    d, n = 16, 6
    q = torch.randn(n, d, generator=gen).to(device)
    k = torch.randn(n, d, generator=gen).to(device)
    for shift in (1, 5, 40):
        pm = torch.randint(0, 50, (n,), generator=gen).to(device)
        pn = torch.randint(0, 50, (n,), generator=gen).to(device)
        rq = _call_rope(impl, "apply_rope(q, positions)", q.clone(), pm)
        rk = _call_rope(impl, "apply_rope(k, positions)", k.clone(), pn)
        rq2 = _call_rope(impl, "apply_rope(q, positions + shift)", q.clone(), pm + shift)
        rk2 = _call_rope(impl, "apply_rope(k, positions + shift)", k.clone(), pn + shift)
        what = (
            f"the scores rope(q, m) . rope(k, n) with m={pm.tolist()}, n={pn.tolist()} "
            f"vs m + {shift}, n + {shift}"
        )
        assert_close(
            (rq2 * rk2).sum(-1),
            (rq * rk).sum(-1),
            what,
            atol=1e-4,
            rtol=1e-4,
            hint="each pair must be rotated by the same angle for q and k at equal positions, "
            "so that only m - n survives in the dot product",
        )
        assert_close(
            rq.norm(dim=-1),
            q.norm(dim=-1),
            "the norm of rope(q, m) vs that of q",
            atol=1e-4,
            rtol=1e-4,
            hint="a rotation never changes the length of a vector",
        )


def _call_score(impl, what, *args, **kwargs):
    """`impl(*args, **kwargs)`, failing unless it returned the tensor the interface promises
    (assert_close took a numpy array of the right values)."""
    got = call(impl, what, *args, **kwargs)
    expect_tensor(got, what)
    return got


def check_rope_relative_score(impl, device="cpu"):
    gen = torch.Generator().manual_seed(1)

    # delta = 0: the plain dot product.
    q = torch.randn(3, 8, generator=gen).to(device)
    k = torch.randn(3, 8, generator=gen).to(device)
    what = "rope_relative_score(q, k, delta=0)"
    assert_close(
        _call_score(impl, what, q, k, 0),
        (q * k).sum(-1),
        what,
        atol=1e-5,
        rtol=1e-5,
        hint="with m = n the rotations cancel: the score is q . k",
    )

    for shape, delta, base in [
        ((2,), 1, 10000.0),
        ((4, 6), 3, 10000.0),
        ((5, 16), -7, 10000.0),
        ((2, 3, 32), 25, 10000.0),
        ((7, 4), -2, 10.0),
        ((3, 64), 100, 10000.0),
    ]:
        q = torch.randn(*shape, generator=gen).to(device)
        k = torch.randn(*shape, generator=gen).to(device)
        for m in (0, 11):
            n = m - delta
            rq = _rope_complex(_np(q)[..., None, :], [m], base)[..., 0, :]
            rk = _rope_complex(_np(k)[..., None, :], [n], base)[..., 0, :]
            want = (rq * rk).sum(-1)
            what = f"rope_relative_score(q, k of shape {shape}, delta={delta}, base={base:g}) (m={m}, n={n})"
            got = _call_score(impl, what, q, k, delta, base=base)
            theta = base ** (-np.arange(0, shape[-1], 2) / shape[-1])
            qn, kn = _np(q), _np(k)
            aligned = qn[..., 0::2] * kn[..., 0::2] + qn[..., 1::2] * kn[..., 1::2]
            swapped_q = _rope_complex(qn[..., None, :], [n], base)[..., 0, :]
            swapped_k = _rope_complex(kn[..., None, :], [m], base)[..., 0, :]
            mistakes = [
                ((aligned * np.cos(delta * theta)).sum(-1), SIN_TERM_HINT),
                ((swapped_q * swapped_k).sum(-1), SIGN_HINT),
            ]
            assert_close(
                got,
                want,
                what,
                atol=1e-4,
                rtol=1e-4,
                hint=_diagnose(
                    got,
                    mistakes,
                    "score = sum_i (q0 k0 + q1 k1) cos(delta theta_i) + (q0 k1 - q1 k0) sin(delta theta_i)",
                ),
            )


# --- wrong answers ----------------------------------------------------------------------------


@fails_with("half-split layout")
def _rope_half_split(x, positions, base: float = 10000.0):
    """Pairs (x[i], x[i + d/2]) (GPT-NeoX layout) instead of interleaved (x[2i], x[2i+1])."""
    d = x.shape[-1]
    i = torch.arange(d // 2, device=x.device, dtype=torch.float64)
    angles = positions.to(torch.float64)[:, None] * base ** (-2.0 * i / d)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    a, b = x[..., : d // 2], x[..., d // 2 :]
    return torch.cat((a * cos - b * sin, a * sin + b * cos), dim=-1)


@fails_with("the factor 2 is missing")
def _rope_exponent_i_over_d(x, positions, base: float = 10000.0):
    """Frequency base ** (-i / d) instead of base ** (-2i / d)."""
    d = x.shape[-1]
    i = torch.arange(d // 2, device=x.device, dtype=torch.float64)
    angles = positions.to(torch.float64)[:, None] * base ** (-i / d)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1).flatten(-2)


@fails_with("the rotated pairs go back where they came from, interleaved")
def _rope_concatenated(x, positions, base: float = 10000.0):
    """Reads the interleaved pairs, but writes the rotated ones back with torch.cat: all the
    first features, then all the second ones."""
    d = x.shape[-1]
    i = torch.arange(d // 2, device=x.device, dtype=torch.float64)
    angles = positions.to(torch.float64)[:, None] * base ** (-2.0 * i / d)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.cat((even * cos - odd * sin, even * sin + odd * cos), dim=-1)


@fails_with("rotated the wrong way")
def _rope_wrong_direction(x, positions, base: float = 10000.0):
    """Rotates by -angle (the sin terms' signs swapped)."""
    d = x.shape[-1]
    i = torch.arange(d // 2, device=x.device, dtype=torch.float64)
    angles = positions.to(torch.float64)[:, None] * base ** (-2.0 * i / d)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack((even * cos + odd * sin, -even * sin + odd * cos), dim=-1).flatten(-2)


@fails_with("the sin term is missing")
def _score_cos_only(q, k, delta: int, base: float = 10000.0):
    """Keeps only the cos term: sum (q0 k0 + q1 k1) cos(delta theta), the sin term dropped."""
    d = q.shape[-1]
    i = torch.arange(d // 2, device=q.device, dtype=torch.float64)
    phi = (delta * base ** (-2.0 * i / d)).to(q.dtype)
    return ((q[..., 0::2] * k[..., 0::2] + q[..., 1::2] * k[..., 1::2]) * phi.cos()).sum(-1)


@fails_with("computed for n - m")
def _score_n_minus_m(q, k, delta: int, base: float = 10000.0):
    """Uses n - m instead of m - n (the sin term's sign flipped)."""
    return rope_relative_score(q, k, -delta, base)


@fails_with("returned a numpy array(")
def _rope_numpy(x, positions, base=10000.0):
    """Rotates the pairs with numpy and returns a numpy array in x's dtype, not a tensor."""
    xn, p = x.detach().cpu().numpy(), positions.detach().cpu().numpy()
    angles = p[:, None] * base ** (-np.arange(0, x.shape[-1], 2) / x.shape[-1])
    cos, sin = np.cos(angles).astype(xn.dtype), np.sin(angles).astype(xn.dtype)
    out = np.empty_like(xn)
    out[..., 0::2] = xn[..., 0::2] * cos - xn[..., 1::2] * sin
    out[..., 1::2] = xn[..., 0::2] * sin + xn[..., 1::2] * cos
    return out


@fails_with("dtype=float32), expected a torch tensor")
def _score_numpy(q, k, delta: int, base: float = 10000.0):
    """Returns the score as a numpy array (computed on q and k's arrays), not a tensor."""
    qn, kn = q.detach().cpu().numpy(), k.detach().cpu().numpy()
    phi = delta * base ** (-np.arange(0, q.shape[-1], 2) / q.shape[-1])
    aligned = qn[..., 0::2] * kn[..., 0::2] + qn[..., 1::2] * kn[..., 1::2]
    crossed = qn[..., 0::2] * kn[..., 1::2] - qn[..., 1::2] * kn[..., 0::2]
    return (aligned * np.cos(phi) + crossed * np.sin(phi)).sum(-1).astype(qn.dtype)


@fails_with("modified its input x in place")
def _rope_in_place(x, positions, base: float = 10000.0):
    """Right rotation, but writes it into x and returns x (the caller's tensor is changed)."""
    x.copy_(apply_rope(x, positions, base))
    return x


@fails_with("rotated by the row index p (arange(n)), not by positions[p]")
def _rope_row_index(x, positions, base: float = 10000.0):
    """Ignores `positions`: rotates row p by p * theta_i (torch.arange(n)), right only when the
    positions are 0, 1, 2, ..."""
    return apply_rope(x, torch.arange(x.shape[-2], device=x.device), base)


@fails_with("returned float32 for float64 x")
def _rope_in_float32(x, positions, base: float = 10000.0):
    """Computes in float32 (x.float(), as for half precision) and returns that: right for
    float32, but a float64 x comes back float32, not in x's dtype."""
    return apply_rope(x.float(), positions, base)


# --- correct variants -------------------------------------------------------------------------


def _rope_view_as_complex(x, positions, base: float = 10000.0):
    """Complex multiplication with torch.view_as_complex / torch.polar."""
    d = x.shape[-1]
    theta = base ** (-torch.arange(0, d, 2, device=x.device, dtype=torch.float64) / d)
    angles = positions.to(torch.float64)[:, None] * theta
    rot = torch.polar(torch.ones_like(angles), angles)
    z = torch.view_as_complex(x.to(torch.float64).reshape(*x.shape[:-1], d // 2, 2).contiguous())
    return torch.view_as_real(z * rot).flatten(-2).to(x.dtype)


def _rope_rotation_matrix(x, positions, base: float = 10000.0):
    """Builds the block-diagonal d x d rotation matrix for every position (float32 angles)."""
    d = x.shape[-1]
    n = positions.shape[0]
    theta = base ** (-torch.arange(0, d, 2, device=x.device).float() / d)
    angles = positions.float()[:, None] * theta
    R = torch.zeros(n, d, d, device=x.device, dtype=x.dtype)
    c, s = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    idx = torch.arange(0, d, 2, device=x.device)
    R[:, idx, idx] = c
    R[:, idx, idx + 1] = -s
    R[:, idx + 1, idx] = s
    R[:, idx + 1, idx + 1] = c
    return torch.einsum("nij,...nj->...ni", R, x)


def _score_via_rotation(q, k, delta: int, base: float = 10000.0):
    """q^T R_{-delta}... written as rotating k by -delta and taking a dot product."""
    d = q.shape[-1]
    theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64, device=q.device) / d)
    a = (-delta * theta).to(q.dtype)
    k0, k1 = k[..., 0::2], k[..., 1::2]
    rk0 = k0 * a.cos() - k1 * a.sin()
    rk1 = k0 * a.sin() + k1 * a.cos()
    return (q[..., 0::2] * rk0 + q[..., 1::2] * rk1).sum(-1)


@fails_with("expected bfloat16")
def _wrong_float32_tables(x, positions, base: float = 10000.0):
    """Builds the cos and sin tables in float32 and multiplies them into x as they are: right
    for float32 and float64 x, but a bfloat16 x comes back float32."""
    d = x.shape[-1]
    theta = base ** (-torch.arange(0, d, 2, dtype=torch.float32, device=x.device) / d)
    angles = positions.float()[:, None] * theta[None, :]
    cos, sin = angles.cos(), angles.sin()
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1).flatten(-2)


@fails_with("compute the angles positions * theta in float32 or float64")
def _wrong_angles_in_dtype(x, positions, base=10000.0):
    """Builds theta and the angles in x's dtype: right for float32 x and small positions, but
    a bfloat16 x rounds positions * theta near 2000 to a multiple of 8 before cos and sin."""
    d = x.shape[-1]
    theta = base ** (-2.0 * torch.arange(d // 2, device=x.device, dtype=x.dtype) / d)
    angles = positions.to(x.dtype)[:, None] * theta[None, :]
    cos, sin = angles.cos(), angles.sin()
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1).flatten(-2)


WRONG_ANSWERS = {
    "apply_rope": [
        _wrong_angles_in_dtype,
        _rope_half_split,
        _rope_exponent_i_over_d,
        _rope_concatenated,
        _rope_wrong_direction,
        _rope_in_place,
        _rope_row_index,
        _wrong_float32_tables,
        _rope_in_float32,
        _rope_numpy,
    ],
    "rope_relative_score": [_score_cos_only, _score_n_minus_m, _score_numpy],
}

CORRECT_VARIANTS = {
    "apply_rope": [_rope_view_as_complex, _rope_rotation_matrix],
    "rope_relative_score": [_score_via_rotation],
}
