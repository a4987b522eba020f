"""Mixed precision: train in bfloat16 or float16, keep the softmax, the loss and BatchNorm statistics in float32.

``mobseg.train(mixed_precision="bfloat16")`` / ``mobseg train --mixed-precision`` trains a copy of the model
whose layers use Keras' ``mixed_bfloat16`` (or ``mixed_float16``) dtype policy: weights stay float32 and
computations run in 16 bits. What stays float32:

* the model's output layer (the Softmax, or the last layer of a logits model): :func:`with_precision` gives
  it the ``float32`` policy, so probabilities are never rounded to 16 bits;
* the loss: Keras losses cast predictions to their own dtype, float32;
* BatchNormalization statistics: Keras' BatchNormalization upcasts 16-bit inputs to float32 itself, and its
  moving mean and variance are float32 variables.

float16 (not bfloat16) has a narrow range, so its gradients are scaled: :func:`loss_scaled` wraps the
optimizer in ``keras.optimizers.LossScaleOptimizer``. Every ``.keras`` file a run writes, and the model
``train`` returns, are float32 (:func:`float32_model`): they load and predict in float32 anywhere.
"""

from __future__ import annotations

import copy
from typing import Any

import keras

#: Values of ``mixed_precision=`` (``None``: float32 throughout).
MIXED_PRECISIONS: tuple[str, ...] = ("bfloat16", "float16")


def check_mixed_precision(value: Any) -> str | None:
    """``None``/``False`` -> ``None``; ``True`` -> ``"bfloat16"``; ``"bfloat16"``/``"float16"`` (or ``"mixed_..."``).

    Example:
        >>> check_mixed_precision("mixed_float16"), check_mixed_precision(True), check_mixed_precision(None)
        ('float16', 'bfloat16', None)
    """
    if value is None or value is False:
        return None
    if value is True:
        return "bfloat16"
    name = str(value).lower().removeprefix("mixed_")
    if name not in MIXED_PRECISIONS:
        raise ValueError(
            f"mixed_precision={value!r} is unknown; use 'bfloat16' (CPUs with AVX-512 BF16, recent GPUs), "
            "'float16' (older GPUs) or None."
        )
    return name


def is_mixed(model: keras.Model) -> bool:
    """True when some layer of ``model`` computes in a 16-bit float.

    Example:
        >>> import mobseg
        >>> is_mixed(mobseg.mobilenet_segnet(2, input_height=32, input_width=32))
        False
    """
    return any(layer.compute_dtype in ("float16", "bfloat16") for layer in model.layers)


def _set_policies(config: dict[str, Any], policy: str) -> None:
    """Give every layer of a functional ``config`` the dtype ``policy``, its output layers ``float32`` (in place)."""
    outputs = {entry[0] for entry in config.get("output_layers", [])}
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            continue
        inner = layer["config"]
        if "layers" in inner:  # a nested functional model
            _set_policies(inner, policy)
        if "dtype" in inner:
            inner["dtype"] = "float32" if layer["name"] in outputs else policy


def with_precision(model: keras.Model, precision: str | None) -> keras.Model:
    """A copy of functional ``model`` (same weights) computing in ``precision`` (``None``: float32 everywhere).

    With ``"bfloat16"`` / ``"float16"`` every layer gets the ``mixed_...`` policy except the output layer,
    which stays float32; weights (and BatchNorm statistics) are float32 in every case.

    Example:
        >>> import mobseg
        >>> model = mobseg.mobilenet_segnet(2, input_height=32, input_width=32)
        >>> mixed = with_precision(model, "bfloat16")
        >>> mixed.layers[1].compute_dtype, mixed.layers[-1].compute_dtype
        ('bfloat16', 'float32')
    """
    policy = f"mixed_{check_mixed_precision(precision)}" if precision else "float32"
    config = copy.deepcopy(model.get_config())
    _set_policies(config, policy)
    result = type(model).from_config(config)
    result.set_weights(model.get_weights())
    return result


def float32_model(model: keras.Model) -> keras.Model:
    """``model`` itself when it computes in float32, else a float32 copy with the same weights (to save it).

    Example:
        >>> import mobseg
        >>> model = mobseg.mobilenet_segnet(2, input_height=32, input_width=32)
        >>> float32_model(model) is model
        True
    """
    return with_precision(model, None) if is_mixed(model) else model


def loss_scaled(model: keras.Model, optimizer: keras.optimizers.Optimizer) -> keras.optimizers.Optimizer:
    """``optimizer`` wrapped in ``LossScaleOptimizer`` when ``model`` computes in float16 (dynamic loss scaling).

    Example:
        >>> import mobseg
        >>> model = with_precision(mobseg.mobilenet_segnet(2, input_height=32, input_width=32), "float16")
        >>> type(loss_scaled(model, keras.optimizers.Adam())).__name__
        'LossScaleOptimizer'
    """
    float16 = any(layer.compute_dtype == "float16" for layer in model.layers)
    if float16 and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


__all__ = [
    "MIXED_PRECISIONS",
    "check_mixed_precision",
    "float32_model",
    "is_mixed",
    "loss_scaled",
    "with_precision",
]
