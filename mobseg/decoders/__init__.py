"""Decoders: each maps the encoder's pyramid to per-pixel class logits.

They share one contract (:mod:`mobseg.decoders.base`): ``decoder(pyramid, n_classes, *, level=..., ...)``.
"""

from mobseg.decoders.base import Decoder
from mobseg.decoders.fcn import fcn8_decoder, fcn32_decoder
from mobseg.decoders.pspnet import pspnet_decoder
from mobseg.decoders.segnet import segnet_decoder
from mobseg.decoders.unet import unet_decoder, unet_mini_body, unet_mini_decoder

__all__ = [
    "Decoder",
    "fcn8_decoder",
    "fcn32_decoder",
    "pspnet_decoder",
    "segnet_decoder",
    "unet_decoder",
    "unet_mini_body",
    "unet_mini_decoder",
]
