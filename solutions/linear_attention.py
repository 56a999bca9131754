"""Linear attention ("Transformers are RNNs"): a feature map instead of softmax, then reassociate.

Cards: linear-attention (coding), linear-attention-associativity-derivation (derivation).
"""

import torch
import torch.nn.functional as F

from studycli.assertions import (
    assert_close,
    call,
    call_unchanged,
    describe,
    expect,
    fails_with,
    gpu_memory_budget,
    hinted,
)

# Long enough that an L x L matrix cannot be allocated (2^17 squared floats is 64 GiB), while
# the linear-time answer needs a few megabytes (right_first_product: one product, instant).
_LONG = 1 << 17
# linear_attention's long case: an L x L float32 matrix is 4 GiB, four times a learner's
# memory cap, where a chunked causal answer of a few thousand torch calls takes tens of ms (at
# 2^17, on a loaded machine, seconds). Quadratic work is measured, not timed: `_GROWTH`.
_LONG_ATTENTION = 1 << 15
# The tensor elements the answer's torch calls produce, at L and at 4 L: linear work grows 4x,
# L x L work (score strips over all keys, even a tile at a time) 16x. From 4096 up, chunks of
# up to ~1400 rows (a chunk's C x C scores) stay under the largest-tensor limit of L^2 / 8.
_GROWTH = (4096, 16384)
# right_first_product's pair: one product, so shorter lengths tell linear from quadratic work
# as well, and keep a strip-by-strip answer's check quick.
_GROWTH_PRODUCT = (1024, 4096)
# On a GPU large enough to hold that matrix, the peak allocation is measured instead: the linear
# answer's working set (a few (L, d, dv) prefix states at most) stays far below this.
_BUDGET_MB = 2048


def linear_attention(q, k, v, causal: bool = False, eps: float = 1e-6):
    """Linear attention with the feature map phi(x) = elu(x) + 1.

    out_i = phi(q_i) S / (phi(q_i) . z + eps), where
    S = sum_j phi(k_j)^T v_j (a d x dv matrix) and z = sum_j phi(k_j)
    (a d vector). Non-causal: the sums run over all j. Causal: over
    j <= i only. Never build the L x L matrix phi(q) phi(k)^T: the cost
    must be linear in L (the checker compares the work at two lengths and
    runs L = 32768).

    Args:
        q: (..., L, d) queries.
        k: (..., L, d) keys.
        v: (..., L, dv) values.
        causal: if True, position i uses keys and values j <= i only.
        eps: added to the denominator.

    Returns:
        (..., L, dv) outputs in the inputs' dtype.
    """
    phi_q = F.elu(q) + 1
    phi_k = F.elu(k) + 1
    if not causal:
        state = phi_k.transpose(-1, -2) @ v  # (..., d, dv)
        z = phi_k.sum(dim=-2)  # (..., d)
        num = phi_q @ state  # (..., L, dv)
        den = (phi_q * z.unsqueeze(-2)).sum(dim=-1, keepdim=True)  # (..., L, 1)
        return num / (den + eps)
    # Causal: prefix sums of the outer products phi(k_j)^T v_j and of phi(k_j).
    state = torch.cumsum(phi_k.unsqueeze(-1) * v.unsqueeze(-2), dim=-3)  # (..., L, d, dv)
    z = torch.cumsum(phi_k, dim=-2)  # (..., L, d)
    num = (phi_q.unsqueeze(-1) * state).sum(dim=-2)  # (..., L, dv)
    den = (phi_q * z).sum(dim=-1, keepdim=True)
    return num / (den + eps)


def right_first_product(phi_q, phi_k, v):
    """Unnormalised kernel attention (phi_q phi_k^T) v, in time and
    memory linear in N and M.

    The N x M matrix phi_q phi_k^T must never be built (the checker runs
    N = M = 131072).

    Args:
        phi_q: (..., N, r) query features.
        phi_k: (..., M, r) key features.
        v: (..., M, dv) values.

    Returns:
        (..., N, dv) in the inputs' dtype, equal to (phi_q @ phi_k^T) @ v.
    """
    # Associativity: (phi_q phi_k^T) v = phi_q (phi_k^T v), and phi_k^T v is only r x dv,
    # so the cost is O((N + M) r dv) instead of O(N M (r + dv)).
    return phi_q @ (phi_k.transpose(-1, -2) @ v)


