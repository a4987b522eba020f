"""Training images as ``uint8`` arrays, read by the same rules as prediction (:mod:`mobseg.io.images`)."""

from __future__ import annotations

import os

import numpy as np

from mobseg.io.images import image_to_float, read_image, to_channels


def read_image_uint8(path: str | os.PathLike, channels: int = 3) -> np.ndarray:
    """Read an image file as ``uint8`` ``(H, W, channels)``: what the training pipeline feeds the model.

    Unlike :func:`mobseg.io.read_image`, which returns the pixels as stored (16-bit stays ``uint16``,
    channels as in the file), this converts to the model's ``channels`` and to 8 bits.

    The reading and channel rules are :func:`mobseg.io.read_image` and :func:`mobseg.io.to_channels`
    (palette expanded, alpha dropped, gray repeated, RGB to luminance), so a model sees the same pixels
    in training and in prediction; 16-bit images are scaled to 0..255 and rounded.
    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for an unreadable one.

    Example:
        >>> read_image_uint8("photo.jpg").shape  # doctest: +SKIP
        (180, 240, 3)
    """
    image = image_to_float(to_channels(read_image(path), channels))
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


__all__ = ["read_image_uint8"]
