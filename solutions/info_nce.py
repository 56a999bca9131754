"""InfoNCE: the contrastive loss of CPC / MoCo / SimCLR, and the mutual-information lower bound
log N - L_N that it gives."""

import math

import torch
import torch.nn.functional as F

from studycli.assertions import (
    GRAPH_HINT,
    assert_close,
    call,
    call_unchanged,
    describe,
    dtype_name,
    expect,
    expect_tensor,
    fails_with,
    likely_mistake,
    tensor_or_float,
)


def info_nce(queries, keys, temperature: float = 0.07):
    """The InfoNCE loss with in-batch negatives.

    Row i of keys is the positive for row i of queries; every other row of
    keys is a negative. With logits
    s_ij = queries[i] · keys[j] / temperature,

        loss = mean over i of  -log( exp(s_ii) / Σ_j exp(s_ij) )

    The vectors are used as given (no normalisation inside) and left
    unchanged. The result must stay finite and accurate when the logits
    are in the hundreds or thousands.

    Args:
        queries: tensor of shape (N, D).
        keys: tensor of shape (N, D).
        temperature: positive float dividing every logit.

    Returns:
        A scalar tensor in the inputs' dtype (differentiable with respect
        to queries and keys).
    """
    logits = queries @ keys.t() / temperature
    row_max = logits.max(dim=1, keepdim=True).values.detach()
    log_denominator = row_max.squeeze(1) + torch.log(torch.exp(logits - row_max).sum(dim=1))
    return (log_denominator - logits.diagonal()).mean()


def mi_lower_bound(scores):
    """The InfoNCE estimate of mutual information, I(X; C) >= log N - L_N.

    Row i belongs to context c_i and column j to candidate x_j:
    scores[i, j] = log f(x_j, c_i) is a critic's log-score. The diagonal
    holds the N positive (jointly drawn) pairs; the other N - 1 candidates
    of each row are negatives (drawn from the marginal of x).

        L_N = mean over i of
              -log( exp(scores[i, i]) / Σ_j exp(scores[i, j]) )
        bound = log N - L_N

    Args:
        scores: tensor of shape (N, N), contexts along rows, candidates
            along columns.

    Returns:
        The bound, a scalar (tensor or float), never above log N; scores
        is left unchanged.
    """
    n = scores.shape[0]
    row_max = scores.max(dim=1, keepdim=True).values
    log_denominator = row_max.squeeze(1) + torch.log(torch.exp(scores - row_max).sum(dim=1))
    loss = (log_denominator - scores.diagonal()).mean()
    return math.log(n) - loss


# --- checkers -------------------------------------------------------------------------------


def _truth(queries, keys, temperature):
    q, k = queries.detach().double(), keys.detach().double()
    logits = q @ k.t() / temperature
    return F.cross_entropy(logits, torch.arange(q.shape[0], device=q.device))


_HINT = (
    "logits = queries @ keys.T / temperature, no normalisation; cross-entropy of each row "
    "with target i (the diagonal), averaged over rows"
)


def _likely_mistake(got, known, default):
    return likely_mistake(got, known, default, rtol=1e-4, atol=1e-6)


def _known_mistakes(q, k, temperature):
    """What the common mistakes give on these inputs, each with the hint that names it."""
    q64, k64 = q.detach().double(), k.detach().double()
    target = torch.arange(q64.shape[0], device=q64.device)
    logits = q64 @ k64.t() / temperature
    return [
        (
            F.cross_entropy(logits, target, reduction="sum"),
            "average the per-row losses over the N queries; do not sum them",
        ),
        (
            F.cross_entropy(
                F.normalize(q64, dim=1) @ F.normalize(k64, dim=1).t() / temperature, target
            ),
            "use the vectors as given: no normalisation inside (the caller normalises)",
        ),
        (
            F.cross_entropy(logits.t(), target),
            "the softmax runs over the keys for each query (the rows of q k^T), not over the "
            "queries for each key",
        ),
        (
            F.cross_entropy(q64 @ k64.t() * temperature, target),
            "divide the logits by the temperature; do not multiply by it",
        ),
    ]