# --- checker: linear_attention ----------------------------------------------------------------


def _phi64(x):
    x = x.double()
    return torch.where(x > 0, x + 1.0, torch.exp(x))  # elu(x) + 1, written out


def _explicit(q, k, v, causal, eps, phi=None, den_all=False, diagonal=0, eps_outside=False):
    """The O(L^2) definition: weights a_ij = phi(q_i) . phi(k_j), masked when causal.

    The keyword arguments give the outputs of typical mistakes, to name them in a message:
    another feature map, a causal normaliser over all keys, a mask that stops at j < i
    (diagonal=-1), eps added after the division.
    """
    phi = phi or _phi64
    a = phi(q) @ phi(k).transpose(-1, -2)
    den = a.sum(dim=-1, keepdim=True)
    if causal:
        n = a.shape[-1]
        a = a * torch.ones(n, n, dtype=a.dtype, device=a.device).tril(diagonal)
        if not den_all:
            den = a.sum(dim=-1, keepdim=True)
    if eps_outside:
        return (a @ v.double()) / den + eps
    return (a @ v.double()) / (den + eps)


def _named_mistake(got, q, k, v, causal, eps):
    """The hint naming the typical mistake whose output `got` equals, if any."""
    mistakes = [
        (dict(phi=lambda x: F.elu(x.double())), "phi(x) = elu(x) + 1: the + 1 is missing"),
        (dict(eps_outside=True), "eps must be inside the denominator: num / (den + eps)"),
    ]
    if causal:
        mistakes += [
            (
                dict(den_all=True),
                "the causal normaliser summed phi(k_j) over all keys: sum over j <= i only, "
                "like the numerator",
            ),
            (dict(diagonal=-1), "the causal sums stopped at j < i: include j = i"),
        ]
    if not isinstance(got, torch.Tensor):
        return None
    for options, text in mistakes:
        value = _explicit(q, k, v, causal, eps, **options)
        if got.shape == value.shape and torch.allclose(
            got.double(), value, atol=1e-5, rtol=1e-4, equal_nan=True
        ):
            return text
    return None


def _row(q, k, v, i, causal, eps):
    """Output row i only, in O(L d): for long inputs where no L x L matrix fits."""
    stop = i + 1 if causal else k.shape[-2]
    w = (_phi64(k[..., :stop, :]) * _phi64(q[..., i : i + 1, :])).sum(-1)  # (..., stop)
    return (w.unsqueeze(-2) @ v[..., :stop, :].double()).squeeze(-2) / (
        w.sum(-1, keepdim=True) + eps
    )


