"""Decoders: each maps the encoder's pyramid to per-pixel class logits.

They share one contract (:mod:`mobseg.decoders.base`): ``decoder(pyramid, n_classes, *, level=..., ...)``.
keras_segmentation's (SegNet, U-Net, FCN, PSPNet) and the modern ones (DeepLabV3+, LR-ASPP, FPN, LinkNet; their
blocks in :mod:`mobseg.decoders.blocks`), which work on every encoder's pyramid.
"""

from mobseg.decoders.base import Decoder
from mobseg.decoders.deeplab import deeplabv3plus_decoder
from mobseg.decoders.fcn import fcn8_decoder, fcn32_decoder
from mobseg.decoders.fpn import fpn_decoder
from mobseg.decoders.linknet import linknet_decoder
from mobseg.decoders.lraspp import lraspp_decoder
from mobseg.decoders.pspnet import pspnet_decoder
from mobseg.decoders.segnet import segnet_decoder
from mobseg.decoders.unet import unet_decoder, unet_mini_body, unet_mini_decoder

__all__ = [
    "Decoder",
    "deeplabv3plus_decoder",
    "fcn8_decoder",
    "fcn32_decoder",
    "fpn_decoder",
    "linknet_decoder",
    "lraspp_decoder",
    "pspnet_decoder",
    "segnet_decoder",
    "unet_decoder",
    "unet_mini_body",
    "unet_mini_decoder",
]
