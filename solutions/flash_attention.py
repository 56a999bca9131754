"""FlashAttention's forward pass: exact attention computed tile by tile with an online softmax.

Card: flash-attention (coding).
"""

import math

import torch

from studycli.assertions import (
    ATTENTIONS,
    SOFTMAXES,
    assert_close,
    call,
    call_unchanged,
    describe,
    expect,
    fails_with,
    forbid,
    watch_torch,
)


def flash_attention(
    q,
    k,
    v,
    block_q: int = 64,
    block_k: int = 64,
    causal: bool = False,
):
    """Exact scaled dot-product attention, softmax(q k^T / sqrt(d)) v,
    computed tile by tile.

    The full Lq x Lk score matrix must never exist: work on tiles of at
    most block_q query rows and block_k key/value rows. Do not call
    F.scaled_dot_product_attention or a softmax routine.

    Args:
        q: (..., Lq, d) queries.
        k: (..., Lk, d) keys (same leading dims as q).
        v: (..., Lk, dv) values.
        block_q: rows of q per tile (need not divide Lq).
        block_k: rows of k and v per tile (need not divide Lk).
        causal: if True, query i attends only to keys j <= i (positions
            counted from 0 in both q and k, even when Lq != Lk).

    Returns:
        (..., Lq, dv) attention output in the dtype of q, k and v
        (left unchanged), the same for every choice of tile sizes
        (up to rounding).
    """
    # Per query tile: a running max m, a running denominator l and an unnormalised
    # accumulator acc for each row. When a key tile raises m, both l and acc are rescaled by
    # exp(m_old - m_new) before the tile's terms are added; acc / l at the end.
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
    return out.to(q.dtype)  # (kept in float32 for bfloat16 and float16 inputs, as kernels do)


# --- checker ----------------------------------------------------------------------------------


def _scores_float64(q, k, causal):
    """q . k / sqrt(d) in float64, the keys after each query masked when causal."""
    q, k = q.double(), k.double()
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if causal:
        n_q, n_k = scores.shape[-2:]
        allowed = torch.ones(n_q, n_k, dtype=torch.bool, device=q.device).tril()
        scores = scores.masked_fill(~allowed, float("-inf"))
    return scores


def _attention_float64(q, k, v, causal):
    return torch.softmax(_scores_float64(q, k, causal), dim=-1) @ v.double()


IN_PLACE_HINT = (
    "return a new tensor and leave q, k and v as they came (q * scale, not q.mul_(scale)): "
    "the caller still holds them"
)


