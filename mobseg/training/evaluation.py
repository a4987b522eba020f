"""Score a model on a ``mobseg.data`` pipeline (``tf.data`` or the PyDataset): confusion matrix and IoU report."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import keras
import numpy as np

from mobseg.metrics import ConfusionMatrix, segmentation_report


def dataset_confusion_matrix(model: Any, dataset: Iterable[Any], n_classes: int | None = None) -> np.ndarray:
    """Confusion matrix (rows: ground truth) over a dataset of ``(image, labels, sample_weight)``.

    Pixels with sample weight 0 (``ignore_index`` and padding) are not counted.

    Example:
        >>> cm = dataset_confusion_matrix(model, val_ds)  # doctest: +SKIP
    """
    n_classes = int(n_classes or model.outputs[0].shape[-1])
    matrix = ConfusionMatrix(n_classes)
    for element in dataset:
        x, y = element[0], element[1]
        keep = np.asarray(element[2]) > 0 if len(element) > 2 else np.ones(y.shape, bool)
        labels = np.asarray(y)
        # numpy in, numpy out: tf.data yields TF tensors, which the JAX and PyTorch backends don't take.
        scores = keras.ops.convert_to_numpy(model.predict_on_batch(np.asarray(x)))
        predicted = np.argmax(scores, axis=-1)
        keep &= (labels >= 0) & (labels < n_classes)
        matrix.update(labels[keep], predicted.reshape(labels.shape)[keep])
    return matrix.matrix


def evaluate_dataset(
    model: Any,
    dataset: Iterable[Any],
    class_names: list[str] | None = None,
    ignore_index: int | None = None,
) -> dict[str, Any]:
    """The full :func:`mobseg.metrics.segmentation_report` (per-class IoU, mean IoU, ...) on ``dataset``.

    Example:
        >>> report = evaluate_dataset(model, val_ds, ["bg", "fg"])  # doctest: +SKIP
        >>> report["mean_iou"]  # doctest: +SKIP
        0.81
    """
    cm = dataset_confusion_matrix(model, dataset)
    return segmentation_report(cm, class_names=class_names, ignore_index=ignore_index)


__all__ = ["dataset_confusion_matrix", "evaluate_dataset"]
