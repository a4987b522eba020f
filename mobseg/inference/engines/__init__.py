"""Engines behind one interface: Keras, TFLite (LiteRT), ONNX Runtime and OpenVINO.

Every engine takes preprocessed images ``(N, H, W, C)`` and gives class scores ``(N, h, w, C)``; the
same preprocessing, score resizing and argmax around it give the same masks whatever the engine.
:func:`open_engine` takes a Keras model, a ``.keras`` file or run folder, or an exported file
(``.tflite``, ``.onnx``, OpenVINO ``.xml``, with the sidecar ``mobseg export`` writes next to it).
Exported files are run without importing TensorFlow or Keras: this package imports only numpy,
Pillow and the engine's own package, and those lazily.

Example:
    >>> import mobseg
    >>> engine = open_engine(mobseg.mobilenet_segnet(2, input_height=32, input_width=32))
    >>> engine.name, engine.precision, engine.geometry.input_size
    ('keras', 'float32', (32, 32))
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from typing import Any

from mobseg.inference.engines.base import (
    ENGINE_PACKAGES,
    ENGINES,
    INSTALL_HINTS,
    PRECISIONS,
    Engine,
    EngineNotInstalledError,
    default_threads,
)
from mobseg.inference.engines.keras_engine import KerasEngine, is_keras_model
from mobseg.inference.engines.tta import TTA_MODES, FlipAveraged
from mobseg.validation import check_choice

#: File extension -> the engines that can run it (the first is the default).
FILE_ENGINES: dict[str, tuple[str, ...]] = {
    ".tflite": ("tflite",),
    ".onnx": ("onnxruntime", "openvino"),
    ".xml": ("openvino",),
}


def available_engines() -> list[str]:
    """The engines whose packages are installed here (checked without importing them).

    Example:
        >>> "keras" in available_engines()
        True
    """
    found = []
    for name in ENGINES:
        if any(importlib.util.find_spec(package) is not None for package in ENGINE_PACKAGES[name]):
            found.append(name)
    return found


def _file_engine(path: str, engine: str | None, precision: str | None, threads: int | None) -> Engine:
    extension = os.path.splitext(path)[1].lower()
    allowed = FILE_ENGINES[extension]
    name = engine or allowed[0]
    if name not in allowed:
        raise ValueError(f"A {extension} file runs on the {' or '.join(allowed)} engine, not {name}.")
    if name == "tflite":
        from mobseg.inference.engines.tflite_engine import TFLiteEngine

        found = TFLiteEngine(path, threads=threads)
    elif name == "onnxruntime":
        from mobseg.inference.engines.onnx_engine import OnnxEngine

        found = OnnxEngine(path, threads=threads)
    else:
        from mobseg.inference.engines.openvino_engine import OpenVINOEngine

        return OpenVINOEngine(path, threads=threads, precision=precision)
    if precision not in (None, found.precision):
        raise ValueError(
            f"{path} is a {found.precision} file; its precision is fixed at export (mobseg export --quantize)."
        )
    return found


def open_engine(
    model: Any,
    engine: str | None = None,
    *,
    precision: str | None = None,
    threads: int | None = None,
    tta: str | None = None,
) -> Engine:
    """An :class:`Engine` for ``model`` on ``engine`` (``"keras"``, ``"tflite"``, ``"onnxruntime"``, ``"openvino"``).

    ``model`` is an engine (returned as is), a Keras model, a ``.keras`` file or run folder, or an
    exported file: ``.tflite`` (tflite), ``.onnx`` (onnxruntime, or openvino), ``.xml`` (openvino).
    ``engine=None`` picks keras for Keras models and the file's own engine for exports. A Keras model
    with another engine is exported to a temporary file first (TensorFlow backend; float32, or
    ``precision="float16"`` for tflite; int8 needs calibration images: export it with ``mobseg export``).
    ``precision`` is ``"float32"`` (default), or for OpenVINO ``"bfloat16"`` / ``"float16"`` (opt-in: the
    engine reports the precision the CPU really runs). ``threads`` defaults to every CPU.

    ``tta="flip"`` averages each image's scores with its mirror image's (:class:`FlipAveraged`).

    Raises :class:`EngineNotInstalledError` (one line with the pip command) when the engine is missing.

    Example:
        >>> open_engine("roads.tflite").describe()  # doctest: +SKIP
        'tflite int8 (roads.tflite)'
    """
    if tta is not None:
        check_choice(tta, "tta", TTA_MODES)
        inner = open_engine(model, engine, precision=precision, threads=threads)
        return FlipAveraged(inner, owns_inner=inner is not model)
    if engine is not None:
        check_choice(engine, "engine", ENGINES)
    if precision is not None:
        check_choice(precision, "precision", PRECISIONS)
    if isinstance(model, Engine):
        if engine not in (None, model.name) or precision not in (None, model.precision):
            raise ValueError(f"Got a ready {model.describe()} engine; open a new one for {engine} {precision}.")
        return model
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        if os.path.splitext(path)[1].lower() in FILE_ENGINES:
            return _file_engine(path, engine, precision, threads)
        from mobseg.inference.loading import load_model

        model = load_model(path)
    if not is_keras_model(model):
        raise ValueError(f"Cannot run {type(model).__name__}: pass a Keras model, a .keras file or an exported file.")
    if engine in (None, "keras"):
        if precision not in (None, "float32"):
            raise ValueError("The keras engine runs float32; for reduced precision choose tflite or openvino.")
        return KerasEngine(model)
    from mobseg.inference.engines.convert import export_for_engine

    path, folder = export_for_engine(model, engine, precision=precision)
    try:
        opened = open_engine(path, engine, precision=precision, threads=threads)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    opened.temporary_folder = folder  # removed by close()
    return opened


__all__ = [
    "ENGINES",
    "FILE_ENGINES",
    "INSTALL_HINTS",
    "PRECISIONS",
    "Engine",
    "EngineNotInstalledError",
    "KerasEngine",
    "available_engines",
    "default_threads",
    "open_engine",
]
