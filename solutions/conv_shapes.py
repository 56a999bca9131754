"""Output lengths of convolutions and transposed convolutions (conv arithmetic)."""

import random

import torch

from studycli.assertions import as_int, assert_equal, call, fails_with


def conv_output_size(
    n,
    kernel_size,
    stride=1,
    padding=0,
    dilation=1,
) -> int:
    """The output length of torch.nn.Conv1d on an input of length n.

    Args:
        n: input length (>= 1).
        kernel_size, stride, padding, dilation: the Conv1d
            hyper-parameters (ints; stride, dilation >= 1, padding >= 0),
            for a configuration with a non-empty output.

    Returns:
        The output length, an int (the same as Conv1d's; also each spatial
        axis of Conv2d).
    """
    # The dilated kernel spans d (k - 1) + 1 inputs; windows start at 0, s, 2s, ... and must
    # fit in the padded length n + 2p: floor((n + 2p - d (k - 1) - 1) / s) + 1 of them.
    span = dilation * (kernel_size - 1) + 1
    return (n + 2 * padding - span) // stride + 1


def conv_transpose_output_size(
    n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1
) -> int:
    """The output length of torch.nn.ConvTranspose1d
    on an input of length n.

    Args:
        n: input length (>= 1).
        kernel_size, stride, padding, output_padding, dilation: the
            ConvTranspose1d hyper-parameters (ints;
            output_padding < max(stride, dilation)), for a configuration
            with a non-empty output.

    Returns:
        The output length, an int (the same as ConvTranspose1d's).
    """
    # Scatter view: input i adds a copy of the dilated kernel starting at i s; the last copy
    # starts at (n - 1) s and spans d (k - 1) + 1. Padding trims p at each end, output_padding
    # adds samples at one end.
    span = dilation * (kernel_size - 1) + 1
    return (n - 1) * stride + span - 2 * padding + output_padding


# --- checkers -------------------------------------------------------------------------------


def _as_int(got, what):
    return as_int(got, what, hint="use integer division //, not /, so the result is an int")


def _conv_len(n, k, s, p, d):
    conv = torch.nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
    with torch.no_grad():
        return conv(torch.zeros(1, 1, n)).shape[-1]


def _diagnose(impl, cases, mistakes, default):
    """The hint of the known mistake that `impl` reproduces on every one of `cases` (the inputs
    that tell the mistakes apart), or `default` when it matches none of them."""
    try:
        got = [impl(*case) for case in cases]
    except Exception:
        return default
    for model, hint in mistakes:
        if all(g == model(*case) for g, case in zip(got, cases)):
            return hint
    return default


_CONV_DEFAULT_HINT = (
    "the kernel spans d (k - 1) + 1 inputs; count how many stride-s starting positions fit in "
    "the padded length: floor(...) + 1"
)

# Models of the usual mistakes: (n, k, s, p, d) -> length, and the hint that names each one.
_CONV_MISTAKES = (
    (
        lambda n, k, s, p, d: (n + 2 * p - k) // s + 1,
        "this is the length without dilation: a dilated kernel spans d (k - 1) + 1 inputs, not k",
    ),
    (
        lambda n, k, s, p, d: -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1,
        "this rounds up: a convolution floors the quotient (only pooling with ceil_mode=True "
        "rounds up)",
    ),
    (
        lambda n, k, s, p, d: (n + 2 * p - d * (k - 1)) // s + 1,
        "this drops the - 1: the kernel spans d (k - 1) + 1 inputs, so the last start is at "
        "n + 2p - d (k - 1) - 1",
    ),
    (
        lambda n, k, s, p, d: (n + p - d * (k - 1) - 1) // s + 1,
        "this pads once: padding puts p zeros at each end, 2p in all",
    ),
)


def _conv_cases():
    yield 224, 7, 2, 3, 1  # ResNet stem: 112
    yield 112, 3, 2, 1, 1  # 56
    yield 5, 3, 1, 0, 1
    yield 5, 3, 1, 1, 1  # "same" padding
    yield 5, 3, 1, 2, 2  # "same" padding for dilation 2
    yield 5, 3, 1, 0, 2  # the dilated kernel spans the whole input: 1
    yield 1, 1, 1, 0, 1
    yield 7, 3, 2, 0, 1
    yield 8, 3, 2, 0, 1  # floor: 3, not 4
    yield 10, 4, 3, 1, 1
    yield 9, 2, 2, 0, 3
    rng = random.Random(0)
    count = 0
    while count < 400:
        n = rng.choice([rng.randint(1, 12), rng.randint(1, 60), rng.randint(60, 1000)])
        k, s, d = rng.randint(1, 7), rng.randint(1, 5), rng.randint(1, 4)
        p = rng.randint(0, 4)
        if n + 2 * p - d * (k - 1) - 1 < 0:
            continue
        count += 1
        yield n, k, s, p, d


