"""FlashAttention's forward pass: exact attention computed tile by tile with an online softmax.

Card: flash-attention (coding).
"""

import math

import torch

from studycli.assertions import assert_close, call, describe, expect, forbid, watch_torch


def flash_attention(q, k, v, block_q: int = 64, block_k: int = 64, causal: bool = False):
    """Exact scaled dot-product attention, computed tile by tile (FlashAttention's forward).

    out = softmax(q k^T / sqrt(d)) v, but never materialise the full Lq x Lk score matrix:
    loop over query tiles of `block_q` rows and, inside, over key/value tiles of `block_k`
    rows. For each query row keep a running max m, a running softmax denominator l and an
    unnormalised output accumulator acc; when a new key tile raises m, rescale l and acc by
    exp(m_old - m_new) before adding the tile's contribution. Divide acc by l at the end.
    Do not call F.scaled_dot_product_attention or a softmax over whole rows.

    Args:
        q: (..., Lq, d) queries.
        k: (..., Lk, d) keys (same leading dims as q).
        v: (..., Lk, dv) values.
        block_q: rows of q per tile (need not divide Lq).
        block_k: rows of k and v per tile (need not divide Lk).
        causal: if True, query i attends only to keys j <= i (positions counted from 0 in
            both q and k, even when Lq != Lk).

    Returns:
        (..., Lq, dv) attention output.
    """
    *batch, n_q, d = q.shape
    n_k, dv = k.shape[-2], v.shape[-1]
    scale = 1.0 / math.sqrt(d)
    dtype = torch.promote_types(q.dtype, torch.float32)
    out = torch.empty(*batch, n_q, dv, dtype=dtype, device=q.device)
    for qs in range(0, n_q, block_q):
        q_tile = q[..., qs : qs + block_q, :].to(dtype) * scale
        rows = q_tile.shape[-2]
        m = torch.full((*batch, rows, 1), float("-inf"), dtype=dtype, device=q.device)
        l = torch.zeros((*batch, rows, 1), dtype=dtype, device=q.device)
        acc = torch.zeros((*batch, rows, dv), dtype=dtype, device=q.device)
        q_pos = torch.arange(qs, qs + rows, device=q.device).unsqueeze(-1)
        for ks in range(0, n_k, block_k):
            if causal and ks > qs + rows - 1:
                break  # every key in this tile and after it lies in the future of every query
            k_tile = k[..., ks : ks + block_k, :].to(dtype)
            v_tile = v[..., ks : ks + block_k, :].to(dtype)
            scores = q_tile @ k_tile.transpose(-1, -2)  # (..., rows, cols): one tile only
            if causal:
                k_pos = torch.arange(ks, ks + k_tile.shape[-2], device=q.device).unsqueeze(0)
                scores = scores.masked_fill(k_pos > q_pos, float("-inf"))
            m_new = torch.maximum(m, scores.amax(dim=-1, keepdim=True))
            # Key 0 is visible to every query and sits in the first tile, so m_new is finite.
            p = torch.exp(scores - m_new)
            correction = torch.exp(m - m_new)
            l = l * correction + p.sum(dim=-1, keepdim=True)
            acc = acc * correction + p @ v_tile
            m = m_new
        out[..., qs : qs + rows, :] = acc / l
    return out


# --- checker ----------------------------------------------------------------------------------


