"""CLIP's symmetric contrastive loss over a batch of matching image-text pairs."""

import torch
import torch.nn.functional as F

from studycli.assertions import (
    GRAPH_HINT,
    assert_close,
    call,
    call_unchanged,
    describe,
    expect,
    expect_tensor,
    fails_with,
    likely_mistake,
)


def clip_loss(image_emb, text_emb, temperature: float):
    """CLIP's symmetric contrastive loss over
    a batch of N matching image-text pairs.

    Pair i (image i, text i) is the only match in row i and in column i of
    the similarity matrix: every embedding (row) is L2-normalised,
    logits = image @ text^T / temperature, and the loss is the mean of the
    two cross-entropies with the diagonal as targets, over rows (each
    image picks its text) and over columns (each text picks its image). It
    must stay finite for temperatures down to 0.01, and leave the
    embeddings unchanged.

    Args:
        image_emb: tensor of shape (N, D).
        text_emb: tensor of shape (N, D).
        temperature: positive float (CLIP learns 1/temperature as a logit
            scale).

    Returns:
        A scalar tensor in the embeddings' dtype (differentiable with
        respect to both).
    """
    img = image_emb / image_emb.norm(dim=1, keepdim=True)
    txt = text_emb / text_emb.norm(dim=1, keepdim=True)
    logits = img @ txt.t() / temperature

    def mean_cross_entropy_rows(m):
        row_max = m.max(dim=1, keepdim=True).values.detach()
        log_denominator = row_max.squeeze(1) + torch.log(torch.exp(m - row_max).sum(dim=1))
        return (log_denominator - m.diagonal()).mean()

    return 0.5 * (mean_cross_entropy_rows(logits) + mean_cross_entropy_rows(logits.t()))


# --- checker --------------------------------------------------------------------------------


def _truth(image_emb, text_emb, temperature):
    img = F.normalize(image_emb.detach().double(), dim=1)
    txt = F.normalize(text_emb.detach().double(), dim=1)
    logits = img @ txt.t() / temperature
    target = torch.arange(img.shape[0], device=img.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))


_HINT = (
    "normalise each row to unit length, logits = img @ txt.T / temperature, then average the "
    "cross-entropy over rows (image -> text) and over columns (text -> image)"
)


def _likely_mistake(got, known, default):
    return likely_mistake(got, known, default, rtol=1e-4, atol=1e-6)


def _known_mistakes(img, txt, temperature):
    """What the common mistakes give on these inputs, each with the hint that names it."""
    i64, t64 = img.detach().double(), txt.detach().double()
    target = torch.arange(i64.shape[0], device=i64.device)

    def sym(logits):
        return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))

    cos = F.normalize(i64, dim=1) @ F.normalize(t64, dim=1).t()
    return [
        (
            2 * sym(cos / temperature),
            "average the two directions (image -> text and text -> image); do not add them",
        ),
        (
            i64.shape[0] * sym(cos / temperature),
            "summed over the batch: average each direction's cross-entropy over the N pairs "
            "(reduction='mean', F.cross_entropy's default), not reduction='sum'",
        ),
        (
            F.cross_entropy(cos / temperature, target),
            "only the image -> text direction (rows): average it with the text -> image "
            "cross-entropy over the columns (logits.T)",
        ),
        (
            sym(i64 @ t64.t() / temperature),
            "L2-normalise each embedding (row) first: the logits are cosine similarities divided "
            "by the temperature",
        ),
        (
            sym(F.normalize(i64, dim=0) @ F.normalize(t64, dim=0).t() / temperature),
            "normalise each embedding, a row (dim 1), not each feature column (dim 0)",
        ),
        (
            sym(cos * temperature),
            "divide the similarities by the temperature; do not multiply by it",
        ),
    ]


SAME_DTYPE = (
    "the loss comes back in the inputs' dtype (a float64 loss runs the backward pass in float64 "
    "too; compute in float64 if you like, then cast back)"
)


IN_PLACE_HINT = (
    "leave image_emb and text_emb as they came, the caller still holds them: normalise into new "
    "tensors (F.normalize, or image_emb / its norms), not with image_emb /= its norms"
)


