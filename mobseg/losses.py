"""Losses for segmentation, registered so that compiled models reload in safe mode."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from mobseg.validation import check_optional_int


@keras.saving.register_keras_serializable(package="mobseg")
class SegmentationCrossentropy(keras.losses.Loss):
    """Per-pixel sparse categorical crossentropy that skips ``ignore_index`` pixels.

    Works with the flat head (labels ``(N, P)``, predictions ``(N, P, C)``) and the spatial head
    (``(N, H, W)`` / ``(N, H, W, C)``; a trailing label axis of 1 is accepted), with softmax outputs
    (``from_logits=False``) and logits (``from_logits=True``). Pixels whose label is
    ``ignore_index`` -- or outside ``0..C-1`` -- contribute exactly zero; labels are clamped before the
    gather, so they never produce NaN.

    Class weights come in as per-pixel ``sample_weight`` (the ``mobseg.data`` pipeline gives 0 to
    ignored pixels too). The default reduction ``"mean_with_sample_weight"`` divides the weighted
    sum by the sum of the weights -- a weighted mean over the counted pixels, as PyTorch's
    ``CrossEntropyLoss(weight=..., ignore_index=...)``. Without sample weights it divides by all pixels.

    Example:
        >>> import numpy as np
        >>> loss = SegmentationCrossentropy(ignore_index=255)
        >>> y_true = np.array([[0, 255]])
        >>> y_pred = np.array([[[0.5, 0.5], [1.0, 0.0]]])
        >>> round(float(loss(y_true, y_pred, sample_weight=np.array([[1.0, 0.0]]))), 4)
        0.6931
    """

    def __init__(
        self,
        ignore_index: int | None = None,
        from_logits: bool = False,
        reduction: str | None = "mean_with_sample_weight",
        name: str = "segmentation_crossentropy",
        dtype: Any = None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.ignore_index = check_optional_int(
            ignore_index, "ignore_index", hint=" Use the label value of unlabelled pixels, e.g. 255."
        )
        self.from_logits = bool(from_logits)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Per-pixel losses, shaped like the labels (zero at ignored pixels)."""
        y_pred = ops.convert_to_tensor(y_pred)
        labels = ops.convert_to_tensor(y_true)
        if len(labels.shape) == len(y_pred.shape) and labels.shape[-1] == 1:
            labels = ops.squeeze(labels, axis=-1)
        labels = ops.cast(labels, "int32")
        n_classes = y_pred.shape[-1]
        valid = ops.logical_and(ops.greater_equal(labels, 0), ops.less(labels, n_classes))
        if self.ignore_index is not None:
            valid = ops.logical_and(valid, ops.not_equal(labels, self.ignore_index))
        safe = ops.where(valid, labels, ops.zeros_like(labels))
        losses = ops.sparse_categorical_crossentropy(safe, y_pred, from_logits=self.from_logits)
        return ops.where(valid, losses, ops.zeros_like(losses))

    def get_config(self) -> dict[str, Any]:
        """Serializable settings."""
        config = super().get_config()
        config.update({"ignore_index": self.ignore_index, "from_logits": self.from_logits})
        return config


__all__ = ["SegmentationCrossentropy"]