def _attention_float64(q, k, v, causal):
    q, k, v = q.double(), k.double(), v.double()
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if causal:
        n_q, n_k = scores.shape[-2:]
        allowed = torch.ones(n_q, n_k, dtype=torch.bool, device=q.device).tril()
        scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def check_flash_attention(impl, device="cpu"):
    impl = forbid(
        impl,
        "softmax",
        "log_softmax",
        "scaled_dot_product_attention",
        reason="FlashAttention computes the softmax tile by tile with a running max",
    )
    gen = torch.Generator().manual_seed(0)

    def rand(*shape, scale=1.0):
        return (torch.randn(*shape, generator=gen) * scale).to(device)

    def run(q, k, v, block_q, block_k, causal):
        what = (
            f"flash_attention(q {describe(q)}, k {describe(k)}, v {describe(v)}, "
            f"block_q={block_q}, block_k={block_k}, causal={causal})"
        )
        got = call(
            impl,
            what,
            q.clone(),
            k.clone(),
            v.clone(),
            block_q=block_q,
            block_k=block_k,
            causal=causal,
        )
        expect(
            isinstance(got, torch.Tensor), what, f"returned {type(got).__name__}, expected a tensor"
        )
        want = _attention_float64(q, k, v, causal)
        hint = (
            "when the running max grows, multiply both the denominator l and the accumulator "
            "by exp(m_old - m_new); scale scores by 1/sqrt(d); causal means j <= i"
        )
        if causal and q.shape[-2] != k.shape[-2]:
            hint = "with Lq != Lk, query i still sees exactly the keys j <= i (top-left aligned)"
        assert_close(got, want, what, atol=2e-5, rtol=1e-4, hint=hint)
        return got

    # One head, tiny, with the default tile sizes (a single tile).
    q, k, v = rand(5, 4), rand(5, 4), rand(5, 3)
    for causal in (False, True):
        run(q, k, v, 64, 64, causal)

    # Shapes with batch dims, Lq != Lk, d != dv, sizes not divisible by the tiles.
    shapes = [
        ((2, 3), 37, 53, 8, 5),
        ((1,), 100, 100, 16, 16),
        ((), 1, 19, 8, 4),
        ((), 23, 1, 4, 6),
        ((3,), 64, 64, 32, 8),
        ((2,), 70, 45, 12, 7),
    ]
    for batch, n_q, n_k, d, dv in shapes:
        q, k, v = rand(*batch, n_q, d), rand(*batch, n_k, d), rand(*batch, n_k, dv)
        for causal in (False, True):
            outputs = []
            for block_q, block_k in [(64, 64), (16, 16), (7, 13), (1, 5), (128, 3)]:
                outputs.append((block_q, block_k, run(q, k, v, block_q, block_k, causal)))
            # Tile-size independence: every tiling gives the same numbers.
            first = outputs[0][2]
            for block_q, block_k, other in outputs[1:]:
                assert_close(
                    other,
                    first,
                    f"tile-size independence for q {describe(q)}, causal={causal}: "
                    f"blocks ({block_q}, {block_k}) vs (64, 64)",
                    atol=2e-5,
                    rtol=1e-4,
                )

    # Large scores: the running max must keep exp from overflowing.
    q, k, v = rand(2, 40, 16, scale=30.0), rand(2, 40, 16, scale=30.0), rand(2, 40, 8)
    for causal in (False, True):
        run(q, k, v, 8, 8, causal)

    # Scores that grow along the keys, so the max changes in every tile.
    q = torch.ones(1, 12, 4, device=device)
    k = (
        torch.arange(30, dtype=torch.float32, device=device).unsqueeze(-1).repeat(1, 4).unsqueeze(0)
        * 0.3
    )
    v = rand(1, 30, 3)
    for causal in (False, True):
        run(q, k, v, 4, 4, causal)

    # float64 inputs.
    q, k, v = rand(2, 33, 8).double(), rand(2, 29, 8).double(), rand(2, 29, 5).double()
    run(q, k, v, 10, 6, False)

    _check_no_full_matrix(impl, rand, device)


def _check_no_full_matrix(impl, rand, device):
    """Every torch operation inside the call is watched: none may return a tensor anywhere near
    the size of the Lq x Lk score matrix (a tile is block_q x block_k)."""
    n, d = 600, 8
    q, k, v = rand(n, d), rand(n, d), rand(n, d)
    for causal in (False, True):
        what = (
            f"flash_attention(q, k, v of shape ({n}, {d}), block_q=64, block_k=64, causal={causal})"
        )
        with watch_torch() as seen:
            got = call(impl, what, q, k, v, block_q=64, block_k=64, causal=causal)
        expect(
            seen.numel <= n * n // 8,
            what,
            f"built a tensor of {seen.numel:,} elements; the full score matrix has {n * n:,} "
            f"and one 64 x 64 tile {64 * 64:,}",
            hint="never materialise the Lq x Lk matrix (nor a full causal mask): work on one "
            "(block_q x block_k) tile at a time",
        )
        assert_close(got, _attention_float64(q, k, v, causal), what, atol=2e-5, rtol=1e-4)


def _wrong_full_matrix(q, k, v, block_q=64, block_k=64, causal=False):
    """Ignores the tiles: builds the whole Lq x Lk score matrix and takes one softmax."""
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if causal:
        n_q, n_k = scores.shape[-2:]
        allowed = (
            torch.arange(n_k, device=q.device)[None, :]
            <= torch.arange(n_q, device=q.device)[:, None]
        )
        scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def _wrong_no_acc_rescale(q, k, v, block_q=64, block_k=64, causal=False):
    """Rescales the denominator when the max grows but forgets to rescale the accumulator."""
    return _tiled(q, k, v, block_q, block_k, causal, rescale_acc=False)


def _wrong_causal_strict(q, k, v, block_q=64, block_k=64, causal=False):
    """Causal mask off by one: query i sees keys j < i instead of j <= i."""
    return _tiled(q, k, v, block_q, block_k, causal, strict=True)


def _wrong_scale_by_d(q, k, v, block_q=64, block_k=64, causal=False):
    """Scales the scores by 1/d instead of 1/sqrt(d)."""
    return _tiled(q, k, v, block_q, block_k, causal, scale=1.0 / q.shape[-1])


def _wrong_no_final_division(q, k, v, block_q=64, block_k=64, causal=False):
    """Normalises each key tile by its own sum and adds the tiles up (no global denominator)."""
    return _tiled(q, k, v, block_q, block_k, causal, per_tile_norm=True)


