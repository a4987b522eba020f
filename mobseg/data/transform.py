"""The per-example steps both input pipelines share: read and check a pair, then augment, resize and weight it.

:func:`make_decoder` reads an (image, mask) pair with Pillow and checks it; :class:`ExampleTransform` turns the
decoded pair into one training example ``(image, labels, sample_weight)`` (see :mod:`mobseg.data.pipeline`).
Both are plain numpy: ``tf.data`` calls them through ``tf.numpy_function``, the backend-neutral loader
(:mod:`mobseg.data.loader`) calls them directly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mobseg.data.augment import Augmentation, full_region, jitter_colors, resample, sample_region
from mobseg.data.images import read_image_uint8
from mobseg.data.masks import binary_mask_hint, check_mask_format, parse_colors, read_mask
from mobseg.preprocessing import check_preprocessing, preprocess_images

#: What a decoder returns: the image as ``uint8`` ``(H, W, C)`` and the labels as ``int32`` ``(H, W)``.
Decoded = tuple[np.ndarray, np.ndarray]


def make_decoder(
    channels: int,
    n_classes: int,
    ignore_index: int | None,
    mask_format: str = "index",
    colors: Any = None,
    errors: list[str] | None = None,
) -> Callable[[bytes | str, bytes | str], Decoded]:
    """A function ``(image_path, mask_path) -> (uint8 image, int32 labels)`` that checks the pair.

    It raises ``ValueError`` naming the file for an unreadable file, a size mismatch or labels >= ``n_classes``
    that are not ``ignore_index``. The message is also appended to ``errors`` when given: the error reaches
    the training loop wrapped in a long pipeline traceback, and the caller can re-raise this sentence instead.

    Example:
        >>> decode = make_decoder(3, 2, None)
        >>> image, labels = decode(b"a.png", b"a_mask.png")  # doctest: +SKIP
    """
    mask_format = check_mask_format(mask_format, colors)
    color_map = parse_colors(colors) if colors is not None else None

    def decode(image_path: bytes | str, mask_path: bytes | str) -> Decoded:
        try:
            return checked(os.fsdecode(image_path), os.fsdecode(mask_path))
        except (ValueError, OSError) as err:
            if errors is not None:
                errors.append(str(err))
            raise

    def checked(image_path: str, mask_path: str) -> Decoded:
        image = read_image_uint8(image_path, channels)
        labels = read_mask(mask_path, mask_format, color_map)
        if image.shape[:2] != labels.shape:
            raise ValueError(
                f"{mask_path} is {labels.shape[1]}x{labels.shape[0]} but its image {image_path} is "
                f"{image.shape[1]}x{image.shape[0]} (width x height); run `mobseg verify` to list every problem."
            )
        bad = labels >= n_classes
        if ignore_index is not None:
            bad &= labels != ignore_index
        if bad.any():
            values = sorted(set(np.unique(labels[bad]).tolist()))[:10]
            raise ValueError(
                f"{mask_path} has label values {values} >= n_classes={n_classes}; fix the mask, raise n_classes "
                f"or set ignore_index (run `mobseg verify` to list every problem).{binary_mask_hint(labels)}"
            )
        return image, labels.astype(np.int32)

    return decode


def seeded_rng(*seeds: Any) -> np.random.Generator:
    """A numpy generator fixed by any integers (negative ones too, e.g. TensorFlow's int64 seeds).

    Example:
        >>> float(seeded_rng(1, -2).random()) == float(seeded_rng(1, -2).random())
        True
    """
    return np.random.default_rng([int(s) & 0xFFFFFFFFFFFFFFFF for s in np.asarray(seeds).reshape(-1)])


@dataclass(frozen=True)
class ExampleTransform:
    """One decoded pair -> one example: joint crop/flip/resize, pixel weights, colour jitter, preprocessing.

    The image is sampled bilinearly at ``input_size``, the labels by nearest neighbour at ``output_size``
    (the same region, so they stay aligned); padded pixels and ``ignore_index`` pixels get weight 0, the
    others their class weight (or 1). Labels are ``(h*w,)`` for the flat head, ``(h, w)`` for the spatial one.

    Example:
        >>> t = ExampleTransform((4, 4), (2, 2), n_classes=2)
        >>> x, y, w = t(np.zeros((8, 8, 3), np.uint8), np.ones((8, 8), np.int32))
        >>> x.shape, y.tolist(), w.tolist()
        ((4, 4, 3), [1, 1, 1, 1], [1.0, 1.0, 1.0, 1.0])
    """

    input_size: tuple[int, int]
    output_size: tuple[int, int]
    n_classes: int
    ignore_index: int | None = None
    class_weights: Sequence[float] | None = None
    preprocessing: str = "none"
    head: str = "flat"
    augmentation: Augmentation | None = None

    def __post_init__(self) -> None:
        check_preprocessing(self.preprocessing)
        if self.head not in ("flat", "spatial"):
            raise ValueError(f"Unknown head {self.head!r}; use 'flat' or 'spatial'.")
        if self.class_weights is not None and len(self.class_weights) != self.n_classes:
            raise ValueError(f"class_weights has {len(self.class_weights)} values for {self.n_classes} classes.")

    def __call__(self, image: np.ndarray, labels: np.ndarray, rng: np.random.Generator | None = None) -> tuple:
        """The example of one pair; ``rng`` draws the augmentation (``None``: the whole image, unaugmented)."""
        aug = self.augmentation if rng is not None else None
        height, width = labels.shape
        region = sample_region(height, width, aug, rng, self.input_size) if aug else full_region(height, width)
        x = resample(image, region, self.input_size, "bilinear", 0).astype(np.float32)
        y = resample(labels, region, self.output_size, "nearest", -1)
        if aug is not None:
            jitter_colors(x, aug, rng)
        x = np.asarray(preprocess_images(x, self.preprocessing), dtype=np.float32)
        y, w = self._labels_and_weights(y)
        if self.head == "flat":
            y, w = y.reshape(-1), w.reshape(-1)
        return x, y, w

    def seeded(self, image: np.ndarray, labels: np.ndarray, seed: Any) -> tuple:
        """:meth:`__call__` with the augmentation drawn from ``seed`` (integers), or none without augmentation.

        Example:
            >>> t = ExampleTransform((4, 4), (4, 4), n_classes=2, augmentation=Augmentation())
            >>> a = t.seeded(np.zeros((8, 8, 3), np.uint8), np.ones((8, 8), np.int32), [1, 2])
            >>> len(a)
            3
        """
        return self(image, labels, seeded_rng(seed) if self.augmentation is not None else None)

    def _labels_and_weights(self, sampled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        padded = sampled < 0
        valid = ~padded
        if self.ignore_index is not None:
            valid &= sampled != self.ignore_index
        if self.class_weights is not None:
            table = np.asarray(self.class_weights, np.float32)
            weights = np.where(valid, table[np.clip(sampled, 0, self.n_classes - 1)], np.float32(0.0))
        else:
            weights = valid.astype(np.float32)
        fill = 0 if self.ignore_index is None else int(self.ignore_index)
        labels = np.where(padded, np.int32(fill), sampled).astype(np.int32)
        return labels, weights.astype(np.float32)


__all__ = ["Decoded", "ExampleTransform", "make_decoder", "seeded_rng"]
