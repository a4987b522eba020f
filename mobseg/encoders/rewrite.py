"""Rebuild a Keras applications network onto mobseg's image input, layer by layer, with the changes mobseg needs.

:func:`rebuild` clones a functional model with ``keras.models.clone_model`` (public API) and a ``call_function``
that creates each layer afresh from its config, so that:

* **names are deterministic**: Keras applications leave some layers unnamed (MobileNetV3's activations, the
  ``Rescaling`` in front of EfficientNet), and Keras numbers unnamed layers by how many were built before in
  the session (``activation_17``). Unnamed layers get the name a fresh session gives them, numbered within the
  network (``rescaling``, ``normalization``: the names in the ImageNet files), and unnamed activations that
  ``activation`` replaces are named after the layer that feeds them (``conv_1_bn`` -> ``conv_1_act``). Named
  layers keep their Keras applications names, so ImageNet weight files load by name;
* **the activation is switchable**: every layer :attr:`Rewrite.is_activation` selects becomes an
  ``Activation``-style layer made by :func:`mobseg.activations.resolve_activation` (same function by default);
  a convolution with a fused activation that is selected is split into the linear convolution and a separate
  activation layer (``<conv>_activation``);
* **the output stride can be 16 or 8** (DeepLab's atrous trick): a stride-2 convolution that would take the
  map past ``output_stride`` keeps stride 1 and it, and every later convolution with a kernel larger than 1,
  is dilated by the factor the stride would have reached; the ``ZeroPadding2D`` in front of such a
  convolution is left out and the convolution pads ``'same'``. No weight changes shape, so ImageNet files still
  load;
* **a layer can follow a named layer** (:attr:`Rewrite.after`): EfficientNet's ImageNet rescaling.

Example:
    >>> app = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(64, 64, 3))
    >>> image = keras.Input((64, 64, 3), name="image")
    >>> out = rebuild(app, image, Rewrite(outputs=("block_5_add", "out_relu"), output_stride=16))
    >>> [tuple(x.shape[1:3]) for x in out]
    [(8, 8), (4, 4)]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import keras

from mobseg.activations import LayerMaker
from mobseg.encoders.base import OUTPUT_STRIDES, check_output_stride

_CONVOLUTIONS = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)


def keras_auto_name(class_name: str) -> str:
    """The name Keras gives the first unnamed layer (or operation) of a class: its snake case.

    Example:
        >>> keras_auto_name("ReLU"), keras_auto_name("BatchNormalization")
        ('re_lu', 'batch_normalization')
    """
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def is_auto_named(operation: keras.Operation) -> bool:
    """True when ``operation`` carries a name Keras made up (``activation``, ``re_lu_3``, ``add_12``).

    Example:
        >>> is_auto_named(keras.layers.ReLU(name="re_lu_4")), is_auto_named(keras.layers.ReLU(name="out_relu"))
        (True, False)
    """
    base = re.escape(keras_auto_name(type(operation).__name__))
    return re.fullmatch(rf"{base}(_\d+)?", operation.name) is not None


@dataclass(frozen=True)
class Rewrite:
    """What :func:`rebuild` changes.

    Attributes:
        outputs: names of the layers whose outputs are returned (the pyramid), in order.
        is_activation: selects the layers (and fused activations) that ``activation`` replaces.
        activation: makes the replacement layer from a name; ``None`` keeps each selected layer's own function
            (as a separate, renamed layer).
        output_stride: 32, 16 or 8 (see the module docstring).
        after: layer name -> a function that makes the layers to apply after it (``x -> x``).

    Example:
        >>> Rewrite(outputs=("out_relu",)).output_stride
        32
    """

    outputs: tuple[str, ...]
    is_activation: Callable[[keras.Operation], bool] = lambda layer: False
    activation: LayerMaker | None = None
    output_stride: int = 32
    after: Mapping[str, Callable[[keras.KerasTensor], keras.KerasTensor]] = field(default_factory=dict)


def _input_strides(model: keras.Model) -> dict[str, int]:
    """The stride of each operation's input map in ``model`` (0 below a global pooling), in graph order."""
    made_by: dict[int, int] = {}  # id(tensor) -> stride of that tensor
    strides: dict[str, int] = {}
    for operation in model.operations:
        if isinstance(operation, keras.layers.InputLayer):
            made_by[id(operation.output)] = 1
            continue
        stride = max((made_by.get(id(t), 1) for t in keras.tree.flatten(operation.input)), default=1)
        strides[operation.name] = stride
        if isinstance(operation, (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)):
            stride = 0
        elif isinstance(operation, _CONVOLUTIONS):
            stride *= operation.get_config()["strides"][0]
        for tensor in keras.tree.flatten(operation.output):
            made_by[id(tensor)] = stride
    return strides


