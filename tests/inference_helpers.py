"""A tiny model with known weights for metric and prediction tests: class 1 where the image is bright."""

from __future__ import annotations

import keras
import numpy as np

from mobseg.model import SegmentationModel


def threshold_model(
    n_classes: int = 3,
    height: int = 32,
    width: int = 32,
    channels: int = 3,
    head: str = "flat",
    pool: int = 2,
) -> SegmentationModel:
    """AveragePooling(pool) + 1x1 conv: class 1 where the mean channel value > 0.5 ("unit" preprocessing),
    class 0 elsewhere; classes >= 2 are never predicted. Output is 1/pool of the input."""
    inputs = keras.Input((height, width, channels))
    pooled = keras.layers.AveragePooling2D(pool)(inputs)
    conv = keras.layers.Conv2D(n_classes, 1)
    logits = conv(pooled)
    kernel = np.zeros((1, 1, channels, n_classes), np.float32)
    kernel[..., 1] = 10.0 / channels
    kernel[..., 0] = -10.0 / channels
    bias = np.full(n_classes, -100.0, np.float32)
    bias[:2] = [5.0, -5.0]
    conv.set_weights([kernel, bias])
    return SegmentationModel.from_logits(inputs, logits, name="threshold", head=head, preprocessing="unit")


def half_white(height: int, width: int, split: int, channels: int = 3, dtype=np.uint8) -> np.ndarray:
    """An image whose columns left of ``split`` are white (max value) and the rest black."""
    image = np.zeros((height, width, channels), dtype)
    image[:, :split] = np.iinfo(dtype).max
    return image
