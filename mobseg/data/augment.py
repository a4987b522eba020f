"""Joint image + mask augmentation: flips, random zoom and crop (whole image or native scale), colour jitter.

Written with numpy and Pillow only, so that one implementation serves both input pipelines: ``tf.data``
(through ``tf.numpy_function``) where TensorFlow is installed, and the backend-neutral
:class:`~mobseg.data.loader.SegmentationBatches` where it is not.

The geometry is one crop :class:`Region` per example, sampled in the image's pixel coordinates and applied
to the image (bilinear, at the model's input size) and to the mask (nearest, at the model's output size)
by :func:`resample`, Pillow's ``EXTENT`` transform: it samples at pixel centres (half-pixel), so image
and mask stay aligned at any output size, and it runs in C without the GIL. A region that leaves the image
pads: padded image pixels are black and padded mask pixels get label ``-1`` (the pipeline gives them
weight 0).

Two crop modes (``Augmentation(crop=...)``, ``mobseg train --crop``):

* ``"resize"`` (default): the region is the whole image divided by a zoom drawn from ``scale``, resized to
  the model input, so the image's aspect ratio follows the model's.
* ``"native"``: the region is the model's input size divided by the zoom, taken from the image at its own
  scale: with ``scale=(1, 1)`` a window of exactly input-size pixels, 1:1; an image smaller than the
  window is padded. Suits images larger than the model input (fine detail is kept instead of shrunk).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import numpy as np
from PIL import Image

#: Crop modes of :class:`Augmentation`.
CROP_MODES: tuple[str, ...] = ("resize", "native")


@dataclass(frozen=True)
class Augmentation:
    """Augmentation settings (all random draws are per example, per pass over the data).

    Attributes:
        flip: random horizontal flip (probability 1/2).
        vertical_flip: random vertical flip (off by default: most scenes have an up).
        scale: zoom range; > 1 zooms in (crops a part), < 1 zooms out (pads). With ``crop="resize"`` the zoom
            is relative to the whole image resized to the input; with ``crop="native"`` relative to the
            image's own pixels.
        brightness: max brightness shift, as a fraction of the full range.
        contrast: max contrast change (factor in [1 - contrast, 1 + contrast]).
        saturation: max saturation change (factor in [1 - s, 1 + s]; 3+ channel images only).
        crop: ``"resize"`` (the whole image, zoomed by ``scale``) or ``"native"`` (windows of the input size at
            the image's own scale, zoomed by ``scale``).

    Example:
        >>> Augmentation(scale=(1.0, 1.25)).scale
        (1.0, 1.25)
        >>> Augmentation(crop="native", scale=(1, 1)).crop
        'native'
    """

    flip: bool = True
    vertical_flip: bool = False
    scale: tuple[float, float] = (0.75, 1.5)
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    crop: str = "resize"

    def __post_init__(self) -> None:
        low, high = (float(v) for v in self.scale)
        if not 0 < low <= high:
            raise ValueError(f"Augmentation scale must be (low, high) with 0 < low <= high; got {self.scale}.")
        object.__setattr__(self, "scale", (low, high))
        for name in ("brightness", "contrast", "saturation"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"Augmentation {name}={value} must be between 0 and 1.")
        if self.crop not in CROP_MODES:
            raise ValueError(f"Augmentation crop={self.crop!r} is unknown; use one of: {', '.join(CROP_MODES)}.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly settings."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_value(cls, value: Augmentation | bool | dict | None) -> Augmentation | None:
        """``True`` -> defaults, ``False``/``None`` -> no augmentation, a dict -> those settings.

        Example:
            >>> Augmentation.from_value(True) == Augmentation()
            True
            >>> Augmentation.from_value({"crop": "native"}).crop
            'native'
        """
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            return cls(**{k: tuple(v) if k == "scale" else v for k, v in value.items()})
        raise ValueError(f"augment must be True, False, a dict of settings or an Augmentation; got {value!r}.")


class Region(NamedTuple):
    """Where to sample: top, left, bottom, right in pixel-edge coordinates of the image, and flips.

    Example:
        >>> full_region(4, 6)
        Region(top=0.0, left=0.0, bottom=4.0, right=6.0, flip_h=False, flip_v=False)
    """

    top: float
    left: float
    bottom: float
    right: float
    flip_h: bool = False
    flip_v: bool = False


def full_region(height: int, width: int) -> Region:
    """The whole image, unflipped (no augmentation).

    Example:
        >>> full_region(2, 3).bottom
        2.0
    """
    return Region(0.0, 0.0, float(height), float(width))


def sample_region(
    height: int, width: int, aug: Augmentation, rng: np.random.Generator, input_size: tuple[int, int]
) -> Region:
    """A random crop region of an image of ``height x width`` and its flips, as ``aug`` says.

    ``input_size`` (the model's) sizes the window of ``crop="native"``. The window is placed uniformly
    where it fits inside the image, or so that the image fits inside it when the window is larger.

    Example:
        >>> region = sample_region(64, 64, Augmentation(scale=(2, 2)), np.random.default_rng(0), (32, 32))
        >>> region.bottom - region.top
        32.0
    """
    u = rng.random(5)
    low, high = aug.scale
    zoom = low + u[0] * (high - low)
    base_h, base_w = (height, width) if aug.crop == "resize" else input_size
    crop_h, crop_w = base_h / zoom, base_w / zoom
    top = min(0.0, height - crop_h) + u[1] * abs(height - crop_h)
    left = min(0.0, width - crop_w) + u[2] * abs(width - crop_w)
    flip_h = bool(aug.flip and u[3] < 0.5)
    flip_v = bool(aug.vertical_flip and u[4] < 0.5)
    return Region(float(top), float(left), float(top + crop_h), float(left + crop_w), flip_h, flip_v)


def _pillow_planes(array: np.ndarray) -> list[Image.Image]:
    """Pillow images of ``array``: one ``I`` (int32), ``RGB`` or ``RGBA`` image, else one ``L`` image per channel."""
    if array.ndim == 2:
        return [Image.fromarray(np.ascontiguousarray(array, dtype=np.int32))]
    channels = array.shape[-1]
    if channels in (3, 4):
        return [Image.fromarray(np.ascontiguousarray(array))]
    return [Image.fromarray(np.ascontiguousarray(array[..., c])) for c in range(channels)]


def resample(array: np.ndarray, region: Region, size: tuple[int, int], method: str, fill: int = 0) -> np.ndarray:
    """Sample ``region`` of ``array`` at ``size`` (height, width) pixel centres; outside the image: ``fill``.

    ``array`` is a ``uint8`` image ``(H, W, C)`` (``method="bilinear"``) or an ``int32`` label map ``(H, W)``
    (``method="nearest"``). Flips mirror the sampling, so image and labels flip together.

    Example:
        >>> labels = np.array([[0, 1], [2, 3]], np.int32)
        >>> resample(labels, Region(0, 0, 2, 2, flip_h=True), (2, 2), "nearest").tolist()
        [[1, 0], [3, 2]]
    """
    if method not in ("bilinear", "nearest"):
        raise ValueError(f"resample method must be 'bilinear' or 'nearest'; got {method!r}.")
    left, right = (region.right, region.left) if region.flip_h else (region.left, region.right)
    top, bottom = (region.bottom, region.top) if region.flip_v else (region.top, region.bottom)
    filter_ = Image.Resampling.BILINEAR if method == "bilinear" else Image.Resampling.NEAREST
    height, width = size
    extent = (left, top, right, bottom)
    planes = [
        np.asarray(plane.transform((width, height), Image.Transform.EXTENT, extent, filter_, fillcolor=fill))
        for plane in _pillow_planes(array)
    ]
    if array.ndim == 2 or array.shape[-1] in (3, 4):
        return planes[0]
    return np.stack(planes, axis=-1)


def jitter_colors(image: np.ndarray, aug: Augmentation, rng: np.random.Generator) -> np.ndarray:
    """Random brightness, contrast and saturation on a float32 image in [0, 255], in place; clipped to [0, 255].

    Brightness adds ``brightness * 255 * u``; contrast scales around the image mean; saturation scales the
    first three channels around their per-pixel mean.

    Example:
        >>> x = np.full((2, 2, 3), 128.0, np.float32)
        >>> jitter_colors(x, Augmentation(), np.random.default_rng(0)).shape
        (2, 2, 3)
    """
    u = rng.uniform(-1.0, 1.0, 3)
    shift = 255.0 * aug.brightness * u[0]
    contrast = 1.0 + aug.contrast * u[1]
    mean = float(image.mean()) + shift
    image *= np.float32(contrast)  # (x + shift - mean) * contrast + mean
    image += np.float32((shift - mean) * contrast + mean)
    if image.shape[-1] >= 3 and aug.saturation > 0:
        saturation = np.float32(1.0 + aug.saturation * u[2])
        color = image[..., :3]
        gray = color.mean(axis=-1, keepdims=True)
        color *= saturation
        color += gray * (np.float32(1.0) - saturation)
    np.clip(image, 0.0, 255.0, out=image)
    return image


__all__ = [
    "CROP_MODES",
    "Augmentation",
    "Region",
    "full_region",
    "jitter_colors",
    "resample",
    "sample_region",
]
