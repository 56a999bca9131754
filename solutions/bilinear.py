"""Bilinear sampling of an image at fractional pixel coordinates (the core of deformable conv)."""

import torch
import torch.nn.functional as F

from studycli.assertions import (
    RAISED,
    assert_close,
    call_unchanged,
    describe,
    dtype_name,
    expect,
    expect_tensor,
    fails_with,
    forbid,
    hinted,
)


def bilinear_sample(img, ys, xs):
    """Sample `img` at the fractional pixel positions (ys[i], xs[i]) by
    bilinear interpolation.

    Pixel (y, x) is the centre of row y, column x: (0, 0) is the top-left
    pixel and (H - 1, W - 1) the bottom-right one. Outside the image the
    values count as zero. The result equals F.grid_sample(mode="bilinear",
    padding_mode="zeros", align_corners=True) with the coordinates mapped
    to [-1, 1].

    Args:
        img: (C, H, W) float tensor.
        ys: (P,) tensor of row coordinates, in img's dtype.
        xs: (P,) tensor of column coordinates, in img's dtype.

    Returns:
        (C, P) tensor in img's dtype: column i is the sampled value of
        every channel at (ys[i], xs[i]). img, ys and xs are left
        unchanged.
    """
    # The 4 integer neighbours (y0 + dy, x0 + dx), y0 = floor(y), x0 = floor(x), each weighted by
    # (1 - |y - yi|)(1 - |x - xi|); a neighbour outside the image contributes 0.
    C, H, W = img.shape
    y0 = torch.floor(ys)
    x0 = torch.floor(xs)
    out = img.new_zeros(C, ys.shape[0])
    for dy in (0, 1):
        for dx in (0, 1):
            yi, xi = y0 + dy, x0 + dx
            weight = (1 - (ys - yi).abs()) * (1 - (xs - xi).abs())
            inside = (yi >= 0) & (yi <= H - 1) & (xi >= 0) & (xi <= W - 1)
            yc = torch.where(inside, yi, 0).long()  # (outside, or a nan coordinate: pixel 0,
            xc = torch.where(inside, xi, 0).long()  # at weight 0; never an index past the image)
            out += img[:, yc, xc] * (weight * inside).to(img.dtype)
    return out


# --- checker --------------------------------------------------------------------------------


def _truth(img, ys, xs):
    """F.grid_sample with pixel coordinates converted to [-1, 1] (align_corners=True), in float64.
    A one-row or one-column image has no span to map onto [-1, 1] (H - 1 = 0): a zero row below
    it, or a zero column to its right, changes no sample (outside counts as zero) and gives it
    one."""
    img = F.pad(img, (0, max(0, 2 - img.shape[2]), 0, max(0, 2 - img.shape[1])))
    C, H, W = img.shape
    gx = 2 * xs.double() / (W - 1) - 1
    gy = 2 * ys.double() / (H - 1) - 1
    grid = torch.stack([gx, gy], dim=-1).view(1, 1, -1, 2)
    out = F.grid_sample(
        img.double()[None], grid, mode="bilinear", padding_mode="zeros", align_corners=True
    )
    return out[0, :, 0, :]


def _corners(
    img, ys, xs, clamp_coords=False, swap=False, truncate=False, last_outside=False, ceil=False
):
    """Bilinear sampling, or one of its usual mistakes: clamped coordinates, swapped axes,
    the top-left neighbour by truncation toward zero (int(), .long()) instead of floor, the
    last row and column counted outside the image (yi < H - 1 instead of yi <= H - 1), or
    the far neighbour taken as ceil instead of floor + 1 (the same pixel twice, each with
    weight 1, at an integer coordinate)."""
    C, H, W = img.shape
    if swap:
        ys, xs = xs, ys
    if clamp_coords:
        ys = ys.clamp(0, H - 1)
        xs = xs.clamp(0, W - 1)
    round_down = torch.trunc if truncate else torch.floor
    y0, x0 = round_down(ys), round_down(xs)
    last_y, last_x = (H - 2, W - 2) if last_outside else (H - 1, W - 1)
    out = img.new_zeros(C, ys.shape[0])
    for dy in (0, 1):
        for dx in (0, 1):
            yi, xi = y0 + dy, x0 + dx
            if ceil:
                yi = torch.ceil(ys) if dy else y0
                xi = torch.ceil(xs) if dx else x0
            weight = (1 - (ys - yi).abs()) * (1 - (xs - xi).abs())
            inside = (yi >= 0) & (yi <= last_y) & (xi >= 0) & (xi <= last_x)
            out += img[:, yi.clamp(0, H - 1).long(), xi.clamp(0, W - 1).long()] * (weight * inside)
    return out


