"""Scaled dot-product attention: the reference, its checker and typical mistakes."""

import math

import torch

from studycli.assertions import (
    ATTENTIONS,
    assert_close,
    call_unchanged,
    describe,
    expect,
    expect_tensor,
    fails_with,
    forbid,
)


def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d)) v, with an optional boolean mask.

    Args:
        q: tensor of shape (..., Lq, d).
        k: tensor of shape (..., Lk, d).
        v: tensor of shape (..., Lk, dv).
        mask: None, or a bool tensor of shape (Lq, Lk): True where query i
            may attend to key j, False where it may not (its weight must
            be exactly 0). Every row has a True.

    Returns:
        Tensor of shape (..., Lq, dv) in the dtype of q, k and v, the same
        numbers as torch.nn.functional.scaled_dot_product_attention(q, k,
        v, attn_mask=mask).
    """
    d = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)  # (..., Lq, Lk)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    scores = scores - scores.amax(dim=-1, keepdim=True)  # stable: the max becomes 0
    weights = scores.exp()
    weights = weights / weights.sum(dim=-1, keepdim=True)
    return weights @ v


def _random_mask(lq, lk, gen, device):
    mask = torch.rand(lq, lk, generator=gen) < 0.6
    mask[torch.arange(lq), torch.randint(0, lk, (lq,), generator=gen)] = True  # no empty row
    return mask.to(device)


def _diagnose(got, alternatives, default):
    """The hint of the first (value, hint) alternative that `got` matches, else `default`:
    a wrong output that equals a known mistake's output is named as that mistake."""
    if isinstance(got, torch.Tensor):
        got = got.detach().double().cpu()
        for value, hint in alternatives:
            value = value.double().cpu()
            if got.shape == value.shape and torch.allclose(got, value, atol=1e-5, rtol=1e-4):
                return hint
    return default


IN_PLACE_HINT = (
    "return a new tensor and leave q, k and v as they came (q / math.sqrt(d), not q /= "
    "math.sqrt(d) or q.div_(...), which divides the caller's tensor)"
)

QKV = ("q", "k", "v")

SOFTMAX_AXIS = (
    "the softmax ran over the queries (axis -2): each row's weights over the keys (the last "
    "axis) must sum to 1, so normalise with dim=-1"
)


def _softmax_over_queries(q, k, v):
    """What an answer that normalises each key's column (softmax over dim -2) returns."""
    scores = q.double() @ k.double().transpose(-2, -1) / math.sqrt(q.shape[-1])
    return torch.softmax(scores, dim=-2) @ v.double()


def _check_mask_rules(impl, gen, device):
    """With v = I the output IS the weight matrix, so the mask rules can be read off it."""
    lq, lk, d = 6, 5, 8
    q = torch.randn(lq, d, generator=gen).to(device)
    k = torch.randn(lk, d, generator=gen).to(device)
    v = torch.eye(lk, device=device)
    mask = _random_mask(lq, lk, gen, device)
    what = (
        f"scaled_dot_product_attention(q {tuple(q.shape)}, k {tuple(k.shape)}, v = identity "
        f"(so the output is the weight matrix), mask={describe(mask, 64)})"
    )
    weights = call_unchanged(impl, what, QKV, q, k, v, mask, hint=IN_PLACE_HINT)
    expect(
        isinstance(weights, torch.Tensor) and weights.shape == (lq, lk),
        what,
        f"returned {describe(weights)}, expected a tensor of shape {(lq, lk)}",
    )
    weights = weights.detach().double().cpu()
    allowed = mask.cpu()
    leaked = weights[~allowed].abs().max().item() if (~allowed).any() else 0.0
    if leaked > 1e-6:
        mixed = (~allowed).any(-1) & allowed.any(-1)  # rows with both allowed and blocked keys
        inverted = bool((weights[mixed] * allowed[mixed]).abs().max() < 1e-6)
        expect(
            False,
            what,
            f"a pair whose mask is False got weight {leaked:.3g}; it must be exactly 0",
            hint="mask polarity inverted: True means 'may attend', False means blocked"
            if inverted
            else "set the scores where the mask is False to -inf before the softmax",
        )
    sums = weights.sum(-1)
    worst = int((sums - 1).abs().argmax())
    expect(
        abs(sums[worst].item() - 1) < 1e-5,
        what,
        f"the weights of row {worst} sum to {sums[worst].item():.6g}",
        hint="rows must sum to 1 over the allowed keys: mask the scores before the softmax, "
        "not the weights after it",
    )


