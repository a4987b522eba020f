"""Building blocks of the modern decoders (DeepLabV3+, LR-ASPP, FPN, LinkNet): stock Keras layers only.

Models have a fixed input size, so every resize has a fixed target: :func:`resize_to` upsamples by an integer
factor (``UpSampling2D``) when the target is an exact multiple, and otherwise resizes to the exact size
(bilinear ``Resizing``), e.g. f5 of a 176x240 input (6x8 at stride 32, rounded up) onto f4 (11x15).
"""

from __future__ import annotations

import math

import keras

from mobseg.activations import LayerMaker


def conv_bn_act(
    x: keras.KerasTensor,
    filters: int,
    kernel: int,
    act: LayerMaker | None,
    name: str,
    *,
    dilation: int = 1,
    separable: bool = False,
) -> keras.KerasTensor:
    """Convolution ('same', no bias), BatchNormalization, activation (left out when ``act`` is ``None``).

    ``separable=True`` makes it DeepLab's atrous separable convolution: a (dilated) depthwise convolution, BN and
    activation, then a 1x1 convolution, BN and activation. Layers are named ``<name>_conv``, ``<name>_bn``,
    ``<name>_act`` (separable: ``<name>_depthwise``, ``<name>_depthwise_bn``, ``<name>_depthwise_act``,
    ``<name>_pointwise``, ``<name>_bn``, ``<name>_act``).

    Example:
        >>> from mobseg.activations import resolve_activation
        >>> y = conv_bn_act(keras.Input((8, 8, 16)), 32, 3, resolve_activation("relu"), "b", separable=True)
        >>> y.shape
        (None, 8, 8, 32)
    """
    if separable:
        x = keras.layers.DepthwiseConv2D(
            kernel, padding="same", dilation_rate=dilation, use_bias=False, name=f"{name}_depthwise"
        )(x)
        x = keras.layers.BatchNormalization(name=f"{name}_depthwise_bn")(x)
        if act is not None:
            x = act(f"{name}_depthwise_act")(x)
        x = keras.layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_pointwise")(x)
    else:
        x = keras.layers.Conv2D(
            filters, kernel, padding="same", dilation_rate=dilation, use_bias=False, name=f"{name}_conv"
        )(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return x if act is None else act(f"{name}_act")(x)


def resize_to(
    x: keras.KerasTensor, size: tuple[int, int], name: str, interpolation: str = "bilinear"
) -> keras.KerasTensor:
    """``x`` resized to ``size`` (height, width): unchanged, ``UpSampling2D`` by an integer factor, or ``Resizing``.

    ``interpolation`` applies to integer factors; other sizes are always resized bilinearly (nearest-neighbour
    at a fractional ratio rounds ties differently in TensorFlow and TFLite).

    Example:
        >>> x = keras.Input((6, 8, 4))
        >>> resize_to(x, (12, 16), "up").shape, resize_to(x, (11, 15), "resize").shape
        ((None, 12, 16, 4), (None, 11, 15, 4))
    """
    height, width = (int(s) for s in x.shape[1:3])
    target = (int(size[0]), int(size[1]))
    if (height, width) == target:
        return x
    if target[0] % height == 0 and target[1] % width == 0:
        factor = (target[0] // height, target[1] // width)
        return keras.layers.UpSampling2D(factor, interpolation=interpolation, name=name)(x)
    return keras.layers.Resizing(*target, interpolation="bilinear", name=name)(x)


def map_size(x: keras.KerasTensor) -> tuple[int, int]:
    """The fixed (height, width) of a feature map, or a ``ValueError`` naming the fix.

    Example:
        >>> map_size(keras.Input((6, 8, 4)))
        (6, 8)
    """
    height, width = x.shape[1:3]
    if height is None or width is None:
        raise ValueError("The modern decoders need a fixed feature size; pass input_height and input_width.")
    return int(height), int(width)


def relative_stride(high: keras.KerasTensor, low: keras.KerasTensor) -> int:
    """How many times smaller ``high`` is than ``low``, as a power of two (6x8 over 44x60: 8).

    Example:
        >>> relative_stride(keras.Input((4, 4, 1)), keras.Input((16, 16, 1)))
        4
    """
    ratio = map_size(low)[0] / map_size(high)[0]
    return 2 ** max(0, round(math.log2(ratio)))


__all__ = ["conv_bn_act", "map_size", "relative_stride", "resize_to"]
