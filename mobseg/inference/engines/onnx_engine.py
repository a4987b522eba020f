"""ONNX files through ONNX Runtime (CPU execution provider)."""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import numpy as np

from mobseg.inference.engines.base import EngineNotInstalledError, default_threads
from mobseg.inference.engines.file_engine import FileEngine


class OnnxEngine(FileEngine):
    """An ``.onnx`` file run by ONNX Runtime with its sidecar; a fixed batch dimension is run in chunks.

    Example:
        >>> engine = OnnxEngine("roads.onnx", threads=2)  # doctest: +SKIP
        >>> engine.describe()  # doctest: +SKIP
        'onnxruntime float32 (roads.onnx)'
    """

    name = "onnxruntime"

    def __init__(self, path: str | os.PathLike, info: dict[str, Any] | None = None, threads: int | None = None):
        if importlib.util.find_spec("onnxruntime") is None:
            raise EngineNotInstalledError.for_engine("onnxruntime")
        import onnxruntime as ort

        super().__init__(path, info)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(self.path, options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own exception types
            raise ValueError(f"{self.path} is not a valid ONNX model ({str(err).splitlines()[0]}).") from None
        model_input = self.session.get_inputs()[0]
        self._input_name = model_input.name
        batch = model_input.shape[0]
        self.fixed_batch = batch if isinstance(batch, int) and batch > 0 else None

    def _run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self._input_name: x})[0]

    def _release(self) -> None:
        """Drop the session."""
        self.session = None


__all__ = ["OnnxEngine"]
