"""The DeepLabV3+ decoder (Chen et al. 2018): ASPP on the deepest map, a low-level skip, logits at the input size.

ASPP (atrous spatial pyramid pooling) on the pyramid's map at ``level`` (f5): a 1x1 convolution, three 3x3
atrous separable convolutions (rates 6, 12, 18 at output stride 16; doubled at 8, halved at 32) and image
pooling (global average pooling, 1x1 convolution, broadcast back with ``UpSampling2D`` to the map's fixed size),
concatenated and projected by a 1x1 convolution to ``filters``. The decoder upsamples that to the low-level map
(f2, stride 4), concatenates it with the low-level map reduced to 48 channels, applies two 3x3 separable
convolutions and a 1x1 classifier, and upsamples the logits 4x (bilinear) to the input size.

Every convolution but the classifier is followed by BatchNormalization and ``decoder_activation`` (ReLU in the
paper). The separable convolutions (depthwise, BN, activation, pointwise, BN, activation) are the paper's
"atrous separable convolution", the mobile form; ``separable=False`` uses plain 3x3 convolutions.

The output stride (the stride of the ASPP input) is the encoder's: 32 as designed, 16 or 8 when the encoder is
built dilated (``output_stride=`` of the zoo models; :func:`mobseg.encoders.base.check_output_stride`).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from mobseg.activations import ActivationSpec, LayerMaker
from mobseg.decoders.base import optional_activation, pyramid_levels
from mobseg.decoders.blocks import conv_bn_act, map_size, relative_stride, resize_to
from mobseg.validation import check_int

#: ASPP atrous rates at output stride 16 (the paper's); scaled by 16 / output stride.
ASPP_RATES_AT_16: tuple[int, ...] = (6, 12, 18)


def aspp(
    x: keras.KerasTensor,
    act: LayerMaker | None,
    rates: Sequence[int],
    *,
    filters: int = 256,
    separable: bool = True,
    prefix: str = "aspp",
) -> keras.KerasTensor:
    """Atrous spatial pyramid pooling: 1x1, one 3x3 atrous convolution per rate, image pooling; then a 1x1 projection.

    Example:
        >>> from mobseg.activations import resolve_activation
        >>> aspp(keras.Input((8, 8, 64)), resolve_activation("relu"), (6, 12, 18), filters=32).shape
        (None, 8, 8, 32)
    """
    size = map_size(x)
    branches = [conv_bn_act(x, filters, 1, act, f"{prefix}_1x1")]
    for rate in rates:
        branches.append(conv_bn_act(x, filters, 3, act, f"{prefix}_rate{rate}", dilation=rate, separable=separable))
    pooled = keras.layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}_pool")(x)
    pooled = conv_bn_act(pooled, filters, 1, act, f"{prefix}_pool_1x1")
    branches.append(keras.layers.UpSampling2D(size, name=f"{prefix}_pool_broadcast")(pooled))
    x = keras.layers.Concatenate(name=f"{prefix}_concat")(branches)
    return conv_bn_act(x, filters, 1, act, f"{prefix}_projection")


def deeplabv3plus_decoder(
    pyramid: Sequence[keras.KerasTensor],
    n_classes: int,
    *,
    level: int = 4,
    low_level: int = 1,
    decoder_activation: ActivationSpec | None = "relu",
    atrous_rates: Sequence[int] | None = None,
    filters: int = 256,
    low_level_filters: int = 48,
    separable: bool = True,
    prefix: str = "deeplab",
) -> keras.KerasTensor:
    """DeepLabV3+ on the pyramid: ASPP on ``pyramid[level]``, skip from ``pyramid[low_level]``; logits at input size.

    ``atrous_rates`` default to (6, 12, 18) scaled to the ASPP input's stride relative to the low-level map
    (x4): (12, 24, 36) at output stride 8, (3, 6, 9) at 32. The logits are upsampled by the low-level map's
    stride (``2 ** (low_level + 1)``, 4 for f2), so a pyramid of strides 2..32 gives the input's size.

    Example:
        >>> from mobseg.encoders import mobilenet_encoder
        >>> levels = mobilenet_encoder(64, 64, output_stride=16).pyramid
        >>> deeplabv3plus_decoder(levels, 5).shape
        (None, 64, 64, 5)
    """
    maps = pyramid_levels(pyramid, level, None, "deeplabv3plus_decoder")
    if not 0 <= low_level < level:
        raise ValueError(
            f"deeplabv3plus_decoder: low_level must be a pyramid index below level={level}; got {low_level}."
        )
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    act = optional_activation(decoder_activation)
    high, low = maps[level], maps[low_level]
    low_stride = 2 ** (low_level + 1)
    if atrous_rates is None:
        stride = low_stride * relative_stride(high, low)
        atrous_rates = tuple(max(1, rate * 16 // stride) for rate in ASPP_RATES_AT_16)
    x = aspp(high, act, atrous_rates, filters=filters, separable=separable, prefix=f"{prefix}_aspp")
    x = resize_to(x, map_size(low), f"{prefix}_aspp_up")
    skip = conv_bn_act(low, low_level_filters, 1, act, f"{prefix}_low_level")
    x = keras.layers.Concatenate(name=f"{prefix}_concat")([x, skip])
    x = conv_bn_act(x, filters, 3, act, f"{prefix}_fuse1", separable=separable)
    x = conv_bn_act(x, filters, 3, act, f"{prefix}_fuse2", separable=separable)
    x = keras.layers.Conv2D(n_classes, 1, name=f"{prefix}_classifier")(x)
    return keras.layers.UpSampling2D(low_stride, interpolation="bilinear", name=f"{prefix}_up")(x)


__all__ = ["ASPP_RATES_AT_16", "aspp", "deeplabv3plus_decoder"]
