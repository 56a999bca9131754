"""MAE's per-sample random masking by sorting random noise."""

import torch

from studycli.assertions import (
    assert_close,
    assert_equal,
    call_unchanged,
    describe,
    expect,
    expect_tensor,
    fails_with,
)


def random_masking(x, mask_ratio: float, generator):
    """Keep a uniformly random subset of the tokens of every sequence, as
    in MAE's encoder input.

    Every sequence of the batch gets its own subset, and all randomness
    comes from `generator`, so the same seed gives the same result. x
    itself is left unchanged.

    Args:
        x: (N, L, D) tensor of patch tokens.
        mask_ratio: fraction of tokens to remove, 0 <= mask_ratio < 1.
        generator: a torch.Generator; all randomness comes from it.

    Returns:
        (x_kept, mask, ids_restore):
        x_kept: (N, L_keep, D) with L_keep = int(L * (1 - mask_ratio)),
            the kept tokens.
        mask: (N, L), 0 where the token is kept, 1 where it is removed, in
            the original order.
        ids_restore: (N, L) int64; appending L - L_keep (mask) tokens to
            x_kept and gathering along dim 1 with ids_restore puts every
            kept token back at its original position.
    """
    # Sorting i.i.d. uniform noise gives a random permutation per row; keep the first L_keep.
    N, L, D = x.shape
    len_keep = int(L * (1 - mask_ratio))
    noise = torch.rand(N, L, generator=generator, device=x.device)
    ids_shuffle = torch.argsort(noise, dim=1)  # ascending: small noise is kept
    ids_restore = torch.argsort(ids_shuffle, dim=1)  # the inverse permutation
    ids_keep = ids_shuffle[:, :len_keep]
    x_kept = torch.gather(x, 1, ids_keep.unsqueeze(-1).expand(-1, -1, D))
    mask = torch.ones(N, L, device=x.device)
    mask[:, :len_keep] = 0  # in shuffled order ...
    mask = torch.gather(mask, 1, ids_restore)  # ... back to the original order
    return x_kept, mask, ids_restore


# --- checker --------------------------------------------------------------------------------


MASK_INVERTED = (
    "0 = kept, 1 = removed: yours is inverted (1 where the token is kept); "
    "as a bool mask, True means removed"
)


IN_PLACE = (
    "the removed tokens are left out of x_kept, not written over in x: the caller's x comes "
    "back unchanged (the decoder puts mask tokens in their places later)"
)


def _gen(seed, device):
    return torch.Generator(device=device).manual_seed(seed)


def _run(impl, x, ratio, seed, device):
    what = f"random_masking(x {describe(x)}, mask_ratio={ratio}, generator seeded {seed})"
    out = call_unchanged(impl, what, ("x",), x.clone(), ratio, _gen(seed, device), hint=IN_PLACE)
    expect(
        isinstance(out, (tuple, list)) and len(out) == 3,
        what,
        f"returned {type(out).__name__}, expected a tuple (x_kept, mask, ids_restore)",
    )
    for name, value in zip(("x_kept", "mask", "ids_restore"), out, strict=True):
        expect_tensor(value, f"{what} -> {name}")  # (a numpy array crashed the checks below)
    return what, out


