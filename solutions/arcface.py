"""ArcFace (additive angular margin) logits, and the decision boundaries of angular margins."""

import math

import numpy as np
import torch

from studycli.assertions import (
    assert_close,
    call_unchanged,
    describe,
    dtype_name,
    expect,
    fails_with,
)


def arcface_logits(
    embeddings,
    weight,
    labels,
    s: float = 64.0,
    m: float = 0.5,
):
    """ArcFace logits: scaled cosines,
    additive angular margin on the label.

    Args:
        embeddings: tensor (N, D) of features (any norm).
        weight: tensor (C, D), one class centre per row (any norm).
        labels: long tensor (N,), the class of each embedding, in [0, C).
        s: the scale applied to every cosine.
        m: the angular margin in radians, added to the label's angle only.

    Returns:
        A new tensor (N, C) in the embeddings' dtype (the inputs are left
        unchanged):
        s cos(theta_ij), theta_ij the angle between embedding i and weight
        row j (both L2-normalised), except at j = labels[i], which holds
        s cos(theta_ij + m). Cross-entropy on these logits is the ArcFace
        loss.
    """
    x = embeddings / embeddings.norm(dim=1, keepdim=True).clamp_min(1e-12)
    w = weight / weight.norm(dim=1, keepdim=True).clamp_min(1e-12)
    cos = (x @ w.T).clamp(-1.0, 1.0)  # rounding can push |cos| a hair above 1
    sin = (1.0 - cos * cos).clamp_min(0.0).sqrt()  # theta in [0, pi], so sin theta >= 0
    cos_margin = cos * math.cos(m) - sin * math.sin(m)  # cos(theta + m)
    is_label = torch.zeros_like(cos, dtype=torch.bool)
    is_label[torch.arange(cos.shape[0], device=cos.device), labels] = True
    return s * torch.where(is_label, cos_margin, cos)


def margin_boundary_angle(theta1, m: float, kind: str):
    """Class 1's margin decision boundary, for two classes on the sphere.

    With normalised features and weights, x goes to class 1 with a margin
    when f(theta1) > cos(theta2), theta_i the angle between x and W_i:
      "sphereface": f(theta) = cos(m theta)    (m > 1)
      "cosface":    f(theta) = cos(theta) - m
      "arcface":    f(theta) = cos(theta + m)

    Args:
        theta1: tensor of angles in radians where the boundary exists:
            theta1 <= pi / m (sphereface), cos(theta1) - m >= -1
            (cosface), theta1 + m <= pi (arcface); all >= 0.
        m: the margin.
        kind: "sphereface", "cosface" or "arcface".

    Returns:
        A new tensor like theta1 (which is left unchanged): the angle
        theta2 in [0, pi] with f(theta1) = cos(theta2).
    """
    if kind == "sphereface":
        return m * theta1
    if kind == "cosface":
        return torch.arccos((torch.cos(theta1) - m).clamp(-1.0, 1.0))
    if kind == "arcface":
        return theta1 + m
    raise ValueError(f"unknown kind {kind!r}")


# --- checker: arcface_logits ----------------------------------------------------------------


def _expected_logits(emb, weight, labels, s, m):
    """Independent ground truth in float64 numpy, through the angle itself."""
    x = emb.detach().cpu().double().numpy()
    w = weight.detach().cpu().double().numpy()
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    w = w / np.linalg.norm(w, axis=1, keepdims=True)
    cos = np.clip(x @ w.T, -1.0, 1.0)
    out = s * cos
    rows = np.arange(len(x))
    y = labels.cpu().numpy()
    out[rows, y] = s * np.cos(np.arccos(cos[rows, y]) + m)
    return out