def _swapped(img, ys, xs):
    C, H, W = img.shape
    padded = torch.zeros(C, max(H, W), max(H, W), dtype=img.dtype, device=img.device)
    padded[:, :H, :W] = img
    return _corners(padded, ys, xs, swap=True)


def _all_or_nothing(img, ys, xs):
    C, H, W = img.shape
    y0, x0 = torch.floor(ys), torch.floor(xs)
    ok = (y0 >= 0) & (y0 + 1 <= H - 1) & (x0 >= 0) & (x0 + 1 <= W - 1)
    return _corners(img, ys, xs) * ok


def _nearest(img, ys, xs):
    C, H, W = img.shape
    yr, xr = torch.round(ys), torch.round(xs)
    inside = (yr >= 0) & (yr <= H - 1) & (xr >= 0) & (xr <= W - 1)
    return img[:, yr.clamp(0, H - 1).long(), xr.clamp(0, W - 1).long()] * inside


# Models of the usual mistakes (img, ys, xs -> samples) and the hint naming each one.
_MISTAKES = (
    (
        lambda img, ys, xs: _corners(img, ys, xs, clamp_coords=True),
        "the coordinates were clamped to the border (border padding): neighbours outside the "
        "image contribute zero (padding_mode='zeros')",
    ),
    (
        _swapped,
        "rows and columns are swapped: rows are y (first index), columns are x (second "
        "index), img[:, y, x]",
    ),
    (
        _all_or_nothing,
        "a point is zeroed unless all 4 neighbours are inside: zero only the neighbours that "
        "lie outside (a point on the last row or column keeps its value)",
    ),
    (
        lambda img, ys, xs: _corners(img, ys, xs, last_outside=True),
        "the last row and column were counted outside the image: row H - 1 and column W - 1 "
        "are inside, so a neighbour is valid for 0 <= yi <= H - 1 and 0 <= xi <= W - 1 "
        "(not yi < H - 1)",
    ),
    (
        lambda img, ys, xs: _corners(img, ys, xs, truncate=True),
        "the top-left neighbour needs floor, not truncation toward zero: int() and .long() turn "
        "-0.5 into 0, where floor gives -1 (use torch.floor before converting to indices)",
    ),
    (
        lambda img, ys, xs: _corners(img, ys, xs, ceil=True),
        "the neighbours are floor(x) and floor(x) + 1, not floor and ceil: at an integer "
        "coordinate ceil == floor, so the same pixel is counted twice (four times when y and x "
        "are both integers) with weight 1 each; use floor + 1, or weights 1 - frac and frac",
    ),
    (
        _nearest,
        "this is nearest-neighbour sampling: mix the 4 neighbours with weights "
        "(1 - |y - yi|)(1 - |x - xi|)",
    ),
)


IN_PLACE = (
    "leave img, ys and xs as they came: shift or clamp coordinates into new tensors "
    "(y = ys + 1, not ys += 1): the caller still holds them"
)