def _check_structure(impl, x, ratio, seed, device):
    N, L, D = x.shape
    keep = int(L * (1 - ratio))
    what, (x_kept, mask, ids_restore) = _run(impl, x, ratio, seed, device)
    expect(
        tuple(x_kept.shape) == (N, keep, D),
        what,
        f"x_kept has shape {tuple(x_kept.shape)}, expected {(N, keep, D)}",
        hint="L_keep = int(L * (1 - mask_ratio))",
    )
    expect(
        tuple(mask.shape) == (N, L), what, f"mask has shape {tuple(mask.shape)}, expected {(N, L)}"
    )
    expect(
        tuple(ids_restore.shape) == (N, L),
        what,
        f"ids_restore has shape {tuple(ids_restore.shape)}, expected {(N, L)}",
    )
    expect(
        not ids_restore.is_floating_point(),
        what,
        f"ids_restore has dtype {ids_restore.dtype}, expected integer indices",
    )
    mask_f = mask.detach().double().cpu()
    expect(
        bool(((mask_f == 0) | (mask_f == 1)).all()), what, "mask holds values other than 0 and 1"
    )
    counts = mask_f.sum(1)
    assert_equal(
        counts,
        torch.full((N,), float(L - keep), dtype=torch.float64),
        f"{what}: removed tokens per row (mask.sum(1))",
        hint=MASK_INVERTED if bool((counts == keep).all()) else "",
    )
    ids = ids_restore.detach().long().cpu()
    expect(
        bool((ids.sort(1).values == torch.arange(L)).all()),
        what,
        "a row of ids_restore is not a permutation of 0 .. L - 1",
    )
    # The mask marks where the kept tokens came from (token values are unique within a row).
    xd, kept_d = x.detach().double().cpu(), x_kept.detach().double().cpu()
    hits = (kept_d[:, :, None, :] == xd[:, None, :, :]).all(-1)  # (N, keep, L)
    expect(
        bool((hits.sum(-1) == 1).all()),
        what,
        "x_kept holds tokens that are not tokens of x (or repeats one)",
    )
    came_from = torch.zeros(N, L, dtype=torch.float64)
    came_from[hits.any(1)] = 1.0
    order_hint = (
        "the mask must be in the original token order: build it in shuffled order "
        "(L_keep zeros, then ones) and gather it with ids_restore"
    )
    hint = order_hint
    if torch.equal(mask_f, came_from):  # 1 exactly on the kept tokens
        shuffled_order = torch.equal(mask_f, (torch.arange(L) >= keep).double().expand(N, L))
        # A mask left in shuffled order can look inverted too when the kept tokens are the last.
        hint = f"{MASK_INVERTED}; or {order_hint}" if shuffled_order else MASK_INVERTED
    assert_equal(
        mask_f,
        1.0 - came_from,
        f"{what}: mask (0 where the token is in x_kept, in the original order)",
        hint=hint,
    )
    # The restore property: kept tokens return to their places, removed places get mask tokens.
    sentinel = 1e6
    padded = torch.cat(
        [
            x_kept.detach().double().cpu(),
            torch.full((N, L - keep, D), sentinel, dtype=torch.float64),
        ],
        dim=1,
    )
    restored = torch.gather(padded, 1, ids.unsqueeze(-1).expand(-1, -1, D))
    kept = (mask_f == 0).unsqueeze(-1).expand(-1, -1, D)
    want = torch.where(kept, x.double().cpu(), torch.full_like(restored, sentinel))
    hint = "ids_restore must undo the shuffle: it is the inverse permutation (argsort of it)"
    inverse = torch.gather(padded, 1, ids.argsort(1).unsqueeze(-1).expand(-1, -1, D))
    if not torch.equal(restored, want) and torch.equal(inverse, want):
        hint = (
            "ids_restore is the shuffle itself, not its inverse: the inverse of a permutation is "
            "its argsort (argsort the shuffle indices once more)"
        )
    assert_close(
        restored,
        want,
        f"{what}: gather(cat([x_kept, mask tokens]), 1, ids_restore)",
        atol=0,
        rtol=0,
        hint=hint,
    )
    return mask_f


def check_random_masking(impl, device="cpu") -> None:
    gen = torch.Generator().manual_seed(0)
    for N, L, D, ratio in [
        (1, 4, 1, 0.75),  # first: an inverted mask and one left in shuffled order differ here
        (1, 4, 1, 0.5),
        (2, 16, 3, 0.75),
        (3, 196, 8, 0.75),
        (2, 10, 2, 0.75),
        (2, 7, 4, 0.5),
        (1, 9, 2, 0.0),
        (4, 8, 3, 0.875),
        (2, 5, 3, 0.25),
        (1, 1, 5, 0.0),
        (2, 12, 1, 0.6),
    ]:
        # Token values are unique, so the restore check sees any token put in the wrong place.
        x = torch.randn(N, L, D, generator=gen).to(device)
        _check_structure(impl, x, ratio, 0, device)

    # A non-contiguous x, as a patch embedding's conv(x).flatten(2).transpose(1, 2) leaves it.
    x = torch.randn(2, 5, 12, generator=gen).to(device).transpose(1, 2)
    _check_structure(impl, x, 0.75, 0, device)

    # Randomness comes from the generator: same seed, same result; different seeds differ.
    x = torch.randn(4, 49, 6, generator=gen).to(device)
    what_a, a = _run(impl, x, 0.75, 123, device)
    _, b = _run(impl, x, 0.75, 123, device)
    for name, u, v in zip(("x_kept", "mask", "ids_restore"), a, b):
        assert_close(
            u,
            v,
            f"{what_a} called twice: {name}",
            atol=0,
            rtol=0,
            hint="draw the noise from the generator you are given, "
            "torch.rand(..., generator=generator)",
        )
    _, c = _run(impl, x, 0.75, 321, device)
    expect(
        not torch.equal(a[1].cpu(), c[1].cpu()),
        what_a,
        "seeds 123 and 321 gave the same mask",
        hint="the kept subset must be random, drawn from the generator",
    )
    # Every row of the batch gets its own subset, even when the rows are identical.
    same_rows = x[:1].expand(8, -1, -1).contiguous()
    mask = _check_structure(impl, same_rows, 0.75, 7, device)
    distinct = len({tuple(row.tolist()) for row in mask})
    expect(
        distinct == 8,
        "random_masking(x with 8 identical rows of (49, 6), mask_ratio=0.75)",
        f"only {distinct} distinct masks among 8 rows",
        hint="draw noise of shape (N, L), one row of noise per sample",
    )
    # Uniform: over many draws every position is removed about mask_ratio of the time.
    x = torch.randn(64, 16, 1, generator=gen).to(device)
    total = torch.zeros(16, dtype=torch.float64)
    for seed in range(10):
        total += _check_structure(impl, x, 0.75, 1000 + seed, device).sum(0)
    rate = total / 640
    expect(
        bool(((rate > 0.6) & (rate < 0.9)).all()),
        "random_masking over 640 draws of L = 16, ratio 0.75",
        f"removal rate per position {[round(v, 2) for v in rate.tolist()]}, expected about 0.75 each",
        hint="every position must be equally likely to be removed: sort uniform noise",
    )
    # Uniform over subsets, not only over positions: a random window (a block of neighbours)
    # removes each position as often, but keeps the right neighbour of a kept token 3/4 of the
    # time, where a uniform subset of 4 of 16 keeps it (4 - 1) / (16 - 1) = 1/5 of the time.
    kept = torch.cat(
        [_check_structure(impl, x, 0.75, 2000 + seed, device) == 0 for seed in range(10)]
    )
    together = float((kept[:, :-1] & kept[:, 1:]).sum() / kept[:, :-1].sum())
    expect(
        0.1 < together < 0.3,
        "random_masking over 640 draws of L = 16, ratio 0.75",
        f"the right neighbour of a kept token was kept {together:.2f} of the time, expected "
        "about (4 - 1) / (16 - 1) = 0.20 for a uniformly random subset",
        hint="keep a uniformly random subset, not a random window: every set of L_keep tokens "
        "must be equally likely (sort uniform noise and keep the L_keep smallest)",
    )


