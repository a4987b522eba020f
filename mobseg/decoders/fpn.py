"""The FPN decoder for semantic segmentation (Lin et al. 2017; the panoptic-FPN head of Kirillov et al. 2019, as smp).

A top-down pathway on f2..f5: a 1x1 lateral convolution to ``pyramid_filters`` (256) on each map, each level
the sum of its lateral and the level above upsampled (nearest). Each of the four levels then goes through 3x3
convolution + BN + ``decoder_activation`` blocks to ``segmentation_filters`` (128), upsampled x2 (bilinear)
after each until it reaches f2's size (three blocks for P5, one for P2); the four maps are summed,
``SpatialDropout2D(dropout)`` is applied, a 1x1 classifier gives the logits and they are upsampled 4x (bilinear)
to the input size.

smp uses GroupNorm in the segmentation blocks; mobseg uses BatchNormalization, which folds into the
convolutions for mobile inference (TFLite, int8).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from mobseg.activations import ActivationSpec
from mobseg.decoders.base import optional_activation, pyramid_levels
from mobseg.decoders.blocks import conv_bn_act, map_size, resize_to
from mobseg.validation import check_int, check_number

#: Levels the FPN decoder uses: f2..f5 (strides 4 to 32).
FPN_LEVELS = 4


def fpn_decoder(
    pyramid: Sequence[keras.KerasTensor],
    n_classes: int,
    *,
    level: int = 4,
    decoder_activation: ActivationSpec | None = "relu",
    pyramid_filters: int = 256,
    segmentation_filters: int = 128,
    dropout: float = 0.2,
    prefix: str = "fpn",
) -> keras.KerasTensor:
    """FPN on the four maps up to ``pyramid[level]`` (f2..f5): logits at 4x the lowest map's size (the input's).

    Example:
        >>> from mobseg.encoders import mobilenet_encoder
        >>> fpn_decoder(mobilenet_encoder(64, 64).pyramid, 5).shape
        (None, 64, 64, 5)
    """
    maps = pyramid_levels(pyramid, level, FPN_LEVELS, "fpn_decoder")
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    dropout = check_number(dropout, "dropout", minimum=0, maximum=1, high_open=True)
    act = optional_activation(decoder_activation)
    numbers = [level + 1 - i for i in range(FPN_LEVELS)]  # P5, P4, P3, P2 (pyramid level numbers)
    top_down = [keras.layers.Conv2D(pyramid_filters, 1, name=f"{prefix}_lateral{numbers[0]}")(maps[-1])]
    for number, skip in zip(numbers[1:], maps[-2::-1], strict=True):
        up = resize_to(top_down[-1], map_size(skip), f"{prefix}_p{number + 1}_up", interpolation="nearest")
        lateral = keras.layers.Conv2D(pyramid_filters, 1, name=f"{prefix}_lateral{number}")(skip)
        top_down.append(keras.layers.Add(name=f"{prefix}_p{number}")([up, lateral]))
    heads = []
    for depth, (number, x) in enumerate(zip(numbers, top_down, strict=True)):
        targets = [map_size(m) for m in maps[-2 - depth :: -1]]  # the sizes on the way down to f2
        x = conv_bn_act(x, segmentation_filters, 3, act, f"{prefix}_seg{number}_1")
        for step, size in enumerate(targets, start=1):
            x = resize_to(x, size, f"{prefix}_seg{number}_{step}_up")
            if step < len(targets):
                x = conv_bn_act(x, segmentation_filters, 3, act, f"{prefix}_seg{number}_{step + 1}")
        heads.append(x)
    x = keras.layers.Add(name=f"{prefix}_merge")(heads)
    x = keras.layers.SpatialDropout2D(dropout, name=f"{prefix}_dropout")(x)
    x = keras.layers.Conv2D(n_classes, 1, name=f"{prefix}_classifier")(x)
    stride = 2 ** (level + 2 - FPN_LEVELS)
    return keras.layers.UpSampling2D(stride, interpolation="bilinear", name=f"{prefix}_up")(x)


__all__ = ["FPN_LEVELS", "fpn_decoder"]
