"""Kernel logistic regression in its representer-theorem form, and the soft-margin SVM as an
L2-regularised hinge loss.

By the representer theorem the minimiser of an L2-regularised loss over w lies in the span of
the (feature-mapped) training points, w = Σ_n α_n z_n, so w·z(x) = Σ_n α_n k(x_n, x) and
‖w‖² = αᵀ K α: the problem becomes one over α that only needs the kernel matrix K.
"""

import numpy as np
import torch
import torch.nn.functional as F

from studycli.assertions import (
    assert_close,
    call,
    describe,
    expect_pair,
    expect_tensor,
    fails_with,
    forbid,
    tensor_or_float,
)

# ---------------------------------------------------------------------------------------------
# References
# ---------------------------------------------------------------------------------------------


def _softplus_stable(t):
    """log(1 + exp(t)) without overflow: max(t, 0) + log1p(exp(-|t|))."""
    return torch.clamp(t, min=0) + torch.log1p(torch.exp(-t.abs()))


def klr_objective(alpha, K, y, lam: float):
    """L2-regularised logistic regression
    in feature space, as a function of α.

    The objective (λ/N) wᵀw + (1/N) Σ_n log(1 + exp(-y_n wᵀΦ(x_n)))
    evaluated at w = Σ_m α_m Φ(x_m), computed from the kernel matrix
    K[n, m] = Φ(x_n)ᵀΦ(x_m) alone. It must stay finite when the scores are
    in the thousands.

    Args:
        alpha: (N,) coefficients α.
        K: (N, N) symmetric positive semi-definite kernel matrix,
            K[n, m] = k(x_n, x_m).
        y: (N,) labels, -1.0 or +1.0 (float).
        lam: λ >= 0.

    Returns:
        E(α) as a 0-d tensor or a Python float.
    """
    # w = Σ α_m Φ(x_m) gives the scores wᵀΦ(x_n) = (Kα)_n and wᵀw = αᵀKα.
    N = alpha.shape[0]
    f = K @ alpha
    data = _softplus_stable(-y * f).sum() / N
    reg = lam / N * (alpha @ K @ alpha)
    return reg + data


def klr_loss_grad(alpha, K, y, lam: float):
    """Kernel logistic regression: the objective
    and its gradient with respect to α.

    With scores f = K α and labels y_n in {-1, +1}:

        E(α) = (λ/N) αᵀ K α + (1/N) Σ_n log(1 + exp(-y_n f_n))

    Compute E and ∇E by hand (no autograd); both must stay finite for |f|
    in the thousands.

    Args:
        alpha: (N,) coefficients α.
        K: (N, N) symmetric positive semi-definite kernel matrix.
        y: (N,) labels, -1.0 or +1.0 (float).
        lam: λ >= 0.

    Returns:
        (loss, grad): loss a 0-d tensor or Python float, grad an (N,)
        tensor.
    """
    N = alpha.shape[0]
    f = K @ alpha
    margin = y * f
    loss = lam / N * (alpha @ K @ alpha) + _softplus_stable(-margin).sum() / N
    # d/df_n log(1 + exp(-y_n f_n)) = -y_n sigmoid(-y_n f_n); sigmoid written stably.
    e = torch.exp(-margin.abs())
    sig_neg = torch.where(margin >= 0, e / (1 + e), 1 / (1 + e))
    dloss_df = -y * sig_neg / N
    grad = 2 * lam / N * (K @ alpha) + K.T @ dloss_df
    return loss, grad


def svm_hinge_objective(w, b, X, y, C: float = 1.0):
    """The soft-margin SVM primal objective at
    (w, b), the slack variables eliminated.

    That is the minimum over ξ of 1/2 ‖w‖² + C Σ_n ξ_n subject to
    y_n (w·x_n + b) >= 1 - ξ_n and ξ_n >= 0, for the given w and b.

    Args:
        w: (d,) weights.
        b: the bias, a Python float or a 0-d tensor.
        X: (N, d) inputs.
        y: (N,) labels, -1.0 or +1.0 (float).
        C: the weight of the slack (hinge) term.

    Returns:
        J as a 0-d tensor or a Python float.
    """
    # The smallest feasible slack is the hinge: ξ_n = max(0, 1 - y_n (w·x_n + b)).
    margins = y * (X @ w + b)
    slack = torch.clamp(1 - margins, min=0)
    return 0.5 * (w @ w) + C * slack.sum()