def _mistakes(emb, weight, labels, s, m):
    """What the usual mistakes give on this input (float64 numpy), each with its hint."""
    x = emb.detach().cpu().double().numpy()
    w = weight.detach().cpu().double().numpy()
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    wn = w / np.linalg.norm(w, axis=1, keepdims=True)
    cos = np.clip(xn @ wn.T, -1.0, 1.0)
    rows, y = np.arange(len(x)), labels.cpu().numpy()
    cosface = s * cos
    cosface[rows, y] = s * (cos[rows, y] - m)
    raw = np.clip(xn @ w.T, -1.0, 1.0)  # weight rows left unnormalised (then clamped)
    unnormalised = s * raw
    unnormalised[rows, y] = s * np.cos(np.arccos(raw[rows, y]) + m)
    everywhere = s * np.cos(np.arccos(cos) + m)
    unscaled = s * cos
    unscaled[rows, y] = np.cos(np.arccos(cos[rows, y]) + m)
    return (
        (
            cosface,
            "m was subtracted from the cosine, which is CosFace's margin; ArcFace adds m to the "
            "angle: cos(theta_y + m) = cos theta_y cos m - sin theta_y sin m",
        ),
        (
            unnormalised,
            "the weight rows were not normalised, so the logits carry ‖W_j‖: L2-normalise both "
            "the embeddings and the weight rows",
        ),
        (
            everywhere,
            "the margin went on every class: only the label column becomes cos(theta_y + m), "
            "the others stay cos(theta_j)",
        ),
        (
            unscaled,
            "the label column is missing the scale: it is s cos(theta_y + m), like s cos(theta_j) "
            "elsewhere",
        ),
    )


def _diagnose(got, emb, weight, labels, s, m, default):
    g = got.detach().cpu().double().numpy()
    for wrong, hint in _mistakes(emb, weight, labels, s, m):
        if g.shape == wrong.shape and np.allclose(g, wrong, atol=2e-3 * max(s, 1.0), rtol=1e-4):
            return hint
    return default


def _label_angles(emb, weight, labels):
    x = emb.double() / emb.double().norm(dim=1, keepdim=True)
    w = weight.double() / weight.double().norm(dim=1, keepdim=True)
    cos = (x * w[labels]).sum(dim=1).clamp(-1, 1)
    return torch.arccos(cos)


KEEP_INPUTS = (
    "normalise into new tensors, embeddings / embeddings.norm(dim=1, keepdim=True), not with /= "
    "or div_: the caller's embeddings and weight (the model's class centres) must not change"
)


SAME_DTYPE = (
    "the logits come back in the embeddings' dtype (float64 logits of float32 features run the "
    "cross-entropy and its backward pass in float64; compute in float64 if you like, then cast "
    "back)"
)


def _call_keeping_inputs(impl, what, emb, weight, labels, **kwargs):
    """`impl(...)`, failing if the answer wrote into its inputs (the logits do not show it:
    cosines do not change when the vectors are normalised in place) or returned a tensor of
    another dtype than the embeddings'."""
    names = ("embeddings", "weight", "labels")
    got = call_unchanged(impl, what, names, emb, weight, labels, hint=KEEP_INPUTS, **kwargs)
    if isinstance(got, torch.Tensor):
        expect(
            got.dtype == emb.dtype,
            what,
            f"returned {dtype_name(got)} logits for {dtype_name(emb)} embeddings: {SAME_DTYPE}",
        )
    return got


