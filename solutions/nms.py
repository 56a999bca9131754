"""Greedy non-maximum suppression (NMS) for axis-aligned boxes, as in Faster R-CNN's RPN."""

import random

import torch

from studycli.assertions import (
    assert_equal,
    call,
    call_unchanged,
    describe,
    expect,
    fails_with,
    forbid,
    plain_ints,
    without_package,
)


def nms(boxes, scores, iou_threshold: float):
    """Greedy non-maximum suppression: the boxes kept when, going by
    descending score, a box is dropped if its IoU with a box already kept
    is strictly greater than `iou_threshold` (IoU equal to the threshold
    is kept). The area of a box (x1, y1, x2, y2) is (x2 - x1) * (y2 - y1)
    (continuous coordinates, no +1).

    Args:
        boxes: (N, 4) float tensor of boxes x1, y1, x2, y2 with x1 < x2
            and y1 < y2; N may be 0.
        scores: (N,) float tensor of scores.
        iou_threshold: suppress a box whose IoU with a kept box is > this.

    Returns:
        An int64 tensor (or list) of the indices of the kept boxes, by
        descending score; boxes and scores are left unchanged.
    """
    order = torch.argsort(scores, descending=True)
    x1, y1, x2, y2 = boxes.unbind(-1)
    areas = (x2 - x1) * (y2 - y1)
    suppressed = torch.zeros(boxes.shape[0], dtype=torch.bool, device=boxes.device)
    keep = []
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        # IoU of box i with every box; mark the ones that overlap it too much.
        w = (torch.minimum(x2, x2[i]) - torch.maximum(x1, x1[i])).clamp(min=0)
        h = (torch.minimum(y2, y2[i]) - torch.maximum(y1, y1[i])).clamp(min=0)
        inter = w * h
        iou = inter / (areas + areas[i] - inter)
        suppressed |= iou > iou_threshold
    return torch.tensor(keep, dtype=torch.int64, device=boxes.device)


# --- checker --------------------------------------------------------------------------------


def _iou(a, b, clamp=True, subtract=True, plus_one=False):
    """IoU of two boxes given as 4-tuples of Python floats (float64 arithmetic); without
    `clamp`, the mistake of not clamping the overlap's width and height at 0; without
    `subtract`, that of a union that counts the overlap twice (the two areas summed); with
    `plus_one`, that of the old +1 pixel convention in the areas (not in the overlap)."""
    pad = 1.0 if plus_one else 0.0
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0.0, w) * max(0.0, h) if clamp else w * h
    union = (a[2] - a[0] + pad) * (a[3] - a[1] + pad) + (b[2] - b[0] + pad) * (b[3] - b[1] + pad)
    union -= inter if subtract else 0.0
    return inter / union if union else float("inf")


def _brute(boxes, scores, thr, reverse_ties=False, **mistake):
    """Plain-Python greedy NMS; ties in score broken by index (or by reversed index); with
    `mistake`, `_iou`'s keywords for a mistaken IoU."""
    n = len(boxes)
    sign = -1 if reverse_ties else 1
    order = sorted(range(n), key=lambda i: (-scores[i], sign * i))
    keep = []
    for i in order:
        if all(_iou(boxes[i], boxes[j], **mistake) <= thr for j in keep):
            keep.append(i)
    return keep


NO_CLAMP = (
    "boxes that do not overlap got a nonzero intersection: clamp the overlap's width and "
    "height at 0, max(0, min(x2) - max(x1)), before multiplying them (two negatives make a "
    "positive area)"
)
UNION_TWICE = (
    "overlapping boxes were kept: the union is area_a + area_b - intersection (the two areas "
    "alone count the overlap twice, so the IoU comes out too small)"
)
PLUS_ONE = (
    "the area is (x2 - x1) * (y2 - y1), without the old +1 pixel convention (a +1 in the areas "
    "makes the IoU too small, so overlapping boxes are kept)"
)
TOO_SMALL = (
    "overlapping boxes were kept, so the IoU came out too small: the union is area_a + area_b "
    "- intersection, and the area is (x2 - x1) * (y2 - y1), with no +1"
)
EMPTY_FLOAT = (
    "torch.tensor([]) is a float32 tensor: give dtype=torch.int64 (or return the list), so "
    "that no boxes keep no indices"
)

