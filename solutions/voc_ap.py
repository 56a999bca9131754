"""Average precision as defined by the PASCAL VOC devkit (VOC2007 11-point and VOC2010+ all-point)."""

import numpy as np

from studycli.assertions import (
    assert_close,
    call_unchanged,
    describe,
    expect,
    fails_with,
)


def average_precision(
    recall,
    precision,
    use_07_metric: bool = False,
) -> float:
    """Average precision of one class
    from its PR points, VOC devkit style.

    Args:
        recall: numpy array (n,), the recall after each detection, ranked
            by descending confidence (so recall never decreases).
        precision: numpy array (n,), the matching precision values.
        use_07_metric: True for VOC2007's 11-point metric: the mean over
            t = 0, 0.1, ..., 1 of the largest precision among the points
            with recall >= t (0 when there is none).
            False for the VOC2010+ all-point metric: pad recall with 0 in
            front and 1 at the end, precision with 0 at both ends; replace
            each precision by the largest precision at that point or after
            it (the envelope); sum (r[i+1] - r[i]) * p[i+1] over the i
            where recall changes.

    Returns:
        The AP as a float in [0, 1].
    """
    recall = np.asarray(recall, dtype=np.float64)
    precision = np.asarray(precision, dtype=np.float64)
    if use_07_metric:
        total = 0.0
        for t in np.linspace(0.0, 1.0, 11):
            reached = recall >= t
            total += precision[reached].max() if reached.any() else 0.0
        return float(total / 11.0)
    r = np.concatenate(([0.0], recall, [1.0]))
    p = np.concatenate(([0.0], precision, [0.0]))
    envelope = np.maximum.accumulate(p[::-1])[::-1]  # max precision at this recall or beyond
    steps = np.flatnonzero(r[1:] != r[:-1])
    return float(np.sum((r[steps + 1] - r[steps]) * envelope[steps + 1]))


# --- checker --------------------------------------------------------------------------------


