"""OpenVINO IR (``.xml`` + ``.bin``) or ONNX files through OpenVINO on the CPU, with an explicit precision.

OpenVINO's CPU plugin runs in bfloat16 by default on CPUs that have it; this engine asks for float32
unless told otherwise (``precision="bfloat16"`` or ``"float16"``) and reports the precision the plugin
actually chose. It uses the LATENCY hint with one synchronous request per batch (the THROUGHPUT hint
only pays with several requests in flight).
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import numpy as np

from mobseg.inference.engines.base import EngineNotInstalledError
from mobseg.inference.engines.file_engine import FileEngine

#: mobseg precision name -> OpenVINO ``INFERENCE_PRECISION_HINT``.
OPENVINO_HINTS: dict[str, str] = {"float32": "f32", "bfloat16": "bf16", "float16": "f16"}


def openvino_cpu_capabilities() -> list[str]:
    """OpenVINO's ``OPTIMIZATION_CAPABILITIES`` of the CPU (e.g. ``["FP32", "INT8", "BF16"]``); empty without it.

    Example:
        >>> "FP32" in openvino_cpu_capabilities()  # doctest: +SKIP
        True
    """
    if importlib.util.find_spec("openvino") is None:
        return []
    import openvino as ov

    return [str(c) for c in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")]


class OpenVINOEngine(FileEngine):
    """An OpenVINO ``.xml`` (or an ``.onnx``) file with its sidecar, compiled for the CPU once per batch size.

    Example:
        >>> engine = OpenVINOEngine("roads.xml", precision="bfloat16")  # doctest: +SKIP
        >>> engine.precision  # what the CPU plugin chose: 'bfloat16', or 'float32' without BF16  # doctest: +SKIP
        'float32'
    """

    name = "openvino"

    def __init__(
        self,
        path: str | os.PathLike,
        info: dict[str, Any] | None = None,
        threads: int | None = None,
        precision: str | None = None,
    ):
        if importlib.util.find_spec("openvino") is None:
            raise EngineNotInstalledError.for_engine("openvino")
        import openvino as ov

        super().__init__(path, info)
        wanted = precision or "float32"
        if wanted not in OPENVINO_HINTS:
            raise ValueError(f"OpenVINO runs float32, bfloat16 or float16, not {wanted!r}.")
        self.core = ov.Core()
        try:
            self._model = self.core.read_model(self.path)
        except RuntimeError as err:
            raise ValueError(f"{self.path} is not a model OpenVINO can read ({str(err).splitlines()[0]}).") from None
        self.config: dict[str, Any] = {
            "INFERENCE_PRECISION_HINT": OPENVINO_HINTS[wanted],
            "PERFORMANCE_HINT": "LATENCY",
        }
        if threads:
            self.config["INFERENCE_NUM_THREADS"] = int(threads)
        self._requests: dict[int, Any] = {}
        batch = self._model.input().get_partial_shape()[0]
        self.fixed_batch = batch.get_length() if batch.is_static else None  # static: run in chunks of it
        self.precision = self._chosen_precision(self._request(self.fixed_batch or 1)[0])

    def _chosen_precision(self, compiled: Any) -> str:
        chosen = str(compiled.get_property("INFERENCE_PRECISION_HINT")).lower()  # e.g. "<Type: 'float32'>"
        for words, name in ((("bf16", "bfloat16"), "bfloat16"), (("f16", "float16"), "float16")):
            if any(word in chosen for word in words):
                return name
        return "float32"

    def _request(self, batch: int) -> tuple[Any, Any]:
        """(compiled model, infer request) for input batches of ``batch`` images, compiled on first use."""
        if batch not in self._requests:
            model = self._model.clone()
            if self.fixed_batch is None:
                model.reshape([batch, *self.geometry.input_size, self.geometry.channels])
            compiled = self.core.compile_model(model, "CPU", self.config)
            self._requests[batch] = (compiled, compiled.create_infer_request())
        return self._requests[batch]

    def _run(self, x: np.ndarray) -> np.ndarray:
        _, request = self._request(len(x))
        request.infer({0: x})
        return np.array(request.get_output_tensor(0).data, dtype=np.float32)

    def _release(self) -> None:
        """Drop the compiled models."""
        self._requests.clear()


__all__ = ["OPENVINO_HINTS", "OpenVINOEngine", "openvino_cpu_capabilities"]