def _compare(impl, img, txt, temperature, hint=_HINT, tol=None):
    what = f"clip_loss(image_emb={describe(img)}, text_emb={describe(txt)}, temperature={temperature:g})"
    got = call_unchanged(
        impl,
        what,
        ("image_emb", "text_emb"),
        img.clone(),
        txt.clone(),
        temperature,
        hint=IN_PLACE_HINT,
    )
    # (a numpy number has a shape, and no .numel(): the check crashed)
    expect_tensor(got, what, hint=GRAPH_HINT)
    expect(
        got.numel() == 1,
        what,
        f"returned {describe(got)}, expected a scalar tensor",
    )
    expect(
        getattr(got, "dtype", None) == img.dtype,
        what,
        f"returned {describe(got)} for {str(img.dtype)[6:]} embeddings: {SAME_DTYPE}",
    )
    if tol is None:
        tol = 1e-9 if img.dtype == torch.float64 else 2e-5
    hint = _likely_mistake(got.reshape(()), _known_mistakes(img, txt, temperature), hint)
    assert_close(
        got.reshape(()), _truth(img, txt, temperature), what, atol=tol, rtol=tol, hint=hint
    )
    return got.reshape(())


def check_clip_loss(impl, device="cpu") -> None:
    # One pair: nothing to contrast, the loss is 0.
    _compare(
        impl,
        torch.tensor([[1.0, 2.0]], device=device),
        torch.tensor([[-3.0, 0.5]], device=device),
        0.07,
    )
    # Orthogonal unit vectors at temperature 1: log(1 + 2 e^-1) in both directions. Three
    # pairs, so that a sum over the batch (3 times the loss) is told from adding the two
    # directions (2 times).
    eye = torch.eye(3, device=device)
    _compare(impl, eye, eye, 1.0)

    gen = torch.Generator().manual_seed(0)
    for n, d in [(2, 1), (3, 4), (8, 16), (31, 8), (128, 64)]:
        for temperature in (0.07, 0.5, 1.0):
            # Rows with very different norms, and an image-text relation that is not symmetric,
            # so that a missing normalisation or a missing direction shows.
            scale_i = torch.exp(torch.randn(n, 1, generator=gen))
            scale_t = torch.exp(torch.randn(n, 1, generator=gen))
            img = torch.randn(n, d, generator=gen)
            txt = img @ torch.randn(d, d, generator=gen) / d**0.5 + 0.7 * torch.randn(
                n, d, generator=gen
            )
            img, txt = (img * scale_i).to(device), (txt * scale_t).to(device)
            _compare(impl, img, txt, temperature)
            _compare(impl, img.double(), txt.double(), temperature)

    # Small temperature: logits up to 1/0.01 = 100, where a plain exp overflows float32 (past
    # ~88.7). The pairs are near-identical, so the matching logits are close to 100, and four
    # topics give close negatives, so that the loss is far from 0.
    topics = torch.randn(4, 32, generator=gen)
    img = topics.repeat(4, 1) + 0.1 * torch.randn(16, 32, generator=gen)
    txt = (img + 0.02 * torch.randn(16, 32, generator=gen)).to(device)
    img = img.to(device)
    _compare(
        impl,
        img,
        txt,
        0.01,
        tol=1e-4,
        hint="subtract the max logit before exp (log-sum-exp); exp(100) overflows float32",
    )

    # One max for the whole matrix is not enough: image 1 points away from every text, so its
    # row's logits are all -100 while the matrix's max is +100, and exp(-200) underflows.
    _compare(
        impl,
        torch.tensor([[1.0, 0.0], [-1.0, 0.0]], device=device),
        torch.tensor([[1.0, 0.0], [1.0, 0.2]], device=device),
        0.01,
        tol=1e-4,
        hint=(
            "subtract each row's own max (and each column's own, for the text -> image "
            "direction), not one max of the whole matrix: a row whose logits all sit near "
            "-100 underflows to log(0) = -inf"
        ),
    )

    # Invariances: rescaling any embedding by a positive factor changes nothing, and swapping
    # the roles of images and texts gives the same (symmetric) loss.
    img = torch.randn(12, 10, generator=gen, dtype=torch.float64).to(device)
    txt = torch.randn(12, 10, generator=gen, dtype=torch.float64).to(device) + img @ torch.randn(
        10, 10, generator=gen, dtype=torch.float64
    ).to(device)
    base = _compare(impl, img, txt, 0.1)
    factors = torch.exp(torch.randn(12, 1, generator=gen, dtype=torch.float64) * 2).to(device)
    what = "clip_loss(image_emb * c, text_emb, 0.1) for positive per-row factors c"
    assert_close(
        call(impl, what, img * factors, txt, 0.1).reshape(()),
        base,
        what,
        atol=1e-9,
        rtol=1e-9,
        hint="the embeddings are L2-normalised first, so their lengths cannot matter",
    )
    what = "clip_loss(text_emb, image_emb, 0.1) vs clip_loss(image_emb, text_emb, 0.1)"
    assert_close(
        call(impl, what, txt, img, 0.1).reshape(()),
        base,
        what,
        atol=1e-9,
        rtol=1e-9,
        hint="the loss is symmetric: it averages the image->text and text->image directions",
    )

    # Gradients with respect to both embeddings.
    i1, t1 = img.clone().requires_grad_(), txt.clone().requires_grad_()
    what = "the gradient of clip_loss(image_emb, text_emb, 0.1), shapes (12, 10)"
    loss = call(impl, what, i1, t1, 0.1)
    expect(
        getattr(loss, "requires_grad", False),
        what,
        "the loss carries no gradient (computed outside autograd, with .item() or numpy?)",
    )
    loss.reshape(()).backward()
    i2, t2 = img.clone().requires_grad_(), txt.clone().requires_grad_()
    _truth_grad = F.normalize(i2, dim=1) @ F.normalize(t2, dim=1).t() / 0.1
    target = torch.arange(12, device=device)
    (
        0.5 * (F.cross_entropy(_truth_grad, target) + F.cross_entropy(_truth_grad.t(), target))
    ).backward()
    expect(i1.grad is not None and t1.grad is not None, what, "no gradient reached the embeddings")
    assert_close(i1.grad, i2.grad, what + " with respect to image_emb", atol=1e-9, rtol=1e-7)
    assert_close(t1.grad, t2.grad, what + " with respect to text_emb", atol=1e-9, rtol=1e-7)