# ---------------------------------------------------------------------------------------------
# Checkers
# ---------------------------------------------------------------------------------------------


def _problem(rng, N, d, device, scale=1.0):
    X = rng.normal(size=(N, d))
    sq = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    K = np.exp(-sq / (2 * d))  # Gaussian (RBF) kernel: symmetric, positive semi-definite
    y = np.where(rng.random(N) < 0.5, -1.0, 1.0)
    alpha = rng.normal(size=N) * scale
    as_t = lambda a: torch.tensor(a, dtype=torch.float64, device=device)  # noqa: E731
    return as_t(alpha), as_t(K), as_t(y)


def _klr_truth(alpha, K, y, lam):
    """Loss from F.softplus, gradient from autograd."""
    a = alpha.detach().clone().requires_grad_(True)
    N = a.shape[0]
    loss = lam / N * (a @ K @ a) + F.softplus(-y * (K @ a)).sum() / N
    loss.backward()
    return loss.detach(), a.grad.detach()


def _klr_cases(device):
    rng = np.random.default_rng(0)
    cases = []
    for N, d in ((1, 2), (2, 3), (5, 2), (16, 4), (64, 3)):
        for lam in (0.0, 0.1, 2.0):
            cases.append((*_problem(rng, N, d, device), lam, "random"))
    for N in (4, 20):  # huge scores: exp(-y f) overflows in a naive formula
        cases.append((*_problem(rng, N, 3, device, scale=3000.0), 0.5, "large scores"))
    # A hand case: K = I, α = 0 gives f = 0 and E = log 2.
    eye = torch.eye(3, dtype=torch.float64, device=device)
    cases.append(
        (
            torch.zeros(3, dtype=torch.float64, device=device),
            eye,
            torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64, device=device),
            1.0,
            "alpha = 0",
        )
    )
    return cases


_KLR_HINT = (
    "E = (λ/N) αᵀKα + (1/N) Σ log(1 + exp(-y f)) with f = Kα; compute log(1 + exp(t)) "
    "as max(t, 0) + log1p(exp(-|t|)) so large scores do not overflow"
)


def _klr_known_values(alpha, K, y, lam):
    """The objective and gradient of the classic mistakes, in float64 numpy."""
    a, k, yy = (t.detach().cpu().double().numpy() for t in (alpha, K, y))
    N = len(a)
    f = k @ a
    m = yy * f
    data = np.logaddexp(0.0, -m)
    sig_neg = np.exp(-np.logaddexp(0.0, m))  # sigmoid(-m)
    sig_pos = np.exp(-np.logaddexp(0.0, -m))  # sigmoid(m)
    reg_grad = 2 * lam / N * (k @ a)
    loss = {
        "right": lam / N * (a @ k @ a) + data.mean(),
        "plain_l2": lam / N * (a @ a) + data.mean(),
        "sum": lam / N * (a @ k @ a) + data.sum(),
    }
    grad = {
        "right": reg_grad - k @ (yy * sig_neg) / N,
        "sigmoid_sign": reg_grad - k @ (yy * sig_pos) / N,
        "missing_two": reg_grad / 2 - k @ (yy * sig_neg) / N,
        "without_kernel": reg_grad - yy * sig_neg / N,
    }
    return loss, grad


def _close(got, value) -> bool:
    got = np.asarray(got.detach().cpu() if isinstance(got, torch.Tensor) else got, dtype=float)
    value = np.asarray(value, dtype=float)
    return got.shape == value.shape and bool(np.allclose(got, value, rtol=1e-7, atol=1e-10))


