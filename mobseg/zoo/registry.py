"""The model registry: every architecture reachable from one string, timm style.

The registry is the one list of models: ``mobseg.list_models()``, ``mobseg.build_model(name, ...)`` and the
factories exported as ``mobseg.<name>`` all come from it. It needs :class:`mobseg.model.SegmentationModel` only
for annotations, so it does not import :mod:`mobseg.model` at run time (which imports this module lazily, in
``SegmentationModel.rebuild``).
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mobseg.activations import describe_activation

if TYPE_CHECKING:
    from mobseg.model import SegmentationModel


@dataclass(frozen=True)
class ModelInfo:
    """What the registry knows about one model.

    Attributes:
        name: registry name, also the model's name.
        factory: the function that builds it.
        encoder, decoder: the parts it is made of.
        default_size: default (input_height, input_width), as in keras_segmentation.
        size_rule: the input-size rule in words.
    """

    name: str
    factory: Callable[..., SegmentationModel]
    encoder: str
    decoder: str
    default_size: tuple[int, int]
    size_rule: str


_REGISTRY: dict[str, ModelInfo] = {}

_ACTIVATION_ARGS = ("activation", "decoder_activation")


def register_model(
    *, encoder: str, decoder: str, size_rule: str
) -> Callable[[Callable[..., SegmentationModel]], Callable[..., SegmentationModel]]:
    """Register a model factory under its function name.

    The wrapped factory records the arguments it was called with (defaults filled in) in
    ``model.architecture`` so the model can be rebuilt, and takes one more keyword,
    ``encoder_weights`` (``None``, ``"imagenet"`` or a weights file path; see
    :func:`mobseg.pretrained.load_encoder_weights`). Adding a model is one decorated function: this one for a
    model written out by hand, or a family's (:meth:`mobseg.zoo.family.Family.model`) for the zoo's layout.

    Example:
        >>> @register_model(encoder="mobilenet", decoder="segnet", size_rule="multiple of 16")
        ... def my_model(n_classes, input_height=224, input_width=224): ...
    """

    def decorate(factory: Callable[..., SegmentationModel]) -> Callable[..., SegmentationModel]:
        signature = inspect.signature(factory)
        params = signature.parameters
        default_size = (params["input_height"].default, params["input_width"].default)

        @functools.wraps(factory)
        def build(*args: Any, encoder_weights: str | None = None, **kwargs: Any) -> SegmentationModel:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as err:
                valid = ", ".join(params)
                raise TypeError(f"{factory.__name__}(): {err}. Its arguments are: {valid}.") from None
            bound.apply_defaults()
            model = factory(*bound.args, **bound.kwargs)
            record = {
                key: describe_activation(value) if key in _ACTIVATION_ARGS else value
                for key, value in bound.arguments.items()
            }
            model.architecture.update(
                {"name": factory.__name__, "kwargs": record, "encoder": encoder, "decoder": decoder}
            )
            if encoder_weights is not None:
                from mobseg.pretrained import load_encoder_weights

                load_encoder_weights(model, encoder_weights)
            return model

        _REGISTRY[factory.__name__] = ModelInfo(
            name=factory.__name__,
            factory=build,
            encoder=encoder,
            decoder=decoder,
            default_size=default_size,
            size_rule=size_rule,
        )
        return build

    return decorate


def list_models(pattern: str | None = None) -> list[str]:
    """Names of registered models, sorted, optionally filtered by a shell-style ``pattern``.

    Example:
        >>> "mobilenet_segnet" in list_models("*segnet")
        True
    """
    names = sorted(_REGISTRY)
    return [n for n in names if fnmatch.fnmatch(n, pattern)] if pattern else names


def is_model(name: str) -> bool:
    """True if ``name`` is a registered model.

    Example:
        >>> is_model("mobilenet_segnet")
        True
    """
    return name in _REGISTRY


def get_model_info(name: str) -> ModelInfo:
    """The :class:`ModelInfo` of a registered model; unknown names list close matches.

    Example:
        >>> get_model_info("mobilenet_segnet").default_size
        (224, 224)
    """
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=5, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(
            f"Unknown model {name!r}.{hint} Known models: {', '.join(list_models())} (see mobseg.list_models())."
        )
    return _REGISTRY[name]


def list_decoders() -> list[str]:
    """The decoders of the registered models, sorted (``build_model(decoder, n_classes, encoder=...)``).

    Example:
        >>> "deeplabv3plus" in list_decoders() and "segnet" in list_decoders()
        True
    """
    return sorted({info.decoder for info in _REGISTRY.values()})


def model_name(decoder: str, encoder: str) -> str:
    """The registered model that puts ``decoder`` on ``encoder`` (``decoder`` may also be a model name).

    Example:
        >>> model_name("deeplabv3plus", "mobilenetv2"), model_name("unet", "vgg16"), model_name("segnet", "mobilenet")
        ('mobilenetv2_deeplabv3plus', 'vgg_unet', 'mobilenet_segnet')
    """
    decoder = _REGISTRY[decoder].decoder if decoder in _REGISTRY else decoder
    if decoder not in list_decoders():
        close = difflib.get_close_matches(decoder, list_decoders(), n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(f"Unknown decoder {decoder!r}.{hint} Known decoders: {', '.join(list_decoders())}.")
    on = {info.encoder: info.name for info in _REGISTRY.values() if info.decoder == decoder}
    if encoder not in on:
        raise ValueError(
            f"No {decoder} model on the encoder {encoder!r}; {decoder} is registered on: {', '.join(sorted(on))}."
        )
    return on[encoder]


def build_model(name: str, n_classes: int, **kwargs: Any) -> SegmentationModel:
    """Build the registered model ``name`` with ``n_classes`` classes; or a decoder on ``encoder=``.

    ``build_model("deeplabv3plus", n, encoder="mobilenetv2")`` builds ``mobilenetv2_deeplabv3plus``
    (:func:`model_name`); the model records its registered name.

    Example:
        >>> model = build_model("mobilenet_segnet", 2, input_height=64, input_width=64)
        >>> model.output_shape
        (None, 1024, 2)
        >>> build_model("lraspp", 2, encoder="mobilenet", input_height=64, input_width=64).name
        'mobilenet_lraspp'
    """
    encoder = kwargs.pop("encoder", None)
    if encoder is not None:
        name = model_name(name, encoder)
    elif name not in _REGISTRY and name in list_decoders():
        encoders = sorted(info.encoder for info in _REGISTRY.values() if info.decoder == name)
        raise ValueError(
            f"{name!r} is a decoder; name its encoder, e.g. build_model({name!r}, {n_classes!r}, "
            f"encoder={encoders[0]!r}). Its encoders: {', '.join(encoders)}."
        )
    return get_model_info(name).factory(n_classes, **kwargs)