def check_scaled_dot_product_attention(impl, device="cpu"):
    impl = forbid(
        impl, *ATTENTIONS, reason="write the attention from q k^T, the mask and a softmax"
    )
    from torch.nn.functional import scaled_dot_product_attention as sdpa

    gen = torch.Generator().manual_seed(0)
    tol = dict(atol=1e-5, rtol=1e-4)

    # One query, two keys, hand-checkable: scores 0 and 2/sqrt(4) = 1. d = 4 and dv = 2 differ,
    # so a scale by the value size is told apart from the right one.
    q = torch.tensor([[1.0, 1.0, 0.0, 0.0]], device=device)
    k = torch.tensor([[0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]], device=device)
    v = torch.tensor([[0.0, 0.0], [1.0, 2.0]], device=device)
    what = f"scaled_dot_product_attention(q={describe(q)}, k={describe(k)}, v={describe(v)})"
    got = call_unchanged(impl, what, QKV, q, k, v, hint=IN_PLACE_HINT)
    expect_tensor(got, what)  # (a numpy array of the right shape was told the shape it had)

    def weight_of_key_1(score_1):  # softmax([0, score_1])[1] times v's rows
        w = math.exp(score_1) / (1 + math.exp(score_1))
        return torch.tensor([[w, 2 * w]])

    hint = _diagnose(
        got,
        [
            (weight_of_key_1(2.0), "no 1/sqrt(d) scaling: the scores are q . k / sqrt(d)"),
            (
                weight_of_key_1(2.0 / math.sqrt(2)),
                "scaled by sqrt(dv), the value size: the scale uses d, the size of q and k",
            ),
            (_softmax_over_queries(q, k, v), SOFTMAX_AXIS),
        ],
        "scores are q . k / sqrt(d) with d = 4 here, so the weights are softmax([0, 1])",
    )
    assert_close(got, weight_of_key_1(1.0), what, **tol, hint=hint)

    _check_mask_rules(impl, gen, device)

    cases = [
        ((), 1, 1, 1, 1),
        ((), 5, 7, 8, 3),
        ((2,), 6, 6, 16, 16),
        ((2, 3), 9, 4, 8, 5),
        ((3,), 1, 10, 32, 7),
        ((2, 2), 16, 16, 64, 64),
        ((1,), 13, 21, 12, 20),
    ]
    for batch, lq, lk, d, dv in cases:
        q = torch.randn(*batch, lq, d, generator=gen).to(device)
        k = torch.randn(*batch, lk, d, generator=gen).to(device)
        v = torch.randn(*batch, lk, dv, generator=gen).to(device)
        shapes = f"q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}"
        what = f"scaled_dot_product_attention({shapes})"
        got = call_unchanged(impl, what, QKV, q, k, v, hint=IN_PLACE_HINT)
        expect(
            getattr(got, "dtype", None) == q.dtype,
            what,
            f"returned {describe(got)} for float32 q, k, v: the output comes back in the inputs' "
            "dtype (an attention that upcasts moves twice the memory; cast back with "
            ".to(q.dtype) if you compute in float64)",
        )
        assert_close(
            got,
            sdpa(q, k, v),
            what,
            **tol,
            hint="divide the scores by sqrt(d), the size of q and k's last dimension (not of v's)",
        )
        what = f"scaled_dot_product_attention({shapes}, mask=None)"
        assert_close(
            call_unchanged(impl, what, QKV, q, k, v, mask=None, hint=IN_PLACE_HINT),
            sdpa(q, k, v),
            what,
            **tol,
        )

        mask = _random_mask(lq, lk, gen, device)
        what = f"scaled_dot_product_attention({shapes}, mask={describe(mask)})"
        assert_close(
            call_unchanged(impl, what, QKV, q, k, v, mask, hint=IN_PLACE_HINT),
            sdpa(q, k, v, attn_mask=mask),
            what,
            **tol,
            hint="True means 'may attend': set the scores where the mask is False to -inf "
            "BEFORE the softmax, so the remaining weights still sum to 1",
        )

        if lq == lk:
            causal = torch.ones(lq, lk, dtype=torch.bool, device=device).tril()
            what = f"scaled_dot_product_attention({shapes}, mask=causal (lower triangle True))"
            assert_close(
                call_unchanged(impl, what, QKV, q, k, v, causal, hint=IN_PLACE_HINT),
                sdpa(q, k, v, attn_mask=causal),
                what,
                **tol,
            )

    # Large scores: a softmax without the max subtracted overflows to inf / nan.
    q = 60 * torch.randn(2, 5, 16, generator=gen).to(device)
    k = 60 * torch.randn(2, 6, 16, generator=gen).to(device)
    v = torch.randn(2, 6, 4, generator=gen).to(device)
    mask = _random_mask(5, 6, gen, device)
    for m in (None, mask):
        what = f"scaled_dot_product_attention(q, k with scores in the 1000s, mask={describe(m)})"
        assert_close(
            call_unchanged(impl, what, QKV, q, k, v, m, hint=IN_PLACE_HINT),
            sdpa(q, k, v, attn_mask=m),
            what,
            atol=1e-4,
            rtol=1e-4,
            hint="exp(1000) overflows: subtract the row maximum before exponentiating",
        )

    # Scores in the thousands can be very negative too: here every score is below -12000, so a
    # finite stand-in for -inf such as -1e4 is above them all and takes the masked keys' weight.
    q = torch.full((2, 4), 0.5, device=device)
    k = -(12000 + torch.arange(4.0, device=device))[:, None].expand(4, 4)
    v = torch.eye(4, device=device)
    mask = torch.tensor([[True, False, True, False], [False, True, False, True]], device=device)
    what = (
        "scaled_dot_product_attention(q, k with scores [-12000, -12001, -12002, -12003] in every "
        f"row, v = identity (so the output is the weight matrix), mask={describe(mask)})"
    )
    assert_close(
        call_unchanged(impl, what, QKV, q, k, v, mask, hint=IN_PLACE_HINT),
        sdpa(q.double(), k.double(), v.double(), attn_mask=mask),
        what,
        atol=1e-2,  # float32 scores near -12000 are only good to ~1e-3
        rtol=1e-2,
        hint="masked scores must be -inf, below any score: these scores are all under -1e4, so a "
        "stand-in such as -1e4 is the largest in its row and takes the weight",
    )

    # ... and a masked score can be far above the allowed ones: key 0's score is 12000 and it is
    # masked, so a mask added as a finite offset (scores + -1e4 where masked, as some libraries
    # do) leaves it the largest, where a masked key's weight must be exactly 0.
    q = torch.tensor([[2.0, 0.0, 0.0, 0.0]], device=device)
    k = torch.tensor([[12000.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]], device=device)
    v = torch.eye(2, device=device)
    mask = torch.tensor([[False, True]], device=device)
    what = (
        "scaled_dot_product_attention(q, k with scores [12000, 0], v = identity (so the output "
        f"is the weights), mask={describe(mask)}: key 0, the high one, masked)"
    )
    assert_close(
        call_unchanged(impl, what, QKV, q, k, v, mask, hint=IN_PLACE_HINT),
        torch.tensor([[0.0, 1.0]], device=device),
        what,
        atol=1e-6,
        rtol=0,
        hint="a masked key's weight must be exactly 0, whatever its score: set masked scores "
        "to -inf (masked_fill); adding a finite offset such as -1e4 leaves a score of 12000 "
        "the largest in its row",
    )

    # bfloat16 inputs, as attention runs under mixed precision: the output comes back in
    # bfloat16 (every case above is float32, where a softmax taken in float32 for stability,
    # q.float(), is the inputs' dtype whether or not it is cast back).
    q = torch.randn(2, 7, 16, generator=gen).to(device=device, dtype=torch.bfloat16)
    k = torch.randn(2, 9, 16, generator=gen).to(device=device, dtype=torch.bfloat16)
    v = torch.randn(2, 9, 8, generator=gen).to(device=device, dtype=torch.bfloat16)
    mask = _random_mask(7, 9, gen, device)
    for m in (None, mask):
        what = (
            f"scaled_dot_product_attention(q {describe(q)}, k {describe(k)}, v {describe(v)}, "
            f"mask={describe(m)})"
        )
        got = call_unchanged(impl, what, QKV, q, k, v, m, hint=IN_PLACE_HINT)
        expect(
            getattr(got, "dtype", None) == q.dtype,
            what,
            f"returned {describe(got)} for bfloat16 q, k, v: the output comes back in the "
            "inputs' dtype (compute the softmax in float32 if you like, then cast back with "
            ".to(q.dtype))",
        )
        assert_close(  # bfloat16 keeps 8 bits: its outputs are good to about 1e-2
            got,
            sdpa(q.double(), k.double(), v.double(), attn_mask=m),
            what,
            atol=3e-2,
            rtol=3e-2,
            hint="scores are q . k / sqrt(d); True in the mask means 'may attend'",
        )


