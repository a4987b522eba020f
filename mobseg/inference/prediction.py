"""``predict``: class masks at the ORIGINAL image size, written as index PNGs, palette PNGs and overlays.

How a mask is made, for each image:

1. Read it (:func:`mobseg.io.read_image`: any mode, 16-bit scaled to [0, 255]) and convert it to
   the model's input channels (gray -> RGB repeats, alpha is dropped).
2. Resize it bilinearly to the model's input size and apply the model's preprocessing
   (``model.architecture["preprocessing"]``, the same function training uses).
3. Run the model on batches (``predict_on_batch``: no per-call ``predict`` overhead); the flat head's
   ``(h*w, C)`` output is reshaped to ``(h, w, C)`` with ``model.architecture["output_size"]``.
4. Resize the class **scores** (probabilities, or logits for ``logits=True`` models) bilinearly to
   the original image size, **then** take the argmax. Resizing scores rather than the label map
   gives smooth, sub-pixel boundaries instead of the blocky half-resolution masks of
   keras_segmentation, and the mask has exactly the image's height and width.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from mobseg.classes import check_class_names
from mobseg.inference.loading import model_class_names
from mobseg.inference.scoring import load_input, resize_scores, score_images, scores_to_mask
from mobseg.inference.visualize import add_legend, check_palette, colorize_mask, overlay_mask
from mobseg.io.images import atomic_write_png, image_to_float, list_images, to_channels
from mobseg.validation import check_int

#: Sub-folders of ``out_dir`` that :func:`predict` writes.
MASKS_DIR, COLOR_DIR, OVERLAY_DIR = "masks", "color", "overlay"


def _collect_inputs(inputs: Any) -> tuple[list[Any], list[str], bool]:
    """(items: paths or arrays, output stems, single) from a file, folder, array, or a list of them."""
    if isinstance(inputs, (str, os.PathLike)):
        path = os.fspath(inputs)
        if os.path.isdir(path):
            files = list_images(path)
            return files, [Path(f).stem for f in files], False
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Input not found: {path}. Pass an image file, a folder of images or arrays.")
        return [path], [Path(path).stem], True
    if isinstance(inputs, np.ndarray) and inputs.ndim in (2, 3):
        return [inputs], ["image_0000"], True
    items = list(inputs)
    if not items:
        raise ValueError("predict got no inputs: pass an image file, a folder, an array or a non-empty list.")
    stems = [
        Path(os.fspath(item)).stem if isinstance(item, (str, os.PathLike)) else f"image_{i:04d}"
        for i, item in enumerate(items)
    ]
    return items, stems, False


def _write_outputs(
    out_dir: str,
    stem: str,
    image: np.ndarray,
    mask: np.ndarray,
    palette: np.ndarray,
    overlay: bool,
    legend_names: list[str] | None,
    alpha: float,
) -> None:
    atomic_write_png(mask, os.path.join(out_dir, MASKS_DIR, f"{stem}.png"))
    atomic_write_png(colorize_mask(mask, palette), os.path.join(out_dir, COLOR_DIR, f"{stem}.png"))
    if overlay:
        rgb = np.clip(np.round(image_to_float(to_channels(image, 3))), 0, 255).astype(np.uint8)
        picture = overlay_mask(rgb, mask, palette, alpha)
        if legend_names is not None:
            picture = add_legend(picture, legend_names, palette)
        atomic_write_png(picture, os.path.join(out_dir, OVERLAY_DIR, f"{stem}.png"))


def predict(
    model: keras.Model,
    inputs: Any,
    out_dir: str | os.PathLike | None = None,
    *,
    batch_size: int = 8,
    overlay: bool = False,
    legend: bool = False,
    alpha: float = 0.5,
    class_names: Sequence[str] | None = None,
    palette: Sequence[Sequence[int]] | np.ndarray | None = None,
    progress: bool | None = None,
) -> np.ndarray | list[np.ndarray]:
    """Predict class masks at each image's ORIGINAL size (see the module doc for how).

    ``inputs``: an image file, a folder (its png/jpg/bmp/tif/webp/gif files, sorted), an array
    ``(H, W)`` / ``(H, W, C)`` (uint8, uint16 or float in [0, 255]), or a list of files and arrays.
    A single file or array gives one mask ``(H, W)``; a folder or a list gives a list of masks. Masks
    are uint8 class indices (uint16 above 256 classes).

    With ``out_dir``, for each input named ``<stem>`` (``image_0000``... for arrays) it writes, each
    atomically (temporary file in the same folder, then ``os.replace``):

    * ``out_dir/masks/<stem>.png``: the index mask (pixel value = class), same size as the image;
    * ``out_dir/color/<stem>.png``: the same indices as a palette PNG that viewers show in colour;
    * ``out_dir/overlay/<stem>.png`` (``overlay=True``): the image blended with the class colours
      (``alpha`` = colour weight); ``legend=True`` (implies ``overlay``) adds a panel with the class
      names to the right, so that file is wider than the image.

    ``progress=None`` shows a progress bar when there are more than ``batch_size`` images.

    Example:
        >>> import mobseg, numpy as np
        >>> model = mobseg.mobilenet_segnet(3, input_height=64, input_width=64)
        >>> predict(model, np.zeros((181, 243, 3), np.uint8)).shape
        (181, 243)
    """
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    items, stems, single = _collect_inputs(inputs)
    n_classes = int(model.outputs[0].shape[-1])
    overlay = overlay or legend
    legend_names = None
    if legend:
        legend_names = check_class_names(class_names, n_classes) if class_names else model_class_names(model)
    colors = check_palette(palette, n_classes)
    if out_dir is not None:
        out_dir = os.fspath(out_dir)
        seen: dict[str, Any] = {}
        for stem, item in zip(stems, items, strict=True):
            if stem in seen:
                raise ValueError(
                    f"Two inputs would write the same output name {stem!r}: {seen[stem]} and {item}. "
                    "Rename one of them or predict them into different folders."
                )
            seen[stem] = item if isinstance(item, (str, os.PathLike)) else f"array {len(seen)}"
    show = progress if progress is not None else len(items) > batch_size
    images = (load_input(item, i) for i, item in enumerate(items))
    masks = []
    scored = score_images(model, images, count=len(items), batch_size=batch_size, progress=show)
    for stem, (image, scores) in zip(stems, scored, strict=True):
        mask = scores_to_mask(scores, image.shape[0], image.shape[1])
        if out_dir is not None:
            _write_outputs(out_dir, stem, image, mask, colors, overlay, legend_names, alpha)
        masks.append(mask)
    return masks[0] if single else masks


__all__ = ["COLOR_DIR", "MASKS_DIR", "OVERLAY_DIR", "predict", "resize_scores", "scores_to_mask"]