def _wrong_bottom_right_causal(q, k, v, block_q=64, block_k=64, causal=False):
    """Aligns the causal mask bottom-right (query i sees j <= i + Lk - Lq) when Lq != Lk."""
    return _tiled(q, k, v, block_q, block_k, causal, offset=k.shape[-2] - q.shape[-2])


def _tiled(
    q,
    k,
    v,
    block_q,
    block_k,
    causal,
    *,
    rescale_acc=True,
    strict=False,
    scale=None,
    per_tile_norm=False,
    offset=0,
):
    *batch, n_q, d = q.shape
    n_k, dv = k.shape[-2], v.shape[-1]
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    dtype = torch.promote_types(q.dtype, torch.float32)
    out = torch.empty(*batch, n_q, dv, dtype=dtype, device=q.device)
    for qs in range(0, n_q, block_q):
        q_tile = q[..., qs : qs + block_q, :].to(dtype) * scale
        rows = q_tile.shape[-2]
        m = torch.full((*batch, rows, 1), float("-inf"), dtype=dtype, device=q.device)
        l = torch.zeros((*batch, rows, 1), dtype=dtype, device=q.device)
        acc = torch.zeros((*batch, rows, dv), dtype=dtype, device=q.device)
        q_pos = torch.arange(qs, qs + rows, device=q.device).unsqueeze(-1) + offset
        for ks in range(0, n_k, block_k):
            k_tile = k[..., ks : ks + block_k, :].to(dtype)
            v_tile = v[..., ks : ks + block_k, :].to(dtype)
            scores = q_tile @ k_tile.transpose(-1, -2)
            if causal:
                k_pos = torch.arange(ks, ks + k_tile.shape[-2], device=q.device).unsqueeze(0)
                hidden = k_pos >= q_pos if strict else k_pos > q_pos
                scores = scores.masked_fill(hidden, float("-inf"))
            if per_tile_norm:
                tile_max = scores.amax(dim=-1, keepdim=True)
                p = torch.exp(scores - tile_max)
                p = torch.nan_to_num(p / p.sum(dim=-1, keepdim=True))
                acc = acc + p @ v_tile
                l = torch.ones_like(l)
                continue
            m_new = torch.maximum(m, scores.amax(dim=-1, keepdim=True))
            safe = torch.where(torch.isinf(m_new), torch.zeros_like(m_new), m_new)
            p = torch.exp(scores - safe)
            correction = torch.exp(m - safe)
            l = l * correction + p.sum(dim=-1, keepdim=True)
            acc = (acc * correction if rescale_acc else acc) + p @ v_tile
            m = m_new
        out[..., qs : qs + rows, :] = acc / l
    return out


def _variant_one_query_at_a_time(q, k, v, block_q=64, block_k=64, causal=False):
    """Each query row on its own (block_q ignored), keys in tiles, scaled by 1/sqrt(d) up front."""
    d = q.shape[-1]
    out = []
    for i in range(q.shape[-2]):
        qi = q[..., i : i + 1, :].double() / math.sqrt(d)
        m = torch.full(qi.shape[:-1] + (1,), float("-inf"), dtype=torch.float64, device=q.device)
        l = torch.zeros_like(m)
        acc = torch.zeros(*qi.shape[:-1], v.shape[-1], dtype=torch.float64, device=q.device)
        stop = min(i + 1, k.shape[-2]) if causal else k.shape[-2]
        for ks in range(0, stop, block_k):
            ke = min(ks + block_k, stop)
            s = qi @ k[..., ks:ke, :].double().transpose(-1, -2)
            m_new = torch.maximum(m, s.amax(-1, keepdim=True))
            p = torch.exp(s - m_new)
            l = l * torch.exp(m - m_new) + p.sum(-1, keepdim=True)
            acc = acc * torch.exp(m - m_new) + p @ v[..., ks:ke, :].double()
            m = m_new
        out.append(acc / l)
    return torch.cat(out, dim=-2).to(q.dtype)


def _wrong_calls_library(q, k, v, block_q=64, block_k=64, causal=False):
    """Calls F.scaled_dot_product_attention instead of tiling."""
    import torch.nn.functional as F

    n_q, n_k = q.shape[-2], k.shape[-2]
    mask = None
    if causal:
        mask = (
            torch.arange(n_k, device=q.device)[None, :]
            <= torch.arange(n_q, device=q.device)[:, None]
        )
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


WRONG_ANSWERS = {
    "flash_attention": [
        _wrong_calls_library,
        _wrong_full_matrix,
        _wrong_no_acc_rescale,
        _wrong_causal_strict,
        _wrong_scale_by_d,
        _wrong_no_final_division,
        _wrong_bottom_right_causal,
    ],
}

CORRECT_VARIANTS = {
    "flash_attention": [_variant_one_query_at_a_time],
}
