"""Count the arithmetic a model does per image: multiply-adds (MACs) and FLOPs (= 2 x MACs)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras


@dataclass(frozen=True)
class FlopCount:
    """Multiply-adds per image, in total and per layer (largest first).

    Example:
        >>> count = FlopCount(macs=10, per_layer={"conv": 10})
        >>> count.flops, count.gflops
        (20, 2e-08)
    """

    macs: int
    per_layer: dict[str, int]

    @property
    def flops(self) -> int:
        """Floating-point operations: one multiply and one add per MAC."""
        return 2 * self.macs

    @property
    def gflops(self) -> float:
        """FLOPs in units of 1e9."""
        return self.flops / 1e9


def _layer_macs(layer: keras.layers.Layer) -> int:
    """MACs per image of one layer: convolutions and dense layers (biases, BN, activations ignored)."""
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        kh, kw, c_in, multiplier = layer.kernel.shape
        return kh * kw * c_in * multiplier * math.prod(layer.output.shape[1:3])
    if isinstance(layer, keras.layers.Conv2DTranspose):
        kh, kw, c_out, c_in = layer.kernel.shape
        return kh * kw * c_in * c_out * math.prod(layer.input.shape[1:3])
    if isinstance(layer, keras.layers.SeparableConv2D):
        kh, kw, c_in, multiplier = layer.depthwise_kernel.shape
        c_out = layer.pointwise_kernel.shape[-1]
        return (kh * kw + c_out) * c_in * multiplier * math.prod(layer.output.shape[1:3])
    if isinstance(layer, keras.layers.Conv2D):
        kh, kw, c_in_per_group, c_out = layer.kernel.shape
        return kh * kw * c_in_per_group * c_out * math.prod(layer.output.shape[1:3])
    if isinstance(layer, keras.layers.Dense):
        c_in, c_out = layer.kernel.shape
        return c_in * c_out * math.prod(layer.output.shape[1:-1])
    return 0


def flops(model: keras.Model) -> FlopCount:
    """Multiply-adds and FLOPs of one forward pass on one image, from the layers' shapes.

    Counts Conv2D, DepthwiseConv2D, Conv2DTranspose and Dense (the layers that hold practically
    all the arithmetic of these models); nested models are counted through. The input size must be
    fixed.

    Example:
        >>> import mobseg
        >>> round(flops(mobseg.mobilenet_segnet(2, input_height=416, input_width=416)).gflops, 2)
        25.81
    """
    per_layer: dict[str, int] = {}
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            for name, macs in flops(layer).per_layer.items():
                per_layer[f"{layer.name}/{name}"] = macs
            continue
        macs = _layer_macs(layer)
        if macs:
            per_layer[layer.name] = int(macs)
    ordered = dict(sorted(per_layer.items(), key=lambda item: -item[1]))
    return FlopCount(macs=sum(ordered.values()), per_layer=ordered)
