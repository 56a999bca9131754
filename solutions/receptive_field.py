"""Receptive field of one output unit of a stack of convolution / pooling layers."""

import random

import torch
import torch.nn.functional as F

from studycli.assertions import assert_equal, call, describe, expect


def receptive_field(layers: list[tuple[int, ...]]) -> int:
    """The receptive field, in input pixels, of one unit of the last layer of a conv stack.

    Bottom-up recursion: with r_0 = 1 and j_0 = 1 (the jump: input pixels between neighbouring
    units of the current layer),

        r_l = r_(l-1) + (k_l - 1) * d_l * j_(l-1),      j_l = j_(l-1) * s_l

    Padding does not change the size of the receptive field. Along one axis; a square layer
    stack has the same field on both axes.

    Args:
        layers: from the input to the output, each (kernel, stride) or
            (kernel, stride, dilation); dilation defaults to 1. May be empty.

    Returns:
        The receptive field as an int (1 for no layers).
    """
    r, jump = 1, 1
    for layer in layers:
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) > 2 else 1
        r += (k - 1) * d * jump
        jump *= s
    return r


# --- checker --------------------------------------------------------------------------------


def _brute(layers):
    """Backpropagate from output unit 0 of a real all-ones conv stack; the field is the span of
    the input positions with a non-zero gradient (first to last: dilations may leave holes)."""
    length = 8
    while True:
        x = torch.zeros(1, 1, length, dtype=torch.float64, requires_grad=True)
        y = x
        for layer in layers:
            k, s = layer[0], layer[1]
            d = layer[2] if len(layer) > 2 else 1
            if y.shape[-1] < d * (k - 1) + 1:
                break
            y = F.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
        else:
            y[0, 0, 0].backward()
            nz = torch.nonzero(x.grad[0, 0]).flatten()
            return int(nz[-1] - nz[0]) + 1
        length *= 2


def _random_stack(rng):
    layers = []
    for _ in range(rng.randint(1, 6)):
        k = rng.choice([1, 2, 3, 3, 3, 5, 7])
        s = rng.choice([1, 1, 2, 2, 3])
        if rng.random() < 0.4:
            layers.append((k, s, rng.choice([1, 2, 3, 4])))
        else:
            layers.append((k, s))
    return layers


def _check(impl, layers, hint=""):
    what = f"receptive_field({describe(layers)})"
    got = call(impl, what, [tuple(layer) for layer in layers])
    expect(
        not isinstance(got, bool) and (isinstance(got, int) or hasattr(got, "__index__")),
        what,
        f"returned {got!r} of type {type(got).__name__}, expected an int",
    )
    assert_equal(int(got), _brute(layers), what, hint=hint)


def check_receptive_field(impl, device="cpu") -> None:
    _check(impl, [], hint="with no layers, each output unit is one input pixel")
    _check(impl, [(3, 1)])
    _check(impl, [(3, 1), (3, 1), (3, 1)], hint="three stacked 3x3 convs see 7 pixels")
    _check(impl, [(3, 2)])
    _check(
        impl,
        [(3, 2), (3, 1)],
        hint="the stride of a layer spreads the layers above it, not the layer itself",
    )
    _check(impl, [(2, 2), (2, 2), (2, 2)])
    _check(impl, [(7, 2), (3, 2), (3, 1), (3, 1)])  # a ResNet-like stem
    _check(
        impl,
        [(3, 1, 1), (3, 1, 2), (3, 1, 4)],
        hint="a dilated kernel spans d (k - 1) + 1 pixels of its input",
    )
    _check(impl, [(3, 1, 2), (3, 1, 2), (3, 1, 2)])  # gridding: holes inside
    _check(impl, [(1, 2), (3, 1)])  # 1x1 stride 2 then 3x3
    _check(impl, [(3, 1), (2, 2), (3, 1), (2, 2), (3, 1, 2)])
    rng = random.Random(0)
    for _ in range(150):
        _check(impl, _random_stack(rng))


# --- wrong answers --------------------------------------------------------------------------


def _wrong_stride_includes_current(layers):
    """Multiplies by the current layer's stride too: r += (k - 1) d * prod(s_1 .. s_l)."""
    r, jump = 1, 1
    for layer in layers:
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) > 2 else 1
        jump *= s
        r += (k - 1) * d * jump
    return r


def _wrong_ignores_dilation(layers):
    """Ignores the dilation entry."""
    r, jump = 1, 1
    for layer in layers:
        k, s = layer[0], layer[1]
        r += (k - 1) * jump
        jump *= s
    return r


def _wrong_adds_k(layers):
    """Starts from 0 and adds k d jump per layer, instead of 1 plus (k - 1) d jump per layer."""
    r, jump = 0, 1
    for layer in layers:
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) > 2 else 1
        r += k * d * jump
        jump *= s
    return r


def _wrong_top_down_order(layers):
    """Runs the top-down recursion r = (r - 1) s + k over the layers in input-to-output order."""
    r = 1
    for layer in layers:
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) > 2 else 1
        r = (r - 1) * s + d * (k - 1) + 1
    return r


WRONG_ANSWERS = {
    "receptive_field": [
        _wrong_stride_includes_current,
        _wrong_ignores_dilation,
        _wrong_adds_k,
        _wrong_top_down_order,
    ],
}


# --- correct variants -----------------------------------------------------------------------


def _variant_top_down(layers):
    """Top-down: start from one unit at the top and walk back to the input, r = (r - 1) s + k_eff."""
    r = 1
    for layer in reversed(list(layers)):
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) > 2 else 1
        r = (r - 1) * s + d * (k - 1) + 1
    return r


CORRECT_VARIANTS = {"receptive_field": [_variant_top_down]}
