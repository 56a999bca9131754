"""Receptive field of one output unit of a stack of convolution / pooling layers."""

import random

import torch

from studycli.assertions import as_int, assert_equal, call_unchanged, describe, fails_with


def receptive_field(layers: list[tuple[int, ...]]) -> int:
    """The receptive field, in input pixels, of
    one unit of the last layer of a conv stack.

    Along one axis; a square layer stack has the same field on both axes.
    Padding does not change its size.

    Args:
        layers: from the input to the output, each (kernel, stride) or
            (kernel, stride, dilation); dilation defaults to 1. May be
            empty.

    Returns:
        The receptive field as an int: the number of input pixels from the
        first to the last one that the unit depends on (1 for no layers).
    """
    # Bottom-up: r_l = r_(l-1) + (k_l - 1) d_l j_(l-1) and j_l = j_(l-1) s_l, from r_0 = j_0 = 1,
    # j being the jump (input pixels between neighbouring units of the current layer).
    r, jump = 1, 1
    for layer in layers:
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) > 2 else 1
        r += (k - 1) * d * jump
        jump *= s
    return r


# --- checker --------------------------------------------------------------------------------


def _brute(layers):
    """Walk down from output unit 0 of the stack: the positions below that a unit at p reads
    are p s + j d for j < k, layer after layer down to the input; the field is the span of
    the input positions reached (first to last: dilations may leave holes). Each position,
    not a formula: the learner's recursion is checked against the units it counts. (It
    backpropagated through a real all-ones conv1d stack before, the same positions: 0.04 s
    of CPU for the 161 stacks with one torch thread, but 2.9 s of wall time with the thread
    per core that `solve` gives, on a busy 2-core machine, of a 10 s limit.)"""
    reached = {0}
    for layer in reversed(layers):
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) > 2 else 1
        reached = {p * s + j * d for p in reached for j in range(k)}
    return max(reached) - min(reached) + 1


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


_DEFAULT_HINT = "r grows by (k - 1) d j per layer, j being the product of the strides below"

# Models of the usual mistakes (layers -> field) and the hint naming each one.
_MISTAKES = (
    (
        lambda layers: _model(layers, jump_before=False),
        "the layer's own stride was counted: its kernel is spaced by the strides of the "
        "layers below it only (j_(l-1)), and its stride spreads the layers above",
    ),
    (
        lambda layers: _model([(layer[0], layer[1]) for layer in layers]),
        "the dilation was ignored: a dilated kernel spans d (k - 1) + 1 pixels of its input",
    ),
    (
        lambda layers: _model(layers, start=0, extra=1),
        "each layer adds (k - 1) d j, not k d j, and the field of a single pixel (no layers) is 1",
    ),
    (
        lambda layers: _model_top_down(layers),
        "the top-down recursion r = (r - 1) s + d (k - 1) + 1 runs from the output back to "
        "the input; input-to-output order needs the jump j instead",
    ),
)


def _model(layers, jump_before=True, start=1, extra=0):
    r, jump = start, 1
    for layer in layers:
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) > 2 else 1
        if not jump_before:
            jump *= s
        r += ((k - 1) * d + extra * d) * jump
        if jump_before:
            jump *= s
    return r


def _model_top_down(layers):
    r = 1
    for layer in layers:
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) > 2 else 1
        r = (r - 1) * s + d * (k - 1) + 1
    return r


def _diagnose(impl, cases):
    try:
        got = [impl([tuple(layer) for layer in layers]) for layers in cases]
    except Exception:
        return None
    for model, hint in _MISTAKES:
        if all(g == model(layers) for g, layers in zip(got, cases)):
            return hint
    return None


def _fixed_cases():
    return [
        ([], "with no layers, each output unit is one input pixel"),
        ([(3, 1)], ""),
        ([(3, 1), (3, 1), (3, 1)], "three stacked 3x3 convs see 7 pixels"),
        ([(3, 2)], ""),
        (
            [(3, 2), (3, 1)],
            "the stride of a layer spreads the layers above it, not the layer itself",
        ),
        ([(2, 2), (2, 2), (2, 2)], ""),
        ([(7, 2), (3, 2), (3, 1), (3, 1)], ""),  # a ResNet-like stem
        (
            [(3, 1, 1), (3, 1, 2), (3, 1, 4)],
            "a dilated kernel spans d (k - 1) + 1 pixels of its input",
        ),
        ([(3, 1, 2), (3, 1, 2), (3, 1, 2)], ""),  # gridding: holes inside
        ([(1, 2), (3, 1)], ""),  # 1x1 stride 2 then 3x3
        ([(3, 1), (2, 2), (3, 1), (2, 2), (3, 1, 2)], ""),
    ]


