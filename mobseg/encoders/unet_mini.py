"""The encoder half of keras_segmentation's ``unet_mini``: three levels of two 3x3 convolutions.

``unet_mini`` carries its own small encoder instead of a backbone: at each level two 3x3 'same' convolutions
(32, 64, 128 filters) with ``Dropout`` between them, and 2x2 max pooling between levels. Its pyramid has three
maps [f1, f2, f3] at strides 1, 2 and 4; the decoder (:func:`mobseg.decoders.unet.unet_mini_decoder`) joins f1
and f2 back in. Images are scaled to [0, 1] (``preprocessing="unit"``).
"""

from __future__ import annotations

import keras

from mobseg.activations import ActivationSpec, LayerMaker, resolve_activation
from mobseg.encoders.base import EncoderFeatures, make_input
from mobseg.validation import check_int

#: Filters of the three encoder levels.
UNET_MINI_FILTERS: tuple[int, ...] = (32, 64, 128)

#: Stride of each of the three levels relative to the input.
UNET_MINI_STRIDES: tuple[int, ...] = (1, 2, 4)


def check_dropout(dropout: object) -> float:
    """Validate a dropout rate in [0, 1).

    Example:
        >>> check_dropout(0.2)
        0.2
    """
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a rate in [0, 1), e.g. 0.2 (the original); got {dropout!r}.")
    return dropout


def unet_mini_block(
    x: keras.KerasTensor, filters: int, level: int, act: LayerMaker | None, dropout: float, prefix: str = "unet_mini"
) -> keras.KerasTensor:
    """One ``unet_mini`` level: conv, activation, ``Dropout``, conv, activation (layers ``{prefix}_conv{level}_*``).

    The original fuses ReLU into each convolution; here ``act`` is a separate layer after it (``None``: none).

    Example:
        >>> unet_mini_block(keras.Input((8, 8, 3)), 16, 1, None, 0.2, prefix="demo").shape
        (None, 8, 8, 16)
    """
    for j in (1, 2):
        name = f"{prefix}_conv{level}_{j}"
        x = keras.layers.Conv2D(filters, (3, 3), padding="same", name=name)(x)
        if act is not None:
            x = act(f"{name}_act")(x)
        if j == 1:
            x = keras.layers.Dropout(dropout, name=f"{prefix}_drop{level}")(x)
    return x


def unet_mini_encoder(
    input_height: int | None = 360,
    input_width: int | None = 480,
    channels: int = 3,
    activation: ActivationSpec | None = "relu",
    dropout: float = 0.2,
    input_tensor: keras.KerasTensor | None = None,
    prefix: str = "unet_mini",
) -> EncoderFeatures:
    """Build ``unet_mini``'s encoder and return its input and pyramid [f1, f2, f3] (strides 1, 2, 4).

    Example:
        >>> feats = unet_mini_encoder(32, 32)
        >>> feats.channels, feats.strides
        ([32, 64, 128], (1, 2, 4))
    """
    dropout = check_dropout(dropout)
    act = None if activation is None else resolve_activation(activation)
    channels = check_int(channels, "channels", minimum=1, hint=" Use 1 for grayscale, 3 for RGB, 4 for RGBA.")
    inputs = make_input(input_height, input_width, channels, input_tensor)
    pyramid, x = [], inputs
    for level, filters in enumerate(UNET_MINI_FILTERS, start=1):
        if level > 1:
            x = keras.layers.MaxPooling2D((2, 2), name=f"{prefix}_pool{level - 1}")(x)
        x = unet_mini_block(x, filters, level, act, dropout, prefix)
        pyramid.append(x)
    return EncoderFeatures(
        inputs=inputs, pyramid=pyramid, name="unet_mini", preprocessing="unit", strides=UNET_MINI_STRIDES
    )


__all__ = ["UNET_MINI_FILTERS", "UNET_MINI_STRIDES", "check_dropout", "unet_mini_block", "unet_mini_encoder"]
