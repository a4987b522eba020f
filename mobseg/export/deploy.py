"""The deployment form of a model: spatial output, fixed input shape."""

from __future__ import annotations

import keras

from mobseg.model import SegmentationModel


def deployment_model(model: keras.Model) -> keras.Model:
    """A model that shares ``model``'s weights and outputs (N, h, w, n_classes) instead of flat rows.

    The article's Reshape head flattens the class map to (N, h*w, n_classes), which phones and
    image pipelines then have to un-flatten; exported models use the spatial layout instead (same
    weights, same numbers, no Reshape). A model with ``head="spatial"`` is returned unchanged.

    Example:
        >>> import mobseg
        >>> deployment_model(mobseg.mobilenet_segnet(2, input_height=64, input_width=64)).output_shape
        (None, 32, 32, 2)
    """
    try:
        reshape = model.get_layer("output_reshape")
    except ValueError:
        return model
    logits = reshape.input
    outputs = logits if model.outputs_logits else keras.layers.Softmax(name="output_softmax")(logits)
    architecture = {**model.architecture, "head": "spatial"}
    return SegmentationModel(inputs=model.inputs[0], outputs=outputs, architecture=architecture, name=model.name)