def check_flash_attention(impl, device="cpu"):
    impl = forbid(
        impl,
        *SOFTMAXES,
        *ATTENTIONS,
        reason="the card asks for the softmax written out, exp(scores - running max) per tile, "
        "with no softmax routine, not even on one tile's scores",
    )
    gen = torch.Generator().manual_seed(0)

    def rand(*shape, scale=1.0):
        return (torch.randn(*shape, generator=gen) * scale).to(device)

    def run(q, k, v, block_q, block_k, causal, hint=None, mistakes=()):
        what = (
            f"flash_attention(q {describe(q)}, k {describe(k)}, v {describe(v)}, "
            f"block_q={block_q}, block_k={block_k}, causal={causal})"
        )
        got = call_unchanged(
            impl,
            what,
            ("q", "k", "v"),
            q.clone(),
            k.clone(),
            v.clone(),
            block_q=block_q,
            block_k=block_k,
            causal=causal,
            hint=IN_PLACE_HINT,
        )
        expect(
            isinstance(got, torch.Tensor), what, f"returned {type(got).__name__}, expected a tensor"
        )
        expect(
            got.dtype == q.dtype,
            what,
            f"returned {str(got.dtype)[6:]} for {str(q.dtype)[6:]} q, k, v: the output comes back "
            "in the inputs' dtype (a kernel that upcasts moves twice the memory; the running "
            "max is what keeps float32 accurate)",
        )
        want = _attention_float64(q, k, v, causal)
        if hint is None:
            hint = (
                "when the running max grows, multiply both the denominator l and the "
                "accumulator by exp(m_old - m_new); scale scores by 1/sqrt(d); causal means j <= i"
            )
            if causal and q.shape[-2] != k.shape[-2]:
                hint = TOP_LEFT
        if not _diagnose(got, [(want, True)], False):  # wrong: name the mistake when known
            alternatives = [(mistake(q, k, v), text) for mistake, text in mistakes]
            alternatives.append((_unnormalised_attention(q, k, v, causal), NO_FINAL_DIVISION))
            if causal:
                early = _tiled(q, k, v, block_q, block_k, causal, skip_early=True)
                alternatives.append((early, EARLY_SKIP))
            hint = _diagnose(got, alternatives, hint)
        assert_close(got, want, what, atol=2e-5, rtol=1e-4, hint=hint)
        return got

    _check_rules(run, rand, device)

    def tilings_agree(q, k, v, blocks):
        """Every tiling gives the right numbers, and the same ones."""
        for causal in (False, True):
            outputs = []
            for block_q, block_k in blocks:
                outputs.append((block_q, block_k, run(q, k, v, block_q, block_k, causal)))
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

    # Shapes with batch dims, Lq != Lk, d != dv, sizes not divisible by the tiles. Tiny tiles
    # (one query, five keys) and tiles larger than the sequence are tried on the small shapes,
    # where they cost little; the larger ones, tiled in their tens of rows, add nothing to them
    # (one query at a time over the whole first shape was a third of the checker's torch
    # calls, 12,000, each a kernel launch on a GPU: a corner of it has them instead).
    tilings = [(64, 64), (16, 16), (7, 13)]
    extremes = [(1, 5), (128, 3)]
    shapes = [
        ((2, 3), 37, 53, 8, 5, tilings),
        ((1,), 100, 100, 16, 16, tilings),
        ((), 1, 19, 8, 4, tilings + extremes),
        ((), 23, 1, 4, 6, tilings + extremes),
        ((3,), 64, 64, 32, 8, tilings),
        ((2,), 70, 45, 12, 7, tilings),
    ]
    for number, (batch, n_q, n_k, d, dv, blocks) in enumerate(shapes):
        q, k, v = rand(*batch, n_q, d), rand(*batch, n_k, d), rand(*batch, n_k, dv)
        tilings_agree(q, k, v, blocks)
        if number == 0:  # batch dims, Lq != Lk, d != dv with the extremes: (2, 3, 9 / 13, ...)
            tilings_agree(q[..., :9, :], k[..., :13, :], v[..., :13, :], tilings + extremes)

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
    _check_tiles_only(impl, rand, device)

    # bfloat16 inputs, as attention runs under mixed precision: the output comes back in
    # bfloat16 (every case above is float32 or float64, where a running max, sum and
    # accumulator kept in at least float32 are the inputs' dtype whether or not cast back).
    q, k, v = (rand(2, 21, 8), rand(2, 19, 8), rand(2, 19, 4))
    q, k, v = (x.to(torch.bfloat16) for x in (q, k, v))
    for causal in (False, True):
        what = (
            f"flash_attention(q {describe(q)}, k {describe(k)}, v {describe(v)}, "
            f"block_q=8, block_k=8, causal={causal})"
        )
        got = call(impl, what, q, k, v, 8, 8, causal)
        expect(
            getattr(got, "dtype", None) == q.dtype,
            what,
            f"returned {describe(got)} for bfloat16 q, k, v: the output comes back in the "
            "inputs' dtype (keep m, l and acc in float32 if you like, then cast back with "
            ".to(q.dtype))",
        )
        assert_close(  # bfloat16 keeps 8 bits: its outputs are good to about 1e-2
            got, _attention_float64(q, k, v, causal), what, atol=3e-2, rtol=3e-2
        )


TOP_LEFT = "with Lq != Lk, query i still sees exactly the keys j <= i (top-left aligned)"
FULL_MATRIX = "never materialise the Lq x Lk matrix (nor a full causal mask)"
EARLY_SKIP = (
    "a key tile was skipped that still holds keys some query of the tile may see (the causal "
    "break is off by one): the tile's last query qs + rows - 1 sees key qs + rows - 1, so skip "
    "a key tile only when its first key ks > qs + rows - 1"
)
NO_FINAL_DIVISION = (
    "the final division acc / l is missing: acc holds the unnormalised sum of "
    "exp(s - m) v over the keys; divide it by the running denominator l once, after the last "
    "key tile"
)


def _unnormalised_attention(q, k, v, causal):
    """What an answer that never divides by l returns: exp(s - rowmax) @ v, whatever the tiles
    (the accumulator is always rescaled to the final running max)."""
    scores = _scores_float64(q, k, causal)
    return torch.exp(scores - scores.amax(dim=-1, keepdim=True)) @ v.double()


