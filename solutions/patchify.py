"""ViT patch extraction: an image becomes a sequence of flattened p x p patches."""

import torch
import torch.nn.functional as F

from studycli.assertions import (
    CONVOLUTIONS,
    assert_close,
    call,
    describe,
    dtype_name,
    expect,
    fails_with,
    forbid,
)


def patchify(images, patch_size: int):
    """Cut images into non-overlapping p x p patches and flatten each one.

    Patches are listed in row-major order (left to right along the top row
    of patches, then the next row). Each patch is flattened in (C, p, p)
    order, the memory order of a Conv2d weight (E, C, p, p), so that

        patchify(images, p) @ conv.weight.reshape(E, C * p * p).T

    equals Conv2d(C, E, kernel_size=p, stride=p, bias=False)(images),
    flattened to (N, L, E).

    Args:
        images: (N, C, H, W) tensor, H and W multiples of p.
        patch_size: p.

    Returns:
        (N, (H / p) * (W / p), C * p * p) tensor in the dtype of images.
    """
    N, C, H, W = images.shape
    p = patch_size
    x = images.reshape(N, C, H // p, p, W // p, p)  # (N, C, gh, i, gw, j)
    x = x.permute(0, 2, 4, 1, 3, 5)  # (N, gh, gw, C, i, j)
    return x.reshape(N, (H // p) * (W // p), C * p * p)


# --- checker --------------------------------------------------------------------------------


def _grid(images, p, order):
    N, C, H, W = images.shape
    x = images.reshape(N, C, H // p, p, W // p, p).permute(*order)
    return x.reshape(N, (H // p) * (W // p), C * p * p)


# Models of the usual mistakes (images, p -> patches) and the hint naming each one.
_MISTAKES = (
    (
        lambda images, p: _grid(images, p, (0, 2, 4, 3, 5, 1)),
        "each patch is flattened channels last, (p, p, C); a Conv2d weight (E, C, p, p) needs "
        "(C, p, p) order, channel first",
    ),
    (
        lambda images, p: _grid(images, p, (0, 4, 2, 1, 3, 5)),
        "the patches are listed column by column; row-major order goes along the top row of "
        "patches first",
    ),
    (
        lambda images, p: images.reshape(images.shape[0], -1, images.shape[1] * p * p),
        "a plain reshape takes runs of consecutive pixels, not square patches: split H and W "
        "into (H/p, p) and (W/p, p) and permute",
    ),
)

_DEFAULT_HINT = "patches in row-major order; flatten each in (C, p, p) order, channel first"


def _expect_dtype(got, images, what):
    """The patches are copies of the pixels: in the images' dtype, neither widened nor rounded."""
    expect(
        getattr(got, "dtype", None) == images.dtype,
        what,
        f"returned {dtype_name(got)} patches for "
        f"{dtype_name(images)} images: the patches are the images' pixels, in their dtype "
        "(a buffer made by np.zeros is float64 and one made by torch.zeros float32, whatever "
        "the images are)",
    )


def check_patchify(impl, device="cpu") -> None:
    impl = forbid(impl, *CONVOLUTIONS, reason="cut the patches with reshape and permute")
    gen = torch.Generator().manual_seed(0)
    for N, C, H, W, p in [
        (1, 1, 4, 4, 2),
        (2, 3, 8, 8, 4),
        (1, 3, 6, 9, 3),
        (2, 2, 4, 6, 2),
        (1, 3, 5, 5, 1),
        (2, 4, 6, 6, 6),
        (1, 3, 32, 16, 8),
        (3, 1, 2, 10, 2),
    ]:
        images = torch.randn(N, C, H, W, generator=gen).to(device)
        what = f"patchify(images {describe(images)}, {p})"
        got = call(impl, what, images.clone(), p)
        expect(
            isinstance(got, torch.Tensor), what, f"returned {type(got).__name__}, expected a tensor"
        )
        L = (H // p) * (W // p)
        expect(
            tuple(got.shape) == (N, L, C * p * p),
            what,
            f"returned shape {tuple(got.shape)}, expected {(N, L, C * p * p)}",
        )
        _expect_dtype(got, images, what)
        # Order: patch number gi * (W / p) + gj is the block at row gi, column gj, flattened (C, p, p).
        hint = _DEFAULT_HINT
        for model, text in _MISTAKES:
            wrong = model(images, p)
            if not torch.equal(wrong, _grid(images, p, (0, 2, 4, 1, 3, 5))) and torch.equal(
                got, wrong
            ):
                hint = text
                break
        for n in range(N):
            for index in range(L):
                gi, gj = divmod(index, W // p)
                block = images[n, :, gi * p : (gi + 1) * p, gj * p : (gj + 1) * p].reshape(-1)
                assert_close(
                    got[n, index],
                    block,
                    f"{what}[{n}, {index}] (patch row {gi}, column {gj})",
                    atol=0,
                    rtol=0,
                    hint=hint,
                )
        # The Conv2d equivalence that a ViT patch embedding relies on.
        E = 5
        weight = torch.randn(E, C, p, p, generator=gen).to(device)
        # In float64 (no TF32 on a GPU); the patches themselves are exact copies of pixels.
        conv = (
            F.conv2d(images.double(), weight.double(), stride=p).flatten(2).transpose(1, 2)
        )  # (N, L, E)
        assert_close(
            got.double() @ weight.double().reshape(E, -1).T,
            conv,
            f"{what} @ W.reshape(E, C p p).T vs conv2d",
            atol=1e-9,
            rtol=1e-9,
        )
    # float64 images: the patches are their pixels, not rounded to float32.
    images = torch.randn(2, 3, 4, 6, generator=gen, dtype=torch.float64).to(device)
    what = f"patchify(images {describe(images)}, 2)"
    got = call(impl, what, images.clone(), 2)
    expect(isinstance(got, torch.Tensor), what, f"returned {type(got).__name__}, expected a tensor")
    _expect_dtype(got, images, what)
    eye = torch.eye(12, dtype=torch.float64, device=device).view(12, 3, 2, 2)
    conv = F.conv2d(images, eye, stride=2).flatten(2).transpose(1, 2)
    assert_close(got, conv, what, atol=0, rtol=0, hint=_DEFAULT_HINT)
    # A non-contiguous input.
    images = torch.randn(2, 3, 8, 4, generator=gen).to(device).transpose(2, 3)
    what = f"patchify(images {describe(images)} (non-contiguous), 2)"
    got = call(impl, what, images, 2)
    eye = torch.eye(12, dtype=torch.float64, device=device).view(12, 3, 2, 2)
    conv = F.conv2d(images.double(), eye, stride=2).flatten(2).transpose(1, 2)
    assert_close(got, conv, what, atol=0, rtol=0, hint="use reshape, not view, after a permute")


# --- wrong answers --------------------------------------------------------------------------


@fails_with("flattened channels last")
def _wrong_channels_last(images, patch_size):
    """Flattens each patch in (p, p, C) order (channels last), which no longer matches a Conv2d weight."""
    N, C, H, W = images.shape
    p = patch_size
    x = images.reshape(N, C, H // p, p, W // p, p).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(N, (H // p) * (W // p), p * p * C)


@fails_with("listed column by column")
def _wrong_column_major(images, patch_size):
    """Lists patches column by column (top to bottom first) instead of row by row."""
    N, C, H, W = images.shape
    p = patch_size
    x = images.reshape(N, C, H // p, p, W // p, p).permute(0, 4, 2, 1, 3, 5)
    return x.reshape(N, (H // p) * (W // p), C * p * p)


@fails_with("a plain reshape takes runs of consecutive pixels")
def _wrong_plain_reshape(images, patch_size):
    """Reshapes the image straight to (N, L, C p p): the 'patches' are runs of consecutive pixels."""
    N, C, H, W = images.shape
    p = patch_size
    return images.reshape(N, (H // p) * (W // p), C * p * p)


@fails_with("returned float64 patches for float32 images")
def _wrong_numpy_buffer(images, patch_size):
    """Fills a numpy buffer np.zeros((N, L, C p p)), float64 by default, and returns it as a tensor."""
    import numpy as np

    N, C, H, W = images.shape
    p = patch_size
    pixels = images.detach().cpu().numpy()
    out = np.zeros((N, (H // p) * (W // p), C * p * p))
    for n in range(N):
        for index in range(out.shape[1]):
            gi, gj = divmod(index, W // p)
            out[n, index] = pixels[n, :, gi * p : (gi + 1) * p, gj * p : (gj + 1) * p].reshape(-1)
    return torch.from_numpy(out).to(images.device)


@fails_with("returned float32 patches for float64 images")
def _wrong_float32_buffer(images, patch_size):
    """Fills a buffer torch.zeros(N, L, C p p), float32 by default, so float64 pixels are rounded."""
    N, C, H, W = images.shape
    p = patch_size
    out = torch.zeros(N, (H // p) * (W // p), C * p * p, device=images.device)
    for index in range(out.shape[1]):
        gi, gj = divmod(index, W // p)
        out[:, index] = images[:, :, gi * p : (gi + 1) * p, gj * p : (gj + 1) * p].reshape(N, -1)
    return out


@fails_with("returned ndarray, expected a tensor")
def _wrong_returns_array(images, patch_size):
    """Fills a numpy buffer in the images' dtype and returns the array itself, not a tensor."""
    import numpy as np

    N, C, H, W = images.shape
    p = patch_size
    pixels = images.detach().cpu().numpy()
    out = np.empty((N, (H // p) * (W // p), C * p * p), dtype=pixels.dtype)
    for index in range(out.shape[1]):
        gi, gj = divmod(index, W // p)
        out[:, index] = pixels[:, :, gi * p : (gi + 1) * p, gj * p : (gj + 1) * p].reshape(N, -1)
    return out


@fails_with("the answer calls conv2d")
def _wrong_identity_conv(images, patch_size):
    """Copies each patch out with F.conv2d and an identity kernel (C p p, C, p, p): the right
    patches where the convolution is exact, but a convolution is what the card replaces (and
    on a GPU with TF32 it rounds the pixels)."""
    C, p = images.shape[1], patch_size
    eye = torch.eye(C * p * p, dtype=images.dtype, device=images.device)
    return F.conv2d(images, eye.reshape(-1, C, p, p), stride=p).flatten(2).transpose(1, 2)


@fails_with("the answer calls conv3d")
def _wrong_identity_conv3d(images, patch_size):
    """The identity-kernel convolution through F.conv3d over a depth of 1: a convolution all
    the same (a checker that refused conv2d and convolution only let it pass)."""
    C, p = images.shape[1], patch_size
    eye = torch.eye(C * p * p, dtype=images.dtype, device=images.device)
    out = F.conv3d(images[:, :, None], eye.reshape(-1, C, 1, p, p), stride=(1, p, p))
    return out[:, :, 0].flatten(2).transpose(1, 2)


WRONG_ANSWERS = {
    "patchify": [
        _wrong_channels_last,
        _wrong_column_major,
        _wrong_plain_reshape,
        _wrong_numpy_buffer,
        _wrong_float32_buffer,
        _wrong_returns_array,
        _wrong_identity_conv,
        _wrong_identity_conv3d,
    ]
}


# --- correct variants -----------------------------------------------------------------------


def _variant_unfold(images, patch_size):
    """F.unfold with kernel p and stride p gives (N, C p p, L); transpose it."""
    return F.unfold(images, kernel_size=patch_size, stride=patch_size).transpose(1, 2)


CORRECT_VARIANTS = {"patchify": [_variant_unfold]}
