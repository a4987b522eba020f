"""VGG16 encoder of keras_segmentation, with the layer names of ``keras.applications.VGG16``.

Five blocks of 3x3 ``'same'`` convolutions (2, 2, 3, 3, 3 of them; 64, 128, 256, 512, 512 filters), each
block closed by 2x2 max pooling ``blockN_pool``, whose output is pyramid level fN.

Keras 2 fused the ReLU into each convolution (``Conv2D(..., activation='relu')``). To make the activation
switchable, mobseg applies a linear ``Conv2D`` named exactly as in Keras applications (``block1_conv1``; the
weighted layers and their shapes are those of ``keras.applications.VGG16(include_top=False)``, so the
ImageNet ``.h5`` file loads by name) followed by a separate activation layer ``block1_conv1_relu``. The
numbers are the same; the model has one extra weightless layer per convolution.
"""

from __future__ import annotations

import keras

from mobseg.activations import ActivationSpec, resolve_activation
from mobseg.encoders.base import EncoderFeatures, make_input
from mobseg.validation import check_int

#: (filters, number of convolutions) of the five VGG16 blocks.
VGG16_BLOCKS: tuple[tuple[int, int], ...] = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


def vgg16_encoder(
    input_height: int = 224,
    input_width: int = 224,
    channels: int = 3,
    activation: ActivationSpec = "relu",
    input_tensor: keras.KerasTensor | None = None,
) -> EncoderFeatures:
    """Build VGG16 and return its input and pyramid [f1..f5] (strides 2..32; 64, 128, 256, 512, 512 channels).

    Images are preprocessed the "caffe" way (BGR, ImageNet means subtracted), as the ImageNet weights expect.

    Args:
        input_height, input_width: image size; pass ``None`` for a size-agnostic encoder.
        channels: input channels (with ``channels != 3`` ImageNet weights cannot load into ``block1_conv1``).
        activation: any spec accepted by :func:`mobseg.activations.resolve_activation` (the original: ``"relu"``).
        input_tensor: an existing ``keras.Input`` to build on.

    Example:
        >>> feats = vgg16_encoder(64, 64)
        >>> feats.channels
        [64, 128, 256, 512, 512]
    """
    channels = check_int(channels, "channels", minimum=1, hint=" Use 1 for grayscale, 3 for RGB, 4 for RGBA.")
    act = resolve_activation(activation)
    inputs = make_input(input_height, input_width, channels, input_tensor)

    x = inputs
    pyramid = []
    for block, (filters, n_convs) in enumerate(VGG16_BLOCKS, start=1):
        for conv in range(1, n_convs + 1):
            name = f"block{block}_conv{conv}"
            x = keras.layers.Conv2D(filters, (3, 3), padding="same", name=name)(x)
            x = act(f"{name}_relu")(x)
        x = keras.layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
        pyramid.append(x)
    return EncoderFeatures(inputs=inputs, pyramid=pyramid, name="vgg16", preprocessing="caffe")


__all__ = ["VGG16_BLOCKS", "vgg16_encoder"]
