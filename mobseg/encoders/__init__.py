"""Encoders: each returns an image input and the feature pyramid f1..f5.

keras_segmentation's (vanilla, VGG16, ResNet50, MobileNet v1; built layer by layer) and the modern mobile ones
built from ``keras.applications`` (:mod:`mobseg.encoders.applications`: MobileNetV2, MobileNetV3, EfficientNet).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from mobseg.encoders.applications import (
    APPLICATION_ENCODER_FUNCTIONS,
    efficientnetb0_encoder,
    efficientnetb1_encoder,
    efficientnetb2_encoder,
    efficientnetb3_encoder,
    efficientnetv2b0_encoder,
    efficientnetv2b1_encoder,
    mobilenetv2_encoder,
    mobilenetv3_large_encoder,
    mobilenetv3_small_encoder,
)
from mobseg.encoders.base import OUTPUT_STRIDES, PYRAMID_STRIDES, EncoderFeatures, make_input
from mobseg.encoders.mobilenet import mobilenet_encoder
from mobseg.encoders.resnet50 import resnet50_encoder
from mobseg.encoders.vanilla import vanilla_encoder
from mobseg.encoders.vgg16 import vgg16_encoder

#: Every encoder by name; each takes (input_height, input_width, channels=, activation=, input_tensor=).
ENCODERS: dict[str, Callable[..., EncoderFeatures]] = {
    "mobilenet": mobilenet_encoder,
    "resnet50": resnet50_encoder,
    "vanilla": vanilla_encoder,
    "vgg16": vgg16_encoder,
    **APPLICATION_ENCODER_FUNCTIONS,
}


def get_encoder(name: str) -> Callable[..., EncoderFeatures]:
    """The encoder function registered as ``name``; unknown names list the valid ones.

    Example:
        >>> get_encoder("vgg16").__name__
        'vgg16_encoder'
    """
    if name not in ENCODERS:
        close = difflib.get_close_matches(str(name), list(ENCODERS), n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(f"Unknown encoder {name!r}.{hint} Use one of: {', '.join(sorted(ENCODERS))}.")
    return ENCODERS[name]


__all__ = [
    "ENCODERS",
    "OUTPUT_STRIDES",
    "PYRAMID_STRIDES",
    "EncoderFeatures",
    "efficientnetb0_encoder",
    "efficientnetb1_encoder",
    "efficientnetb2_encoder",
    "efficientnetb3_encoder",
    "efficientnetv2b0_encoder",
    "efficientnetv2b1_encoder",
    "get_encoder",
    "make_input",
    "mobilenet_encoder",
    "mobilenetv2_encoder",
    "mobilenetv3_large_encoder",
    "mobilenetv3_small_encoder",
    "resnet50_encoder",
    "vanilla_encoder",
    "vgg16_encoder",
]
