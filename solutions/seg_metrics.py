"""Semantic-segmentation metrics: pixel accuracy, mean pixel accuracy, mean IoU."""

import numpy as np

from studycli.assertions import assert_close, call_unchanged, describe, expect, fails_with


def segmentation_metrics(
    pred,
    target,
    num_classes: int,
) -> dict[str, float]:
    """Pixel accuracy, mean pixel accuracy and mean IoU of a label map.

    pred and target are left unchanged (they are the caller's label maps).

    Args:
        pred: numpy integer array of predicted labels, any shape, values
            in [0, num_classes).
        target: numpy integer array of true labels, same shape as `pred`.
        num_classes: the number of classes K (some may be in neither map).

    Returns:
        {"pa": ..., "mpa": ..., "miou": ...} as floats. For class c let
        TP_c = #(pred == c and target == c),
        FP_c = #(pred == c, target != c),
        FN_c = #(pred != c, target == c). Then
          pa   = sum_c TP_c / number of pixels
          mpa  = mean of TP_c / (TP_c + FN_c)
                 over the classes present in target (TP_c + FN_c > 0)
          miou = mean of TP_c / (TP_c + FP_c + FN_c)
                 over the classes with TP_c + FP_c + FN_c > 0
    """
    pred = np.asarray(pred).ravel()
    target = np.asarray(target).ravel()
    class_acc, ious, correct = [], [], 0
    for c in range(num_classes):
        is_pred, is_true = pred == c, target == c
        tp = int(np.count_nonzero(is_pred & is_true))
        in_target = int(np.count_nonzero(is_true))  # TP + FN
        union = int(np.count_nonzero(is_pred | is_true))  # TP + FP + FN
        correct += tp
        if in_target:
            class_acc.append(tp / in_target)
        if union:
            ious.append(tp / union)
    return {
        "pa": correct / pred.size,
        "mpa": float(sum(class_acc) / len(class_acc)),
        "miou": float(sum(ious) / len(ious)),
    }


# --- checker --------------------------------------------------------------------------------


def _expected(pred, target, k):
    """Ground truth from the confusion matrix M[t, p] = #(target == t, pred == p)."""
    conf = (
        np.bincount(
            target.ravel().astype(np.int64) * k + pred.ravel().astype(np.int64), minlength=k * k
        )
        .reshape(k, k)
        .astype(np.float64)
    )
    tp = np.diag(conf)
    in_target = conf.sum(axis=1)
    union = in_target + conf.sum(axis=0) - tp
    return {
        "pa": tp.sum() / conf.sum(),
        "mpa": float(np.mean(tp[in_target > 0] / in_target[in_target > 0])),
        "miou": float(np.mean(tp[union > 0] / union[union > 0])),
    }


def _cases(rng):
    a = np.array
    # A small hand example: class 2 only in pred, class 3 nowhere.
    yield a([[0, 0, 1], [1, 1, 2]]), a([[0, 1, 1], [1, 0, 0]]), 4
    yield a([0, 1, 2, 3]), a([0, 1, 2, 3]), 4  # perfect
    yield a([3, 3, 3, 3]), a([0, 1, 2, 3]), 4
    yield np.zeros((4, 4), dtype=np.int64), a([[0] * 4] * 3 + [[0, 0, 1, 1]]), 2  # all background
    yield a([[1, 1], [1, 1]]), a([[1, 1], [1, 1]]), 5  # one class present
    yield a([2]), a([0]), 3  # a single pixel
    yield a([[0, 5, 5], [5, 5, 0]], dtype=np.uint8), a([[0, 5, 0], [5, 1, 0]], dtype=np.uint8), 21
    # uint8 label maps (as read from PNGs) with 21 classes: t * K + p overflows if kept in uint8.
    yield (
        rng.integers(0, 21, (8, 8)).astype(np.uint8),
        rng.integers(0, 21, (8, 8)).astype(np.uint8),
        21,
    )
    for trial in range(60):
        k = int(rng.integers(2, 12))
        shape = [
            (int(rng.integers(1, 30)),),
            (int(rng.integers(1, 20)), int(rng.integers(1, 20))),
            (2, int(rng.integers(1, 10)), int(rng.integers(1, 10))),
        ][trial % 3]
        present = int(rng.integers(1, k + 1))  # labels in use; the rest are absent
        target = rng.integers(0, present, shape)
        noise = rng.random(shape) < rng.uniform(0.0, 0.8)
        pred = np.where(noise, rng.integers(0, min(k, present + 2), shape), target)
        if trial % 4 == 0:  # a class only ever predicted
            pred.flat[0] = k - 1
        dtype = [np.int64, np.int32, np.uint8][trial % 3]
        yield pred.astype(dtype), target.astype(dtype), k


