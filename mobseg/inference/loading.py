"""Loading a trained model from a run folder or a ``.keras`` file, with its preprocessing and class names."""

from __future__ import annotations

import contextlib
import importlib
import json
import math
import os
import warnings
import zipfile
from typing import Any

import keras

from mobseg.classes import default_class_names
from mobseg.model import SegmentationModel

#: The file a training run writes next to ``model.keras``.
TRAINING_JSON = "training.json"


def _find_model_file(path: str) -> str:
    if os.path.isdir(path):
        candidate = os.path.join(path, "model.keras")
        if os.path.isfile(candidate):
            return candidate
        found = sorted(name for name in os.listdir(path) if name.endswith(".keras"))
        if len(found) == 1:
            return os.path.join(path, found[0])
        raise FileNotFoundError(
            f"No model.keras in the folder {path}"
            + (f" (it holds several .keras files: {', '.join(found)}; pass one of them)." if found else ".")
        )
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Model file not found: {path}. Pass a .keras file or a training run folder.")
    return path


def _read_training_json(folder: str) -> dict[str, Any]:
    path = os.path.join(folder, TRAINING_JSON)
    if not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as stream:
            info = json.load(stream)
    except (OSError, ValueError) as err:
        warnings.warn(f"Ignoring {path}: it is not readable JSON ({err}).", stacklevel=3)
        return {}
    return info if isinstance(info, dict) else {}


def _flat_output_size(model: keras.Model, info: dict[str, Any]) -> list[int]:
    """Recover (h, w) of a flat (N, h*w, C) output: from training.json, else by keeping the input's aspect."""
    if info.get("output_size"):
        return [int(v) for v in info["output_size"]]
    pixels = int(model.outputs[0].shape[1])
    height, width = model.inputs[0].shape[1:3]
    if height and width:
        scale = math.sqrt(pixels / (height * width))
        guess = [round(height * scale), round(width * scale)]
        if guess[0] * guess[1] == pixels:
            return guess
    raise ValueError(
        f"The model's output is flat ({pixels} pixels) and its 2-D size is unknown: add 'output_size': [h, w] to "
        f"{TRAINING_JSON} next to the model, or build it with mobseg (SegmentationModel records it)."
    )


def _as_segmentation_model(model: keras.Model, info: dict[str, Any]) -> SegmentationModel:
    if isinstance(model, SegmentationModel):
        return model
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(f"{model.name} has {len(model.inputs)} inputs and {len(model.outputs)} outputs; need 1 and 1.")
    shape = model.outputs[0].shape
    if len(shape) == 4:
        architecture = {"output_size": [int(shape[1]), int(shape[2])], "head": "spatial"}
    elif len(shape) == 3:
        architecture = {"output_size": _flat_output_size(model, info), "head": "flat"}
    else:
        raise ValueError(f"{model.name} outputs shape {shape}; a segmentation model outputs (N, H, W, C) or (N, P, C).")
    architecture["logits"] = False
    architecture["preprocessing"] = info.get("preprocessing", "none")
    return SegmentationModel(model.inputs[0], model.outputs[0], architecture=architecture, name=model.name)


def load_model(path: str | os.PathLike, compile: bool = False) -> SegmentationModel:
    """Load a trained model in Keras safe mode from a ``.keras`` file or a training run folder.

    ``path`` is a ``.keras`` file or a folder holding ``model.keras``. A ``training.json`` next to
    the model (written by ``mobseg train``) fills in what the model does not record itself: class
    names, preprocessing. What the model records wins. The result is a :class:`SegmentationModel`
    whose ``architecture`` has ``"preprocessing"`` and ``"class_names"``, and whose ``run_info``
    holds the ``training.json`` dict (empty if there is none). Plain Keras models are wrapped.
    ``compile=True`` also restores the optimizer, loss and metrics (mobseg's are registered).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for a file that is not a
    Keras ``.keras`` model.

    Example:
        >>> model = load_model("runs/cityscapes/model.keras")  # doctest: +SKIP
        >>> model.architecture["class_names"][:2], model.preprocessing  # doctest: +SKIP
        (['road', 'sidewalk'], 'mobilenet')
    """
    path = _find_model_file(os.fspath(path))
    if not path.endswith(".keras"):
        raise ValueError(
            f"{path} is not a .keras file. Save models with model.save('model.keras') (Keras 3 format); "
            "legacy .h5 and SavedModel folders are not supported."
        )
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a Keras model archive (not a zip file); it may be truncated or another file.")
    for module in ("mobseg.losses", "mobseg.metrics"):  # register mobseg's loss and metric for compile=True
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    try:
        model = keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as err:
        raise ValueError(f"Cannot load {path} as a Keras model: {err}") from err
    if not isinstance(model, keras.Model):
        raise ValueError(f"{path} holds a {type(model).__name__}, not a Keras model.")
    info = _read_training_json(os.path.dirname(os.path.abspath(path)))
    model = _as_segmentation_model(model, info)
    architecture = model.architecture
    architecture.setdefault("preprocessing", info.get("preprocessing", "none"))
    names = architecture.get("class_names") or info.get("class_names")
    if names is not None and len(names) != model.n_classes:
        warnings.warn(
            f"Ignoring {len(names)} class names for a model with {model.n_classes} classes ({path}).", stacklevel=2
        )
        names = None
    architecture["class_names"] = [str(n) for n in names] if names else default_class_names(model.n_classes)
    model.run_info = dict(info)
    return model


def model_class_names(model: keras.Model) -> list[str]:
    """The model's class names: ``model.architecture["class_names"]``, else ``class_0``, ``class_1``, ...

    Example:
        >>> import mobseg
        >>> model_class_names(mobseg.mobilenet_segnet(2, input_height=32, input_width=32))
        ['class_0', 'class_1']
    """
    if isinstance(model, SegmentationModel):
        return model.class_names
    return default_class_names(int(model.outputs[0].shape[-1]))


__all__ = ["TRAINING_JSON", "load_model", "model_class_names"]