def _compare(impl, img, ys, xs, hint="", note=""):
    what = f"bilinear_sample(img {describe(img)}{note}, ys={describe(ys)}, xs={describe(xs)})"
    got = call_unchanged(
        impl, what, ("img", "ys", "xs"), img.clone(), ys.clone(), xs.clone(), hint=IN_PLACE
    )
    expect_tensor(got, what)  # (a numpy array failed below: "returned float32 for float32 img")
    expect(
        got.dtype == img.dtype,
        what,
        f"returned {dtype_name(got)} for {dtype_name(img)} img: the samples come back in img's "
        "dtype, as grid_sample's do (a buffer made by torch.zeros is float32 whatever img is: "
        "use img.new_zeros, or dtype=img.dtype)",
    )
    atol, rtol = (1e-10, 1e-10) if img.dtype == torch.float64 else (2e-5, 1e-4)
    want = _truth(img, ys, xs)
    if tuple(got.shape) == tuple(want.shape) and not torch.allclose(
        got.double(), want, atol=2e-5, rtol=1e-4
    ):
        for model, text in _MISTAKES:
            wrong = model(img, ys, xs).double()
            if torch.allclose(got.double(), wrong, atol=1e-5, rtol=1e-5):
                hint = text
                break
    assert_close(got, want, what, atol=atol, rtol=rtol, hint=hint)


def check_bilinear_sample(impl, device="cpu") -> None:
    impl = forbid(
        impl,
        "grid_sample",
        "grid_sampler",  # (the operator behind grid_sample, and its kin)
        "grid_sampler_2d",
        "grid_sampler_3d",
        "grid_sampler_2d_cpu_fallback",
        "cudnn_grid_sampler",
        "interpolate",
        "upsample_bilinear2d",
        reason="weight the four neighbours yourself",
    )
    t = lambda v: torch.tensor(v, dtype=torch.float32, device=device)  # noqa: E731
    # A 2 x 3 ramp: value = 10 y + x. Inside the image, bilinear reproduces it exactly.
    img = t([[[0.0, 1.0, 2.0], [10.0, 11.0, 12.0]]])
    _compare(
        impl,
        img,
        t([0.0, 1.0, 0.5, 0.25, 1.0, 0.0]),
        t([0.0, 2.0, 1.5, 0.75, 0.0, 2.0]),
        hint="mix the 4 neighbours (floor(y) + dy, floor(x) + dx), dy, dx in {0, 1}, each "
        "weighted (1 - |y - yi|)(1 - |x - xi|) and read as img[:, yi, xi] (rows are y, the "
        "first index; columns are x, the second)",
    )
    # Exactly on the last row / column: the point is inside, with full weight on the border pixel.
    _compare(
        impl,
        img,
        t([1.0, 1.0, 0.5]),
        t([2.0, 1.25, 2.0]),
        hint="a point on the last row or column is inside the image; only its weight-0 "
        "neighbour lies outside",
    )
    # Just outside: the outside neighbours count as zero, so the value fades linearly.
    _compare(
        impl,
        img,
        t([-0.5, 1.5, 0.0, 0.5, -0.25]),
        t([1.0, 2.0, -0.5, 2.5, -0.25]),
        hint="neighbours outside the image contribute zero (padding_mode='zeros'); "
        "do not clamp the coordinates to the border",
    )
    # Far outside: exactly zero.
    _compare(
        impl,
        img,
        t([-3.0, 5.0, 0.5, 0.5, -1.0]),
        t([0.5, 1.0, -7.0, 9.0, 3.0]),
        hint="a point more than one pixel outside the image samples to 0",
    )

    gen = torch.Generator().manual_seed(0)
    for C, H, W in [(1, 2, 2), (3, 4, 7), (2, 9, 5), (4, 16, 16), (1, 2, 11), (5, 13, 3)]:
        img = torch.randn(C, H, W, generator=gen).to(device)
        P = 200
        # Mostly inside, some near and beyond the border.
        ys = (torch.rand(P, generator=gen) * (H + 2) - 1.5).to(device)
        xs = (torch.rand(P, generator=gen) * (W + 2) - 1.5).to(device)
        _compare(impl, img, ys, xs)
        # Integer coordinates (all grid points plus one ring outside): plain pixel lookup or 0.
        gy, gx = torch.meshgrid(torch.arange(-1, H + 1), torch.arange(-1, W + 1), indexing="ij")
        _compare(
            impl,
            img,
            gy.reshape(-1).float().to(device),
            gx.reshape(-1).float().to(device),
            hint="at integer coordinates the sample is the pixel itself (0 outside)",
        )
        # Points on the four borders.
        s = torch.rand(20, generator=gen)
        ys_b = torch.cat(
            [torch.zeros(10), torch.full((10,), H - 1.0), s[:10] * (H - 1), s[10:] * (H - 1)]
        )
        xs_b = torch.cat(
            [s[:10] * (W - 1), s[10:] * (W - 1), torch.zeros(10), torch.full((10,), W - 1.0)]
        )
        _compare(impl, img, ys_b.to(device), xs_b.to(device))
    # One row, one column, one pixel: H - 1 or W - 1 is 0, where coordinates mapped to [-1, 1]
    # and back (y / (H - 1), as grid_sample's align_corners does) divide by zero.
    for C, H, W in [(2, 1, 6), (3, 5, 1), (1, 1, 1)]:
        img = torch.randn(C, H, W, generator=gen).to(device)
        ys = (torch.rand(30, generator=gen) * (H + 2) - 1.5).to(device)
        xs = (torch.rand(30, generator=gen) * (W + 2) - 1.5).to(device)
        with hinted(ONE_ROW, when=RAISED):
            _compare(impl, img, ys, xs, hint=ONE_ROW)
    # float64 in, float64 out, to float64's precision.
    img = torch.randn(3, 6, 9, generator=gen, dtype=torch.float64).to(device)
    _compare(
        impl,
        img,
        (torch.rand(300, generator=gen, dtype=torch.float64) * 8 - 1.5).to(device),
        (torch.rand(300, generator=gen, dtype=torch.float64) * 11 - 1.5).to(device),
    )
    # A non-contiguous image: a transposed view (its rows are 1 apart in memory, its columns 5).
    img = torch.randn(3, 7, 5, generator=gen).to(device).transpose(1, 2)
    _compare(
        impl,
        img,
        (torch.rand(40, generator=gen) * 6 - 0.5).to(device),
        (torch.rand(40, generator=gen) * 8 - 0.5).to(device),
        note=" (non-contiguous: a transposed view)",
    )
    # A single point, and many points at once.
    img = torch.randn(3, 6, 8, generator=gen).to(device)
    _compare(impl, img, t([2.5]), t([3.25]))
    _compare(
        impl,
        img,
        (torch.rand(5000, generator=gen) * 7 - 0.5).to(device),
        (torch.rand(5000, generator=gen) * 9 - 0.5).to(device),
    )