def check_linear_attention(impl, device="cpu"):
    gen = torch.Generator().manual_seed(0)
    hint = (
        "phi(x) = elu(x) + 1; the denominator is phi(q_i) . z with z summing phi(k_j) over the "
        "same keys as the numerator (j <= i when causal), plus eps"
    )

    def rand(*shape, scale=1.0):
        return (torch.randn(*shape, generator=gen) * scale).to(device)

    def run(q, k, v, causal, eps=1e-6, **kwargs):
        what = (
            f"linear_attention(q {describe(q)}, k {describe(k)}, v {describe(v)}, "
            f"causal={causal}, eps={eps:g})"
        )
        got = call_unchanged(
            impl,
            what,
            ("q", "k", "v"),
            q.clone(),
            k.clone(),
            v.clone(),
            causal=causal,
            eps=eps,
            hint=IN_PLACE_HINT,
        )
        expect(
            isinstance(got, torch.Tensor), what, f"returned {type(got).__name__}, expected a tensor"
        )
        _expect_same_dtype(got, q, what)
        assert_close(
            got,
            _explicit(q, k, v, causal, eps),
            what,
            atol=1e-5,
            rtol=1e-4,
            hint=_named_mistake(got, q, k, v, causal, eps) or hint,
            **kwargs,
        )

    # A hand-sized example.
    q = torch.tensor([[0.5, -1.0], [2.0, 0.0], [-0.3, 0.7]], device=device)
    k = torch.tensor([[1.0, 0.0], [-2.0, 1.0], [0.0, -0.5]], device=device)
    v = torch.tensor([[1.0], [2.0], [3.0]], device=device)
    for causal in (False, True):
        run(q, k, v, causal)

    # Seeded random inputs with batch dims, d != dv, length 1.
    for batch, n, d, dv in [
        ((), 1, 3, 2),
        ((2,), 9, 4, 4),
        ((2, 3), 17, 8, 5),
        ((1,), 64, 16, 3),
        ((3,), 33, 5, 9),
    ]:
        q, k, v = rand(*batch, n, d), rand(*batch, n, d), rand(*batch, n, dv)
        for causal in (False, True):
            run(q, k, v, causal)
            run(q * 3.0, k * 3.0, v, causal)  # many negative entries: elu's exp branch matters

    # eps is used, and added to the denominator.
    q, k, v = rand(2, 6, 3) - 4.0, rand(2, 6, 3) - 4.0, rand(2, 6, 2)
    for causal in (False, True):
        run(q, k, v, causal, eps=1e-2)

    def long_run(n, causal, count=False):
        """The answer on a (1, n, 4) input, its rows checked at a few places; with `count`,
        also the tensor elements its torch calls produced, in all and at most in one."""
        q, k, v = rand(1, n, 4), rand(1, n, 4), rand(1, n, 2)
        what = (
            f"linear_attention(q, k of shape (1, {n}, 4), v of shape (1, {n}, 2), causal={causal})"
        )
        hint_long = (
            f"L = {n}: an L x L matrix does not fit; sum phi(k_j)^T v_j first "
            "(prefix sums when causal)"
        )
        made = largest = 0
        with hinted(hint_long), gpu_memory_budget(device, _BUDGET_MB, what, hint=hint_long):
            if count:
                got, made, largest = _counted(impl, what, q, k, v, causal=causal)
            else:
                got = call(impl, what, q, k, v, causal=causal)
        expect(
            largest <= n * n // 8,
            what,
            f"built a tensor of {largest:,} elements; the L x L matrix phi(q) phi(k)^T has "
            f"{n * n:,}",
            hint=QUADRATIC,
        )
        expect(
            isinstance(got, torch.Tensor) and tuple(got.shape) == (1, n, 2),
            what,
            f"returned {describe(got)}, expected a tensor of shape (1, {n}, 2)",
        )
        for i in (0, 1, 1000, n // 2, n - 1):
            assert_close(
                got[..., i, :],
                _row(q, k, v, i, causal, 1e-6),
                f"{what}, row {i}",
                atol=1e-4,
                rtol=1e-3,
                hint=hint,
            )
        return made

    # Linear work: the elements produced at 4x the length grow 4x, not 16x; then a length
    # where no L x L matrix fits.
    short, long = _GROWTH
    for causal in (False, True):
        made = [long_run(n, causal, count=True) for n in _GROWTH]
        _expect_linear_growth(
            made,
            _GROWTH,
            f"linear_attention(L = {short}) vs linear_attention(L = {long}), causal={causal}",
            ("L", "L x L"),
            QUADRATIC,
        )
    for causal in (False, True):
        long_run(_LONG_ATTENTION, causal)

    # bfloat16 inputs come back in bfloat16 (every case above is float32, where sums
    # accumulated in float32 for precision, q.float(), are the inputs' dtype whether or not
    # they are cast back). bfloat16 keeps 8 bits: the outputs are good to about 1e-2.
    q, k, v = (rand(2, 12, 8), rand(2, 12, 8), rand(2, 12, 4))
    q, k, v = (t.to(torch.bfloat16) for t in (q, k, v))
    for causal in (False, True):
        what = (
            f"linear_attention(q {describe(q)}, k {describe(k)}, v {describe(v)}, causal={causal})"
        )
        got = call(impl, what, q.clone(), k.clone(), v.clone(), causal=causal)
        expect(
            isinstance(got, torch.Tensor), what, f"returned {type(got).__name__}, expected a tensor"
        )
        _expect_same_dtype(got, q, what)
        assert_close(got, _explicit(q, k, v, causal, 1e-6), what, atol=3e-2, rtol=3e-2, hint=hint)


IN_PLACE_HINT = (
    "compute phi into new tensors, F.elu(q) + 1, not F.elu(q, inplace=True) or .add_(1): the "
    "caller's q, k and v must not change"
)


SAME_DTYPE = (
    "the output comes back in the inputs' dtype (a float64 output doubles the memory of every "
    "layer after it; compute in float64 if you like, then cast back)"
)


def _expect_same_dtype(got, q, what: str) -> None:
    expect(
        got.dtype == q.dtype,
        what,
        f"returned {str(got.dtype)[6:]} for {str(q.dtype)[6:]} inputs: {SAME_DTYPE}",
    )


QUADRATIC = (
    "never build the L x L scores phi(q) phi(k)^T, not even a strip of rows at a time: sum "
    "phi(k_j)^T v_j first (prefix sums when causal; chunks carry that sum from one to the next)"
)


def _expect_linear_growth(made, lengths, what: str, names: tuple[str, str], hint: str) -> None:
    """That the work `made` (tensor elements, see `_counted`) at the two `lengths` grew as a
    linear answer's does: 4x for 4x the length, where quadratic work grows 16x. `names`: the
    length's symbol and the quadratic matrix's ("L", "L x L")."""
    (short, long), (length, square) = lengths, names
    ratio = made[1] / max(made[0], 1)
    expect(
        ratio < 2 * long / short,
        what,
        f"the torch calls produced {made[0]:,} tensor elements at {length} = {short} and "
        f"{made[1]:,} at {length} = {long}, {ratio:.1f} times as many for a {long // short}x "
        f"longer input: linear work grows {long // short}x, {square} work "
        f"{(long // short) ** 2}x",
        hint=hint,
    )


def _counted(impl, what, *args, **kwargs):
    """The answer's output, the number of tensor elements its torch calls returned in all (a
    measure of its work that a busy machine does not change) and the largest tensor."""
    from torch.overrides import TorchFunctionMode

    seen = [0, 0]  # elements in all, the largest tensor

    def visit(value):
        if isinstance(value, torch.Tensor):
            numel = value.numel()
            seen[0] += numel
            seen[1] = max(seen[1], numel)
        elif isinstance(value, (tuple, list)):
            for item in value:
                visit(item)

    class _Count(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            visit(result)
            return result

    with _Count():
        got = call(impl, what, *args, **kwargs)
    return got, seen[0], seen[1]


@fails_with("the + 1 is missing")
def _wrong_no_plus_one(q, k, v, causal=False, eps=1e-6):
    """Uses phi(x) = elu(x), forgetting the + 1 (features can be negative)."""
    return _prefix_form(F.elu(q), F.elu(k), v, causal, eps)


@fails_with("the causal normaliser summed phi(k_j) over all keys")
def _wrong_causal_full_normaliser(q, k, v, causal=False, eps=1e-6):
    """Causal numerator, but the normaliser z sums phi(k_j) over all keys."""
    phi_q, phi_k = F.elu(q) + 1, F.elu(k) + 1
    num = _prefix_form(phi_q, phi_k, v, causal, eps, numerator_only=True)
    den = (phi_q * phi_k.sum(dim=-2, keepdim=True)).sum(-1, keepdim=True)
    return num / (den + eps)


@fails_with("the causal sums stopped at j < i")
def _wrong_exclusive_prefix(q, k, v, causal=False, eps=1e-6):
    """Causal prefix sums that stop at j < i (an exclusive cumsum)."""
    phi_q, phi_k = F.elu(q) + 1, F.elu(k) + 1
    if not causal:
        return _prefix_form(phi_q, phi_k, v, False, eps)
    kv = phi_k.unsqueeze(-1) * v.unsqueeze(-2)
    state = torch.cumsum(kv, dim=-3) - kv
    z = torch.cumsum(phi_k, dim=-2) - phi_k
    num = (phi_q.unsqueeze(-1) * state).sum(-2)
    return num / ((phi_q * z).sum(-1, keepdim=True) + eps)


@fails_with("the L x L matrix phi(q) phi(k)^T has")
def _wrong_quadratic(q, k, v, causal=False, eps=1e-6):
    """Builds the L x L matrix phi(q) phi(k)^T (right values, quadratic memory)."""
    a = (F.elu(q) + 1) @ (F.elu(k) + 1).transpose(-1, -2)
    if causal:
        a = torch.tril(a)
    return (a @ v) / (a.sum(-1, keepdim=True) + eps)


@fails_with("linear work grows 4x, L x L work 16x")
def _wrong_query_strips(q, k, v, causal=False, eps=1e-6):
    """Scores a strip of 256 queries against every key at a time: never the whole L x L matrix,
    but all of it in turn, quadratic work."""
    phi_q, phi_k = F.elu(q) + 1, F.elu(k) + 1
    n, rows = q.shape[-2], 256
    outs = []
    for s in range(0, n, rows):
        a = phi_q[..., s : s + rows, :] @ phi_k.transpose(-1, -2)  # (..., rows, L)
        if causal:
            a = torch.tril(a, diagonal=s)
        outs.append((a @ v) / (a.sum(-1, keepdim=True) + eps))
    return torch.cat(outs, dim=-2)


@fails_with("eps must be inside the denominator")
def _wrong_eps_outside(q, k, v, causal=False, eps=1e-6):
    """Adds eps after the division, num / den + eps, instead of num / (den + eps)."""
    phi_q, phi_k = F.elu(q) + 1, F.elu(k) + 1
    num = _prefix_form(phi_q, phi_k, v, causal, eps, numerator_only=True)
    z = torch.cumsum(phi_k, dim=-2) if causal else phi_k.sum(-2, keepdim=True)
    return num / (phi_q * z).sum(-1, keepdim=True) + eps


def _prefix_form(phi_q, phi_k, v, causal, eps, numerator_only=False):
    if causal:
        state = torch.cumsum(phi_k.unsqueeze(-1) * v.unsqueeze(-2), dim=-3)
        z = torch.cumsum(phi_k, dim=-2)
        num = (phi_q.unsqueeze(-1) * state).sum(-2)
    else:
        num = phi_q @ (phi_k.transpose(-1, -2) @ v)
        z = phi_k.sum(-2, keepdim=True)
    if numerator_only:
        return num
    return num / ((phi_q * z).sum(-1, keepdim=True) + eps)


@fails_with("the output comes back in the inputs' dtype")
def _wrong_upcast(q, k, v, causal=False, eps=1e-6):
    """Computes in float64 (q.double(), ...) and returns float64 for float32 inputs."""
    return linear_attention(q.double(), k.double(), v.double(), causal, eps)


@fails_with("returned float32 for bfloat16 inputs")
def _wrong_float32_sums(q, k, v, causal=False, eps=1e-6):
    """Takes the features and their (prefix) sums in float32 for precision (q.float(), ...) and
    returns that: right for float32 inputs, but bfloat16 inputs get a float32 output."""
    return linear_attention(q.float(), k.float(), v.float(), causal, eps)


@fails_with("modified its input q in place")
def _wrong_elu_in_place(q, k, v, causal=False, eps=1e-6):
    """Takes the feature maps in place, F.elu(q, inplace=True).add_(1) (as nn.ELU(inplace=True)
    saves memory): the right numbers, but the caller's q and k now hold phi(q) and phi(k)."""
    phi_q = F.elu(q, inplace=True).add_(1)
    phi_k = F.elu(k, inplace=True).add_(1)
    return _prefix_form(phi_q, phi_k, v, causal, eps)


def _variant_rnn_chunks(q, k, v, causal=False, eps=1e-6):
    """Causal as an RNN over chunks: exact attention inside a chunk, a carried state across."""
    phi_q, phi_k = F.elu(q) + 1, F.elu(k) + 1
    if not causal:
        s = torch.einsum("...jd,...je->...de", phi_k, v)
        z = phi_k.sum(-2)
        return torch.einsum("...id,...de->...ie", phi_q, s) / (
            torch.einsum("...id,...d->...i", phi_q, z).unsqueeze(-1) + eps
        )
    n, chunk = q.shape[-2], 256
    s = torch.zeros(*q.shape[:-2], q.shape[-1], v.shape[-1], dtype=q.dtype, device=q.device)
    z = torch.zeros(*q.shape[:-2], q.shape[-1], dtype=q.dtype, device=q.device)
    outs = []
    for c in range(0, n, chunk):
        fq, fk, vc = (
            phi_q[..., c : c + chunk, :],
            phi_k[..., c : c + chunk, :],
            v[..., c : c + chunk, :],
        )
        a = torch.tril(fq @ fk.transpose(-1, -2))
        num = fq @ s + a @ vc
        den = (fq * z.unsqueeze(-2)).sum(-1, keepdim=True) + a.sum(-1, keepdim=True)
        outs.append(num / (den + eps))
        s = s + fk.transpose(-1, -2) @ vc
        z = z + fk.sum(-2)
    return torch.cat(outs, dim=-2)


# --- checker: right_first_product -------------------------------------------------------------


def check_right_first_product(impl, device="cpu"):
    gen = torch.Generator().manual_seed(1)

    def rand(*shape):
        return torch.rand(*shape, generator=gen).to(device)  # non-negative, like features

    for batch, n, m, r, dv in [
        ((), 1, 1, 2, 2),
        ((), 5, 7, 3, 3),
        ((2,), 9, 4, 6, 6),
        ((2, 3), 16, 11, 4, 5),
        ((1,), 31, 31, 8, 2),
    ]:
        fq, fk, v = rand(*batch, n, r), rand(*batch, m, r), rand(*batch, m, dv)
        what = f"right_first_product({describe(fq)}, {describe(fk)}, {describe(v)})"
        got = call(impl, what, fq.clone(), fk.clone(), v.clone())
        expect(
            isinstance(got, torch.Tensor), what, f"returned {type(got).__name__}, expected a tensor"
        )
        _expect_same_dtype(got, fq, what)
        # Ground truth, entry by entry: out[i, e] = sum_j (sum_c fq[i, c] fk[j, c]) v[j, e].
        want = torch.einsum("...ic,...jc,...je->...ie", fq.double(), fk.double(), v.double())
        hint = "phi_k^T v is (r x dv): contract over the sequence axis of phi_k and v"
        if isinstance(got, torch.Tensor) and r == dv:
            mistakes = [
                (
                    fq.double() @ (v.double().transpose(-1, -2) @ fk.double()),
                    "the state was formed as v^T phi_k (dv x r), the transpose of phi_k^T v",
                ),
                (
                    fq.double() * (fk.double() * v.double()).sum(dim=-2, keepdim=True),
                    "features and values were multiplied elementwise: that keeps only the "
                    "diagonal of phi_k^T v, which is a full r x dv matrix",
                ),
            ]
            for value, text in mistakes:
                if got.shape == value.shape and torch.allclose(got.double(), value, atol=1e-5):
                    hint = text
        assert_close(got, want, what, atol=1e-5, rtol=1e-5, hint=hint)

    # Linear work: strips of query rows against every key never hold the N x M matrix, and
    # a fast machine finishes them within the time limit at N = 131072, but their work grows
    # 16x at 4x the length, where phi_q (phi_k^T v) grows 4x.
    short, long = _GROWTH_PRODUCT
    made = []
    for n in _GROWTH_PRODUCT:
        fq, fk, v = rand(n, 4), rand(n, 4), rand(n, 3)
        what = f"right_first_product(phi_q, phi_k of shape ({n}, 4), v of shape ({n}, 3))"
        got, elements, largest = _counted(impl, what, fq, fk, v)
        expect(
            largest <= n * n // 8,
            what,
            f"built a tensor of {largest:,} elements; at N = {_LONG} the N x N matrix "
            "phi_q phi_k^T does not fit",
            hint="multiply phi_k^T v (r x dv) first",
        )
        made.append(elements)
        want = fq.double() @ (fk.double().T @ v.double())
        assert_close(got, want, what, atol=1e-3, rtol=1e-4)
    _expect_linear_growth(
        made,
        _GROWTH_PRODUCT,
        f"right_first_product(N = {short}) vs right_first_product(N = {long})",
        ("N", "N x M"),
        "never form phi_q phi_k^T, not even a strip of rows at a time: phi_k^T v is only "
        "r x dv, so multiply it first",
    )

    n = _LONG
    fq, fk, v = rand(n, 4), rand(n, 4), rand(n, 3)
    what = f"right_first_product(phi_q, phi_k of shape ({n}, 4), v of shape ({n}, 3))"
    hint_long = (
        f"with N = {n} the N x N matrix phi_q phi_k^T does not fit; multiply phi_k^T v first"
    )
    with hinted(hint_long), gpu_memory_budget(device, _BUDGET_MB, what, hint=hint_long):
        got = call(impl, what, fq, fk, v)
    expect(
        isinstance(got, torch.Tensor) and tuple(got.shape) == (n, 3),
        what,
        f"returned {describe(got)}, expected a tensor of shape ({n}, 3)",
    )
    for i in (0, 7, n - 1):
        want = ((fk.double() @ fq[i].double()).unsqueeze(0) @ v.double()).squeeze(0)
        assert_close(got[i], want, f"{what}, row {i}", atol=1e-3, rtol=1e-4)


@fails_with("the output comes back in the inputs' dtype")
def _wrong_upcast_product(phi_q, phi_k, v):
    """Multiplies in float64 (phi_q.double(), ...) and returns float64 for float32 inputs."""
    return right_first_product(phi_q.double(), phi_k.double(), v.double())


@fails_with("the N x N matrix phi_q phi_k^T does not fit")
def _wrong_left_first(phi_q, phi_k, v):
    """Multiplies left to right, (phi_q phi_k^T) v: right values, an N x M matrix in memory."""
    return (phi_q @ phi_k.transpose(-1, -2)) @ v


@fails_with("the transpose of phi_k^T v")
def _wrong_transposed_state(phi_q, phi_k, v):
    """Forms v^T phi_k (dv x r) instead of phi_k^T v (r x dv)."""
    return phi_q @ (v.transpose(-1, -2) @ phi_k)


@fails_with("keeps only the diagonal of phi_k^T v")
def _wrong_diagonal_state(phi_q, phi_k, v):
    """Multiplies features and values elementwise, keeping only the diagonal of phi_k^T v."""
    return phi_q * (phi_k * v).sum(dim=-2, keepdim=True)


@fails_with("linear work grows 4x, N x M work 16x")
def _wrong_key_strips(phi_q, phi_k, v):
    """(phi_q phi_k^T) v a strip of 64 query rows at a time: the N x M matrix never exists
    at once, but all of it is computed, quadratic work."""
    rows = []
    for start in range(0, phi_q.shape[-2], 64):
        block = phi_q[..., start : start + 64, :]
        rows.append((block @ phi_k.transpose(-1, -2)) @ v)
    return torch.cat(rows, dim=-2)


WRONG_ANSWERS = {
    "linear_attention": [
        _wrong_upcast,
        _wrong_no_plus_one,
        _wrong_causal_full_normaliser,
        _wrong_exclusive_prefix,
        _wrong_quadratic,
        _wrong_query_strips,
        _wrong_eps_outside,
        _wrong_float32_sums,
        _wrong_elu_in_place,
    ],
    "right_first_product": [
        _wrong_upcast_product,
        _wrong_left_first,
        _wrong_transposed_state,
        _wrong_diagonal_state,
        _wrong_key_strips,
    ],
}

CORRECT_VARIANTS = {
    "linear_attention": [_variant_rnn_chunks],
}
