"""PixelShuffle (sub-pixel convolution's rearrangement): channels to space."""

import torch
import torch.nn.functional as F

from studycli.assertions import assert_close, call, describe, dtype_name, expect, fails_with, forbid


def pixel_shuffle(x, upscale_factor: int):
    """Rearrange (N, C r^2, H, W) into (N, C, H r, W r): the same result
    as F.pixel_shuffle(x, upscale_factor).

    Args:
        x: (N, C * r * r, H, W) tensor.
        upscale_factor: r >= 1.

    Returns:
        (N, C, H * r, W * r) tensor in the dtype of x.
    """
    N, Crr, H, W = x.shape
    r = upscale_factor
    C = Crr // (r * r)
    # Output pixel (c, h r + i, w r + j) comes from input channel c r^2 + i r + j at (h, w).
    x = x.reshape(N, C, r, r, H, W)  # channel index = c r^2 + i r + j
    x = x.permute(0, 1, 4, 2, 5, 3)  # (N, C, H, i, W, j)
    return x.reshape(N, C, H * r, W * r)


# --- checker --------------------------------------------------------------------------------


# Models of the usual mistakes (x, r -> output) and the hint naming each one.
def _shuffle_as(x, r, split, order):
    N, Crr, H, W = x.shape
    C = Crr // (r * r)
    return x.reshape(N, *split(C, r), H, W).permute(*order).reshape(N, C, H * r, W * r)