def _diagnose(got, alternatives, default):
    """The hint of the first (value, hint) alternative that `got` matches, else `default`."""
    if isinstance(got, torch.Tensor):
        got = got.detach().double().cpu()
        for value, hint in alternatives:
            value = value.double().cpu()
            if got.shape == value.shape and torch.allclose(
                got, value, atol=1e-5, rtol=1e-4, equal_nan=True
            ):
                return hint
    return default


def _scaled_attention(scale, strict=False):
    """Attention with another scale, or with a causal mask that hides the diagonal."""

    def attend(q, k, v):
        scores = q.double() @ k.double().transpose(-1, -2) * scale(q.shape[-1])
        if strict:
            n_q, n_k = scores.shape[-2:]
            allowed = torch.ones(n_q, n_k, dtype=torch.bool, device=q.device).tril(-1)
            scores = scores.masked_fill(~allowed, float("-inf"))
        return torch.softmax(scores, dim=-1) @ v.double()

    return attend


def _check_rules(run, rand, device):
    """One rule at a time, each on an input where only that rule matters."""
    # A single tile (default block sizes): no rescaling happens, only the scale matters.
    q, k, v = rand(5, 4), rand(5, 4), rand(5, 3)
    run(
        q,
        k,
        v,
        64,
        64,
        False,
        hint="a single tile, so no rescaling is involved: scores are q . k / sqrt(d), d = q.shape[-1]",
        mistakes=[
            (_scaled_attention(lambda d: 1.0 / d), "scores scaled by 1/d instead of 1/sqrt(d)"),
            (_scaled_attention(lambda d: 1.0), "scores not scaled: divide q . k by sqrt(d)"),
        ],
    )
    # A single tile, causal: the diagonal belongs to the visible keys.
    run(
        q,
        k,
        v,
        64,
        64,
        True,
        hint="causal: query i sees the keys j <= i, itself included (row 0 sees key 0)",
        mistakes=[
            (
                _scaled_attention(lambda d: d**-0.5, strict=True),
                "the causal mask hides the diagonal: query i must also see key j = i",
            )
        ],
    )
    # A single tile, causal, Lq != Lk: the mask is aligned top-left.
    run(rand(3, 4), rand(7, 4), rand(7, 2), 64, 64, True, hint=TOP_LEFT)

    # v all ones: every output must be 1, whatever the tiling. The scores fall along the keys,
    # so the running max is set by the first tile and never grows: no rescaling is needed,
    # and only a per-tile normalisation breaks it.
    q = torch.ones(1, 6, 4, device=device)
    k = -0.3 * torch.arange(30.0, device=device).unsqueeze(-1).repeat(1, 4).unsqueeze(0)
    run(
        q,
        k,
        torch.ones(1, 30, 2, device=device),
        4,
        4,
        False,
        hint="with v all ones every output is 1: the weights of a row sum to 1 over ALL its keys; "
        "keep one running denominator per row and divide once at the end, not each tile "
        "normalised on its own",
    )
    # Scores that grow along the keys, so the max changes in every tile.
    run(
        q,
        -k,
        rand(1, 30, 3),
        4,
        4,
        False,
        hint="the running max grows from tile to tile: multiply both the denominator l and "
        "the accumulator acc by exp(m_old - m_new) before adding a tile",
    )


def _check_no_full_matrix(impl, rand, device):
    """Every torch operation inside the call is watched: none may return a tensor anywhere near
    the size of the Lq x Lk score matrix (a tile is block_q x block_k). With ten tiles a side, a
    tile is 1% of the matrix and a strip of block_q rows over every key 10%: the limit, 1/8,
    allows the strip (so that a tile loop over queries only is not called a full matrix)."""
    n, d, block = 160, 8, 16
    q, k, v = rand(n, d), rand(n, d), rand(n, d)
    for causal in (False, True):
        what = (
            f"flash_attention(q, k, v of shape ({n}, {d}), block_q={block}, block_k={block}, "
            f"causal={causal})"
        )
        with watch_torch() as seen:
            got = call_unchanged(
                impl,
                what,
                ("q", "k", "v"),
                q,
                k,
                v,
                block_q=block,
                block_k=block,
                causal=causal,
                hint=IN_PLACE_HINT,
            )
        expect(
            seen.numel <= n * n // 8,
            what,
            f"built a tensor of {seen.numel:,} elements; the full score matrix has {n * n:,} "
            f"and one {block} x {block} tile {block * block:,}",
            hint=FULL_MATRIX + ": work on one (block_q x block_k) tile at a time",
        )
        assert_close(got, _attention_float64(q, k, v, causal), what, atol=2e-5, rtol=1e-4)


