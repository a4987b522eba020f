"""SegNet-family models: ``segnet``, ``vgg_segnet``, ``resnet50_segnet``, ``mobilenet_segnet``.

keras_segmentation's ``_segnet``: the encoder's level ``encoder_level`` (default 3, f4 at stride 16) goes
through the SegNet decoder (three x2 upsamplings), so the output is 1/2 of the input at the default level.
Each model is one decorated function of the :data:`SEGNET` family (see :mod:`mobseg.zoo.family`).
"""

from __future__ import annotations

from fractions import Fraction

from mobseg.decoders.segnet import segnet_decoder
from mobseg.encoders.base import PYRAMID_STRIDES
from mobseg.zoo.family import Family, Param

#: Decoder upsampling steps of keras_segmentation's ``_segnet`` (fixed there).
SEGNET_N_UP = 3


def check_encoder_level(encoder_level: object) -> int:
    """Validate ``encoder_level`` (0..4 selects f1..f5).

    Example:
        >>> check_encoder_level(3)
        3
    """
    if isinstance(encoder_level, bool) or not isinstance(encoder_level, int) or not 0 <= encoder_level <= 4:
        raise ValueError(
            f"encoder_level={encoder_level!r} is out of range: use 0, 1, 2, 3 or 4 (pyramid levels "
            f"f1..f5, strides {', '.join(map(str, PYRAMID_STRIDES))}). The article uses 3."
        )
    return encoder_level


def segnet_output_size(input_height: int, input_width: int, encoder_level: int = 3) -> tuple[int, int]:
    """Output (height, width) of a SegNet model: ``input * 2**3 / stride(encoder_level)``.

    encoder_level 0..4 gives 4x, 2x, 1x, 1/2 (the article's default) and 1/4 of the input.

    Example:
        >>> segnet_output_size(416, 416)
        (208, 208)
    """
    stride = PYRAMID_STRIDES[check_encoder_level(encoder_level)]
    scale = 2**SEGNET_N_UP
    return input_height * scale // stride, input_width * scale // stride


def _scale_words(scale: Fraction) -> str:
    return f"{scale} of" if scale < 1 else f"{scale}x"


def _segnet_size(encoder_level: int) -> tuple[int, str]:
    """The input multiple for ``encoder_level`` (the stride of its map) and why."""
    stride = PYRAMID_STRIDES[encoder_level]
    scale = _scale_words(Fraction(2**SEGNET_N_UP, stride))
    return stride, (
        f"encoder_level={encoder_level} takes features at stride {stride}, which the decoder maps back "
        f"to exactly {scale} the input size"
    )


#: keras_segmentation's ``_segnet``: ``encoder`` level ``encoder_level`` -> SegNet decoder -> head.
SEGNET = Family(
    decoder="segnet",
    decode=segnet_decoder,
    encoder_level=Param("encoder_level", 3, check=check_encoder_level),
    decoder_options={"n_up": SEGNET_N_UP},
    decoder_activation=None,
    input_size=(416, 608),
    size=_segnet_size,
    size_rule="height and width multiples of 2**(encoder_level+1) (16 at the default level 3)",
    notes=(
        "Faithful flaw, kept by default: the decoder has no nonlinearity between its convolutions.\n"
        'Pass ``decoder_activation="relu"`` (or any activation) to add one.'
    ),
)


@SEGNET.model(encoder="vanilla")
def segnet():
    """keras_segmentation's ``segnet``: the vanilla encoder + SegNet decoder; output 1/2 of the input.

    {notes} ``channels`` is an addition
    (the original's SegNets are RGB only).

    Example:
        >>> segnet(12, input_height=64, input_width=64).output_shape
        (None, 1024, 12)
    """


@SEGNET.model(encoder="vgg16")
def vgg_segnet():
    """keras_segmentation's ``vgg_segnet``: VGG16 encoder (f4, 512 channels) + SegNet decoder.

    {notes} The original VGG16 encoder asserts
    input multiples of 32 even though level 3 only needs 16; mobseg checks what the graph needs.

    Example:
        >>> vgg_segnet(12, input_height=64, input_width=64).output_shape
        (None, 1024, 12)
    """


@SEGNET.model(encoder="resnet50")
def resnet50_segnet():
    """keras_segmentation's ``resnet50_segnet``: ResNet50 encoder (f4, 1024 channels) + SegNet decoder.

    {notes} See
    :mod:`mobseg.encoders.resnet50` for the encoder's quirks (f1 before BN, one-side-padded f2).

    Example:
        >>> resnet50_segnet(12, input_height=64, input_width=64).output_shape
        (None, 1024, 12)
    """


@SEGNET.model(encoder="mobilenet", input_size=(224, 224))
def mobilenet_segnet():
    """The MobileNet-SegNet of the article: MobileNet v1 encoder + SegNet decoder + Reshape/Softmax.

    ``mobilenet_segnet(2, input_height=416, input_width=416)`` matches the article's
    ``summary()`` row by row (5,541,378 parameters). The output is 1/2 of the input at the
    default ``encoder_level=3`` (see :func:`segnet_output_size`), flattened to
    ``(H/2 * W/2, n_classes)`` with ``head="flat"`` or kept ``(H/2, W/2, n_classes)`` with
    ``head="spatial"``; ``logits=True`` leaves out the softmax.

    {notes}

    Example:
        >>> model = mobilenet_segnet(2, input_height=416, input_width=416)
        >>> model.count_params()
        5541378
    """


__all__ = [
    "SEGNET",
    "SEGNET_N_UP",
    "check_encoder_level",
    "mobilenet_segnet",
    "resnet50_segnet",
    "segnet",
    "segnet_output_size",
    "vgg_segnet",
]