def _mistake_values(pred, target, k):
    """What the usual mistakes give on this input: {key: [(value, hint), ...]}."""
    conf = (
        np.bincount(
            target.ravel().astype(np.int64) * k + pred.ravel().astype(np.int64), minlength=k * k
        )
        .reshape(k, k)
        .astype(np.float64)
    )
    tp, rows, cols = np.diag(conf), conf.sum(1), conf.sum(0)
    union = rows + cols - tp
    return {
        "mpa": [
            (
                float(np.divide(tp, rows, out=np.zeros_like(tp), where=rows > 0).mean()),
                "class accuracy was averaged over all num_classes, absent classes counting 0: "
                "average only over the classes present in the target",
            ),
            (
                float((tp[cols > 0] / cols[cols > 0]).mean()),
                "this divides by the pixels predicted as the class (TP + FP, a column), which is "
                "precision; class accuracy divides by the class's true pixels, TP + FN (a row)",
            ),
        ],
        "miou": [
            (
                float((tp[cols > 0] / cols[cols > 0]).mean()),
                "the union lacks the missed pixels: IoU = TP / (TP + FP + FN), not TP / (TP + FP)",
            ),
            (
                float(np.divide(tp, union, out=np.zeros_like(tp), where=union > 0).mean()),
                "IoU was averaged over all num_classes, absent classes counting 0: average only "
                "over classes with a non-empty union",
            ),
            (
                float((tp[rows > 0] / union[rows > 0]).mean()),
                "classes that are only predicted were left out of the IoU mean: their IoU is 0 "
                "and must count, or false alarms go unpunished",
            ),
        ],
    }


IN_PLACE_HINT = (
    "build target * K + pred as a new array: np.asarray(target, dtype=np.int64) is the "
    "caller's own array when it is int64 already (and ravel a view of it), so *= and += on it "
    "write into the caller's label map"
)


def check_segmentation_metrics(impl, device="cpu") -> None:
    rng = np.random.default_rng(0)
    hints = {
        "pa": "PA = correctly labelled pixels / all pixels",
        "mpa": "class accuracy is TP / (TP + FN) (a row of the confusion matrix), averaged only "
        "over classes that occur in the target",
        "miou": "IoU is TP / (TP + FP + FN), averaged over classes with a non-empty union "
        "(classes only predicted count, with IoU 0)",
    }
    for pred, target, k in _cases(rng):
        what = f"segmentation_metrics(pred={describe(pred)}, target={describe(target)}, num_classes={k})"
        got = call_unchanged(
            impl, what, ("pred", "target"), pred.copy(), target.copy(), k, hint=IN_PLACE_HINT
        )
        expect(isinstance(got, dict), what, f"returned {type(got).__name__}, expected a dict")
        want = _expected(pred, target, k)
        for key in ("pa", "mpa", "miou"):
            expect(key in got, what, f"the result has no key {key!r} (keys: {sorted(got)})")
            hint = hints[key]
            if pred.dtype == np.uint8:
                hint += "; with uint8 inputs, cast to int64 before computing target * K + pred"
            if abs(float(got[key]) - want[key]) > 1e-6 + 1e-6 * abs(want[key]):
                for value, text in _mistake_values(pred, target, k).get(key, []):
                    if abs(float(got[key]) - value) <= 1e-9 + 1e-9 * abs(value):
                        hint = text
                        break
            assert_close(
                float(got[key]), want[key], f"{what}[{key!r}]", atol=1e-6, rtol=1e-6, hint=hint
            )


# --- wrong answers --------------------------------------------------------------------------


def _confusion(pred, target, k):
    pred, target = (
        np.asarray(pred).ravel().astype(np.int64),
        np.asarray(target).ravel().astype(np.int64),
    )
    return np.bincount(target * k + pred, minlength=k * k).reshape(k, k).astype(np.float64)


@fails_with("class accuracy was averaged over all num_classes")
def _wrong_mpa_over_all_classes(pred, target, num_classes):
    """Averages class accuracy over all num_classes, counting absent classes as 0."""
    conf = _confusion(pred, target, num_classes)
    tp, rows, cols = np.diag(conf), conf.sum(1), conf.sum(0)
    acc = np.divide(tp, rows, out=np.zeros_like(tp), where=rows > 0)
    union = rows + cols - tp
    return {
        "pa": tp.sum() / conf.sum(),
        "mpa": acc.mean(),
        "miou": (tp[union > 0] / union[union > 0]).mean(),
    }