_FLOAT32 = (
    "right to about 7 digits only, as float32 arithmetic gives: compute in the inputs' float64 "
    "(no .float(), no float32 tensors made along the way)"
)


def _digits_lost(got, right) -> bool:
    """Whether `got` is the right value to float32's precision but not to the checks' (rtol
    1e-9: `_close`'s 1e-7 is looser than float32's rounding of a few operations)."""
    got = np.asarray(got.detach().cpu() if isinstance(got, torch.Tensor) else got, dtype=float)
    return (
        got.shape == np.shape(right)
        and bool(np.allclose(got, right, rtol=1e-5, atol=1e-7))
        and not np.allclose(got, right, rtol=1e-9, atol=1e-12)
    )


def _is_mistake(got, known: dict, name: str) -> bool:
    """Whether `got` is the value of the mistake `name` and that value is not the right one
    too: where a case cannot tell them apart (λ = 0 hides the regulariser), an answer off in
    its last digits (float32 arithmetic) was named as that mistake."""
    return _close(got, known[name]) and not _close(known["right"], known[name])


_OVERFLOW = (
    "the value overflowed: log(1 + exp(t)) computed literally is inf for t in the hundreds; "
    "write it as max(t, 0) + log1p(exp(-|t|))"
)


def _klr_loss_hint(got, alpha, K, y, lam):
    if not np.isfinite(float(got)):
        return _OVERFLOW
    loss, _ = _klr_known_values(alpha, K, y, lam)
    if _digits_lost(got, loss["right"]):
        return _FLOAT32
    if _is_mistake(got, loss, "plain_l2"):
        return "that regularises ‖α‖²; the model's ‖w‖² is αᵀKα"
    if _is_mistake(got, loss, "sum"):
        return "the data term is summed over the samples; the objective averages it (1/N)"
    return _KLR_HINT


def _klr_grad_hint(got, alpha, K, y, lam):
    grad_np = np.asarray(got.detach().cpu() if isinstance(got, torch.Tensor) else got, dtype=float)
    if not np.all(np.isfinite(grad_np)):
        return (
            _OVERFLOW
            + "; the same goes for the sigmoid (never exponentiate a large positive number)"
        )
    _, grad = _klr_known_values(alpha, K, y, lam)
    if _digits_lost(got, grad["right"]):
        return _FLOAT32
    if _is_mistake(got, grad, "sigmoid_sign"):
        return "d/dm log(1 + exp(-m)) = -sigmoid(-m): the sigmoid of -y f, not of y f"
    if _is_mistake(got, grad, "missing_two"):
        return "the gradient of αᵀKα is 2Kα, not Kα"
    if _is_mistake(got, grad, "without_kernel"):
        return "that is the gradient with respect to f; chain rule through f = Kα: multiply by K"
    return (
        "∇E = (2λ/N) K α - (1/N) K (y ⊙ sigmoid(-y ⊙ f)); the sigmoid of -y f, not of y f, "
        "and a stable sigmoid for large |f|"
    )


def check_klr_objective(impl, device="cpu") -> None:
    """Against F.softplus in float64, including scores in the thousands."""
    for alpha, K, y, lam, label in _klr_cases(device):
        what = (
            f"klr_objective(alpha={describe(alpha)}, K={describe(K)}, y={describe(y)}, lam={lam})"
        )
        if label != "random":
            what += f"  [{label}]"
        got = tensor_or_float(call(impl, what, alpha, K, y, lam), what)
        want, _ = _klr_truth(alpha, K, y, lam)
        assert_close(
            got, want, what, rtol=1e-9, atol=1e-12, hint=_klr_loss_hint(got, alpha, K, y, lam)
        )


