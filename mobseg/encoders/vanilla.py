"""The plain "vanilla" encoder of keras_segmentation (used by ``segnet``, ``unet``, ``fcn_8``, ``pspnet``, ...).

Five blocks of ``ZeroPadding2D(1)`` -> 3x3 ``'valid'`` convolution -> BatchNormalization -> activation ->
2x2 max pooling, with 64, 128, 256, 256, 256 filters; each block's pooled output is one pyramid level.
It has no pretrained weights (keras_segmentation trains it from scratch), so its layers carry mobseg's
own deterministic names (``vanilla_conv_1`` ...) instead of Keras 2's auto-generated ``conv2d_1``.
"""

from __future__ import annotations

import keras

from mobseg.activations import ActivationSpec, resolve_activation
from mobseg.encoders.base import EncoderFeatures, make_input
from mobseg.validation import check_int

#: Filters of the five blocks; block i's pooled output is pyramid level f{i}.
VANILLA_FILTERS: tuple[int, ...] = (64, 128, 256, 256, 256)


def vanilla_encoder(
    input_height: int = 224,
    input_width: int = 224,
    channels: int = 3,
    activation: ActivationSpec = "relu",
    input_tensor: keras.KerasTensor | None = None,
) -> EncoderFeatures:
    """Build the vanilla encoder and return its input and pyramid [f1..f5] (strides 2..32).

    Channels of f1..f5: 64, 128, 256, 256, 256. Images are scaled to [0, 1] (``preprocessing="unit"``).

    Args:
        input_height, input_width: image size; pass ``None`` for a size-agnostic encoder.
        channels: input channels (1 grayscale, 3 RGB, 4 RGBA, ...).
        activation: any spec accepted by :func:`mobseg.activations.resolve_activation` (the original: ``"relu"``).
        input_tensor: an existing ``keras.Input`` to build on.

    Example:
        >>> feats = vanilla_encoder(64, 64)
        >>> feats.channels, tuple(feats.pyramid[-1].shape[1:3])
        ([64, 128, 256, 256, 256], (2, 2))
    """
    channels = check_int(channels, "channels", minimum=1, hint=" Use 1 for grayscale, 3 for RGB, 4 for RGBA.")
    act = resolve_activation(activation)
    inputs = make_input(input_height, input_width, channels, input_tensor)

    x = inputs
    pyramid = []
    for i, filters in enumerate(VANILLA_FILTERS, start=1):
        x = keras.layers.ZeroPadding2D((1, 1), name=f"vanilla_pad_{i}")(x)
        x = keras.layers.Conv2D(filters, (3, 3), padding="valid", name=f"vanilla_conv_{i}")(x)
        x = keras.layers.BatchNormalization(name=f"vanilla_bn_{i}")(x)
        x = act(f"vanilla_act_{i}")(x)
        x = keras.layers.MaxPooling2D((2, 2), name=f"vanilla_pool_{i}")(x)
        pyramid.append(x)
    return EncoderFeatures(inputs=inputs, pyramid=pyramid, name="vanilla", preprocessing="unit")


__all__ = ["VANILLA_FILTERS", "vanilla_encoder"]
