"""PSPNet-family models: ``pspnet``, ``vgg_pspnet``, ``resnet50_pspnet``.

keras_segmentation's ``_pspnet``: the pyramid pooling module on f5 (stride 32), logits upsampled 8x, so the
output is 1/4 of the input (see :mod:`mobseg.decoders.pspnet`). Inputs must be multiples of 192 so that f5
splits evenly into 1, 2, 3 and 6 bins. keras_segmentation's larger ``pspnet_50``/``pspnet_101`` (a different
network, ``_pspnet_2``) are not among its 20 zoo models here. Each model is one decorated function of the
:data:`PSPNET` family (see :mod:`mobseg.zoo.family`).
"""

from __future__ import annotations

from mobseg.decoders.pspnet import pspnet_decoder
from mobseg.zoo.family import Family

#: 32 (stride of f5) x 6 (the least common multiple of the 1, 2, 3, 6 pooling bins).
PSPNET_SIZE_MULTIPLE = 192


#: keras_segmentation's ``_pspnet``: pyramid pooling on f5, logits upsampled 8x.
PSPNET = Family(
    decoder="pspnet",
    decode=pspnet_decoder,
    input_size=(384, 576),
    size=(
        PSPNET_SIZE_MULTIPLE,
        "f5 at stride 32 is average-pooled into 1x1, 2x2, 3x3 and 6x6 bins and resized back exactly, so it "
        "must be a multiple of 6 cells",
    ),
    size_rule="height and width multiples of 192 (f5 at stride 32 must split into 1, 2, 3 and 6 bins)",
)


@PSPNET.model(encoder="vanilla")
def pspnet():
    """keras_segmentation's ``pspnet``: the vanilla encoder + pyramid pooling; output 1/4 of the input.

    The original resizes with a ``Lambda`` (``K.resize_images``, bilinear); mobseg uses bilinear
    ``UpSampling2D`` with the same factors (no parameters either way), so the model saves and loads safely.

    Example:
        >>> pspnet(12, input_height=192, input_width=192).output_shape
        (None, 2304, 12)
    """


@PSPNET.model(encoder="vgg16")
def vgg_pspnet():
    """keras_segmentation's ``vgg_pspnet``: VGG16 + pyramid pooling; output 1/4 of the input.

    Example:
        >>> vgg_pspnet(12, input_height=192, input_width=192).output_shape
        (None, 2304, 12)
    """


@PSPNET.model(encoder="resnet50")
def resnet50_pspnet():
    """keras_segmentation's ``resnet50_pspnet``: ResNet50 + pyramid pooling; output 1/4 of the input.

    Example:
        >>> resnet50_pspnet(12, input_height=192, input_width=192).output_shape
        (None, 2304, 12)
    """


__all__ = ["PSPNET", "PSPNET_SIZE_MULTIPLE", "pspnet", "resnet50_pspnet", "vgg_pspnet"]
