"""ONNX export through Keras' own exporter (needs the optional ``tf2onnx`` and ``onnx`` packages)."""

from __future__ import annotations

import os

import keras

from mobseg.export.deploy import deployment_model
from mobseg.io.atomic import atomic_path


def export_onnx(model: keras.Model, path: str | os.PathLike, batch_size: int | None = None) -> str:
    """Write ``model`` (spatial head, fixed image size) as an ONNX file, atomically.

    ``batch_size=None`` (the default) leaves the batch dimension dynamic; give a number to fix it.

    Requires ``pip install "mobseg[onnx]"`` (tf2onnx, onnx; onnxruntime to run it).

    Example:
        >>> import mobseg
        >>> export_onnx(mobseg.mobilenet_segnet(2, input_height=64, input_width=64), "m.onnx")  # doctest: +SKIP
    """
    import tensorflow as tf

    try:
        import onnx  # noqa: F401
        import tf2onnx  # noqa: F401
    except ImportError:
        raise RuntimeError("ONNX export needs the packages tf2onnx and onnx: pip install 'mobseg[onnx]'.") from None
    path = os.fspath(path)
    deploy = deployment_model(model)
    shape = (batch_size, *deploy.inputs[0].shape[1:])
    with atomic_path(path) as target:
        deploy.export(target, format="onnx", input_signature=[tf.TensorSpec(shape, tf.float32)], verbose=False)
    return path
