"""``MeanIoU``: a Keras metric that accumulates a confusion matrix during ``fit`` / ``evaluate``."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from mobseg.validation import check_int, check_optional_int


@keras.saving.register_keras_serializable(package="mobseg")
class MeanIoU(keras.metrics.Metric):
    """Mean IoU over the classes present in the ground truth or the prediction, streamed over batches.

    Works with both heads: ``y_true`` holds integer labels ``(N, P)`` or ``(N, H, W)`` (a trailing
    axis of 1 is fine, one-hot ``(..., n_classes)`` is argmaxed), ``y_pred`` holds probabilities or
    logits ``(N, P, C)`` or ``(N, H, W, C)`` and is argmaxed over the last axis.

    * Pixels whose label is ``ignore_index``, negative or ``>= n_classes`` are not counted.
    * ``sample_weight`` is used **only as a mask**: pixels (or samples) with weight > 0 count once,
      weight 0 is ignored. It is never a multiplier, because class weights reach metrics as sample
      weights during training and must not distort the IoU.
    * Classes absent from both ground truth and prediction are excluded from the mean (the same rule
      as :func:`mobseg.metrics.mean_iou`); with no counted pixel at all the result is 0.

    Only ``keras.ops`` is used, so it runs inside ``model.fit`` (TensorFlow graph and XLA) and is
    meant to be backend-agnostic. It saves with the model and reloads in safe mode.

    Example:
        >>> import numpy as np
        >>> metric = MeanIoU(2)
        >>> metric.update_state(np.array([[0, 1]]), np.array([[[0.9, 0.1], [0.8, 0.2]]]))
        >>> round(float(metric.result()), 4)  # IoU 0.5 for class 0, 0 for class 1
        0.25
        >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=[MeanIoU(2)])  # doctest: +SKIP
    """

    def __init__(
        self,
        n_classes: int,
        ignore_index: int | None = None,
        name: str = "mean_iou",
        dtype: Any = None,
    ):
        super().__init__(name=name, dtype=dtype)
        self.n_classes = check_int(n_classes, "MeanIoU: n_classes", minimum=1)
        self.ignore_index = check_optional_int(ignore_index, "MeanIoU: ignore_index")
        # Counts stay exact to 2**53 pixels per cell in float64 (JAX without x64 keeps float32).
        count_dtype = "float32" if keras.backend.backend() == "jax" else "float64"
        self.total_cm = self.add_variable(
            shape=(self.n_classes, self.n_classes), initializer="zeros", dtype=count_dtype, name="total_cm"
        )

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add a batch to the confusion matrix (see the class docstring for shapes and masking)."""
        n = self.n_classes
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.convert_to_tensor(y_true)
        pred_labels = ops.argmax(y_pred, axis=-1)
        if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == n and n > 1:
            y_true = ops.argmax(y_true, axis=-1)  # one-hot targets
        batch = ops.shape(pred_labels)[0]
        pred_labels = ops.reshape(pred_labels, (batch, -1))
        labels = ops.reshape(y_true, (batch, -1))
        if labels.shape[1] is not None and pred_labels.shape[1] is not None and labels.shape[1] != pred_labels.shape[1]:
            raise ValueError(
                f"MeanIoU: y_true {tuple(y_true.shape)} and y_pred {tuple(y_pred.shape)} hold different numbers of "
                "pixels per sample. Use labels of shape (N, P) / (N, H, W) for predictions (N, P, C) / (N, H, W, C)."
            )
        valid = ops.logical_and(ops.greater_equal(labels, 0), ops.less(labels, n))
        if self.ignore_index is not None:
            valid = ops.logical_and(valid, ops.not_equal(labels, self.ignore_index))
        if sample_weight is not None:
            weight = ops.convert_to_tensor(sample_weight)
            weight = ops.reshape(weight, (batch, -1))
            weight = ops.broadcast_to(weight, ops.shape(labels))
            valid = ops.logical_and(valid, ops.greater(weight, 0))
        # Pixels not counted get label -1: its one-hot row is all zeros on every backend, so no mask multiply.
        labels = ops.reshape(ops.where(valid, ops.cast(labels, "int32"), -1), (-1,))
        # One-hot matmul instead of bincount: XLA compiles it (``jit_compile=True``) on every device, and
        # 0/1 products summed in float32 are exact up to 2**24 pixels per batch.
        true_hot = ops.one_hot(labels, n, dtype="float32")
        pred_hot = ops.one_hot(ops.reshape(ops.cast(pred_labels, "int32"), (-1,)), n, dtype="float32")
        counts = ops.matmul(ops.transpose(true_hot), pred_hot)
        self.total_cm.assign_add(ops.cast(counts, self.total_cm.dtype))

    def result(self) -> Any:
        """Mean IoU over classes with ground-truth or predicted pixels (0 when nothing was counted)."""
        cm = self.total_cm
        tp = ops.diagonal(cm)
        union = ops.sum(cm, axis=0) + ops.sum(cm, axis=1) - tp
        present = ops.greater(union, 0)
        iou = ops.where(present, tp / ops.maximum(union, 1), 0)
        n_present = ops.sum(ops.cast(present, cm.dtype))
        return ops.cast(ops.sum(iou) / ops.maximum(n_present, 1), self.dtype)

    def reset_state(self) -> None:
        """Zero the confusion matrix (Keras calls this at the start of each epoch)."""
        self.total_cm.assign(ops.zeros(self.total_cm.shape, dtype=self.total_cm.dtype))

    def confusion_matrix(self) -> np.ndarray:
        """The accumulated confusion matrix as an int64 numpy array (rows: ground truth).

        Example:
            >>> from mobseg.metrics import segmentation_report
            >>> metric = MeanIoU(2)
            >>> segmentation_report(metric.confusion_matrix())["n_pixels"]
            0
        """
        return np.rint(ops.convert_to_numpy(self.total_cm)).astype(np.int64)

    def get_config(self) -> dict[str, Any]:
        """``n_classes``, ``ignore_index``, ``name`` and ``dtype``: enough to rebuild in safe mode."""
        config = super().get_config()
        config.update({"n_classes": self.n_classes, "ignore_index": self.ignore_index})
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MeanIoU:
        """Rebuild from :meth:`get_config`."""
        return cls(**config)


__all__ = ["MeanIoU"]
