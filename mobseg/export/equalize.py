"""Per-channel range equalization at concatenations, so that int8 keeps the skip connections' resolution.

Why: TFLite's int8 ``CONCATENATION`` gives all its inputs one scale, the output's, and the converter
pushes that scale back onto the producers. In a U-Net the decoder's upsampled features (BatchNorm output,
ranges of tens) are concatenated with the encoder's ReLU6 skips (range 0..6): the skips, and with them
the encoder tensors they are, were quantized 10-14x coarser than on their own (measured on the CamVid
mobilenet_unet: scales 0.24-0.33 instead of 6/255), and argmax agreement with float32 fell with training.

The fix is exact in float: scale each decoder channel ``c`` feeding the concatenation by ``k_c`` (folded
into the BatchNorm or linear convolution that makes it: ``gamma, beta *= k_c``), and divide the input
weights of the convolution that reads the concatenation by the same ``k_c``. Scaling commutes with the
layers in between (upsampling, zero padding, dropout, pooling, ReLU: ``k * relu(x) = relu(k * x)`` for
``k > 0``). ``k_c`` brings each channel's calibration range to the range of the inputs that cannot be
scaled (the skips), so the shared int8 scale fits every channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

#: Layers a per-channel positive scale passes through unchanged (walking from a concatenation's input back
#: to its producer, or from the concatenation forward to the convolution that reads it).
_PASS_BACK = ("UpSampling2D", "ZeroPadding2D", "Dropout", "MaxPooling2D", "AveragePooling2D", "Resizing")
_PASS_FORWARD = ("ZeroPadding2D", "Dropout", "UpSampling2D")
_HOMOGENEOUS = ("relu", "linear", "leaky_relu")


def _producers(config: dict) -> dict[str, list[str]]:
    """Layer name -> names of the layers whose outputs it takes, from the functional config."""

    def names(value: Any) -> list[str]:
        if isinstance(value, dict):
            history = value.get("config", {}).get("keras_history") if value.get("class_name") else None
            if history:
                return [history[0]]
            return [n for v in value.values() for n in names(v)]
        if isinstance(value, (list, tuple)):
            return [n for v in value for n in names(v)]
        return []

    return {layer["name"]: names(layer.get("inbound_nodes", [])) for layer in config["layers"]}


def _passes_scale(layer: keras.layers.Layer) -> bool:
    kind = type(layer).__name__
    if kind in _PASS_BACK:
        return True
    config = layer.get_config()
    if kind == "Activation":
        return config.get("activation") in _HOMOGENEOUS
    if kind == "ReLU":
        return config.get("max_value") is None and not config.get("threshold")
    return kind == "LeakyReLU"


def _is_linear_conv(layer: keras.layers.Layer) -> bool:
    config = layer.get_config()
    return (
        type(layer).__name__ == "Conv2D"
        and config.get("activation") in _HOMOGENEOUS
        and config.get("data_format") == "channels_last"
    )


def _is_full_batchnorm(layer: keras.layers.Layer) -> bool:
    config = layer.get_config()
    return (
        type(layer).__name__ == "BatchNormalization"
        and bool(config.get("scale"))
        and bool(config.get("center"))
        and config.get("axis") in (-1, 3, [-1], [3])
    )


class _Graph:
    """Who feeds whom in a functional model."""

    def __init__(self, model: keras.Model):
        self.model = model
        self.inputs = _producers(model.get_config())
        self.outputs: dict[str, list[str]] = {name: [] for name in self.inputs}
        for name, sources in self.inputs.items():
            for source in sources:
                self.outputs[source].append(name)

    def _single(self, name: str) -> bool:
        return len(self.outputs.get(name, [])) == 1 and len(self.inputs.get(name, [])) == 1

    def producer(self, name: str) -> dict[str, str] | None:
        """Walk back from ``name`` through scale-preserving layers to where a per-channel scale can be folded.

        ``{"conv": c}``: a Conv2D (linear or ReLU); ``{"conv": c, "bn": b}``: a BatchNorm right after a
        linear convolution (the converter folds it into the convolution); ``{"conv": c, "act": a, "bn": b}``:
        a BatchNorm after a ReLU-like activation (keras_segmentation's U-Net decoder), folded back through
        the activation into the convolution, so that no per-channel multiplier is left for int8 to flatten.
        """
        while self._single(name):
            layer = self.model.get_layer(name)
            if _is_linear_conv(layer):
                return {"conv": name}
            if _is_full_batchnorm(layer):
                return self._batchnorm(name)
            if not _passes_scale(layer):
                return None
            name = self.inputs[name][0]
        return None

    def _batchnorm(self, bn: str) -> dict[str, str] | None:
        before = self.inputs[bn][0]
        layer = self.model.get_layer(before)
        if self._single(before) and _is_linear_conv(layer):
            through = layer.get_config().get("activation") != "linear"  # conv(relu) -> BN: fold through the relu
            return {"conv": before, "bn": bn, **({"act": f"{before}.activation"} if through else {})}
        if self._single(before) and type(layer).__name__ != "BatchNormalization" and _passes_scale(layer):
            conv = self.inputs[before][0]
            if len(self.outputs.get(conv, [])) == 1 and _is_linear_conv(self.model.get_layer(conv)):
                return {"conv": conv, "act": before, "bn": bn}
        return None

    def reader(self, concat: str) -> str | None:
        """Walk forward from the concatenation to the one Conv2D that reads it."""
        name = concat
        while len(self.outputs.get(name, [])) == 1:
            name = self.outputs[name][0]
            layer = self.model.get_layer(name)
            if type(layer).__name__ == "Conv2D":
                config = layer.get_config()
                ok = config.get("groups", 1) == 1 and config.get("data_format") == "channels_last"
                return name if ok else None
            if type(layer).__name__ not in _PASS_FORWARD:
                return None
        return None


def _channel_ranges(model: keras.Model, names: list[str], samples: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """Max |x| per channel of each named layer's output over the samples."""
    probe = keras.Model(model.inputs, [model.get_layer(n).output for n in names])
    ranges = {n: None for n in names}
    for start in range(0, len(samples), 8):
        x = np.stack([np.asarray(s, np.float32).reshape(model.inputs[0].shape[1:]) for s in samples[start : start + 8]])
        outputs = probe([x], training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for name, y in zip(names, outputs, strict=True):
            peak = np.abs(keras.ops.convert_to_numpy(y)).reshape(-1, y.shape[-1]).max(axis=0)
            ranges[name] = peak if ranges[name] is None else np.maximum(ranges[name], peak)
    return ranges


def _plan(graph: _Graph) -> list[dict[str, Any]]:
    """For each concatenation with a reading convolution: its inputs, channel offsets, absorbing producers."""
    plans = []
    for layer in graph.model.layers:
        if type(layer).__name__ != "Concatenate" or layer.get_config().get("axis") not in (-1, 3):
            continue
        reader = graph.reader(layer.name)
        if reader is None:
            continue
        entries, offset = [], 0
        for source in graph.inputs[layer.name]:
            width = int(graph.model.get_layer(source).output.shape[-1])
            entries.append({"input": source, "offset": offset, "width": width, "producer": graph.producer(source)})
            offset += width
        if any(e["producer"] for e in entries):
            plans.append({"concat": layer.name, "reader": reader, "inputs": entries})
    return plans


def _scale_conv(conv: keras.layers.Layer, k: np.ndarray) -> None:
    """Multiply output channel ``c`` of a Conv2D by ``k[c]`` (kernel and bias)."""
    kernel, *rest = conv.get_weights()
    conv.set_weights([kernel * k, *(b * k for b in rest)])


def _apply(model: keras.Model, producer: dict[str, str], reader: str, offset: int, k: np.ndarray) -> None:
    """Scale the producer's channels by ``k`` and divide the reading convolution's input weights by it."""
    conv = model.get_layer(producer["conv"])
    if "bn" not in producer:
        _scale_conv(conv, k)
    elif "act" not in producer:  # conv -> BN: the converter folds the BN, so scaling gamma and beta is enough
        bn = model.get_layer(producer["bn"])
        gamma, beta, mean, var = bn.get_weights()
        bn.set_weights([gamma * k, beta * k, mean, var])
    else:  # conv -> act -> BN: y = a * act(z) + b = sign(a) * act(|a| z) + b, then times k
        bn = model.get_layer(producer["bn"])
        gamma, beta, mean, var = bn.get_weights()
        epsilon = bn.get_config()["epsilon"]
        a = gamma / np.sqrt(var + epsilon)
        b = beta - a * mean
        _scale_conv(conv, k * np.abs(a))
        ones = np.ones_like(var)
        bn.set_weights([np.sign(a).astype(gamma.dtype), (k * b).astype(beta.dtype), 0 * mean, ones - epsilon])
    reader_layer = model.get_layer(reader)
    kernel, *rest = reader_layer.get_weights()
    kernel = kernel.copy()
    kernel[:, :, offset : offset + len(k), :] /= k[:, None]
    reader_layer.set_weights([kernel, *rest])


def equalize_concat_ranges(
    model: keras.Model, samples: Sequence[np.ndarray]
) -> tuple[keras.Model, list[dict[str, Any]]]:
    """A copy of ``model`` with the channels entering each concatenation rescaled as the module doc says.

    ``samples``: preprocessed calibration images. Returns ``(copy, report)``; the copy computes the same
    function (float rounding aside) and ``model`` is not changed. ``report`` lists each rescaled input
    with its channel ranges before and the target range. Models without such concatenations come back
    as an unchanged copy with an empty report.

    Example:
        >>> import mobseg
        >>> from mobseg.export import deployment_model
        >>> m = deployment_model(mobseg.mobilenet_unet(3, input_height=64, input_width=64))
        >>> copy, report = equalize_concat_ranges(m, [np.zeros((64, 64, 3), np.float32)])
        >>> [entry["concat"] for entry in report]
        ['unet_concat_2', 'unet_concat_3', 'unet_concat_4']
    """
    plans = _plan(_Graph(model))
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    if not plans:
        return copy, []
    names = sorted({e["input"] for p in plans for e in p["inputs"]})
    ranges = _channel_ranges(model, names, samples)
    report = []
    for plan in plans:
        fixed = [ranges[e["input"]] for e in plan["inputs"] if not e["producer"]]
        scalable = [ranges[e["input"]] for e in plan["inputs"] if e["producer"]]
        target = float(np.max(np.concatenate(fixed))) if fixed else float(np.median(np.concatenate(scalable)))
        for entry in plan["inputs"]:
            if not entry["producer"] or target <= 0:
                continue
            peak = ranges[entry["input"]]
            k = np.where(peak > 1e-3 * target, target / np.maximum(peak, 1e-12), 1.0).astype(np.float32)
            _apply(copy, entry["producer"], plan["reader"], entry["offset"], k)
            report.append(
                {
                    "concat": plan["concat"],
                    "input": entry["input"],
                    "producer": " -> ".join(
                        entry["producer"][key] for key in ("conv", "act", "bn") if key in entry["producer"]
                    ),
                    "range_before": [round(float(peak.min()), 4), round(float(peak.max()), 4)],
                    "target": round(target, 4),
                }
            )
    return copy, report


__all__ = ["equalize_concat_ranges"]
