"""Export for deployment: SavedModel, TFLite (float32 / float16 / int8), ONNX and OpenVINO IR, each with a sidecar.

Every export gets a sidecar JSON (:mod:`mobseg.inference.export_info`: preprocessing, sizes, class names,
precision and, for quantized files, the measured argmax agreement with the float32 model), so that
``mobseg predict --model roads.tflite`` works from the file alone.
"""

from __future__ import annotations

import os
from typing import Any

import keras
import numpy as np

from mobseg._version import __version__
from mobseg.export.calibration import calibration_images
from mobseg.export.deploy import deployment_model
from mobseg.export.onnx import export_onnx
from mobseg.export.openvino import export_openvino
from mobseg.export.saved_model import export_saved_model
from mobseg.export.tflite import TFLiteRunner, export_tflite
from mobseg.inference.agreement import argmax_agreement, measure_agreement, synthetic_images
from mobseg.inference.engines.keras_engine import keras_model_info
from mobseg.inference.export_info import write_export_info
from mobseg.inference.scoring import ModelGeometry
from mobseg.io.errors import WriteError
from mobseg.optional import TENSORFLOW_INSTALL, has_tensorflow

FORMATS: tuple[str, ...] = ("saved_model", "tflite", "onnx", "openvino")
#: The batch dimension each format gets (None: dynamic). TFLite needs it fixed (see export_saved_model).
FORMAT_BATCH: dict[str, int | None] = {"saved_model": None, "tflite": 1, "onnx": None, "openvino": None}


class ExportedModel(str):
    """The path of an export (a ``str``), with ``info`` (its sidecar's dict), ``sidecar`` and ``agreement``.

    Example:
        >>> path = export_model(model, "m_int8.tflite", quantize="int8", calibration_dir="photos")  # doctest: +SKIP
        >>> path.agreement, path.sidecar  # doctest: +SKIP
        (0.9934, 'm_int8.tflite.json')
    """

    info: dict[str, Any]
    sidecar: str

    def __new__(cls, path: str, info: dict[str, Any], sidecar: str) -> ExportedModel:
        self = super().__new__(cls, path)
        self.info, self.sidecar = info, sidecar
        return self

    @property
    def agreement(self) -> float | None:
        """Measured argmax agreement with the float32 model (quantized exports), else ``None``."""
        measured = self.info.get("agreement")
        return None if measured is None else float(measured["argmax"])


def _check_request(model: keras.Model, format: str, quantize: str | None) -> None:
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


def _write(model: keras.Model, path: str, format: str, quantize: str | None, samples: list | None) -> str:
    batch = FORMAT_BATCH[format]
    if format == "saved_model":
        return export_saved_model(model, path, batch_size=batch)
    if format == "onnx":
        return export_onnx(model, path, batch_size=batch)
    if format == "openvino":
        return export_openvino(model, path, batch_size=batch)
    return export_tflite(model, path, quantize=quantize, calibration=samples)


def _as_write_error(err: Exception, path: str) -> Exception:
    """OSError (and TensorFlow's file errors) while writing -> :class:`WriteError`; others unchanged."""
    if isinstance(err, OSError) and not isinstance(err, WriteError):
        return WriteError(path, err)
    text = str(err)
    for code, words in ((28, "No space left"), (13, "Permission denied"), (30, "Read-only file system")):
        if words in text and type(err).__module__.startswith("tensorflow"):
            return WriteError(path, OSError(code, os.strerror(code)))
    return err


def export_model(
    model: keras.Model,
    path: str | os.PathLike,
    format: str = "tflite",
    quantize: str | None = None,
    calibration_dir: str | os.PathLike | None = None,
    *,
    calibration_limit: int = 100,
) -> ExportedModel:
    """Export ``model`` to ``path`` as ``"saved_model"``, ``"tflite"``, ``"onnx"`` or ``"openvino"`` (``.xml``).

    Exports use the spatial head ((N, h, w, n_classes) scores), expect preprocessed input (see
    ``model.architecture["preprocessing"]``) and get a sidecar JSON next to them. The batch dimension
    is dynamic except for TFLite (fixed at 1). Quantization (``"float16"``, ``"int8"``) applies to
    TFLite; int8 calibrates on up to ``calibration_limit`` images of ``calibration_dir``, spread over
    the folder and prepared exactly as prediction prepares them. A quantized export's argmax agreement
    with the float32 model is measured on those images (on smooth synthetic images for float16
    without a folder), recorded in the sidecar and returned as ``.agreement``.

    Write failures (disk full, permissions) raise :class:`mobseg.io.errors.WriteError` (an ``OSError``)
    with a one-sentence message; nothing half-written is left.

    Example:
        >>> import mobseg
        >>> export_model(mobseg.mobilenet_segnet(2, input_height=64, input_width=64), "m.tflite")  # doctest: +SKIP
        'm.tflite'
    """
    _check_request(model, format, quantize)
    path = os.fspath(path)
    samples = None
    if calibration_dir is not None and format == "tflite":
        samples = list(calibration_images(calibration_dir, model, limit=calibration_limit))
    try:
        written = _write(model, path, format, quantize, samples)
        info = _export_info(model, format, quantize)
        if quantize is not None:
            info["agreement"] = _agreement(model, written, info, samples)
        sidecar = write_export_info(written, info)
    except Exception as err:
        converted = _as_write_error(err, path)
        if converted is err:
            raise
        raise converted from err
    return ExportedModel(written, info, sidecar)


def _export_info(model: keras.Model, format: str, quantize: str | None) -> dict[str, Any]:
    deploy = deployment_model(model)
    info = keras_model_info(model)
    info.update(ModelGeometry.of(deploy).to_dict())
    info.update(
        engine_format=format,
        precision=quantize or "float32",
        batch_size=FORMAT_BATCH[format],
        mobseg_version=__version__,
    )
    return info


def _agreement(model: keras.Model, path: str, info: dict[str, Any], samples: list | None) -> dict[str, Any]:
    from mobseg.inference.engines.tflite_engine import TFLiteEngine

    on = "calibration images"
    if not samples:
        samples, on = synthetic_images(ModelGeometry.of(model)), "synthetic images (no calibration folder given)"
    engine = TFLiteEngine(path, info=info)
    try:
        return measure_agreement(model, engine, [np.asarray(s, np.float32) for s in samples], on)
    finally:
        engine.close()


__all__ = [
    "FORMATS",
    "ExportedModel",
    "TFLiteRunner",
    "argmax_agreement",
    "calibration_images",
    "deployment_model",
    "export_model",
    "export_onnx",
    "export_openvino",
    "export_saved_model",
    "export_tflite",
    "measure_agreement",
]
