"""Dilated (atrous) 1-D convolution, written out tap by tap, and its effective kernel size."""

import random

import torch
import torch.nn.functional as F

from studycli.assertions import (
    CONVOLUTIONS,
    as_int,
    assert_close,
    assert_equal,
    call,
    call_unchanged,
    describe,
    dtype_name,
    expect,
    fails_with,
    forbid,
)


def conv1d(
    x,
    weight,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
):
    """1-D cross-correlation with stride, zero padding and dilation, no
    bias: the same numbers as F.conv1d(x, weight, stride=stride,
    padding=padding, dilation=dilation).

    Args:
        x: (N, C_in, L) tensor.
        weight: (C_out, C_in, K) tensor.
        stride, padding, dilation: ints, stride >= 1, padding >= 0,
            dilation >= 1.

    Returns:
        (N, C_out, L_out) tensor in the dtype of x; x and weight are left
        unchanged.
    """
    N, C_in, L = x.shape
    C_out, _, K = weight.shape
    xp = torch.cat([x.new_zeros(N, C_in, padding), x, x.new_zeros(N, C_in, padding)], dim=-1)
    # out[n, o, t] = sum_c sum_k weight[o, c, k] * xp[n, c, t * stride + k * dilation]; the
    # dilated kernel spans dilation (K - 1) + 1 inputs, which fixes the output length.
    L_out = (L + 2 * padding - dilation * (K - 1) - 1) // stride + 1
    out = x.new_zeros(N, C_out, L_out)
    for k in range(K):
        start = k * dilation
        # the input sample that tap k sees for every output position t: start + t * stride
        taps = xp[:, :, start : start + stride * (L_out - 1) + 1 : stride]  # (N, C_in, L_out)
        out += torch.einsum("ncl,oc->nol", taps, weight[:, :, k])
    return out


def effective_kernel_size(kernel_size: int, dilation: int) -> int:
    """The number of input positions a dilated kernel spans, from its
    first tap to its last.

    Args:
        kernel_size: k >= 1 taps.
        dilation: d >= 1 (d - 1 holes between neighbouring taps).

    Returns:
        The span as an int; a dense kernel of this size leaves the same
        output length.
    """
    return kernel_size + (kernel_size - 1) * (dilation - 1)


# --- checkers -------------------------------------------------------------------------------


def _conv_cases():
    yield 1, 1, 1, 5, 3, 1, 0, 1
    yield 1, 1, 1, 5, 3, 1, 0, 2  # K_eff = 5 = L: one output
    yield 1, 1, 1, 1, 1, 1, 0, 1  # length 1
    yield 1, 1, 1, 1, 3, 1, 1, 1  # length 1, padded
    yield 2, 3, 4, 10, 3, 2, 1, 1
    yield 2, 3, 4, 11, 3, 3, 0, 2  # length not divisible by the stride
    yield 1, 2, 2, 7, 2, 1, 3, 3
    rng = random.Random(0)
    while True:
        N, C_in, C_out = rng.randint(1, 3), rng.randint(1, 4), rng.randint(1, 4)
        L, K = rng.randint(1, 40), rng.randint(1, 6)
        stride, dilation = rng.randint(1, 4), rng.randint(1, 5)
        padding = rng.randint(0, 4)
        if L + 2 * padding - dilation * (K - 1) - 1 < 0:
            continue
        yield N, C_in, C_out, L, K, stride, padding, dilation


_CONV1D_DEFAULT_HINT = (
    "L_out = floor((L + 2 padding - dilation (K - 1) - 1) / stride) + 1; "
    "tap k of output t reads xp[t * stride + k * dilation]"
)

# Models of the usual mistakes, by the output length they give: (L, K, s, p, d) -> L_out.
_CONV1D_LENGTH_MISTAKES = (
    (
        lambda L, K, s, p, d: (L + 2 * p - K) // (s * d) + 1,
        "the output length is that of dilation used as a stride: dilation spaces the kernel "
        "taps (k * dilation), stride spaces the output positions (t * stride)",
    ),
    (
        lambda L, K, s, p, d: (L + 2 * p - d * (K - 1) - 1) // s,
        "the output is one sample short: L_out = floor(...) + 1, the + 1 counting the window "
        "that starts at 0",
    ),
    (
        lambda L, K, s, p, d: (L + 2 * p - d * K) // s + 1,
        "the output length takes the dilated kernel to span dilation * K inputs; it spans "
        "dilation (K - 1) + 1",
    ),
    (
        lambda L, K, s, p, d: (L + p - d * (K - 1) - 1) // s + 1,
        "the output length counts the padding once: pad `padding` zeros at both ends",
    ),
)