def check_klr_loss_grad(impl, device="cpu") -> None:
    """Loss against F.softplus, gradient against autograd, in float64, large scores included."""
    # The card asks for the gradient by hand: autograd (torch.autograd.grad, .backward(),
    # torch.func) would answer it without the chain rule through f = Kα it teaches.
    impl = forbid(
        impl,
        "grad",
        "backward",
        "make_dual",  # (forward mode: torch.func.jvp, jacfwd, forward_ad's duals)
        "unpack_dual",
        reason="compute ∇E by hand, as the card asks (the chain rule through f = Kα), not "
        "with autograd",
    )
    for alpha, K, y, lam, label in _klr_cases(device):
        what = (
            f"klr_loss_grad(alpha={describe(alpha)}, K={describe(K)}, y={describe(y)}, lam={lam})"
        )
        if label != "random":
            what += f"  [{label}]"
        result = call(impl, what, alpha.clone(), K, y, lam)
        loss, grad = expect_pair(result, ("loss", "grad"), what)
        want_loss, want_grad = _klr_truth(alpha, K, y, lam)
        loss = tensor_or_float(loss, what + " -> loss")
        assert_close(
            loss,
            want_loss,
            what + " -> loss",
            rtol=1e-9,
            atol=1e-12,
            hint=_klr_loss_hint(loss, alpha, K, y, lam),
        )
        expect_tensor(grad, what + " -> grad")  # (assert_close took a numpy array)
        assert_close(
            grad,
            want_grad,
            what + " -> grad",
            rtol=1e-8,
            atol=1e-12,
            hint=_klr_grad_hint(grad, alpha, K, y, lam),
        )


def _svm_hint(got, w, b, X, y, C, default):
    """Name the classic mistake whose objective matches the learner's, if one does."""
    m = y * (X @ w + b)
    ww = float(w @ w)
    hinge = np.maximum(0.0, 1.0 - m)
    known = [
        (0.5 * (ww + b * b) + C * hinge.sum(), "the bias is regularised too; only ‖w‖² is"),
        (
            0.5 * ww + C * (1.0 - m).sum(),
            "the max(0, ·) is missing: points beyond the margin "
            "must cost nothing, not earn a negative loss",
        ),
        (ww + C * hinge.sum(), "the 1/2 in front of ‖w‖² is missing"),
        (0.5 * ww + C * (hinge**2).sum(), "the hinge is squared (that is the L2-SVM)"),
        (
            0.5 * ww + C * np.maximum(0.0, -m).sum(),
            "that is max(0, -y s), the perceptron loss: "
            "the hinge has a margin of 1, max(0, 1 - y s)",
        ),
    ]
    return next((text for value, text in known if _close(got, value)), default)


def check_svm_hinge_objective(impl, device="cpu") -> None:
    """Against ½‖w‖² + C Σ ξ_n with ξ_n the smallest slack meeting y_n(w·x_n + b) >= 1 - ξ_n, ξ_n >= 0."""
    rng = np.random.default_rng(0)
    hint = (
        "J = 1/2 ‖w‖² + C Σ max(0, 1 - y(w·x + b)): points beyond the margin cost nothing, "
        "and b is not penalised"
    )
    cases = []
    # Hand case: w = (1, 0), b = 0.25; margins 2.25, 0.25, -1.25 -> slacks 0, 0.75, 2.25, so
    # J = 0.5 + 3 = 3.5. Every classic mistake gives a different number here.
    cases.append(([1.0, 0.0], 0.25, [[2.0, 1.0], [0.0, 3.0], [1.0, -1.0]], [1.0, 1.0, -1.0], 1.0))
    for N, d in ((1, 1), (3, 2), (10, 3), (50, 5), (200, 8)):
        for C in (0.1, 1.0, 10.0):
            cases.append(
                (
                    list(rng.normal(size=d)),
                    float(rng.normal() * 2),
                    rng.normal(size=(N, d)).tolist(),
                    np.where(rng.random(N) < 0.5, -1.0, 1.0).tolist(),
                    C,
                )
            )
    for w, b, X, y, C in cases:
        wt, Xt, yt = (torch.tensor(a, dtype=torch.float64, device=device) for a in (w, X, y))
        what = f"svm_hinge_objective(w={describe(wt)}, b={b:.4g}, X={describe(Xt)}, y={describe(yt)}, C={C})"
        got = tensor_or_float(call(impl, what, wt, b, Xt, yt, C), what)
        wn, Xn, yn = np.array(w), np.array(X), np.array(y)
        slack = np.array([max(0.0, 1.0 - yi * (xi @ wn + b)) for xi, yi in zip(Xn, yn)])
        want = 0.5 * float(wn @ wn) + C * slack.sum()
        assert_close(
            got, want, what, rtol=1e-9, atol=1e-12, hint=_svm_hint(got, wn, b, Xn, yn, C, hint)
        )
    # b as a 0-d tensor, and the default C = 1.
    wt = torch.tensor([0.5, -1.0], dtype=torch.float64, device=device)
    Xt = torch.tensor([[1.0, 1.0], [2.0, -1.0]], dtype=torch.float64, device=device)
    yt = torch.tensor([-1.0, 1.0], dtype=torch.float64, device=device)
    b = torch.tensor(0.25, dtype=torch.float64, device=device)
    what = f"svm_hinge_objective(w={describe(wt)}, b={describe(b)}, X={describe(Xt)}, y={describe(yt)})"
    # margins: -1 * (0.5 - 1 + 0.25) = 0.25 -> 0.75; 1 * (1 + 1 + 0.25) = 2.25 -> 0.
    assert_close(
        tensor_or_float(call(impl, what, wt, b, Xt, yt), what),
        0.5 * 1.25 + 0.75,
        what,
        rtol=1e-9,
        hint=hint,
    )


