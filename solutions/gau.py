"""GAU's attention without softmax: squared-ReLU weights scaled by the sequence length.

Card: gau-attention (coding). The normalisation is the one of Su Jianlin's write-up of
"Transformer Quality in Linear Time" (Hua et al., 2022) and of his bert4keras GAU:
A = relu(q k^T / sqrt(s))^2 / n, with s the query/key size and n the number of keys.
"""

import math

import torch

from studycli.assertions import assert_close, call_unchanged, describe, expect, fails_with


def gau_attention(q, k, v):
    """The attention of a Gated Attention Unit (GAU): weights without a
    softmax, applied to v.

    Args:
        q: (..., Lq, s) queries (s is the small shared query/key size, 128
            in the paper).
        k: (..., Lk, s) keys, same leading dims as q.
        v: (..., Lk, e) values.

    Returns:
        (..., Lq, e) in the inputs' dtype, a new tensor (q, k and v are
        left unchanged): A v, with A the (..., Lq, Lk) matrix of GAU's
        attention weights. The weights are non-negative and a row need not
        sum to 1.
    """
    # A = relu(q k^T / sqrt(s))^2 / n with n = Lk: no row max, no row sum, no exp.
    s, n = q.shape[-1], k.shape[-2]
    scores = q @ k.transpose(-1, -2) / math.sqrt(s)
    weights = torch.relu(scores) ** 2 / n
    return weights @ v


# --- checker ----------------------------------------------------------------------------------


def _brute_force(q, k, v):
    """Entry by entry, in float64: out[i] = sum_j relu(q_i . k_j / sqrt(s))^2 / Lk * v_j."""
    q, k, v = q.double().cpu(), k.double().cpu(), v.double().cpu()
    lead, (lq, s), (lk, e) = q.shape[:-2], q.shape[-2:], v.shape[-2:]
    q, k, v = q.reshape(-1, lq, s), k.reshape(-1, lk, s), v.reshape(-1, lk, e)
    out = torch.zeros(q.shape[0], lq, e, dtype=torch.float64)
    for b in range(q.shape[0]):
        for i in range(lq):
            for j in range(lk):
                score = float(q[b, i] @ k[b, j]) / math.sqrt(s)
                out[b, i] += max(score, 0.0) ** 2 / lk * v[b, j]
    return out.reshape(*lead, lq, e)


def _variants(q, k, v):
    """The outputs of typical mistakes, with the hint that names each."""
    q, k, v = q.double().cpu(), k.double().cpu(), v.double().cpu()
    s, n = q.shape[-1], k.shape[-2]
    scores = q @ k.transpose(-1, -2) / math.sqrt(s)
    return [
        (
            torch.softmax(scores, dim=-1) @ v,
            "this is softmax attention: GAU drops the softmax; its weights are "
            "relu(q k^T / sqrt(s))^2 / n",
        ),
        (torch.relu(scores) ** 2 @ v, "the 1/n is missing: divide the squared ReLU by n = Lk"),
        (
            torch.relu(scores) / n @ v,
            "the ReLU is not squared: the weights are relu(...)^2 / n",
        ),
        (
            torch.relu(scores * math.sqrt(s)) ** 2 / n @ v,
            "no 1/sqrt(s): the scores are q k^T / sqrt(s), s = q.shape[-1]",
        ),
        (
            torch.relu(scores * math.sqrt(s) / n) ** 2 @ v,
            "that is relu(q k^T / n)^2, the FLASH paper's scaling: this card asks for "
            "Su's relu(q k^T / sqrt(s))^2 / n, s = q.shape[-1], n = Lk",
        ),
        *(
            (
                weights / weights.sum(-1, keepdim=True) @ v,
                "each row of weights is divided by its sum: GAU does not normalise rows "
                "(a row need not sum to 1); divide relu(q k^T / sqrt(s))^2 by n = Lk instead",
            )
            for weights in (torch.relu(scores) ** 2, torch.relu(scores))
        ),
    ]


