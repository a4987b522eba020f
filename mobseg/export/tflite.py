"""TFLite (LiteRT) export: float32, float16 weights, or full-integer int8 calibrated on real images."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator

import keras
import numpy as np

from mobseg.export.deploy import deployment_model
from mobseg.export.equalize import equalize_concat_ranges
from mobseg.export.saved_model import export_saved_model
from mobseg.io.atomic import atomic_write

QUANTIZATIONS: tuple[str | None, ...] = (None, "float16", "int8")


def export_tflite(
    model: keras.Model,
    path: str | os.PathLike,
    quantize: str | None = None,
    calibration: Iterable[np.ndarray] | None = None,
    batch_size: int = 1,
    equalize: bool = True,
) -> str:
    """Convert ``model`` (spatial head, fixed batch, 1 by default) to a ``.tflite`` file that needs only builtin ops.

    Args:
        quantize: ``None`` (float32), ``"float16"`` (float16 weights, half the file) or ``"int8"``
            (full-integer weights and activations, float input and output).
        calibration: for int8, preprocessed images shaped like the model input, one per item
            (``(H, W, C)`` or ``(1, H, W, C)``) — real images, e.g. from
            :func:`mobseg.export.calibration_images`; a few dozen suffice.
        equalize: for int8, first rescale the channels entering each concatenation
            (:func:`mobseg.export.equalize.equalize_concat_ranges`: exact in float) so that the shared
            int8 scale of a concatenation does not flatten a U-Net's skip connections.

    The conversion goes through a SavedModel with a fixed input shape (see
    :func:`export_saved_model`); ``Model.export(format="litert")`` with a dynamic batch would
    silently fall back to TF Select ops that the stock interpreter refuses.

    Example:
        >>> import mobseg
        >>> export_tflite(mobseg.mobilenet_segnet(2, input_height=64, input_width=64), "m.tflite")  # doctest: +SKIP
    """
    import tensorflow as tf

    if quantize not in QUANTIZATIONS:
        raise ValueError(f"Unknown quantize={quantize!r}; use None (float32), 'float16' or 'int8'.")
    if quantize == "int8" and calibration is None:
        raise ValueError(
            "int8 quantization needs calibration images (a representative dataset of real inputs): "
            "pass calibration=..., or --calibration-images DIR on the command line."
        )
    path = os.fspath(path)
    samples = None
    if quantize == "int8":
        shape = (1, *model.inputs[0].shape[1:])
        samples = [np.asarray(x, np.float32).reshape(shape) for x in calibration]
        if not samples:
            raise ValueError("int8 quantization got an empty calibration set; give it some real images.")
        if equalize:
            model, _ = equalize_concat_ranges(deployment_model(model), [s[0] for s in samples])
    with tempfile.TemporaryDirectory() as tmp:
        saved = export_saved_model(model, os.path.join(tmp, "saved_model"), batch_size=batch_size)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantize == "float16":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        elif quantize == "int8":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.representative_dataset = lambda: ([np.repeat(s, batch_size, axis=0)] for s in samples)
        data = converter.convert()
    atomic_write(path, lambda stream: stream.write(data))
    return path


class TFLiteRunner:
    """Run a ``.tflite`` file like a function: ``runner(batch) -> outputs``, in chunks of the file's batch size.

    A thin helper for raw model outputs; to predict masks use
    :class:`mobseg.inference.engines.TFLiteEngine` (preprocessing, sizes and class names from the sidecar).

    Example:
        >>> runner = TFLiteRunner("m.tflite")  # doctest: +SKIP
        >>> runner(np.zeros((1, 64, 64, 3), np.float32)).shape  # doctest: +SKIP
        (1, 32, 32, 2)
    """

    def __init__(self, path: str | os.PathLike, num_threads: int | None = None):
        from mobseg.inference.engines.tflite_engine import load_interpreter

        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"TFLite file not found: {path}")
        self.interpreter = load_interpreter(path, num_threads)  # LiteRT where installed, else tf.lite
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.batch_size = int(self.input["shape"][0])

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Run ``batch`` (any length divisible by the file's batch size) and stack the outputs."""
        batch = np.asarray(batch, np.float32)
        if len(batch) % self.batch_size:
            raise ValueError(f"This TFLite file takes batches of {self.batch_size}; got {len(batch)} images.")
        chunks = [batch[i : i + self.batch_size] for i in range(0, len(batch), self.batch_size)]
        return np.concatenate([self._run(chunk) for chunk in chunks])

    def _run(self, x: np.ndarray) -> np.ndarray:
        self.interpreter.set_tensor(self.input["index"], x)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output["index"]).copy()

    def batches(self, images: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Yield the output of each batch in ``images``."""
        for x in images:
            yield self(x)