# --- wrong answers --------------------------------------------------------------------------


def _ce(logits):
    return F.cross_entropy(logits, torch.arange(logits.shape[0], device=logits.device))


@fails_with("text -> image cross-entropy over the columns")
def _wrong_one_direction(image_emb, text_emb, temperature):
    """Uses only the image -> text cross-entropy (rows) and forgets text -> image (columns)."""
    logits = F.normalize(image_emb, dim=1) @ F.normalize(text_emb, dim=1).t() / temperature
    return _ce(logits)


@fails_with("L2-normalise each embedding (row) first")
def _wrong_no_normalisation(image_emb, text_emb, temperature):
    """Skips the L2 normalisation: raw dot products instead of cosine similarities."""
    logits = image_emb @ text_emb.t() / temperature
    return 0.5 * (_ce(logits) + _ce(logits.t()))


@fails_with("not each feature column")
def _wrong_normalise_dim0(image_emb, text_emb, temperature):
    """Normalises each feature column (dim 0) instead of each embedding row."""
    logits = F.normalize(image_emb, dim=0) @ F.normalize(text_emb, dim=0).t() / temperature
    return 0.5 * (_ce(logits) + _ce(logits.t()))


@fails_with("do not add them")
def _wrong_sum_directions(image_emb, text_emb, temperature):
    """Adds the two directions instead of averaging them."""
    logits = F.normalize(image_emb, dim=1) @ F.normalize(text_emb, dim=1).t() / temperature
    return _ce(logits) + _ce(logits.t())


@fails_with("divide the similarities by the temperature")
def _wrong_times_temperature(image_emb, text_emb, temperature):
    """Multiplies the cosine similarities by the temperature instead of dividing."""
    logits = F.normalize(image_emb, dim=1) @ F.normalize(text_emb, dim=1).t() * temperature
    return 0.5 * (_ce(logits) + _ce(logits.t()))