def _nonfinite_hint(q, k, temperature):
    """The hint for a loss that is nan or inf: exp overflowed, or underflowed to 0 across a row.

    A row whose every exp underflows to 0 (all its logits far below the max that was
    subtracted, e.g. one max for the whole matrix, not the row's own) gives 0/0 = nan, where
    no exp overflows at all; the remedy is the same.
    """
    logits = q.detach().double() @ k.detach().double().t() / temperature
    dtype = dtype_name(q)
    limit = math.floor(math.log(torch.finfo(q.dtype).max))
    underflow = (
        "a row whose every exp underflows to 0 (its logits all far below the max subtracted, "
        "e.g. one max for the whole matrix instead of the row's own) gives 0/0 = nan"
    )
    remedy = "subtract each row's own max logit before exp (log-sum-exp)"
    if float(logits.max()) < limit:
        return (
            f"exp underflowed (no logit here reaches {limit}, where exp overflows in "
            f"{dtype}): {underflow}; {remedy}"
        )
    return (
        f"exp overflowed (exp(s) is inf in {dtype} beyond s of about {limit}) or "
        f"underflowed: {underflow}; {remedy}"
    )


SAME_DTYPE = (
    "the loss comes back in the inputs' dtype (a float64 loss runs the backward pass in float64 "
    "too; compute in float64 if you like, then cast back)"
)


IN_PLACE_HINT = (
    "leave queries and keys as they came: divide the logits (or queries / temperature, a new "
    "tensor) by the temperature, not the caller's queries (queries /= temperature writes into "
    "them)"
)


def _compare(impl, q, k, temperature, hint=_HINT, default=False, tol=None):
    temp_text = "default temperature" if default else f"temperature={temperature:g}"
    what = f"info_nce(queries={describe(q)}, keys={describe(k)}, {temp_text})"
    args = (q.clone(), k.clone()) if default else (q.clone(), k.clone(), temperature)
    got = call_unchanged(impl, what, ("queries", "keys"), *args, hint=IN_PLACE_HINT)
    # (a numpy number has a shape, and no .numel(): the check crashed)
    expect_tensor(got, what, hint=GRAPH_HINT)
    expect(
        got.numel() == 1,
        what,
        f"returned {describe(got)}, expected a scalar tensor",
    )
    expect(
        getattr(got, "dtype", None) == q.dtype,
        what,
        f"returned {describe(got)} for {str(q.dtype)[6:]} embeddings: {SAME_DTYPE}",
    )
    if tol is None:
        tol = 1e-9 if q.dtype == torch.float64 else 2e-5
    if not bool(torch.isfinite(torch.as_tensor(got).detach()).all()):
        hint = _nonfinite_hint(q, k, temperature)
    else:
        hint = _likely_mistake(got.reshape(()), _known_mistakes(q, k, temperature), hint)
    assert_close(got.reshape(()), _truth(q, k, temperature), what, atol=tol, rtol=tol, hint=hint)


