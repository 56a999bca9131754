"""Sinusoidal position encoding (Transformer, 2017) and its shift matrix: references, checkers
and typical mistakes."""

import numpy as np
import torch

from studycli.assertions import assert_close, call, expect, expect_tensor, fails_with


def sinusoidal_encoding(
    num_positions: int,
    dim: int,
    base: float = 10000.0,
) -> torch.Tensor:
    """The fixed sinusoidal position
    encoding of "Attention Is All You Need".

    For position p = 0 .. num_positions - 1 and pair index
    i = 0 .. dim/2 - 1:

        PE[p, 2i]   = sin(p / base ** (2i / dim))
        PE[p, 2i+1] = cos(p / base ** (2i / dim))

    Args:
        num_positions: number of positions (rows), >= 1.
        dim: encoding size (columns), even.
        base: the wavelength base (10000 in the paper).

    Returns:
        A float torch tensor of shape (num_positions, dim).
    """
    p = torch.arange(num_positions, dtype=torch.float64)[:, None]  # (P, 1)
    two_i = torch.arange(0, dim, 2, dtype=torch.float64)[None, :]  # (1, dim/2)
    angles = p / base ** (two_i / dim)
    pe = torch.empty(num_positions, dim, dtype=torch.float64)
    pe[:, 0::2] = angles.sin()
    pe[:, 1::2] = angles.cos()
    return pe.float()


def sinusoidal_shift_matrix(
    k: int,
    dim: int,
    base: float = 10000.0,
) -> torch.Tensor:
    """The matrix M_k with PE[p + k] = M_k @ PE[p] for every position p.

    PE is the sinusoidal encoding above (PE[p, 2i] = sin(p w_i),
    PE[p, 2i+1] = cos(p w_i), w_i = base ** (-2i / dim)). M_k does not
    depend on p: that is the linear relation between the encodings of
    positions k apart.

    Args:
        k: the offset (any integer, may be negative).
        dim: encoding size, even.
        base: the wavelength base.

    Returns:
        A float torch tensor of shape (dim, dim).
    """
    w = base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    c, s = torch.cos(k * w), torch.sin(k * w)
    m = torch.zeros(dim, dim, dtype=torch.float64)
    idx = torch.arange(0, dim, 2)
    # sin((p+k)w) =  cos(kw) sin(pw) + sin(kw) cos(pw)
    # cos((p+k)w) = -sin(kw) sin(pw) + cos(kw) cos(pw)
    m[idx, idx] = c
    m[idx, idx + 1] = s
    m[idx + 1, idx] = -s
    m[idx + 1, idx + 1] = c
    return m


