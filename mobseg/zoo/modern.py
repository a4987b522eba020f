"""Modern mobile segmentation: DeepLabV3+, LR-ASPP, FPN and LinkNet on every mobile encoder.

Names follow one scheme, ``<encoder>_<decoder>`` (timm's "architecture_variant" strings; the keras_segmentation
names ``mobilenet_segnet``, ``vgg_unet`` have the same order), and every decoder is registered on every encoder
of :data:`MODERN_ENCODERS`::

    mobseg.build_model("mobilenetv3_large_lraspp", 12)                   # a registered name
    mobseg.build_model("deeplabv3plus", 12, encoder="mobilenetv2")       # decoder + encoder: the same model
    mobseg.list_models("*_deeplabv3plus")                                  # every DeepLabV3+

Decoders (:mod:`mobseg.decoders`): ``deeplabv3plus`` (ASPP with atrous separable convolutions and image
pooling on f5, a low-level skip from f2), ``lraspp`` (MobileNetV3's Lite R-ASPP: a gated 1x1 head on f5 plus a
classifier on f3), ``fpn`` (a feature pyramid on f2..f5, panoptic-FPN head) and ``linknet`` (light residual
decoder blocks added to f4..f1). All give logits at the input's size. DeepLabV3+ and LR-ASPP take
``output_stride``: 16 (default, the papers' setting) or 8 build the encoder dilated (its last stages keep
stride 1 and dilate their convolutions; same weights, more FLOPs), 32 uses it as designed. FPN and LinkNet
use the whole pyramid at strides 4 to 32 (2 to 32).

Encoders: MobileNet v1 (mobseg's, ``alpha``, ``depth_multiplier``; its ImageNet file is the one offline
weight file, so these four are the models to compare with ``mobilenet_unet`` and ``mobilenet_segnet``),
and the Keras applications MobileNetV2 (``alpha``), MobileNetV3 small / large (``alpha``, ``minimalistic``),
EfficientNet B0-B3 and EfficientNetV2 B0-B1 (:mod:`mobseg.encoders.applications` says why these, how their
preprocessing is recorded and what swapping their activation means).

Input sizes: multiples of 16. f1..f4 then halve exactly; f5 (stride 32) is resized onto f4 (``Resizing``; the
LinkNet block crops its transposed convolution) when a side is an odd multiple of 16, e.g. 176x240 (CamVid).
"""

from __future__ import annotations

from mobseg.decoders.deeplab import deeplabv3plus_decoder
from mobseg.decoders.fpn import fpn_decoder
from mobseg.decoders.linknet import linknet_decoder
from mobseg.decoders.lraspp import lraspp_decoder
from mobseg.encoders.base import check_output_stride
from mobseg.zoo.family import Family, Param

#: The encoders every modern decoder is registered on, in the order of the model list.
MODERN_ENCODERS: tuple[str, ...] = (
    "mobilenet",
    "mobilenetv2",
    "mobilenetv3_small",
    "mobilenetv3_large",
    "efficientnetb0",
    "efficientnetb1",
    "efficientnetb2",
    "efficientnetb3",
    "efficientnetv2b0",
    "efficientnetv2b1",
)

#: How each encoder is named in the models' docstrings.
ENCODER_TITLES: dict[str, str] = {
    "mobilenet": "MobileNet v1 (mobseg's, Keras applications layer names; images in [-1, 1])",
    "mobilenetv2": "MobileNetV2 (keras.applications; images in [-1, 1])",
    "mobilenetv3_small": "MobileNetV3-Small (keras.applications, its own rescaling; images in [0, 255])",
    "mobilenetv3_large": "MobileNetV3-Large (keras.applications, its own rescaling; images in [0, 255])",
    **{
        f"efficientnet{v}": f"EfficientNet{v.upper()} (keras.applications, its own normalization; images in [0, 255])"
        for v in ("b0", "b1", "b2", "b3", "v2b0", "v2b1")
    },
}

OUTPUT_STRIDE = Param("output_stride", 16, check=check_output_stride)

_SIZE = (16, "f1..f4 must halve exactly; f5 at stride 32 is resized onto f4 for odd multiples of 16")
_SIZE_RULE = "height and width multiples of 16 (f1..f4 halve exactly; f5 is resized onto f4 for odd multiples of 16)"

#: DeepLabV3+: ASPP on f5 (output stride 16 by default), low-level skip from f2, logits at the input size.
DEEPLABV3PLUS = Family(
    decoder="deeplabv3plus",
    decode=deeplabv3plus_decoder,
    params=(OUTPUT_STRIDE,),
    encoder_args=("output_stride",),
    input_size=(224, 224),
    size=_SIZE,
    size_rule=_SIZE_RULE,
)

