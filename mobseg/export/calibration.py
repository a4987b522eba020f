"""Representative images for int8 calibration: real images, read, resized and scaled exactly as prediction does."""

from __future__ import annotations

import os
from collections.abc import Iterator

import keras
import numpy as np

from mobseg.inference.scoring import ModelGeometry
from mobseg.io.images import list_images, read_image


def pick_evenly(files: list[str], limit: int) -> list[str]:
    """Up to ``limit`` of ``files``, spread evenly over the sorted list (not just the first ones).

    Folders are often sorted by scene or video sequence; the first ``limit`` files would all come from
    one scene.

    Example:
        >>> pick_evenly([str(i) for i in range(10)], 3)
        ['0', '3', '6']
    """
    if len(files) <= limit:
        return list(files)
    step = len(files) / limit
    return [files[int(i * step)] for i in range(limit)]


def calibration_images(folder: str | os.PathLike, model: keras.Model, limit: int = 100) -> Iterator[np.ndarray]:
    """Yield up to ``limit`` images from ``folder`` (spread over it), prepared like prediction's inputs.

    Each image goes through :meth:`mobseg.inference.scoring.ModelGeometry.prepare_one`: read with
    :func:`mobseg.io.read_image`, converted to the model's channels, resized **bilinearly** to the input
    size and preprocessed; int8 ranges are then measured on what the model will really see.

    Example:
        >>> import mobseg
        >>> m = mobseg.mobilenet_segnet(2, input_height=64, input_width=64)
        >>> next(calibration_images("photos/", m)).shape  # doctest: +SKIP
        (64, 64, 3)
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Calibration folder not found: {folder}")
    try:
        files = pick_evenly(list_images(folder), limit)
    except ValueError:
        raise ValueError(f"No images in calibration folder {folder}.") from None
    geometry = ModelGeometry.of(model)
    for path in files:
        yield geometry.prepare_one(read_image(path))


__all__ = ["calibration_images", "pick_evenly"]