@fails_with("exp(100) overflows float32")
def _wrong_unstable_exp(image_emb, text_emb, temperature):
    """exp of the logits without subtracting the max: inf / inf = nan once a logit passes
    ~88.7, as at temperature 0.01."""
    logits = F.normalize(image_emb, dim=1) @ F.normalize(text_emb, dim=1).t() / temperature
    e = torch.exp(logits)
    matching = e.diagonal()
    return -0.5 * (torch.log(matching / e.sum(1)).mean() + torch.log(matching / e.sum(0)).mean())


@fails_with("not one max of the whole matrix")
def _wrong_one_max_for_all(image_emb, text_emb, temperature):
    """Stabilises both directions with one max of the whole logit matrix: a row (or column)
    far below it underflows to exp(...) = 0 and log(0) = -inf."""
    logits = F.normalize(image_emb, dim=1) @ F.normalize(text_emb, dim=1).t() / temperature
    top = logits.max().detach()
    e = torch.exp(logits - top)
    rows = top + torch.log(e.sum(1)) - logits.diagonal()
    columns = top + torch.log(e.sum(0)) - logits.diagonal()
    return 0.5 * (rows.mean() + columns.mean())


@fails_with("summed over the batch")
def _wrong_sum_over_batch(image_emb, text_emb, temperature):
    """Averages the two directions but sums each cross-entropy over the batch
    (reduction='sum'): N times the loss."""
    logits = F.normalize(image_emb, dim=1) @ F.normalize(text_emb, dim=1).t() / temperature
    labels = torch.arange(logits.shape[0], device=logits.device)
    return 0.5 * (
        F.cross_entropy(logits, labels, reduction="sum")
        + F.cross_entropy(logits.t(), labels, reduction="sum")
    )


@fails_with("modified its input image_emb in place")
def _wrong_normalises_in_place(image_emb, text_emb, temperature):
    """L2-normalises the embeddings in place (image_emb /= its row norms): the right loss, but
    the caller's embeddings come back normalised."""
    image_emb /= image_emb.norm(dim=1, keepdim=True)
    text_emb /= text_emb.norm(dim=1, keepdim=True)
    logits = image_emb @ text_emb.t() / temperature
    return 0.5 * (_ce(logits) + _ce(logits.t()))


@fails_with("the loss comes back in the inputs' dtype")
def _wrong_upcast(image_emb, text_emb, temperature):
    """Computes in float64 (image_emb.double(), ...) and returns a float64 loss for float32
    embeddings."""
    return clip_loss(image_emb.double(), text_emb.double(), temperature)


@fails_with("returned a numpy array(")
def _wrong_numpy(image_emb, text_emb, temperature):
    """Computes the loss with numpy and returns numpy's number, not the tensor promised."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    img, txt = image_emb.detach().cpu().numpy(), text_emb.detach().cpu().numpy()
    img = img / np.linalg.norm(img, axis=1, keepdims=True)
    txt = txt / np.linalg.norm(txt, axis=1, keepdims=True)
    logits = img @ txt.T / temperature

    def mean_cross_entropy_rows(m):
        m = m - m.max(axis=1, keepdims=True)
        return (np.log(np.exp(m).sum(axis=1)) - np.diagonal(m)).mean()

    return 0.5 * (mean_cross_entropy_rows(logits) + mean_cross_entropy_rows(logits.T))


WRONG_ANSWERS = {
    "clip_loss": [
        _wrong_upcast,
        _wrong_sum_over_batch,
        _wrong_unstable_exp,
        _wrong_one_max_for_all,
        _wrong_one_direction,
        _wrong_no_normalisation,
        _wrong_normalise_dim0,
        _wrong_sum_directions,
        _wrong_times_temperature,
        _wrong_normalises_in_place,
        _wrong_numpy,
    ],
}


# --- correct variants -----------------------------------------------------------------------


def _variant_cross_entropy(image_emb, text_emb, temperature):
    """With F.normalize and F.cross_entropy, text logits computed as their own product."""
    img, txt = F.normalize(image_emb, dim=-1), F.normalize(text_emb, dim=-1)
    labels = torch.arange(img.shape[0], device=img.device)
    logits_per_image = img @ txt.t() / temperature
    logits_per_text = txt @ img.t() / temperature
    return (
        F.cross_entropy(logits_per_image, labels) + F.cross_entropy(logits_per_text, labels)
    ) / 2


CORRECT_VARIANTS = {"clip_loss": [_variant_cross_entropy]}