ONE_ROW = (
    "a one-row or one-column image is allowed: H - 1 or W - 1 is 0 there, so work in pixel "
    "coordinates (floor(y) and floor(y) + 1, with the outside neighbour counting zero) rather "
    "than dividing by H - 1 or W - 1"
)


# --- wrong answers --------------------------------------------------------------------------


@fails_with("clamped to the border")
def _wrong_clamp(img, ys, xs):
    """Clamps the coordinates to the image (border padding) instead of treating outside as zero."""
    return _corners(img, ys, xs, clamp_coords=True)


@fails_with("rows and columns are swapped")
def _wrong_swapped_xy(img, ys, xs):
    """Swaps the axes: indexes img[:, x, y], treating xs as rows and ys as columns."""
    C, H, W = img.shape
    # Reads rows with xs and columns with ys (only in range when the image is square enough).
    padded = torch.zeros(C, max(H, W), max(H, W), dtype=img.dtype, device=img.device)
    padded[:, :H, :W] = img
    return _corners(padded, ys, xs, swap=True)


@fails_with("unless all 4 neighbours are inside")
def _wrong_all_or_nothing(img, ys, xs):
    """Returns 0 unless all four neighbours are inside, so points on the last row/column become 0."""
    C, H, W = img.shape
    y0, x0 = torch.floor(ys), torch.floor(xs)
    ok = (y0 >= 0) & (y0 + 1 <= H - 1) & (x0 >= 0) & (x0 + 1 <= W - 1)
    return _corners(img, ys, xs) * ok


@fails_with("nearest-neighbour sampling")
def _wrong_nearest(img, ys, xs):
    """Rounds to the nearest pixel instead of interpolating."""
    C, H, W = img.shape
    yr, xr = torch.round(ys), torch.round(xs)
    inside = (yr >= 0) & (yr <= H - 1) & (xr >= 0) & (xr <= W - 1)
    return img[:, yr.clamp(0, H - 1).long(), xr.clamp(0, W - 1).long()] * inside