_LENGTH_PROBES = (  # (L, K, stride, padding, dilation) that tell the length mistakes apart
    (9, 3, 1, 0, 1),
    (9, 3, 1, 0, 2),
    (12, 2, 2, 1, 3),
    (10, 3, 3, 2, 1),
    (7, 1, 1, 3, 1),
    (16, 4, 2, 2, 2),
)


def _diagnose_length(impl, device):
    """The hint of the length mistake `impl` reproduces on every probe, or the default hint."""
    lengths = []
    for L, K, s, p, d in _LENGTH_PROBES:
        try:
            out = impl(
                torch.ones(1, 1, L, device=device), torch.ones(1, 1, K, device=device), s, p, d
            )
            lengths.append(int(out.shape[-1]))
        except Exception:
            return _CONV1D_DEFAULT_HINT
    for model, hint in _CONV1D_LENGTH_MISTAKES:
        if all(n == model(*probe) for n, probe in zip(lengths, _LENGTH_PROBES)):
            return hint
    return _CONV1D_DEFAULT_HINT


def _expect_tensor_like(got, x, what):
    """A tensor in x's dtype, as F.conv1d returns."""
    expect(isinstance(got, torch.Tensor), what, f"returned {type(got).__name__}, expected a tensor")
    expect(
        got.dtype == x.dtype,
        what,
        f"returned {dtype_name(got)} for {dtype_name(x)} x and weight: the output "
        "comes back in their dtype, as F.conv1d's does (accumulate in float64 if you like, then "
        "cast back; a buffer made by torch.zeros is float32 and one by np.zeros float64, "
        "whatever x is)",
    )


IN_PLACE = (
    "leave x and weight as they came, the caller still holds them: x[:, None], x.unsqueeze(1) "
    "and F.pad make new tensors, where unsqueeze_, mul_, add_ or += on x change the caller's"
)


def check_conv1d(impl, device="cpu") -> None:
    impl = forbid(
        impl,
        *CONVOLUTIONS,
        reason="the card is the convolution itself: gather the dilated taps and multiply",
    )
    gen = torch.Generator().manual_seed(0)
    cases = _conv_cases()
    # 7 hand-picked cases, then random ones: 120 in all. Every known mistake fails within the
    # first 10; each case is a call under `forbid`'s watch, which a loop over taps or output
    # positions pays for at every torch call (300 cases took such answers seconds on a loaded
    # machine).
    for _ in range(120):
        N, C_in, C_out, L, K, stride, padding, dilation = next(cases)
        x = torch.randn(N, C_in, L, generator=gen).to(device)
        w = torch.randn(C_out, C_in, K, generator=gen).to(device)
        what = (
            f"conv1d(x {describe(x)}, weight {describe(w)}, stride={stride}, "
            f"padding={padding}, dilation={dilation})"
        )
        got = call_unchanged(
            impl,
            what,
            ("x", "weight"),
            x.clone(),
            w.clone(),
            stride,
            padding,
            dilation,
            hint=IN_PLACE,
        )
        _expect_tensor_like(got, x, what)
        # Ground truth in float64: no TF32 shortcuts on a GPU.
        want = F.conv1d(x.double(), w.double(), stride=stride, padding=padding, dilation=dilation)
        hint = _CONV1D_DEFAULT_HINT
        if tuple(got.shape) != tuple(want.shape):
            hint = _diagnose_length(impl, device)
        assert_close(got, want, what, atol=1e-5, rtol=1e-4, hint=hint)
    # Keyword defaults: stride 1, no padding, no dilation.
    x = torch.randn(2, 3, 9, generator=gen).to(device)
    w = torch.randn(4, 3, 3, generator=gen).to(device)
    what = f"conv1d(x {describe(x)}, weight {describe(w)})"
    got = call_unchanged(impl, what, ("x", "weight"), x, w, hint=IN_PLACE)
    assert_close(got, F.conv1d(x.double(), w.double()), what, atol=1e-5, rtol=1e-4)
    # float64 stays accurate.
    x64, w64 = x.double(), w.double()
    what = f"conv1d(x {describe(x64)}, weight {describe(w64)}, stride=2, padding=2, dilation=3)"
    got = call_unchanged(impl, what, ("x", "weight"), x64, w64, 2, 2, 3, hint=IN_PLACE)
    _expect_tensor_like(got, x64, what)
    assert_close(
        got,
        F.conv1d(x64, w64, stride=2, padding=2, dilation=3),
        what,
        atol=1e-10,
        rtol=1e-10,
    )