TILES_ONLY = (
    "work on one block_q x block_k tile of scores at a time: inside each tile of block_q "
    "queries, loop over tiles of block_k keys with the running max m, denominator l and "
    "accumulator acc, and let each tile go before the next; a strip of scores over every key "
    "(block_q x Lk), or over every query (Lq x block_k), grows with the sequence length, "
    "whether it is one tensor or a list of tiles kept to normalise them afterwards"
)


def _check_tiles_only(impl, rand, device):
    """At most a few tiles held at once: `_check_no_full_matrix` measures the largest tensor and
    allows a strip of block_q rows over every key, so a loop over query tiles alone passed,
    each strip's softmax taken whole, and so did a strip kept as a list of its tiles (the max
    and sum taken over the list afterwards) and key tiles against every query at once
    (block_q unused). Here the tensor elements alive at once are counted (`_peak_live`): a
    strip of 32 query rows over 256 keys is 8,192 of them, where the reference holds about
    1,000 and the key-tiles-outside variant, with m, l and acc for every query, 1,400."""
    n, d, block_q, block_k = 256, 1, 32, 4
    q, k, v = rand(n, d), rand(n, d), rand(n, d)
    what = f"flash_attention(q, k, v of shape ({n}, {d}), block_q={block_q}, block_k={block_k})"
    got, peak = _peak_live(impl, what, q, k, v, block_q=block_q, block_k=block_k)
    strip = block_q * n
    expect(
        peak <= strip // 2,
        what,
        f"held {peak:,} tensor elements at once (at most {strip // 2:,} pass), where a "
        f"{block_q} x {block_k} tile of scores has {block_q * block_k:,} and a strip of "
        f"{block_q} query rows over every key {strip:,}",
        hint=TILES_ONLY,
    )
    assert_close(got, _attention_float64(q, k, v, False), what, atol=2e-5, rtol=1e-4)


