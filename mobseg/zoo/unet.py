"""U-Net-family models: ``unet_mini``, ``unet``, ``vgg_unet``, ``resnet50_unet``, ``mobilenet_unet``.

keras_segmentation's ``_unet``: the encoder's f4 (stride 16) is decoded with skip connections from f3, f2 and
f1 to stride 2, so the output is 1/2 of the input. The ReLU of the original sits inside each decoder
convolution, i.e. before BatchNormalization; ``decoder_activation`` replaces it (``None`` removes it).
"""

from __future__ import annotations

from typing import Any

from mobseg.activations import ActivationSpec
from mobseg.decoders.unet import unet_decoder, unet_mini_body
from mobseg.encoders.base import make_input
from mobseg.model import SegmentationModel
from mobseg.validation import check_n_classes
from mobseg.zoo._common import check_common, check_size, encode, finish
from mobseg.zoo.registry import register_model

#: The pyramid level the U-Net decoder starts from (f4); the original always uses it.
UNET_ENCODER_LEVEL = 3

_SIZE_RULE = "height and width multiples of 16 (f4, stride 16, is upsampled and joined with f3, f2, f1)"


def check_unet_encoder_level(encoder_level: object) -> int:
    """Accept only ``encoder_level=3``, the level keras_segmentation's U-Net always uses.

    The original's ``unet``/``vgg_unet``/``resnet50_unet``/``mobilenet_unet`` take ``encoder_level`` but
    silently ignore it; mobseg keeps the argument for compatibility and refuses other values instead.

    Example:
        >>> check_unet_encoder_level(3)
        3
    """
    if isinstance(encoder_level, bool) or encoder_level != UNET_ENCODER_LEVEL:
        raise ValueError(
            f"encoder_level={encoder_level!r} is not supported by the U-Net models: their decoder always starts "
            f"from f4 (encoder_level={UNET_ENCODER_LEVEL}) with skips from f3, f2 and f1. keras_segmentation "
            "accepted other values and silently ignored them; leave encoder_level at 3, or use a SegNet model "
            "(mobseg.segnet, ...) to choose the level."
        )
    return UNET_ENCODER_LEVEL


def _build_unet(
    name: str,
    encoder: str,
    n_classes: int,
    input_height: int,
    input_width: int,
    encoder_level: int,
    activation: ActivationSpec,
    decoder_activation: ActivationSpec | None,
    channels: int,
    head: str,
    logits: bool,
    **encoder_kwargs: Any,
) -> SegmentationModel:
    """keras_segmentation's ``_unet`` (with ``l1_skip_conn=True``): encoder -> U-Net decoder -> head."""
    n_classes = check_n_classes(n_classes)
    check_unet_encoder_level(encoder_level)
    n_classes, channels, head = check_common(n_classes, channels, head)
    input_height, input_width = check_size(
        name, input_height, input_width, 16, "f4 at stride 16 is upsampled x2 three times and joined with f3, f2, f1"
    )
    features = encode(encoder, input_height, input_width, channels, activation, **encoder_kwargs)
    x = unet_decoder(features.pyramid, n_classes, decoder_activation=decoder_activation)
    return finish(name, features, x, head, logits)


@register_model(encoder="unet_mini", decoder="unet_mini", size_rule="height and width multiples of 4 (two poolings)")
def unet_mini(
    n_classes: int,
    input_height: int = 360,
    input_width: int = 480,
    activation: ActivationSpec = "relu",
    decoder_activation: ActivationSpec | None = "relu",
    channels: int = 3,
    dropout: float = 0.2,
    head: str = "flat",
    logits: bool = False,
) -> SegmentationModel:
    """keras_segmentation's ``unet_mini``: a small U-Net (32-64-128 filters), output the input's size.

    See :func:`mobseg.decoders.unet_mini_body`. ``activation`` is used in the three encoder levels and
    ``decoder_activation`` in the two decoder levels (both ReLU in the original). Images are scaled to [0, 1].

    Example:
        >>> unet_mini(12, input_height=32, input_width=32).count_params()
        471916
    """
    n_classes, channels, head = check_common(n_classes, channels, head)
    input_height, input_width = check_size(
        "unet_mini", input_height, input_width, 4, "two 2x2 poolings are undone by two x2 upsamplings and skips"
    )
    inputs = make_input(input_height, input_width, channels)
    x = unet_mini_body(inputs, n_classes, activation=activation, decoder_activation=decoder_activation, dropout=dropout)
    return SegmentationModel.from_logits(
        inputs, x, name="unet_mini", head=head, logits_output=logits, preprocessing="unit"
    )


