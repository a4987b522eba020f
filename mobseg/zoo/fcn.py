"""FCN-family models: ``fcn_8``/``fcn_32`` on the vanilla, VGG16, ResNet50 and MobileNet encoders.

keras_segmentation's ``fcn_8`` and ``fcn_32`` (see :mod:`mobseg.decoders.fcn`). Faithful flaw, kept by
default: the output is 8 px (FCN-8) or 32 px (FCN-32) larger than the input in height and width, since the
final ``'valid'`` transposed convolution is never cropped back; ``crop=True`` crops it to the input's grid
(no parameter changes). The 7x7 convolution to 4096 channels on f5 dominates the parameter count
(49 x C5 x 4096 weights: 51M on the vanilla encoder, 103M on VGG16, 411M on ResNet50's 2048 channels);
``fc_filters`` (an addition, default 4096) narrows it.
"""

from __future__ import annotations

from typing import Any

from mobseg.activations import ActivationSpec
from mobseg.decoders.fcn import FCN_EXCESS, FCN_FC_FILTERS, fcn8_decoder, fcn32_decoder
from mobseg.model import SegmentationModel
from mobseg.zoo._common import check_common, check_size, encode, finish
from mobseg.zoo.registry import register_model

_SIZE_RULES = {
    "fcn_8": "height and width multiples of 32 (f5, stride 32, is upsampled and fused with f4 and f3)",
    "fcn_32": "height and width multiples of 32 (f5, stride 32, is upsampled 32x)",
}

_DECODERS = {"fcn_8": fcn8_decoder, "fcn_32": fcn32_decoder}


def fcn_output_size(input_height: int, input_width: int, variant: str = "fcn_8", crop: bool = False) -> tuple[int, int]:
    """Output (height, width) of an FCN model: the input plus 8 (``fcn_8``) or 32 (``fcn_32``) unless cropped.

    Example:
        >>> fcn_output_size(416, 608), fcn_output_size(416, 608, "fcn_32", crop=True)
        ((424, 616), (416, 608))
    """
    if variant not in FCN_EXCESS:
        raise ValueError(f"Unknown FCN variant {variant!r}; use one of: {', '.join(FCN_EXCESS)}.")
    excess = 0 if crop else FCN_EXCESS[variant]
    return input_height + excess, input_width + excess


def _build_fcn(
    name: str,
    variant: str,
    encoder: str,
    n_classes: int,
    input_height: int,
    input_width: int,
    activation: ActivationSpec,
    decoder_activation: ActivationSpec | None,
    channels: int,
    crop: bool,
    fc_filters: int,
    head: str,
    logits: bool,
    **encoder_kwargs: Any,
) -> SegmentationModel:
    """keras_segmentation's ``fcn_8``/``fcn_32`` with ``encoder``."""
    n_classes, channels, head = check_common(n_classes, channels, head)
    if not isinstance(crop, bool):
        raise ValueError(f"crop must be True or False; got {crop!r}.")
    input_height, input_width = check_size(
        name, input_height, input_width, 32, "f5 at stride 32 is upsampled back to the input's grid"
    )
    features = encode(encoder, input_height, input_width, channels, activation, **encoder_kwargs)
    x = _DECODERS[variant](
        features.pyramid, n_classes, decoder_activation=decoder_activation, crop=crop, fc_filters=fc_filters
    )
    return finish(name, features, x, head, logits)


@register_model(encoder="vanilla", decoder="fcn_8", size_rule=_SIZE_RULES["fcn_8"])
def fcn_8(
    n_classes: int,
    input_height: int = 416,
    input_width: int = 608,
    activation: ActivationSpec = "relu",
    decoder_activation: ActivationSpec | None = "relu",
    channels: int = 3,
    crop: bool = False,
    fc_filters: int = FCN_FC_FILTERS,
    head: str = "flat",
    logits: bool = False,
) -> SegmentationModel:
    """keras_segmentation's ``fcn_8``: the vanilla encoder + the FCN-8 decoder.

    Faithful flaw, kept by default: the output is 8 px larger than the input in height and width
    (never cropped back); ``crop=True`` crops it to the input's size with no parameter change.
    ``decoder_activation`` replaces the ReLU after the two 4096-channel convolutions; ``fc_filters``
    narrows them (an addition; any value but 4096 changes the parameter count).

    Example:
        >>> fcn_8(12, input_height=64, input_width=64, head="spatial").output_shape
        (None, 72, 72, 12)
    """
    return _build_fcn(
        "fcn_8",
        "fcn_8",
        "vanilla",
        n_classes,
        input_height,
        input_width,
        activation,
        decoder_activation,
        channels,
        crop,
        fc_filters,
        head,
        logits,
    )