@fails_with("the last row and column were counted outside the image")
def _wrong_last_row_outside(img, ys, xs):
    """Tests a neighbour with yi < H - 1 and xi < W - 1: the last row and column count as
    outside, so their pixels never contribute."""
    return _corners(img, ys, xs, last_outside=True)


@fails_with("floor, not truncation toward zero")
def _wrong_truncate(img, ys, xs):
    """Finds the top-left neighbour with .long() (truncation toward zero): for a coordinate in
    (-1, 0) it picks 0 and 1 instead of -1 and 0, one of them with a negative weight."""
    return _corners(img, ys, xs, truncate=True)


@fails_with("not floor and ceil")
def _wrong_floor_ceil(img, ys, xs):
    """Takes floor and ceil as the neighbours with weights (1 - |y - yi|)(1 - |x - xi|): at an
    integer coordinate ceil == floor, so the pixel is counted more than once (4 times at an
    integer point)."""
    return _corners(img, ys, xs, ceil=True)


@fails_with("modified its input ys in place")
def _wrong_shifts_coords_in_place(img, ys, xs):
    """Pads the image with a ring of zeros and shifts the coordinates onto it in place
    (ys += 1, xs += 1): the right samples, but the caller's ys and xs are moved. (The sampling
    is _variant_padded's, which takes unshifted coordinates.)"""
    ys += 1
    xs += 1
    return _variant_padded(img, ys - 1, xs - 1)


@fails_with("returned float32 for float64 img")
def _wrong_float32_buffer(img, ys, xs):
    """Accumulates into torch.zeros(C, P, device=img.device), float32 whatever img is: the
    right samples for a float32 image, rounded to float32 for a float64 one."""
    C, H, W = img.shape
    y0, x0 = torch.floor(ys), torch.floor(xs)
    out = torch.zeros(C, ys.shape[0], device=img.device)
    for dy in (0, 1):
        for dx in (0, 1):
            yi, xi = y0 + dy, x0 + dx
            weight = (1 - (ys - yi).abs()) * (1 - (xs - xi).abs())
            inside = (yi >= 0) & (yi <= H - 1) & (xi >= 0) & (xi <= W - 1)
            out += img[:, yi.clamp(0, H - 1).long(), xi.clamp(0, W - 1).long()] * (weight * inside)
    return out


@fails_with("view size is not compatible")
def _wrong_flat_view(img, ys, xs):
    """Flattens the image with img.view(C, H * W) to gather the corners by y * W + x: the right
    samples for a contiguous image, an error for a non-contiguous one (use reshape)."""
    C, H, W = img.shape
    flat = img.view(C, H * W)
    y0, x0 = torch.floor(ys), torch.floor(xs)
    out = img.new_zeros(C, ys.shape[0])
    for dy in (0, 1):
        for dx in (0, 1):
            yi, xi = y0 + dy, x0 + dx
            weight = (1 - (ys - yi).abs()) * (1 - (xs - xi).abs())
            inside = (yi >= 0) & (yi <= H - 1) & (xi >= 0) & (xi <= W - 1)
            index = (yi.clamp(0, H - 1) * W + xi.clamp(0, W - 1)).long()
            out += flat[:, index] * (weight * inside)
    return out


