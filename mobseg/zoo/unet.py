"""U-Net-family models: ``unet_mini``, ``unet``, ``vgg_unet``, ``resnet50_unet``, ``mobilenet_unet``.

keras_segmentation's ``_unet``: the encoder's f4 (stride 16) is decoded with skip connections from f3, f2 and
f1 to stride 2, so the output is 1/2 of the input. The ReLU of the original sits inside each decoder
convolution, i.e. before BatchNormalization; ``decoder_activation`` replaces it (``None`` removes it).
``unet_mini`` (its own small encoder, :mod:`mobseg.encoders.unet_mini`) is the :data:`UNET_MINI` family's one
model. Each model is one decorated function (see :mod:`mobseg.zoo.family`).
"""

from __future__ import annotations

from mobseg.decoders.unet import unet_decoder, unet_mini_decoder
from mobseg.zoo.family import Family, Param

#: The pyramid level the U-Net decoder starts from (f4); the original always uses it.
UNET_ENCODER_LEVEL = 3


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


#: keras_segmentation's ``_unet`` (with ``l1_skip_conn=True``): encoder -> U-Net decoder -> head.
UNET = Family(
    decoder="unet",
    decode=unet_decoder,
    encoder_level=Param("encoder_level", UNET_ENCODER_LEVEL, check=check_unet_encoder_level),
    input_size=(416, 608),
    size=(16, "f4 at stride 16 is upsampled x2 three times and joined with f3, f2, f1"),
    size_rule="height and width multiples of 16 (f4, stride 16, is upsampled and joined with f3, f2, f1)",
)

#: keras_segmentation's ``unet_mini``: its own three-level encoder, two decoder levels, output the input's size.
UNET_MINI = Family(
    decoder="unet_mini",
    decode=unet_mini_decoder,
    level=2,
    decoder_args=("decoder_activation", "dropout"),
    input_size=(360, 480),
    size=(4, "two 2x2 poolings are undone by two x2 upsamplings and skips"),
    size_rule="height and width multiples of 4 (two poolings)",
)


@UNET_MINI.model(encoder="unet_mini")
def unet_mini():
    """keras_segmentation's ``unet_mini``: a small U-Net (32-64-128 filters), output the input's size.

    See :func:`mobseg.decoders.unet_mini_body`. ``activation`` is used in the three encoder levels and
    ``decoder_activation`` in the two decoder levels (both ReLU in the original). Images are scaled to [0, 1].

    Example:
        >>> unet_mini(12, input_height=32, input_width=32).count_params()
        471916
    """


@UNET.model(encoder="vanilla")
def unet():
    """keras_segmentation's ``unet``: the vanilla encoder + U-Net decoder; output 1/2 of the input.

    Faithful flaw, fixed differently: the original accepts ``encoder_level`` and ignores it (always f4);
    here any value other than 3 raises a ``ValueError`` instead of being silently ignored.

    Example:
        >>> unet(12, input_height=64, input_width=64).output_shape
        (None, 1024, 12)
    """


@UNET.model(encoder="vgg16")
def vgg_unet():
    """keras_segmentation's ``vgg_unet``: VGG16 encoder + U-Net decoder; output 1/2 of the input.

    Faithful flaw, fixed differently: the original accepts ``encoder_level`` and ignores it (always f4);
    here any value other than 3 raises a ``ValueError``. The original VGG16 encoder asserts multiples of 32;
    the graph only needs 16.

    Example:
        >>> vgg_unet(12, input_height=64, input_width=64).output_shape
        (None, 1024, 12)
    """


@UNET.model(encoder="resnet50")
def resnet50_unet():
    """keras_segmentation's ``resnet50_unet``: ResNet50 encoder + U-Net decoder; output 1/2 of the input.

    Faithful flaws: ``encoder_level`` is ignored by the original (here: values other than 3 raise a
    ``ValueError``); the f1 skip is ResNet's raw ``conv1_conv`` output, before BatchNormalization and ReLU
    (kept; see :mod:`mobseg.encoders.resnet50`).

    Example:
        >>> resnet50_unet(12, input_height=64, input_width=64).output_shape
        (None, 1024, 12)
    """


@UNET.model(encoder="mobilenet", input_size=(224, 224))
def mobilenet_unet():
    """keras_segmentation's ``mobilenet_unet``: MobileNet v1 encoder + U-Net decoder; output 1/2 of the input.

    Faithful flaw, fixed differently: the original accepts ``encoder_level`` and ignores it (always f4);
    here any value other than 3 raises a ``ValueError``. The original MobileNet encoder only accepts
    224x224 inputs; here any multiple of 16 works, and ``alpha``/``depth_multiplier`` are additions.

    Example:
        >>> mobilenet_unet(12, input_height=64, input_width=64).output_shape
        (None, 1024, 12)
    """


__all__ = [
    "UNET",
    "UNET_ENCODER_LEVEL",
    "UNET_MINI",
    "check_unet_encoder_level",
    "mobilenet_unet",
    "resnet50_unet",
    "unet",
    "unet_mini",
    "vgg_unet",
]