def check_arcface_logits(impl, device="cpu") -> None:
    hint = (
        "normalise both embeddings and weight rows, then replace only the label column's "
        "cos(theta) by cos(theta + m): the margin goes on the angle, not on the cosine"
    )
    # A hand example: D = 2, angles are easy to read off.
    emb = torch.tensor([[2.0, 0.0], [0.0, 3.0], [1.0, 1.0]], device=device)
    weight = torch.tensor([[1.0, 0.0], [0.0, 5.0], [-1.0, 1.0]], device=device)
    labels = torch.tensor([1, 1, 0], device=device)
    what = f"arcface_logits(embeddings={describe(emb, 6)}, weight={describe(weight, 6)}, labels=[1, 1, 0], s=2.0, m=0.5)"
    expected = torch.tensor(
        [
            [2.0, 2 * math.cos(math.pi / 2 + 0.5), -math.sqrt(2.0)],
            [0.0, 2 * math.cos(0.5), math.sqrt(2.0)],
            [2 * math.cos(math.pi / 4 + 0.5), math.sqrt(2.0), 0.0],
        ],
        dtype=torch.float64,
    )
    got = _call_keeping_inputs(impl, what, emb, weight, labels, s=2.0, m=0.5)
    expect(isinstance(got, torch.Tensor), what, f"returned {type(got).__name__}, expected a tensor")
    # (Loose: an embedding along its class centre has theta = 0, where clamping cos to 1 - eps,
    # as many implementations do to keep arccos' gradient finite, moves cos(theta + m) a little.)
    if tuple(got.shape) == (3, 3) and not torch.allclose(
        got.detach().cpu().double(), expected, atol=2e-3, rtol=1e-5
    ):
        hint = _diagnose(got, emb, weight, labels, 2.0, 0.5, hint)
    assert_close(got, expected, what, atol=2e-3, rtol=1e-5, hint=hint)

    gen = torch.Generator().manual_seed(0)
    for n, c, d, s, m in (
        (1, 1, 3, 64.0, 0.5),
        (4, 3, 5, 64.0, 0.5),
        (16, 10, 32, 30.0, 0.3),
        (7, 100, 8, 1.0, 0.2),
        (32, 50, 64, 64.0, 0.5),
        (5, 6, 4, 10.0, 0.0),
        (9, 2, 16, 64.0, 0.7),
    ):
        emb = torch.randn(n, d, generator=gen) * torch.rand(n, 1, generator=gen) * 10
        weight = torch.randn(c, d, generator=gen) * (0.1 + torch.rand(c, 1, generator=gen) * 5)
        labels = torch.randint(0, c, (n,), generator=gen)
        flip = _label_angles(emb, weight, labels) + m > math.pi - 0.05  # keep theta_y + m < pi
        emb[flip] = -emb[flip]
        emb, weight, labels = emb.to(device), weight.to(device), labels.to(device)
        what = f"arcface_logits(embeddings {tuple(emb.shape)}, weight {tuple(weight.shape)}, labels, s={s}, m={m})"
        got = _call_keeping_inputs(
            impl, what, emb.clone(), weight.clone(), labels.clone(), s=s, m=m
        )
        expect(
            isinstance(got, torch.Tensor), what, f"returned {type(got).__name__}, expected a tensor"
        )
        want = _expected_logits(emb, weight, labels, s, m)
        expect(
            tuple(got.shape) == (n, c),
            what,
            f"returned shape {tuple(got.shape)}, expected {(n, c)}",
        )
        off_label = torch.ones(n, c, dtype=torch.bool)
        off_label[torch.arange(n), labels.cpu()] = False
        assert_close(
            got.detach().cpu()[off_label],
            want[off_label.numpy()],
            f"{what}, non-label columns",
            atol=2e-5 * s,
            rtol=1e-5,
            hint="columns other than the label are plain s cos(theta): no margin there, "
            "and both embeddings and weight rows are L2-normalised",
        )
        assert_close(got, want, f"{what}, label columns", atol=2e-5 * s, rtol=1e-5, hint=hint)

    # Default arguments are s = 64, m = 0.5.
    what = "arcface_logits(embeddings (6, 8), weight (4, 8), labels) with default s and m"
    emb = torch.randn(6, 8, generator=gen).to(device)
    weight = torch.randn(4, 8, generator=gen).to(device)
    labels = torch.tensor([0, 1, 2, 3, 0, 1], device=device)
    emb[_label_angles(emb, weight, labels) + 0.5 > math.pi - 0.05] *= -1
    assert_close(
        _call_keeping_inputs(impl, what, emb, weight, labels),
        _expected_logits(emb, weight, labels, 64.0, 0.5),
        what,
        atol=2e-5 * 64,
        rtol=1e-5,
        hint="the defaults are s=64.0, m=0.5",
    )

    # Embeddings that point exactly along their class centre: cos rounds to slightly above 1.
    weight = torch.randn(64, 16, generator=gen)
    emb = weight * (0.5 + 5 * torch.rand(64, 1, generator=gen))
    labels = torch.arange(64)
    emb, weight, labels = emb.to(device), weight.to(device), labels.to(device)
    what = "arcface_logits(embeddings parallel to their own class centres (64, 16), weight (64, 16), labels, s=64.0, m=0.5)"
    got = _call_keeping_inputs(impl, what, emb, weight, labels, s=64.0, m=0.5)
    expect(
        bool(torch.isfinite(got).all()),
        what,
        f"returned {int((~torch.isfinite(got)).sum())} non-finite values",
        hint="float32 rounding can give cos(theta) = 1.0000001: clamp to [-1, 1] before arccos or sqrt",
    )
    assert_close(
        got, _expected_logits(emb, weight, labels, 64.0, 0.5), what, atol=0.05, rtol=1e-4, hint=hint
    )


# --- wrong answers: arcface_logits ----------------------------------------------------------


