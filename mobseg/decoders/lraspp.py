"""The LR-ASPP decoder (Lite Reduced ASPP, Howard et al. 2019, "Searching for MobileNetV3"): MobileNetV3's head.

On the deepest map (``level``, f5): a 1x1 convolution to 128 channels, BN, ``decoder_activation`` (ReLU), gated
by a squeeze branch (global average pooling, 1x1 convolution, sigmoid); the product is upsampled (bilinear) to
the low-level map (``low_level``, f3 at stride 8) and classified by a 1x1 convolution, added to a 1x1
classifier on the low-level map, and the logits are upsampled 8x (bilinear) to the input size.

The paper pools the gate with a 49x49 kernel (stride 16, 20) tuned to 1024x2048 Cityscapes inputs; like
torchvision, mobseg pools globally, which fits every input size. The paper and torchvision run MobileNetV3 at
output stride 16 (dilated last stage); the zoo models default to that too (``output_stride=16``).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from mobseg.activations import ActivationSpec
from mobseg.decoders.base import optional_activation, pyramid_levels
from mobseg.decoders.blocks import conv_bn_act, map_size, resize_to
from mobseg.validation import check_int


def lraspp_decoder(
    pyramid: Sequence[keras.KerasTensor],
    n_classes: int,
    *,
    level: int = 4,
    low_level: int = 2,
    decoder_activation: ActivationSpec | None = "relu",
    filters: int = 128,
    prefix: str = "lraspp",
) -> keras.KerasTensor:
    """LR-ASPP on the pyramid: gated 1x1 features of ``pyramid[level]`` plus a classifier on ``pyramid[low_level]``.

    The logits are upsampled by the low-level map's stride (``2 ** (low_level + 1)``, 8 for f3): a pyramid of
    strides 2..32 gives the input's size.

    Example:
        >>> from mobseg.encoders import mobilenet_encoder
        >>> lraspp_decoder(mobilenet_encoder(64, 64).pyramid, 5).shape
        (None, 64, 64, 5)
    """
    maps = pyramid_levels(pyramid, level, None, "lraspp_decoder")
    if not 0 <= low_level < level:
        raise ValueError(f"lraspp_decoder: low_level must be a pyramid index below level={level}; got {low_level}.")
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    act = optional_activation(decoder_activation)
    high, low = maps[level], maps[low_level]
    x = conv_bn_act(high, filters, 1, act, f"{prefix}_cbr")
    gate = keras.layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}_scale_pool")(high)
    gate = keras.layers.Conv2D(filters, 1, use_bias=False, name=f"{prefix}_scale_conv")(gate)
    gate = keras.layers.Activation("sigmoid", name=f"{prefix}_scale_sigmoid")(gate)
    x = keras.layers.Multiply(name=f"{prefix}_gate")([x, gate])
    x = resize_to(x, map_size(low), f"{prefix}_up_to_low")
    x = keras.layers.Conv2D(n_classes, 1, name=f"{prefix}_high_classifier")(x)
    low_logits = keras.layers.Conv2D(n_classes, 1, name=f"{prefix}_low_classifier")(low)
    x = keras.layers.Add(name=f"{prefix}_add")([x, low_logits])
    stride = 2 ** (low_level + 1)
    return keras.layers.UpSampling2D(stride, interpolation="bilinear", name=f"{prefix}_up")(x)


__all__ = ["lraspp_decoder"]
