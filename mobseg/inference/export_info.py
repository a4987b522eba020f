"""The sidecar JSON that travels with an exported model, so the file alone is enough to predict.

``mobseg export`` writes ``roads.tflite`` and ``roads.tflite.json`` (``<file>.json``; a SavedModel folder
gets ``<folder>/mobseg.json``). The exports carry the spatial head and expect preprocessed input; the
sidecar records what prediction needs around them::

    {"format": "mobseg-export", "version": 1, "engine_format": "tflite", "precision": "int8",
     "name": "mobilenet_unet", "n_classes": 11, "class_names": [...], "outputs": "probabilities",
     "input_size": [176, 240], "channels": 3, "output_size": [88, 120], "preprocessing": "mobilenet",
     "batch_size": 1, "ignore_index": 11, "mobseg_version": "...",
     "agreement": {"argmax": 0.994, "images": 100, "on": "calibration images"}}

``agreement`` is the fraction of output pixels whose argmax equals the float32 Keras model's on the
images named in ``on`` (recorded for quantized exports). Only numpy-free standard library here.
"""

from __future__ import annotations

import json
import os
from typing import Any

from mobseg.io.atomic import atomic_write_text

#: The value of ``"format"`` in every sidecar.
SIDECAR_FORMAT = "mobseg-export"
#: Sidecar file name inside a SavedModel folder.
FOLDER_SIDECAR = "mobseg.json"
#: Keys a sidecar must have.
REQUIRED_KEYS: tuple[str, ...] = ("n_classes", "input_size", "channels", "output_size", "preprocessing")


def sidecar_path(path: str | os.PathLike) -> str:
    """Where the sidecar of the export ``path`` lives: ``<file>.json``, or ``<folder>/mobseg.json``.

    Example:
        >>> sidecar_path("exports/roads.tflite")
        'exports/roads.tflite.json'
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        return os.path.join(path, FOLDER_SIDECAR)
    return path + ".json"


def write_export_info(path: str | os.PathLike, info: dict[str, Any]) -> str:
    """Write ``info`` as the sidecar of the export ``path``, atomically; returns the sidecar's path.

    Example:
        >>> write_export_info("roads.tflite", {"n_classes": 2})  # doctest: +SKIP
        'roads.tflite.json'
    """
    target = sidecar_path(path)
    record = {"format": SIDECAR_FORMAT, "version": 1, **info}
    atomic_write_text(json.dumps(record, indent=2) + "\n", target)
    return target


def read_export_info(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check the sidecar of the export ``path``.

    Raises ``FileNotFoundError`` when there is none (saying how to make one) and ``ValueError`` when it
    is not a mobseg sidecar or misses a key.

    Example:
        >>> read_export_info("roads.tflite")["preprocessing"]  # doctest: +SKIP
        'mobilenet'
    """
    target = sidecar_path(path)
    if not os.path.isfile(target):
        raise FileNotFoundError(
            f"{os.fspath(path)} has no sidecar {target}: it records the preprocessing, sizes and class names "
            "that prediction needs. Export with `mobseg export` (or mobseg.export.export_model), or write it by "
            f"hand with the keys {', '.join(REQUIRED_KEYS)}."
        )
    try:
        with open(target, encoding="utf-8") as stream:
            info = json.load(stream)
    except ValueError as err:
        raise ValueError(f"The sidecar {target} is not valid JSON ({err}); export the model again.") from None
    if not isinstance(info, dict) or info.get("format", SIDECAR_FORMAT) != SIDECAR_FORMAT:
        raise ValueError(f'{target} is not a mobseg export sidecar (no "format": "{SIDECAR_FORMAT}").')
    missing = [key for key in REQUIRED_KEYS if key not in info]
    if missing:
        raise ValueError(f"The sidecar {target} lacks {', '.join(missing)}; export the model again.")
    return info


__all__ = ["FOLDER_SIDECAR", "REQUIRED_KEYS", "SIDECAR_FORMAT", "read_export_info", "sidecar_path", "write_export_info"]
