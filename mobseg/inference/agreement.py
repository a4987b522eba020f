"""How often an exported (e.g. quantized) model picks the same class as the float32 Keras model.

Keras-free: the reference engine is any engine (a :class:`KerasEngine` is only built when asked).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mobseg.inference.engines import Engine
from mobseg.inference.engines.keras_engine import KerasEngine


def synthetic_images(geometry: Any, count: int = 16, seed: int = 0) -> list[np.ndarray]:
    """Smooth random images (noise at 1/8 of the size, resized up), prepared for the model.

    Used to measure agreement when no real images are given; real images are the better test.

    Example:
        >>> from mobseg.inference.scoring import ModelGeometry
        >>> synthetic_images(ModelGeometry((16, 16), 3, (8, 8), "unit"), count=2)[0].shape
        (16, 16, 3)
    """
    rng = np.random.default_rng(seed)
    height, width = geometry.input_size
    coarse = [rng.integers(0, 256, (max(2, height // 8), max(2, width // 8), 3), dtype=np.uint8) for _ in range(count)]
    return [geometry.prepare_one(np.asarray(_upsample(c, height, width))) for c in coarse]


def _upsample(image: np.ndarray, height: int, width: int) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR))


def argmax_agreement(reference: Engine, other: Engine, inputs: Sequence[np.ndarray], batch_size: int = 8) -> float:
    """The fraction of output pixels where ``other`` and ``reference`` give the same class.

    ``inputs`` are prepared (preprocessed) images ``(H, W, C)``. Compared at the model's output
    resolution (prediction then resizes both the same way).

    Example:
        >>> argmax_agreement(keras_engine, tflite_engine, images)  # doctest: +SKIP
        0.9931
    """
    same = total = 0
    for start in range(0, len(inputs), batch_size):
        x = np.stack(inputs[start : start + batch_size]).astype(np.float32)
        a = reference.run_padded(x, batch_size, pad=True).argmax(-1)
        b = other.run(x).argmax(-1)
        same += int(np.sum(a == b))
        total += a.size
    return same / total if total else float("nan")


def measure_agreement(model: Any, engine: Engine, inputs: Sequence[np.ndarray], on: str) -> dict[str, Any]:
    """``{"argmax": fraction, "images": n, "on": on}``: ``engine`` against the float32 Keras ``model``.

    Example:
        >>> measure_agreement(model, TFLiteEngine("m_int8.tflite"), images, "calibration images")  # doctest: +SKIP
        {'argmax': 0.9931, 'images': 100, 'on': 'calibration images'}
    """
    fraction = argmax_agreement(KerasEngine(model), engine, inputs)
    return {"argmax": round(fraction, 6), "images": len(inputs), "on": on}


__all__ = ["argmax_agreement", "measure_agreement", "synthetic_images"]