def _span(kernel_size, dilation):
    """Brute force: the impulse response of a dilated all-ones conv, first to last non-zero."""
    length = 4 * kernel_size * dilation + 1
    impulse = torch.zeros(1, 1, length, dtype=torch.float64)
    impulse[0, 0, length // 2] = 1.0
    ones = torch.ones(1, 1, kernel_size, dtype=torch.float64)
    response = F.conv1d(impulse, ones, padding=length, dilation=dilation)[0, 0]
    nz = torch.nonzero(response).flatten()
    return int(nz[-1] - nz[0]) + 1


# Models of the usual mistakes: (k, d) -> span, and the hint naming each one.
_SPAN_MISTAKES = (
    (lambda k, d: k * d, "k * d counts one gap too many: k taps leave only k - 1 gaps"),
    (lambda k, d: k + d - 1, "k + d - 1 adds the holes once; each of the k - 1 gaps gets d - 1"),
    (
        lambda k, d: (k - 1) * d,
        "(k - 1) d is the distance from the first tap to the last; counting positions "
        "inclusively adds 1",
    ),
)


def check_effective_kernel_size(impl, device="cpu") -> None:
    cases = [(k, d) for k in range(1, 10) for d in range(1, 7)]
    for k, d in cases:
        what = f"effective_kernel_size(kernel_size={k}, dilation={d})"
        got = as_int(call(impl, what, k, d), what)
        want = _span(k, d)
        if got != want:
            hint = "k taps leave k - 1 gaps, each gap now d wide: 1 + (k - 1) d"
            try:
                outputs = [impl(*case) for case in cases]
            except Exception:
                outputs = []
            for model, text in _SPAN_MISTAKES:
                if outputs and all(o == model(*case) for o, case in zip(outputs, cases)):
                    hint = text
                    break
            assert_equal(got, want, what, hint=hint)


# --- wrong answers --------------------------------------------------------------------------


def _taps(x, weight, stride, padding, dilation, L_out, step_in, tap_gap):
    N, C_in, L = x.shape
    C_out, _, K = weight.shape
    xp = F.pad(x, (padding, padding))
    out = x.new_zeros(N, C_out, max(L_out, 0))
    for t in range(max(L_out, 0)):
        for k in range(K):
            pos = t * step_in + k * tap_gap
            if 0 <= pos < xp.shape[-1]:
                out[:, :, t] += xp[:, :, pos] @ weight[:, :, k].T
    return out


@fails_with("dilation used as a stride")
def _wrong_dilation_as_stride(x, weight, stride=1, padding=0, dilation=1):
    """Applies dilation as a stride: taps are contiguous and the output steps by stride * dilation."""
    L, K = x.shape[-1], weight.shape[-1]
    L_out = (L + 2 * padding - K) // (stride * dilation) + 1
    return _taps(x, weight, stride, padding, dilation, L_out, stride * dilation, 1)


@fails_with("one sample short")
def _wrong_length_minus_one(x, weight, stride=1, padding=0, dilation=1):
    """Off-by-one output length: floor((L + 2p - d (K - 1) - 1) / s), forgetting the + 1."""
    L, K = x.shape[-1], weight.shape[-1]
    L_out = (L + 2 * padding - dilation * (K - 1) - 1) // stride
    return _taps(x, weight, stride, padding, dilation, L_out, stride, dilation)


@fails_with("span dilation * K inputs")
def _wrong_length_dilation_times_k(x, weight, stride=1, padding=0, dilation=1):
    """Takes the dilated kernel to span d K positions, so the output is d - 1 samples short."""
    L, K = x.shape[-1], weight.shape[-1]
    L_out = (L + 2 * padding - dilation * K) // stride + 1
    return _taps(x, weight, stride, padding, dilation, L_out, stride, dilation)


@fails_with("counts the padding once")
def _wrong_pad_one_side(x, weight, stride=1, padding=0, dilation=1):
    """Pads only the left end, so the output is shifted and too short."""
    L, K = x.shape[-1], weight.shape[-1]
    xl = F.pad(x, (padding, 0))
    L_out = (L + padding - dilation * (K - 1) - 1) // stride + 1
    return _taps(xl, weight, stride, 0, dilation, L_out, stride, dilation)


@fails_with("one gap too many")
def _wrong_k_times_d(kernel_size, dilation):
    """Multiplies: k d positions, one gap too many."""
    return kernel_size * dilation


@fails_with("adds the holes once")
def _wrong_k_plus_d(kernel_size, dilation):
    """Adds the holes only once: k + d - 1."""
    return kernel_size + dilation - 1


@fails_with("counting positions inclusively adds 1")
def _wrong_no_plus_one(kernel_size, dilation):
    """Counts the distance from the first tap to the last, (k - 1) d, without the + 1."""
    return (kernel_size - 1) * dilation


@fails_with("the answer calls conv1d")
def _wrong_calls_library(x, weight, stride=1, padding=0, dilation=1):
    """Calls F.conv1d, the routine the card is about."""
    import torch.nn.functional as F

    return F.conv1d(x, weight, stride=stride, padding=padding, dilation=dilation)


@fails_with("modified its input x in place")
def _wrong_unsqueezes_in_place(x, weight, stride=1, padding=0, dilation=1):
    """Broadcasts x against the output channels with x.unsqueeze_(1), the in-place form of
    x.unsqueeze(1): the right numbers, but the caller's x comes back of shape (N, 1, C_in, L)."""
    K = weight.shape[-1]
    L_out = (x.shape[-1] + 2 * padding - dilation * (K - 1) - 1) // stride + 1
    xp = F.pad(x.unsqueeze_(1), (padding, padding))  # (N, 1, C_in, L + 2 padding)
    out = 0
    for k in range(K):
        start = k * dilation
        taps = xp[..., start : start + stride * (L_out - 1) + 1 : stride]  # (N, 1, C_in, L_out)
        out = out + (taps * weight[None, :, :, k, None]).sum(dim=2)  # (N, C_out, L_out)
    return out


@fails_with("returned float64 for float32 x and weight")
def _wrong_float64_accumulator(x, weight, stride=1, padding=0, dilation=1):
    """Accumulates in float64 (x.double(), weight.double()) and returns that, not x's dtype."""
    return conv1d(x.double(), weight.double(), stride, padding, dilation)


@fails_with("returned tensor(1, dtype=int64), expected an int")
def _wrong_span_tensor(kernel_size, dilation):
    """Computes the span with torch ops and returns the 0-d int64 tensor they give (no
    .item()): not the int the card asks for."""
    return dilation * (torch.tensor(kernel_size) - 1) + 1


@fails_with("returned np.int64(1), a numpy integer, expected a Python int")
def _wrong_span_numpy_int(kernel_size, dilation):
    """Returns numpy's np.int64 (from np.multiply), not the Python int the card asks for."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    return np.multiply(dilation, kernel_size - 1) + 1


@fails_with("the answer calls conv_tbc")
def _wrong_conv_tbc(x, weight, stride=1, padding=0, dilation=1):
    """Hands the work to torch.conv_tbc (a 1-D convolution over (time, batch, channel)) with a
    kernel dilated by zeros, then keeps every stride-th output: a convolution routine all the
    same (a checker that refused conv1d, conv2d and convolution only let it pass)."""
    C_out, C_in, K = weight.shape
    dense = weight.new_zeros(C_out, C_in, dilation * (K - 1) + 1)
    dense[:, :, ::dilation] = weight
    tbc = torch.conv_tbc(
        x.permute(2, 0, 1).contiguous(),
        dense.permute(2, 1, 0).contiguous(),
        weight.new_zeros(C_out),
        padding,
    )
    return tbc.permute(1, 2, 0)[:, :, ::stride].contiguous()


@fails_with("the answer calls slow_conv_dilated2d")
def _wrong_slow_conv_dilated(x, weight, stride=1, padding=0, dilation=1):
    """Hands the work to torch._C._nn.slow_conv_dilated2d, the dilated convolution behind
    F.conv2d on some backends, over a height of 1: past a list of the public routines."""
    K = weight.shape[-1]
    out = torch._C._nn.slow_conv_dilated2d(
        x[:, :, None], weight[:, :, None], (1, K), None, (1, stride), (0, padding), (1, dilation)
    )
    return out[:, :, 0]


WRONG_ANSWERS = {
    "conv1d": [
        _wrong_calls_library,
        _wrong_dilation_as_stride,
        _wrong_length_minus_one,
        _wrong_length_dilation_times_k,
        _wrong_pad_one_side,
        _wrong_float64_accumulator,
        _wrong_unsqueezes_in_place,
        _wrong_conv_tbc,
        _wrong_slow_conv_dilated,
    ],
    "effective_kernel_size": [
        _wrong_k_times_d,
        _wrong_k_plus_d,
        _wrong_no_plus_one,
        _wrong_span_tensor,
        _wrong_span_numpy_int,
    ],
}


# --- correct variants -----------------------------------------------------------------------


def _variant_dilated_weight(x, weight, stride=1, padding=0, dilation=1):
    """Builds the dilated kernel with zeros in the holes, then an unfold + matmul dense conv."""
    C_out, C_in, K = weight.shape
    K_eff = dilation * (K - 1) + 1
    dense = weight.new_zeros(C_out, C_in, K_eff)
    dense[:, :, ::dilation] = weight
    xp = F.pad(x, (padding, padding))
    windows = xp.unfold(-1, K_eff, stride)  # (N, C_in, L_out, K_eff)
    return torch.einsum("nclk,ock->nol", windows, dense)


CORRECT_VARIANTS = {"conv1d": [_variant_dilated_weight]}
