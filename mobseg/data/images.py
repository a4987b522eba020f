"""Reading training images of any mode (grayscale, RGB, RGBA, palette, 16-bit) as uint8 arrays."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

#: File extensions accepted for images (lower case).
IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")

_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def _to_uint8(image: Image.Image) -> Image.Image:
    """Bring high-bit-depth modes to 8 bits: 16-bit (and 32-bit integer) values are divided by 257."""
    if image.mode in _SIXTEEN_BIT_MODES:
        array = np.asarray(image, dtype=np.float64)
        return Image.fromarray(np.clip(np.round(array / 257.0), 0, 255).astype(np.uint8), mode="L")
    if image.mode == "F":
        array = np.asarray(image, dtype=np.float64)
        scale = 255.0 if array.size and float(np.nanmax(array)) <= 1.0 else 1.0
        return Image.fromarray(np.clip(np.nan_to_num(array * scale), 0, 255).astype(np.uint8), mode="L")
    return image


def image_to_array(image: Image.Image, channels: int = 3) -> np.ndarray:
    """Convert a Pillow image to a ``uint8`` array ``(H, W, channels)``.

    Rules: palette images use their colours; 16-bit images are divided by 257 (65535 -> 255);
    float images in [0, 1] are scaled to [0, 255]; ``channels=1`` gives luminance, ``3`` RGB (alpha
    dropped), ``4`` RGBA (opaque alpha added where missing). Other channel counts repeat the
    luminance.

    Example:
        >>> from PIL import Image
        >>> image_to_array(Image.new("L", (4, 2), 7), channels=3).shape
        (2, 4, 3)
    """
    image = _to_uint8(image)
    if channels == 1:
        return np.asarray(image.convert("L"), dtype=np.uint8)[..., None]
    if channels == 3:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)
    if channels == 4:
        return np.asarray(image.convert("RGBA"), dtype=np.uint8)
    gray = np.asarray(image.convert("L"), dtype=np.uint8)[..., None]
    return np.repeat(gray, channels, axis=-1)


def read_image(path: str | os.PathLike, channels: int = 3) -> np.ndarray:
    """Read an image file (png, jpg, bmp, tif, any mode) as ``uint8`` ``(H, W, channels)``.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for an unreadable one.

    Example:
        >>> read_image("photo.jpg").shape  # doctest: +SKIP
        (180, 240, 3)
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Image file not found: {path}")
    try:
        with Image.open(path) as image:
            image.load()
            return image_to_array(image, channels)
    except (OSError, SyntaxError, ValueError) as err:
        raise ValueError(f"Cannot read image {path}: {err}. Re-export it as PNG or JPEG.") from None


__all__ = ["IMAGE_EXTENSIONS", "image_to_array", "read_image"]
