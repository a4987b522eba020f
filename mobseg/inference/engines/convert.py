"""A Keras model on another engine: export it to a temporary file (TensorFlow backend), then open that."""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from typing import Any

from mobseg.inference.engines.base import Engine, EngineNotInstalledError

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


def converted_engine(model: Any, engine: str, *, precision: str | None = None, threads: int | None = None) -> Engine:
    """Export ``model`` for ``engine`` into a temporary folder and open it; ``close()`` removes the folder.

    Example:
        >>> import mobseg
        >>> m = mobseg.mobilenet_segnet(2, input_height=32, input_width=32)
        >>> converted_engine(m, "onnxruntime").describe()  # doctest: +SKIP
        'onnxruntime float32 (/tmp/mobseg-engine-.../model.onnx)'
    """
    from mobseg.inference.engines import ENGINE_PACKAGES, open_engine

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
        opened = open_engine(str(path), engine, precision=precision, threads=threads)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    opened.temporary_folder = folder
    return opened


__all__ = ["converted_engine"]