# --- wrong answers --------------------------------------------------------------------------


def _masking(
    x, mask_ratio, noise, *, unshuffle_mask=True, invert=True, len_keep=None, polarity=True
):
    N, L, D = x.shape
    if len_keep is None:
        len_keep = int(L * (1 - mask_ratio))
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    x_kept = torch.gather(x, 1, ids_shuffle[:, :len_keep].unsqueeze(-1).expand(-1, -1, D))
    mask = torch.ones(N, L, device=x.device)
    mask[:, :len_keep] = 0
    if unshuffle_mask:
        mask = torch.gather(mask, 1, ids_restore)
    if not polarity:
        mask = 1 - mask
    return x_kept, mask, ids_restore if invert else ids_shuffle


@fails_with("draw the noise from the generator you are given")
def _wrong_global_rng(x, mask_ratio, generator):
    """Draws the noise from the global RNG (torch.rand without generator=), so it is not reproducible."""
    return _masking(x, mask_ratio, torch.rand(x.shape[0], x.shape[1], device=x.device))


@fails_with("distinct masks among 8 rows")
def _wrong_shared_noise(x, mask_ratio, generator):
    """Draws one row of noise and shares it across the batch: every sample gets the same mask."""
    noise = torch.rand(1, x.shape[1], generator=generator, device=x.device).expand(x.shape[0], -1)
    return _masking(x, mask_ratio, noise)


@fails_with("the mask must be in the original token order")
def _wrong_mask_not_unshuffled(x, mask_ratio, generator):
    """Leaves the mask in shuffled order (forgets to gather it with ids_restore)."""
    noise = torch.rand(x.shape[0], x.shape[1], generator=generator, device=x.device)
    return _masking(x, mask_ratio, noise, unshuffle_mask=False)


@fails_with("ids_restore is the shuffle itself, not its inverse")
def _wrong_restore_is_shuffle(x, mask_ratio, generator):
    """Returns ids_shuffle as ids_restore (forgets the second argsort that inverts it; the mask is right)."""
    noise = torch.rand(x.shape[0], x.shape[1], generator=generator, device=x.device)
    return _masking(x, mask_ratio, noise, invert=False)


@fails_with("L_keep = int(L * (1 - mask_ratio))")
def _wrong_keep_count(x, mask_ratio, generator):
    """Keeps L - int(L * mask_ratio) tokens, which rounds the other way from int(L * (1 - mask_ratio))."""
    noise = torch.rand(x.shape[0], x.shape[1], generator=generator, device=x.device)
    L = x.shape[1]
    return _masking(x, mask_ratio, noise, len_keep=L - int(L * mask_ratio))


@fails_with("seeds 123 and 321 gave the same mask")
def _wrong_keep_first(x, mask_ratio, generator):
    """Keeps the first L_keep tokens of every sequence: no randomness at all."""
    noise = torch.arange(x.shape[1], dtype=torch.float32, device=x.device).expand(x.shape[0], -1)
    return _masking(x, mask_ratio, noise)


