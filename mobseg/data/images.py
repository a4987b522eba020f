"""Training images as ``uint8`` arrays, read by the same rules as prediction (:mod:`mobseg.io.images`)."""

from __future__ import annotations

import os

import numpy as np

from mobseg.io.images import image_to_float, to_channels
from mobseg.io.images import read_image as read_any_image

#: File extensions accepted for training images (lower case).
IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def read_image(path: str | os.PathLike, channels: int = 3) -> np.ndarray:
    """Read an image file (png, jpg, bmp, tif, any mode) as ``uint8`` ``(H, W, channels)``.

    The reading and channel rules are :func:`mobseg.io.read_image` and :func:`mobseg.io.to_channels`
    (palette expanded, alpha dropped, gray repeated, RGB to luminance), so a model sees the same pixels
    in training and in prediction; 16-bit images are scaled to 0..255 and rounded.
    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for an unreadable one.

    Example:
        >>> read_image("photo.jpg").shape  # doctest: +SKIP
        (180, 240, 3)
    """
    image = image_to_float(to_channels(read_any_image(path), channels))
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


__all__ = ["IMAGE_EXTENSIONS", "read_image"]
