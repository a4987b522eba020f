"""Export for deployment: SavedModel, TFLite (float32 / float16 / int8) and ONNX."""

from __future__ import annotations

import os

import keras

from mobseg.export.calibration import calibration_images
from mobseg.export.deploy import deployment_model
from mobseg.export.onnx import export_onnx
from mobseg.export.saved_model import export_saved_model
from mobseg.export.tflite import TFLiteRunner, export_tflite
from mobseg.optional import TENSORFLOW_INSTALL, has_tensorflow

FORMATS: tuple[str, ...] = ("saved_model", "tflite", "onnx")


def export_model(
    model: keras.Model,
    path: str | os.PathLike,
    format: str = "tflite",
    quantize: str | None = None,
    calibration_dir: str | os.PathLike | None = None,
) -> str:
    """Export ``model`` to ``path`` as ``"saved_model"``, ``"tflite"`` or ``"onnx"``.

    Exports use the spatial head ((1, h, w, n_classes) probabilities) and a fixed batch of 1, and
    expect preprocessed input (see ``model.architecture["preprocessing"]``). Quantization
    (``"float16"``, ``"int8"``) applies to TFLite; int8 calibrates on the images in
    ``calibration_dir``.

    Example:
        >>> import mobseg
        >>> export_model(mobseg.mobilenet_segnet(2, input_height=64, input_width=64), "m.tflite")  # doctest: +SKIP
    """
    if format not in FORMATS:
        raise ValueError(f"Unknown export format {format!r}; use one of: {', '.join(FORMATS)}.")
    if quantize is not None and format != "tflite":
        raise ValueError(f"quantize={quantize!r} applies to the tflite format only, not {format!r}.")
    if keras.backend.backend() != "tensorflow":
        install = "" if has_tensorflow() else f" (TensorFlow is not installed here: {TENSORFLOW_INSTALL})"
        raise RuntimeError(
            f"Export to {format} needs the TensorFlow backend; this process runs {keras.backend.backend()!r}: "
            f"save the model as .keras and export it under KERAS_BACKEND=tensorflow{install}."
        )
    if format == "saved_model":
        return export_saved_model(model, path)
    if format == "onnx":
        return export_onnx(model, path)
    calibration = calibration_images(calibration_dir, model) if calibration_dir is not None else None
    return export_tflite(model, path, quantize=quantize, calibration=calibration)


__all__ = [
    "FORMATS",
    "TFLiteRunner",
    "calibration_images",
    "deployment_model",
    "export_model",
    "export_onnx",
    "export_saved_model",
    "export_tflite",
]
