"""ResNet50 (v1) encoder of keras_segmentation, with the layer names of Keras 3 ``keras.applications.ResNet50``.

The layer sequence is keras_segmentation's (itself from fchollet's ``deep-learning-models``):

* stem: ``ZeroPadding2D(3)`` -> 7x7/2 ``conv1_conv`` -> ``conv1_bn`` -> ``conv1_relu`` -> 3x3/2 ``'valid'``
  max pooling ``pool1_pool`` **without** the ``pool1_pad`` that Keras applications put before it;
* bottleneck stages conv2..conv5 with 3, 4, 6, 3 blocks; the first block of each stage has a projection
  shortcut (``..._0_conv``/``..._0_bn``) and, from conv3 on, stride 2 in its first 1x1 convolution.

Every weighted layer of ``keras.applications.ResNet50(include_top=False)`` has a layer of the same name and
weight shapes here (``conv1_conv``, ``conv1_bn``, ``conv2_block1_0_conv``, ... ``conv5_block3_3_bn``), so the
ImageNet ``.h5`` file loads by name. The parameter count of the full encoder is the same (23,587,712).

Quirks of the original, kept so that shapes, parameters and weights carry over:

* **f1 is the raw ``conv1_conv`` output** (before BatchNormalization and ReLU). Models that use f1 (U-Net's
  first skip connection) concatenate un-normalised features.
* Without ``pool1_pad`` the stage-2 maps are one pixel short (``H/4 - 1``). The original pads them back with
  a ``Lambda`` "one-side pad" (pad 1, drop the last row and column) to make f2 (``H/4``). mobseg does the
  same with ``ZeroPadding2D(1)`` + ``Cropping2D((0, 1), (0, 1))`` (``conv2_one_side_pad`` /
  ``conv2_one_side_crop``): identical numbers, no ``Lambda``, so models load in safe mode. f2 thus has a
  zero row on top and a zero column on the left, and stages 3-5 see the un-padded stage-2 output.
* BatchNormalization uses Keras' default ``epsilon=1e-3`` as in keras_segmentation; Keras applications use
  ``1.001e-5``. Pass ``bn_epsilon=1.001e-5`` to reproduce Keras applications' numbers with its weights.
"""

from __future__ import annotations

import keras

from mobseg.activations import ActivationSpec, LayerMaker, resolve_activation
from mobseg.encoders.base import EncoderFeatures, make_input
from mobseg.validation import check_int

#: (stage name, bottleneck filters, number of blocks, stride of the first block).
RESNET50_STAGES: tuple[tuple[str, int, int, int], ...] = (
    ("conv2", 64, 3, 1),
    ("conv3", 128, 4, 2),
    ("conv4", 256, 6, 2),
    ("conv5", 512, 3, 2),
)


def _bottleneck(
    x: keras.KerasTensor,
    filters: int,
    name: str,
    act: LayerMaker,
    stride: int = 1,
    projection: bool = False,
    bn_epsilon: float = 1e-3,
) -> keras.KerasTensor:
    """One bottleneck block, main path first then shortcut, as keras_segmentation's conv/identity blocks."""

    def bn(name: str) -> keras.layers.Layer:
        return keras.layers.BatchNormalization(epsilon=bn_epsilon, name=name)

    y = keras.layers.Conv2D(filters, (1, 1), strides=(stride, stride), name=f"{name}_1_conv")(x)
    y = bn(f"{name}_1_bn")(y)
    y = act(f"{name}_1_relu")(y)
    y = keras.layers.Conv2D(filters, (3, 3), padding="same", name=f"{name}_2_conv")(y)
    y = bn(f"{name}_2_bn")(y)
    y = act(f"{name}_2_relu")(y)
    y = keras.layers.Conv2D(4 * filters, (1, 1), name=f"{name}_3_conv")(y)
    y = bn(f"{name}_3_bn")(y)
    if projection:
        shortcut = keras.layers.Conv2D(4 * filters, (1, 1), strides=(stride, stride), name=f"{name}_0_conv")(x)
        shortcut = bn(f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    y = keras.layers.Add(name=f"{name}_add")([y, shortcut])
    return act(f"{name}_out")(y)


def resnet50_encoder(
    input_height: int = 224,
    input_width: int = 224,
    channels: int = 3,
    activation: ActivationSpec = "relu",
    input_tensor: keras.KerasTensor | None = None,
    bn_epsilon: float = 1e-3,
) -> EncoderFeatures:
    """Build ResNet50 and return its input and pyramid [f1..f5] (strides 2..32; 64, 256, 512, 1024, 2048 channels).

    f1 is ``conv1_conv`` (before BN/ReLU), f2 the one-side-padded stage-2 output, f3..f5 the outputs of
    stages conv3..conv5 (see the module docstring). Images are preprocessed the "caffe" way.

    Args:
        input_height, input_width: image size; pass ``None`` for a size-agnostic encoder.
        channels: input channels (with ``channels != 3`` ImageNet weights cannot load into ``conv1_conv``).
        activation: any spec accepted by :func:`mobseg.activations.resolve_activation` (the original: ``"relu"``).
        input_tensor: an existing ``keras.Input`` to build on.
        bn_epsilon: BatchNormalization epsilon (1e-3 as keras_segmentation; Keras applications use 1.001e-5).

    Example:
        >>> feats = resnet50_encoder(64, 64)
        >>> feats.channels, [int(f.shape[1]) for f in feats.pyramid]
        ([64, 256, 512, 1024, 2048], [32, 16, 8, 4, 2])
    """
    channels = check_int(channels, "channels", minimum=1, hint=" Use 1 for grayscale, 3 for RGB, 4 for RGBA.")
    if isinstance(bn_epsilon, bool) or not isinstance(bn_epsilon, (int, float)) or not bn_epsilon > 0:
        raise ValueError(f"bn_epsilon must be a small number > 0, e.g. 1e-3 or 1.001e-5; got {bn_epsilon!r}.")
    act = resolve_activation(activation)
    inputs = make_input(input_height, input_width, channels, input_tensor)

    x = keras.layers.ZeroPadding2D((3, 3), name="conv1_pad")(inputs)
    x = keras.layers.Conv2D(64, (7, 7), strides=(2, 2), name="conv1_conv")(x)
    pyramid = [x]
    x = keras.layers.BatchNormalization(epsilon=bn_epsilon, name="conv1_bn")(x)
    x = act("conv1_relu")(x)
    x = keras.layers.MaxPooling2D((3, 3), strides=(2, 2), name="pool1_pool")(x)

    for stage, filters, n_blocks, stride in RESNET50_STAGES:
        for block in range(1, n_blocks + 1):
            first = block == 1
            x = _bottleneck(
                x,
                filters,
                f"{stage}_block{block}",
                act,
                stride=stride if first else 1,
                projection=first,
                bn_epsilon=bn_epsilon,
            )
        if stage == "conv2":
            f2 = keras.layers.ZeroPadding2D((1, 1), name="conv2_one_side_pad")(x)
            pyramid.append(keras.layers.Cropping2D(((0, 1), (0, 1)), name="conv2_one_side_crop")(f2))
        else:
            pyramid.append(x)
    return EncoderFeatures(inputs=inputs, pyramid=pyramid, name="resnet50", preprocessing="caffe")


__all__ = ["RESNET50_STAGES", "resnet50_encoder"]