def _diagnose(got, q, k, v, default):
    if isinstance(got, torch.Tensor):
        got = got.detach().double().cpu()
        for value, hint in _variants(q, k, v):
            if got.shape == value.shape and torch.allclose(got, value, atol=1e-6, rtol=1e-5):
                return hint
    return default


SAME_DTYPE = (
    "the output comes back in the inputs' dtype (a float64 output doubles the memory of every "
    "layer after it; compute in float64 if you like, then cast back)"
)


IN_PLACE_HINT = (
    "return a new tensor and leave q, k and v as they came (q / math.sqrt(s), not "
    "q /= math.sqrt(s), which divides the caller's tensor): the caller still holds them"
)


def check_gau_attention(impl, device="cpu"):
    gen = torch.Generator().manual_seed(0)
    hint = "out = relu(q k^T / sqrt(s))^2 / n @ v, with s = q.shape[-1] and n = Lk"

    def run(q, k, v, note="", rule=None):
        what = f"gau_attention(q {describe(q)}, k {describe(k)}, v {describe(v)}){note}"
        got = call_unchanged(
            impl, what, ("q", "k", "v"), q.clone(), k.clone(), v.clone(), hint=IN_PLACE_HINT
        )
        expect(
            isinstance(got, torch.Tensor), what, f"returned {type(got).__name__}, expected a tensor"
        )
        expect(
            got.dtype == q.dtype,
            what,
            f"returned {str(got.dtype)[6:]} for {str(q.dtype)[6:]} q, k, v: {SAME_DTYPE}",
        )
        tol = 1e-10 if q.dtype == torch.float64 else 1e-5
        assert_close(
            got,
            _brute_force(q, k, v),
            what,
            atol=tol,
            rtol=tol,
            hint=_diagnose(got, q, k, v, rule or hint),
        )
        return got

    # Hand-sized: s = 4 and n = 3 keys with scores 6/2 = 3, 12/2 = 6 and -6/2 = -3, so the
    # weights are relu(3)^2 / 3 = 3, relu(6)^2 / 3 = 12 and 0: out = (3, 12). sqrt(s) = 2,
    # s = 4 and n = 3 all differ and two scores are positive and unequal, so each mistake in
    # _variants gives its own output here (no 1/n: (9, 36); relu not squared: (1, 2); no
    # 1/sqrt(s): (12, 48); relu(q k^T / n)^2: (4, 16); rows divided by their sum: (0.2, 0.8)).
    q = torch.tensor([[3.0, 3.0, 0.0, 0.0]], dtype=torch.float64, device=device)
    k = torch.tensor(
        [[1.0, 1.0, 0.0, 0.0], [2.0, 2.0, 0.0, 0.0], [-1.0, -1.0, 0.0, 0.0]], dtype=torch.float64
    )
    v = torch.tensor([[1.0, 0.0], [0.0, 1.0], [10.0, 20.0]], dtype=torch.float64)
    run(q, k.to(device), v.to(device), " [weights 3, 12 and 0]")

    # Every score negative: the ReLU zeroes every weight, so the output is exactly 0,
    # where a softmax would still average the values.
    q = torch.ones(2, 3, dtype=torch.float64, device=device)
    k = -torch.ones(4, 3, dtype=torch.float64, device=device)
    v = torch.randn(4, 5, generator=gen, dtype=torch.float64).to(device)
    run(q, k, v, " [every score negative]", rule="every score is negative, so every weight is 0")

    # Seeded random inputs over shapes, Lq != Lk, s != e, float32 and float64.
    for batch, lq, lk, s, e, dtype in [
        ((), 1, 1, 1, 1, torch.float64),
        ((), 5, 7, 8, 3, torch.float64),
        ((2,), 6, 6, 16, 16, torch.float32),
        ((2, 3), 9, 4, 8, 5, torch.float32),
        ((3,), 1, 10, 32, 7, torch.float64),
        ((1,), 13, 21, 12, 20, torch.float32),
    ]:
        q = torch.randn(*batch, lq, s, generator=gen, dtype=dtype).to(device)
        k = torch.randn(*batch, lk, s, generator=gen, dtype=dtype).to(device)
        v = torch.randn(*batch, lk, e, generator=gen, dtype=dtype).to(device)
        run(q, k, v)

    # The 1/n: listing every key/value pair twice doubles n and every sum over keys, so the
    # output must not change.
    q = torch.randn(2, 5, 8, generator=gen, dtype=torch.float64).to(device)
    k = torch.randn(2, 6, 8, generator=gen, dtype=torch.float64).to(device)
    v = torch.randn(2, 6, 3, generator=gen, dtype=torch.float64).to(device)
    once = run(q, k, v)
    twice = run(q, torch.cat([k, k], -2), torch.cat([v, v], -2), " [keys twice]")
    assert_close(
        twice,
        once,
        "gau_attention with every key/value pair listed twice vs once",
        atol=1e-10,
        rtol=1e-10,
        hint="the 1/n makes the output independent of such a duplication",
    )


