"""Joint image + mask augmentation inside ``tf.data``: flips, random scale and crop, colour jitter.

The geometry is one crop box per example, sampled in the image's pixel coordinates and applied to
the image (bilinear, at the model's input size) and to the mask (nearest, at the model's output
size) with ``tf.image.crop_and_resize`` and half-pixel-centred sampling, so both stay aligned.
Zooming out (scale < 1) pads: padded image pixels are black and padded mask pixels are ignored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import tensorflow as tf


@dataclass(frozen=True)
class Augmentation:
    """Augmentation settings (all random draws are per example, per epoch).

    Attributes:
        flip: random horizontal flip (probability 1/2).
        vertical_flip: random vertical flip (off by default: most scenes have an up).
        scale: zoom range; > 1 zooms in (crops a part of the image), < 1 zooms out (pads).
        brightness: max brightness shift, as a fraction of the full range.
        contrast: max contrast change (factor in [1 - contrast, 1 + contrast]).
        saturation: max saturation change (factor in [1 - s, 1 + s]; 3+ channel images only).

    Example:
        >>> Augmentation(scale=(1.0, 1.25)).scale
        (1.0, 1.25)
    """

    flip: bool = True
    vertical_flip: bool = False
    scale: tuple[float, float] = (0.75, 1.5)
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2

    def __post_init__(self) -> None:
        low, high = (float(v) for v in self.scale)
        if not 0 < low <= high:
            raise ValueError(f"Augmentation scale must be (low, high) with 0 < low <= high; got {self.scale}.")
        object.__setattr__(self, "scale", (low, high))
        for name in ("brightness", "contrast", "saturation"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"Augmentation {name}={value} must be between 0 and 1.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly settings."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_value(cls, value: Augmentation | bool | dict | None) -> Augmentation | None:
        """``True`` -> defaults, ``False``/``None`` -> no augmentation, a dict -> those settings.

        Example:
            >>> Augmentation.from_value(True) == Augmentation()
            True
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


def sample_region(height: tf.Tensor, width: tf.Tensor, aug: Augmentation, seed: tf.Tensor) -> tuple[tf.Tensor, ...]:
    """A random crop region (top, left, bottom, right in pixel-edge coordinates) and flip flags.

    Example:
        >>> region = sample_region(tf.constant(64.0), tf.constant(64.0), Augmentation(), tf.constant([1, 2]))
        >>> len(region)
        6
    """
    u = tf.random.stateless_uniform([5], seed=seed)
    low, high = aug.scale
    scale = low + u[0] * (high - low)
    crop_h, crop_w = height / scale, width / scale
    top = tf.minimum(0.0, height - crop_h) + u[1] * tf.abs(height - crop_h)
    left = tf.minimum(0.0, width - crop_w) + u[2] * tf.abs(width - crop_w)
    flip_h = tf.logical_and(tf.constant(aug.flip), u[3] < 0.5)
    flip_v = tf.logical_and(tf.constant(aug.vertical_flip), u[4] < 0.5)
    return top, left, top + crop_h, left + crop_w, flip_h, flip_v


def region_box(region: tuple[tf.Tensor, ...], height: tf.Tensor, width: tf.Tensor, out_h: int, out_w: int) -> tf.Tensor:
    """The ``crop_and_resize`` box sampling ``region`` at ``out_h x out_w`` pixel centres.

    The box refers to the image padded by one pixel on each side (edge replicated), so sampling
    at the border never reads the extrapolation value unless the region leaves the image.

    Example:
        >>> full = (0.0, 0.0, 4.0, 4.0, tf.constant(False), tf.constant(False))
        >>> region_box(full, tf.constant(4.0), tf.constant(4.0), 4, 4).numpy().round(3).tolist()
        [0.2, 0.2, 0.8, 0.8]
    """
    top, left, bottom, right, flip_h, flip_v = region

    def axis(start, end, size, n):
        step = (end - start) / n
        first = (start + 0.5 * step - 0.5 + 1.0) / (size + 1.0)
        last = (start + (n - 0.5) * step - 0.5 + 1.0) / (size + 1.0)
        return first, last

    y1, y2 = axis(top, bottom, height, out_h)
    x1, x2 = axis(left, right, width, out_w)
    y1, y2 = tf.cond(flip_v, lambda: (y2, y1), lambda: (y1, y2))
    x1, x2 = tf.cond(flip_h, lambda: (x2, x1), lambda: (x1, x2))
    return tf.stack([y1, x1, y2, x2])


def crop_resize(image: tf.Tensor, box: tf.Tensor, size: tuple[int, int], method: str, fill: float) -> tf.Tensor:
    """Sample ``box`` (from :func:`region_box`) of a ``(H, W, C)`` image at ``size``.

    Example:
        >>> img = tf.ones((4, 4, 1))
        >>> full = (0.0, 0.0, 4.0, 4.0, tf.constant(False), tf.constant(False))
        >>> crop_resize(img, region_box(full, 4.0, 4.0, 2, 2), (2, 2), "bilinear", 0.0).shape
        TensorShape([2, 2, 1])
    """
    padded = tf.pad(tf.cast(image, tf.float32), [[1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")
    out = tf.image.crop_and_resize(padded[None], box[None], [0], size, method=method, extrapolation_value=fill)
    return out[0]


def jitter_colors(image: tf.Tensor, aug: Augmentation, seed: tf.Tensor) -> tf.Tensor:
    """Random brightness, contrast and saturation on an image in [0, 1]; the result is clipped to [0, 1].

    Example:
        >>> jitter_colors(tf.fill((2, 2, 3), 0.5), Augmentation(), tf.constant([3, 4])).shape
        TensorShape([2, 2, 3])
    """
    u = tf.random.stateless_uniform([3], seed=seed, minval=-1.0, maxval=1.0)
    x = image + aug.brightness * u[0]
    mean = tf.reduce_mean(x, axis=[0, 1, 2], keepdims=True)
    x = (x - mean) * (1.0 + aug.contrast * u[1]) + mean
    if image.shape[-1] is not None and image.shape[-1] >= 3 and aug.saturation > 0:
        gray = tf.reduce_mean(x[..., :3], axis=-1, keepdims=True)
        color = gray + (x[..., :3] - gray) * (1.0 + aug.saturation * u[2])
        x = tf.concat([color, x[..., 3:]], axis=-1)
    return tf.clip_by_value(x, 0.0, 1.0)


__all__ = ["Augmentation", "crop_resize", "jitter_colors", "region_box", "sample_region"]
