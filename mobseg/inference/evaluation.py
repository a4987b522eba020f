"""``evaluate``: run a model over images with ground-truth masks and report IoU and friends per class.

Predictions are made exactly as :func:`mobseg.predict` makes them (scores resized to the original
image size, then argmax) and compared with the masks at their full resolution. keras_segmentation's
``evaluate`` compares at the model's output resolution (half the input for SegNet) with masks
resized by nearest neighbour; mobseg scores what users actually get.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from mobseg.classes import check_class_names
from mobseg.inference.loading import model_class_names
from mobseg.inference.scoring import load_input, score_images, scores_to_mask
from mobseg.metrics.report import ConfusionMatrix, format_report, segmentation_report
from mobseg.validation import check_int


def _as_list(items: Any, what: str) -> list[Any]:
    if isinstance(items, np.ndarray):
        return list(items)
    if isinstance(items, (str, os.PathLike)):
        raise ValueError(f"{what}: give a folder for both images and masks, or lists of the same length for both.")
    return list(items)


def _pair_inputs(images: Any, masks: Any) -> tuple[list[Any], list[Any]]:
    """Image and mask items, paired: two folders matched by file stem, or two lists / arrays in order."""
    if isinstance(images, (str, os.PathLike)) or isinstance(masks, (str, os.PathLike)):
        if not (isinstance(images, (str, os.PathLike)) and isinstance(masks, (str, os.PathLike))):
            raise ValueError("Give images and masks the same way: two folders, or two lists / arrays.")
        from mobseg.data.pairs import list_pairs

        pairs = list_pairs(os.fspath(images), os.fspath(masks))
        return [p.image for p in pairs], [p.mask for p in pairs]
    image_items, mask_items = _as_list(images, "images"), _as_list(masks, "masks")
    if len(image_items) != len(mask_items):
        raise ValueError(
            f"Got {len(image_items)} images but {len(mask_items)} masks; give exactly one mask per image, in order."
        )
    if not image_items:
        raise ValueError("evaluate got no images: pass folders or non-empty lists of images and masks.")
    return image_items, mask_items


def _load_mask(item: Any, index: int, mask_format: str, colors: Any) -> tuple[np.ndarray, str]:
    if isinstance(item, (str, os.PathLike)):
        from mobseg.data.masks import read_mask

        return np.asarray(read_mask(item, mask_format, colors)), os.fspath(item)
    labels = np.asarray(item)
    if labels.ndim == 3 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.ndim != 2:
        raise ValueError(f"mask {index} has shape {labels.shape}; masks are (H, W) arrays of class indices.")
    return labels, f"mask {index}"


def _check_labels(labels: np.ndarray, name: str, n_classes: int, ignore_index: int | None) -> None:
    bad = (labels < 0) | (labels >= n_classes)
    if ignore_index is not None:
        bad &= labels != ignore_index
    if np.any(bad):
        values = np.unique(labels[bad])[:8].tolist()
        raise ValueError(
            f"{name} has values {values} outside 0..{n_classes - 1} for a {n_classes}-class model. If "
            f"{values[-1]} marks unlabelled pixels, pass ignore_index={values[-1]} (--ignore-index {values[-1]}); "
            "0/255 binary masks need mask_format='binary'."
        )


def evaluate(
    model: keras.Model,
    images: Any,
    masks: Any,
    *,
    ignore_index: int | None = None,
    class_names: Sequence[str] | None = None,
    batch_size: int = 8,
    mask_format: str = "index",
    colors: Any = None,
    verbose: bool = True,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Evaluate ``model`` on images and their masks; returns a JSON-ready report and prints its table.

    ``images`` and ``masks`` are two folders (paired by file stem, as for training) or two lists of
    the same length (files or arrays). Masks are read like training masks (``mask_format`` and
    ``colors``, see :mod:`mobseg.data.masks`) and must have their image's size. Pixels labelled
    ``ignore_index`` are not counted; any other label outside ``0..n_classes-1`` is an error.

    The report is :func:`mobseg.metrics.segmentation_report` (pixel accuracy, mean class accuracy,
    per-class and mean IoU, frequency-weighted IoU, per-class and mean Dice, the confusion matrix)
    plus ``n_images`` and ``model``. Classes absent from both ground truth and prediction have IoU
    ``None`` and are excluded from the means. ``class_names`` default to the model's
    (``architecture["class_names"]``), else ``class_0``, ...

    Example:
        >>> report = evaluate(model, "data/val/images", "data/val/masks", ignore_index=255)  # doctest: +SKIP
        >>> report["mean_iou"], report["classes"][1]["name"], report["classes"][1]["iou"]  # doctest: +SKIP
        (0.71, 'road', 0.93)
    """
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    n_classes = int(model.outputs[0].shape[-1])
    names = check_class_names(class_names, n_classes) if class_names is not None else model_class_names(model)
    image_items, mask_items = _pair_inputs(images, masks)
    matrix = ConfusionMatrix(n_classes, ignore_index)
    show = progress if progress is not None else (verbose and len(image_items) > batch_size)
    loaded = (load_input(item, i) for i, item in enumerate(image_items))
    scored = score_images(model, loaded, count=len(image_items), batch_size=batch_size, progress=show)
    for index, (image, scores) in enumerate(scored):
        labels, name = _load_mask(mask_items[index], index, mask_format, colors)
        if labels.shape != image.shape[:2]:
            image_name = image_items[index] if isinstance(image_items[index], (str, os.PathLike)) else f"image {index}"
            raise ValueError(
                f"{name} is {labels.shape[1]}x{labels.shape[0]} (WxH) but its image {image_name} is "
                f"{image.shape[1]}x{image.shape[0]}; a mask must have its image's size."
            )
        _check_labels(labels, name, n_classes, ignore_index)
        matrix.update(labels, scores_to_mask(scores, labels.shape[0], labels.shape[1]))
    report = segmentation_report(matrix.matrix, names, ignore_index)
    report["n_images"] = len(image_items)
    report["model"] = model.name
    if verbose:
        print(format_report(report))
    return report


__all__ = ["evaluate"]