# --- wrong answers ----------------------------------------------------------------------------


@fails_with("this is softmax attention")
def _wrong_softmax(q, k, v):
    """Standard softmax attention instead of GAU's squared ReLU."""
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    return torch.softmax(scores, dim=-1) @ v


@fails_with("the 1/n is missing")
def _wrong_no_length_scale(q, k, v):
    """Squared ReLU without the division by the number of keys n."""
    return torch.relu(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])) ** 2 @ v


@fails_with("the ReLU is not squared")
def _wrong_relu_not_squared(q, k, v):
    """relu(scores) / n: the ReLU is not squared."""
    return torch.relu(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])) / k.shape[-2] @ v


@fails_with("no 1/sqrt(s)")
def _wrong_no_scale(q, k, v):
    """Forgets the 1/sqrt(s) on the scores."""
    return torch.relu(q @ k.transpose(-1, -2)) ** 2 / k.shape[-2] @ v


@fails_with("the FLASH paper's scaling")
def _wrong_flash_scaling(q, k, v):
    """relu(q k^T / n)^2, the FLASH paper's form, instead of relu(q k^T / sqrt(s))^2 / n."""
    return torch.relu(q @ k.transpose(-1, -2) / k.shape[-2]) ** 2 @ v


@fails_with("each row of weights is divided by its sum")
def _wrong_row_normalised(q, k, v):
    """Divides each row of squared-ReLU weights by its sum, as a softmax would, not by n."""
    weights = torch.relu(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])) ** 2
    return weights / weights.sum(-1, keepdim=True) @ v


@fails_with("the output comes back in the inputs' dtype")
def _wrong_upcast(q, k, v):
    """Computes in float64 (q.double(), ...) and returns float64 for float32 inputs."""
    return gau_attention(q.double(), k.double(), v.double())


@fails_with("modified its input q in place")
def _wrong_scales_q_in_place(q, k, v):
    """Scales q with q /= sqrt(s), which on a tensor divides the caller's q in place."""
    q /= math.sqrt(q.shape[-1])
    return torch.relu(q @ k.transpose(-1, -2)) ** 2 / k.shape[-2] @ v


# --- correct variants -------------------------------------------------------------------------


def _variant_einsum(q, k, v):
    """einsum, and 1/(n s) pulled out of the square: relu(x / sqrt(s))^2 = relu(x)^2 / s."""
    s, n = q.shape[-1], k.shape[-2]
    weights = torch.clamp(torch.einsum("...is,...js->...ij", q, k), min=0).square()
    return torch.einsum("...ij,...je->...ie", weights, v) / (n * s)


WRONG_ANSWERS = {
    "gau_attention": [
        _wrong_upcast,
        _wrong_scales_q_in_place,
        _wrong_softmax,
        _wrong_no_length_scale,
        _wrong_relu_not_squared,
        _wrong_no_scale,
        _wrong_flash_scaling,
        _wrong_row_normalised,
    ],
}

CORRECT_VARIANTS = {"gau_attention": [_variant_einsum]}
