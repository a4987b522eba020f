"""A JSON-ready metrics report from a confusion matrix, and its printed table."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mobseg.classes import check_class_names
from mobseg.metrics.confusion import (
    as_confusion_matrix,
    class_accuracy,
    class_dice,
    class_iou,
    confusion_matrix,
    frequency_weighted_iou,
    mean_class_accuracy,
    mean_dice,
    mean_iou,
    pixel_accuracy,
)


def _number(value: float) -> float | None:
    """JSON has no NaN: undefined values are reported as ``None`` (``null``)."""
    return None if math.isnan(value) else float(value)


def segmentation_report(
    cm: Any,
    class_names: list[str] | None = None,
    ignore_index: int | None = None,
) -> dict[str, Any]:
    """All metrics of a confusion matrix as a JSON-serialisable dict.

    Undefined values (a class absent from ground truth and prediction, see
    :mod:`mobseg.metrics.confusion`) are ``None``. Keys: ``pixel_accuracy``, ``mean_class_accuracy``,
    ``mean_iou``, ``frequency_weighted_iou``, ``mean_dice``, ``n_pixels``, ``class_names``,
    ``absent_classes``, ``classes`` (one dict per class: ``index``, ``name``, ``iou``, ``dice``,
    ``accuracy``, ``gt_pixels``, ``pred_pixels``), ``confusion_matrix`` and ``ignore_index``.

    Example:
        >>> report = segmentation_report([[3, 1, 0], [0, 0, 0], [0, 0, 0]], ["a", "b", "c"])
        >>> report["mean_iou"], report["classes"][2]["iou"], report["absent_classes"]
        (0.375, None, ['c'])
    """
    matrix = as_confusion_matrix(cm)
    n_classes = matrix.shape[0]
    names = check_class_names(class_names, n_classes)
    iou, dice, accuracy = class_iou(matrix), class_dice(matrix), class_accuracy(matrix)
    gt_pixels, pred_pixels = matrix.sum(axis=1), matrix.sum(axis=0)
    classes = [
        {
            "index": i,
            "name": names[i],
            "iou": _number(iou[i]),
            "dice": _number(dice[i]),
            "accuracy": _number(accuracy[i]),
            "gt_pixels": int(gt_pixels[i]),
            "pred_pixels": int(pred_pixels[i]),
        }
        for i in range(n_classes)
    ]
    return {
        "pixel_accuracy": _number(pixel_accuracy(matrix)),
        "mean_class_accuracy": _number(mean_class_accuracy(matrix)),
        "mean_iou": _number(mean_iou(matrix)),
        "frequency_weighted_iou": _number(frequency_weighted_iou(matrix)),
        "mean_dice": _number(mean_dice(matrix)),
        "n_pixels": int(matrix.sum()),
        "n_classes": n_classes,
        "class_names": names,
        "absent_classes": [names[i] for i in range(n_classes) if gt_pixels[i] == 0 and pred_pixels[i] == 0],
        "classes": classes,
        "confusion_matrix": np.asarray(matrix, dtype=np.int64).tolist(),
        "ignore_index": ignore_index,
    }


def format_report(report: dict[str, Any]) -> str:
    """A plain-text table of a :func:`segmentation_report`: one row per class, then the summary.

    Example:
        >>> print(format_report(segmentation_report([[3, 1], [0, 2]], ["sky", "road"])))  # doctest: +ELLIPSIS
        class   IoU     Dice    Acc     GT pixels  Pred pixels
        sky     0.7500  0.8571  0.7500  4          3
        ...
    """

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.4f}"

    width = max([5, *(len(c["name"]) for c in report["classes"])])
    lines = [f"{'class':<{width}}   IoU     Dice    Acc     GT pixels  Pred pixels"]
    for c in report["classes"]:
        lines.append(
            f"{c['name']:<{width}}   {cell(c['iou']):<6}  {cell(c['dice']):<6}  {cell(c['accuracy']):<6}  "
            f"{c['gt_pixels']:<9}  {c['pred_pixels']}"
        )
    lines.append("")
    for key, label in (
        ("mean_iou", "mean IoU"),
        ("frequency_weighted_iou", "frequency-weighted IoU"),
        ("mean_dice", "mean Dice"),
        ("mean_class_accuracy", "mean class accuracy"),
        ("pixel_accuracy", "pixel accuracy"),
    ):
        lines.append(f"{label:<24}{cell(report[key])}")
    lines.append(f"{'pixels counted':<24}{report['n_pixels']}")
    if report["absent_classes"]:
        lines.append(f"absent (excluded from means): {', '.join(report['absent_classes'])}")
    return "\n".join(lines)


class ConfusionMatrix:
    """Accumulates a confusion matrix batch by batch (rows: ground truth, columns: prediction).

    Example:
        >>> cm = ConfusionMatrix(2)
        >>> cm.update([0, 1], [0, 0]).update([1], [1]).matrix.tolist()
        [[1, 0], [1, 1]]
        >>> cm.report()["mean_iou"]
        0.5
    """

    def __init__(self, n_classes: int, ignore_index: int | None = None):
        self.n_classes = int(n_classes)
        self.ignore_index = ignore_index
        self.matrix = np.zeros((self.n_classes, self.n_classes), dtype=np.int64)

    def update(self, y_true: Any, y_pred: Any) -> ConfusionMatrix:
        """Add a batch (see :func:`confusion_matrix` for the accepted shapes); returns ``self``."""
        self.matrix += confusion_matrix(y_true, y_pred, self.n_classes, self.ignore_index)
        return self

    def reset(self) -> None:
        """Set every count back to zero."""
        self.matrix[...] = 0

    def report(self, class_names: list[str] | None = None) -> dict[str, Any]:
        """The full metrics report (see :func:`mobseg.metrics.segmentation_report`)."""
        return segmentation_report(self.matrix, class_names=class_names, ignore_index=self.ignore_index)


__all__ = ["ConfusionMatrix", "format_report", "segmentation_report"]