# --- wrong answers ----------------------------------------------------------------------------


@fails_with("comes back in the inputs' dtype")
def _sdpa_upcast(q, k, v, mask=None):
    """Computes in float64 (q.double(), ...) for accuracy and returns that for float32 inputs."""
    q, k, v = q.double(), k.double(), v.double()
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    scores = scores - scores.amax(dim=-1, keepdim=True)
    weights = scores.exp()
    return (weights / weights.sum(dim=-1, keepdim=True)) @ v


@fails_with("for bfloat16 q, k, v")
def _sdpa_float32_softmax_not_cast_back(q, k, v, mask=None):
    """Upcasts to float32 (q.float(), ...) for a stable softmax and returns the float32 result:
    right for float32 inputs, but bfloat16 inputs get a float32 output."""
    q, k, v = q.float(), k.float(), v.float()
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


@fails_with("no 1/sqrt(d) scaling")
def _sdpa_no_scaling(q, k, v, mask=None):
    """Forgets the 1/sqrt(d) scaling of the scores."""
    scores = q @ k.transpose(-2, -1)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


@fails_with("scaled by sqrt(dv)")
def _sdpa_scale_by_dv(q, k, v, mask=None):
    """Scales by sqrt(dv), the value size, instead of sqrt(d)."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(v.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


@fails_with("rows must sum to 1")
def _sdpa_mask_after_softmax(q, k, v, mask=None):
    """Zeroes the masked weights after the softmax, so the rows no longer sum to 1."""
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    if mask is not None:
        weights = weights * mask
    return weights @ v


@fails_with("mask polarity inverted")
def _sdpa_mask_inverted(q, k, v, mask=None):
    """Mask polarity inverted: blocks the positions where the mask is True."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(mask, -1e9)
    return torch.softmax(scores, dim=-1) @ v


