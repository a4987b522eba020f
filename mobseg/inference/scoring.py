"""Scoring images with a segmentation model: the loop that ``predict`` and ``evaluate`` share.

For each image: convert it to the model's input channels, resize it bilinearly to the model's input
size, apply the model's preprocessing (the function training uses), run the model on batches through an
engine (:mod:`mobseg.inference.engines`; for a Keras model ``predict_on_batch``, no per-call ``predict``
overhead; the flat head's ``(h*w, C)`` output is reshaped with the model's output size), and hand back
the class scores ``(h, w, C)`` next to the original image. :func:`scores_to_mask` then resizes the scores
to the original size and takes the argmax.

This module imports numpy and Pillow only (no Keras, no TensorFlow), so exported engines can use it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from mobseg.io.images import as_image_array, read_image, resize_image, to_channels
from mobseg.preprocessing import preprocess_images

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


@dataclass(frozen=True)
class ModelGeometry:
    """What scoring needs to know about a model: input size and channels, output size, preprocessing.

    Example:
        >>> import mobseg
        >>> ModelGeometry.of(mobseg.mobilenet_segnet(2, input_height=64, input_width=64)).output_size
        (32, 32)
    """

    input_size: tuple[int, int]
    channels: int
    output_size: tuple[int, int]
    preprocessing: str

    @classmethod
    def of(cls, model: Any) -> ModelGeometry:
        """Read the geometry of a mobseg model, or of a plain Keras model with a spatial output."""
        height, width, channels = model.inputs[0].shape[1:4]
        if not height or not width or not channels:
            raise ValueError(
                f"{model.name} has input shape {model.inputs[0].shape}; scoring needs a fixed (H, W, C) input size."
            )
        output_shape = model.outputs[0].shape
        if len(output_shape) == 4:
            output_size = (int(output_shape[1]), int(output_shape[2]))
        elif hasattr(model, "architecture") and "output_size" in model.architecture:
            output_size = tuple(int(v) for v in model.output_size)
        else:
            raise ValueError(
                f"{model.name} has a flat output {output_shape} and no recorded output size; "
                "load it with mobseg.load_model or build it with mobseg."
            )
        preprocessing = model.preprocessing if hasattr(model, "architecture") else "none"
        return cls((int(height), int(width)), int(channels), output_size, preprocessing)

    def prepare_one(self, image: np.ndarray) -> np.ndarray:
        """One image as a float32 model input ``(H, W, C)``: channels, bilinear resize, preprocessing.

        Example:
            >>> ModelGeometry((8, 8), 3, (4, 4), "unit").prepare_one(np.full((5, 7), 255, np.uint8)).max()
            1.0
        """
        height, width = self.input_size
        x = resize_image(to_channels(image, self.channels), height, width)
        return np.asarray(preprocess_images(x, self.preprocessing), dtype=np.float32)

    def prepare(self, images: list[np.ndarray]) -> np.ndarray:
        """Stack images as one float32 model input: channels, bilinear resize, preprocessing.

        Example:
            >>> g = ModelGeometry((8, 8), 3, (4, 4), "none")
            >>> g.prepare([np.zeros((5, 7), np.uint8)]).shape
            (1, 8, 8, 3)
        """
        return np.stack([self.prepare_one(image) for image in images])

    def to_dict(self) -> dict[str, Any]:
        """The geometry as JSON-ready values (what an export's sidecar records).

        Example:
            >>> ModelGeometry((8, 8), 3, (4, 4), "unit").to_dict()["output_size"]
            [4, 4]
        """
        return {
            "input_size": list(self.input_size),
            "channels": self.channels,
            "output_size": list(self.output_size),
            "preprocessing": self.preprocessing,
        }

    @classmethod
    def from_dict(cls, info: dict[str, Any]) -> ModelGeometry:
        """The inverse of :meth:`to_dict`.

        Example:
            >>> ModelGeometry.from_dict(ModelGeometry((8, 8), 3, (4, 4), "unit").to_dict()).input_size
            (8, 8)
        """
        try:
            height, width = (int(v) for v in info["input_size"])
            out_h, out_w = (int(v) for v in info["output_size"])
            return cls((height, width), int(info["channels"]), (out_h, out_w), str(info["preprocessing"]))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"incomplete model geometry {info!r} ({err!r}).") from None


def load_input(item: Any, index: int = 0) -> np.ndarray:
    """An input of ``predict``/``evaluate`` as an ``(H, W, C)`` array: a file path is read, an array checked.

    Example:
        >>> load_input(np.zeros((4, 5), np.uint8)).shape
        (4, 5, 1)
    """
    if isinstance(item, (str, os.PathLike)):
        return read_image(item)
    return as_image_array(item, name=f"input {index}")


def score_images(
    model: Any, images: Iterable[np.ndarray], *, count: int, batch_size: int = 8, progress: bool = False
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(original image, class scores (h, w, C))`` for each image, running the model on batches.

    ``model`` is a Keras model, an engine (:func:`mobseg.inference.engines.open_engine`) or an exported
    file. ``count`` sizes the progress bar. The last, partial batch is padded to ``batch_size`` when
    earlier batches ran, so the model sees one batch shape (no retracing). This is the simple,
    sequential loop; :func:`mobseg.inference.predict_iter` overlaps reading, the model and writing.

    Example:
        >>> import mobseg
        >>> model = mobseg.mobilenet_segnet(2, input_height=64, input_width=64)
        >>> [s.shape for _, s in score_images(model, [np.zeros((50, 70, 3), np.uint8)], count=1)]
        [(32, 32, 2)]
    """
    from mobseg.inference.engines import open_engine
    from mobseg.inference.progress import ProgressBar

    engine = open_engine(model)
    bar = ProgressBar(count) if progress else None
    done, batch_index, pending = 0, 0, []
    for image in images:
        pending.append(image)
        if len(pending) == batch_size:
            x = engine.geometry.prepare(pending)
            yield from zip(pending, engine.run_padded(x, batch_size, pad=False), strict=True)
            done, batch_index, pending = done + len(pending), batch_index + 1, []
            if bar is not None:
                bar.update(done)
    if pending:
        x = engine.geometry.prepare(pending)
        yield from zip(pending, engine.run_padded(x, batch_size, pad=batch_index > 0), strict=True)
        if bar is not None:
            bar.update(done + len(pending))
    if bar is not None:
        bar.close()


__all__ = ["ModelGeometry", "load_input", "resize_scores", "score_images", "scores_to_mask"]
