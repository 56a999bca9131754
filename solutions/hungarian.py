"""Minimum-cost assignment (the Hungarian / Kuhn-Munkres problem), as used by DETR's matcher."""

import itertools

import numpy as np

from studycli.assertions import (
    RAISED,
    assert_close,
    call_unchanged,
    describe,
    expect,
    fails_with,
    hinted,
    without_package,
)


def min_cost_assignment(cost) -> list[tuple[int, int]]:
    """Give every row of `cost` its own column, minimising the total cost.

    Args:
        cost: numpy array (n, m) of real numbers, n <= m (rows are, e.g.,
            ground-truth objects, columns DETR's predictions). Entries may
            be negative and may tie.

    Returns:
        A list of n pairs (row, col), one per row (any order; sorted by
        row is customary), with distinct columns, such that
        sum(cost[row, col]) is as small as possible.

    Must run in polynomial time: n = m = 200 well under a second (no
    trying all permutations, no scipy).
    """
    cost = np.asarray(cost, dtype=np.float64)
    n, m = cost.shape
    if n == 0:
        return []
    # Shortest augmenting paths with potentials (Jonker-Volgenant form of the Hungarian method),
    # O(n^2 m). Rows 1..n and columns 1..m; column 0 is a virtual start, so arrays have m + 1.
    u = np.zeros(n + 1)  # row potentials
    v = np.zeros(m + 1)  # column potentials
    row_of = np.zeros(m + 1, dtype=np.int64)  # row_of[j]: the row assigned to column j (0 = free)
    for i in range(1, n + 1):
        row_of[0] = i
        j0 = 0
        min_reduced = np.full(m + 1, np.inf)  # shortest reduced distance to each column so far
        came_from = np.zeros(m + 1, dtype=np.int64)
        used = np.zeros(m + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = row_of[j0]
            free = ~used
            free[0] = False
            reduced = cost[i0 - 1] - u[i0] - v[1:]  # reduced costs from row i0 to every column
            better = free[1:] & (reduced < min_reduced[1:])
            min_reduced[1:][better] = reduced[better]
            came_from[1:][better] = j0
            candidates = np.where(free[1:], min_reduced[1:], np.inf)
            j1 = int(np.argmin(candidates)) + 1
            delta = candidates[j1 - 1]
            # Shift potentials so the reduced cost of the tree edges stays zero.
            u[row_of[used]] += delta
            v[used] -= delta
            min_reduced[1:][free[1:]] -= delta
            j0 = j1
            if row_of[j0] == 0:
                break
        while j0:  # flip the augmenting path back to the start
            j1 = came_from[j0]
            row_of[j0] = row_of[j1]
            j0 = j1
    pairs = [(int(row_of[j]) - 1, j - 1) for j in range(1, m + 1) if row_of[j] > 0]
    return sorted(pairs)


# --- checker --------------------------------------------------------------------------------


def _validate(pairs, cost, what):
    """Check the structure and return the column chosen for each row."""
    n, m = cost.shape
    expect(pairs is not None, what, "returned None (a missing `return`?)")
    try:
        items = [tuple(p) for p in pairs]
    except TypeError:
        raise AssertionError(
            f"{what}: returned {describe(pairs)}, expected a list of (row, col) pairs"
        ) from None
    expect(
        len(items) == n,
        what,
        f"returned {len(items)} pairs for {n} rows; expected one pair per row",
    )
    col_of = [-1] * n
    for pair in items:
        expect(len(pair) == 2, what, f"the pair {pair!r} is not (row, col)")
        row, col = pair
        expect(
            float(row) == int(row) and float(col) == int(col),
            what,
            f"the pair {pair!r} does not hold integer indices",
        )
        row, col = int(row), int(col)
        expect(
            0 <= row < n and 0 <= col < m,
            what,
            f"the pair {(row, col)} is out of range for a cost matrix of shape {(n, m)}",
            hint="pairs are (row, col): row < n indexes the cost's rows, col < m its columns",
        )
        expect(col_of[row] == -1, what, f"row {row} appears in more than one pair")
        col_of[row] = col
    expect(
        len(set(col_of)) == n,
        what,
        f"two rows share a column: {sorted(items)}",
        hint="an assignment gives every row its own column",
    )
    return np.array(col_of, dtype=np.int64)  # (an empty list would make a float array)


def _brute_force_totals(cost):
    """The total cost of every assignment (n <= 8): an oracle that shares nothing with the
    reference."""
    n, m = cost.shape
    orders = list(itertools.permutations(range(m), n))  # (one, the empty one, for n = 0)
    perms = np.array(orders, dtype=np.int64).reshape(len(orders), n)
    return cost[np.arange(n), perms].sum(axis=1)


NO_SCIPY = "the card asks for the assignment algorithm itself, without scipy"


def _has_improvement(cost, col_of):
    """True when the assignment is not optimal: Bellman-Ford finds a negative residual cycle.

    Residual graph: row i -> column j (j not i's column) with cost c[i, j]; i's column -> row i
    with cost -c[i, col_of[i]]; free column -> sink and sink -> assigned column with cost 0 (so
    swapping an assigned column for a free one is a cycle too). An assignment is optimal iff this
    graph has no negative cycle.
    """
    n, m = cost.shape
    rows = np.arange(n)
    forward = cost.copy()
    forward[rows, col_of] = np.inf
    back = -cost[rows, col_of]
    assigned = np.zeros(m, dtype=bool)
    assigned[col_of] = True
    tol = 1e-9 * max(1.0, float(np.abs(cost).max()))
    d_row, d_col, d_sink = np.zeros(n), np.zeros(m), 0.0
    for _ in range(n + m + 2):
        new_col = np.minimum(d_col, (d_row[:, None] + forward).min(axis=0))
        new_col[assigned] = np.minimum(new_col[assigned], d_sink)
        new_row = np.minimum(d_row, new_col[col_of] + back)
        new_sink = min(d_sink, float(new_col[~assigned].min())) if (~assigned).any() else d_sink
        changed = (
            np.any(new_col < d_col - tol)
            or np.any(new_row < d_row - tol)
            or new_sink < d_sink - tol
        )
        d_row, d_col, d_sink = new_row, new_col, new_sink
        if not changed:
            return False
    return True


def _fixed_cases():
    yield np.array([[4.0, 1.0, 3.0], [2.0, 0.0, 5.0], [3.0, 2.0, 2.0]])
    yield np.array([[1.0, 2.0], [1.0, 10.0]])  # greedy: 11, best: 3
    yield np.array([[0.0]])
    yield np.array([[5.0, -3.0, 7.0]])  # one row, 3 columns
    yield np.zeros((4, 4))  # all tied
    yield np.ones((3, 5))
    yield np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    yield -np.arange(12, dtype=np.float64).reshape(3, 4)  # negative costs
    yield np.array([[1e6, 1e6 + 1, 1e6 + 2], [1e6 + 2, 1e6, 1e6 + 1], [1e6, 1e6 + 2, 1e6 + 5]])


def _random_cases(rng):
    for n in range(1, 8):
        for m in sorted({n, min(n + 1, 8), 8}):
            for style in range(4):
                if style == 0:
                    cost = rng.random((n, m))
                elif style == 1:
                    cost = rng.integers(0, 3, (n, m)).astype(np.float64)  # many ties
                elif style == 2:
                    cost = rng.normal(0.0, 100.0, (n, m))  # negatives
                else:  # DETR-like: -probability + L1 box distance
                    cost = -rng.random((n, m)) + 5.0 * np.abs(
                        rng.random((n, 1)) - rng.random((1, m))
                    )
                yield cost


def check_min_cost_assignment(impl, device="cpu") -> None:
    _check_assignments(without_package(impl, "scipy", reason=NO_SCIPY))


def _call_unmodified(impl, what, cost):
    """The answer on the caller's `cost`, which must come back unchanged: subtracting row or
    column minima keeps the optimal assignment, but on a copy."""
    return call_unchanged(
        impl,
        what,
        ("cost",),
        cost,
        hint="reductions such as cost -= cost.min(axis=1, keepdims=True) must work on a copy "
        "(cost = cost - ..., or np.array(cost, dtype=float)), not on the caller's matrix",
    )


_HINT_TRUNCATED = (
    "the assignment is optimal for the costs truncated to ints (0.86 becomes 0): the copy or "
    "the potentials were made with an int dtype; use float, np.array(cost, dtype=float)"
)


def _optimal_if_truncated(cost, col_of) -> bool:
    """Whether the rows' columns `col_of` are a best assignment once `cost` loses its fractions
    (and it had some): an answer that copied the costs into an int array."""
    whole = np.trunc(cost)
    if np.array_equal(whole, cost):
        return False
    chosen = float(whole[np.arange(cost.shape[0]), col_of].sum())
    return abs(chosen - float(_brute_force_totals(whole).min())) <= 1e-9


def _check_assignments(impl) -> None:
    rng = np.random.default_rng(0)
    for cost in itertools.chain(_fixed_cases(), _random_cases(rng)):
        what = f"min_cost_assignment({describe(cost, 16)})"
        pairs = _call_unmodified(impl, what, cost)
        col_of = _validate(pairs, cost, what)
        total = float(cost[np.arange(cost.shape[0]), col_of].sum())
        totals = _brute_force_totals(cost)
        hint = "picking each row's cheapest free column greedily is not optimal"
        at_max = abs(total - totals.max()) <= 1e-9 * max(1.0, abs(total))
        if at_max and len(np.unique(np.round(totals, 9))) > 2:  # with 2 totals, max is ambiguous
            hint = "this is the largest total cost: the matcher minimises the sum of the costs"
        if total > totals.min() + 1e-7 and _optimal_if_truncated(cost, col_of):
            hint = _HINT_TRUNCATED
        assert_close(
            total,
            float(totals.min()),
            f"{what}, total cost",
            atol=1e-7,
            rtol=1e-9,
            hint=hint,
        )

    # An int cost (the prompt's floats are one kind of entry), and no rows at all (n = 0: an
    # image without objects): every case above is a float matrix with rows.
    for cost, hint in (
        (np.array([[4, 1, 3], [2, 0, 5], [3, 2, 2]]), INT_HINT),
        (np.zeros((0, 3)), EMPTY_HINT),
    ):
        what = f"min_cost_assignment({describe(cost, 16)})"
        with hinted(hint, when=RAISED):
            pairs = _call_unmodified(impl, what, cost)
        col_of = _validate(pairs, cost, what)
        total = float(cost[np.arange(cost.shape[0]), col_of].sum())
        best = float(_brute_force_totals(cost).min())
        assert_close(total, best, f"{what}, total cost", atol=1e-7, rtol=1e-9, hint=hint)

    # Larger inputs: optimality is certified by the absence of a negative residual cycle.
    for n, m, style in (
        (30, 30, "ties"),
        (40, 60, "normal"),
        (200, 200, "uniform"),
        (150, 200, "ties"),
    ):
        if style == "uniform":
            cost = rng.random((n, m))
        elif style == "normal":
            cost = rng.normal(0.0, 10.0, (n, m))
        else:
            cost = rng.integers(0, 50, (n, m)).astype(np.float64)
        what = f"min_cost_assignment(cost of shape ({n}, {m}), {style} entries)"
        pairs = _call_unmodified(impl, what, cost)
        col_of = _validate(pairs, cost, what)
        expect(
            not _has_improvement(cost, col_of),
            what,
            "the assignment is not optimal: exchanging columns along a cycle lowers the total "
            f"cost (returned total {cost[np.arange(n), col_of].sum():.6g})",
            hint="greedy choices can be undone only by augmenting paths with potentials",
        )


INT_HINT = (
    "the cost may hold ints (an int array): np.inf and fractional potentials do not fit in one; "
    "work on a float copy, np.asarray(cost, dtype=float)"
)
EMPTY_HINT = "n = 0 rows (an image without objects) is allowed: there is nothing to pair, return []"


# --- wrong answers --------------------------------------------------------------------------


@fails_with("greedily is not optimal")
def _wrong_greedy_rows(cost):
    """Greedy: each row in turn takes its cheapest still-free column."""
    cost = np.asarray(cost, dtype=np.float64)
    taken, pairs = set(), []
    for i in range(cost.shape[0]):
        j = min((j for j in range(cost.shape[1]) if j not in taken), key=lambda j: cost[i, j])
        taken.add(j)
        pairs.append((i, j))
    return pairs


@fails_with("pairs are (row, col)")
def _wrong_col_row_pairs(cost):
    """Returns (col, row) pairs instead of (row, col)."""
    return [(c, r) for r, c in min_cost_assignment(cost)]


@fails_with("greedily is not optimal")
def _wrong_greedy_global(cost):
    """Greedy on the whole matrix: repeatedly takes the smallest remaining entry."""
    cost = np.asarray(cost, dtype=np.float64)
    order = np.argsort(cost, axis=None, kind="stable")
    rows, cols, pairs = set(), set(), []
    for flat in order:
        i, j = divmod(int(flat), cost.shape[1])
        if i not in rows and j not in cols:
            rows.add(i)
            cols.add(j)
            pairs.append((i, j))
    return sorted(pairs)


@fails_with("this is the largest total cost")
def _wrong_maximises(cost):
    """Maximises the total cost (forgets that the matcher wants the minimum)."""
    return min_cost_assignment(-np.asarray(cost, dtype=np.float64))


@fails_with("uses scipy.optimize.linear_sum_assignment: the card asks")
def _wrong_scipy(cost):
    """Hands the problem to scipy.optimize.linear_sum_assignment, which the card rules out."""
    from scipy.optimize import linear_sum_assignment  # inside the body: scipy is optional

    rows, cols = linear_sum_assignment(np.asarray(cost, dtype=np.float64))
    return [(int(r), int(c)) for r, c in zip(rows, cols)]


@fails_with("the answer uses scipy.sparse")
def _wrong_scipy_csgraph(cost):
    """Hands the problem to scipy's sparse matcher: scipy is off limits as a whole, not only
    linear_sum_assignment (a checker that refused that one function let this pass)."""
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    cost = np.asarray(cost, dtype=np.float64)
    shifted = cost - cost.min() + 1.0 if cost.size else cost  # (stored zeros are no edges)
    cols = min_weight_full_bipartite_matching(csr_array(shifted))
    return [(int(r), int(c)) for r, c in enumerate(cols)]


@fails_with("modified its input cost in place")
def _wrong_reduces_in_place(cost):
    """Right assignment, but subtracts the row minima from the caller's matrix in place
    (Munkres' first step written as cost -= ...)."""
    cost -= cost.min(axis=1, keepdims=True)
    return min_cost_assignment(cost)


@fails_with("optimal for the costs truncated to ints")
def _wrong_int_copy(cost):
    """Works on a copy, as the prompt asks, but an int one (cost.astype(int)): float costs
    lose their fractions."""
    return min_cost_assignment(np.asarray(cost).astype(int))


@fails_with("the cost may hold ints")
def _wrong_inf_into_int_copy(cost):
    """Takes used columns out of an augmenting search by writing np.inf into a copy of the
    row's costs (distances = cost[i].copy(); distances[used] = np.inf): right for float costs,
    but the copy of an int row is int, which cannot hold np.inf (OverflowError)."""
    distances = cost[0].copy()  # the first search's distances, in the cost's dtype
    distances[0] = np.inf  # column 0 taken out of the search
    return min_cost_assignment(cost)


@fails_with("n = 0 rows (an image without objects) is allowed")
def _wrong_global_shift(cost):
    """Shifts every entry by the global minimum first (classic Munkres wants non-negative
    costs): right for n >= 1, but cost.min() of a (0, m) matrix raises ValueError."""
    return min_cost_assignment(cost - cost.min())


WRONG_ANSWERS = {
    "min_cost_assignment": [
        _wrong_inf_into_int_copy,
        _wrong_global_shift,
        _wrong_greedy_rows,
        _wrong_col_row_pairs,
        _wrong_greedy_global,
        _wrong_maximises,
        _wrong_scipy,
        _wrong_scipy_csgraph,
        _wrong_reduces_in_place,
        _wrong_int_copy,
    ],
}


# --- correct variants -----------------------------------------------------------------------


def _variant_numpy_pairs(cost):
    """Returns an (n, 2) numpy array of pairs, in column order rather than row order."""
    pairs = min_cost_assignment(cost)
    return np.array(sorted(pairs, key=lambda p: p[1]), dtype=np.int64).reshape(-1, 2)


CORRECT_VARIANTS = {"min_cost_assignment": [_variant_numpy_pairs]}
