"""Image files for prediction: read any mode, match the model's channels, resize, write PNGs atomically.

Reading rules (:func:`read_image`), chosen to agree with the training data loader:

* 8-bit modes give ``uint8``; 16-bit grayscale PNG/TIFF (``I;16``) gives ``uint16``;
  :func:`image_to_float` scales either to float ``[0, 255]`` (16-bit: ``x * 255 / 65535``).
* Palette images are expanded through their palette (RGB, or RGBA when the palette has transparency);
  1-bit images become 0/255; CMYK, YCbCr, LAB and HSV are converted to RGB.
* Channels are kept as stored (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA); :func:`to_channels` then
  converts to the model's input channels: gray -> RGB repeats the gray value, RGB -> gray is the
  ITU-R 601 luminance (Pillow's ``L``), and **alpha is dropped, not composited** (the colours under
  transparent pixels are kept, as ``cv2.imread`` does in keras_segmentation).
* EXIF orientation is applied (:func:`open_image`): an image is read the way photo viewers show it, so a
  photo taken in portrait gives a portrait mask. Masks are read the same way (a mask rarely carries the tag;
  if it does, it is honoured too). ``mobseg verify`` explains a pair whose sizes match only before rotation.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from mobseg.io.atomic import atomic_write

#: File extensions :func:`list_images` picks up from a folder (lower case).
IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")

_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")


def _pillow_to_array(image: Image.Image, name: str) -> np.ndarray:
    mode = image.mode
    if mode in _SIXTEEN_BIT_MODES:
        return np.asarray(image, dtype=np.uint16)[..., None]
    if mode == "I":
        array = np.asarray(image)
        if array.size and (array.min() < 0 or array.max() > 65535):
            raise ValueError(f"{name} is a 32-bit integer image with values outside 0..65535; save it as 8 or 16 bit.")
        return array.astype(np.uint16)[..., None]
    if mode == "F":
        array = np.nan_to_num(np.asarray(image, dtype=np.float64))
        scale = 255.0 if array.size and float(array.max()) <= 1.0 else 1.0
        return np.clip(np.round(array * scale), 0, 255).astype(np.uint8)[..., None]
    if mode == "1":
        image = image.convert("L")
    elif mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGB")
    array = np.asarray(image, dtype=np.uint8)
    return array[..., None] if array.ndim == 2 else array


#: EXIF orientations (tag 274) that swap width and height (rotations by 90 or 270 degrees).
TRANSPOSING_ORIENTATIONS = (5, 6, 7, 8)


def exif_orientation(image: Image.Image) -> int:
    """The EXIF orientation tag of an opened image (1, the normal orientation, when it has none).

    Example:
        >>> exif_orientation(Image.new("RGB", (4, 3)))
        1
    """
    try:
        return int(image.getexif().get(274, 1) or 1)
    except (AttributeError, ValueError, TypeError, SyntaxError):
        return 1


def open_image(path: str | os.PathLike) -> tuple[Image.Image, int]:
    """Open and decode an image file, turned upright by its EXIF orientation; returns (image, orientation).

    The orientation is the tag's value before it was applied (1: none). Raises ``OSError``/``SyntaxError``
    from Pillow for a file it cannot decode.

    Example:
        >>> image, orientation = open_image("photo.jpg")  # doctest: +SKIP
        >>> image.size, orientation  # doctest: +SKIP
        ((3024, 4032), 6)
    """
    with Image.open(os.fspath(path)) as image:
        image.load()
        orientation = exif_orientation(image)
        upright = ImageOps.exif_transpose(image) if orientation != 1 else image.copy()
    return upright, orientation


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as ``(H, W, C)``: ``uint8``, or ``uint16`` for 16-bit files (see the module doc).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file for one that
    Pillow cannot decode.

    Example:
        >>> read_image("photo.png").shape  # doctest: +SKIP
        (181, 243, 3)
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Image file not found: {path}. Check the path.")
    try:
        image, _ = open_image(path)
        return _pillow_to_array(image, path)
    except (OSError, SyntaxError, Image.DecompressionBombError) as err:
        raise ValueError(f"Cannot read image {path}: {err}. Is it an image file? Re-save it as PNG or JPEG.") from None


def as_image_array(image: Any, name: str = "image") -> np.ndarray:
    """An in-memory image as ``(H, W, C)``: accepts ``(H, W)``, ``(H, W, C)`` arrays or a Pillow image.

    Example:
        >>> as_image_array(np.zeros((4, 5), np.uint8)).shape
        (4, 5, 1)
    """
    if isinstance(image, Image.Image):
        return _pillow_to_array(image, name)
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or not 1 <= array.shape[-1] <= 4 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(
            f"{name} has shape {array.shape}; expected (H, W) or (H, W, C) with C = 1, 2, 3 or 4 channels last."
        )
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ValueError(f"{name} has dtype {array.dtype}; use uint8, uint16 or float values in [0, 255].")
    return array


def image_to_float(image: np.ndarray) -> np.ndarray:
    """``float32`` in ``[0, 255]``: ``uint16`` is scaled by ``255 / 65535``, other types are cast.

    Example:
        >>> image_to_float(np.array([[[65535]]], np.uint16)).tolist()
        [[[255.0]]]
    """
    image = np.asarray(image)
    if image.dtype == np.uint16:
        return image.astype(np.float32) * np.float32(255.0 / 65535.0)
    return image.astype(np.float32)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    gray = rgb[..., 0:1] * 0.299 + rgb[..., 1:2] * 0.587 + rgb[..., 2:3] * 0.114
    return np.round(gray).astype(rgb.dtype) if np.issubdtype(rgb.dtype, np.integer) else gray.astype(rgb.dtype)


def to_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """Convert ``(H, W, C)`` (C = 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) to ``channels`` channels.

    Alpha is dropped (not composited); gray is repeated into RGB; RGB becomes ITU-R 601 luminance;
    a missing alpha is added opaque (255, or 65535 for ``uint16``). Other channel counts repeat the
    luminance.

    Example:
        >>> to_channels(np.zeros((2, 2, 4), np.uint8), 3).shape
        (2, 2, 3)
    """
    image = as_image_array(image)
    have = image.shape[-1]
    if have == channels:
        return image
    color = image[..., :3] if have >= 3 else np.repeat(image[..., :1], 3, axis=-1)
    if channels == 3:
        return color
    gray = image[..., :1] if have <= 2 else _luminance(color)
    if channels == 1:
        return gray
    if channels == 4:
        if have in (2, 4):
            alpha = image[..., -1:]
        else:
            opaque = np.iinfo(image.dtype).max if np.issubdtype(image.dtype, np.integer) else 255
            alpha = np.full((*image.shape[:2], 1), opaque, dtype=image.dtype)
        return np.concatenate([color, alpha], axis=-1)
    return np.repeat(gray, channels, axis=-1)


def resize_image(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of ``(H, W, C)`` to ``(height, width, C)`` as ``float32`` in ``[0, 255]``.

    Uses Pillow's bilinear filter per channel (which also smooths when shrinking). Images already at
    the size are returned as float without resampling.

    Example:
        >>> resize_image(np.zeros((181, 243, 3), np.uint8), 64, 64).shape
        (64, 64, 3)
    """
    image = image_to_float(as_image_array(image))
    if image.shape[:2] == (height, width):
        return image
    size, bilinear = (width, height), Image.Resampling.BILINEAR
    planes = [
        np.asarray(Image.fromarray(np.ascontiguousarray(image[..., c])).resize(size, bilinear))
        for c in range(image.shape[-1])
    ]
    return np.stack(planes, axis=-1).astype(np.float32)


