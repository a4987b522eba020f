"""What every engine is: preprocessed images in, class scores out, plus what is needed around the model."""

from __future__ import annotations

import os
import shutil
from typing import Any

import numpy as np

from mobseg.classes import check_class_names
from mobseg.inference.scoring import ModelGeometry

#: Engine names, as ``predict(..., engine=...)`` and ``mobseg predict --engine`` take them.
ENGINES: tuple[str, ...] = ("keras", "tflite", "onnxruntime", "openvino")
#: Precision names.
PRECISIONS: tuple[str, ...] = ("float32", "float16", "bfloat16", "int8")
#: The pip command that installs each optional engine.
INSTALL_HINTS: dict[str, str] = {
    "tflite": "pip install 'mobseg[litert]' (LiteRT, the ai-edge-litert package)",
    "onnxruntime": "pip install 'mobseg[onnx]'",
    "openvino": "pip install 'mobseg[openvino]'",
    "keras": "pip install keras tensorflow",
}


#: The package each engine needs (any one of them; checked without importing).
ENGINE_PACKAGES: dict[str, tuple[str, ...]] = {
    "keras": ("keras",),
    "tflite": ("ai_edge_litert", "tensorflow"),
    "onnxruntime": ("onnxruntime",),
    "openvino": ("openvino",),
}


class EngineNotInstalledError(RuntimeError):
    """An engine's package is missing; the message names the pip command.

    Example:
        >>> str(EngineNotInstalledError.for_engine("openvino")).startswith("The openvino engine is not installed")
        True
    """

    @classmethod
    def for_engine(cls, engine: str) -> EngineNotInstalledError:
        """The error for ``engine``, with its install command."""
        return cls(f"The {engine} engine is not installed: {INSTALL_HINTS[engine]}.")


class Engine:
    """A model ready to run: ``run(x)`` maps preprocessed ``(N, H, W, C)`` float32 to scores ``(N, h, w, C)``.

    Attributes every engine has: ``name`` (one of :data:`ENGINES`), ``precision`` (one of
    :data:`PRECISIONS`), ``geometry`` (:class:`~mobseg.inference.scoring.ModelGeometry`: input size,
    channels, output size, preprocessing), ``n_classes``, ``class_names``, ``info`` (the export's sidecar
    or the Keras model's record: ``ignore_index``, ``agreement``, ...), ``source`` (file or model name)
    and ``fixed_batch`` (the only batch size the model takes, or ``None`` for any).

    Example:
        >>> import mobseg
        >>> from mobseg.inference.engines import open_engine
        >>> engine = open_engine(mobseg.mobilenet_segnet(2, input_height=32, input_width=32))
        >>> engine.run(np.zeros((1, 32, 32, 3), np.float32)).shape
        (1, 16, 16, 2)
    """

    name: str = "engine"
    precision: str = "float32"
    fixed_batch: int | None = None
    #: A folder the engine owns (a Keras model exported for another engine); removed by :meth:`close`.
    temporary_folder: str | None = None

    def __init__(self, geometry: ModelGeometry, n_classes: int, info: dict[str, Any], source: str):
        self.geometry = geometry
        self.n_classes = int(n_classes)
        self.info = dict(info)
        self.source = source
        names = info.get("class_names")
        self.class_names = check_class_names(names if names else None, self.n_classes)

    def _run(self, x: np.ndarray) -> np.ndarray:
        """Run one batch the model accepts as it is; returns its raw output."""
        raise NotImplementedError

    def run(self, x: np.ndarray) -> np.ndarray:
        """Scores ``(N, h, w, C)`` float32 for preprocessed ``x`` ``(N, H, W, C)``, in chunks of ``fixed_batch``."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        step = self.fixed_batch or len(x)
        if step and len(x) % step:
            pad = np.zeros((step - len(x) % step, *x.shape[1:]), np.float32)
            outputs = self.run(np.concatenate([x, pad]))
            return outputs[: len(x)]
        chunks = [self._run(x[i : i + step]) for i in range(0, len(x), step)] if len(x) else []
        height, width = self.geometry.output_size
        scores = np.concatenate(chunks) if chunks else np.zeros((0, height, width, self.n_classes), np.float32)
        return np.asarray(scores, np.float32).reshape(len(x), height, width, -1)

    def run_padded(self, x: np.ndarray, batch_size: int, *, pad: bool) -> np.ndarray:
        """:meth:`run`, padding a short batch to ``batch_size`` first when ``pad`` (one shape: no retracing).

        Example:
            >>> import mobseg
            >>> from mobseg.inference.engines import open_engine
            >>> engine = open_engine(mobseg.mobilenet_segnet(2, input_height=32, input_width=32))
            >>> engine.run_padded(np.zeros((1, 32, 32, 3), np.float32), 4, pad=True).shape
            (1, 16, 16, 2)
        """
        count = len(x)
        if pad and count < batch_size:
            x = np.concatenate([x, np.zeros((batch_size - count, *x.shape[1:]), np.float32)])
        return self.run(x)[:count]

    def describe(self) -> str:
        """One line: engine, precision, source.

        Example:
            >>> import mobseg
            >>> from mobseg.inference.engines import open_engine
            >>> open_engine(mobseg.mobilenet_segnet(2, input_height=32, input_width=32)).describe()
            'keras float32 (mobilenet_segnet)'
        """
        return f"{self.name} {self.precision} ({self.source})"

    def _release(self) -> None:
        """Drop the engine's own resources (sessions, interpreters)."""

    def close(self) -> None:
        """Release the model (sessions, temporary files); the engine is unusable afterwards."""
        self._release()
        if self.temporary_folder:
            shutil.rmtree(self.temporary_folder, ignore_errors=True)
            self.temporary_folder = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def default_threads() -> int:
    """Threads an engine uses by default: every CPU this process may run on.

    Example:
        >>> default_threads() >= 1
        True
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


__all__ = [
    "ENGINE_PACKAGES",
    "ENGINES",
    "INSTALL_HINTS",
    "PRECISIONS",
    "Engine",
    "EngineNotInstalledError",
    "default_threads",
]
