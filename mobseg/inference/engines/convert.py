"""A Keras model on another engine: export it to a temporary file (TensorFlow backend), then open that."""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from typing import Any

from mobseg.inference.engines.base import ENGINE_PACKAGES, EngineNotInstalledError

#: engine -> (export format, file name)
_TARGETS: dict[str, tuple[str, str]] = {
    "tflite": ("tflite", "model.tflite"),
    "onnxruntime": ("onnx", "model.onnx"),
    "openvino": ("openvino", "model.xml"),
}


def _check_precision(engine: str, precision: str | None) -> str | None:
    if engine == "tflite" and precision == "int8":
        raise ValueError(
            "int8 needs calibration images: export the model first (mobseg export --format tflite --quantize int8 "
            "--calibration-images DIR --out model_int8.tflite) and predict with that file."
        )
    if engine == "tflite" and precision == "bfloat16":
        raise ValueError("TFLite runs float32, float16 or int8 files; bfloat16 is an OpenVINO precision.")
    if engine == "onnxruntime" and precision not in (None, "float32"):
        raise ValueError("The onnxruntime engine runs float32 here; for reduced precision choose tflite or openvino.")
    return precision


def export_for_engine(model: Any, engine: str, *, precision: str | None = None) -> tuple[str, str]:
    """Export ``model`` for ``engine`` into a new temporary folder; returns (the file to open, the folder).

    The caller opens the file and removes the folder when done (:func:`mobseg.inference.engines.open_engine`
    does both).

    Example:
        >>> import mobseg
        >>> m = mobseg.mobilenet_segnet(2, input_height=32, input_width=32)
        >>> export_for_engine(m, "onnxruntime")  # doctest: +SKIP
        ('/tmp/mobseg-engine-.../model.onnx', '/tmp/mobseg-engine-...')
    """
    precision = _check_precision(engine, precision)
    needed = ("tensorflow",) if engine == "tflite" else ENGINE_PACKAGES[engine]
    if any(importlib.util.find_spec(package) is None for package in needed):
        raise EngineNotInstalledError.for_engine(engine)
    from mobseg.export import export_model

    export_format, name = _TARGETS[engine]
    folder = tempfile.mkdtemp(prefix="mobseg-engine-")
    try:
        quantize = "float16" if engine == "tflite" and precision == "float16" else None
        path = export_model(model, os.path.join(folder, name), format=export_format, quantize=quantize)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return str(path), folder


__all__ = ["export_for_engine"]
