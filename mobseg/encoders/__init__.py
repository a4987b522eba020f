"""Encoders: each returns an image input and the feature pyramid f1..f5."""

from mobseg.encoders.base import PYRAMID_STRIDES, EncoderFeatures
from mobseg.encoders.mobilenet import mobilenet_encoder

__all__ = ["PYRAMID_STRIDES", "EncoderFeatures", "mobilenet_encoder"]
