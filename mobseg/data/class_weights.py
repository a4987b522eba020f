"""Class imbalance: pixel statistics of the training masks and class weights from them.

Class weights reach the loss as per-pixel sample weights. The modes of :func:`resolve_class_weights`, from
none to strongest:

* ``"none"`` (or ``None``): every pixel counts the same; the loss follows the pixels, so frequent classes
  dominate (best pixel accuracy; rare classes are under-predicted);
* ``"balanced_log"``: ``log2(1 + b)`` of the median-frequency weight ``b`` (1 at the median class, growing
  slowly for rare classes);
* ``"balanced_sqrt"``: ``sqrt(b)``: the median-frequency weights damped by a square root;
* ``"balanced"``: ``b`` itself (median-frequency balancing, SegNet's): every class counts about the same, which
  raises rare classes' accuracy but makes the model paint them far larger than they are, costing IoU.

Which of the damped ones is milder depends on the data: ``sqrt`` compresses the ratio between the largest and
the smallest weight more, ``log`` keeps frequent classes lower.

``"balanced_sqrt"`` is :func:`mobseg.train`'s default since mobseg 0.2: on each of CamVid's three held-out
sequences it beat no weights (mean IoU 44.2 against 40.9 over the folds, ``mobilenet_unet``; BENCHMARKS.md).
"""

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


#: Class weight modes :func:`resolve_class_weights` computes from the training masks ("none": no weights).
CLASS_WEIGHT_MODES = ("none", "balanced", "balanced_sqrt", "balanced_log")


def damp_weights(weights: Sequence[float], mode: str) -> list[float]:
    """Median-frequency ``weights`` as ``mode`` uses them: as they are, square-rooted, or ``log2(1 + w)``.

    Each maps 0 to 0 and 1 to 1, so the median class keeps weight 1 and unseen classes 0.

    Example:
        >>> damp_weights([0.25, 1.0, 9.0], "balanced_sqrt")
        [0.5, 1.0, 3.0]
        >>> damp_weights([0.0, 1.0, 3.0], "balanced_log")
        [0.0, 1.0, 2.0]
    """
    values = np.asarray(weights, np.float64)
    if mode == "balanced_sqrt":
        values = np.sqrt(values)
    elif mode == "balanced_log":
        values = np.log2(1.0 + values)
    elif mode != "balanced":
        raise ValueError(f"class weight mode {mode!r} is not one of {', '.join(CLASS_WEIGHT_MODES)}.")
    return [round(float(v), 6) for v in values]


def resolve_class_weights(
    class_weights: str | Sequence[float] | None,
    n_classes: int,
    pairs: Sequence[Pair] | None = None,
    ignore_index: int | None = None,
    mask_format: str = "index",
    colors: Any = None,
) -> list[float] | None:
    """The per-class weights of a mode (see the module doc) computed from ``pairs``' masks, or a checked list.

    ``None`` or ``"none"``: no weights (``None``). ``"balanced"``, ``"balanced_sqrt"``, ``"balanced_log"``:
    median-frequency weights, damped by :func:`damp_weights`. A list: one finite weight >= 0 per class.

    Example:
        >>> resolve_class_weights([1, 2.5], 2)
        [1.0, 2.5]
        >>> resolve_class_weights("none", 2) is None
        True
    """
    if class_weights is None or class_weights == "none":
        return None
    if isinstance(class_weights, str):
        if class_weights not in CLASS_WEIGHT_MODES:
            raise ValueError(
                f"class_weights={class_weights!r}: use one of {', '.join(CLASS_WEIGHT_MODES)}, "
                f"or a list of {n_classes} numbers."
            )
        if not pairs:
            raise ValueError(f"class_weights={class_weights!r} needs the training pairs to count pixels.")
        counts, present = class_statistics(pairs, n_classes, ignore_index, mask_format, colors)
        return damp_weights(median_frequency_weights(counts, present), class_weights)
    try:
        weights = [float(w) for w in class_weights]
    except (TypeError, ValueError):
        raise ValueError(
            f"class_weights must be one of {', '.join(CLASS_WEIGHT_MODES)} or a list of numbers; got {class_weights!r}."
        ) from None
    if len(weights) != n_classes:
        raise ValueError(f"class_weights has {len(weights)} values but there are {n_classes} classes; give one each.")
    if any(not np.isfinite(w) or w < 0 for w in weights):
        raise ValueError(f"class_weights must be finite and >= 0; got {weights}.")
    return weights


__all__ = [
    "CLASS_WEIGHT_MODES",
    "damp_weights",
    "class_statistics",
    "mask_class_counts",
    "median_frequency_weights",
    "resolve_class_weights",
]
