"""Smooth surrogates for discrete metrics: soft F1 and soft accuracy.

Accuracy and F1 count hard decisions (argmax, p > 0.5): as functions of the model's outputs
they are piecewise constant, so their gradient is zero almost everywhere and undefined at the
jumps. Replacing each hard decision by the probability the model assigns to it gives a smooth
function that equals the metric when the probabilities are exactly 0 or 1.
"""

import numpy as np
import torch

from studycli.assertions import (
    GRAPH_HINT,
    assert_close,
    call,
    describe,
    dtype_name,
    expect,
    expect_tensor,
    fails_with,
)

# ---------------------------------------------------------------------------------------------
# References
# ---------------------------------------------------------------------------------------------


def soft_f1_loss(probs, targets, eps: float = 1e-7):
    """A differentiable F1 loss for binary
    labels, all elements pooled together.

    Args:
        probs: tensor of any shape, probabilities of the positive class in
            [0, 1].
        targets: tensor of the same shape and dtype, each 0.0 or 1.0.
        eps: added to the F1's denominator, to avoid 0/0.

    Returns:
        A 0-d tensor in the inputs' dtype: 1 - soft F1, differentiable
        with respect to probs. When probs is exactly 0 or 1 it equals
        1 - F1 of those hard predictions.
    """
    # Each count replaced by its expectation under p: TP = Σ p·t, FP = Σ p·(1 - t),
    # FN = Σ (1 - p)·t; then F1 = 2 TP / (2 TP + FP + FN + eps).
    tp = (probs * targets).sum()
    fp = (probs * (1 - targets)).sum()
    fn = ((1 - probs) * targets).sum()
    return 1 - 2 * tp / (2 * tp + fp + fn + eps)


def soft_accuracy(probs, labels):
    """The expected accuracy of class probabilities,
    a smooth surrogate of the accuracy.

    Args:
        probs: (N, C) class probabilities (rows sum to 1).
        labels: (N,) integer class indices (int64).

    Returns:
        A 0-d tensor in the dtype of probs, differentiable with respect to
        probs: the expected
        accuracy, the mean over the rows i of the probability row i gives
        its correct class labels[i] (the accuracy expected when each
        prediction is drawn from its row). It equals the accuracy
        (1/N) Σ_i [argmax_c probs[i, c] == labels[i]] whenever every row
        of probs is one-hot.
    """
    # Replace onehot(argmax p_i) by p_i itself: (1/N) Σ_i <p_i, onehot(y_i)> = mean of p[i, y_i].
    N = probs.shape[0]
    picked = probs[torch.arange(N, device=probs.device), labels]
    return picked.mean()


# ---------------------------------------------------------------------------------------------
# Checkers
# ---------------------------------------------------------------------------------------------


def _hard_f1(pred, target):
    """F1 of 0/1 predictions by counting."""
    tp = fp = fn = 0
    for p, t in zip(pred, target):
        tp += p == 1 and t == 1
        fp += p == 1 and t == 0
        fn += p == 0 and t == 1
    return 2 * tp / (2 * tp + fp + fn)


def _as_scalar_tensor(out, what):
    """The answer's loss as a 0-d tensor: a numpy number was told "a Python number carries no
    gradient", and to leave out .item() or float(), which it had not used."""
    expect_tensor(out, what, hint=GRAPH_HINT)
    expect(
        out.numel() == 1, what, f"returned a tensor of shape {tuple(out.shape)}, expected a scalar"
    )
    return out.reshape(())


def _grad_of(impl, what, probs, *rest):
    p = probs.detach().clone().requires_grad_(True)
    out = _as_scalar_tensor(call(impl, what, p, *rest), what)
    expect(
        out.requires_grad,
        what,
        "the result does not depend differentiably on probs (no gradient can flow back)",
        hint="a hard threshold or argmax has zero gradient almost everywhere; use the "
        "probabilities themselves",
    )
    out.backward()
    expect(p.grad is not None, what, "no gradient reached probs")
    return out.detach(), p.grad