INT64 = (
    "the card asks for int64 indices, as torchvision.ops.nms returns: give "
    "dtype=torch.int64 (or return the list)"
)


def _indices(got, what):
    """The learner's result as a list of Python ints, from the int64 tensor or the list (or
    tuple) the card asks for: a numpy array, a tensor of int32 or another dtype, and a list of
    0-d tensors passed where they held the right numbers."""
    expect(got is not None, what, "returned None (a missing `return`?)")
    if isinstance(got, torch.Tensor):
        got = got.detach().cpu()
        dtype = str(got.dtype).removeprefix("torch.")
        expect(
            got.dtype == torch.int64,
            what,
            f"returned a tensor of dtype {dtype}, expected an int64 tensor (or a list)",
            hint=EMPTY_FLOAT if got.numel() == 0 and got.is_floating_point() else INT64,
        )
        expect(
            got.dim() == 1, what, f"returned a tensor of shape {tuple(got.shape)}, expected (K,)"
        )
        return [int(i) for i in got.tolist()]
    expect(
        type(got).__module__ != "numpy",
        what,
        f"returned a numpy {describe(got)}, expected an int64 tensor or a list",
        hint="convert it: torch.from_numpy(a) of an int64 array, or a.tolist()",
    )
    expect(
        isinstance(got, (list, tuple)),
        what,
        f"returned {type(got).__name__}, expected a tensor or list of indices",
    )
    return plain_ints(got, what, hint="return the kept indices as ints")


SCORE_SENTINEL = (
    "scores may be negative or 0 (logits): every box is visited, so mark suppressed boxes in a "
    "mask of your own, not by overwriting their score with 0 or -1 and stopping at it"
)

IN_PLACE = (
    "leave boxes and scores as they came: mark suppressed boxes in a mask of your own (or "
    "work on scores.clone()), not by writing -inf into the caller's scores"
)


def _check_case(impl, boxes, scores, thr, device, hint=""):
    b = torch.tensor(boxes, dtype=torch.float32, device=device).reshape(-1, 4)
    s = torch.tensor(scores, dtype=torch.float32, device=device)
    # Ground truth from the float32 values the learner sees.
    boxes64 = [tuple(float(v) for v in row) for row in b.cpu().tolist()]
    scores64 = [float(v) for v in s.cpu().tolist()]
    shown = boxes if len(boxes) <= 2 else describe(b, 16)  # up to 4 boxes in full
    what = f"nms(boxes={shown}, scores={describe(s)}, iou_threshold={thr})"
    got = _indices(call_unchanged(impl, what, ("boxes", "scores"), b, s, thr, hint=IN_PLACE), what)
    options = [_brute(boxes64, scores64, thr), _brute(boxes64, scores64, thr, reverse_ties=True)]
    expect(len(set(got)) == len(got), what, f"returned repeated indices {got}")
    expect(all(0 <= i < len(boxes) for i in got), what, f"returned indices out of range: {got}")
    ranked = [scores64[i] for i in got]
    expect(
        all(a >= b_ for a, b_ in zip(ranked, ranked[1:])),
        what,
        f"kept indices {got} are not in descending order of score ({ranked})",
        hint="return the kept indices in the order you visit them: highest score first",
    )
    for want in options:
        if sorted(got) == sorted(want):
            return

    def made(**mistake):  # whether the answer kept what this mistaken IoU keeps
        wrong = [_brute(boxes64, scores64, thr, r, **mistake) for r in (False, True)]
        return any(sorted(got) == sorted(keep) for keep in wrong)

    twice = made(subtract=False)
    plus_one = made(plus_one=True)  # (+1 in the overlap too: the first case's own hint)
    if made(clamp=False):
        hint = NO_CLAMP
    elif twice or plus_one:  # (on one case the two may keep the same boxes)
        hint = TOO_SMALL if twice and plus_one else UNION_TWICE if twice else PLUS_ONE
    assert_equal(got, options[0], what, hint=hint)


