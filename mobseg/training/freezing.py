"""Which layers form a model's encoder, and freezing them (frozen BatchNorm runs in inference mode).

The encoder layers are the ones the model recorded when it was built (:attr:`SegmentationModel.encoder_layers`):
the layers on the path from the input to the pyramid features the decoder uses (MobileNet-SegNet at
``encoder_level=3``: ``conv1*`` and ``conv_*`` up to ``conv_pw_11_relu``). Setting
``model.architecture["encoder_layers"]`` to a list of layer names chooses other layers.
"""

from __future__ import annotations

from typing import Any

import keras

from mobseg.model import SegmentationModel


def encoder_layer_names(model: Any) -> list[str]:
    """Names of the model's encoder layers, in the model's (topological) layer order.

    Raises ``ValueError`` when the model does not say which layers form its encoder.

    Example:
        >>> import mobseg
        >>> names = encoder_layer_names(mobseg.mobilenet_segnet(2, input_height=64, input_width=64))
        >>> names[0], names[-1]
        ('conv1_pad', 'conv_pw_11_relu')
    """
    if not isinstance(model, SegmentationModel):
        raise ValueError(
            "Only a mobseg SegmentationModel records its encoder layers; train this model without "
            "freeze_encoder_epochs, or build it with mobseg.build_model."
        )
    wanted = set(model.encoder_layers)
    names = [
        layer.name for layer in model.layers if layer.name in wanted and not isinstance(layer, keras.layers.InputLayer)
    ]
    if not names:
        raise ValueError(f"No encoder layers found in model {model.name!r}; cannot freeze its encoder.")
    return names


def set_encoder_trainable(model: Any, trainable: bool, names: list[str] | None = None) -> list[str]:
    """Freeze (``trainable=False``) or unfreeze the encoder; returns the layer names changed.

    In Keras 3 a ``BatchNormalization`` layer with ``trainable=False`` runs in inference mode: its
    moving mean and variance stay as they are. Recompile the model after changing this.

    Example:
        >>> import mobseg
        >>> model = mobseg.mobilenet_segnet(2, input_height=64, input_width=64)
        >>> frozen = set_encoder_trainable(model, False)
        >>> model.get_layer("conv1").trainable, model.get_layer("segnet_conv_1").trainable
        (False, True)
    """
    names = names if names is not None else encoder_layer_names(model)
    for name in names:
        model.get_layer(name).trainable = trainable
    return names


__all__ = ["encoder_layer_names", "set_encoder_trainable"]
