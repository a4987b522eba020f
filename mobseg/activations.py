"""One activation resolver for every encoder and decoder in mobseg.

Every model takes ``activation=`` the same way. A spec may be:

* a name from :func:`list_activations` (``"relu6"``, ``"gelu"``, ``"prelu"``, ...);
* a Keras activation function (``keras.activations.gelu``) or a registered serializable one;
* a Keras layer class (``keras.layers.ReLU``) or instance (``keras.layers.LeakyReLU(0.1)``),
  cloned for each use so no weights are shared;
* a callable with no arguments that returns a fresh layer (``lambda: keras.layers.ELU(0.5)``).

All names map to plain, serializable Keras layers (no ``Lambda``), so saved models load with
``keras.saving.load_model(path)`` and the default ``safe_mode=True``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import keras

ActivationSpec = str | Callable[..., Any] | keras.layers.Layer | type | dict

#: Names resolved to ``keras.layers.Activation(<keras activation>)``.
_FUNCTION_NAMES: dict[str, str] = {
    "relu6": "relu6",
    "relu": "relu",
    "leaky_relu": "leaky_relu",
    "elu": "elu",
    "selu": "selu",
    "gelu": "gelu",
    "swish": "silu",
    "silu": "silu",
    "hard_swish": "hard_silu",
    "hard_silu": "hard_silu",
    "mish": "mish",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "softplus": "softplus",
    "linear": "linear",
}

#: Names resolved to a layer with weights: PReLU learns one slope per channel.
_LAYER_NAMES: dict[str, Callable[[str], keras.layers.Layer]] = {
    "prelu": lambda name: keras.layers.PReLU(shared_axes=[1, 2], name=name),
}

LayerMaker = Callable[[str | None], keras.layers.Layer]


def list_activations() -> list[str]:
    """Return the activation names mobseg knows, sorted.

    Example:
        >>> "relu6" in list_activations()
        True
    """
    return sorted({*_FUNCTION_NAMES, *_LAYER_NAMES})


def _clone_layer(layer: keras.layers.Layer, name: str) -> keras.layers.Layer:
    config = layer.get_config()
    config["name"] = name
    return layer.__class__.from_config(config)


def _is_keras_activation_function(fn: Callable[..., Any]) -> bool:
    """True if ``fn`` is a Keras built-in or registered activation function."""
    if isinstance(fn, (type, keras.layers.Layer)):
        return False
    try:
        return keras.activations.get(keras.saving.get_registered_name(fn)) is fn
    except Exception:  # unknown names raise ValueError; exotic objects anything else
        return False


def resolve_activation(spec: ActivationSpec, *, argument: str = "activation") -> LayerMaker:
    """Validate ``spec`` once and return ``make(name) -> Layer`` that builds a fresh layer per call.

    Raises ``ValueError`` naming the valid choices when ``spec`` cannot be used.

    Example:
        >>> make = resolve_activation("gelu")
        >>> layer = make("conv1_relu")
        >>> layer.name, layer.__class__.__name__
        ('conv1_relu', 'Activation')
    """
    valid = ", ".join(list_activations())
    if isinstance(spec, str):
        key = spec.strip().lower().replace("-", "_")
        if key in _LAYER_NAMES:
            return _LAYER_NAMES[key]
        if key in _FUNCTION_NAMES:
            fn_name = _FUNCTION_NAMES[key]
            return lambda name: keras.layers.Activation(fn_name, name=name)
        raise ValueError(
            f"Unknown {argument} {spec!r}. Use one of: {valid}; or pass a Keras activation "
            "function, a Keras layer class or instance, or a callable returning a layer."
        )
    if isinstance(spec, dict):  # a serialized layer or function, as stored in a build record
        try:
            spec = keras.saving.deserialize_keras_object(spec)
        except Exception as err:
            raise ValueError(f"{argument}: cannot rebuild the activation from {spec!r}: {err}") from None
    if isinstance(spec, keras.layers.Layer):
        return lambda name: _clone_layer(spec, name)
    if isinstance(spec, type) and issubclass(spec, keras.layers.Layer):
        return lambda name: spec(name=name)
    if callable(spec):
        if _is_keras_activation_function(spec):
            return lambda name: keras.layers.Activation(spec, name=name)
        try:
            inspect.signature(spec).bind()
        except (TypeError, ValueError):
            raise ValueError(
                f"{argument}={spec!r} is a callable that needs arguments and is not a Keras "
                "activation. Pass a Keras activation function (keras.activations.*, or one "
                "registered with keras.saving.register_keras_serializable), or a callable with "
                f"no arguments that returns a Keras layer. Known names: {valid}."
            ) from None

        def make(name: str) -> keras.layers.Layer:
            layer = spec()
            if not isinstance(layer, keras.layers.Layer):
                raise ValueError(
                    f"{argument}={spec!r} returned {type(layer).__name__}, not a Keras layer; "
                    "a layer factory must return a new keras.layers.Layer on each call."
                )
            return _clone_layer(layer, name)

        make("probe")  # fail now, before any model is half built
        return make
    raise ValueError(
        f"{argument} must be a name ({valid}), a function, a layer or a layer class; got {type(spec).__name__}."
    )


def get_activation(spec: ActivationSpec, name: str | None = None) -> keras.layers.Layer:
    """Build one activation layer from ``spec``.

    Example:
        >>> get_activation("prelu", name="act").__class__.__name__
        'PReLU'
    """
    return resolve_activation(spec)(name)


def describe_activation(spec: ActivationSpec | None) -> Any:
    """A JSON-friendly description of ``spec`` for a model's build record.

    Example:
        >>> describe_activation("relu6")
        'relu6'
    """
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, keras.layers.Layer) or _is_keras_activation_function(spec):
        try:
            return keras.saving.serialize_keras_object(spec)
        except Exception:
            pass
    if isinstance(spec, type):
        return f"{spec.__module__}.{spec.__qualname__}"
    return repr(spec)
