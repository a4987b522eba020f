"""Decoders: each maps encoder features to per-pixel class logits."""

from mobseg.decoders.fcn import fcn8_decoder, fcn32_decoder
from mobseg.decoders.pspnet import pspnet_decoder
from mobseg.decoders.segnet import segnet_decoder
from mobseg.decoders.unet import unet_decoder, unet_mini_body

__all__ = ["fcn8_decoder", "fcn32_decoder", "pspnet_decoder", "segnet_decoder", "unet_decoder", "unet_mini_body"]
