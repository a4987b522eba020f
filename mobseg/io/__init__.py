"""Image files for prediction: reading any mode, channel conversion, resizing and atomic PNG writes.

Example:
    >>> from mobseg.io import to_channels
    >>> import numpy as np
    >>> to_channels(np.zeros((2, 3, 1), np.uint8), 3).shape
    (2, 3, 3)
"""

from mobseg.io.atomic import atomic_write, atomic_write_text
from mobseg.io.images import (
    IMAGE_EXTENSIONS,
    as_image_array,
    atomic_write_png,
    image_to_float,
    list_images,
    read_image,
    resize_image,
    to_channels,
)

__all__ = [
    "IMAGE_EXTENSIONS",
    "as_image_array",
    "atomic_write",
    "atomic_write_text",
    "atomic_write_png",
    "image_to_float",
    "list_images",
    "read_image",
    "resize_image",
    "to_channels",
]
