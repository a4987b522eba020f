"""OpenVINO IR export (``.xml`` + ``.bin``) through a SavedModel (needs the optional ``openvino`` package)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile

import keras

from mobseg.export.saved_model import export_saved_model
from mobseg.io.atomic import atomic_path


def export_openvino(model: keras.Model, path: str | os.PathLike, batch_size: int | None = None) -> str:
    """Write ``model`` (spatial head, float32 weights) as OpenVINO IR: ``path`` (``.xml``) and its ``.bin``.

    ``batch_size=None`` leaves the batch dimension dynamic (OpenVINO fixes it when it compiles). The
    ``.bin`` is moved into place before the ``.xml``, each atomically, so an ``.xml`` is never seen
    without its weights. Requires ``pip install "mobseg[openvino]"``.

    Example:
        >>> import mobseg
        >>> export_openvino(mobseg.mobilenet_segnet(2, input_height=64, input_width=64), "m.xml")  # doctest: +SKIP
        'm.xml'
    """
    if importlib.util.find_spec("openvino") is None:
        raise RuntimeError("OpenVINO export needs the openvino package: pip install 'mobseg[openvino]'.")
    import openvino as ov

    path = os.fspath(path)
    if not path.endswith(".xml"):
        raise ValueError(f"An OpenVINO export is an .xml file (with a .bin beside it); got {path}.")
    with tempfile.TemporaryDirectory() as tmp:
        saved = export_saved_model(model, os.path.join(tmp, "saved_model"), batch_size=batch_size)
        converted = ov.convert_model(saved)
        staged = os.path.join(tmp, "model.xml")
        ov.save_model(converted, staged, compress_to_fp16=False)
        with atomic_path(path[: -len(".xml")] + ".bin") as target:
            shutil.copyfile(os.path.join(tmp, "model.bin"), target)
        with atomic_path(path) as target:
            shutil.copyfile(staged, target)
    return path


__all__ = ["export_openvino"]