LAYERS_IN_PLACE = (
    "the caller still holds its list of layers: walk it top-down with reversed(layers) or an "
    "index, never layers.pop() or layers.reverse(), which empty the caller's list or reverse it"
)


def check_receptive_field(impl, device="cpu") -> None:
    rng = random.Random(0)
    cases = _fixed_cases() + [(_random_stack(rng), "") for _ in range(150)]
    for layers, hint in cases:
        what = f"receptive_field({describe(layers)})"
        given = [tuple(layer) for layer in layers]
        got = as_int(call_unchanged(impl, what, ("layers",), given, hint=LAYERS_IN_PLACE), what)
        want = _brute(layers)
        if got != want:
            probes = [layers for layers, _ in cases[:40]]
            hint = _diagnose(impl, probes) or hint or _DEFAULT_HINT
            assert_equal(got, want, what, hint=hint)


# --- wrong answers --------------------------------------------------------------------------


@fails_with("the layer's own stride was counted")
def _wrong_stride_includes_current(layers):
    """Multiplies by the current layer's stride too: r += (k - 1) d * prod(s_1 .. s_l)."""
    r, jump = 1, 1
    for layer in layers:
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) > 2 else 1
        jump *= s
        r += (k - 1) * d * jump
    return r


@fails_with("the dilation was ignored")
def _wrong_ignores_dilation(layers):
    """Ignores the dilation entry."""
    r, jump = 1, 1
    for layer in layers:
        k, s = layer[0], layer[1]
        r += (k - 1) * jump
        jump *= s
    return r


@fails_with("each layer adds (k - 1) d j, not k d j")
def _wrong_adds_k(layers):
    """Starts from 0 and adds k d jump per layer, instead of 1 plus (k - 1) d jump per layer."""
    r, jump = 0, 1
    for layer in layers:
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) > 2 else 1
        r += k * d * jump
        jump *= s
    return r


@fails_with("runs from the output back to the input")
def _wrong_top_down_order(layers):
    """Runs the top-down recursion r = (r - 1) s + k over the layers in input-to-output order."""
    r = 1
    for layer in layers:
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) > 2 else 1
        r = (r - 1) * s + d * (k - 1) + 1
    return r


@fails_with("returned tensor(1, dtype=int64), expected an int")
def _wrong_torch_tensor(layers):
    """Keeps r and the jump in 0-d int64 tensors and returns r as one (no .item()): not the
    int the card asks for."""
    r, jump = torch.tensor(1), torch.tensor(1)
    for layer in layers:
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) > 2 else 1
        r = r + (k - 1) * d * jump
        jump = jump * s
    return r


@fails_with("returned np.int64(1), a numpy integer, expected a Python int")
def _wrong_numpy_int(layers):
    """Returns numpy's np.int64 (the jumps from np.cumprod), not the Python int asked for."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    kernels = [layer[0] for layer in layers]
    strides = [layer[1] for layer in layers]
    dilations = [layer[2] if len(layer) > 2 else 1 for layer in layers]
    jumps = np.cumprod([1, *strides[:-1]], dtype=np.int64)
    spans = (np.array(kernels, dtype=np.int64) - 1) * np.array(dilations, dtype=np.int64)
    return 1 + (spans * jumps[: len(spans)]).sum()


@fails_with("modified its input layers in place")
def _wrong_pops_layers(layers):
    """Walks top-down by popping the layers off the caller's list: the right field, and the
    caller's list comes back empty."""
    r = 1
    while layers:
        layer = layers.pop()
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) > 2 else 1
        r = (r - 1) * s + d * (k - 1) + 1
    return r


WRONG_ANSWERS = {
    "receptive_field": [
        _wrong_pops_layers,
        _wrong_stride_includes_current,
        _wrong_ignores_dilation,
        _wrong_adds_k,
        _wrong_top_down_order,
        _wrong_torch_tensor,
        _wrong_numpy_int,
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