def _peak_live(impl, what, *args, **kwargs):
    """The answer's output and the most tensor elements its torch calls' results held at once
    (each result counted from when it is returned until it is freed; the inputs not at all)."""
    import weakref

    from torch.overrides import TorchFunctionMode

    alive: set[int] = set()
    held = [0, 0]  # now, at most

    def freed(key, numel):
        alive.discard(key)
        held[0] -= numel

    def visit(value):
        if isinstance(value, torch.Tensor):
            if id(value) not in alive:  # (an in-place op returns the tensor it was given)
                alive.add(id(value))
                held[0] += value.numel()
                held[1] = max(held)
                weakref.finalize(value, freed, id(value), value.numel())
        elif isinstance(value, (tuple, list)):
            for item in value:
                visit(item)

    class _Live(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            visit(result)
            return result

    with _Live():
        got = call(impl, what, *args, **kwargs)
    return got, held[1]


@fails_with("a strip of scores over every key")
def _wrong_query_tiles_only(q, k, v, block_q=64, block_k=64, causal=False):
    """Tiles the queries only: each block_q x Lk strip of scores over every key, softmax-ed
    whole by hand (no running max across key tiles; block_k unused)."""
    n_k = k.shape[-2]
    outputs = []
    for qs in range(0, q.shape[-2], block_q):
        scores = q[..., qs : qs + block_q, :] @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        if causal:
            q_pos = torch.arange(qs, qs + scores.shape[-2], device=q.device).unsqueeze(-1)
            hidden = torch.arange(n_k, device=q.device) > q_pos
            scores = scores.masked_fill(hidden, float("-inf"))
        p = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
        outputs.append((p / p.sum(dim=-1, keepdim=True)) @ v)
    return torch.cat(outputs, dim=-2)


@fails_with("a strip of scores over every key")
def _wrong_key_tiles_only(q, k, v, block_q=64, block_k=64, causal=False):
    """Tiles the keys only, every query at once against each key tile (block_q unused): an
    Lq x block_k strip of scores."""
    return flash_attention(q, k, v, q.shape[-2], block_k, causal)


@fails_with("a strip of scores over every key")
def _wrong_strip_as_tiles(q, k, v, block_q=64, block_k=64, causal=False):
    """Computes each block_k tile of a query tile's scores, keeps them all in a list, then
    takes the max and the sum over the list (no running max, no rescaling): no tensor holds
    more than a tile, but the list holds the whole block_q x Lk strip."""
    d, n_k = q.shape[-1], k.shape[-2]
    outputs = []
    for qs in range(0, q.shape[-2], block_q):
        q_tile = q[..., qs : qs + block_q, :] / math.sqrt(d)
        q_pos = torch.arange(qs, qs + q_tile.shape[-2], device=q.device).unsqueeze(-1)
        tiles = []
        for ks in range(0, n_k, block_k):
            scores = q_tile @ k[..., ks : ks + block_k, :].transpose(-1, -2)
            if causal:
                k_pos = torch.arange(ks, ks + scores.shape[-1], device=q.device)
                scores = scores.masked_fill(k_pos > q_pos, float("-inf"))
            tiles.append(scores)
        m = torch.stack([t.amax(dim=-1) for t in tiles], dim=-1).amax(dim=-1, keepdim=True)
        l = sum(torch.exp(t - m).sum(dim=-1, keepdim=True) for t in tiles)
        acc = sum(
            torch.exp(t - m) @ v[..., i * block_k : (i + 1) * block_k, :]
            for i, t in enumerate(tiles)
        )
        outputs.append(acc / l)
    return torch.cat(outputs, dim=-2)


@fails_with("never materialise the Lq x Lk matrix")
def _wrong_full_matrix(q, k, v, block_q=64, block_k=64, causal=False):
    """Ignores the tiles: builds the whole Lq x Lk score matrix, then a hand-written softmax."""
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if causal:
        n_q, n_k = scores.shape[-2:]
        allowed = (
            torch.arange(n_k, device=q.device)[None, :]
            <= torch.arange(n_q, device=q.device)[:, None]
        )
        scores = scores.masked_fill(~allowed, float("-inf"))
    weights = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
    return weights / weights.sum(dim=-1, keepdim=True) @ v


@fails_with("not even on one tile")
def _wrong_tile_softmax(q, k, v, block_q=64, block_k=64, causal=False):
    """Merges the tiles by their log-sum-exp, as FlashAttention's split-KV kernels do, but takes
    each tile's probabilities from torch.softmax: a softmax routine, which the card forbids even
    on one tile (its prompt said "a softmax over whole rows", and this answer took it at its
    word)."""
    scale = 1.0 / math.sqrt(q.shape[-1])
    out = []
    for i0 in range(0, q.shape[-2], block_q):
        qi = q[..., i0 : i0 + block_q, :]
        lse = torch.full((*qi.shape[:-1], 1), -math.inf, dtype=q.dtype, device=q.device)
        acc = torch.zeros((*qi.shape[:-1], v.shape[-1]), dtype=q.dtype, device=q.device)
        for j0 in range(0, k.shape[-2], block_k):
            if causal and j0 > i0 + qi.shape[-2] - 1:
                break
            s = qi @ k[..., j0 : j0 + block_k, :].transpose(-1, -2) * scale
            if causal:
                rows = torch.arange(i0, i0 + qi.shape[-2], device=q.device)[:, None]
                cols = torch.arange(j0, j0 + s.shape[-1], device=q.device)[None, :]
                s = s.masked_fill(cols > rows, -math.inf)
            new = torch.logaddexp(lse, torch.logsumexp(s, dim=-1, keepdim=True))
            p = torch.softmax(s, dim=-1).nan_to_num()
            weight = torch.exp(torch.logsumexp(s, dim=-1, keepdim=True) - new).nan_to_num()
            acc = (
                acc * torch.exp(lse - new).nan_to_num()
                + (p @ v[..., j0 : j0 + block_k, :]) * weight
            )
            lse = new
        out.append(acc)
    return torch.cat(out, dim=-2)


@fails_with("the answer calls softmax")
def _wrong_row_softmax(q, k, v, block_q=64, block_k=64, causal=False):
    """Tiles the queries only: calls torch.softmax on each query tile's whole rows of scores."""
    n_q, n_k = q.shape[-2], k.shape[-2]
    out = []
    for qs in range(0, n_q, block_q):
        scores = q[..., qs : qs + block_q, :] @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        if causal:
            rows = torch.arange(qs, qs + scores.shape[-2], device=q.device)[:, None]
            scores = scores.masked_fill(torch.arange(n_k, device=q.device)[None, :] > rows, -1e30)
        out.append(torch.softmax(scores, dim=-1) @ v)
    return torch.cat(out, dim=-2)


@fails_with("multiply both the denominator l and the accumulator acc")
def _wrong_no_acc_rescale(q, k, v, block_q=64, block_k=64, causal=False):
    """Rescales the denominator when the max grows but forgets to rescale the accumulator."""
    return _tiled(q, k, v, block_q, block_k, causal, rescale_acc=False)


@fails_with("the causal mask hides the diagonal")
def _wrong_causal_strict(q, k, v, block_q=64, block_k=64, causal=False):
    """Causal mask off by one: query i sees keys j < i instead of j <= i."""
    return _tiled(q, k, v, block_q, block_k, causal, strict=True)


@fails_with("scaled by 1/d instead of 1/sqrt(d)")
def _wrong_scale_by_d(q, k, v, block_q=64, block_k=64, causal=False):
    """Scales the scores by 1/d instead of 1/sqrt(d)."""
    return _tiled(q, k, v, block_q, block_k, causal, scale=1.0 / q.shape[-1])


@fails_with("not each tile normalised on its own")
def _wrong_per_tile_normalisation(q, k, v, block_q=64, block_k=64, causal=False):
    """Normalises each key tile by its own sum and adds the tiles up (no global denominator)."""
    return _tiled(q, k, v, block_q, block_k, causal, per_tile_norm=True)


@fails_with("the final division acc / l is missing")
def _wrong_no_final_division(q, k, v, block_q=64, block_k=64, causal=False):
    """Keeps m, l and acc right but returns acc itself: forgets the final acc / l."""
    return _tiled(q, k, v, block_q, block_k, causal, divide=False)


@fails_with("top-left aligned")
def _wrong_bottom_right_causal(q, k, v, block_q=64, block_k=64, causal=False):
    """Aligns the causal mask bottom-right (query i sees j <= i + Lk - Lq) when Lq != Lk."""
    return _tiled(q, k, v, block_q, block_k, causal, offset=k.shape[-2] - q.shape[-2])


@fails_with("a key tile was skipped that still holds keys")
def _wrong_early_tile_skip(q, k, v, block_q=64, block_k=64, causal=False):
    """Causal tile skip off by one: breaks once ks >= qs + rows - 1, dropping the key tile that
    starts at the last query's own position."""
    return _tiled(q, k, v, block_q, block_k, causal, skip_early=True)


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
    divide=True,
    skip_early=False,
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
            if causal and skip_early and ks >= qs + rows - 1:
                break  # off by one: this tile still holds key qs + rows - 1
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
        out[..., qs : qs + rows, :] = acc / l if divide else acc
    return out


def _variant_key_tiles_outside(q, k, v, block_q=64, block_k=64, causal=False):
    """FlashAttention-1's loop order: key/value tiles outside, query tiles inside, every row's
    running max, denominator and accumulator kept between key tiles (FlashAttention-2, the
    reference, swaps the loops); the keys, not the queries, scaled by 1/sqrt(d)."""
    *batch, n_q, d = q.shape
    n_k, dv = k.shape[-2], v.shape[-1]
    dtype = torch.promote_types(q.dtype, torch.float32)
    m = torch.full((*batch, n_q, 1), float("-inf"), dtype=dtype, device=q.device)
    l = torch.zeros((*batch, n_q, 1), dtype=dtype, device=q.device)
    acc = torch.zeros((*batch, n_q, dv), dtype=dtype, device=q.device)
    for ks in range(0, n_k, block_k):
        k_tile = k[..., ks : ks + block_k, :].to(dtype) / math.sqrt(d)
        v_tile = v[..., ks : ks + block_k, :].to(dtype)
        for qs in range(0, n_q, block_q):
            rows = slice(qs, min(qs + block_q, n_q))
            if causal and ks >= rows.stop:
                continue  # every key of this tile lies in the future of these queries
            scores = q[..., rows, :].to(dtype) @ k_tile.transpose(-1, -2)
            if causal:
                hidden = torch.arange(ks, ks + k_tile.shape[-2], device=q.device) > torch.arange(
                    rows.start, rows.stop, device=q.device
                ).unsqueeze(-1)
                scores = scores.masked_fill(hidden, float("-inf"))
            # Key 0 is visible to every query and sits in the first key tile: m is finite here.
            m_new = torch.maximum(m[..., rows, :], scores.amax(dim=-1, keepdim=True))
            p = torch.exp(scores - m_new)
            correction = torch.exp(m[..., rows, :] - m_new)
            l[..., rows, :] = l[..., rows, :] * correction + p.sum(dim=-1, keepdim=True)
            acc[..., rows, :] = acc[..., rows, :] * correction + p @ v_tile
            m[..., rows, :] = m_new
    return (acc / l).to(q.dtype)


@fails_with("the output comes back in the inputs' dtype")
def _wrong_upcast(q, k, v, block_q=64, block_k=64, causal=False):
    """Runs the tiles in float64 (q.double(), ...) and returns that for float32 inputs."""
    return flash_attention(q.double(), k.double(), v.double(), block_q, block_k, causal)


@fails_with("for bfloat16 q, k, v")
def _wrong_float32_not_cast_back(q, k, v, block_q=64, block_k=64, causal=False):
    """Keeps the running max, sum and accumulator in float32 for half-precision inputs, as
    kernels do, and returns them so: bfloat16 q, k, v get a float32 output."""
    if q.dtype in (torch.bfloat16, torch.float16):
        q, k, v = q.float(), k.float(), v.float()
    return flash_attention(q, k, v, block_q, block_k, causal)


@fails_with("modified its input q in place")
def _wrong_scales_q_in_place(q, k, v, block_q=64, block_k=64, causal=False):
    """Scales q by 1/sqrt(d) in place (q.mul_), then attends without the scale: right values,
    but the caller's q is changed."""
    d = q.shape[-1]
    q.mul_(1.0 / math.sqrt(d))
    return flash_attention(q * math.sqrt(d), k, v, block_q, block_k, causal)


@fails_with("the answer calls scaled_dot_product_attention")
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
        _wrong_upcast,
        _wrong_float32_not_cast_back,
        _wrong_scales_q_in_place,
        _wrong_calls_library,
        _wrong_full_matrix,
        _wrong_row_softmax,
        _wrong_tile_softmax,
        _wrong_no_acc_rescale,
        _wrong_causal_strict,
        _wrong_scale_by_d,
        _wrong_per_tile_normalisation,
        _wrong_no_final_division,
        _wrong_bottom_right_causal,
        _wrong_early_tile_skip,
        _wrong_query_tiles_only,
        _wrong_key_tiles_only,
        _wrong_strip_as_tiles,
    ],
}