@fails_with("modified its input embeddings in place")
def _wrong_normalises_in_place(embeddings, weight, labels, s=64.0, m=0.5):
    """Normalises the embeddings and the weight rows in place (/=): the right logits, but the
    caller's tensors, the class centres among them, are changed."""
    embeddings /= embeddings.norm(dim=1, keepdim=True)
    weight /= weight.norm(dim=1, keepdim=True)
    cos = (embeddings @ weight.T).clamp(-1.0, 1.0)
    sin = (1.0 - cos * cos).clamp_min(0.0).sqrt()
    label = torch.nn.functional.one_hot(labels, cos.shape[1]).bool()
    return s * torch.where(label, cos * math.cos(m) - sin * math.sin(m), cos)


@fails_with("which is CosFace's margin")
def _wrong_cosface(embeddings, weight, labels, s=64.0, m=0.5):
    """CosFace: subtracts m from the cosine instead of adding it to the angle."""
    x = embeddings / embeddings.norm(dim=1, keepdim=True)
    w = weight / weight.norm(dim=1, keepdim=True)
    cos = x @ w.T
    margin = torch.zeros_like(cos)
    margin[torch.arange(len(cos)), labels] = m
    return s * (cos - margin)


@fails_with("the weight rows were not normalised")
def _wrong_unnormalised_weight(embeddings, weight, labels, s=64.0, m=0.5):
    """Normalises the embeddings but not the weight rows, so logits carry ‖W_j‖."""
    x = embeddings / embeddings.norm(dim=1, keepdim=True)
    cos = (x @ weight.T).clamp(-1, 1)
    theta = torch.arccos(cos)
    out = cos.clone()
    rows = torch.arange(len(cos))
    out[rows, labels] = torch.cos(theta[rows, labels] + m)
    return s * out


@fails_with("the margin went on every class")
def _wrong_margin_everywhere(embeddings, weight, labels, s=64.0, m=0.5):
    """Adds the angular margin to every class, not only the label's."""
    x = embeddings / embeddings.norm(dim=1, keepdim=True)
    w = weight / weight.norm(dim=1, keepdim=True)
    theta = torch.arccos((x @ w.T).clamp(-1, 1))
    return s * torch.cos(theta + m)


@fails_with("non-finite values")
def _wrong_no_clamp(embeddings, weight, labels, s=64.0, m=0.5):
    """Takes arccos of the raw cosine: NaN when rounding pushes it above 1."""
    x = embeddings / embeddings.norm(dim=1, keepdim=True)
    w = weight / weight.norm(dim=1, keepdim=True)
    cos = x @ w.T
    theta = torch.arccos(cos)
    out = cos.clone()
    rows = torch.arange(len(cos))
    out[rows, labels] = torch.cos(theta[rows, labels] + m)
    return s * out


@fails_with("the label column is missing the scale")
def _wrong_unscaled_label(embeddings, weight, labels, s=64.0, m=0.5):
    """Scales the other logits by s but forgets s on the label's margin logit."""
    x = embeddings / embeddings.norm(dim=1, keepdim=True)
    w = weight / weight.norm(dim=1, keepdim=True)
    cos = (x @ w.T).clamp(-1, 1)
    out = s * cos
    rows = torch.arange(len(cos))
    out[rows, labels] = torch.cos(torch.arccos(cos[rows, labels]) + m)
    return out


@fails_with("the logits come back in the embeddings' dtype")
def _wrong_float64_logits(embeddings, weight, labels, s=64.0, m=0.5):
    """Computes in float64 for accuracy and returns the float64 logits as they are, for
    float32 features."""
    return arcface_logits(embeddings.double(), weight.double(), labels, s, m)


# --- correct variants: arcface_logits -------------------------------------------------------


def _variant_arccos_onehot(embeddings, weight, labels, s=64.0, m=0.5):
    """Through the angle: arccos, add m times a one-hot, cos back (F.normalize, in float64,
    cast back to the embeddings' dtype)."""
    x = torch.nn.functional.normalize(embeddings.double(), dim=1)
    w = torch.nn.functional.normalize(weight.double(), dim=1)
    theta = torch.arccos((x @ w.T).clamp(-1 + 1e-7, 1 - 1e-7))
    one_hot = torch.nn.functional.one_hot(labels, num_classes=weight.shape[0]).double()
    return (s * torch.cos(theta + m * one_hot)).to(embeddings.dtype)


# --- checker: margin_boundary_angle ---------------------------------------------------------


ANGLE_IN_PLACE = (
    "return a new tensor and leave theta1 as it came (theta1 + m, not theta1 += m): the caller "
    "still holds it"
)


