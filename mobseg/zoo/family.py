"""Model families: adding a zoo model is one decorated function whose body is its docstring.

Every zoo model is an encoder, a decoder on the encoder's pyramid (one contract, :mod:`mobseg.decoders.base`)
and a head, and every factory's parameters follow one layout::

    n_classes, input_height, input_width, [encoder_level], activation, decoder_activation, channels,
    <the encoder's parameters>, <the family's parameters>, head, logits

A :class:`Family` (SegNet, U-Net, FCN-8, ...) says what its models add to that layout and how they are
checked and decoded; a :class:`ZooEncoder` says what an encoder adds (MobileNet: ``alpha``,
``depth_multiplier`` and the ``relu6`` default). :meth:`Family.model` turns a function that holds only
its docstring into the model's factory::

    @SEGNET.model(encoder="mobilenet", input_size=(224, 224))
    def mobilenet_segnet():
        '''The MobileNet-SegNet of the article ...'''

The factory's signature is built from the layout and set as ``__signature__``, so ``help()`` and
``inspect.signature`` show the real parameters, their order and defaults, as if written out (the timm
registry and smp's shared model arguments are the models for this). Every call takes one path, with keyword
arguments only: the parameter checks in signature order (``n_classes`` once), one input-size check, the
encoder, ``decoder(pyramid, n_classes, level=..., ...)``, and :func:`finish`, which adds the head and records
the encoder's layer names. The factory is then registered with :func:`mobseg.zoo.registry.register_model`
(build record, ``encoder_weights``); a model that fits no family is registered there as a plain function.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import keras

from mobseg.activations import ActivationSpec  # noqa: F401 (resolves the factories' annotations)
from mobseg.encoders import EncoderFeatures, mobilenet_encoder, resnet50_encoder, vanilla_encoder, vgg16_encoder
from mobseg.encoders.applications import APPLICATION_ENCODER_FUNCTIONS
from mobseg.encoders.unet_mini import unet_mini_encoder
from mobseg.heads import check_head
from mobseg.model import SegmentationModel
from mobseg.validation import check_input_size, check_int, check_n_classes
from mobseg.zoo.registry import register_model


@dataclass(frozen=True)
class Param:
    """One factory parameter: name, default, annotation (as ``help()`` shows it) and an optional check.

    ``check`` validates the value before anything is built and returns it normalised.

    Example:
        >>> Param("channels", 3).parameter()
        <Parameter "channels: 'int' = 3">
    """

    name: str
    default: Any = inspect.Parameter.empty
    annotation: str = "int"
    check: Callable[[Any], Any] | None = None

    def parameter(self) -> inspect.Parameter:
        """The positional-or-keyword :class:`inspect.Parameter` of the factory's signature."""
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        return inspect.Parameter(self.name, kind, default=self.default, annotation=self.annotation)


def _check_channels(channels: object) -> int:
    return check_int(channels, "channels", minimum=1, hint=" Use 1 for grayscale, 3 for RGB, 4 for RGBA.")


N_CLASSES = Param("n_classes", check=check_n_classes)
CHANNELS = Param("channels", 3, check=_check_channels)
HEAD = Param("head", "flat", "str", check=check_head)
LOGITS = Param("logits", False, "bool")


@dataclass(frozen=True)
class ZooEncoder:
    """What an encoder adds to its models' factories.

    Attributes:
        build: the encoder, called as ``build(input_height=, input_width=, channels=, activation=, **params)``.
        activation: the default of the models' ``activation`` (the original encoder's; ``None``: the network's own
            activations as built, for MobileNetV3's mix of ReLU and hard-swish).
        params: parameters passed on to ``build``, placed after ``channels``.

    Example:
        >>> ZOO_ENCODERS["mobilenet"].activation
        'relu6'
    """

    build: Callable[..., EncoderFeatures]
    activation: str | None = "relu"
    params: tuple[Param, ...] = ()


_ALPHA = Param("alpha", 1.0, "float")
_MINIMALISTIC = Param("minimalistic", False, "bool")

#: The encoders zoo models are built on, by the name their build record carries.
ZOO_ENCODERS: dict[str, ZooEncoder] = {
    "vanilla": ZooEncoder(vanilla_encoder),
    "vgg16": ZooEncoder(vgg16_encoder),
    "resnet50": ZooEncoder(resnet50_encoder),
    "mobilenet": ZooEncoder(mobilenet_encoder, "relu6", (Param("alpha", 1.0, "float"), Param("depth_multiplier", 1))),
    "unet_mini": ZooEncoder(unet_mini_encoder, params=(Param("dropout", 0.2, "float"),)),
    "mobilenetv2": ZooEncoder(APPLICATION_ENCODER_FUNCTIONS["mobilenetv2"], "relu6", (_ALPHA,)),
    "mobilenetv3_small": ZooEncoder(APPLICATION_ENCODER_FUNCTIONS["mobilenetv3_small"], None, (_ALPHA, _MINIMALISTIC)),
    "mobilenetv3_large": ZooEncoder(APPLICATION_ENCODER_FUNCTIONS["mobilenetv3_large"], None, (_ALPHA, _MINIMALISTIC)),
    **{
        name: ZooEncoder(APPLICATION_ENCODER_FUNCTIONS[name], "swish")
        for name in APPLICATION_ENCODER_FUNCTIONS
        if name.startswith("efficientnet")
    },
}

