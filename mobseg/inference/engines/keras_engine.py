"""The Keras engine: the model itself, called with ``predict_on_batch`` (no per-call ``predict`` overhead)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mobseg.classes import default_class_names
from mobseg.inference.engines.base import Engine
from mobseg.inference.scoring import ModelGeometry


def is_keras_model(model: Any) -> bool:
    """True for a Keras model, checked without importing Keras (duck typing on its methods).

    Example:
        >>> is_keras_model("roads.tflite")
        False
    """
    return hasattr(model, "predict_on_batch") and hasattr(model, "inputs") and hasattr(model, "outputs")


def keras_model_info(model: Any) -> dict[str, Any]:
    """What a Keras model records about itself, in the sidecar's keys (class names, ignore_index, ...).

    Example:
        >>> import mobseg
        >>> keras_model_info(mobseg.mobilenet_segnet(2, input_height=32, input_width=32))["outputs"]
        'probabilities'
    """
    architecture = getattr(model, "architecture", {}) or {}
    run_info = getattr(model, "run_info", {}) or {}
    info: dict[str, Any] = {
        "name": model.name,
        "n_classes": int(model.outputs[0].shape[-1]),
        "outputs": "logits" if architecture.get("logits") else "probabilities",
        **ModelGeometry.of(model).to_dict(),
    }
    names = architecture.get("class_names") or default_class_names(info["n_classes"])
    info["class_names"] = [str(n) for n in names]
    if run_info.get("ignore_index") is not None:
        info["ignore_index"] = int(run_info["ignore_index"])
    return info


class KerasEngine(Engine):
    """A Keras model as an engine (float32; the reference the other engines are compared with).

    Example:
        >>> import mobseg
        >>> KerasEngine(mobseg.mobilenet_segnet(2, input_height=32, input_width=32)).geometry.output_size
        (16, 16)
    """

    name = "keras"

    def __init__(self, model: Any):
        info = keras_model_info(model)
        super().__init__(ModelGeometry.of(model), info["n_classes"], info, model.name)
        self.model = model

    def _run(self, x: np.ndarray) -> np.ndarray:
        import keras

        return keras.ops.convert_to_numpy(self.model.predict_on_batch(x))


__all__ = ["KerasEngine", "is_keras_model", "keras_model_info"]
