"""TFLite files through LiteRT (``ai-edge-litert``), else TensorFlow's deprecated ``tf.lite.Interpreter``."""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import numpy as np

from mobseg.inference.engines.base import EngineNotInstalledError, default_threads
from mobseg.inference.engines.file_engine import FileEngine


def tflite_interpreter_class() -> type:
    """The TFLite interpreter class: LiteRT's where installed, else ``tf.lite.Interpreter``.

    Raises :class:`EngineNotInstalledError` when neither is there.

    Example:
        >>> tflite_interpreter_class().__name__  # doctest: +SKIP
        'Interpreter'
    """
    if importlib.util.find_spec("ai_edge_litert") is not None:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter
    if importlib.util.find_spec("tensorflow") is not None:
        import tensorflow as tf

        return tf.lite.Interpreter
    raise EngineNotInstalledError.for_engine("tflite")


def load_interpreter(path: str, num_threads: int | None = None) -> Any:
    """A ready (tensors allocated) interpreter for the ``.tflite`` file ``path``; ``ValueError`` if it is not one.

    Example:
        >>> load_interpreter("roads.tflite").get_input_details()[0]["shape"]  # doctest: +SKIP
        array([  1, 176, 240,   3], dtype=int32)
    """
    interpreter_class = tflite_interpreter_class()
    try:
        interpreter = interpreter_class(model_path=path, num_threads=num_threads or default_threads())
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as err:
        raise ValueError(f"{path} is not a valid TFLite model ({err}).") from None
    return interpreter


def _quantize(x: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    """Float to the tensor's integer type with its scale and zero point (files with integer input)."""
    scale, zero = detail["quantization"]
    info = np.iinfo(detail["dtype"])
    return np.clip(np.round(x / scale + zero), info.min, info.max).astype(detail["dtype"])


def _dequantize(y: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    scale, zero = detail["quantization"]
    return (y.astype(np.float32) - zero) * scale


class TFLiteEngine(FileEngine):
    """A ``.tflite`` file (float32, float16 weights or int8) with its sidecar.

    The file's batch size is fixed at export; other batch sizes are tried by resizing the input tensor
    once, and run in chunks of the file's batch when the file refuses.

    Example:
        >>> engine = TFLiteEngine("roads.tflite")  # doctest: +SKIP
        >>> engine.run(np.zeros((8, 176, 240, 3), np.float32)).shape  # doctest: +SKIP
        (8, 88, 120, 11)
    """

    name = "tflite"

    def __init__(self, path: str | os.PathLike, info: dict[str, Any] | None = None, threads: int | None = None):
        super().__init__(path, info)
        self.threads = threads
        self.interpreter = load_interpreter(self.path, threads)
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]
        self.fixed_batch = int(self._input["shape"][0])
        self._resize_failed: set[int] = set()

    def _resize(self, batch: int) -> None:
        """Resize the input to ``batch`` images; if the file refuses, reload it and run in chunks from then on."""
        if batch in self._resize_failed:
            return
        shape = [batch, *(int(v) for v in self._input["shape"][1:])]
        try:
            self.interpreter.resize_tensor_input(self._input["index"], shape, strict=False)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError):
            self._resize_failed.add(batch)
            self.interpreter = load_interpreter(self.path, self.threads)
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]
        self.fixed_batch = int(self._input["shape"][0])

    def run(self, x: np.ndarray) -> np.ndarray:
        """See :meth:`Engine.run`; tries one call for the whole batch first."""
        if len(x) and len(x) != self.fixed_batch and len(x) not in self._resize_failed:
            self._resize(len(x))
        return super().run(x)

    def _run(self, x: np.ndarray) -> np.ndarray:
        if self._input["dtype"] != np.float32:
            x = _quantize(x, self._input)
        self.interpreter.set_tensor(self._input["index"], x)
        self.interpreter.invoke()
        y = self.interpreter.get_tensor(self._output["index"])
        return _dequantize(y, self._output) if y.dtype != np.float32 else y.copy()

    def _release(self) -> None:
        """Drop the interpreter."""
        self.interpreter = None


__all__ = ["TFLiteEngine", "load_interpreter", "tflite_interpreter_class"]
