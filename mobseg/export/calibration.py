"""Representative images for int8 calibration: real images, sized and scaled like training inputs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np

from mobseg.io.images import IMAGE_EXTENSIONS
from mobseg.model import SegmentationModel
from mobseg.preprocessing import preprocess_images

_COLOR_MODES = {1: "grayscale", 3: "rgb", 4: "rgba"}


def calibration_images(folder: str | os.PathLike, model: keras.Model, limit: int = 100) -> Iterator[np.ndarray]:
    """Yield up to ``limit`` images from ``folder``, resized to the model input and preprocessed.

    Example:
        >>> import mobseg
        >>> m = mobseg.mobilenet_segnet(2, input_height=64, input_width=64)
        >>> next(calibration_images("photos/", m)).shape  # doctest: +SKIP
        (64, 64, 3)
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"Calibration folder not found: {folder}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)[:limit]
    if not files:
        raise ValueError(f"No images ({', '.join(IMAGE_EXTENSIONS)}) in calibration folder {folder}.")
    height, width, channels = model.inputs[0].shape[1:]
    if channels not in _COLOR_MODES:
        raise ValueError(f"Calibration images can be read for 1, 3 or 4 input channels, not {channels}.")
    mode = model.preprocessing if isinstance(model, SegmentationModel) else "none"
    for path in files:
        try:
            image = keras.utils.load_img(path, color_mode=_COLOR_MODES[channels], target_size=(height, width))
        except Exception as err:
            raise ValueError(f"Cannot read calibration image {path}: {err}") from None
        array = keras.utils.img_to_array(image, dtype="float32")
        yield preprocess_images(array, mode)
