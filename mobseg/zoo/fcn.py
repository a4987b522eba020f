"""FCN-family models: ``fcn_8``/``fcn_32`` on the vanilla, VGG16, ResNet50 and MobileNet encoders.

keras_segmentation's ``fcn_8`` and ``fcn_32`` (see :mod:`mobseg.decoders.fcn`). Faithful flaw, kept by
default: the output is 8 px (FCN-8) or 32 px (FCN-32) larger than the input in height and width, since the
final ``'valid'`` transposed convolution is never cropped back; ``crop=True`` crops it to the input's grid
(no parameter changes). The 7x7 convolution to 4096 channels on f5 dominates the parameter count
(49 x C5 x 4096 weights: 51M on the vanilla encoder, 103M on VGG16, 411M on ResNet50's 2048 channels);
``fc_filters`` (an addition, default 4096) narrows it. Each model is one decorated function of the
:data:`FCN_8` or :data:`FCN_32` family (see :mod:`mobseg.zoo.family`).
"""

from __future__ import annotations

from dataclasses import replace

from mobseg.decoders.fcn import FCN_EXCESS, FCN_FC_FILTERS, fcn8_decoder, fcn32_decoder
from mobseg.zoo.family import Family, Param


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


#: What every FCN model's docstring says about the faithful flaw and the additions (for ``{notes}``).
_FCN_NOTES = (
    "Faithful flaw, kept by default: the output is {excess} px larger than the input in height and width\n"
    "(never cropped back); ``crop=True`` crops it to the input's size with no parameter change.\n"
    "``decoder_activation`` replaces the ReLU after the two 4096-channel convolutions; ``fc_filters``\n"
    "narrows them (an addition; any value but 4096 changes the parameter count)."
)


def _check_crop(crop: object) -> bool:
    if not isinstance(crop, bool):
        raise ValueError(f"crop must be True or False; got {crop!r}.")
    return crop


#: keras_segmentation's ``fcn_8``: the FCN classifier on f5, fused with f4 and f3.
FCN_8 = Family(
    decoder="fcn_8",
    decode=fcn8_decoder,
    params=(Param("crop", False, "bool", check=_check_crop), Param("fc_filters", FCN_FC_FILTERS)),
    decoder_args=("decoder_activation", "crop", "fc_filters"),
    input_size=(416, 608),
    size=(32, "f5 at stride 32 is upsampled back to the input's grid"),
    size_rule="height and width multiples of 32 (f5, stride 32, is upsampled and fused with f4 and f3)",
    notes=_FCN_NOTES.format(excess=FCN_EXCESS["fcn_8"]),
)

#: keras_segmentation's ``fcn_32``: the FCN classifier on f5, upsampled 32x.
FCN_32 = replace(
    FCN_8,
    decoder="fcn_32",
    decode=fcn32_decoder,
    size_rule="height and width multiples of 32 (f5, stride 32, is upsampled 32x)",
    notes=_FCN_NOTES.format(excess=FCN_EXCESS["fcn_32"]),
)


@FCN_8.model(encoder="vanilla")
def fcn_8():
    """keras_segmentation's ``fcn_8``: the vanilla encoder + the FCN-8 decoder.

    {notes}

    Example:
        >>> fcn_8(12, input_height=64, input_width=64, head="spatial").output_shape
        (None, 72, 72, 12)
    """


@FCN_32.model(encoder="vanilla")
def fcn_32():
    """keras_segmentation's ``fcn_32``: the vanilla encoder + the FCN-32 decoder.

    {notes}

    Example:
        >>> fcn_32(12, input_height=64, input_width=64, head="spatial").output_shape
        (None, 96, 96, 12)
    """


@FCN_8.model(encoder="vgg16")
def fcn_8_vgg():
    """keras_segmentation's ``fcn_8_vgg``: VGG16 + the FCN-8 decoder.

    {notes}

    Example:
        >>> fcn_8_vgg(12, input_height=64, input_width=64, head="spatial").output_shape
        (None, 72, 72, 12)
    """


@FCN_32.model(encoder="vgg16")
def fcn_32_vgg():
    """keras_segmentation's ``fcn_32_vgg``: VGG16 + the FCN-32 decoder.

    {notes}

    Example:
        >>> fcn_32_vgg(12, input_height=64, input_width=64, head="spatial").output_shape
        (None, 96, 96, 12)
    """


@FCN_8.model(encoder="resnet50")
def fcn_8_resnet50():
    """keras_segmentation's ``fcn_8_resnet50``: ResNet50 + the FCN-8 decoder.

    {notes}

    See :mod:`mobseg.encoders.resnet50` for the encoder's quirks.

    Example:
        >>> fcn_8_resnet50(12, input_height=64, input_width=64, head="spatial").output_shape
        (None, 72, 72, 12)
    """


@FCN_32.model(encoder="resnet50")
def fcn_32_resnet50():
    """keras_segmentation's ``fcn_32_resnet50``: ResNet50 + the FCN-32 decoder.

    {notes}

    See :mod:`mobseg.encoders.resnet50` for the encoder's quirks.

    Example:
        >>> fcn_32_resnet50(12, input_height=64, input_width=64, head="spatial").output_shape
        (None, 96, 96, 12)
    """


@FCN_8.model(encoder="mobilenet")
def fcn_8_mobilenet():
    """keras_segmentation's ``fcn_8_mobilenet``: MobileNet v1 + the FCN-8 decoder.

    {notes}

    keras_segmentation's MobileNet encoder asserts 224x224 inputs, so the original cannot build this model
    at its own default 416x608; mobseg can (any multiple of 32).

    Example:
        >>> fcn_8_mobilenet(12, input_height=64, input_width=64, head="spatial").output_shape
        (None, 72, 72, 12)
    """


@FCN_32.model(encoder="mobilenet")
def fcn_32_mobilenet():
    """keras_segmentation's ``fcn_32_mobilenet``: MobileNet v1 + the FCN-32 decoder.

    {notes}

    keras_segmentation's MobileNet encoder asserts 224x224 inputs, so the original cannot build this model
    at its own default 416x608; mobseg can (any multiple of 32).

    Example:
        >>> fcn_32_mobilenet(12, input_height=64, input_width=64, head="spatial").output_shape
        (None, 96, 96, 12)
    """


__all__ = [
    "FCN_32",
    "FCN_8",
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