#: LR-ASPP: MobileNetV3's lite head on f5 (output stride 16 by default) and f3, logits at the input size.
LRASPP = Family(
    decoder="lraspp",
    decode=lraspp_decoder,
    params=(OUTPUT_STRIDE,),
    encoder_args=("output_stride",),
    input_size=(224, 224),
    size=_SIZE,
    size_rule=_SIZE_RULE,
)

#: FPN: a feature pyramid on f2..f5 and the panoptic-FPN segmentation head, logits at the input size.
FPN = Family(decoder="fpn", decode=fpn_decoder, input_size=(224, 224), size=_SIZE, size_rule=_SIZE_RULE)

#: LinkNet: residual decoder blocks added to f4..f1, logits at the input size.
LINKNET = Family(decoder="linknet", decode=linknet_decoder, input_size=(224, 224), size=_SIZE, size_rule=_SIZE_RULE)

#: The modern families, in the order of the model list.
MODERN_FAMILIES: tuple[Family, ...] = (DEEPLABV3PLUS, LRASPP, FPN, LINKNET)

#: How the models' docstrings describe each decoder: (title, summary).
DECODER_DOCS: dict[str, tuple[str, str]] = {
    "deeplabv3plus": (
        "DeepLabV3+",
        "DeepLabV3+ (Chen et al. 2018): ASPP with atrous separable convolutions (rates 6, 12, 18 at output "
        "stride 16) and image pooling on f5, a 48-channel low-level skip from f2, two separable 3x3 "
        "convolutions, logits upsampled 4x. ``output_stride``: 16 (default) or 8 dilate the encoder, 32 does not.",
    ),
    "lraspp": (
        "LR-ASPP",
        "LR-ASPP (Howard et al. 2019, MobileNetV3's segmentation head): 128 gated 1x1 features of f5 upsampled to "
        "f3, a classifier on each, logits upsampled 8x. ``output_stride``: 16 (default, as the paper) or 8 dilate "
        "the encoder, 32 does not.",
    ),
    "fpn": (
        "FPN",
        "FPN (Lin et al. 2017; the panoptic-FPN head, as segmentation_models): 256-channel top-down pyramid on "
        "f2..f5, 128-channel 3x3 blocks upsampled to f2 and summed, spatial dropout 0.2, logits upsampled 4x.",
    ),
    "linknet": (
        "LinkNet",
        "LinkNet (Chaurasia & Culurciello 2017): decoder blocks (1x1 reduce, 3x3 transposed convolution x2, 1x1 "
        "expand) added to f4, f3, f2 and f1, a last block to the input size, a 1x1 classifier.",
    ),
}


def model_doc(family: Family, encoder: str) -> str:
    """The docstring of the model ``<encoder>_<decoder>``: what it is, and an example.

    Example:
        >>> model_doc(FPN, "mobilenetv2").splitlines()[0]
        'FPN on the MobileNetV2 (keras.applications; images in [-1, 1]) encoder; logits at the input size.'
    """
    name = f"{encoder}_{family.decoder}"
    title, summary = DECODER_DOCS[family.decoder]
    return (
        f"{title} on the {ENCODER_TITLES[encoder]} encoder; logits at the input size.\n\n"
        f"    {summary}\n\n"
        "    Input sizes are multiples of 16; see :mod:`mobseg.zoo.modern`.\n\n"
        "    Example:\n"
        f'        >>> model = build_model("{name}", 12, input_height=64, input_width=64, head="spatial")\n'
        "        >>> model.output_shape\n"
        "        (None, 64, 64, 12)\n"
    )


for _family in MODERN_FAMILIES:
    for _encoder in MODERN_ENCODERS:
        _family.register(
            f"{_encoder}_{_family.decoder}", encoder=_encoder, doc=model_doc(_family, _encoder), module=__name__
        )

#: Every model of this module, by registry name.
MODERN_MODELS: tuple[str, ...] = tuple(f"{e}_{f.decoder}" for f in MODERN_FAMILIES for e in MODERN_ENCODERS)

__all__ = [
    "DECODER_DOCS",
    "DEEPLABV3PLUS",
    "ENCODER_TITLES",
    "FPN",
    "LINKNET",
    "LRASPP",
    "MODERN_ENCODERS",
    "MODERN_FAMILIES",
    "MODERN_MODELS",
    "OUTPUT_STRIDE",
    "model_doc",
]