@fails_with("exp(1000) overflows")
def _sdpa_unstable_softmax(q, k, v, mask=None):
    """exp of the raw scores without subtracting the max: overflows for large scores."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.exp()
    return weights / weights.sum(-1, keepdim=True) @ v


@fails_with("a stand-in such as -1e4")
def _sdpa_mask_minus_1e4(q, k, v, mask=None):
    """Masks with -1e4 instead of -inf: when every allowed score is below -1e4, the masked keys
    take the weight."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, -1e4)
    return torch.softmax(scores, dim=-1) @ v


@fails_with("adding a finite offset such as -1e4 leaves a score of 12000")
def _sdpa_additive_minus_1e4(q, k, v, mask=None):
    """Adds -1e4 to the masked scores (as BERT's original code does) instead of setting them
    to -inf: a masked score more than 1e4 above the others still takes the weight."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores + (~mask).to(scores.dtype) * -1e4
    return torch.softmax(scores, dim=-1) @ v


@fails_with("each row's weights over the keys (the last axis) must sum to 1")
def _sdpa_softmax_over_queries(q, k, v, mask=None):
    """Normalises over the queries (dim=-2) instead of over the keys: each key's column of
    weights sums to 1, not each query's row."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-2) @ v


@fails_with("modified its input q in place")
def _sdpa_scales_q_in_place(q, k, v, mask=None):
    """Right numbers, but q.div_ scales the caller's q: a checker that computed its target from
    q after the call said the scores lacked the 1/sqrt(d) scale, which this answer has."""
    scores = q.div_(math.sqrt(q.shape[-1])) @ k.transpose(-2, -1)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


