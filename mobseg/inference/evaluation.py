"""``evaluate``: run a model over images with ground-truth masks and report IoU and friends per class.

Predictions are made exactly as :func:`mobseg.predict` makes them (scores resized to the original
image size, then argmax) and compared with the masks at their full resolution. keras_segmentation's
``evaluate`` compares at the model's output resolution (half the input for SegNet) with masks
resized by nearest neighbour; mobseg scores what users actually get.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mobseg.classes import check_class_names
from mobseg.inference.engines import open_engine
from mobseg.inference.inputs import InputItem
from mobseg.inference.scoring import scores_to_mask
from mobseg.inference.streaming import ON_ERROR, Pipeline, SkippedInputsError
from mobseg.metrics.confusion import confusion_matrix
from mobseg.metrics.report import format_report, segmentation_report
from mobseg.validation import check_choice, check_int


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


@dataclass(frozen=True)
class _PairScorer:
    """Scores one image against its mask (runs in the finish pool): that image's confusion matrix."""

    masks: list[Any]
    n_classes: int
    ignore_index: int | None
    mask_format: str
    colors: Any

    def __call__(self, item: InputItem, image: np.ndarray, scores: np.ndarray) -> np.ndarray:
        labels, name = _load_mask(self.masks[item.index], item.index, self.mask_format, self.colors)
        if labels.shape != image.shape[:2]:
            image_name = item.label if isinstance(item.item, (str, os.PathLike)) else f"image {item.index}"
            raise ValueError(
                f"{name} is {labels.shape[1]}x{labels.shape[0]} (WxH) but its image {image_name} is "
                f"{image.shape[1]}x{image.shape[0]}; a mask must have its image's size."
            )
        _check_labels(labels, name, self.n_classes, self.ignore_index)
        predicted = scores_to_mask(scores, labels.shape[0], labels.shape[1])
        return confusion_matrix(labels, predicted, self.n_classes, self.ignore_index)


def evaluate(
    model: Any,
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
    engine: str | None = None,
    precision: str | None = None,
    threads: int | None = None,
    tta: str | None = None,
    on_error: str = "skip",
    workers: int | None = None,
) -> dict[str, Any]:
    """Evaluate ``model`` on images and their masks; returns a JSON-ready report and prints its table.

    ``images`` and ``masks`` are two folders (paired by file stem, as for training) or two lists of
    the same length (files or arrays). Masks are read like training masks (``mask_format`` and
    ``colors``, see :mod:`mobseg.data.masks`) and must have their image's size. Pixels labelled
    ``ignore_index`` are not counted; any other label outside ``0..n_classes-1`` is an error.
    ``model`` is a Keras model, an engine or an exported file (``engine``, ``precision``, ``threads``
    as :func:`mobseg.inference.engines.open_engine`; ``tta="flip"`` averages each image with its mirror
    image); reading, the model and scoring overlap.

    The report is :func:`mobseg.metrics.segmentation_report` (pixel accuracy, mean class accuracy,
    per-class and mean IoU, frequency-weighted IoU, per-class and mean Dice, the confusion matrix)
    plus ``n_images``, ``model`` and ``failed`` (``[{"image": ..., "error": ...}]``). Classes absent
    from both ground truth and prediction have IoU ``None`` and are excluded from the means.
    ``class_names`` default to the model's, else ``class_0``, ...

    A pair that cannot be used (unreadable image, mask of the wrong size or with unknown labels) is
    skipped with ``on_error="skip"`` (default): the report covers the other pairs, and then
    :class:`~mobseg.inference.streaming.SkippedInputsError` (a ``ValueError``) is raised naming the
    skipped pairs, with the report in ``.result``. ``"stop"`` raises the first error.

    Example:
        >>> report = evaluate(model, "data/val/images", "data/val/masks", ignore_index=255)  # doctest: +SKIP
        >>> report["mean_iou"], report["classes"][1]["name"], report["classes"][1]["iou"]  # doctest: +SKIP
        (0.71, 'road', 0.93)
    """
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    check_choice(on_error, "on_error", ON_ERROR)
    image_items, mask_items = _pair_inputs(images, masks)
    opened = open_engine(model, engine, precision=precision, threads=threads, tta=tta)
    try:
        names = check_class_names(class_names, opened.n_classes) if class_names is not None else opened.class_names
        scorer = _PairScorer(mask_items, opened.n_classes, ignore_index, mask_format, colors)
        show = progress if progress is not None else (verbose and len(image_items) > batch_size)
        items = [InputItem(i, item, f"image_{i}") for i, item in enumerate(image_items)]
        pipeline = Pipeline(opened, scorer, batch_size, workers, on_error, bool(show))
        matrix = np.zeros((opened.n_classes, opened.n_classes), np.int64)
        failed = []
        for outcome in pipeline.run(items, total=len(items)):
            if outcome.error is None:
                matrix += outcome.value
            else:
                failed.append((outcome.item.label, outcome.error))
    finally:
        if opened is not model:
            opened.close()
    return _finish_report(matrix, names, ignore_index, len(items), failed, opened, verbose)


def _finish_report(
    matrix: np.ndarray, names: list[str], ignore_index: int | None, total: int, failed: list, engine: Any, verbose: bool
) -> dict[str, Any]:
    if len(failed) == total:
        raise SkippedInputsError(failed, total)
    report = segmentation_report(matrix, names, ignore_index)
    report["n_images"] = total - len(failed)
    report["model"] = engine.info.get("name", engine.source)
    report["engine"] = f"{engine.name} {engine.precision}"
    report["failed"] = [{"image": name, "error": error} for name, error in failed]
    if verbose:
        print(format_report(report))
    if failed:
        raise SkippedInputsError(failed, total, result=report)
    return report


__all__ = ["evaluate"]