def check_margin_boundary_angle(impl, device="cpu") -> None:
    gen = torch.Generator().manual_seed(0)
    settings = (
        ("sphereface", 1.5),
        ("sphereface", 4.0),
        ("cosface", 0.35),
        ("cosface", 0.1),
        ("arcface", 0.5),
        ("arcface", 0.2),
    )
    for kind, m in settings:
        if kind == "sphereface":
            top = math.pi / m
        elif kind == "cosface":
            top = math.acos(m - 1.0)
        else:
            top = math.pi - m
        fixed = torch.tensor([0.0, top / 3, top / 2, top - 1e-6], dtype=torch.float64)
        for theta1 in (
            fixed,
            torch.rand(50, generator=gen, dtype=torch.float64) * top,
            torch.rand(3, 4, generator=gen, dtype=torch.float64) * top,
        ):
            theta1 = theta1.to(device)
            what = f"margin_boundary_angle({describe(theta1)}, m={m}, kind={kind!r})"
            got = call_unchanged(
                impl, what, ("theta1",), theta1.clone(), m, kind, hint=ANGLE_IN_PLACE
            )
            expect(
                isinstance(got, torch.Tensor),
                what,
                f"returned {type(got).__name__}, expected a tensor",
            )
            t = theta1.cpu().numpy()
            if kind == "sphereface":
                want = m * t
                hint = "cos(m theta1) = cos(theta2): the angles are proportional"
                g = got.detach().cpu().double().numpy()
                if (
                    g.shape == t.shape
                    and m != 1
                    and np.allclose(g, t / m)
                    and not np.allclose(g, want)
                ):
                    hint = (
                        "theta1 / m is class 2's boundary (cos theta1 = cos(m theta2)); class "
                        "1's, cos(m theta1) = cos theta2, is theta2 = m theta1"
                    )
            elif kind == "cosface":
                want = np.arccos(np.clip(np.cos(t) - m, -1.0, 1.0))
                hint = (
                    "CosFace's margin is a constant in cosine, so theta2 = arccos(cos theta1 - m)"
                )
            else:
                want = t + m
                hint = (
                    "cos(theta1 + m) = cos(theta2) with both angles in [0, pi]: theta2 = theta1 + m"
                )
            assert_close(got, want, what, atol=1e-5, rtol=1e-5, hint=hint)


# --- wrong answers: margin_boundary_angle ---------------------------------------------------


@fails_with("CosFace's margin is a constant in cosine")
def _wrong_cosface_as_angle(theta1, m, kind):
    """Treats CosFace's cosine margin as a constant angle gap: theta2 = theta1 + m."""
    if kind == "cosface":
        return theta1 + m
    return margin_boundary_angle(theta1, m, kind)


@fails_with("theta2 = theta1 + m")
def _wrong_arcface_in_cosine(theta1, m, kind):
    """Puts ArcFace's margin on the cosine: theta2 = arccos(cos theta1 - m)."""
    if kind == "arcface":
        return torch.arccos((torch.cos(theta1) - m).clamp(-1, 1))
    return margin_boundary_angle(theta1, m, kind)


@fails_with("theta1 / m is class 2's boundary")
def _wrong_sphereface_divides(theta1, m, kind):
    """Solves cos(theta1) = cos(m theta2) (class 2's boundary): theta2 = theta1 / m."""
    if kind == "sphereface":
        return theta1 / m
    return margin_boundary_angle(theta1, m, kind)


@fails_with("modified its input theta1 in place")
def _wrong_angle_in_place(theta1, m, kind):
    """Shifts or scales theta1 in place (theta1 += m, theta1 *= m) and returns it: the right
    angles, but the caller's theta1 is changed."""
    if kind == "sphereface":
        theta1 *= m
        return theta1
    if kind == "arcface":
        theta1 += m
        return theta1
    return margin_boundary_angle(theta1, m, kind)


WRONG_ANSWERS = {
    "arcface_logits": [
        _wrong_cosface,
        _wrong_unnormalised_weight,
        _wrong_margin_everywhere,
        _wrong_no_clamp,
        _wrong_unscaled_label,
        _wrong_normalises_in_place,
        _wrong_float64_logits,
    ],
    "margin_boundary_angle": [
        _wrong_angle_in_place,
        _wrong_cosface_as_angle,
        _wrong_arcface_in_cosine,
        _wrong_sphereface_divides,
    ],
}

CORRECT_VARIANTS = {"arcface_logits": [_variant_arccos_onehot]}
