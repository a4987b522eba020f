"""Class imbalance: pixel statistics of the training masks and median-frequency class weights."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from mobseg.data.masks import read_mask
from mobseg.data.pairs import Pair


def mask_class_counts(labels: np.ndarray, n_classes: int, ignore_index: int | None = None) -> np.ndarray:
    """Pixels per class ``0..n_classes-1`` in one label array (ignore and out-of-range values not counted).

    Example:
        >>> mask_class_counts(np.array([[0, 1, 1, 255]]), 3, ignore_index=255).tolist()
        [1, 2, 0]
    """
    values = labels.ravel()
    values = values[(values >= 0) & (values < n_classes)]
    if ignore_index is not None:
        values = values[values != ignore_index]
    return np.bincount(values, minlength=n_classes)[:n_classes].astype(np.int64)


def class_statistics(
    pairs: Sequence[Pair],
    n_classes: int,
    ignore_index: int | None = None,
    mask_format: str = "index",
    colors: Any = None,
    reader: Callable[[str], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-class pixel counts and, per class, the total pixels of the images where the class occurs.

    Example:
        >>> counts, present = class_statistics(pairs, 3)  # doctest: +SKIP
    """
    read = reader or (lambda path: read_mask(path, mask_format, colors))

    def one(pair: Pair) -> tuple[np.ndarray, int]:
        labels = read(pair.mask)
        counts = mask_class_counts(labels, n_classes, ignore_index)
        return counts, int(counts.sum())

    counts = np.zeros(n_classes, np.int64)
    present_pixels = np.zeros(n_classes, np.int64)
    with ThreadPoolExecutor(max_workers=4) as pool:
        for image_counts, image_total in pool.map(one, pairs):
            counts += image_counts
            present_pixels += np.where(image_counts > 0, image_total, 0)
    return counts, present_pixels


def median_frequency_weights(counts: Sequence[int], present_pixels: Sequence[int]) -> list[float]:
    """Median-frequency balancing (Eigen & Fergus; the SegNet paper): ``median(freq) / freq[c]``.

    ``freq[c]`` = pixels of class c / total pixels of the images in which c occurs. Classes that never
    occur get weight 0 (they have no pixels to weigh).

    Example:
        >>> median_frequency_weights([100, 10, 10], [120, 120, 120])
        [0.1, 1.0, 1.0]
    """
    counts = np.asarray(counts, np.float64)
    present = np.asarray(present_pixels, np.float64)
    seen = counts > 0
    if not seen.any():
        raise ValueError("No labelled pixels found in the training masks; cannot compute balanced class weights.")
    freq = np.where(seen, counts / np.maximum(present, 1), 0.0)
    median = float(np.median(freq[seen]))
    return [round(float(median / f), 6) if f > 0 else 0.0 for f in freq]


def resolve_class_weights(
    class_weights: str | Sequence[float] | None,
    n_classes: int,
    pairs: Sequence[Pair] | None = None,
    ignore_index: int | None = None,
    mask_format: str = "index",
    colors: Any = None,
) -> list[float] | None:
    """``None``, an explicit list (checked), or ``"balanced"`` (median frequency from ``pairs``' masks).

    Example:
        >>> resolve_class_weights([1, 2.5], 2)
        [1.0, 2.5]
    """
    if class_weights is None:
        return None
    if isinstance(class_weights, str):
        if class_weights != "balanced":
            raise ValueError(
                f"class_weights={class_weights!r}: use 'balanced', a list of {n_classes} numbers, or None."
            )
        if not pairs:
            raise ValueError("class_weights='balanced' needs the training pairs to count pixels.")
        counts, present = class_statistics(pairs, n_classes, ignore_index, mask_format, colors)
        return median_frequency_weights(counts, present)
    try:
        weights = [float(w) for w in class_weights]
    except (TypeError, ValueError):
        raise ValueError(f"class_weights must be 'balanced' or a list of numbers; got {class_weights!r}.") from None
    if len(weights) != n_classes:
        raise ValueError(f"class_weights has {len(weights)} values but there are {n_classes} classes; give one each.")
    if any(not np.isfinite(w) or w < 0 for w in weights):
        raise ValueError(f"class_weights must be finite and >= 0; got {weights}.")
    return weights


__all__ = ["class_statistics", "mask_class_counts", "median_frequency_weights", "resolve_class_weights"]