def _pe_numpy(num_positions, dim, base=10000.0):
    """Ground truth, one entry at a time from the formula (numpy float64)."""
    pe = np.zeros((num_positions, dim))
    for i in range(dim // 2):
        freq = 1.0 / base ** (2 * i / dim)
        pe[:, 2 * i] = np.sin(np.arange(num_positions) * freq)
        pe[:, 2 * i + 1] = np.cos(np.arange(num_positions) * freq)
    return pe


def _expect_float_tensor(out, what, name="table"):
    """The cards ask for a float torch tensor: a numpy array of the right values is refused
    (assert_close compares values alone, and took one)."""
    expect_tensor(
        out,
        what,
        hint=f"build the {name} with torch (torch.arange, torch.sin, ...), or convert a numpy "
        "array with torch.from_numpy(...).float()",
    )
    expect(
        out.dtype.is_floating_point, what, f"returned dtype {out.dtype}, expected a float tensor"
    )


def check_sinusoidal_encoding(impl, device="cpu"):
    # Hand values: position 0 is (0, 1, 0, 1, ...); pair 0 has frequency 1.
    what = "sinusoidal_encoding(3, 4)"
    out = call(impl, what, 3, 4)
    _expect_float_tensor(out, what)
    want = np.array(
        [
            [0.0, 1.0, 0.0, 1.0],
            [np.sin(1.0), np.cos(1.0), np.sin(0.01), np.cos(0.01)],
            [np.sin(2.0), np.cos(2.0), np.sin(0.02), np.cos(0.02)],
        ]
    )
    hint = (
        "column 2i is sin(p / base^(2i/dim)), column 2i+1 is cos of the same angle; "
        "sin and cos alternate, they are not two halves"
    )
    angle = np.arange(3)[:, None] / 10000.0 ** (np.arange(0, 4, 2) / 4)  # (3, 2): pair angles
    by_column = np.arange(3)[:, None] / 10000.0 ** (np.arange(4) / 4)
    no_two = np.arange(3)[:, None] / 10000.0 ** (np.arange(2) / 4)
    mistakes = [
        (
            np.concatenate([np.sin(angle), np.cos(angle)], axis=1),
            "all sines first, then all cosines: sin and cos alternate column by column",
        ),
        (
            np.where(np.arange(4) % 2 == 0, np.sin(by_column), np.cos(by_column)),
            "the cos column 2i+1 used the exponent (2i+1)/dim: both columns of pair i use 2i/dim",
        ),
        (
            np.stack([np.sin(no_two), np.cos(no_two)], axis=-1).reshape(3, 4),
            "the exponent is 2i/dim: the factor 2 is missing (i/dim)",
        ),
    ]
    if tuple(out.shape) == (3, 4):
        got = out.detach().cpu().double().numpy()
        hint = next((text for value, text in mistakes if np.allclose(got, value, atol=1e-5)), hint)
    assert_close(out, want, what, atol=1e-5, rtol=1e-5, hint=hint)

    for num_positions, dim, base in [
        (1, 2, 10000.0),
        (1, 8, 10000.0),
        (5, 2, 10000.0),
        (7, 6, 10000.0),
        (50, 16, 10000.0),
        (128, 64, 10000.0),
        (600, 10, 10000.0),
        (33, 12, 100.0),
        (9, 32, 1000000.0),
    ]:
        what = f"sinusoidal_encoding({num_positions}, {dim}, base={base:g})"
        out = call(impl, what, num_positions, dim, base=base)
        _expect_float_tensor(out, what)
        expect(
            tuple(out.shape) == (num_positions, dim),
            what,
            f"returned shape {tuple(out.shape)}, expected ({num_positions}, {dim})",
        )
        assert_close(
            out,
            _pe_numpy(num_positions, dim, base),
            what,
            atol=2e-4,
            rtol=1e-4,
            hint="the exponent is 2i/dim with i the PAIR index (0 .. dim/2 - 1), the same "
            "for the sin column 2i and the cos column 2i+1",
        )


def check_sinusoidal_shift_matrix(impl, device="cpu"):
    for k, dim, base in [
        (0, 4, 10000.0),
        (1, 2, 10000.0),
        (1, 8, 10000.0),
        (5, 16, 10000.0),
        (-3, 16, 10000.0),
        (37, 32, 10000.0),
        (2, 6, 100.0),
    ]:
        what = f"sinusoidal_shift_matrix({k}, {dim}, base={base:g})"
        m = call(impl, what, k, dim, base=base)
        _expect_float_tensor(m, what, name="matrix")
        expect(
            tuple(m.shape) == (dim, dim),
            what,
            f"returned shape {tuple(m.shape)}, expected ({dim}, {dim})",
        )
        m = m.detach().cpu().double().numpy()
        pe = _pe_numpy(200 + abs(k), dim, base)
        start = max(0, -k)
        p = np.arange(start, start + 150)
        hint = (
            "per pair: sin((p+k)w) = cos(kw) sin(pw) + sin(kw) cos(pw) and "
            "cos((p+k)w) = -sin(kw) sin(pw) + cos(kw) cos(pw)"
        )
        right = _shift_numpy(k, dim, base)
        mistakes = [
            (
                right.T,
                "this matrix shifts by -k: with sin stored before cos, the first row of a "
                "block is (cos kw, sin kw), the second (-sin kw, cos kw)",
            ),
            (
                _shift_numpy(k, dim, base, frequency=False),
                "every pair was rotated by the angle k: pair i turns by k w_i, "
                "w_i = base^(-2i/dim)",
            ),
        ]
        for value, text in mistakes:
            if not np.allclose(value, right) and np.allclose(m, value, atol=1e-6):
                hint = text
        assert_close(
            pe[p] @ m.T,
            pe[p + k],
            f"{what} @ PE[p] vs PE[p + {k}] for p = {start} .. {start + 149}",
            atol=1e-5,
            rtol=1e-5,
            hint=hint,
        )


def _shift_numpy(k, dim, base, frequency=True):
    """The block-diagonal shift matrix, from the angle-addition formulas (numpy float64)."""
    m = np.zeros((dim, dim))
    for i in range(dim // 2):
        a = k / base ** (2 * i / dim) if frequency else float(k)
        m[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = [[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]]
    return m


# --- wrong answers ----------------------------------------------------------------------------


@fails_with("all sines first, then all cosines")
def _pe_halves(num_positions: int, dim: int, base: float = 10000.0):
    """All sines in the first half and all cosines in the second, instead of alternating."""
    p = torch.arange(num_positions, dtype=torch.float64)[:, None]
    angles = p / base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    return torch.cat((angles.sin(), angles.cos()), dim=-1).float()


@fails_with("returned a numpy array of shape (3, 4), dtype=float64, expected a torch tensor")
def _pe_numpy_array(num_positions: int, dim: int, base: float = 10000.0):
    """The right table as a numpy array, not the torch tensor the card asks for."""
    angles = np.arange(num_positions)[:, None] / base ** (np.arange(0, dim, 2) / dim)
    pe = np.empty((num_positions, dim))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles)
    return pe


@fails_with("the cos column 2i+1 used the exponent (2i+1)/dim")
def _pe_column_index_exponent(num_positions: int, dim: int, base: float = 10000.0):
    """Exponent j/dim with j the column index, so the cos column 2i+1 uses (2i+1)/dim."""
    p = torch.arange(num_positions, dtype=torch.float64)[:, None]
    j = torch.arange(dim, dtype=torch.float64)
    angles = p / base ** (j / dim)
    return torch.where(j % 2 == 0, angles.sin(), angles.cos()).float()


@fails_with("the factor 2 is missing")
def _pe_exponent_i_over_dim(num_positions: int, dim: int, base: float = 10000.0):
    """Exponent i/dim (pair index without the factor 2) instead of 2i/dim."""
    p = torch.arange(num_positions, dtype=torch.float64)[:, None]
    angles = p / base ** (torch.arange(dim // 2, dtype=torch.float64) / dim)
    pe = torch.empty(num_positions, dim, dtype=torch.float64)
    pe[:, 0::2] = angles.sin()
    pe[:, 1::2] = angles.cos()
    return pe.float()


@fails_with("this matrix shifts by -k")
def _shift_transposed(k: int, dim: int, base: float = 10000.0):
    """Blocks [[cos, -sin], [sin, cos]] (the textbook rotation layout): with sin stored before cos that shifts by -k."""
    return sinusoidal_shift_matrix(k, dim, base).T.contiguous()


@fails_with("every pair was rotated by the angle k")
def _shift_no_frequency(k: int, dim: int, base: float = 10000.0):
    """Rotates every pair by the angle k, forgetting the pair's frequency w_i."""
    m = torch.zeros(dim, dim, dtype=torch.float64)
    c, s = float(np.cos(k)), float(np.sin(k))
    for i in range(0, dim, 2):
        m[i, i], m[i, i + 1], m[i + 1, i], m[i + 1, i + 1] = c, s, -s, c
    return m


@fails_with("returned a numpy array of shape (4, 4), dtype=float64, expected a torch tensor")
def _shift_numpy_array(k: int, dim: int, base: float = 10000.0):
    """The right matrix as a numpy array, not the torch tensor the card asks for."""
    return _shift_numpy(k, dim, base)


# --- correct variants -------------------------------------------------------------------------


def _pe_div_term_float32(num_positions: int, dim: int, base: float = 10000.0):
    """The common exp(-log(base) 2i / dim) form, in float32 throughout."""
    position = torch.arange(num_positions).float().unsqueeze(1)
    div_term = torch.exp(torch.arange(0, dim, 2).float() * (-np.log(base) / dim))
    pe = torch.zeros(num_positions, dim)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe


def _shift_block_diag(k: int, dim: int, base: float = 10000.0):
    """torch.block_diag of the 2 x 2 blocks, float32."""
    blocks = []
    for i in range(dim // 2):
        a = k / base ** (2 * i / dim)
        blocks.append(
            torch.tensor([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]], dtype=torch.float32)
        )
    return torch.block_diag(*blocks)


WRONG_ANSWERS = {
    "sinusoidal_encoding": [
        _pe_halves,
        _pe_numpy_array,
        _pe_column_index_exponent,
        _pe_exponent_i_over_dim,
    ],
    "sinusoidal_shift_matrix": [_shift_transposed, _shift_no_frequency, _shift_numpy_array],
}

CORRECT_VARIANTS = {
    "sinusoidal_encoding": [_pe_div_term_float32],
    "sinusoidal_shift_matrix": [_shift_block_diag],
}
