"""Medusa's tree attention mask: each candidate token attends to itself and its ancestors.

Card: medusa-tree-mask (coding).
"""

import torch

from studycli.assertions import assert_equal, call_unchanged, describe, expect, fails_with


def tree_attention_mask(parents: list[int]):
    """The attention mask over the nodes of a Medusa candidate tree.

    The candidate tokens are the nodes of a tree, listed so that a parent
    comes before its children: parents[i] < i is the index of node i's
    parent, or -1 when node i hangs directly off the already-decoded
    prefix (every node sees the prefix; that part of the mask is not asked
    for here). Node i may attend to node j exactly when j == i or j is an
    ancestor of i (its parent, its parent's parent, ...), so each
    root-to-leaf path reads as an ordinary causal sequence and all
    candidate continuations are verified in one forward pass.

    Args:
        parents: list of n ints, parents[i] in [-1, i - 1].

    Returns:
        torch.bool tensor of shape (n, n); mask[i, j] is True iff j == i
        or j is an ancestor of i.
    """
    n = len(parents)
    mask = torch.eye(n, dtype=torch.bool)
    for i, parent in enumerate(parents):
        if parent >= 0:
            mask[i] |= mask[parent]  # the parent's row already holds all of its ancestors
    return mask


# --- checker ----------------------------------------------------------------------------------


def _brute_force(parents):
    n = len(parents)
    rows = []
    for i in range(n):
        row = [False] * n
        row[i] = True
        j = parents[i]
        while j != -1:
            row[j] = True
            j = parents[j]
        rows.append(row)
    return torch.tensor(rows, dtype=torch.bool).reshape(n, n)


def _medusa_tree(top_k):
    """The full tree of a Medusa step: head h proposes top_k[h] tokens for depth h + 1."""
    parents, frontier = [], [-1]
    for k in top_k:
        new_frontier = []
        for p in frontier:
            for _ in range(k):
                parents.append(p)
                new_frontier.append(len(parents) - 1)
        frontier = new_frontier
    return parents


def check_tree_attention_mask(impl, device="cpu"):
    import random

    rng = random.Random(0)
    hint = (
        "mask[i, j] is True for j == i and for every ancestor j of i (follow parents until -1), "
        "and nowhere else: not for descendants, siblings or cousins"
    )

    cases = [
        [-1],
        [-1, 0],
        [-1, -1],
        [-1, 0, 1, 2],  # a chain: the ordinary causal mask
        [-1, 0, 0, 1, 1, 2],  # a binary tree
        [-1, -1, 0, 1, 0, 2, 3],  # two roots
        [-1, 0, 1, 0, 3, 4, 2],
        _medusa_tree([2, 2, 2]),
        _medusa_tree([3, 2, 1, 1]),
    ]
    for n in (5, 12, 30, 64):
        cases.append([-1] + [rng.randrange(-1, i) for i in range(1, n)])
    cases.append([rng.randrange(max(-1, i - 3), i) for i in range(40)])  # deep, narrow

    for parents in cases:
        what = f"tree_attention_mask({describe(parents)})"
        got = call_unchanged(impl, what, ("parents",), list(parents), hint=PARENTS_KEPT)
        expect(
            isinstance(got, torch.Tensor), what, f"returned {type(got).__name__}, expected a tensor"
        )
        expect(got.dtype == torch.bool, what, f"returned dtype {got.dtype}, expected torch.bool")
        want = _brute_force(parents)
        if tuple(got.shape) == tuple(want.shape):
            wrong = (got.cpu() != want).nonzero()
            if len(wrong):
                i, j = (int(x) for x in wrong[0])
                expect(
                    False,
                    what,
                    f"mask[{i}, {j}] is {bool(got[i, j])}, expected {bool(want[i, j])}",
                    hint=_explain(parents, i, j),
                )
        assert_equal(got.cpu(), want, what, hint=hint)


PARENTS_KEPT = (
    "leave parents as it came, the caller still holds the tree (to lay out position ids and to "
    "read back the accepted path): put a sentinel for -1 into a copy, list(parents), if you "
    "need one"
)


def _ancestors(parents, i):
    found, j = [], parents[i]
    while j != -1:
        found.append(j)
        j = parents[j]
    return found


def _explain(parents, i, j):
    """Why mask[i, j] must be what it is: the rule the first wrong entry breaks."""
    if i == j:
        return f"every node sees itself: the diagonal entry mask[{i}, {i}] is True"
    if j == parents[i]:
        return f"node {j} is the parent of node {i}: a node sees its parent"
    if j in _ancestors(parents, i):
        return (
            f"node {j} is an ancestor of node {i} further up than its parent: a node sees ALL "
            "its ancestors (parent, grandparent, ...), not only its parent"
        )
    if i in _ancestors(parents, j):
        return (
            f"node {j} is a descendant of node {i}: a node never sees its descendants "
            "(the mask is not transposed)"
        )
    return (
        f"node {j} lies on another branch than node {i}: it is no ancestor, so it stays hidden "
        "even when it comes earlier in the list (a tree mask, not a causal one)"
    )


@fails_with("a node sees ALL its ancestors")
def _wrong_parent_only(parents):
    """Marks only the node itself and its direct parent, not all ancestors."""
    n = len(parents)
    mask = torch.eye(n, dtype=torch.bool)
    for i, p in enumerate(parents):
        if p >= 0:
            mask[i, p] = True
    return mask


@fails_with("a node never sees its descendants")
def _wrong_descendants(parents):
    """Builds the transpose: node i sees its descendants instead of its ancestors."""
    n = len(parents)
    mask = torch.eye(n, dtype=torch.bool)
    for i, p in enumerate(parents):
        if p >= 0:
            mask[i] |= mask[p]
    return mask.T.contiguous()


@fails_with("every node sees itself")
def _wrong_no_self(parents):
    """Marks the ancestors but forgets the diagonal (a token must see itself)."""
    n = len(parents)
    mask = torch.zeros(n, n, dtype=torch.bool)
    for i, p in enumerate(parents):
        if p >= 0:
            mask[i] |= mask[p]
            mask[i, p] = True
    return mask


@fails_with("a tree mask, not a causal one")
def _wrong_causal(parents):
    """Uses the plain causal mask j <= i, letting a node see earlier nodes of other branches."""
    n = len(parents)
    return torch.ones(n, n, dtype=torch.bool).tril()


@fails_with("modified its input parents in place")
def _wrong_sentinel_in_place(parents):
    """Replaces each -1 in the caller's list by n, a sentinel row of all False, so that one
    gather needs no special case: the right mask, but the caller's parents changed."""
    n = len(parents)
    for i, parent in enumerate(parents):
        if parent == -1:
            parents[i] = n
    mask = torch.zeros(n + 1, n, dtype=torch.bool)  # row n: the prefix, no node
    for i in range(n):
        mask[i] = mask[parents[i]]
        mask[i, i] = True
    return mask[:n]


def _variant_numpy(parents):
    """Follows each node's ancestors with a while loop, in numpy, then converts."""
    import numpy as np

    n = len(parents)
    mask = np.zeros((n, n), dtype=bool)
    for i in range(n):
        j = i
        while j >= 0:
            mask[i, j] = True
            j = parents[j]
    return torch.from_numpy(mask)


WRONG_ANSWERS = {
    "tree_attention_mask": [
        _wrong_parent_only,
        _wrong_descendants,
        _wrong_no_self,
        _wrong_causal,
        _wrong_sentinel_in_place,
    ],
}

CORRECT_VARIANTS = {
    "tree_attention_mask": [_variant_numpy],
}