def _matches(got, value) -> bool:
    got = float(np.asarray(got.detach().cpu() if isinstance(got, torch.Tensor) else got))
    return bool(np.isfinite(value) and np.isclose(got, value, rtol=1e-6, atol=1e-9))


def _f1_hint(got, p, t, eps, default):
    """Name the classic mistake whose value the learner's loss matches, if one does.

    A mistake is named only where its value on this input stands apart from the correct one
    and the loss is far closer to it (within 1% of the gap) than to the correct value: on
    one element the per-element average is the correct value, and with eps = 1e-7 eps in the
    numerator is within 1e-6 of it, so the matcher's own tolerance alone cannot tell them apart.
    """
    p, t = np.asarray(p, dtype=float), np.asarray(t, dtype=float)
    tp, fp, fn = (p * t).sum(), (p * (1 - t)).sum(), ((1 - p) * t).sum()
    correct = 1 - 2 * tp / (2 * tp + fp + fn + eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_element = 1 - 2 * p * t / (2 * p * t + p * (1 - t) + (1 - p) * t + eps)
    known = [
        (
            1 - tp / (tp + fp + fn + eps),
            "that is 1 - TP / (TP + FP + FN), the soft Jaccard "
            "index (IoU); F1 is 2TP / (2TP + FP + FN)",
        ),
        (
            2 * tp / (2 * tp + fp + fn + eps),
            "that is the soft F1 itself; the loss to minimise is 1 - F1",
        ),
        (
            per_element.mean(),
            "that is an average of per-element F1 losses; F1 does not "
            "decompose: pool TP, FP and FN over all elements, then take the ratio once",
        ),
        (
            1 - (2 * tp + eps) / (2 * tp + fp + fn + eps),
            "eps is added to the numerator too: it goes in the denominator only, "
            "1 - 2TP / (2TP + FP + FN + eps)",
        ),
    ]
    got_value = float(np.asarray(got.detach().cpu() if isinstance(got, torch.Tensor) else got))
    return next(
        (
            text
            for value, text in known
            if _matches(got, value) and abs(got_value - value) <= 0.01 * abs(value - correct)
        ),
        default,
    )


def _accuracy_hint(got, p, labels, default):
    """Name the classic mistake whose value the learner's surrogate matches, if one does."""
    p = np.asarray(p, dtype=float)
    picked = p[np.arange(len(labels)), labels]
    with np.errstate(divide="ignore"):
        log_picked = np.log(picked).mean()
    brier = ((p - np.eye(p.shape[1])[labels]) ** 2).sum(axis=1).mean()
    known = [
        (
            1 - brier / 2,
            "that is 1 - Brier score / 2: it equals the accuracy on one-hot rows too, but the "
            "card asks for the expected accuracy, the mean probability of the correct class",
        ),
        (
            p.max(axis=1).mean(),
            "that is the mean of the largest probability of each row "
            "(the confidence), whatever the label",
        ),
        (
            log_picked,
            "that is the mean log-probability of the correct class (minus the "
            "cross-entropy), not a smoothed accuracy",
        ),
        (
            picked.sum(),
            "that is the sum over the rows: the expected accuracy averages them (divide by N)",
        ),
    ]
    # A mistake that gives the right number on these rows (the confidence, when every label
    # is its row's argmax) is not named: a float32 answer would match it within rounding.
    correct = picked.mean()
    return next(
        (
            text
            for value, text in known
            if _matches(got, value) and not np.isclose(value, correct, rtol=1e-6, atol=1e-9)
        ),
        default,
    )


SAME_DTYPE = (
    "the loss comes back in the inputs' dtype (a float64 loss runs the backward pass in float64 "
    "too; compute in float64 if you like, then cast back)"
)


KEEP_FLOAT64 = (
    "a float32 result rounds a float64 one after 7 digits: torch.tensor(0.0) is float32, and "
    "+= into it stays float32; start the sums from probs.new_zeros(()), or let torch sum the "
    "terms ((probs * targets).sum(), probs[rows, labels].mean())"
)


def _expect_inputs_dtype(out, probs, what, name="loss") -> None:
    """The result in the inputs' dtype: a float32 loss of float64 inputs (a loop's += into
    torch.tensor(0.0)) passed the hard cases, exact in float32, and failed the soft ones
    with the formula's hint, its formula right; so did such an accuracy."""
    expect(
        out.dtype == probs.dtype,
        what,
        f"returned {dtype_name(out)} for {dtype_name(probs)} inputs: the {name} comes back in "
        "the inputs' dtype",
        hint=KEEP_FLOAT64 if out.dtype == torch.float32 else SAME_DTYPE,
    )


EPS_DEFAULT_HINT = (
    "eps defaults to 1e-7, as the signature soft_f1_loss(probs, targets, eps=1e-7) says: with no "
    "positives 2TP + FP + FN is 0, and 1 - 0 / (0 + eps) = 1, where eps = 0 gives 0 / 0 = nan"
)


def check_soft_f1_loss(impl, device="cpu") -> None:
    """Hard 0/1 inputs against counted F1; soft inputs and gradients against the closed form."""
    hint = (
        "loss = 1 - 2TP / (2TP + FP + FN + eps) with TP = Σ p·t, FP = Σ p·(1 - t), FN = Σ (1 - p)·t"
    )
    rng = np.random.default_rng(0)
    # Hard predictions: the soft loss is exactly 1 - F1. The first case (one each of TP, FN
    # and TN, plus a second TN) tells the classic mistakes apart: F1, soft IoU and a
    # per-element average all give different numbers there.
    hard = [(np.array([1, 0, 0, 0]), np.array([1, 1, 0, 0]))]
    for n in (1, 2, 5, 17, 100):
        pred = rng.integers(0, 2, n)
        target = rng.integers(0, 2, n)
        target[0], pred[-1] = 1, 1  # at least one positive each, so F1 is defined
        hard.append((pred, target))
    for pred, target in hard:
        p = torch.tensor(pred, dtype=torch.float64, device=device)
        t = torch.tensor(target, dtype=torch.float64, device=device)
        what = f"soft_f1_loss({describe(p)}, {describe(t)})"
        out = _as_scalar_tensor(call(impl, what, p, t), what)
        _expect_inputs_dtype(out, p, what)
        want = 1 - _hard_f1(pred.tolist(), target.tolist())
        assert_close(
            out, want, what, rtol=1e-6, atol=1e-6, hint=_f1_hint(out, pred, target, 1e-7, hint)
        )
    # Soft probabilities, several shapes: value and gradient against the closed form.
    # With S = Σp + Σt + eps (= 2TP + FP + FN + eps): F1 = 2 TP / S,
    # d loss / d p_i = -(2 t_i / S - 2 TP / S²).
    for shape in ((1,), (6,), (4, 5), (2, 3, 7), (500,)):
        for eps in (1e-7, 0.5):
            pn = rng.uniform(0, 1, size=shape)
            tn = (rng.uniform(size=shape) < 0.4).astype(float)
            tn.flat[0] = 1.0
            p = torch.tensor(pn, dtype=torch.float64, device=device)
            t = torch.tensor(tn, dtype=torch.float64, device=device)
            what = f"soft_f1_loss(probs={describe(p)}, targets={describe(t)}, eps={eps})"
            value, grad = _grad_of(impl, what, p, t, eps)
            _expect_inputs_dtype(value, p, what)
            tp = float((pn * tn).sum())
            S = float(pn.sum() + tn.sum() + eps)
            assert_close(
                value,
                1 - 2 * tp / S,
                what,
                rtol=1e-9,
                atol=1e-12,
                hint=_f1_hint(value, pn, tn, eps, hint),
            )
            want_grad = -(2 * tn / S - 2 * tp / S**2)
            assert_close(
                grad,
                want_grad,
                what + " -> gradient with respect to probs",
                rtol=1e-7,
                atol=1e-12,
                hint=hint,
            )
    # float32, default eps.
    p = torch.tensor([0.9, 0.2, 0.6, 0.1], dtype=torch.float32, device=device)
    t = torch.tensor([1.0, 0.0, 1.0, 1.0], dtype=torch.float32, device=device)
    what = f"soft_f1_loss({describe(p)}, {describe(t)})"
    out = _as_scalar_tensor(call(impl, what, p, t), what)
    expect(
        out.dtype == p.dtype,
        what,
        f"returned {describe(out)} for float32 inputs: {SAME_DTYPE}",
    )
    assert_close(out, 1 - 2 * 1.6 / (1.8 + 3.0), what, rtol=1e-5, atol=1e-6, hint=hint)
    # No positive at all, predicted or true: 2TP + FP + FN = 0, and eps (1e-7 by default)
    # keeps 0 / 0 from a NaN: F1 = 0, the loss 1.
    zeros = torch.zeros(5, dtype=torch.float64, device=device)
    what = f"soft_f1_loss({describe(zeros)}, {describe(zeros)}) [no positives at all]"
    out = _as_scalar_tensor(call(impl, what, zeros.clone(), zeros.clone()), what)
    assert_close(out, 1.0, what, rtol=1e-9, atol=1e-12, hint=EPS_DEFAULT_HINT)


def check_soft_accuracy(impl, device="cpu") -> None:
    """Soft rows and gradients against the gather; one-hot rows against counted accuracy."""
    hint = "average p[i, labels[i]] over the rows: the probability given to the correct class"
    rng = np.random.default_rng(0)
    for N, C in ((1, 2), (5, 3), (20, 10), (300, 7)):
        pred = rng.integers(0, C, N)
        labels = rng.integers(0, C, N)
        y = torch.tensor(labels, dtype=torch.int64, device=device)
        # Soft rows first: there every known mistake gives its own number. On one-hot rows
        # the largest probability is 1 in every row, so any answer that returns 1 there (a
        # sum over rows with one right prediction, say) would be named the confidence.
        logits = rng.normal(size=(N, C)) * 2
        soft = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        p = torch.tensor(soft, dtype=torch.float64, device=device)
        what = f"soft_accuracy({describe(p)}, {describe(y)})"
        value, grad = _grad_of(impl, what, p, y)
        _expect_inputs_dtype(value, p, what, "accuracy")
        assert_close(
            value,
            soft[np.arange(N), labels].mean(),
            what,
            rtol=1e-9,
            atol=1e-12,
            hint=_accuracy_hint(value, soft, labels, hint),
        )
        want_grad = np.zeros((N, C))
        want_grad[np.arange(N), labels] = 1.0 / N
        assert_close(
            grad,
            want_grad,
            what + " -> gradient with respect to probs",
            rtol=1e-9,
            atol=1e-12,
            hint=hint,
        )
        onehot = np.eye(C)[pred]
        p = torch.tensor(onehot, dtype=torch.float64, device=device)
        what = f"soft_accuracy({describe(p)}, {describe(y)})  [one-hot rows]"
        out = _as_scalar_tensor(call(impl, what, p, y), what)
        accuracy = sum(int(a == b) for a, b in zip(pred, labels)) / N
        assert_close(
            out,
            accuracy,
            what,
            rtol=1e-9,
            atol=1e-12,
            hint=_accuracy_hint(out, onehot, labels, hint),
        )
    # A case where the argmax is right but not confident, and one where it is wrong.
    p = torch.tensor([[0.4, 0.35, 0.25], [0.5, 0.1, 0.4]], dtype=torch.float64, device=device)
    y = torch.tensor([0, 2], dtype=torch.int64, device=device)
    what = f"soft_accuracy({describe(p)}, {describe(y)})"
    assert_close(
        _as_scalar_tensor(call(impl, what, p, y), what), (0.4 + 0.4) / 2, what, rtol=1e-9, hint=hint
    )


# ---------------------------------------------------------------------------------------------
# Wrong answers
# ---------------------------------------------------------------------------------------------


@fails_with("does not depend differentiably on probs")
def _f1_hard_threshold(probs, targets, eps=1e-7):
    """Thresholds at 0.5 first: the exact F1, with zero gradient almost everywhere."""
    pred = (probs > 0.5).to(probs.dtype)
    tp = (pred * targets).sum()
    fp = (pred * (1 - targets)).sum()
    fn = ((1 - pred) * targets).sum()
    return 1 - 2 * tp / (2 * tp + fp + fn + eps)


@fails_with("the soft Jaccard index")
def _f1_soft_iou(probs, targets, eps=1e-7):
    """Uses TP / (TP + FP + FN), the soft Jaccard index, instead of F1."""
    tp = (probs * targets).sum()
    fp = (probs * (1 - targets)).sum()
    fn = ((1 - probs) * targets).sum()
    return 1 - tp / (tp + fp + fn + eps)


@fails_with("the loss to minimise is 1 - F1")
def _f1_not_a_loss(probs, targets, eps=1e-7):
    """Returns the soft F1 itself; minimising it makes predictions worse."""
    tp = (probs * targets).sum()
    fp = (probs * (1 - targets)).sum()
    fn = ((1 - probs) * targets).sum()
    return 2 * tp / (2 * tp + fp + fn + eps)


@fails_with("F1 does not decompose")
def _f1_per_element_mean(probs, targets, eps=1e-7):
    """Averages a per-element soft F1 instead of pooling the counts."""
    tp = probs * targets
    fp = probs * (1 - targets)
    fn = (1 - probs) * targets
    return (1 - 2 * tp / (2 * tp + fp + fn + eps)).mean()


@fails_with("the loss comes back in the inputs' dtype")
def _f1_upcast(probs, targets, eps=1e-7):
    """Computes in float64 (probs.double(), ...) and returns a float64 loss for float32 inputs."""
    return soft_f1_loss(probs.double(), targets.double(), eps)


@fails_with("returned float32 for float64 inputs")
def _f1_accumulator_float32(probs, targets, eps=1e-7):
    """Loops over the elements, adding into torch.tensor(0.0) accumulators with +=: they stay
    float32, so a float64 loss is rounded to 7 digits (right where the counts are whole). On
    probs' device: a CPU accumulator cannot take += of a CUDA term (an error, not the dtype)."""
    tp, fp, fn = (torch.tensor(0.0, device=probs.device) for _ in range(3))
    for p, t in zip(probs.flatten(), targets.flatten()):
        tp += p * t
        fp += p * (1 - t)
        fn += (1 - p) * t
    return 1 - 2 * tp / (2 * tp + fp + fn + eps)


def _soft_f1_loop(probs, targets, eps=1e-7):
    """The same loop, its sums started from probs.new_zeros(()): in the inputs' dtype."""
    tp, fp, fn = probs.new_zeros(()), probs.new_zeros(()), probs.new_zeros(())
    for p, t in zip(probs.flatten(), targets.flatten()):
        tp = tp + p * t
        fp = fp + p * (1 - t)
        fn = fn + (1 - p) * t
    return 1 - 2 * tp / (2 * tp + fp + fn + eps)


@fails_with("returned float32 for float64 inputs: the accuracy comes back")
def _accuracy_float32_total(probs, labels):
    """Adds each row's p[i, labels[i]] into torch.tensor(0.0) with +=: a float32 total, so a
    float64 accuracy is rounded to 7 digits."""
    total = torch.tensor(0.0, device=probs.device)
    for i in range(len(labels)):
        total += probs[i, labels[i]]
    return total / len(labels)


@fails_with("does not depend differentiably on probs")
def _accuracy_argmax(probs, labels):
    """Hard accuracy from argmax: right value on one-hot rows, but no gradient."""
    return (probs.argmax(dim=1) == labels).to(probs.dtype).mean()


@fails_with("whatever the label")
def _accuracy_max_prob(probs, labels):
    """Mean of the largest probability per row: confidence, whatever the label."""
    return probs.max(dim=1).values.mean()


@fails_with("mean log-probability of the correct class")
def _accuracy_log_prob(probs, labels):
    """Mean log-probability of the correct class (minus the cross-entropy), not accuracy."""
    N = probs.shape[0]
    return torch.log(probs[torch.arange(N, device=probs.device), labels]).mean()


@fails_with("that is 1 - Brier score / 2")
def _accuracy_half_brier(probs, labels):
    """One minus half the Brier score: the accuracy on one-hot rows, not the expected accuracy."""
    onehot = torch.nn.functional.one_hot(labels, probs.shape[1]).to(probs.dtype)
    return 1 - ((probs - onehot) ** 2).sum(dim=1).mean() / 2


@fails_with("eps is added to the numerator too")
def _f1_eps_in_numerator(probs, targets, eps=1e-7):
    """Adds eps to the numerator as well as the denominator (a smoothed Dice)."""
    tp = (probs * targets).sum()
    fp = (probs * (1 - targets)).sum()
    fn = ((1 - probs) * targets).sum()
    return 1 - (2 * tp + eps) / (2 * tp + fp + fn + eps)


@fails_with("that is the sum over the rows")
def _accuracy_sum(probs, labels):
    """Sums the probability of the correct class over the rows instead of averaging."""
    N = probs.shape[0]
    return probs[torch.arange(N, device=probs.device), labels].sum()


@fails_with("returned a numpy array(")
def _f1_numpy(probs, targets, eps=1e-7):
    """The right loss, computed with numpy: a numpy number carries no gradient."""
    p, t = probs.detach().cpu().numpy(), targets.detach().cpu().numpy()
    tp, fp, fn = (p * t).sum(), (p * (1 - t)).sum(), ((1 - p) * t).sum()
    return 1 - 2 * tp / (2 * tp + fp + fn + eps)


@fails_with("returned a numpy array(")
def _accuracy_numpy(probs, labels):
    """The right expected accuracy, computed with numpy: a numpy number carries no gradient."""
    p, y = probs.detach().cpu().numpy(), labels.cpu().numpy()
    return p[np.arange(p.shape[0]), y].mean()


@fails_with("eps defaults to 1e-7")
def _f1_eps_default_zero(probs, targets, eps=0.0):
    """Gives eps the default 0 instead of 1e-7: right wherever anything is positive, and 0 / 0
    = nan on a batch with no positives, predicted or true."""
    tp = (probs * targets).sum()
    return 1 - 2 * tp / (probs.sum() + targets.sum() + eps)


WRONG_ANSWERS = {
    "soft_f1_loss": [
        _f1_eps_default_zero,
        _f1_hard_threshold,
        _f1_soft_iou,
        _f1_not_a_loss,
        _f1_per_element_mean,
        _f1_eps_in_numerator,
        _f1_upcast,
        _f1_numpy,
        _f1_accumulator_float32,
    ],
    "soft_accuracy": [
        _accuracy_argmax,
        _accuracy_max_prob,
        _accuracy_log_prob,
        _accuracy_half_brier,
        _accuracy_sum,
        _accuracy_numpy,
        _accuracy_float32_total,
    ],
}


# ---------------------------------------------------------------------------------------------
# Correct variants
# ---------------------------------------------------------------------------------------------


def _soft_f1_sums(probs, targets, eps=1e-7):
    """Uses 2TP + FP + FN = Σp + Σt, on flattened inputs."""
    p, t = probs.reshape(-1), targets.reshape(-1)
    return 1 - 2 * (p @ t) / (p.sum() + t.sum() + eps)


def _soft_accuracy_gather(probs, labels):
    """torch.gather, result of shape (1,)."""
    return probs.gather(1, labels[:, None]).mean().reshape(1)


CORRECT_VARIANTS = {
    "soft_f1_loss": [_soft_f1_sums, _soft_f1_loop],
    "soft_accuracy": [_soft_accuracy_gather],
}