@fails_with("yours is inverted")
def _wrong_mask_inverted(x, mask_ratio, generator):
    """Mask polarity inverted: 1 (True) marks the kept tokens instead of the removed ones."""
    noise = torch.rand(x.shape[0], x.shape[1], generator=generator, device=x.device)
    return _masking(x, mask_ratio, noise, polarity=False)


@fails_with("not a random window")
def _wrong_random_window(x, mask_ratio, generator):
    """Keeps a run of L_keep neighbouring tokens from a random start (wrapping around): each
    position is removed equally often, but the kept subset is a block, not uniformly random."""
    N, L = x.shape[0], x.shape[1]
    # distinct starts where there are enough (the rows of one x draw distinct noise): starts
    # drawn independently made two of 8 identical rows' masks equal on CUDA's generator, and
    # the answer was rejected for that instead of its window
    if N <= L:
        start = torch.randperm(L, generator=generator, device=x.device)[:N, None]
    else:
        start = torch.randint(0, L, (N, 1), generator=generator, device=x.device)
    noise = ((torch.arange(L, device=x.device) - start) % L).float()
    return _masking(x, mask_ratio, noise)


@fails_with("modified its input x in place")
def _wrong_zeroes_removed_in_place(x, mask_ratio, generator):
    """Also masks the removed tokens in the caller's x (x[mask.bool()] = 0, as in BERT-style masking)."""
    noise = torch.rand(x.shape[0], x.shape[1], generator=generator, device=x.device)
    x_kept, mask, ids_restore = _masking(x, mask_ratio, noise)
    x[mask.bool()] = 0  # x_kept was gathered into a new tensor: it keeps its values
    return x_kept, mask, ids_restore


@fails_with("view size is not compatible")
def _wrong_flat_view(x, mask_ratio, generator):
    """Gathers the kept tokens from x.view(N * L, D) at row n L + index: right for a contiguous
    x, an error for a non-contiguous one (a transposed patch embedding; use reshape)."""
    N, L, D = x.shape
    noise = torch.rand(N, L, generator=generator, device=x.device)
    _, mask, ids_restore = _masking(x, mask_ratio, noise)
    keep = int(L * (1 - mask_ratio))
    rows = torch.argsort(noise, dim=1)[:, :keep] + L * torch.arange(N, device=x.device)[:, None]
    return x.view(N * L, D)[rows.reshape(-1)].view(N, keep, D), mask, ids_restore


@fails_with("-> mask: returned a numpy array")
def _wrong_numpy_mask(x, mask_ratio, generator):
    """Returns mask and ids_restore as numpy arrays (from np.argsort), not the tensors asked."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    N, L, D = x.shape
    len_keep = int(L * (1 - mask_ratio))
    noise = torch.rand(N, L, generator=generator, device=x.device).cpu().numpy()
    ids_shuffle = np.argsort(noise, axis=1)
    ids_restore = np.argsort(ids_shuffle, axis=1)
    ids_keep = torch.from_numpy(ids_shuffle[:, :len_keep]).to(x.device)
    x_kept = torch.gather(x, 1, ids_keep.unsqueeze(-1).expand(-1, -1, D))
    mask = np.ones((N, L), dtype=np.float32)
    mask[:, :len_keep] = 0
    return x_kept, np.take_along_axis(mask, ids_restore, axis=1), ids_restore


WRONG_ANSWERS = {
    "random_masking": [
        _wrong_flat_view,
        _wrong_global_rng,
        _wrong_shared_noise,
        _wrong_mask_not_unshuffled,
        _wrong_restore_is_shuffle,
        _wrong_keep_count,
        _wrong_keep_first,
        _wrong_mask_inverted,
        _wrong_random_window,
        _wrong_zeroes_removed_in_place,
        _wrong_numpy_mask,
    ],
}


# --- correct variants -----------------------------------------------------------------------


def _variant_randperm(x, mask_ratio, generator):
    """One torch.randperm per sample from the generator, kept tokens in original order, bool mask."""
    N, L, D = x.shape
    keep = int(L * (1 - mask_ratio))
    kept, masks, restores = [], [], []
    for n in range(N):
        perm = torch.randperm(L, generator=generator, device=x.device)
        kept_ids = perm[:keep].sort().values
        removed_ids = perm[keep:].sort().values
        order = torch.cat([kept_ids, removed_ids])
        restore = torch.empty_like(order)
        restore[order] = torch.arange(L, device=x.device)
        mask = torch.ones(L, dtype=torch.bool, device=x.device)
        mask[kept_ids] = False
        kept.append(x[n, kept_ids])
        masks.append(mask)
        restores.append(restore)
    return torch.stack(kept), torch.stack(masks), torch.stack(restores)


CORRECT_VARIANTS = {"random_masking": [_variant_randperm]}