@register_model(encoder="vanilla", decoder="unet", size_rule=_SIZE_RULE)
def unet(
    n_classes: int,
    input_height: int = 416,
    input_width: int = 608,
    encoder_level: int = 3,
    activation: ActivationSpec = "relu",
    decoder_activation: ActivationSpec | None = "relu",
    channels: int = 3,
    head: str = "flat",
    logits: bool = False,
) -> SegmentationModel:
    """keras_segmentation's ``unet``: the vanilla encoder + U-Net decoder; output 1/2 of the input.

    Faithful flaw, fixed differently: the original accepts ``encoder_level`` and ignores it (always f4);
    here any value other than 3 raises a ``ValueError`` instead of being silently ignored.

    Example:
        >>> unet(12, input_height=64, input_width=64).output_shape
        (None, 1024, 12)
    """
    return _build_unet(
        "unet",
        "vanilla",
        n_classes,
        input_height,
        input_width,
        encoder_level,
        activation,
        decoder_activation,
        channels,
        head,
        logits,
    )


@register_model(encoder="vgg16", decoder="unet", size_rule=_SIZE_RULE)
def vgg_unet(
    n_classes: int,
    input_height: int = 416,
    input_width: int = 608,
    encoder_level: int = 3,
    activation: ActivationSpec = "relu",
    decoder_activation: ActivationSpec | None = "relu",
    channels: int = 3,
    head: str = "flat",
    logits: bool = False,
) -> SegmentationModel:
    """keras_segmentation's ``vgg_unet``: VGG16 encoder + U-Net decoder; output 1/2 of the input.

    Faithful flaw, fixed differently: the original accepts ``encoder_level`` and ignores it (always f4);
    here any value other than 3 raises a ``ValueError``. The original VGG16 encoder asserts multiples of 32;
    the graph only needs 16.

    Example:
        >>> vgg_unet(12, input_height=64, input_width=64).output_shape
        (None, 1024, 12)
    """
    return _build_unet(
        "vgg_unet",
        "vgg16",
        n_classes,
        input_height,
        input_width,
        encoder_level,
        activation,
        decoder_activation,
        channels,
        head,
        logits,
    )


@register_model(encoder="resnet50", decoder="unet", size_rule=_SIZE_RULE)
def resnet50_unet(
    n_classes: int,
    input_height: int = 416,
    input_width: int = 608,
    encoder_level: int = 3,
    activation: ActivationSpec = "relu",
    decoder_activation: ActivationSpec | None = "relu",
    channels: int = 3,
    head: str = "flat",
    logits: bool = False,
) -> SegmentationModel:
    """keras_segmentation's ``resnet50_unet``: ResNet50 encoder + U-Net decoder; output 1/2 of the input.

    Faithful flaws: ``encoder_level`` is ignored by the original (here: values other than 3 raise a
    ``ValueError``); the f1 skip is ResNet's raw ``conv1_conv`` output, before BatchNormalization and ReLU
    (kept; see :mod:`mobseg.encoders.resnet50`).

    Example:
        >>> resnet50_unet(12, input_height=64, input_width=64).output_shape
        (None, 1024, 12)
    """
    return _build_unet(
        "resnet50_unet",
        "resnet50",
        n_classes,
        input_height,
        input_width,
        encoder_level,
        activation,
        decoder_activation,
        channels,
        head,
        logits,
    )


@register_model(encoder="mobilenet", decoder="unet", size_rule=_SIZE_RULE)
def mobilenet_unet(
    n_classes: int,
    input_height: int = 224,
    input_width: int = 224,
    encoder_level: int = 3,
    activation: ActivationSpec = "relu6",
    decoder_activation: ActivationSpec | None = "relu",
    channels: int = 3,
    alpha: float = 1.0,
    depth_multiplier: int = 1,
    head: str = "flat",
    logits: bool = False,
) -> SegmentationModel:
    """keras_segmentation's ``mobilenet_unet``: MobileNet v1 encoder + U-Net decoder; output 1/2 of the input.

    Faithful flaw, fixed differently: the original accepts ``encoder_level`` and ignores it (always f4);
    here any value other than 3 raises a ``ValueError``. The original MobileNet encoder only accepts
    224x224 inputs; here any multiple of 16 works, and ``alpha``/``depth_multiplier`` are additions.

    Example:
        >>> mobilenet_unet(12, input_height=64, input_width=64).output_shape
        (None, 1024, 12)
    """
    return _build_unet(
        "mobilenet_unet",
        "mobilenet",
        n_classes,
        input_height,
        input_width,
        encoder_level,
        activation,
        decoder_activation,
        channels,
        head,
        logits,
        alpha=alpha,
        depth_multiplier=depth_multiplier,
    )


__all__ = ["check_unet_encoder_level", "mobilenet_unet", "resnet50_unet", "unet", "unet_mini", "vgg_unet"]