def check_conv_output_size(impl, device="cpu") -> None:
    cases = list(_conv_cases())
    for n, k, s, p, d in cases:
        what = f"conv_output_size({n}, kernel_size={k}, stride={s}, padding={p}, dilation={d})"
        got = _as_int(call(impl, what, n, k, s, p, d), what)
        want = _conv_len(n, k, s, p, d)
        if got != want:
            hint = _diagnose(impl, cases[:60], _CONV_MISTAKES, _CONV_DEFAULT_HINT)
            assert_equal(got, want, what, hint=hint)
    what = "conv_output_size(10, 3)"
    assert_equal(
        _as_int(call(impl, what, 10, 3), what),
        8,
        what,
        hint="defaults: stride 1, padding 0, dilation 1",
    )


def _transpose_len(n, k, s, p, op, d):
    conv = torch.nn.ConvTranspose1d(
        1, 1, k, stride=s, padding=p, output_padding=op, dilation=d, bias=False
    )
    with torch.no_grad():
        return conv(torch.zeros(1, 1, n)).shape[-1]


_TRANSPOSE_DEFAULT_HINT = (
    "n inputs placed s apart span (n - 1) s + 1; each adds a kernel of span d (k - 1) + 1; "
    "padding trims both ends; output_padding adds at one"
)

# Models of the usual mistakes: (n, k, s, p, op, d) -> length, and the hint naming each one.
_TRANSPOSE_MISTAKES = (
    (
        lambda n, k, s, p, op, d: n * s + d * (k - 1) - 2 * p + op,
        "this uses n s: the n inputs sit s apart, so the first and the last are (n - 1) s apart",
    ),
    (
        lambda n, k, s, p, op, d: (n - 1) * s + d * (k - 1) + 1 - 2 * p,
        "output_padding is missing: it adds that many samples at one end",
    ),
    (
        lambda n, k, s, p, op, d: (n - 1) * s + d * (k - 1) + 1 - p + op,
        "padding is trimmed from one end only: it removes p samples at each end, 2p in all",
    ),
)


def _transpose_cases():
    yield 4, 4, 2, 1, 0, 1  # the DCGAN doubling layer: 8
    yield 7, 3, 2, 1, 1, 1  # undoes conv(3, stride 2, pad 1) of 14: 14
    yield 7, 3, 2, 1, 0, 1  # ... or of 13: 13
    yield 1, 1, 1, 0, 0, 1
    yield 5, 3, 1, 1, 0, 1  # stride 1, "same": 5
    yield 3, 3, 1, 0, 0, 2
    rng = random.Random(1)
    count = 0
    while count < 300:
        n = rng.choice([rng.randint(1, 12), rng.randint(1, 100)])
        k, s, d = rng.randint(1, 7), rng.randint(1, 4), rng.randint(1, 3)
        p = rng.randint(0, 3)
        op = rng.randint(0, max(s, d) - 1)
        if (n - 1) * s - 2 * p + d * (k - 1) + op + 1 < 1:
            continue
        count += 1
        yield n, k, s, p, op, d


def check_conv_transpose_output_size(impl, device="cpu") -> None:
    cases = list(_transpose_cases())
    for n, k, s, p, op, d in cases:
        what = (
            f"conv_transpose_output_size({n}, kernel_size={k}, stride={s}, padding={p}, "
            f"output_padding={op}, dilation={d})"
        )
        got = _as_int(call(impl, what, n, k, s, p, op, d), what)
        want = _transpose_len(n, k, s, p, op, d)
        if got != want:
            hint = _diagnose(impl, cases[:60], _TRANSPOSE_MISTAKES, _TRANSPOSE_DEFAULT_HINT)
            assert_equal(got, want, what, hint=hint)
    what = "conv_transpose_output_size(5, 3)"
    assert_equal(_as_int(call(impl, what, 5, 3), what), 7, what)


# --- wrong answers --------------------------------------------------------------------------


@fails_with("length without dilation")
def _wrong_no_dilation(n, kernel_size, stride=1, padding=0, dilation=1):
    """Ignores the dilation: uses kernel_size as the span."""
    return (n + 2 * padding - kernel_size) // stride + 1