def check_info_nce(impl, device="cpu") -> None:
    # Hand examples: one pair is a loss of 0 (the positive is the only candidate);
    # orthogonal unit vectors at temperature 1 give log(1 + e^-1) per row.
    _compare(
        impl,
        torch.tensor([[0.3, -1.0]], device=device),
        torch.tensor([[2.0, 0.5]], device=device),
        0.5,
    )
    eye = torch.eye(2, device=device)
    _compare(impl, eye, eye, 1.0)
    # Logits (87, 20) and (-87, -20): no exp overflows in float32, but the second row lies far
    # below the first row's max, so exp(logit - global max) underflows to 0 across that row
    # (0/0); each row's own max keeps it finite. The loss is log(1 + e^-67) per row, about 0.
    _compare(
        impl,
        torch.tensor([[1.0], [-1.0]], device=device),
        torch.tensor([[87.0], [20.0]], device=device),
        1.0,
    )

    gen = torch.Generator().manual_seed(0)
    for n, d in [(1, 3), (2, 1), (3, 4), (8, 16), (33, 8), (128, 64)]:
        for temperature in (0.07, 0.2, 1.0, 3.0):
            # Rows with unequal norms: normalising inside would change the answer.
            scale = torch.exp(torch.randn(n, 1, generator=gen) * 0.5)
            q = (torch.randn(n, d, generator=gen) * scale / math.sqrt(d)).to(device)
            k = (q.cpu() + 0.5 * torch.randn(n, d, generator=gen) / math.sqrt(d)).to(device)
            _compare(impl, q, k, temperature)
            _compare(impl, q.double(), k.double(), temperature)

    # The default temperature is 0.07.
    q = torch.randn(6, 5, generator=gen).to(device)
    k = torch.randn(6, 5, generator=gen).to(device)
    _compare(impl, q, k, 0.07, default=True)

    # Large logits: unit vectors at temperature 0.01 (logits up to 100) and long vectors
    # (logits in the thousands). exp overflows float32 beyond about 88.
    q = F.normalize(torch.randn(16, 32, generator=gen), dim=1).to(device)
    k = F.normalize(q.cpu() + 0.8 * torch.randn(16, 32, generator=gen), dim=1).to(device)
    hint = "subtract each row's max logit before exp (log-sum-exp), or exp overflows to inf"
    _compare(impl, q, k, 0.01, hint=hint, tol=1e-4)
    _compare(impl, q * 30, k * 30, 0.07, hint=hint, tol=1e-3)

    # The loss must be differentiable, with the right gradient for queries and keys.
    q = torch.randn(10, 6, generator=gen, dtype=torch.float64).to(device)
    k = torch.randn(10, 6, generator=gen, dtype=torch.float64).to(device)
    q1, k1 = q.clone().requires_grad_(), k.clone().requires_grad_()
    what = "the gradient of info_nce(queries, keys, 0.5), shapes (10, 6)"
    loss = call(impl, what, q1, k1, 0.5)
    expect(
        getattr(loss, "requires_grad", False),
        what,
        "the loss carries no gradient (computed outside autograd, with .item() or numpy?)",
    )
    loss.reshape(()).backward()
    q2, k2 = q.clone().requires_grad_(), k.clone().requires_grad_()
    F.cross_entropy(q2 @ k2.t() / 0.5, torch.arange(10, device=device)).backward()
    expect(q1.grad is not None and k1.grad is not None, what, "no gradient reached queries or keys")
    assert_close(q1.grad, q2.grad, what + " with respect to queries", atol=1e-9, rtol=1e-7)
    assert_close(k1.grad, k2.grad, what + " with respect to keys", atol=1e-9, rtol=1e-7)


SCORES_IN_PLACE_HINT = (
    "leave scores as they came (scores - row_max makes a new tensor; scores -= row_max writes "
    "into the caller's): the caller still holds them"
)


def _bound_value(got, what: str) -> float:
    """The bound an answer returned, as a float: a one-element tensor or a float (np.float64,
    a Python float, too); a numpy array (`.numpy()` of the tensor) fails as the scalar it is
    not."""
    if isinstance(got, torch.Tensor):
        expect(got.numel() == 1, what, f"returned {describe(got)}, expected a scalar")
        return float(got.reshape(()))
    return tensor_or_float(got, what)