def _random_boxes(rng, n, spread, max_size):
    boxes = []
    for _ in range(n):
        x1, y1 = rng.uniform(0, spread), rng.uniform(0, spread)
        w, h = rng.uniform(0.5, max_size), rng.uniform(0.5, max_size)
        boxes.append([x1, y1, x1 + w, y1 + h])
    return boxes


NO_TORCHVISION = (
    "the card is NMS itself, written with torch operations: torchvision (its ops.nms, "
    "batched_nms or box_iou) is off limits"
)


def check_nms(impl, device="cpu") -> None:
    impl = without_package(impl, "torchvision", reason=NO_TORCHVISION)
    # torchvision's operator, torch.ops.torchvision.nms, is in torch's registry once something
    # has imported torchvision (the answer's module at its top, keeping no name of it), and
    # calling it imports nothing
    impl = forbid(impl, "nms", reason=NO_TORCHVISION)
    # Small boxes, where a +1 in the area changes the IoU a lot: IoU
    # 1/3 is kept at threshold 0.4, while the +1 convention gives 3/5 and drops the box.
    _check_case(
        impl,
        [[0, 0, 1, 1], [0.5, 0, 1.5, 1]],
        [0.9, 0.8],
        0.4,
        device,
        hint=PLUS_ONE,
    )
    # IoU exactly equal to the threshold is kept. Box 1 covers half of box 0: IoU = 2/4 = 0.5.
    _check_case(
        impl,
        [[0, 0, 2, 2], [0, 0, 2, 1]],
        [0.9, 0.8],
        0.5,
        device,
        hint="drop a box only when IoU > threshold; IoU == threshold is kept",
    )
    # IoU 0.8 of small boxes at threshold 0.3, dropped: a +1 in the areas alone gives 0.12 and
    # keeps it, a union that counts the overlap twice 0.44 and drops it; then IoU 0.6 of large
    # boxes at 0.5, dropped: the +1 gives 0.58, the union counted twice 0.375 and keeps it.
    _check_case(impl, [[0, 0, 1, 1], [0, 0, 1, 0.8]], [0.9, 0.8], 0.3, device)
    _check_case(impl, [[0, 0, 100, 100], [0, 0, 100, 60]], [0.9, 0.8], 0.5, device)
    _check_case(impl, [[0, 0, 2, 2], [0, 0, 2, 1]], [0.9, 0.8], 0.4, device)
    # Three boxes in a row: IoU(0, 1) = 1/3, IoU(1, 2) = 1/3, IoU(0, 2) = 0.
    row = [[0, 0, 2, 1], [1, 0, 3, 1], [2, 0, 4, 1]]
    _check_case(
        impl,
        row,
        [0.9, 0.8, 0.7],
        0.3,
        device,
        hint="a suppressed box must not suppress others: compare only with kept boxes",
    )
    _check_case(impl, row, [0.7, 0.9, 0.8], 0.3, device, hint="visit boxes by descending score")
    # IoU exactly 1/4 (exact in float32 too) with threshold 0.25: kept.
    _check_case(
        impl,
        [[0, 0, 4, 1], [0, 0, 1, 1], [3, 0, 4, 1]],
        [0.9, 0.8, 0.7],
        0.25,
        device,
        hint="drop a box only when IoU > threshold; IoU == threshold is kept",
    )
    # The highest score is not the first box.
    _check_case(
        impl,
        [[0, 0, 4, 4], [1, 1, 5, 5], [10, 10, 12, 12], [0.5, 0.5, 4.5, 4.5]],
        [0.1, 0.95, 0.5, 0.6],
        0.5,
        device,
        hint="visit boxes by descending score",
    )
    # Ties: identical boxes with identical scores (either one may be kept), and tied, disjoint boxes.
    _check_case(impl, [[0, 0, 1, 1], [0, 0, 1, 1]], [0.5, 0.5], 0.5, device)
    _check_case(impl, [[0, 0, 1, 1], [5, 5, 6, 6], [0, 0, 1, 1.2]], [0.5, 0.5, 0.4], 0.5, device)
    # Scores are any floats (logits): negative and zero scores are boxes like any other.
    _check_case(
        impl,
        [
            [0, 0, 2, 2],
            [5, 5, 7, 7],
            [0, 0, 2, 2.2],
            [10, 0, 12, 2],
            [5, 5, 7, 7.5],
            [20, 0, 21, 1],
        ],
        [-0.5, 1.25, -2.0, 0.0, -1.0, -3.0],
        0.5,
        device,
        hint=SCORE_SENTINEL,
    )
    # Single box, disjoint boxes, threshold 0 (any overlap suppresses), threshold 1 (nothing does).
    _check_case(impl, [[1, 2, 3, 4]], [0.3], 0.5, device)
    _check_case(impl, [[0, 0, 1, 1], [2, 2, 3, 3], [4, 4, 5, 5]], [0.2, 0.9, 0.5], 0.0, device)
    _check_case(impl, [[0, 0, 2, 2], [1, 1, 3, 3], [0, 0, 2, 2.5]], [0.2, 0.9, 0.5], 0.0, device)
    _check_case(impl, [[0, 0, 2, 2], [0, 0, 2, 2], [0, 0, 2, 2.5]], [0.2, 0.9, 0.5], 1.0, device)

    # Empty input.
    empty_b = torch.zeros((0, 4), dtype=torch.float32, device=device)
    empty_s = torch.zeros((0,), dtype=torch.float32, device=device)
    what = "nms(boxes of shape (0, 4), scores of shape (0,), iou_threshold=0.5)"
    got = _indices(call(impl, what, empty_b, empty_s, 0.5), what)
    assert_equal(got, [], what)

    rng = random.Random(0)
    for _ in range(120):
        n = rng.choice([1, 2, 3, rng.randint(4, 12), rng.randint(13, 60)])
        spread = rng.choice([3.0, 10.0, 40.0])
        max_size = rng.choice([2.0, 6.0, 20.0])
        boxes = _random_boxes(rng, n, spread, max_size)
        scores = [rng.random() for _ in range(n)]
        thr = rng.choice([0.1, 0.3, 0.5, 0.7, 0.9, rng.random()])
        as32 = torch.tensor(boxes, dtype=torch.float32).tolist()
        if any(abs(_iou(a, b) - thr) < 1e-5 for a in as32 for b in as32):
            continue  # float32 rounding could decide this one either way
        _check_case(impl, boxes, scores, thr, device)