@fails_with("this rounds up")
def _wrong_ceil(n, kernel_size, stride=1, padding=0, dilation=1):
    """Rounds up (ceil), as pooling with ceil_mode=True does, instead of down."""
    span = dilation * (kernel_size - 1) + 1
    return -(-(n + 2 * padding - span) // stride) + 1


@fails_with("this drops the - 1")
def _wrong_missing_minus_one(n, kernel_size, stride=1, padding=0, dilation=1):
    """Uses floor((n + 2p - d (k - 1)) / s) + 1, dropping the - 1 of the span."""
    return (n + 2 * padding - dilation * (kernel_size - 1)) // stride + 1


@fails_with("this pads once")
def _wrong_pad_once(n, kernel_size, stride=1, padding=0, dilation=1):
    """Adds the padding once instead of at both ends."""
    span = dilation * (kernel_size - 1) + 1
    return (n + padding - span) // stride + 1


@fails_with("use integer division")
def _wrong_true_division(n, kernel_size, stride=1, padding=0, dilation=1):
    """Uses / instead of //, returning a float that is not even floored."""
    span = dilation * (kernel_size - 1) + 1
    return (n + 2 * padding - span) / stride + 1


@fails_with("this uses n s")
def _wrong_t_inverse_formula(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """Uses n s (no - 1): treats the output as stride times the input, plus the kernel overhang."""
    return n * stride + dilation * (kernel_size - 1) - 2 * padding + output_padding


@fails_with("output_padding is missing")
def _wrong_t_no_output_padding(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """Forgets output_padding."""
    return (n - 1) * stride + dilation * (kernel_size - 1) + 1 - 2 * padding


@fails_with("trimmed from one end only")
def _wrong_t_pad_once(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """Trims the padding from one end only."""
    return (n - 1) * stride + dilation * (kernel_size - 1) + 1 - padding + output_padding


@fails_with("returned tensor(112, dtype=int64), expected an int")
def _wrong_torch_tensor(n, kernel_size, stride=1, padding=0, dilation=1):
    """Computes with torch ops and returns the 0-d int64 tensor they give (no .item()): not
    the int the card asks for."""
    span = dilation * (torch.tensor(kernel_size) - 1) + 1
    return torch.div(n + 2 * padding - span, stride, rounding_mode="floor") + 1


@fails_with("returned tensor(8, dtype=int64), expected an int")
def _wrong_t_torch_tensor(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """Computes with torch ops and returns the 0-d int64 tensor they give (no .item())."""
    span = dilation * (torch.tensor(kernel_size) - 1) + 1
    return (n - 1) * stride + span - 2 * padding + output_padding


@fails_with("returned np.int64(112), a numpy integer, expected a Python int")
def _wrong_numpy_int(n, kernel_size, stride=1, padding=0, dilation=1):
    """Returns numpy's np.int64 (from np.floor_divide), not the Python int the card asks for."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    return np.floor_divide(n + 2 * padding - dilation * (kernel_size - 1) - 1, stride) + 1


@fails_with("returned np.int64(8), a numpy integer, expected a Python int")
def _wrong_t_numpy_int(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """Returns numpy's np.int64 (from np.multiply), not the Python int the card asks for."""
    import numpy as np

    span = np.multiply(dilation, kernel_size - 1) + 1
    return (n - 1) * stride + span - 2 * padding + output_padding


WRONG_ANSWERS = {
    "conv_output_size": [
        _wrong_no_dilation,
        _wrong_ceil,
        _wrong_missing_minus_one,
        _wrong_pad_once,
        _wrong_true_division,
        _wrong_torch_tensor,
        _wrong_numpy_int,
    ],
    "conv_transpose_output_size": [
        _wrong_t_inverse_formula,
        _wrong_t_no_output_padding,
        _wrong_t_pad_once,
        _wrong_t_torch_tensor,
        _wrong_t_numpy_int,
    ],
}


# --- correct variants -----------------------------------------------------------------------


def _variant_count_positions(n, kernel_size, stride=1, padding=0, dilation=1):
    """Counts the window start positions one by one."""
    span = dilation * (kernel_size - 1) + 1
    return len(range(0, n + 2 * padding - span + 1, stride))


def _variant_math_floor(n, kernel_size, stride=1, padding=0, dilation=1):
    """math.floor of the true quotient (exact for these small ints)."""
    import math

    return math.floor((n + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1


CORRECT_VARIANTS = {"conv_output_size": [_variant_count_positions, _variant_math_floor]}