def _devkit_ap(rec, prec, use_07_metric):
    """The VOC devkit's voc_ap, written out as it is there (loops and all)."""
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            p = 0.0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
            ap += p / 11.0
        return ap
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = max(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def _from_ranking(hits, npos):
    """Recall and precision after each of the ranked detections (hits: 1 = TP, 0 = FP)."""
    tp = np.cumsum(hits).astype(np.float64)
    fp = np.cumsum(1 - np.asarray(hits)).astype(np.float64)
    return tp / npos, tp / np.maximum(tp + fp, np.finfo(np.float64).eps)


def _cases(rng):
    # Recall values k / npos with npos coprime to 10 never sit exactly on a threshold t = j / 10
    # (except 0 and 1), so the 11-point metric does not hinge on rounding of t.
    yield _from_ranking([1, 0, 1, 1, 0, 0, 1], 7)  # reaches recall 4/7 and stops
    yield _from_ranking([1, 1, 0, 0, 0, 1, 0, 1, 1], 9)
    yield _from_ranking([0, 0, 1, 0, 1], 3)
    yield _from_ranking([1], 1)  # a single perfect detection
    yield _from_ranking([0, 0, 0], 11)  # no true positive at all
    yield _from_ranking([1, 1, 0, 1, 0, 1], 4)  # recall hits 0.5 and 1.0 exactly
    yield _from_ranking([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], 7)  # a saw-tooth PR curve
    npos_choices = [1, 3, 7, 9, 11, 13, 17, 19, 21, 23, 27, 31, 33, 37]
    for _ in range(150):
        npos = int(rng.choice(npos_choices))
        n_det = int(rng.integers(1, 4 * npos + 3))
        hits = (rng.random(n_det) < rng.uniform(0.1, 0.9)).astype(np.int64)
        hits = hits * (np.cumsum(hits) <= npos)  # no more true positives than objects
        yield _from_ranking(hits, npos)


def _ap_no_envelope(r, p):
    r, p = np.concatenate(([0.0], r, [1.0])), np.concatenate(([0.0], p, [0.0]))
    i = np.flatnonzero(r[1:] != r[:-1])
    return float(np.sum((r[i + 1] - r[i]) * p[i + 1]))


def _ap_envelope_from_left(r, p):
    r, p = np.concatenate(([0.0], r, [1.0])), np.concatenate(([0.0], p, [0.0]))
    p = np.maximum.accumulate(p)
    i = np.flatnonzero(r[1:] != r[:-1])
    return float(np.sum((r[i + 1] - r[i]) * p[i + 1]))


def _ap_mean_envelope(r, p):
    return float(np.maximum.accumulate(np.asarray(p, dtype=np.float64)[::-1])[::-1].mean())


def _ap_trapezoid(r, p):
    r, p = np.concatenate(([0.0], r)), np.concatenate(([1.0], p))
    return float(np.sum((r[1:] - r[:-1]) * (p[1:] + p[:-1]) / 2.0))


def _ap_11pt_exact(r, p):
    values = [
        p[np.isclose(r, t)].max() if np.isclose(r, t).any() else 0.0 for t in np.linspace(0, 1, 11)
    ]
    return float(np.mean(values))


def _ap_10pt(r, p):
    values = [p[r >= t].max() if (r >= t).any() else 0.0 for t in np.arange(10) / 10.0]
    return float(np.mean(values))


# Models of the usual mistakes, per metric: (recall, precision) -> AP, and the hint for each.
_MISTAKES = {
    False: (
        (
            _ap_no_envelope,
            "this is the area under the raw precision: replace each precision by the largest "
            "precision at that recall or beyond (the envelope) first",
        ),
        (
            _ap_envelope_from_left,
            "this envelope is a running max from the left (the largest precision so far): each "
            "precision becomes the largest at that recall or beyond, a running max from the right",
        ),
        (
            _ap_mean_envelope,
            "this is the mean envelope precision over the points: weight each by the recall "
            "step r[i+1] - r[i] instead",
        ),
        (
            _ap_trapezoid,
            "this is a trapezoid area under the raw PR points: VOC sums rectangles "
            "(r[i+1] - r[i]) * envelope[i+1] where recall changes",
        ),
    ),
    True: (
        (
            _ap_11pt_exact,
            "this takes the precision where recall equals t exactly; use the largest precision "
            "among all points with recall >= t",
        ),
        (
            _ap_10pt,
            "this averages 10 thresholds: t runs over 0, 0.1, ..., 1 inclusive, 11 values",
        ),
    ),
}


def _diagnose(got, recall, precision, use_07, default):
    for model, hint in _MISTAKES[use_07]:
        if abs(got - model(recall, precision)) <= 1e-9:
            return hint
    return default


def _call_unmodified(impl, what, recall, precision, *rest):
    """The answer on the caller's recall and precision, which must come back as they went in."""
    return call_unchanged(
        impl,
        what,
        ("recall", "precision"),
        recall,
        precision,
        *rest,
        hint="the caller's arrays must not change: build the padded envelope in a new array "
        "(np.concatenate, np.maximum.accumulate return new ones), never write into precision[...]",
    )


def check_average_precision(impl, device="cpu") -> None:
    rng = np.random.default_rng(0)
    hints = {
        True: "VOC2007: at each t in 0, 0.1, ..., 1 take the MAX precision over all points with "
        "recall >= t (not the precision at recall == t), then average the 11 values",
        False: "VOC2010+: pad (0 | recall | 1), (0 | precision | 0), make precision non-increasing "
        "from the right (running max), then sum delta-recall * precision only where recall changes",
    }
    for recall, precision in _cases(rng):
        for use_07 in (False, True):
            what = (
                f"average_precision(recall={describe(np.round(recall, 4))}, "
                f"precision={describe(np.round(precision, 4))}, use_07_metric={use_07})"
            )
            got = _call_unmodified(impl, what, recall, precision, use_07)
            expect(got is not None, what, "returned None (a missing `return`?)")
            expect(np.ndim(got) == 0, what, f"returned {describe(got)}, expected one number")
            want = _devkit_ap(recall, precision, use_07)
            hint = hints[use_07]
            if abs(float(got) - want) > 1e-6 + 1e-6 * abs(want):
                hint = _diagnose(float(got), recall, precision, use_07, hint)
            assert_close(float(got), want, what, atol=1e-6, rtol=1e-6, hint=hint)
    # The default is the all-point metric.
    recall, precision = _from_ranking([1, 0, 0, 1, 1], 7)
    what = "average_precision(recall, precision) with use_07_metric left at its default"
    assert_close(
        float(_call_unmodified(impl, what, recall, precision)),
        _devkit_ap(recall, precision, False),
        what,
        atol=1e-6,
        rtol=1e-6,
        hint="use_07_metric defaults to False (all-point AP)",
    )


# --- wrong answers --------------------------------------------------------------------------


@fails_with("area under the raw precision")
def _wrong_no_envelope(recall, precision, use_07_metric=False):
    """All-point AP with the raw precision: forgets the running-max envelope."""
    if use_07_metric:
        return average_precision(recall, precision, True)
    r = np.concatenate(([0.0], recall, [1.0]))
    p = np.concatenate(([0.0], precision, [0.0]))
    steps = np.flatnonzero(r[1:] != r[:-1])
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


@fails_with("where recall equals t exactly")
def _wrong_11pt_exact_recall(recall, precision, use_07_metric=False):
    """11-point AP using the precision where recall == t exactly, instead of max over recall >= t."""
    if not use_07_metric:
        return average_precision(recall, precision, False)
    total = 0.0
    for t in np.linspace(0.0, 1.0, 11):
        at = np.isclose(recall, t)
        total += precision[at].max() if at.any() else 0.0
    return total / 11.0


@fails_with("a running max from the left")
def _wrong_envelope_from_left(recall, precision, use_07_metric=False):
    """All-point AP whose envelope is np.maximum.accumulate(p), the largest precision so far,
    where it is the largest from that point on."""
    if use_07_metric:
        return average_precision(recall, precision, True)
    return _ap_envelope_from_left(recall, precision)


@fails_with("mean envelope precision over the points")
def _wrong_mean_over_all_points(recall, precision, use_07_metric=False):
    """All-point AP as the mean envelope precision over every point, not weighted by recall steps."""
    if use_07_metric:
        return average_precision(recall, precision, True)
    p = np.maximum.accumulate(np.asarray(precision, dtype=np.float64)[::-1])[::-1]
    return float(p.mean())


@fails_with("trapezoid area")
def _wrong_trapezoid(recall, precision, use_07_metric=False):
    """All-point AP as the trapezoid area under the raw PR points (no envelope, no step rule)."""
    if use_07_metric:
        return average_precision(recall, precision, True)
    r = np.concatenate(([0.0], recall))
    p = np.concatenate(([1.0], precision))
    return float(np.sum((r[1:] - r[:-1]) * (p[1:] + p[:-1]) / 2.0))


@fails_with("averages 10 thresholds")
def _wrong_10_thresholds(recall, precision, use_07_metric=False):
    """11-point AP that averages over t = 0, 0.1, ..., 0.9 only (drops t = 1)."""
    if not use_07_metric:
        return average_precision(recall, precision, False)
    total = 0.0
    for t in np.arange(10) / 10.0:
        reached = recall >= t
        total += precision[reached].max() if reached.any() else 0.0
    return total / 10.0


@fails_with("modified its input precision in place")
def _wrong_envelope_in_place(recall, precision, use_07_metric=False):
    """Right AP, but writes the envelope into the caller's precision array (precision[:] = ...)."""
    if not use_07_metric:
        precision[:] = np.maximum.accumulate(precision[::-1])[::-1]
    return average_precision(recall, precision, use_07_metric)


WRONG_ANSWERS = {
    "average_precision": [
        _wrong_no_envelope,
        _wrong_envelope_from_left,
        _wrong_11pt_exact_recall,
        _wrong_mean_over_all_points,
        _wrong_trapezoid,
        _wrong_10_thresholds,
        _wrong_envelope_in_place,
    ],
}


def _variant_loops(recall, precision, use_07_metric=False):
    """Plain Python loops over lists, interpolated precision computed point by point."""
    recall, precision = [float(r) for r in recall], [float(p) for p in precision]
    if use_07_metric:
        values = []
        for j in range(11):
            ps = [p for r, p in zip(recall, precision) if r >= j / 10]
            values.append(max(ps) if ps else 0.0)
        return np.float32(sum(values) / 11)
    area, previous = 0.0, 0.0
    for i, r in enumerate(recall):
        if r != previous:
            area += (r - previous) * max(precision[i:])
            previous = r
    return area


CORRECT_VARIANTS = {"average_precision": [_variant_loops]}
