"""The LinkNet decoder (Chaurasia & Culurciello 2017, as smp): light decoder blocks added to the skips.

From the deepest map (``level``, f5) down to f1, each decoder block is a 1x1 convolution to a quarter of its
input channels (BN, ``decoder_activation``), a 3x3 transposed convolution with stride 2 (BN, activation) and a
1x1 convolution to the skip's channels (BN, activation); its output is added to the skip. A last block (to
``prefinal_filters``, 32) upsamples from stride 2 to the input size, and a 1x1 classifier gives the logits.

When the skip is one pixel smaller than twice the map (inputs that are not multiples of 32: f5 of a 176-pixel
side is 6, f4 is 11), the transposed convolution's output is cropped at the bottom/right to the skip's size.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from mobseg.activations import ActivationSpec, LayerMaker
from mobseg.decoders.base import optional_activation, pyramid_levels
from mobseg.decoders.blocks import conv_bn_act, map_size
from mobseg.validation import check_int


def _upsample(x: keras.KerasTensor, filters: int, size: tuple[int, int], name: str) -> keras.KerasTensor:
    """3x3 transposed convolution to ``size`` (stride 2, cropped when ``size`` is odd); a 3x3 convolution if equal."""
    height, width = map_size(x)
    if (height, width) == size:
        return keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    if not (2 * height - 1 <= size[0] <= 2 * height and 2 * width - 1 <= size[1] <= 2 * width):
        raise ValueError(f"linknet_decoder: cannot upsample a {height}x{width} map to {size[0]}x{size[1]} by 2.")
    x = keras.layers.Conv2DTranspose(filters, 3, strides=2, padding="same", use_bias=False, name=f"{name}_conv")(x)
    crop = (2 * height - size[0], 2 * width - size[1])
    if any(crop):
        x = keras.layers.Cropping2D(((0, crop[0]), (0, crop[1])), name=f"{name}_crop")(x)
    return x


def linknet_block(
    x: keras.KerasTensor, filters: int, size: tuple[int, int], act: LayerMaker | None, name: str
) -> keras.KerasTensor:
    """One LinkNet decoder block: 1x1 to a quarter, x2 transposed convolution to ``size``, 1x1 to ``filters``.

    Example:
        >>> from mobseg.activations import resolve_activation
        >>> linknet_block(keras.Input((4, 4, 64)), 16, (8, 8), resolve_activation("relu"), "block").shape
        (None, 8, 8, 16)
    """
    middle = max(1, int(x.shape[-1]) // 4)
    x = conv_bn_act(x, middle, 1, act, f"{name}_reduce")
    x = _upsample(x, middle, size, f"{name}_up")
    x = keras.layers.BatchNormalization(name=f"{name}_up_bn")(x)
    if act is not None:
        x = act(f"{name}_up_act")(x)
    return conv_bn_act(x, filters, 1, act, f"{name}_expand")


def linknet_decoder(
    pyramid: Sequence[keras.KerasTensor],
    n_classes: int,
    *,
    level: int = 4,
    decoder_activation: ActivationSpec | None = "relu",
    prefinal_filters: int = 32,
    prefix: str = "linknet",
) -> keras.KerasTensor:
    """LinkNet on [f1 .. pyramid[level]]: blocks added to each skip, a last block to stride 1, a 1x1 classifier.

    Example:
        >>> from mobseg.encoders import mobilenet_encoder
        >>> linknet_decoder(mobilenet_encoder(64, 64).pyramid, 5).shape
        (None, 64, 64, 5)
    """
    maps = pyramid_levels(pyramid, level, None, "linknet_decoder")
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    act = optional_activation(decoder_activation)
    x = maps[-1]
    for number, skip in zip(range(level, 0, -1), maps[-2::-1], strict=True):
        x = linknet_block(x, int(skip.shape[-1]), map_size(skip), act, f"{prefix}_block{number + 1}")
        x = keras.layers.Add(name=f"{prefix}_add{number}")([x, skip])
    height, width = map_size(x)
    x = linknet_block(x, prefinal_filters, (2 * height, 2 * width), act, f"{prefix}_block1")
    return keras.layers.Conv2D(n_classes, 1, name=f"{prefix}_classifier")(x)


__all__ = ["linknet_block", "linknet_decoder"]