@register_model(encoder="vanilla", decoder="fcn_32", size_rule=_SIZE_RULES["fcn_32"])
def fcn_32(
    n_classes: int,
    input_height: int = 416,
    input_width: int = 608,
    activation: ActivationSpec = "relu",
    decoder_activation: ActivationSpec | None = "relu",
    channels: int = 3,
    crop: bool = False,
    fc_filters: int = FCN_FC_FILTERS,
    head: str = "flat",
    logits: bool = False,
) -> SegmentationModel:
    """keras_segmentation's ``fcn_32``: the vanilla encoder + the FCN-32 decoder.

    Faithful flaw, kept by default: the output is 32 px larger than the input in height and width
    (never cropped back); ``crop=True`` crops it to the input's size with no parameter change.
    ``decoder_activation`` replaces the ReLU after the two 4096-channel convolutions; ``fc_filters``
    narrows them (an addition; any value but 4096 changes the parameter count).

    Example:
        >>> fcn_32(12, input_height=64, input_width=64, head="spatial").output_shape
        (None, 96, 96, 12)
    """
    return _build_fcn(
        "fcn_32",
        "fcn_32",
        "vanilla",
        n_classes,
        input_height,
        input_width,
        activation,
        decoder_activation,
        channels,
        crop,
        fc_filters,
        head,
        logits,
    )


@register_model(encoder="vgg16", decoder="fcn_8", size_rule=_SIZE_RULES["fcn_8"])
def fcn_8_vgg(
    n_classes: int,
    input_height: int = 416,
    input_width: int = 608,
    activation: ActivationSpec = "relu",
    decoder_activation: ActivationSpec | None = "relu",
    channels: int = 3,
    crop: bool = False,
    fc_filters: int = FCN_FC_FILTERS,
    head: str = "flat",
    logits: bool = False,
) -> SegmentationModel:
    """keras_segmentation's ``fcn_8_vgg``: VGG16 + the FCN-8 decoder.

    Faithful flaw, kept by default: the output is 8 px larger than the input in height and width
    (never cropped back); ``crop=True`` crops it to the input's size with no parameter change.
    ``decoder_activation`` replaces the ReLU after the two 4096-channel convolutions; ``fc_filters``
    narrows them (an addition; any value but 4096 changes the parameter count).

    Example:
        >>> fcn_8_vgg(12, input_height=64, input_width=64, head="spatial").output_shape
        (None, 72, 72, 12)
    """
    return _build_fcn(
        "fcn_8_vgg",
        "fcn_8",
        "vgg16",
        n_classes,
        input_height,
        input_width,
        activation,
        decoder_activation,
        channels,
        crop,
        fc_filters,
        head,
        logits,
    )


@register_model(encoder="vgg16", decoder="fcn_32", size_rule=_SIZE_RULES["fcn_32"])
def fcn_32_vgg(
    n_classes: int,
    input_height: int = 416,
    input_width: int = 608,
    activation: ActivationSpec = "relu",
    decoder_activation: ActivationSpec | None = "relu",
    channels: int = 3,
    crop: bool = False,
    fc_filters: int = FCN_FC_FILTERS,
    head: str = "flat",
    logits: bool = False,
) -> SegmentationModel:
    """keras_segmentation's ``fcn_32_vgg``: VGG16 + the FCN-32 decoder.

    Faithful flaw, kept by default: the output is 32 px larger than the input in height and width
    (never cropped back); ``crop=True`` crops it to the input's size with no parameter change.
    ``decoder_activation`` replaces the ReLU after the two 4096-channel convolutions; ``fc_filters``
    narrows them (an addition; any value but 4096 changes the parameter count).

    Example:
        >>> fcn_32_vgg(12, input_height=64, input_width=64, head="spatial").output_shape
        (None, 96, 96, 12)
    """
    return _build_fcn(
        "fcn_32_vgg",
        "fcn_32",
        "vgg16",
        n_classes,
        input_height,
        input_width,
        activation,
        decoder_activation,
        channels,
        crop,
        fc_filters,
        head,
        logits,
    )


@register_model(encoder="resnet50", decoder="fcn_8", size_rule=_SIZE_RULES["fcn_8"])
def fcn_8_resnet50(
    n_classes: int,
    input_height: int = 416,
    input_width: int = 608,
    activation: ActivationSpec = "relu",
    decoder_activation: ActivationSpec | None = "relu",
    channels: int = 3,
    crop: bool = False,
    fc_filters: int = FCN_FC_FILTERS,
    head: str = "flat",
    logits: bool = False,
) -> SegmentationModel:
    """keras_segmentation's ``fcn_8_resnet50``: ResNet50 + the FCN-8 decoder.

    Faithful flaw, kept by default: the output is 8 px larger than the input in height and width
    (never cropped back); ``crop=True`` crops it to the input's size with no parameter change.
    ``decoder_activation`` replaces the ReLU after the two 4096-channel convolutions; ``fc_filters``
    narrows them (an addition; any value but 4096 changes the parameter count).

    See :mod:`mobseg.encoders.resnet50` for the encoder's quirks.

    Example:
        >>> fcn_8_resnet50(12, input_height=64, input_width=64, head="spatial").output_shape
        (None, 72, 72, 12)
    """
    return _build_fcn(
        "fcn_8_resnet50",
        "fcn_8",
        "resnet50",
        n_classes,
        input_height,
        input_width,
        activation,
        decoder_activation,
        channels,
        crop,
        fc_filters,
        head,
        logits,
    )


