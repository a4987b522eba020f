"""Using a trained model: ``load_model``, ``predict`` / ``predict_iter`` (masks at the original image size),
``evaluate``, engines (Keras, TFLite, ONNX Runtime, OpenVINO) and ``benchmark``.

Names are imported on first use, so that ``mobseg.inference.engines`` and ``predict`` through an exported
file never import Keras or TensorFlow (``load_model`` does).

Example:
    >>> import mobseg, numpy as np
    >>> model = mobseg.mobilenet_segnet(2, input_height=32, input_width=32)
    >>> mobseg.predict(model, np.zeros((50, 70, 3), np.uint8)).shape
    (50, 70)
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> the module that defines it.
_HOMES: dict[str, str] = {
    "add_legend": "mobseg.inference.visualize",
    "colorize_mask": "mobseg.inference.visualize",
    "default_palette": "mobseg.inference.visualize",
    "legend_image": "mobseg.inference.visualize",
    "overlay_mask": "mobseg.inference.visualize",
    "evaluate": "mobseg.inference.evaluation",
    "load_model": "mobseg.inference.loading",
    "model_class_names": "mobseg.inference.loading",
    "predict": "mobseg.inference.prediction",
    "predict_iter": "mobseg.inference.prediction",
    "PredictionResult": "mobseg.inference.prediction",
    "PredictionSummary": "mobseg.inference.prediction",
    "resize_scores": "mobseg.inference.scoring",
    "scores_to_mask": "mobseg.inference.scoring",
    "SkippedInputsError": "mobseg.inference.streaming",
    "Engine": "mobseg.inference.engines",
    "EngineNotInstalledError": "mobseg.inference.engines",
    "available_engines": "mobseg.inference.engines",
    "open_engine": "mobseg.inference.engines",
    "benchmark": "mobseg.inference.benchmarking",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'mobseg.inference' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


__all__ = sorted(_HOMES)