# --- wrong answers --------------------------------------------------------------------------


def _pairwise_iou(boxes, plus_one=False, clamp=True, subtract=True, plus_one_in_overlap=True):
    e = 1.0 if plus_one else 0.0
    inner = e if plus_one_in_overlap else 0.0
    x1, y1, x2, y2 = boxes.unbind(-1)
    areas = (x2 - x1 + e) * (y2 - y1 + e)
    w = torch.minimum(x2[:, None], x2[None]) - torch.maximum(x1[:, None], x1[None]) + inner
    h = torch.minimum(y2[:, None], y2[None]) - torch.maximum(y1[:, None], y1[None]) + inner
    inter = w.clamp(min=0) * h.clamp(min=0) if clamp else w * h
    return inter / (areas[:, None] + areas[None] - (inter if subtract else 0))


def _greedy(order, iou, drop):
    keep = []
    for i in order:
        if not any(drop(float(iou[i, j])) for j in keep):
            keep.append(i)
    return keep


@fails_with("IoU == threshold is kept")
def _wrong_ge(boxes, scores, iou_threshold):
    """Drops a box when IoU >= threshold, so a box exactly at the threshold is lost."""
    order = torch.argsort(scores, descending=True).tolist()
    return _greedy(order, _pairwise_iou(boxes), lambda v: v >= iou_threshold)


@fails_with("not in descending order of score")
def _wrong_unsorted(boxes, scores, iou_threshold):
    """Visits the boxes in input order instead of sorting them by score."""
    order = list(range(boxes.shape[0]))
    return _greedy(order, _pairwise_iou(boxes), lambda v: v > iou_threshold)


