"""Segmentation metrics: a streaming confusion matrix, the metrics computed from it, a report, and a Keras metric.

Example:
    >>> from mobseg.metrics import confusion_matrix, mean_iou
    >>> mean_iou(confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1], 2))
    0.5833333333333333
"""

from mobseg.classes import check_class_names, default_class_names
from mobseg.metrics.confusion import (
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
from mobseg.metrics.keras_metric import MeanIoU
from mobseg.metrics.report import ConfusionMatrix, format_report, segmentation_report

__all__ = [
    "ConfusionMatrix",
    "MeanIoU",
    "check_class_names",
    "class_accuracy",
    "class_dice",
    "class_iou",
    "confusion_matrix",
    "default_class_names",
    "format_report",
    "frequency_weighted_iou",
    "mean_class_accuracy",
    "mean_dice",
    "mean_iou",
    "pixel_accuracy",
    "segmentation_report",
]
