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
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from mobseg.inference.loading import model_class_names
from mobseg.inference.visualize import add_legend, check_palette, colorize_mask, overlay_mask
from mobseg.io.images import (
    as_image_array,
    atomic_write_png,
    image_to_float,
    list_images,
    read_image,
    resize_image,
    to_channels,
)
from mobseg.metrics.report import check_class_names
from mobseg.preprocessing import preprocess_images

#: Sub-folders of ``out_dir`` that :func:`predict` writes.
MASKS_DIR, COLOR_DIR, OVERLAY_DIR = "masks", "color", "overlay"

#: Largest block of interpolated scores held in memory at once (elements).
_CHUNK_ELEMENTS = 1 << 22


def _linear_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices and weights of 1-D linear interpolation with half-pixel centres (as tf.image.resize)."""
    source = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
    source = np.clip(source, 0, n_in - 1)
    low = np.floor(source).astype(np.int64)
    high = np.minimum(low + 1, n_in - 1)
    return low, high, (source - low).astype(np.float32)


def resize_scores(scores: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of class scores ``(h, w, C)`` to ``(height, width, C)`` (half-pixel centres, no antialias).

    Example:
        >>> resize_scores(np.arange(4, dtype=np.float32).reshape(1, 2, 2), 1, 4)[0, :, 0].tolist()
        [0.0, 0.5, 1.5, 2.0]
    """
    scores = np.asarray(scores, np.float32)
    rows, cols = _linear_taps(scores.shape[0], height), _linear_taps(scores.shape[1], width)
    return _interpolate_rows(scores, rows, cols, slice(0, height))


def _interpolate_rows(scores: np.ndarray, rows: tuple, cols: tuple, block: slice) -> np.ndarray:
    top, bottom, frac = (taps[block] for taps in rows)
    vertical = scores[top] + (scores[bottom] - scores[top]) * frac[:, None, None]
    left, right, col_frac = cols
    return vertical[:, left] + (vertical[:, right] - vertical[:, left]) * col_frac[None, :, None]


def scores_to_mask(scores: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize scores ``(h, w, C)`` to ``(height, width)`` bilinearly and argmax: the class mask.

    Works in row blocks, so large images do not need ``height * width * C`` floats at once. The mask is
    uint8 for up to 256 classes, else uint16.

    Example:
        >>> s = np.zeros((2, 2, 2), np.float32); s[:, 0, 0] = s[:, 1, 1] = 1
        >>> scores_to_mask(s, 2, 4).tolist()
        [[0, 0, 1, 1], [0, 0, 1, 1]]
    """
    scores = np.asarray(scores, np.float32)
    n_classes = scores.shape[-1]
    mask = np.empty((height, width), dtype=np.uint8 if n_classes <= 256 else np.uint16)
    rows, cols = _linear_taps(scores.shape[0], height), _linear_taps(scores.shape[1], width)
    step = max(1, _CHUNK_ELEMENTS // max(1, width * n_classes))
    for start in range(0, height, step):
        block = slice(start, min(height, start + step))
        mask[block] = np.argmax(_interpolate_rows(scores, rows, cols, block), axis=-1)
    return mask


def _model_geometry(model: keras.Model) -> tuple[int, int, int, tuple[int, int]]:
    """(input height, input width, input channels, (output h, output w)) of a segmentation model."""
    height, width, channels = model.inputs[0].shape[1:4]
    if not height or not width or not channels:
        raise ValueError(
            f"{model.name} has input shape {model.inputs[0].shape}; predict needs a fixed (H, W, C) input size."
        )
    output_shape = model.outputs[0].shape
    architecture = getattr(model, "architecture", {}) or {}
    if len(output_shape) == 4:
        output_size = (int(output_shape[1]), int(output_shape[2]))
    elif architecture.get("output_size"):
        output_size = tuple(int(v) for v in architecture["output_size"])
    else:
        raise ValueError(
            f"{model.name} has a flat output {output_shape} and no architecture['output_size']; "
            "load it with mobseg.load_model or build it with mobseg."
        )
    return int(height), int(width), int(channels), output_size


def _prepare(image: np.ndarray, model: keras.Model, geometry: tuple) -> np.ndarray:
    height, width, channels, _ = geometry
    return resize_image(to_channels(image, channels), height, width)


def _score_batches(
    model: keras.Model, images: Iterator[np.ndarray], count: int, batch_size: int, progress: bool
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (original image, scores (h, w, C)) per image, running the model on batches."""
    geometry = _model_geometry(model)
    output_h, output_w = geometry[3]
    mode = (getattr(model, "architecture", {}) or {}).get("preprocessing", "none")
    bar = keras.utils.Progbar(count, unit_name="image") if progress else None
    done, batch_index, pending = 0, 0, []

    def run(batch: list[np.ndarray], pad: bool) -> np.ndarray:
        x = np.stack([_prepare(image, model, geometry) for image in batch])
        if pad and len(batch) < batch_size:  # keep one batch shape: no retracing for the last batch
            x = np.concatenate([x, np.zeros((batch_size - len(batch), *x.shape[1:]), x.dtype)])
        x = preprocess_images(x, mode).astype(np.float32)
        scores = np.asarray(keras.ops.convert_to_numpy(model.predict_on_batch(x)), np.float32)
        return scores[: len(batch)].reshape(len(batch), output_h, output_w, -1)

    for image in images:
        pending.append(image)
        if len(pending) == batch_size:
            yield from zip(pending, run(pending, pad=False), strict=True)
            done, batch_index, pending = done + len(pending), batch_index + 1, []
            if bar is not None:
                bar.update(done)
    if pending:
        yield from zip(pending, run(pending, pad=batch_index > 0), strict=True)
        if bar is not None:
            bar.update(done + len(pending))


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


def _load(item: Any, index: int) -> np.ndarray:
    if isinstance(item, (str, os.PathLike)):
        return read_image(item)
    return as_image_array(item, name=f"input {index}")


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
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
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
    images = (_load(item, i) for i, item in enumerate(items))
    masks = []
    scored = _score_batches(model, images, len(items), batch_size, show)
    for stem, (image, scores) in zip(stems, scored, strict=True):
        mask = scores_to_mask(scores, image.shape[0], image.shape[1])
        if out_dir is not None:
            _write_outputs(out_dir, stem, image, mask, colors, overlay, legend_names, alpha)
        masks.append(mask)
    return masks[0] if single else masks


__all__ = ["COLOR_DIR", "MASKS_DIR", "OVERLAY_DIR", "predict", "resize_scores", "scores_to_mask"]