#: An input-size rule: (multiple, why), or a function of the pyramid level giving it.
SizeRule = tuple[int, str] | Callable[[int], tuple[int, str]]


@dataclass(frozen=True, kw_only=True)
class Family:
    """A decoder family: what its models add to the common parameter layout, how they are checked and decoded.

    Attributes:
        decoder: the registry's decoder name (``"segnet"``, ``"fcn_8"``, ...).
        decode: the decoder, called as ``decode(pyramid, n_classes, level=..., **arguments)``.
        level: the pyramid level decoded when the family has no ``encoder_level`` parameter.
        encoder_level: that parameter (placed after ``input_width``), when the family has one.
        params: the family's own parameters, placed after the encoder's.
        encoder_args: the family's parameters passed on to the encoder (``output_stride``).
        decoder_args: the factory arguments passed on to ``decode``.
        decoder_options: fixed keyword arguments for ``decode`` (SegNet's ``n_up=3``).
        decoder_activation: the default of ``decoder_activation``.
        input_size: default (input_height, input_width), keras_segmentation's.
        size: the input-size rule, checked once before building.
        size_rule: that rule in words, for :class:`mobseg.zoo.ModelInfo`.
        notes: text every model of the family documents (its faithful flaw, say): it stands in each model's
            docstring where ``{notes}`` is written, as pandas' docstring templates do.

    Example:
        >>> from mobseg.zoo.pspnet import PSPNET
        >>> list(PSPNET.signature("vgg16").parameters)[-3:]
        ['channels', 'head', 'logits']
    """

    decoder: str
    decode: Callable[..., keras.KerasTensor]
    level: int = 4
    encoder_level: Param | None = None
    params: tuple[Param, ...] = ()
    encoder_args: tuple[str, ...] = ()
    decoder_args: tuple[str, ...] = ("decoder_activation",)
    decoder_options: Mapping[str, Any] = field(default_factory=dict)
    decoder_activation: str | None = "relu"
    input_size: tuple[int, int]
    size: SizeRule
    size_rule: str
    notes: str = ""

    def layout(self, encoder: str, input_size: tuple[int, int] | None = None) -> tuple[Param, ...]:
        """The factory parameters of this family's model on ``encoder``, in signature order."""
        height, width = input_size or self.input_size
        zoo_encoder = ZOO_ENCODERS[encoder]
        activation_annotation = "ActivationSpec" if zoo_encoder.activation else "ActivationSpec | None"
        return (
            N_CLASSES,
            Param("input_height", height),
            Param("input_width", width),
            *([self.encoder_level] if self.encoder_level else []),
            Param("activation", zoo_encoder.activation, activation_annotation),
            Param("decoder_activation", self.decoder_activation, "ActivationSpec | None"),
            CHANNELS,
            *zoo_encoder.params,
            *self.params,
            HEAD,
            LOGITS,
        )

    def signature(self, encoder: str, input_size: tuple[int, int] | None = None) -> inspect.Signature:
        """The factory's signature, as ``help()`` and ``inspect.signature`` show it."""
        parameters = [param.parameter() for param in self.layout(encoder, input_size)]
        return inspect.Signature(parameters, return_annotation="SegmentationModel")

    def model(
        self, *, encoder: str, input_size: tuple[int, int] | None = None
    ) -> Callable[[Callable[[], Any]], Callable[..., SegmentationModel]]:
        """Decorator: make the factory of this family's model on ``encoder`` and register it.

        The decorated function gives the model its name, module and docstring; it takes no parameters.

        Example:
            >>> @SEGNET.model(encoder="vgg16")  # doctest: +SKIP
            ... def vgg_segnet():
            ...     '''keras_segmentation's ``vgg_segnet``: ...'''
        """

        def decorate(model_doc: Callable[[], Any]) -> Callable[..., SegmentationModel]:
            if inspect.signature(model_doc).parameters:
                raise TypeError(
                    f"{model_doc.__name__}: a family model takes no parameters of its own; its family builds them."
                )
            return self.register(
                model_doc.__name__,
                encoder=encoder,
                input_size=input_size,
                doc=model_doc.__doc__ or "",
                module=model_doc.__module__,
                qualname=model_doc.__qualname__,
            )

        return decorate

    def register(
        self,
        name: str,
        *,
        encoder: str,
        doc: str,
        module: str,
        input_size: tuple[int, int] | None = None,
        qualname: str | None = None,
    ) -> Callable[..., SegmentationModel]:
        """Make the factory ``name`` of this family's model on ``encoder`` and register it (what :meth:`model` does).

        For models made in a loop (:mod:`mobseg.zoo.modern`: every decoder on every encoder), with a docstring
        written from the parts.

        Example:
            >>> from mobseg.zoo.modern import FPN
            >>> FPN.register("my_fpn", encoder="vgg16", doc="FPN on VGG16.", module=__name__)  # doctest: +SKIP
        """
        params = self.layout(encoder, input_size)
        signature = self.signature(encoder, input_size)

        def factory(*args: Any, **kwargs: Any) -> SegmentationModel:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            return self.build(name=name, encoder=encoder, params=params, arguments=bound.arguments)

        factory.__name__, factory.__qualname__ = name, qualname or name
        factory.__module__, factory.__doc__ = module, self.document(doc)
        factory.__signature__ = signature
        factory.__annotations__ = {p.name: p.annotation for p in params} | {"return": "SegmentationModel"}
        return register_model(encoder=encoder, decoder=self.decoder, size_rule=self.size_rule)(factory)

    def document(self, doc: str) -> str:
        """``doc`` with the family's notes in place of ``{notes}`` (indented as a model docstring's body).

        Example:
            >>> from mobseg.zoo.segnet import SEGNET
            >>> SEGNET.document("Doc. {notes}").splitlines()[0]
            'Doc. Faithful flaw, kept by default: the decoder has no nonlinearity between its convolutions.'
        """
        if "{notes}" in doc and not self.notes:
            raise ValueError(f"The {self.decoder} family has no notes to put in place of {{notes}}.")
        return doc.replace("{notes}", self.notes.replace("\n", "\n    "))

    def build(
        self, *, name: str, encoder: str, params: tuple[Param, ...], arguments: Mapping[str, Any]
    ) -> SegmentationModel:
        """Check ``arguments``, then build encoder -> decoder -> head; every step takes keywords only."""
        args = {p.name: p.check(arguments[p.name]) if p.check else arguments[p.name] for p in params}
        level = args.get("encoder_level", self.level)
        multiple, reason = self.size(level) if callable(self.size) else self.size
        height, width = check_input_size(name, args["input_height"], args["input_width"], multiple, reason)
        zoo_encoder = ZOO_ENCODERS[encoder]
        features = zoo_encoder.build(
            input_height=height,
            input_width=width,
            channels=args["channels"],
            activation=args["activation"],
            **{p.name: args[p.name] for p in zoo_encoder.params},
            **{key: args[key] for key in self.encoder_args},
        )
        logits = self.decode(
            features.pyramid,
            args["n_classes"],
            level=level,
            **self.decoder_options,
            **{key: args[key] for key in self.decoder_args},
        )
        return finish(name, features, logits, head=args["head"], logits_output=args["logits"])