_MISTAKES = (
    (
        lambda x, r: _shuffle_as(x, r, lambda C, r: (C, r, r), (0, 1, 4, 3, 5, 2)),
        "every r x r block is transposed: channel c r^2 + i r + j goes to row offset i and "
        "column offset j, so permute to (N, C, H, i, W, j)",
    ),
    (
        lambda x, r: _shuffle_as(x, r, lambda C, r: (r, r, C), (0, 3, 4, 1, 5, 2)),
        "the channels were split as (r, r, C), TensorFlow's depth_to_space layout; PyTorch's "
        "channel index is c r^2 + i r + j, a (C, r, r) split",
    ),
    (
        lambda x, r: x.reshape(x.shape[0], x.shape[1] // (r * r), x.shape[2] * r, x.shape[3] * r),
        "a plain reshape without a permute cuts rows into pieces; move each sub-pixel axis next "
        "to the spatial axis it refines first",
    ),
)


def _compare(impl, x, r, what, hint, atol=1e-5, rtol=1e-5):
    got = call(impl, what, x.clone(), r)
    expect(isinstance(got, torch.Tensor), what, f"returned {type(got).__name__}, expected a tensor")
    expect(
        getattr(got, "dtype", None) == x.dtype,
        what,
        f"returned {dtype_name(got)} for {dtype_name(x)} x: the "
        "output holds x's values, in x's dtype (a buffer made by np.zeros is float64 and one "
        "made by torch.zeros float32, whatever x is)",
    )
    want = F.pixel_shuffle(x.contiguous(), r)
    if tuple(got.shape) == tuple(want.shape) and not torch.allclose(
        got, want, atol=atol, rtol=rtol
    ):
        for model, text in _MISTAKES:
            if torch.equal(got, model(x.contiguous(), r)):
                hint = text
                break
    assert_close(got, want, what, atol=atol, rtol=rtol, hint=hint)


def check_pixel_shuffle(impl, device="cpu") -> None:
    # A readable case: every value names its source channel (r = 2, one output channel).
    impl = forbid(
        impl,
        "pixel_shuffle",
        "pixel_unshuffle",
        reason="rearrange with reshape and permute yourself",
    )
    x = torch.arange(4.0, device=device).view(1, 4, 1, 1).expand(1, 4, 2, 2).contiguous()
    what = "pixel_shuffle(x of shape (1, 4, 2, 2) with x[:, c] = c, 2)"
    _compare(impl, x, 2, what, "channel c r^2 + i r + j goes to row offset i, column offset j")
    gen = torch.Generator().manual_seed(0)
    for N, C, r, H, W in [
        (1, 1, 1, 3, 3),
        (1, 1, 2, 1, 1),
        (2, 3, 2, 4, 5),
        (1, 2, 3, 2, 7),
        (3, 1, 4, 3, 2),
        (2, 5, 2, 6, 1),
        (1, 4, 3, 5, 5),
        (2, 2, 2, 8, 3),
    ]:
        x = torch.randn(N, C * r * r, H, W, generator=gen).to(device)
        what = f"pixel_shuffle(x {describe(x)}, {r})"
        hint = "reshape to (N, C, r, r, H, W) and permute to (N, C, H, r, W, r)"
        _compare(impl, x, r, what, hint, atol=0, rtol=0)
    # float64 x comes back in float64, its values not rounded to float32.
    x = torch.randn(2, 12, 3, 4, generator=gen, dtype=torch.float64).to(device)
    what = f"pixel_shuffle(x {describe(x)}, 2)"
    _compare(
        impl,
        x,
        2,
        what,
        "output pixel (c, h r + i, w r + j) is input channel c r^2 + i r + j",
        atol=0,
        rtol=0,
    )
    # A non-contiguous input (a transposed view) must work too.
    x = torch.randn(2, 8, 5, 3, generator=gen).to(device).transpose(2, 3)
    what = f"pixel_shuffle(x {describe(x)} (non-contiguous), 2)"
    assert_close(
        call(impl, what, x, 2),
        F.pixel_shuffle(x.contiguous(), 2),
        what,
        atol=0,
        rtol=0,
        hint="use reshape (or .contiguous().view) on a permuted tensor, not view",
    )


# --- wrong answers --------------------------------------------------------------------------


@fails_with("every r x r block is transposed")
def _wrong_permute_order(x, upscale_factor):
    """Permutes to (N, C, H, j, W, i): the two sub-pixel axes are swapped (a transposed block)."""
    N, Crr, H, W = x.shape
    r = upscale_factor
    C = Crr // (r * r)
    return x.reshape(N, C, r, r, H, W).permute(0, 1, 4, 3, 5, 2).reshape(N, C, H * r, W * r)


@fails_with("depth_to_space layout")
def _wrong_channel_last_grouping(x, upscale_factor):
    """Splits the channels as (r, r, C) instead of (C, r, r), like TensorFlow's depth_to_space."""
    N, Crr, H, W = x.shape
    r = upscale_factor
    C = Crr // (r * r)
    return x.reshape(N, r, r, C, H, W).permute(0, 3, 4, 1, 5, 2).reshape(N, C, H * r, W * r)


@fails_with("a plain reshape without a permute")
def _wrong_plain_reshape(x, upscale_factor):
    """Reshapes straight to (N, C, H r, W r) without permuting."""
    N, Crr, H, W = x.shape
    r = upscale_factor
    return x.reshape(N, Crr // (r * r), H * r, W * r)


@fails_with("the answer calls pixel_shuffle")
def _wrong_calls_library(x, upscale_factor):
    """Calls F.pixel_shuffle, the routine the card is about."""
    import torch.nn.functional as F

    return F.pixel_shuffle(x, upscale_factor)


@fails_with("returned float64 for float32 x")
def _wrong_numpy_buffer(x, upscale_factor):
    """Fills a numpy buffer np.zeros((N, C, H r, W r)), float64 by default, and returns it."""
    import numpy as np

    N, Crr, H, W = x.shape
    r = upscale_factor
    C = Crr // (r * r)
    pixels = x.detach().cpu().numpy()
    out = np.zeros((N, C, H * r, W * r))
    for i in range(r):
        for j in range(r):
            out[:, :, i::r, j::r] = pixels[:, i * r + j :: r * r]
    return torch.from_numpy(out).to(x.device)


@fails_with("returned float32 for float64 x")
def _wrong_float32_buffer(x, upscale_factor):
    """Fills a buffer torch.zeros(N, C, H r, W r), float32 by default, so float64 x is rounded."""
    N, Crr, H, W = x.shape
    r = upscale_factor
    C = Crr // (r * r)
    out = torch.zeros(N, C, H * r, W * r, device=x.device)
    for i in range(r):
        for j in range(r):
            out[:, :, i::r, j::r] = x[:, i * r + j :: r * r]
    return out


@fails_with("returned ndarray, expected a tensor")
def _wrong_returns_array(x, upscale_factor):
    """Fills a numpy buffer in x's dtype and returns the array itself, not a tensor."""
    import numpy as np

    N, Crr, H, W = x.shape
    r = upscale_factor
    pixels = x.detach().cpu().numpy()
    out = np.empty((N, Crr // (r * r), H * r, W * r), dtype=pixels.dtype)
    for i in range(r):
        for j in range(r):
            out[:, :, i::r, j::r] = pixels[:, i * r + j :: r * r]
    return out


WRONG_ANSWERS = {
    "pixel_shuffle": [
        _wrong_calls_library,
        _wrong_permute_order,
        _wrong_channel_last_grouping,
        _wrong_plain_reshape,
        _wrong_numpy_buffer,
        _wrong_float32_buffer,
        _wrong_returns_array,
    ],
}


# --- correct variants -----------------------------------------------------------------------


def _variant_loops(x, upscale_factor):
    """Fills the output with strided slices, one sub-pixel offset (i, j) at a time."""
    N, Crr, H, W = x.shape
    r = upscale_factor
    C = Crr // (r * r)
    out = x.new_empty(N, C, H * r, W * r)
    for i in range(r):
        for j in range(r):
            out[:, :, i::r, j::r] = x[:, i * r + j :: r * r]
    return out


CORRECT_VARIANTS = {"pixel_shuffle": [_variant_loops]}
