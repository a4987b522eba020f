"""A streaming confusion matrix and the segmentation metrics computed from it (numpy).

Conventions (the same in :class:`~mobseg.metrics.MeanIoU`, :func:`mobseg.evaluate` and the CLI):

* ``cm[i, j]`` counts pixels whose ground truth is class ``i`` and whose prediction is class ``j``
  (rows: ground truth, columns: prediction).
* ``TP_c = cm[c, c]``, ``FN_c = row_c - TP_c``, ``FP_c = column_c - TP_c``.
* Pixels whose label equals ``ignore_index`` are left out before counting.
* **Absent classes.** A class that occurs neither in the ground truth nor in the prediction has no
  IoU and no Dice (``nan``) and is *excluded* from the means. A class that is predicted but never
  occurs in the ground truth has IoU 0 and counts (it is a false alarm). Class accuracy (recall) is
  undefined (``nan``) for a class absent from the ground truth and is left out of the mean class
  accuracy. keras_segmentation instead gives absent classes IoU 0 and averages over all classes.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _as_labels(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ValueError(f"{name} must hold integer class labels; got dtype {array.dtype}.")
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise ValueError(f"{name} must hold integer class labels; got non-integer values.")
        array = array.astype(np.int64)
    return array


def confusion_matrix(
    y_true: Any,
    y_pred: Any,
    n_classes: int,
    ignore_index: int | None = None,
) -> np.ndarray:
    """Count (ground truth, prediction) pairs into an ``(n_classes, n_classes)`` int64 matrix.

    ``y_true`` holds integer labels of any shape. ``y_pred`` holds integer labels of the same shape,
    or class scores with one extra trailing axis of size ``n_classes`` (argmax is taken). Pixels
    whose label equals ``ignore_index`` are skipped. Any other label outside ``0..n_classes-1``
    raises a ``ValueError`` (pass ``ignore_index`` for "void" labels such as 255).

    Example:
        >>> confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1], 2).tolist()
        [[1, 1], [0, 2]]
        >>> confusion_matrix([0, 255, 1], [0, 0, 1], 2, ignore_index=255).tolist()
        [[1, 0], [0, 1]]
    """
    n_classes = int(n_classes)
    if n_classes < 1:
        raise ValueError(f"n_classes must be >= 1; got {n_classes}.")
    y_true = _as_labels(y_true, "y_true")
    y_pred = np.asarray(y_pred)
    if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == n_classes and np.issubdtype(y_pred.dtype, np.floating):
        y_pred = np.argmax(y_pred, axis=-1)
    y_pred = _as_labels(y_pred, "y_pred")
    if y_true.size != y_pred.size:
        raise ValueError(
            f"y_true and y_pred hold different numbers of pixels: shapes {y_true.shape} and {y_pred.shape}. "
            "Pass labels of the same shape, or class scores with one extra trailing axis of size n_classes."
        )
    y_true = y_true.reshape(-1)
    y_pred = y_pred.reshape(-1)
    keep = np.ones(y_true.shape, dtype=bool) if ignore_index is None else y_true != ignore_index
    y_true = y_true[keep]
    y_pred = y_pred[keep]
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        bad = (labels < 0) | (labels >= n_classes)
        if np.any(bad):
            values = np.unique(labels[bad])[:10].tolist()
            hint = " Pass ignore_index for a 'void' label such as 255." if name == "y_true" else ""
            raise ValueError(f"{name} has labels {values} outside 0..{n_classes - 1} (n_classes={n_classes}).{hint}")
    counts = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes).astype(np.int64)


def as_confusion_matrix(cm: Any) -> np.ndarray:
    """``cm`` as a float64 square matrix of counts; a ``ValueError`` for anything else.

    Example:
        >>> as_confusion_matrix([[1, 0], [2, 3]]).shape
        (2, 2)
    """
    cm = np.asarray(cm, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"A confusion matrix must be square (n_classes, n_classes); got shape {cm.shape}.")
    if np.any(cm < 0):
        raise ValueError("A confusion matrix holds counts; it has negative entries.")
    return cm


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.full(np.shape(numerator), np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _nanmean(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


def pixel_accuracy(cm: Any) -> float:
    """Correct pixels / all counted pixels (``nan`` if there are none). Dominated by large classes.

    Example:
        >>> pixel_accuracy([[3, 1], [0, 0]])
        0.75
    """
    cm = as_confusion_matrix(cm)
    total = cm.sum()
    return float(np.trace(cm) / total) if total > 0 else float("nan")


def class_accuracy(cm: Any) -> np.ndarray:
    """Per-class recall ``TP / (TP + FN)``; ``nan`` for classes absent from the ground truth.

    Example:
        >>> class_accuracy([[3, 1], [0, 0]]).tolist()
        [0.75, nan]
    """
    cm = as_confusion_matrix(cm)
    return _divide(np.diag(cm), cm.sum(axis=1))


def mean_class_accuracy(cm: Any) -> float:
    """Mean of :func:`class_accuracy` over the classes present in the ground truth.

    Example:
        >>> mean_class_accuracy([[3, 1], [1, 1]])
        0.625
    """
    return _nanmean(class_accuracy(cm))


def class_iou(cm: Any) -> np.ndarray:
    """Per-class IoU ``TP / (TP + FP + FN)``; ``nan`` for classes absent from ground truth AND prediction.

    Example:
        >>> class_iou([[3, 1, 0], [0, 0, 0], [0, 0, 0]]).tolist()
        [0.75, 0.0, nan]
    """
    cm = as_confusion_matrix(cm)
    tp = np.diag(cm)
    return _divide(tp, cm.sum(axis=0) + cm.sum(axis=1) - tp)


def mean_iou(cm: Any) -> float:
    """Mean of :func:`class_iou` over classes present in the ground truth or the prediction.

    Example:
        >>> mean_iou([[3, 1, 0], [0, 0, 0], [0, 0, 0]])
        0.375
    """
    return _nanmean(class_iou(cm))


def frequency_weighted_iou(cm: Any) -> float:
    """``sum_c freq_c * IoU_c`` with ``freq_c`` = ground-truth pixels of class c / all pixels.

    Classes absent from the ground truth have weight 0, so this agrees with keras_segmentation's
    ``frequency_weighted_IU`` on every confusion matrix.

    Example:
        >>> frequency_weighted_iou([[3, 1], [0, 0]])
        0.75
    """
    cm = as_confusion_matrix(cm)
    total = cm.sum()
    if total == 0:
        return float("nan")
    freq = cm.sum(axis=1) / total
    return float(np.sum(freq * np.nan_to_num(class_iou(cm), nan=0.0)))


def class_dice(cm: Any) -> np.ndarray:
    """Per-class Dice / F1 ``2 TP / (2 TP + FP + FN)``; ``nan`` where the class is absent from both.

    Example:
        >>> class_dice([[3, 1], [0, 0]]).tolist()
        [0.8571428571428571, 0.0]
    """
    cm = as_confusion_matrix(cm)
    tp = np.diag(cm)
    return _divide(2 * tp, cm.sum(axis=0) + cm.sum(axis=1))


def mean_dice(cm: Any) -> float:
    """Mean of :func:`class_dice` over classes present in the ground truth or the prediction.

    Example:
        >>> round(mean_dice([[3, 1], [0, 0]]), 4)
        0.4286
    """
    return _nanmean(class_dice(cm))


__all__ = [
    "as_confusion_matrix",
    "class_accuracy",
    "class_dice",
    "class_iou",
    "confusion_matrix",
    "frequency_weighted_iou",
    "mean_class_accuracy",
    "mean_dice",
    "mean_iou",
    "pixel_accuracy",
]