# ---------------------------------------------------------------------------------------------
# Wrong answers
# ---------------------------------------------------------------------------------------------


@fails_with("the value overflowed")
def _klr_naive_log(alpha, K, y, lam):
    """log(1 + exp(-y f)) written literally: overflows to inf for large scores."""
    N = alpha.shape[0]
    f = K @ alpha
    return lam / N * (alpha @ K @ alpha) + torch.log(1 + torch.exp(-y * f)).sum() / N


@fails_with("that regularises ‖α‖²")
def _klr_plain_l2(alpha, K, y, lam):
    """Regularises ‖α‖² instead of ‖w‖² = αᵀKα."""
    N = alpha.shape[0]
    return lam / N * (alpha @ alpha) + _softplus_stable(-y * (K @ alpha)).sum() / N


@fails_with("the data term is summed")
def _klr_sum_not_mean(alpha, K, y, lam):
    """Sums the data term over samples but keeps λ/N on the regulariser."""
    N = alpha.shape[0]
    return lam / N * (alpha @ K @ alpha) + _softplus_stable(-y * (K @ alpha)).sum()


@fails_with("the sigmoid of -y f, not of y f")
def _klr_grad_sigmoid_sign(alpha, K, y, lam):
    """Gradient uses sigmoid(y f) where sigmoid(-y f) belongs."""
    N = alpha.shape[0]
    f = K @ alpha
    loss = lam / N * (alpha @ K @ alpha) + _softplus_stable(-y * f).sum() / N
    grad = 2 * lam / N * (K @ alpha) + K @ (-y * torch.sigmoid(y * f)) / N
    return loss, grad


@fails_with("the gradient of αᵀKα is 2Kα")
def _klr_grad_missing_two(alpha, K, y, lam):
    """Gradient of αᵀKα taken as Kα (the factor 2 is lost)."""
    N = alpha.shape[0]
    f = K @ alpha
    loss = lam / N * (alpha @ K @ alpha) + _softplus_stable(-y * f).sum() / N
    grad = lam / N * (K @ alpha) + K @ (-y * torch.sigmoid(-y * f)) / N
    return loss, grad


@fails_with("the value overflowed")
def _klr_grad_naive(alpha, K, y, lam):
    """Literal formulas: exp(-y f) overflows, so the loss is inf and the gradient NaN."""
    N = alpha.shape[0]
    f = K @ alpha
    e = torch.exp(-y * f)
    loss = lam / N * (alpha @ K @ alpha) + torch.log(1 + e).sum() / N
    grad = 2 * lam / N * (K @ alpha) + K @ (-y * e / (1 + e)) / N
    return loss, grad