@fails_with("without the old +1 pixel convention")
def _wrong_plus_one(boxes, scores, iou_threshold):
    """Computes areas and overlaps with the old +1 pixel convention, (x2 - x1 + 1) (y2 - y1 + 1)."""
    order = torch.argsort(scores, descending=True).tolist()
    return _greedy(order, _pairwise_iou(boxes, plus_one=True), lambda v: v > iou_threshold)


@fails_with("without the old +1 pixel convention (a +1 in the areas")
def _wrong_plus_one_in_areas(boxes, scores, iou_threshold):
    """Adds the old +1 to the areas but not to the overlap: every IoU comes out too small (a
    checker that knew only the union counted twice named that mistake instead)."""
    order = torch.argsort(scores, descending=True).tolist()
    iou = _pairwise_iou(boxes, plus_one=True, plus_one_in_overlap=False)
    return _greedy(order, iou, lambda v: v > iou_threshold)


@fails_with("a suppressed box must not suppress others")
def _wrong_suppressed_suppress(boxes, scores, iou_threshold):
    """Lets already-suppressed boxes suppress others: compares with every higher-scored box."""
    order = torch.argsort(scores, descending=True).tolist()
    iou = _pairwise_iou(boxes)
    return [
        i
        for pos, i in enumerate(order)
        if all(float(iou[i, j]) <= iou_threshold for j in order[:pos])
    ]


@fails_with("clamp the overlap's width and height at 0")
def _wrong_no_clamp(boxes, scores, iou_threshold):
    """Multiplies the overlap's width and height without clamping them at 0: two disjoint boxes
    (both negative) get a positive intersection."""
    order = torch.argsort(scores, descending=True).tolist()
    return _greedy(order, _pairwise_iou(boxes, clamp=False), lambda v: v > iou_threshold)


@fails_with("the union is area_a + area_b - intersection")
def _wrong_union_twice(boxes, scores, iou_threshold):
    """Divides the intersection by the two areas summed, without subtracting the overlap:
    every IoU comes out too small, and boxes that overlap too much are kept."""
    order = torch.argsort(scores, descending=True).tolist()
    return _greedy(order, _pairwise_iou(boxes, subtract=False), lambda v: v > iou_threshold)


@fails_with("torch.tensor([]) is a float32 tensor")
def _wrong_empty_float(boxes, scores, iou_threshold):
    """Returns torch.tensor(keep) without a dtype: right for any box, but no boxes give a
    float32 tensor, not indices."""
    order = torch.argsort(scores, descending=True).tolist()
    keep = _greedy(order, _pairwise_iou(boxes), lambda v: v > iou_threshold)
    return torch.tensor(keep, device=scores.device)


@fails_with("modified its input scores in place")
def _wrong_scores_overwritten(boxes, scores, iou_threshold):
    """Takes the best remaining box with argmax, then knocks it and the boxes it suppresses out
    by writing -inf into the caller's scores: the right indices, but scores is changed."""
    iou = _pairwise_iou(boxes)
    keep = []
    while bool((scores > float("-inf")).any()):
        i = int(scores.argmax())
        keep.append(i)
        scores[iou[i] > iou_threshold] = float("-inf")
        scores[i] = float("-inf")
    return keep


@fails_with("scores may be negative or 0")
def _wrong_zero_sentinel(boxes, scores, iou_threshold):
    """Marks taken and suppressed boxes by setting their score (in a copy) to 0 and stops when
    the best score left is 0: right for probabilities, but boxes with scores <= 0 are lost."""
    s = scores.clone()
    iou = _pairwise_iou(boxes)
    keep = []
    while s.numel() and float(s.max()) > 0:
        i = int(s.argmax())
        keep.append(i)
        s[iou[i] > iou_threshold] = 0
        s[i] = 0
    return keep


@fails_with("the answer uses torchvision.ops.nms: the card is NMS itself")
def _wrong_torchvision(boxes, scores, iou_threshold):
    """Hands the work to torchvision.ops.nms, which the card rules out (the checker passed it
    while only the prompt said no)."""
    from torchvision.ops import nms as torchvision_nms  # inside the body: torchvision is optional

    return torchvision_nms(boxes, scores, iou_threshold)