def encoder_layers_in(model: keras.Model, features: EncoderFeatures) -> list[str]:
    """Names of ``model``'s layers that belong to the encoder of ``features``, in the model's layer order.

    A functional model holds only the layers on a path from its input to its output, so these are the encoder
    layers on the path to the pyramid maps the decoder uses (MobileNet-SegNet at ``encoder_level=3``:
    ``conv1_pad`` ... ``conv_pw_11_relu``).

    Example:
        >>> feats = ZOO_ENCODERS["vanilla"].build(32, 32)
        >>> m = keras.Model(feats.inputs, keras.layers.Conv2D(2, 1, name="head")(feats.pyramid[0]))
        >>> encoder_layers_in(m, feats)
        ['vanilla_pad_1', 'vanilla_conv_1', 'vanilla_bn_1', 'vanilla_act_1', 'vanilla_pool_1']
    """
    encoder = keras.Model(features.inputs, features.pyramid, name=f"{features.name}_encoder_layers")
    own = {layer.name for layer in encoder.layers if not isinstance(layer, keras.layers.InputLayer)}
    return [layer.name for layer in model.layers if layer.name in own]


def finish(
    name: str, features: EncoderFeatures, logits: keras.KerasTensor, *, head: str, logits_output: bool
) -> SegmentationModel:
    """Wrap encoder input and decoder logits into a :class:`SegmentationModel` with the chosen head.

    Records the encoder's layer names in ``model.architecture["encoder_layers"]`` (what freezing uses).

    Example:
        >>> feats = ZOO_ENCODERS["vanilla"].build(32, 32)
        >>> x = keras.layers.Conv2D(2, 1)(feats.pyramid[0])
        >>> finish("tiny", feats, x, head="spatial", logits_output=False).output_shape
        (None, 16, 16, 2)
    """
    model = SegmentationModel.from_logits(
        features.inputs, logits, name=name, head=head, logits_output=logits_output, preprocessing=features.preprocessing
    )
    model.architecture["encoder_layers"] = encoder_layers_in(model, features)
    return model


__all__ = ["CHANNELS", "HEAD", "LOGITS", "N_CLASSES", "ZOO_ENCODERS", "Family", "Param", "ZooEncoder", "finish"]