def list_images(folder: str | os.PathLike) -> list[str]:
    """The image files in ``folder`` (not recursive, hidden files skipped), sorted by name.

    Raises ``FileNotFoundError`` if the folder is missing and ``ValueError`` if it holds no image.

    Example:
        >>> list_images("photos")  # doctest: +SKIP
        ['photos/a.jpg', 'photos/b.png']
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Folder not found: {folder}. Check the path.")
    files = sorted(
        os.path.join(folder, name)
        for name in os.listdir(folder)
        if not name.startswith(".")
        and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS
        and os.path.isfile(os.path.join(folder, name))
    )
    if not files:
        raise ValueError(f"No image files in {folder} (looked for {', '.join(IMAGE_EXTENSIONS)}).")
    return files


def atomic_write_png(image: np.ndarray | Image.Image, path: str | os.PathLike) -> str:
    """Write ``image`` as PNG to ``path`` atomically: a temporary file in the same folder, then ``os.replace``.

    A reader never sees a half-written file, and an interrupted run leaves no broken PNG behind.
    ``image`` is a Pillow image (kept as is, e.g. a palette ``P`` image) or an array: ``(H, W)``
    uint8 -> ``L``, uint16 -> ``I;16``, ``(H, W, 3)`` -> ``RGB``, ``(H, W, 4)`` -> ``RGBA``.
    The folder is created if needed. Returns the path written.

    Example:
        >>> atomic_write_png(np.zeros((4, 4), np.uint8), "out/mask.png")  # doctest: +SKIP
        'out/mask.png'
    """
    path = os.fspath(path)
    if not isinstance(image, Image.Image):
        array = np.asarray(image)
        if array.ndim == 3 and array.shape[-1] == 1:
            array = array[..., 0]
        gray16 = array.dtype == np.uint16 and array.ndim == 2
        rgb8 = array.dtype == np.uint8 and (array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (3, 4)))
        if gray16 or rgb8:
            image = Image.fromarray(array)
        else:
            raise ValueError(
                f"Cannot write an array of shape {array.shape} and dtype {array.dtype} as PNG: use uint8 (H, W), "
                "(H, W, 3) or (H, W, 4), or uint16 (H, W)."
            )
    atomic_write(path, lambda stream: image.save(stream, format="PNG"))
    return path


__all__ = [
    "IMAGE_EXTENSIONS",
    "as_image_array",
    "atomic_write_png",
    "exif_orientation",
    "image_to_float",
    "list_images",
    "open_image",
    "read_image",
    "resize_image",
    "to_channels",
]