@fails_with("the answer uses torchvision.ops.box_iou")
def _wrong_torchvision_iou(boxes, scores, iou_threshold):
    """Writes the greedy loop but takes the IoU matrix from torchvision.ops.box_iou."""
    import torchvision.ops

    order = torch.argsort(scores, descending=True).tolist()
    return _greedy(order, torchvision.ops.box_iou(boxes, boxes), lambda v: v > iou_threshold)


def _nms_operator():
    """An operator named nms in torch's registry, as importing torchvision registers one
    (torch.ops.torchvision.nms): here one that runs the reference, so that the wrong answer
    below runs where torchvision is missing."""
    namespace = torch.ops.studycli_wrong_answers
    if not hasattr(namespace, "nms"):
        qualified = "studycli_wrong_answers::nms"
        torch.library.define(qualified, "(Tensor boxes, Tensor scores, float iou) -> Tensor")
        torch.library.impl(qualified, "CompositeExplicitAutograd", nms)
    return namespace.nms


@fails_with("the answer calls nms: the card is NMS itself")
def _wrong_torch_operator(boxes, scores, iou_threshold):
    """Calls an operator of torch's registry named nms, as torchvision's is.
    (torch.ops.torchvision.nms is there once a module has imported torchvision: one that did so
    at its top and kept no name of it passed a refusal of the package and of its names.)"""
    return _nms_operator()(boxes, scores, iou_threshold)


@fails_with("returned a numpy array([0, 1], dtype=int64), expected an int64 tensor or a list")
def _wrong_numpy_array(boxes, scores, iou_threshold):
    """Runs the greedy loop in numpy and returns the numpy array of kept indices: neither the
    int64 tensor nor the list the card asks for."""
    import numpy as np

    order = np.argsort(-scores.cpu().numpy(), kind="stable")
    iou = _pairwise_iou(boxes).cpu().numpy()
    return np.array(_greedy(order.tolist(), iou, lambda v: v > iou_threshold), dtype=np.int64)


@fails_with("returned a tensor of dtype int32, expected an int64 tensor")
def _wrong_int32(boxes, scores, iou_threshold):
    """Returns the kept indices as an int32 tensor: the card asks for int64 (torchvision's
    nms returns int64, and indexing code may expect it)."""
    order = torch.argsort(scores, descending=True).tolist()
    keep = _greedy(order, _pairwise_iou(boxes), lambda v: v > iou_threshold)
    return torch.tensor(keep, dtype=torch.int32, device=boxes.device)


@fails_with("returned items such as tensor(0, dtype=int64), expected ints")
def _wrong_tensor_items(boxes, scores, iou_threshold):
    """Returns a list of 0-d tensors (for i in argsort(...), no .tolist()), not of ints."""
    iou = _pairwise_iou(boxes)
    keep = []
    for i in torch.argsort(scores, descending=True):
        if all(iou[i, j] <= iou_threshold for j in keep):
            keep.append(i)
    return keep


WRONG_ANSWERS = {
    "nms": [
        _wrong_zero_sentinel,
        _wrong_ge,
        _wrong_unsorted,
        _wrong_plus_one,
        _wrong_plus_one_in_areas,
        _wrong_suppressed_suppress,
        _wrong_no_clamp,
        _wrong_union_twice,
        _wrong_empty_float,
        _wrong_scores_overwritten,
        _wrong_numpy_array,
        _wrong_int32,
        _wrong_tensor_items,
        _wrong_torchvision,
        _wrong_torchvision_iou,
        _wrong_torch_operator,
    ],
}


# --- correct variants -----------------------------------------------------------------------


def _variant_matrix(boxes, scores, iou_threshold):
    """The whole IoU matrix up front, a Python list of kept indices as the result."""
    order = torch.argsort(scores, descending=True).tolist()
    return _greedy(order, _pairwise_iou(boxes), lambda v: v > iou_threshold)


CORRECT_VARIANTS = {"nms": [_variant_matrix]}