@fails_with("returned a numpy array")
def _wrong_numpy(img, ys, xs):
    """Samples with numpy and returns a numpy array in img's dtype, not a tensor."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    im, y, x = (t.detach().cpu().numpy() for t in (img, ys, xs))
    C, H, W = im.shape
    out = np.zeros((C, y.shape[0]), dtype=im.dtype)
    for yi in (np.floor(y), np.floor(y) + 1):
        for xi in (np.floor(x), np.floor(x) + 1):
            weight = (1 - np.abs(y - yi)) * (1 - np.abs(x - xi))
            inside = (yi >= 0) & (yi <= H - 1) & (xi >= 0) & (xi <= W - 1)
            rows = np.clip(yi, 0, H - 1).astype(np.int64)
            cols = np.clip(xi, 0, W - 1).astype(np.int64)
            out += im[:, rows, cols] * (weight * inside).astype(im.dtype)
    return out


@fails_with("a one-row or one-column image is allowed")
def _wrong_normalised_round_trip(img, ys, xs):
    """Maps the coordinates to grid_sample's [-1, 1] and back to pixels (as grid_sample does
    with align_corners=True) before weighting the neighbours: right for H, W >= 2, but a
    one-row or one-column image divides by H - 1 = 0 (nan coordinates)."""
    C, H, W = img.shape
    gy, gx = 2 * ys / (H - 1) - 1, 2 * xs / (W - 1) - 1
    return bilinear_sample(img, (gy + 1) / 2 * (H - 1), (gx + 1) / 2 * (W - 1))


@fails_with("the answer calls grid_sampler")
def _wrong_grid_sampler(img, ys, xs):
    """Calls torch.grid_sampler, the operator behind F.grid_sample, on the image padded with a
    ring of zeros (so a one-row image divides by no zero): past a check of grid_sample."""
    _, H, W = img.shape
    ring = torch.nn.functional.pad(img, (1, 1, 1, 1))[None]
    grid = torch.stack([(xs + 1) / (W + 1) * 2 - 1, (ys + 1) / (H + 1) * 2 - 1], -1)
    return torch.grid_sampler(ring, grid[None, None], 0, 0, True)[0, :, 0]


WRONG_ANSWERS = {
    "bilinear_sample": [
        _wrong_normalised_round_trip,
        _wrong_flat_view,
        _wrong_clamp,
        _wrong_swapped_xy,
        _wrong_all_or_nothing,
        _wrong_nearest,
        _wrong_last_row_outside,
        _wrong_truncate,
        _wrong_floor_ceil,
        _wrong_shifts_coords_in_place,
        _wrong_float32_buffer,
        _wrong_numpy,
        _wrong_grid_sampler,
    ],
}


# --- correct variants -----------------------------------------------------------------------


def _variant_padded(img, ys, xs):
    """Pads the image with a ring of zeros and always reads 4 neighbours from the padded image."""
    C, H, W = img.shape
    padded = torch.zeros(C, H + 2, W + 2, dtype=img.dtype, device=img.device)
    padded[:, 1:-1, 1:-1] = img
    # Points more than one pixel outside are clamped onto the zero ring (any corner there is 0).
    y = (ys + 1).clamp(-1, H + 1)
    x = (xs + 1).clamp(-1, W + 1)
    y0, x0 = torch.floor(y), torch.floor(x)
    fy, fx = y - y0, x - x0
    y0, x0 = y0.long(), x0.long()

    def at(yy, xx):
        valid = (yy >= 0) & (yy <= H + 1) & (xx >= 0) & (xx <= W + 1)
        return padded[:, yy.clamp(0, H + 1), xx.clamp(0, W + 1)] * valid

    return (
        at(y0, x0) * (1 - fy) * (1 - fx)
        + at(y0, x0 + 1) * (1 - fy) * fx
        + at(y0 + 1, x0) * fy * (1 - fx)
        + at(y0 + 1, x0 + 1) * fy * fx
    )


def _variant_floor_ceil(img, ys, xs):
    """floor and ceil as the neighbours, weighted 1 - frac and frac: at an integer coordinate
    ceil == floor and the ceil neighbour's weight is 0, so the pixel counts once."""
    C, H, W = img.shape
    fy, fx = ys - torch.floor(ys), xs - torch.floor(xs)
    out = img.new_zeros(C, ys.shape[0])
    for yi, wy in ((torch.floor(ys), 1 - fy), (torch.ceil(ys), fy)):
        for xi, wx in ((torch.floor(xs), 1 - fx), (torch.ceil(xs), fx)):
            inside = (yi >= 0) & (yi <= H - 1) & (xi >= 0) & (xi <= W - 1)
            out += img[:, yi.clamp(0, H - 1).long(), xi.clamp(0, W - 1).long()] * (wy * wx * inside)
    return out


CORRECT_VARIANTS = {"bilinear_sample": [_variant_padded, _variant_floor_ceil]}