def _variant_log_sum_exp_merge(q, k, v, block_q=64, block_k=64, causal=False):
    """Carries each row's log-sum-exp instead of a max and a denominator: a tile's weights are
    exp(scores - lse_new), torch.logsumexp and logaddexp merge the tiles (the split-KV
    kernels' merge); the output is normalised all along, no division at the end."""
    scale = 1.0 / math.sqrt(q.shape[-1])
    out = []
    for i0 in range(0, q.shape[-2], block_q):
        qi = q[..., i0 : i0 + block_q, :]
        lse = torch.full((*qi.shape[:-1], 1), -math.inf, dtype=q.dtype, device=q.device)
        acc = torch.zeros((*qi.shape[:-1], v.shape[-1]), dtype=q.dtype, device=q.device)
        for j0 in range(0, k.shape[-2], block_k):
            if causal and j0 > i0 + qi.shape[-2] - 1:
                break  # key 0 lies in the first tile: lse is finite from there on
            s = qi @ k[..., j0 : j0 + block_k, :].transpose(-1, -2) * scale
            if causal:
                rows = torch.arange(i0, i0 + qi.shape[-2], device=q.device)[:, None]
                cols = torch.arange(j0, j0 + s.shape[-1], device=q.device)[None, :]
                s = s.masked_fill(cols > rows, -math.inf)
            new = torch.logaddexp(lse, torch.logsumexp(s, dim=-1, keepdim=True))
            acc = acc * torch.exp(lse - new) + torch.exp(s - new) @ v[..., j0 : j0 + block_k, :]
            lse = new
        out.append(acc)
    return torch.cat(out, dim=-2)


CORRECT_VARIANTS = {
    "flash_attention": [_variant_key_tiles_outside, _variant_log_sum_exp_merge],
}