def check_mi_lower_bound(impl, device="cpu") -> None:
    def compare(scores, hint=""):
        n = scores.shape[0]
        what = f"mi_lower_bound(scores={describe(scores)})"
        got = call_unchanged(impl, what, ("scores",), scores.clone(), hint=SCORES_IN_PLACE_HINT)
        value = _bound_value(got, what)
        s = scores.double()
        want = math.log(n) - F.cross_entropy(s, torch.arange(n, device=s.device)).item()
        s64 = s.cpu()  # the scores in float64
        diag = s64.diagonal()
        masked = s64.masked_fill(torch.eye(n, dtype=torch.bool), float("-inf"))
        known = [
            (
                want - math.log(n),  # -L_N
                "add log N: the bound is log N - L_N, not -L_N",
            ),
            (
                math.log(max(n - 1, 1)) - (math.log(n) - want),
                "N counts all the candidates, the positive included: log N, not log(N - 1)",
            ),
            (
                math.log(n) - float((torch.logsumexp(masked, dim=1) - diag).mean()),
                "the softmax denominator includes the positive itself, not only the negatives",
            ),
        ]
        hint = _likely_mistake(value, known, hint)
        assert_close(value, want, what, atol=1e-5, rtol=1e-5, hint=hint)
        expect(
            value <= math.log(n) + 1e-6,
            what,
            f"returned {value:.6g}, above log N = {math.log(n):.6g}",
            hint="InfoNCE can never certify more than log N nats",
        )
        return value

    hint = (
        "bound = log N - L_N: N counts the positive and the N - 1 negatives; L_N's softmax "
        "denominator includes the positive"
    )
    # One pair: no negatives, nothing learned about dependence: the bound is 0.
    compare(torch.tensor([[3.0]], device=device), hint=hint)
    # All scores equal: the critic tells nothing apart, bound 0.
    compare(torch.zeros(5, 5, device=device), hint=hint)
    # A perfect critic (huge diagonal) reaches, but never passes, log N.
    compare(torch.eye(8, device=device) * 1000.0, hint=hint + "; use log-sum-exp for large scores")

    gen = torch.Generator().manual_seed(0)
    for n in (2, 3, 10, 64, 257):
        scores = (torch.randn(n, n, generator=gen) + 3 * torch.eye(n)).to(device)
        base = compare(scores, hint=hint)
        compare(scores.double(), hint=hint)
        # Adding a constant per row (a function of the context c_i alone) cannot change the bound.
        shift = (torch.randn(n, 1, generator=gen) * 50).to(device)
        what = (
            f"mi_lower_bound(scores + a[:, None]) for an (N={n}) score matrix and a per-row shift a"
        )
        shifted = _bound_value(call(impl, what, scores + shift), what)
        assert_close(
            shifted,
            base,
            what,
            atol=1e-4,
            rtol=1e-5,
            hint="the softmax over j is unchanged by adding the same constant to row i",
        )


# --- wrong answers --------------------------------------------------------------------------


@fails_with("no normalisation inside")
def _wrong_normalises(queries, keys, temperature=0.07):
    """L2-normalises queries and keys inside (the contract uses them as given)."""
    q, k = F.normalize(queries, dim=1), F.normalize(keys, dim=1)
    return F.cross_entropy(q @ k.t() / temperature, torch.arange(q.shape[0], device=q.device))


@fails_with("over the keys for each query")
def _wrong_transposed(queries, keys, temperature=0.07):
    """Takes the softmax over the queries for each key (the columns) instead of over the keys."""
    logits = keys @ queries.t() / temperature
    return F.cross_entropy(logits, torch.arange(queries.shape[0], device=queries.device))


@fails_with("divide the logits by the temperature")
def _wrong_times_temperature(queries, keys, temperature=0.07):
    """Multiplies the logits by the temperature instead of dividing."""
    logits = queries @ keys.t() * temperature
    return F.cross_entropy(logits, torch.arange(queries.shape[0], device=queries.device))


@fails_with("exp overflowed")
def _wrong_naive_exp(queries, keys, temperature=0.07):
    """Computes log(exp(s_ii) / Σ_j exp(s_ij)) directly: exp overflows for large logits."""
    e = torch.exp(queries @ keys.t() / temperature)
    return -torch.log(e.diagonal() / e.sum(dim=1)).mean()


@fails_with("exp underflowed")
def _wrong_global_max(queries, keys, temperature=0.07):
    """Subtracts one max for the whole logit matrix, not each row's own: a row far below it
    underflows to all zeros, and 0/0 is nan."""
    logits = queries @ keys.t() / temperature
    e = torch.exp(logits - logits.max())
    return -torch.log(e.diagonal() / e.sum(dim=1)).mean()


@fails_with("do not sum them")
def _wrong_sum_over_rows(queries, keys, temperature=0.07):
    """Sums the per-row losses instead of averaging them."""
    logits = queries @ keys.t() / temperature
    return F.cross_entropy(
        logits, torch.arange(queries.shape[0], device=queries.device), reduction="sum"
    )


