"""Engines that run an exported file: the sidecar gives the geometry, class names and precision."""

from __future__ import annotations

import os
from typing import Any

from mobseg.inference.engines.base import Engine
from mobseg.inference.export_info import read_export_info
from mobseg.inference.scoring import ModelGeometry


class FileEngine(Engine):
    """Base of the engines that load an exported file (``.tflite``, ``.onnx``, OpenVINO ``.xml``).

    ``info`` defaults to the file's sidecar (:func:`mobseg.inference.export_info.read_export_info`).

    Example:
        >>> from mobseg.inference.engines import open_engine
        >>> open_engine("roads.tflite").geometry.preprocessing  # doctest: +SKIP
        'mobilenet'
    """

    def __init__(self, path: str | os.PathLike, info: dict[str, Any] | None = None):
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"Model file not found: {path}. Check the path.")
        info = read_export_info(path) if info is None else info
        super().__init__(ModelGeometry.from_dict(info), int(info["n_classes"]), info, path)
        self.path = path
        if info.get("precision"):
            self.precision = str(info["precision"])


__all__ = ["FileEngine"]
