"""``predict`` and ``predict_iter``: class masks at the ORIGINAL image size, as index PNGs, palette PNGs, overlays.

How a mask is made, for each image, whatever the engine (:mod:`mobseg.inference.engines`):

1. Read it (:func:`mobseg.io.read_image`: any mode, 16-bit scaled to [0, 255]) and convert it to
   the model's input channels (gray -> RGB repeats, alpha is dropped).
2. Resize it bilinearly to the model's input size and apply the model's preprocessing
   (``model.architecture["preprocessing"]``, or the export's sidecar: the function training uses).
3. Run the model on batches (Keras: ``predict_on_batch``; or TFLite, ONNX Runtime, OpenVINO); the flat
   head's ``(h*w, C)`` output is reshaped to ``(h, w, C)`` with the model's output size.
4. Resize the class **scores** (probabilities, or logits for ``logits=True`` models) bilinearly to
   the original image size, **then** take the argmax. Resizing scores rather than the label map
   gives smooth, sub-pixel boundaries instead of the blocky half-resolution masks of
   keras_segmentation, and the mask has exactly the image's height and width.

Reading, the model and writing overlap (:mod:`mobseg.inference.streaming`), and a folder is streamed:
memory does not grow with the number of images. This module imports no Keras or TensorFlow.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mobseg.classes import check_class_names
from mobseg.inference.engines import Engine, open_engine
from mobseg.inference.inputs import InputItem, check_unique_stems, collect_inputs, select_shard
from mobseg.inference.scoring import resize_scores, scores_to_mask
from mobseg.inference.streaming import ON_ERROR, Pipeline, SkippedInputsError
from mobseg.inference.visualize import add_legend, check_palette, colorize_mask, overlay_mask
from mobseg.io.errors import WriteError
from mobseg.io.images import atomic_write_png, image_to_float, to_channels
from mobseg.validation import check_choice, check_int, check_number

#: Sub-folders of ``out_dir`` that :func:`predict` writes.
MASKS_DIR, COLOR_DIR, OVERLAY_DIR = "masks", "color", "overlay"


@dataclass(frozen=True)
class PredictionResult:
    """One input's prediction: ``mask`` (or ``error``, a sentence, when the input failed) and ``files`` written.

    ``name`` is the output stem, ``source`` the input (a path, or ``array <index>``), ``index`` its
    position among all inputs.
    """

    index: int
    name: str
    source: str
    mask: np.ndarray | None = None
    error: str | None = None
    files: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the input got its mask."""
        return self.error is None


@dataclass
class PredictionSummary:
    """What a folder run did, when masks are not kept: counts, failures ``[(input, error)]``, the out folder."""

    count: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    out_dir: str | None = None

    @property
    def written(self) -> int:
        """Inputs that got their mask."""
        return self.count - len(self.failures)


@dataclass(frozen=True)
class _Writer:
    """What to write for each mask (runs in the finish pool)."""

    out_dir: str | None
    palette: np.ndarray
    overlay: bool
    legend_names: list[str] | None
    alpha: float

    def prepare(self) -> None:
        """Create the output folders now, so a bad ``out_dir`` fails before the model runs."""
        if self.out_dir is None:
            return
        for sub in (MASKS_DIR, COLOR_DIR) + ((OVERLAY_DIR,) if self.overlay else ()):
            folder = os.path.join(self.out_dir, sub)
            try:
                os.makedirs(folder, exist_ok=True)
            except OSError as err:
                raise WriteError(folder, err) from None

    def __call__(self, item: InputItem, image: np.ndarray, scores: np.ndarray) -> PredictionResult:
        mask = scores_to_mask(scores, image.shape[0], image.shape[1])
        files: tuple[str, ...] = ()
        if self.out_dir is not None:
            files = self._write(item.stem, image, mask)
        return PredictionResult(item.index, item.stem, item.label, mask, None, files)

    def _write(self, stem: str, image: np.ndarray, mask: np.ndarray) -> tuple[str, ...]:
        pictures: list[tuple[str, Any]] = [(MASKS_DIR, mask), (COLOR_DIR, colorize_mask(mask, self.palette))]
        if self.overlay:
            rgb = np.clip(np.round(image_to_float(to_channels(image, 3))), 0, 255).astype(np.uint8)
            picture = overlay_mask(rgb, mask, self.palette, self.alpha)
            if self.legend_names is not None:
                picture = add_legend(picture, self.legend_names, self.palette)
            pictures.append((OVERLAY_DIR, picture))
        written = []
        for sub, picture in pictures:
            path = os.path.join(self.out_dir, sub, f"{stem}.png")
            try:
                written.append(atomic_write_png(picture, path))
            except OSError as err:
                raise WriteError(path, err) from None
        return tuple(written)