@fails_with("chain rule through f = Kα")
def _klr_grad_without_kernel(alpha, K, y, lam):
    """Differentiates with respect to f instead of α (forgets the chain rule through K)."""
    N = alpha.shape[0]
    f = K @ alpha
    loss = lam / N * (alpha @ K @ alpha) + _softplus_stable(-y * f).sum() / N
    grad = 2 * lam / N * (K @ alpha) + (-y * torch.sigmoid(-y * f)) / N
    return loss, grad


@fails_with("the bias is regularised too")
def _svm_regularises_bias(w, b, X, y, C=1.0):
    """Penalises the bias too: 1/2 (‖w‖² + b²)."""
    slack = torch.clamp(1 - y * (X @ w + b), min=0)
    return 0.5 * (w @ w + b * b) + C * slack.sum()


@fails_with("the max(0, ·) is missing")
def _svm_no_max(w, b, X, y, C=1.0):
    """Drops the max(0, ·): points far beyond the margin give negative loss."""
    return 0.5 * (w @ w) + C * (1 - y * (X @ w + b)).sum()


@fails_with("the 1/2 in front of ‖w‖² is missing")
def _svm_no_half(w, b, X, y, C=1.0):
    """‖w‖² without the 1/2."""
    return (w @ w) + C * torch.clamp(1 - y * (X @ w + b), min=0).sum()


@fails_with("the hinge is squared")
def _svm_squared_hinge(w, b, X, y, C=1.0):
    """Squares the hinge (the L2-SVM), a different objective."""
    return 0.5 * (w @ w) + C * (torch.clamp(1 - y * (X @ w + b), min=0) ** 2).sum()


@fails_with("the perceptron loss")
def _svm_zero_one_margin(w, b, X, y, C=1.0):
    """max(0, -y(w·x + b)): the perceptron loss, with no margin of 1."""
    return 0.5 * (w @ w) + C * torch.clamp(-y * (X @ w + b), min=0).sum()


@fails_with("as float32 arithmetic gives")
def _klr_objective_float32(alpha, K, y, lam: float):
    """The right formula computed in float32: the value to about 7 digits."""
    return klr_objective(alpha.float(), K.float(), y.float(), lam).double()


@fails_with("compute ∇E by hand, as the card asks")
def _klr_grad_autograd(alpha, K, y, lam):
    """The stable loss, and its gradient from torch.autograd.grad instead of by hand."""
    a = alpha.detach().clone().requires_grad_(True)
    N = a.shape[0]
    loss = lam / N * (a @ K @ a) + F.softplus(-(y * (K @ a))).sum() / N
    (grad,) = torch.autograd.grad(loss, a)
    return loss.detach(), grad


@fails_with("the answer calls _make_dual, _unpack_dual: compute ∇E by hand")
def _klr_grad_forward_mode(alpha, K, y, lam):
    """The gradient from forward-mode autograd, one torch.func.jvp per coordinate: autograd
    all the same (a checker that refused grad and backward only let it pass)."""
    N = alpha.shape[0]

    def loss(a):
        return lam / N * (a @ K @ a) + F.softplus(-(y * (K @ a))).sum() / N

    units = torch.eye(N, dtype=alpha.dtype, device=alpha.device)
    grad = torch.stack([torch.func.jvp(loss, (alpha,), (unit,))[1] for unit in units])
    return loss(alpha), grad


@fails_with("-> grad: returned a numpy array")
def _klr_grad_numpy(alpha, K, y, lam):
    """The right loss and gradient computed in numpy (logaddexp, a stable sigmoid), the
    gradient returned as the numpy array, not the (N,) tensor the card asks for."""
    a, k, t = (v.detach().cpu().numpy() for v in (alpha, K, y))
    n = a.shape[0]
    margin = t * (k @ a)
    loss = lam / n * (a @ k @ a) + np.logaddexp(0.0, -margin).sum() / n
    sig_neg = np.exp(-np.logaddexp(0.0, margin))  # sigmoid(-margin), stable
    grad = 2 * lam / n * (k @ a) + k.T @ (-t * sig_neg / n)
    return float(loss), grad