# --- correct variants -------------------------------------------------------------------------


def _sdpa_softmax_large_negative(q, k, v, mask=None):
    """torch.softmax, and a large negative number rather than -inf for masked scores."""
    scores = torch.einsum("...id,...jd->...ij", q, k) * q.shape[-1] ** -0.5
    if mask is not None:
        scores = torch.where(mask, scores, torch.full_like(scores, -1e30))
    return torch.einsum("...ij,...jd->...id", scores.softmax(-1), v)


@fails_with("calls scaled_dot_product_attention")
def _wrong_calls_library(q, k, v, mask=None):
    """Calls F.scaled_dot_product_attention, the routine the card is about."""
    import torch.nn.functional as F

    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


@fails_with("returned a numpy array(")
def _sdpa_numpy(q, k, v, mask=None):
    """The right attention, computed with numpy and returned as a numpy array, not a tensor."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    qn, kn, vn = (t.detach().cpu().numpy() for t in (q, k, v))
    scores = qn @ np.swapaxes(kn, -2, -1) / math.sqrt(qn.shape[-1])
    if mask is not None:
        scores = np.where(mask.cpu().numpy(), scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True) @ vn


@fails_with("the answer calls _scaled_dot_product_attention_math")
def _sdpa_math_kernel(q, k, v, mask=None):
    """Calls torch._scaled_dot_product_attention_math, the routine behind the library's
    attention on the CPU, with the mask made additive: past a check of the public names."""
    if mask is not None:
        blocked = torch.zeros(mask.shape, dtype=q.dtype, device=q.device)
        mask = blocked.masked_fill(~mask, float("-inf"))
    return torch._scaled_dot_product_attention_math(q, k, v, attn_mask=mask)[0]


WRONG_ANSWERS = {
    "scaled_dot_product_attention": [
        _wrong_calls_library,
        _sdpa_math_kernel,
        _sdpa_no_scaling,
        _sdpa_scale_by_dv,
        _sdpa_mask_after_softmax,
        _sdpa_mask_inverted,
        _sdpa_unstable_softmax,
        _sdpa_mask_minus_1e4,
        _sdpa_additive_minus_1e4,
        _sdpa_softmax_over_queries,
        _sdpa_upcast,
        _sdpa_float32_softmax_not_cast_back,
        _sdpa_numpy,
        _sdpa_scales_q_in_place,
    ],
}


def _sdpa_float32_cast_back(q, k, v, mask=None):
    """The softmax in float32 for stability, the output cast back to the inputs' dtype."""
    return _sdpa_float32_softmax_not_cast_back(q, k, v, mask).to(q.dtype)


CORRECT_VARIANTS = {
    "scaled_dot_product_attention": [_sdpa_softmax_large_negative, _sdpa_float32_cast_back]
}
