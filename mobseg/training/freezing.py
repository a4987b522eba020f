"""Which layers form a model's encoder, and freezing them (frozen BatchNorm runs in inference mode).

The encoder layers are found generically, without name rules: the encoder named in
``model.architecture["encoder"]`` (e.g. ``"mobilenet"``) is built once on its own with
``mobseg.encoders.get_encoder``, and every layer of the model whose name is one of that encoder's
layer names belongs to the encoder. Since a functional model holds only the layers on a path from
its input to its output, these are exactly the encoder layers on the path from the input to the
pyramid features the decoder uses (MobileNet-SegNet at ``encoder_level=3``: ``conv1*`` and
``conv_*`` up to ``conv_pw_11_relu``). A model may also list them in
``model.architecture["encoder_layers"]``, which wins.
"""

from __future__ import annotations

from typing import Any

import keras


def encoder_layer_names(model: Any) -> list[str]:
    """Names of the model's encoder layers, in the model's (topological) layer order.

    Raises ``ValueError`` when the model does not say which encoder it has.

    Example:
        >>> import mobseg
        >>> names = encoder_layer_names(mobseg.mobilenet_segnet(2, input_height=64, input_width=64))
        >>> names[0], names[-1]
        ('conv1_pad', 'conv_pw_11_relu')
    """
    architecture = getattr(model, "architecture", None) or {}
    if architecture.get("encoder_layers"):
        wanted = set(architecture["encoder_layers"])
    else:
        encoder = architecture.get("encoder")
        if not encoder:
            raise ValueError(
                "This model does not record its encoder (model.architecture['encoder']), so its encoder layers are "
                "unknown; train without freeze_encoder_epochs, or set model.architecture['encoder_layers'] to the "
                "names of the layers to freeze."
            )
        from mobseg.encoders import get_encoder

        image = model.inputs[0]
        height, width, channels = image.shape[1], image.shape[2], image.shape[3]
        kwargs = architecture.get("kwargs", {})
        extra = {k: kwargs[k] for k in ("alpha", "depth_multiplier") if k in kwargs and encoder == "mobilenet"}
        features = get_encoder(encoder)(height, width, channels=channels, **extra)
        probe = keras.Model(features.inputs, features.pyramid)
        wanted = {layer.name for layer in probe.layers}
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
