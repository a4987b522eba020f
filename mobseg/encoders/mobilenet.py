"""MobileNet v1 encoder, rebuilt the way the MobileNet-SegNet article builds it.

Every 3x3 convolution is preceded by ``ZeroPadding2D(1)`` and is then ``'valid'`` (also for
stride 1, where Keras applications use ``'same'``: same numbers, one extra layer). Layer names
follow ``keras.applications.MobileNet`` so ImageNet weight files load by name.
"""

from __future__ import annotations

import keras

from mobseg.activations import ActivationSpec, LayerMaker, resolve_activation
from mobseg.encoders.base import PYRAMID_STRIDES, EncoderFeatures, check_output_stride
from mobseg.validation import check_int

#: (pointwise filters, stride) of the 13 depthwise-separable blocks.
MOBILENET_BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
)

#: Block whose output is each pyramid level f1..f5.
MOBILENET_PYRAMID_BLOCKS: tuple[int, ...] = (1, 3, 5, 11, 13)


def _check_alpha(alpha: object) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
        raise ValueError(
            f"alpha (the width multiplier) must be a number > 0, e.g. 1.0, 0.75, 0.5 or 0.25; got {alpha!r}."
        )
    if int(32 * alpha) < 1:
        raise ValueError(f"alpha={alpha} leaves the first convolution with no filters; use alpha >= 1/32.")
    return float(alpha)


def _depthwise_separable(
    x: keras.KerasTensor,
    block_id: int,
    filters: int,
    stride: int,
    dilation: int,
    depth_multiplier: int,
    act: LayerMaker,
) -> keras.KerasTensor:
    """Block ``block_id``: pad + 3x3 depthwise (stride), BN, act, 1x1 pointwise, BN, act; dilated: no pad, stride 1."""
    if dilation == 1:
        x = keras.layers.ZeroPadding2D(padding=(1, 1), name=f"conv_pad_{block_id}")(x)
    x = keras.layers.DepthwiseConv2D(
        (3, 3),
        strides=(stride, stride) if dilation == 1 else (1, 1),
        padding="valid" if dilation == 1 else "same",
        dilation_rate=(dilation, dilation),
        depth_multiplier=depth_multiplier,
        use_bias=False,
        name=f"conv_dw_{block_id}",
    )(x)
    x = keras.layers.BatchNormalization(name=f"conv_dw_{block_id}_bn")(x)
    x = act(f"conv_dw_{block_id}_relu")(x)
    x = keras.layers.Conv2D(filters, (1, 1), padding="same", use_bias=False, name=f"conv_pw_{block_id}")(x)
    x = keras.layers.BatchNormalization(name=f"conv_pw_{block_id}_bn")(x)
    return act(f"conv_pw_{block_id}_relu")(x)


def mobilenet_encoder(
    input_height: int = 224,
    input_width: int = 224,
    channels: int = 3,
    activation: ActivationSpec = "relu6",
    alpha: float = 1.0,
    depth_multiplier: int = 1,
    input_tensor: keras.KerasTensor | None = None,
    output_stride: int = 32,
) -> EncoderFeatures:
    """Build MobileNet v1 and return its input and pyramid [f1..f5] (strides 2, 4, 8, 16, 32).

    Args:
        input_height, input_width: image size; pass ``None`` for a size-agnostic encoder.
        channels: input channels (1 grayscale, 3 RGB, 4 RGBA, ...).
        activation: any spec accepted by :func:`mobseg.activations.resolve_activation`.
        alpha: width multiplier; filters are ``int(filters * alpha)`` as in Keras applications.
        depth_multiplier: depthwise channel multiplier.
        input_tensor: an existing ``keras.Input`` to build on.
        output_stride: 32 as built; 16 or 8 keep the blocks that would go past it at stride 1 and dilate their
            depthwise convolutions instead (DeepLab's atrous trick: ``'same'`` padding, no ``conv_pad_N``,
            same weights), so f5 (and f4 at 8) have that stride.

    Example:
        >>> feats = mobilenet_encoder(224, 224)
        >>> [tuple(f.shape[1:]) for f in feats.pyramid][-1]
        (7, 7, 1024)
        >>> mobilenet_encoder(224, 224, output_stride=16).strides
        (2, 4, 8, 16, 16)
    """
    alpha = _check_alpha(alpha)
    depth_multiplier = check_int(depth_multiplier, "depth_multiplier", minimum=1)
    channels = check_int(channels, "channels", minimum=1, hint=" Use 1 for grayscale, 3 for RGB, 4 for RGBA.")
    act = resolve_activation(activation)
    output_stride = check_output_stride(output_stride)

    if input_tensor is None:
        inputs = keras.Input(shape=(input_height, input_width, channels), name="image")
    else:
        inputs = input_tensor

    x = keras.layers.ZeroPadding2D(padding=(1, 1), name="conv1_pad")(inputs)
    x = keras.layers.Conv2D(int(32 * alpha), (3, 3), strides=(2, 2), padding="valid", use_bias=False, name="conv1")(x)
    x = keras.layers.BatchNormalization(name="conv1_bn")(x)
    x = act("conv1_relu")(x)

    pyramid, reached = [], 2
    for block_id, (filters, stride) in enumerate(MOBILENET_BLOCKS, start=1):
        reached *= stride
        dilation = max(1, reached // output_stride)
        x = _depthwise_separable(x, block_id, int(filters * alpha), stride, dilation, depth_multiplier, act)
        if block_id in MOBILENET_PYRAMID_BLOCKS:
            pyramid.append(x)

    strides = tuple(min(stride, output_stride) for stride in PYRAMID_STRIDES)
    return EncoderFeatures(inputs=inputs, pyramid=pyramid, name="mobilenet", preprocessing="mobilenet", strides=strides)
