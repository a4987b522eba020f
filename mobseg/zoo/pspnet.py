"""PSPNet-family models: ``pspnet``, ``vgg_pspnet``, ``resnet50_pspnet``.

keras_segmentation's ``_pspnet``: the pyramid pooling module on f5 (stride 32), logits upsampled 8x, so the
output is 1/4 of the input (see :mod:`mobseg.decoders.pspnet`). Inputs must be multiples of 192 so that f5
splits evenly into 1, 2, 3 and 6 bins. keras_segmentation's larger ``pspnet_50``/``pspnet_101`` (a different
network, ``_pspnet_2``) are not among its 20 zoo models here.
"""

from __future__ import annotations

from mobseg.activations import ActivationSpec
from mobseg.decoders.pspnet import pspnet_decoder
from mobseg.model import SegmentationModel
from mobseg.zoo._common import check_common, check_size, encode, finish
from mobseg.zoo.registry import register_model

#: 32 (stride of f5) x 6 (the least common multiple of the 1, 2, 3, 6 pooling bins).
PSPNET_SIZE_MULTIPLE = 192

_SIZE_RULE = "height and width multiples of 192 (f5 at stride 32 must split into 1, 2, 3 and 6 bins)"


def _build_pspnet(
    name: str,
    encoder: str,
    n_classes: int,
    input_height: int,
    input_width: int,
    activation: ActivationSpec,
    decoder_activation: ActivationSpec | None,
    channels: int,
    head: str,
    logits: bool,
) -> SegmentationModel:
    """keras_segmentation's ``_pspnet`` with ``encoder``."""
    n_classes, channels, head = check_common(n_classes, channels, head)
    input_height, input_width = check_size(
        name,
        input_height,
        input_width,
        PSPNET_SIZE_MULTIPLE,
        "f5 at stride 32 is average-pooled into 1x1, 2x2, 3x3 and 6x6 bins and resized back exactly, so it "
        "must be a multiple of 6 cells",
    )
    features = encode(encoder, input_height, input_width, channels, activation)
    x = pspnet_decoder(features.pyramid[4], n_classes, decoder_activation=decoder_activation)
    return finish(name, features, x, head, logits)


@register_model(encoder="vanilla", decoder="pspnet", size_rule=_SIZE_RULE)
def pspnet(
    n_classes: int,
    input_height: int = 384,
    input_width: int = 576,
    activation: ActivationSpec = "relu",
    decoder_activation: ActivationSpec | None = "relu",
    channels: int = 3,
    head: str = "flat",
    logits: bool = False,
) -> SegmentationModel:
    """keras_segmentation's ``pspnet``: the vanilla encoder + pyramid pooling; output 1/4 of the input.

    The original resizes with a ``Lambda`` (``K.resize_images``, bilinear); mobseg uses bilinear
    ``UpSampling2D`` with the same factors (no parameters either way), so the model saves and loads safely.

    Example:
        >>> pspnet(12, input_height=192, input_width=192).output_shape
        (None, 2304, 12)
    """
    return _build_pspnet(
        "pspnet",
        "vanilla",
        n_classes,
        input_height,
        input_width,
        activation,
        decoder_activation,
        channels,
        head,
        logits,
    )


@register_model(encoder="vgg16", decoder="pspnet", size_rule=_SIZE_RULE)
def vgg_pspnet(
    n_classes: int,
    input_height: int = 384,
    input_width: int = 576,
    activation: ActivationSpec = "relu",
    decoder_activation: ActivationSpec | None = "relu",
    channels: int = 3,
    head: str = "flat",
    logits: bool = False,
) -> SegmentationModel:
    """keras_segmentation's ``vgg_pspnet``: VGG16 + pyramid pooling; output 1/4 of the input.

    Example:
        >>> vgg_pspnet(12, input_height=192, input_width=192).output_shape
        (None, 2304, 12)
    """
    return _build_pspnet(
        "vgg_pspnet",
        "vgg16",
        n_classes,
        input_height,
        input_width,
        activation,
        decoder_activation,
        channels,
        head,
        logits,
    )


@register_model(encoder="resnet50", decoder="pspnet", size_rule=_SIZE_RULE)
def resnet50_pspnet(
    n_classes: int,
    input_height: int = 384,
    input_width: int = 576,
    activation: ActivationSpec = "relu",
    decoder_activation: ActivationSpec | None = "relu",
    channels: int = 3,
    head: str = "flat",
    logits: bool = False,
) -> SegmentationModel:
    """keras_segmentation's ``resnet50_pspnet``: ResNet50 + pyramid pooling; output 1/4 of the input.

    Example:
        >>> resnet50_pspnet(12, input_height=192, input_width=192).output_shape
        (None, 2304, 12)
    """
    return _build_pspnet(
        "resnet50_pspnet",
        "resnet50",
        n_classes,
        input_height,
        input_width,
        activation,
        decoder_activation,
        channels,
        head,
        logits,
    )


__all__ = ["PSPNET_SIZE_MULTIPLE", "pspnet", "resnet50_pspnet", "vgg_pspnet"]
