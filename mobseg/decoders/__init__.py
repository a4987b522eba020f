"""Decoders: each maps encoder features to per-pixel class logits."""

from mobseg.decoders.segnet import segnet_decoder

__all__ = ["segnet_decoder"]