@fails_with("-> loss: returned a numpy array(")
def _klr_loss_numpy(alpha, K, y, lam):
    """The right gradient, with the loss as `.numpy()` of the right 0-d tensor: a 0-d numpy
    array, neither the 0-d tensor nor the float promised."""
    loss, grad = klr_loss_grad(alpha, K, y, lam)
    return torch.as_tensor(loss).detach().cpu().numpy(), grad


@fails_with("returned a numpy array(")
def _klr_objective_numpy(alpha, K, y, lam: float):
    """Returns `.numpy()` of the right objective: a 0-d numpy array.

    Neither the 0-d tensor nor the float promised."""
    return klr_objective(alpha, K, y, lam).detach().cpu().numpy()


@fails_with("returned a numpy array(")
def _svm_numpy(w, b, X, y, C=1.0):
    """Returns `.numpy()` of the right objective: a 0-d numpy array.

    Neither the 0-d tensor nor the float promised."""
    return svm_hinge_objective(w, b, X, y, C).detach().cpu().numpy()


WRONG_ANSWERS = {
    "klr_objective": [
        _klr_naive_log,
        _klr_plain_l2,
        _klr_sum_not_mean,
        _klr_objective_float32,
        _klr_objective_numpy,
    ],
    "klr_loss_grad": [
        _klr_grad_autograd,
        _klr_grad_forward_mode,
        _klr_grad_sigmoid_sign,
        _klr_grad_missing_two,
        _klr_grad_naive,
        _klr_grad_without_kernel,
        _klr_grad_numpy,
        _klr_loss_numpy,
    ],
    "svm_hinge_objective": [
        _svm_regularises_bias,
        _svm_no_max,
        _svm_no_half,
        _svm_squared_hinge,
        _svm_zero_one_margin,
        _svm_numpy,
    ],
}


# ---------------------------------------------------------------------------------------------
# Correct variants
# ---------------------------------------------------------------------------------------------


def _klr_objective_logaddexp(alpha, K, y, lam):
    """log(1 + exp(t)) as logaddexp(0, t), returning a Python float."""
    N = alpha.shape[0]
    f = K @ alpha
    t = -y * f
    return float(lam / N * (alpha @ K @ alpha) + torch.logaddexp(torch.zeros_like(t), t).mean())


def _klr_loss_grad_numpy(alpha, K, y, lam):
    """numpy with a list return, gradient via the logistic function 1/(1 + exp(m)) clipped."""
    a, k, yy = (t.detach().cpu().numpy() for t in (alpha, K, y))
    N = a.shape[0]
    f = k @ a
    m = yy * f
    loss = lam / N * a @ k @ a + np.logaddexp(0.0, -m).mean()
    sig_neg = np.exp(-np.logaddexp(0.0, m))  # sigmoid(-m) = 1 / (1 + exp(m))
    grad = 2 * lam / N * (k @ a) - k @ (yy * sig_neg) / N
    return [float(loss), torch.tensor(grad, device=alpha.device)]


def _svm_loop(w, b, X, y, C=1.0):
    """A Python loop over the samples."""
    total = 0.5 * float(w @ w)
    for xi, yi in zip(X, y):
        total += C * max(0.0, 1.0 - float(yi) * (float(xi @ w) + float(b)))
    return total


def _svm_numpy_float64(w, b, X, y, C=1.0):
    """numpy throughout, returning np.float64: a Python float (a subclass of it), as promised."""
    wn, Xn, yn = (t.detach().cpu().numpy() for t in (w, X, y))
    bn = float(b)
    return 0.5 * (wn @ wn) + C * np.maximum(0.0, 1.0 - yn * (Xn @ wn + bn)).sum()


CORRECT_VARIANTS = {
    "klr_objective": [_klr_objective_logaddexp],
    "klr_loss_grad": [_klr_loss_grad_numpy],
    "svm_hinge_objective": [_svm_loop, _svm_numpy_float64],
}