def _writer(
    engine: Engine, out_dir: Any, overlay: bool, legend: bool, alpha: float, names: Any, palette: Any
) -> _Writer:
    alpha = check_number(alpha, "alpha", minimum=0, maximum=1)
    legend_names = None
    if legend:
        legend_names = check_class_names(names, engine.n_classes) if names else engine.class_names
    colors = check_palette(palette, engine.n_classes)
    return _Writer(None if out_dir is None else os.fspath(out_dir), colors, overlay or legend, legend_names, alpha)


def predict_iter(
    model: Any,
    inputs: Any,
    out_dir: str | os.PathLike | None = None,
    *,
    engine: str | None = None,
    precision: str | None = None,
    threads: int | None = None,
    tta: str | None = None,
    batch_size: int = 8,
    overlay: bool = False,
    legend: bool = False,
    alpha: float = 0.5,
    class_names: Sequence[str] | None = None,
    palette: Sequence[Sequence[int]] | np.ndarray | None = None,
    on_error: str = "skip",
    shard: tuple[int, int] | None = None,
    workers: int | None = None,
    progress: bool = False,
) -> Iterator[PredictionResult]:
    """Yield a :class:`PredictionResult` per input, in input order, as soon as it is done (see the module doc).

    ``model``: a Keras model, an engine, a ``.keras`` file / run folder, or an export (``.tflite``,
    ``.onnx``, ``.xml`` with its sidecar); ``engine`` / ``precision`` / ``threads`` as
    :func:`mobseg.inference.engines.open_engine`; ``tta="flip"`` averages each image with its mirror
    image (twice the model work). ``inputs`` as :func:`predict`, plus a ``.txt`` file
    listing image paths. ``shard=(K, N)`` keeps the inputs of shard K of N (by a hash of the name:
    N machines with the same inputs split them without overlap). Nothing is kept between results:
    the memory of a folder run does not grow with the folder. ``on_error="skip"`` yields a failed
    result (``error`` set, no files) for an input that cannot be read and goes on; ``"stop"`` raises
    its error. Outputs that cannot be written raise :class:`mobseg.io.errors.WriteError` at once.

    Example:
        >>> for result in predict_iter("roads.tflite", "photos/", "out"):  # doctest: +SKIP
        ...     print(result.name, "ok" if result.ok else result.error)
        a ok
    """
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    check_choice(on_error, "on_error", ON_ERROR)
    items, _ = collect_inputs(inputs)
    items = select_shard(items, shard)
    if out_dir is not None:
        check_unique_stems(items)
    opened = open_engine(model, engine, precision=precision, threads=threads, tta=tta)
    try:
        writer = _writer(opened, out_dir, overlay, legend, alpha, class_names, palette)
        writer.prepare()
        pipeline = Pipeline(opened, writer, batch_size, workers, on_error, progress)
        for outcome in pipeline.run(items, total=len(items)):
            item = outcome.item
            yield (
                outcome.value
                if outcome.error is None
                else PredictionResult(item.index, item.stem, item.label, error=outcome.error)
            )
    finally:
        if opened is not model:
            opened.close()