class _Rebuilder:
    """The state of one :func:`rebuild`: new names, tensor producers, the convolutions to dilate."""

    def __init__(self, model: keras.Model, rewrite: Rewrite):
        self.rewrite = rewrite
        self.input_strides = _input_strides(model)
        self.producer: dict[int, str] = {}
        self.counts: dict[str, int] = {}
        self.dropped_pads = self._pads_to_drop(model)

    def _dilation(self, layer: keras.Operation) -> tuple[int, int]:
        """(strides, dilation) of a convolution at the output stride (its own strides and 1 when nothing changes)."""
        strides = layer.get_config()["strides"][0]
        reached = self.input_strides[layer.name] * strides
        if reached <= self.rewrite.output_stride:
            return strides, 1
        return 1, reached // self.rewrite.output_stride

    def _pads_to_drop(self, model: keras.Model) -> set[str]:
        """Names of the ``ZeroPadding2D`` layers in front of a stride-2 convolution that dilation makes stride 1."""
        owner = {id(layer.output): layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)}
        dropped = set()
        for layer in model.layers:
            if isinstance(layer, _CONVOLUTIONS) and layer.get_config()["strides"][0] > self._dilation(layer)[0]:
                source = owner.get(id(layer.input))
                if isinstance(source, keras.layers.ZeroPadding2D):
                    dropped.add(source.name)
        return dropped

    def name(self, operation: keras.Operation, args: tuple) -> str:
        """The operation's new name: its own; for a name Keras made up, the one a fresh session gives (numbered
        within this network), or ``<producer>_act`` for a selected activation (``conv_1_bn`` -> ``conv_1_act``)."""
        if not is_auto_named(operation):
            return operation.name
        if self.rewrite.is_activation(operation):
            source = next(self.producer[id(a)] for a in args if id(a) in self.producer)
            return f"{re.sub(r'_(bn|BN)$', '', source)}_act"
        base = keras_auto_name(type(operation).__name__)
        count = self.counts.get(base, 0)
        self.counts[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    def layer(self, operation: keras.Operation, name: str) -> keras.Operation:
        """A fresh copy of ``operation`` named ``name``: linear if its fused activation is swapped, dilated."""
        config = {**operation.get_config(), "name": name}
        if isinstance(operation, keras.layers.Layer) and self._swaps_fused(operation):
            config["activation"] = "linear"
        if isinstance(operation, _CONVOLUTIONS):
            strides, dilation = self._dilation(operation)
            if strides != config["strides"][0]:
                config.update(strides=(strides, strides), padding="same")
            if dilation > 1 and config["kernel_size"][0] > 1:
                config.update(dilation_rate=(dilation, dilation), padding="same")
        return type(operation).from_config(config)

    def _swaps_fused(self, layer: keras.layers.Layer) -> bool:
        fused = layer.get_config().get("activation", "linear")
        return (
            fused not in (None, "linear")
            and not isinstance(layer, keras.layers.Activation)
            and (self.rewrite.is_activation(layer))
        )

    def activation(self, operation: keras.Operation, name: str) -> keras.layers.Layer:
        """The replacement of a selected activation layer (or of a convolution's fused activation)."""
        if self.rewrite.activation is not None:
            return self.rewrite.activation(name)
        config = operation.get_config()
        if isinstance(operation, keras.layers.ReLU):
            function = "relu6" if config.get("max_value") == 6 else "relu"
        else:
            function = config["activation"]
        return keras.layers.Activation(function, name=name)

    def __call__(self, operation: keras.Operation, *args: Any, **kwargs: Any) -> Any:
        """``clone_model``'s call function: build the new layer(s) for ``operation`` and apply them."""
        if operation.name in self.dropped_pads:
            return args[0]
        name = self.name(operation, args)
        selected = isinstance(operation, keras.layers.Layer) and self.rewrite.is_activation(operation)
        if selected and not self._swaps_fused(operation):
            outputs = self.activation(operation, name)(*args, **kwargs)
        else:
            outputs = self.layer(operation, name)(*args, **kwargs)
            if selected:
                outputs = self.activation(operation, f"{name}_activation")(outputs)
        if name in self.rewrite.after:
            outputs = self.rewrite.after[name](outputs)
        self.producer[id(outputs)] = name
        return outputs


def rebuild(model: keras.Model, inputs: keras.KerasTensor, rewrite: Rewrite) -> list[keras.KerasTensor]:
    """Rebuild ``model`` on ``inputs`` with fresh layers changed as ``rewrite`` says; return the named outputs.

    ``model`` is a functional model (a Keras application) whose input has the same shape as ``inputs``.

    Example:
        >>> app = keras.applications.MobileNetV3Small(include_top=False, weights=None, input_shape=(32, 32, 3))
        >>> image = keras.Input((32, 32, 3), name="image")
        >>> rebuild(app, image, Rewrite(outputs=("conv_1_act",)))[0].shape
        (None, 1, 1, 576)
    """
    rebuilder = _Rebuilder(model, rewrite)
    input_tensors = [inputs] if isinstance(model.input, list) else inputs  # a model built on input_tensor: a list
    clone = keras.models.clone_model(
        model, input_tensors=input_tensors, clone_function=lambda operation: operation, call_function=rebuilder
    )
    missing = [name for name in rewrite.outputs if name not in {layer.name for layer in clone.layers}]
    if missing:
        raise ValueError(f"{model.name}: no layers named {', '.join(missing)} after the rebuild.")
    return [clone.get_layer(name).output for name in rewrite.outputs]


__all__ = ["OUTPUT_STRIDES", "Rewrite", "check_output_stride", "is_auto_named", "keras_auto_name", "rebuild"]