@register_model(encoder="resnet50", decoder="fcn_32", size_rule=_SIZE_RULES["fcn_32"])
def fcn_32_resnet50(
    n_classes: int,
    input_height: int = 416,
    input_width: int = 608,
    activation: ActivationSpec = "relu",
    decoder_activation: ActivationSpec | None = "relu",
    channels: int = 3,
    crop: bool = False,
    fc_filters: int = FCN_FC_FILTERS,
    head: str = "flat",
    logits: bool = False,
) -> SegmentationModel:
    """keras_segmentation's ``fcn_32_resnet50``: ResNet50 + the FCN-32 decoder.

    Faithful flaw, kept by default: the output is 32 px larger than the input in height and width
    (never cropped back); ``crop=True`` crops it to the input's size with no parameter change.
    ``decoder_activation`` replaces the ReLU after the two 4096-channel convolutions; ``fc_filters``
    narrows them (an addition; any value but 4096 changes the parameter count).

    See :mod:`mobseg.encoders.resnet50` for the encoder's quirks.

    Example:
        >>> fcn_32_resnet50(12, input_height=64, input_width=64, head="spatial").output_shape
        (None, 96, 96, 12)
    """
    return _build_fcn(
        "fcn_32_resnet50",
        "fcn_32",
        "resnet50",
        n_classes,
        input_height,
        input_width,
        activation,
        decoder_activation,
        channels,
        crop,
        fc_filters,
        head,
        logits,
    )


@register_model(encoder="mobilenet", decoder="fcn_8", size_rule=_SIZE_RULES["fcn_8"])
def fcn_8_mobilenet(
    n_classes: int,
    input_height: int = 416,
    input_width: int = 608,
    activation: ActivationSpec = "relu6",
    decoder_activation: ActivationSpec | None = "relu",
    channels: int = 3,
    alpha: float = 1.0,
    depth_multiplier: int = 1,
    crop: bool = False,
    fc_filters: int = FCN_FC_FILTERS,
    head: str = "flat",
    logits: bool = False,
) -> SegmentationModel:
    """keras_segmentation's ``fcn_8_mobilenet``: MobileNet v1 + the FCN-8 decoder.

    Faithful flaw, kept by default: the output is 8 px larger than the input in height and width
    (never cropped back); ``crop=True`` crops it to the input's size with no parameter change.
    ``decoder_activation`` replaces the ReLU after the two 4096-channel convolutions; ``fc_filters``
    narrows them (an addition; any value but 4096 changes the parameter count).

    keras_segmentation's MobileNet encoder asserts 224x224 inputs, so the original cannot build this model
    at its own default 416x608; mobseg can (any multiple of 32).

    Example:
        >>> fcn_8_mobilenet(12, input_height=64, input_width=64, head="spatial").output_shape
        (None, 72, 72, 12)
    """
    return _build_fcn(
        "fcn_8_mobilenet",
        "fcn_8",
        "mobilenet",
        n_classes,
        input_height,
        input_width,
        activation,
        decoder_activation,
        channels,
        crop,
        fc_filters,
        head,
        logits,
        alpha=alpha,
        depth_multiplier=depth_multiplier,
    )


@register_model(encoder="mobilenet", decoder="fcn_32", size_rule=_SIZE_RULES["fcn_32"])
def fcn_32_mobilenet(
    n_classes: int,
    input_height: int = 416,
    input_width: int = 608,
    activation: ActivationSpec = "relu6",
    decoder_activation: ActivationSpec | None = "relu",
    channels: int = 3,
    alpha: float = 1.0,
    depth_multiplier: int = 1,
    crop: bool = False,
    fc_filters: int = FCN_FC_FILTERS,
    head: str = "flat",
    logits: bool = False,
) -> SegmentationModel:
    """keras_segmentation's ``fcn_32_mobilenet``: MobileNet v1 + the FCN-32 decoder.

    Faithful flaw, kept by default: the output is 32 px larger than the input in height and width
    (never cropped back); ``crop=True`` crops it to the input's size with no parameter change.
    ``decoder_activation`` replaces the ReLU after the two 4096-channel convolutions; ``fc_filters``
    narrows them (an addition; any value but 4096 changes the parameter count).

    keras_segmentation's MobileNet encoder asserts 224x224 inputs, so the original cannot build this model
    at its own default 416x608; mobseg can (any multiple of 32).

    Example:
        >>> fcn_32_mobilenet(12, input_height=64, input_width=64, head="spatial").output_shape
        (None, 96, 96, 12)
    """
    return _build_fcn(
        "fcn_32_mobilenet",
        "fcn_32",
        "mobilenet",
        n_classes,
        input_height,
        input_width,
        activation,
        decoder_activation,
        channels,
        crop,
        fc_filters,
        head,
        logits,
        alpha=alpha,
        depth_multiplier=depth_multiplier,
    )


__all__ = [
    "fcn_32",
    "fcn_32_mobilenet",
    "fcn_32_resnet50",
    "fcn_32_vgg",
    "fcn_8",
    "fcn_8_mobilenet",
    "fcn_8_resnet50",
    "fcn_8_vgg",
    "fcn_output_size",
]