def predict(
    model: Any,
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
    engine: str | None = None,
    precision: str | None = None,
    threads: int | None = None,
    tta: str | None = None,
    on_error: str = "skip",
    shard: tuple[int, int] | None = None,
    workers: int | None = None,
    return_masks: bool = True,
) -> np.ndarray | list[np.ndarray] | PredictionSummary:
    """Predict class masks at each image's ORIGINAL size (see the module doc for how).

    ``inputs``: an image file, a folder (its png/jpg/bmp/tif/webp/gif files, sorted), a ``.txt`` file
    listing image paths, an array ``(H, W)`` / ``(H, W, C)`` (uint8, uint16 or float in [0, 255]), or a
    list of files and arrays. A single file or array gives one mask ``(H, W)``; otherwise a list of
    masks, or with ``return_masks=False`` a :class:`PredictionSummary` (masks are written, not kept:
    use this for large folders). Masks are uint8 class indices (uint16 above 256 classes).

    ``model`` may be a Keras model, an engine or an exported file; ``engine``, ``precision``,
    ``threads``, ``tta``, ``shard`` and ``workers`` as :func:`predict_iter`.

    With ``out_dir``, for each input named ``<stem>`` (``image_0000``... for arrays) it writes, each
    atomically (temporary file in the same folder, then ``os.replace``):

    * ``out_dir/masks/<stem>.png``: the index mask (pixel value = class), same size as the image;
    * ``out_dir/color/<stem>.png``: the same indices as a palette PNG that viewers show in colour;
    * ``out_dir/overlay/<stem>.png`` (``overlay=True``): the image blended with the class colours
      (``alpha`` = colour weight); ``legend=True`` (implies ``overlay``) adds a panel with the class
      names to the right, so that file is wider than the image.

    Bad inputs: a single input raises its error. Otherwise ``on_error="skip"`` (default) does every
    good input, then raises :class:`~mobseg.inference.streaming.SkippedInputsError` (a ``ValueError``)
    naming the failed ones, with ``.result`` holding the masks (``None`` for failed inputs) or the
    summary; ``"stop"`` raises the first error. ``progress=None`` shows progress when there are more
    than ``batch_size`` images.

    Example:
        >>> import mobseg, numpy as np
        >>> model = mobseg.mobilenet_segnet(3, input_height=64, input_width=64)
        >>> predict(model, np.zeros((181, 243, 3), np.uint8)).shape
        (181, 243)
    """
    items, single = collect_inputs(inputs)
    show = progress if progress is not None else len(items) > batch_size
    options = {"engine": engine, "precision": precision, "threads": threads, "tta": tta, "batch_size": batch_size}
    options.update(overlay=overlay, legend=legend, alpha=alpha, class_names=class_names, palette=palette)
    options.update(shard=shard, workers=workers, on_error="stop" if single else on_error, progress=bool(show))
    source = inputs if single else [item.item for item in items]  # a generator is read once
    results = predict_iter(model, source, out_dir, **options)
    return _gather(results, single, return_masks or single, out_dir)


def _gather(results: Iterator[PredictionResult], single: bool, keep: bool, out_dir: Any) -> Any:
    masks: list[np.ndarray | None] = []
    summary = PredictionSummary(out_dir=None if out_dir is None else os.fspath(out_dir))
    for result in results:
        summary.count += 1
        if not result.ok:
            summary.failures.append((result.source, result.error))
        if keep:
            masks.append(result.mask)
    if single:
        return masks[0]
    outcome = masks if keep else summary
    if summary.failures:
        raise SkippedInputsError(summary.failures, summary.count, result=outcome)
    return outcome


__all__ = [
    "COLOR_DIR",
    "MASKS_DIR",
    "OVERLAY_DIR",
    "PredictionResult",
    "PredictionSummary",
    "predict",
    "predict_iter",
    "resize_scores",
    "scores_to_mask",
]