@fails_with("the union lacks the missed pixels")
def _wrong_iou_without_fn(pred, target, num_classes):
    """Computes IoU as TP / (TP + FP), forgetting the missed pixels."""
    conf = _confusion(pred, target, num_classes)
    tp, rows, cols = np.diag(conf), conf.sum(1), conf.sum(0)
    return {
        "pa": tp.sum() / conf.sum(),
        "mpa": (tp[rows > 0] / rows[rows > 0]).mean(),
        "miou": (tp[cols > 0] / cols[cols > 0]).mean(),
    }


@fails_with("which is precision")
def _wrong_mpa_per_predicted_class(pred, target, num_classes):
    """Class accuracy as TP / (TP + FP) (per predicted class): the confusion matrix transposed."""
    conf = _confusion(pred, target, num_classes)
    tp, rows, cols = np.diag(conf), conf.sum(1), conf.sum(0)
    union = rows + cols - tp
    return {
        "pa": tp.sum() / conf.sum(),
        "mpa": (tp[cols > 0] / cols[cols > 0]).mean(),
        "miou": (tp[union > 0] / union[union > 0]).mean(),
    }


@fails_with("IoU was averaged over all num_classes")
def _wrong_miou_over_all_classes(pred, target, num_classes):
    """Averages IoU over all num_classes, counting classes absent from both maps as 0."""
    conf = _confusion(pred, target, num_classes)
    tp, rows, cols = np.diag(conf), conf.sum(1), conf.sum(0)
    union = rows + cols - tp
    iou = np.divide(tp, union, out=np.zeros_like(tp), where=union > 0)
    return {
        "pa": tp.sum() / conf.sum(),
        "mpa": (tp[rows > 0] / rows[rows > 0]).mean(),
        "miou": iou.mean(),
    }


@fails_with("only predicted were left out of the IoU mean")
def _wrong_miou_target_classes_only(pred, target, num_classes):
    """Averages IoU only over classes in the target, ignoring classes that were only predicted."""
    conf = _confusion(pred, target, num_classes)
    tp, rows, cols = np.diag(conf), conf.sum(1), conf.sum(0)
    union = rows + cols - tp
    return {
        "pa": tp.sum() / conf.sum(),
        "mpa": (tp[rows > 0] / rows[rows > 0]).mean(),
        "miou": (tp[rows > 0] / union[rows > 0]).mean(),
    }


@fails_with("modified its input target in place")
def _wrong_index_in_place(pred, target, num_classes):
    """Forms target * K + pred in place (*=, +=) in np.asarray(target, np.int64): the caller's."""
    # asarray copies only to change the dtype, and ravel is a view: an int64 target is written
    index = np.asarray(target, dtype=np.int64).ravel()
    index *= num_classes
    index += np.asarray(pred, dtype=np.int64).ravel()
    k = num_classes
    conf = np.bincount(index, minlength=k * k).reshape(k, k).astype(np.float64)
    tp, rows, cols = np.diag(conf), conf.sum(1), conf.sum(0)
    union = rows + cols - tp
    return {
        "pa": tp.sum() / conf.sum(),
        "mpa": (tp[rows > 0] / rows[rows > 0]).mean(),
        "miou": (tp[union > 0] / union[union > 0]).mean(),
    }


WRONG_ANSWERS = {
    "segmentation_metrics": [
        _wrong_mpa_over_all_classes,
        _wrong_iou_without_fn,
        _wrong_mpa_per_predicted_class,
        _wrong_miou_over_all_classes,
        _wrong_miou_target_classes_only,
        _wrong_index_in_place,
    ],
}


def _variant_torch(pred, target, num_classes):
    """With torch: a confusion matrix by scatter-add, numpy scalars in the result."""
    import torch

    p = torch.as_tensor(np.asarray(pred).astype(np.int64)).flatten()
    t = torch.as_tensor(np.asarray(target).astype(np.int64)).flatten()
    conf = torch.zeros(num_classes * num_classes, dtype=torch.float64)
    conf.index_add_(0, t * num_classes + p, torch.ones_like(p, dtype=torch.float64))
    conf = conf.view(num_classes, num_classes)
    tp, rows, cols = conf.diag(), conf.sum(1), conf.sum(0)
    union = rows + cols - tp
    return {
        "pa": np.float32(tp.sum() / conf.sum()),
        "mpa": np.float32((tp[rows > 0] / rows[rows > 0]).mean()),
        "miou": np.float32((tp[union > 0] / union[union > 0]).mean()),
    }


CORRECT_VARIANTS = {"segmentation_metrics": [_variant_torch]}
