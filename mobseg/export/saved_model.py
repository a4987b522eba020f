"""TensorFlow SavedModel export with a fixed input shape."""

from __future__ import annotations

import os

import keras

from mobseg.export.deploy import deployment_model
from mobseg.io.atomic import atomic_path


def export_saved_model(model: keras.Model, path: str | os.PathLike, batch_size: int | None = 1) -> str:
    """Write a SavedModel (spatial head, input ``(batch_size, H, W, C)``) to the folder ``path``.

    ``batch_size=None`` leaves the batch dimension dynamic (what TF Serving and OpenVINO want). The
    TFLite conversion needs it fixed: with a dynamic batch, ``UpSampling2D`` leaves the spatial size
    unknown and the converter cannot lower the next ``Conv2D`` to a builtin op. The folder is written
    next to ``path`` and moved into place, so ``path`` is never half-written.

    Example:
        >>> import mobseg
        >>> model = mobseg.mobilenet_segnet(2, input_height=64, input_width=64)
        >>> export_saved_model(model, "m_savedmodel")  # doctest: +SKIP
    """
    import tensorflow as tf

    path = os.fspath(path)
    deploy = deployment_model(model)
    shape = (batch_size, *deploy.inputs[0].shape[1:])
    if None in shape[1:]:
        raise ValueError(f"Export needs a fixed input size; the model's input is {deploy.inputs[0].shape}.")
    with atomic_path(path, directory=True) as target:
        deploy.export(
            target, format="tf_saved_model", input_signature=[tf.TensorSpec(shape, tf.float32)], verbose=False
        )
    return path