@fails_with("returned a numpy array(")
def _wrong_numpy(queries, keys, temperature=0.07):
    """Computes the loss with numpy and returns numpy's number, not the tensor promised."""
    import numpy as np  # (here, not at the top: the starters show the module's imports)

    logits = queries.detach().cpu().numpy() @ keys.detach().cpu().numpy().T / temperature
    logits = logits - logits.max(axis=1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -np.diagonal(log_probs).mean()


@fails_with("add log N")
def _wrong_bound_no_log_n(scores):
    """Returns -L_N and forgets the log N term."""
    n = scores.shape[0]
    return -F.cross_entropy(scores, torch.arange(n, device=scores.device))


@fails_with("not log(N - 1)")
def _wrong_bound_log_n_minus_one(scores):
    """Uses log(N - 1), counting only the negatives."""
    n = scores.shape[0]
    return math.log(max(n - 1, 1)) - F.cross_entropy(scores, torch.arange(n, device=scores.device))


@fails_with("includes the positive itself")
def _wrong_bound_negatives_only(scores):
    """Leaves the positive out of the softmax denominator (sums over j != i only)."""
    n = scores.shape[0]
    masked = scores.masked_fill(torch.eye(n, dtype=torch.bool, device=scores.device), float("-inf"))
    loss = (torch.logsumexp(masked, dim=1) - scores.diagonal()).mean()
    return math.log(n) - loss


@fails_with("modified its input scores in place")
def _wrong_bound_shifts_in_place(scores):
    """Subtracts each row's max in place (scores -= row_max) for a stable log-sum-exp: the right
    bound, but the caller's scores are changed."""
    n = scores.shape[0]
    scores -= scores.max(dim=1, keepdim=True).values
    loss = (torch.log(torch.exp(scores).sum(dim=1)) - scores.diagonal()).mean()
    return math.log(n) - loss


@fails_with("modified its input queries in place")
def _wrong_scales_queries_in_place(queries, keys, temperature=0.07):
    """Divides the queries by the temperature in place (queries /= temperature: N x D divisions
    where the logits take N x N): the right loss, but the caller's queries are changed."""
    queries /= temperature
    logits = queries @ keys.t()
    return (torch.logsumexp(logits, dim=1) - logits.diagonal()).mean()


@fails_with("the loss comes back in the inputs' dtype")
def _wrong_upcast(queries, keys, temperature=0.07):
    """Computes in float64 (queries.double(), ...) and returns a float64 loss for float32
    inputs."""
    return info_nce(queries.double(), keys.double(), temperature)


@fails_with("torch.tensor(...) of their numbers carries no gradient")
def _wrong_list_of_item(queries, keys, temperature=0.07):
    """Returns [loss.item()]: the right number, in a list, off the autograd graph (the hint was
    to convert it with torch.tensor(values), which gives a loss without a gradient)."""
    return [info_nce(queries, keys, temperature).item()]


@fails_with("returned a numpy array(")
def _wrong_bound_numpy(scores):
    """Returns `.numpy()` of the right bound: a 0-d numpy array.

    Neither the 0-d tensor nor the float promised."""
    return mi_lower_bound(scores).detach().cpu().numpy()


WRONG_ANSWERS = {
    "info_nce": [
        _wrong_upcast,
        _wrong_normalises,
        _wrong_transposed,
        _wrong_times_temperature,
        _wrong_naive_exp,
        _wrong_global_max,
        _wrong_sum_over_rows,
        _wrong_scales_queries_in_place,
        _wrong_numpy,
        _wrong_list_of_item,
    ],
    "mi_lower_bound": [
        _wrong_bound_no_log_n,
        _wrong_bound_log_n_minus_one,
        _wrong_bound_negatives_only,
        _wrong_bound_shifts_in_place,
        _wrong_bound_numpy,
    ],
}


# --- correct variants -----------------------------------------------------------------------


def _variant_log_softmax(queries, keys, temperature=0.07):
    """Uses log_softmax and picks the diagonal."""
    logp = torch.log_softmax(queries @ keys.t() / temperature, dim=1)
    return -logp.diagonal().mean()


def _variant_bound_float(scores):
    """Returns a Python float via logsumexp."""
    n = scores.shape[0]
    loss = (torch.logsumexp(scores, dim=1) - scores.diagonal()).mean()
    return math.log(n) - loss.item()


CORRECT_VARIANTS = {
    "info_nce": [_variant_log_softmax],
    "mi_lower_bound": [_variant_bound_float],
}
