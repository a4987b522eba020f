"""Modern mobile encoders from ``keras.applications``: MobileNetV2, MobileNetV3, EfficientNet B0-B3 and V2 B0-B1.

Each is built with the public ``keras.applications.<Name>(include_top=False, weights=None, input_tensor=...)``
and rebuilt onto mobseg's ``image`` input (:mod:`mobseg.encoders.rewrite`: deterministic names, switchable
activation, optional output stride 16 or 8). The pyramid f1..f5 is picked by layer name: f1..f4 are the last
block output at strides 2, 4, 8 and 16 (the stage outputs timm and smp use), f5 the network's last layer, so the
encoder holds every weight of ``keras.applications.<Name>(include_top=False)`` (same parameter count) and the
ImageNet file of that network loads by layer name (:mod:`mobseg.pretrained`).

Why this set: MobileNetV2 and MobileNetV3 are the encoders of the mobile segmentation references (DeepLabV3+
on MobileNetV2 in the TensorFlow model garden; LR-ASPP on MobileNetV3 in its paper and in torchvision);
EfficientNet B0-B3 scale the same inverted-residual design from phone to server CPU (0.4 to 1.8 GFLOPs at
224x224 for the classifier); EfficientNetV2 B0-B1 replace the early depthwise stages by fused convolutions that
run faster on GPUs. Larger EfficientNets (B4-B7, V2 S/M/L) are not mobile encoders and are left out.

Preprocessing (``model.architecture["preprocessing"]``, applied by training, prediction and export calibration):

* MobileNetV2 has no preprocessing layer: images are scaled to [-1, 1] outside the model (``"mobilenet"``);
* MobileNetV3, EfficientNet and EfficientNetV2 carry their own ``Rescaling`` (and ``Normalization``) layers,
  kept as Keras applications builds them: the model takes images in [0, 255] (``"none"``).
* EfficientNet (v1) ImageNet weights expect the extra ``Rescaling`` Keras applications adds after its
  ``Normalization`` when it loads them (Keras' note on tensorflow issue 49930); mobseg always adds it
  (``normalization_imagenet_scale``, 3-channel inputs), so ``encoder_weights="imagenet"`` computes what
  ``keras.applications.EfficientNetB0(weights="imagenet")`` computes. It has no weights.

Activations: ``activation`` replaces the network's own nonlinearity wherever Keras applications applies it:
MobileNetV2's ReLU6; MobileNetV3's ReLU (early blocks, and all of the minimalistic variant) and hard-swish
(later blocks), but not the squeeze-and-excite gates (ReLU + hard-sigmoid); EfficientNet's swish, including the
squeeze-and-excite reduction Keras builds with the same activation (its sigmoid gate stays). MobileNetV3's
default is ``None``, the design as built (ReLU then hard-swish); any spec replaces both. With ImageNet weights a
swap changes the function the weights were trained with: fine-tune the whole encoder.

Example:
    >>> feats = mobilenetv2_encoder(64, 64)
    >>> feats.channels, feats.preprocessing
    ([16, 24, 32, 96, 1280], 'mobilenet')
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras

from mobseg.activations import ActivationSpec, resolve_activation
from mobseg.encoders.base import PYRAMID_STRIDES, EncoderFeatures, check_output_stride, make_input
from mobseg.encoders.rewrite import Rewrite, rebuild
from mobseg.validation import check_int

#: ImageNet standard deviations (RGB) behind EfficientNet's extra ImageNet rescaling.
IMAGENET_STDDEV_RGB: tuple[float, float, float] = (0.229, 0.224, 0.225)

#: Smallest input Keras applications accept.
MIN_INPUT_SIZE = 32


@dataclass(frozen=True)
class WeightsFile:
    """One ImageNet weights file of Keras applications: file name, download URL and MD5 (``None``: Keras has none).

    Example:
        >>> efficientnet_weights("b0").name
        'efficientnetb0_notop.h5'
    """

    name: str
    url: str
    md5: str | None


_APPLICATIONS = "https://storage.googleapis.com/tensorflow/keras-applications/"
_MOBILENET_V2_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
#: Keras applications' MD5 of each MobileNetV3 no-top file (``mobilenet_v3.py``, ``WEIGHTS_HASHES``).
_MOBILENET_V3_MD5 = {
    "large_224_0.75_float": "40af19a13ebea4e2ee0c676887f69a2e",
    "large_224_1.0_float": "07fb09a5933dd0c8eaafa16978110389",
    "large_minimalistic_224_1.0_float": "ec5221f64a2f6d1ef965a614bdae7973",
    "small_224_0.75_float": "ebdb5cc8e0b497cd13a7c275d475c819",
    "small_224_1.0_float": "d3e8ec802a04aa4fc771ee12a9a9b836",
    "small_minimalistic_224_1.0_float": "cde8136e733e811080d9fcd8a252f7e4",
}
#: Keras applications' MD5 of each EfficientNet / EfficientNetV2 no-top file (``WEIGHTS_HASHES``).
_EFFICIENTNET_MD5 = {
    "b0": "50bc09e76180e00e4465e1a485ddc09d",
    "b1": "74c4e6b3e1f6a1eea24c589628592432",
    "b2": "111f8e2ac8aa800a7a99e3239f7bfb39",
    "b3": "af6d107764bb5b1abb91932881670226",
    "v2-b0": "893217f2bb855e2983157299931e43ff",
    "v2-b1": "0e80663031ca32d657f9caa404b6ec37",
}


def mobilenetv2_weights(alpha: float = 1.0) -> WeightsFile:
    """The ImageNet file ``keras.applications.MobileNetV2(alpha=alpha, include_top=False)`` downloads.

    Example:
        >>> mobilenetv2_weights(0.5).name
        'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_224_no_top.h5'
    """
    if alpha not in _MOBILENET_V2_ALPHAS:
        raise ValueError(f"MobileNetV2 ImageNet weights exist for alpha in {list(_MOBILENET_V2_ALPHAS)}; got {alpha}.")
    name = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_224_no_top.h5"
    return WeightsFile(name, f"{_APPLICATIONS}mobilenet_v2/{name}", None)


def mobilenetv3_weights(kind: str, alpha: float = 1.0, minimalistic: bool = False) -> WeightsFile:
    """The ImageNet file ``keras.applications.MobileNetV3<Kind>(include_top=False)`` downloads.

    Example:
        >>> mobilenetv3_weights("large").name
        'weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5'
    """
    model = f"{kind}{'_minimalistic' if minimalistic else ''}_224_{float(alpha)}_float"
    if model not in _MOBILENET_V3_MD5:
        raise ValueError(
            f"MobileNetV3 {kind} ImageNet weights exist for alpha 0.75 and 1.0 (minimalistic: 1.0 only); got "
            f"alpha={alpha}, minimalistic={minimalistic}."
        )
    name = f"weights_mobilenet_v3_{model}_no_top_v2.h5"
    return WeightsFile(name, f"{_APPLICATIONS}mobilenet_v3/{name}", _MOBILENET_V3_MD5[model])


def efficientnet_weights(variant: str) -> WeightsFile:
    """The ImageNet file of ``keras.applications.EfficientNet<B0..B3>`` / ``EfficientNetV2<B0, B1>`` (no top).

    ``variant`` is ``"b0"``..``"b3"`` or ``"v2-b0"``, ``"v2-b1"``.

    Example:
        >>> efficientnet_weights("v2-b0").url.rsplit("/", 2)[-2:]
        ['efficientnet_v2', 'efficientnetv2-b0_notop.h5']
    """
    name = f"efficientnet{variant}_notop.h5"
    folder = (
        f"{_APPLICATIONS}efficientnet_v2/"
        if variant.startswith("v2")
        else "https://storage.googleapis.com/keras-applications/"
    )
    return WeightsFile(name, folder + name, _EFFICIENTNET_MD5[variant])


def _is_relu6(layer: keras.Operation) -> bool:
    return isinstance(layer, keras.layers.ReLU)


def _is_mobilenetv3_activation(layer: keras.Operation) -> bool:
    """MobileNetV3's ReLU and hard-swish layers outside the squeeze-and-excite gates."""
    if isinstance(layer, keras.layers.ReLU):
        return layer.get_config().get("max_value") is None and "squeeze_excite" not in layer.name
    return isinstance(layer, keras.layers.Activation) and layer.get_config()["activation"] in (
        "hard_silu",
        "hard_swish",
    )


def _is_swish(layer: keras.Operation) -> bool:
    """EfficientNet's swish: activation layers and the squeeze-and-excite reduction's fused activation."""
    if not isinstance(layer, (keras.layers.Activation, keras.layers.Conv2D)):
        return False
    return layer.get_config().get("activation") in ("silu", "swish")


@dataclass(frozen=True)
class ApplicationEncoder:
    """How one Keras application becomes a mobseg encoder.

    Attributes:
        name: the encoder's name (``"mobilenetv2"``).
        application: the ``keras.applications`` function (``"MobileNetV2"``).
        pyramid: names of the layers f1..f5 after the rebuild.
        preprocessing: mobseg's preprocessing mode for its inputs.
        activation: the default of ``activation`` (``None``: the network's own, as built).
        is_activation: the layers ``activation`` replaces.
        weights: the ImageNet file for the encoder's options (``alpha``, ``minimalistic``).
        options: Keras applications arguments the encoder passes on.
        imagenet_rescaling: add EfficientNet's ImageNet rescaling after ``normalization``.

    Example:
        >>> APPLICATION_ENCODERS["mobilenetv3_large"].pyramid[-1]
        'conv_1_act'
    """

    name: str
    application: str
    pyramid: tuple[str, ...]
    preprocessing: str
    activation: str | None
    is_activation: Callable[[keras.Operation], bool]
    weights: Callable[..., WeightsFile]
    options: tuple[str, ...] = ()
    imagenet_rescaling: bool = False


def _efficientnet(variant: str, pyramid: tuple[str, ...], v2: bool = False) -> ApplicationEncoder:
    suffix = variant.upper()
    return ApplicationEncoder(
        name=f"efficientnet{'v2' if v2 else ''}{variant}",
        application=f"EfficientNet{'V2' if v2 else ''}{suffix}",
        pyramid=pyramid,
        preprocessing="none",
        activation="swish",
        is_activation=_is_swish,
        weights=lambda: efficientnet_weights(f"v2-{variant}" if v2 else variant),
        imagenet_rescaling=not v2,
    )


#: Every encoder built from Keras applications, by name.
APPLICATION_ENCODERS: dict[str, ApplicationEncoder] = {
    spec.name: spec
    for spec in (
        ApplicationEncoder(
            name="mobilenetv2",
            application="MobileNetV2",
            pyramid=("expanded_conv_project_BN", "block_2_add", "block_5_add", "block_12_add", "out_relu"),
            preprocessing="mobilenet",
            activation="relu6",
            is_activation=_is_relu6,
            weights=mobilenetv2_weights,
            options=("alpha",),
        ),
        ApplicationEncoder(
            name="mobilenetv3_small",
            application="MobileNetV3Small",
            pyramid=(
                "conv_act",
                "expanded_conv_project_bn",
                "expanded_conv_2_add",
                "expanded_conv_7_add",
                "conv_1_act",
            ),
            preprocessing="none",
            activation=None,
            is_activation=_is_mobilenetv3_activation,
            weights=lambda alpha=1.0, minimalistic=False: mobilenetv3_weights("small", alpha, minimalistic),
            options=("alpha", "minimalistic"),
        ),
        ApplicationEncoder(
            name="mobilenetv3_large",
            application="MobileNetV3Large",
            pyramid=(
                "expanded_conv_add",
                "expanded_conv_2_add",
                "expanded_conv_5_add",
                "expanded_conv_11_add",
                "conv_1_act",
            ),
            preprocessing="none",
            activation=None,
            is_activation=_is_mobilenetv3_activation,
            weights=lambda alpha=1.0, minimalistic=False: mobilenetv3_weights("large", alpha, minimalistic),
            options=("alpha", "minimalistic"),
        ),
        _efficientnet("b0", ("block1a_project_bn", "block2b_add", "block3b_add", "block5c_add", "top_activation")),
        _efficientnet("b1", ("block1b_add", "block2c_add", "block3c_add", "block5d_add", "top_activation")),
        _efficientnet("b2", ("block1b_add", "block2c_add", "block3c_add", "block5d_add", "top_activation")),
        _efficientnet("b3", ("block1b_add", "block2c_add", "block3c_add", "block5e_add", "top_activation")),
        _efficientnet(
            "b0", ("block1a_project_activation", "block2b_add", "block3b_add", "block5e_add", "top_activation"), v2=True
        ),
        _efficientnet("b1", ("block1b_add", "block2c_add", "block3c_add", "block5f_add", "top_activation"), v2=True),
    )
}


def _check_options(spec: ApplicationEncoder, options: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        valid = ", ".join(spec.options) or "none"
        raise ValueError(f"{spec.name}_encoder got unknown options {unknown}; its options are: {valid}.")
    checked = dict(options)
    if "alpha" in checked:
        alpha = checked["alpha"]
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
            raise ValueError(f"alpha (the width multiplier) must be a number > 0, e.g. 1.0 or 0.75; got {alpha!r}.")
        checked["alpha"] = float(alpha)
    if "minimalistic" in checked and not isinstance(checked["minimalistic"], bool):
        raise ValueError(f"minimalistic must be True or False; got {checked['minimalistic']!r}.")
    return checked


def _imagenet_rescaling(x: keras.KerasTensor) -> keras.KerasTensor:
    scale = [1.0 / math.sqrt(stddev) for stddev in IMAGENET_STDDEV_RGB]
    return keras.layers.Rescaling(scale, name="normalization_imagenet_scale")(x)


def application_encoder(
    name: str,
    input_height: int = 224,
    input_width: int = 224,
    channels: int = 3,
    activation: ActivationSpec | None = None,
    output_stride: int = 32,
    input_tensor: keras.KerasTensor | None = None,
    **options: Any,
) -> EncoderFeatures:
    """Build the Keras application ``name`` (see :data:`APPLICATION_ENCODERS`) and return its pyramid f1..f5.

    Args:
        name: ``"mobilenetv2"``, ``"mobilenetv3_small"``, ``"mobilenetv3_large"``, ``"efficientnetb0"``..``b3``,
            ``"efficientnetv2b0"``, ``"efficientnetv2b1"``.
        input_height, input_width: image size (at least 32).
        channels: input channels (ImageNet weights need 3).
        activation: an activation spec replacing the network's own (module docstring); ``None``: the network's
            own activations, as built.
        output_stride: 32, or 16 / 8 to dilate the last stages instead of striding them (f5, and f4 at 8,
            then have the stride ``output_stride``).
        input_tensor: an existing ``keras.Input`` to build on.
        options: ``alpha`` (MobileNetV2, MobileNetV3), ``minimalistic`` (MobileNetV3).

    Example:
        >>> feats = application_encoder("efficientnetb0", 64, 64, output_stride=16)
        >>> [tuple(f.shape[1:3]) for f in feats.pyramid], feats.strides
        ([(32, 32), (16, 16), (8, 8), (4, 4), (4, 4)], (2, 4, 8, 16, 16))
    """
    spec = get_application_encoder(name)
    options = _check_options(spec, options)
    channels = check_int(channels, "channels", minimum=1, hint=" Use 1 for grayscale, 3 for RGB, 4 for RGBA.")
    output_stride = check_output_stride(output_stride)
    inputs = make_input(input_height, input_width, channels, input_tensor)
    height, width = inputs.shape[1:3]
    if height is None or width is None or min(height, width) < MIN_INPUT_SIZE:
        raise ValueError(
            f"{name}: the encoder needs a fixed input of at least {MIN_INPUT_SIZE}x{MIN_INPUT_SIZE}; "
            f"got {height}x{width}. Pass a larger input_height and input_width."
        )
    build = getattr(keras.applications, spec.application)
    app = build(include_top=False, weights=None, input_tensor=keras.Input((height, width, channels)), **options)
    rescale = spec.imagenet_rescaling and channels == 3
    rewrite = Rewrite(
        outputs=spec.pyramid,
        is_activation=spec.is_activation,
        activation=None if activation is None else resolve_activation(activation),
        output_stride=output_stride,
        after={"normalization": _imagenet_rescaling} if rescale else {},
    )
    pyramid = rebuild(app, inputs, rewrite)
    strides = tuple(min(stride, output_stride) for stride in PYRAMID_STRIDES)
    return EncoderFeatures(inputs, pyramid, name=spec.name, preprocessing=spec.preprocessing, strides=strides)


def mobilenetv2_encoder(
    input_height: int = 224,
    input_width: int = 224,
    channels: int = 3,
    activation: ActivationSpec | None = "relu6",
    alpha: float = 1.0,
    output_stride: int = 32,
    input_tensor: keras.KerasTensor | None = None,
) -> EncoderFeatures:
    """``keras.applications.MobileNetV2`` as an encoder: f1..f5 with 16, 24, 32, 96, 1280 channels (alpha 1).

    Images are scaled to [-1, 1] (``preprocessing="mobilenet"``). See :func:`application_encoder`.

    Example:
        >>> mobilenetv2_encoder(64, 64, alpha=0.5).channels
        [8, 16, 16, 48, 1280]
    """
    return application_encoder(
        "mobilenetv2", input_height, input_width, channels, activation, output_stride, input_tensor, alpha=alpha
    )


def mobilenetv3_small_encoder(
    input_height: int = 224,
    input_width: int = 224,
    channels: int = 3,
    activation: ActivationSpec | None = None,
    alpha: float = 1.0,
    minimalistic: bool = False,
    output_stride: int = 32,
    input_tensor: keras.KerasTensor | None = None,
) -> EncoderFeatures:
    """``keras.applications.MobileNetV3Small`` as an encoder: f1..f5 with 16, 16, 24, 48, 576 channels.

    The model takes images in [0, 255] (its own ``Rescaling``). See :func:`application_encoder`.

    Example:
        >>> mobilenetv3_small_encoder(64, 64).channels
        [16, 16, 24, 48, 576]
    """
    return application_encoder(
        "mobilenetv3_small", input_height, input_width, channels, activation, output_stride, input_tensor,
        alpha=alpha, minimalistic=minimalistic,
    )  # fmt: skip


def mobilenetv3_large_encoder(
    input_height: int = 224,
    input_width: int = 224,
    channels: int = 3,
    activation: ActivationSpec | None = None,
    alpha: float = 1.0,
    minimalistic: bool = False,
    output_stride: int = 32,
    input_tensor: keras.KerasTensor | None = None,
) -> EncoderFeatures:
    """``keras.applications.MobileNetV3Large`` as an encoder: f1..f5 with 16, 24, 40, 112, 960 channels.

    The model takes images in [0, 255] (its own ``Rescaling``). See :func:`application_encoder`.

    Example:
        >>> mobilenetv3_large_encoder(64, 64, minimalistic=True).channels
        [16, 24, 40, 112, 960]
    """
    return application_encoder(
        "mobilenetv3_large", input_height, input_width, channels, activation, output_stride, input_tensor,
        alpha=alpha, minimalistic=minimalistic,
    )  # fmt: skip


def _efficientnet_encoder(name: str) -> Callable[..., EncoderFeatures]:
    """The public ``<name>_encoder`` function of an EfficientNet (no options of its own)."""
    spec = APPLICATION_ENCODERS[name]

    def encoder(
        input_height: int = 224,
        input_width: int = 224,
        channels: int = 3,
        activation: ActivationSpec | None = "swish",
        output_stride: int = 32,
        input_tensor: keras.KerasTensor | None = None,
    ) -> EncoderFeatures:
        return application_encoder(name, input_height, input_width, channels, activation, output_stride, input_tensor)

    encoder.__name__ = encoder.__qualname__ = f"{name}_encoder"
    encoder.__doc__ = f"""``keras.applications.{spec.application}`` as an encoder (f1..f5 at strides 2..32).

    The model takes images in [0, 255] (its own ``Rescaling`` and ``Normalization``). See
    :func:`application_encoder`.

    Example:
        >>> len({name}_encoder(64, 64).pyramid)
        5
    """
    return encoder


efficientnetb0_encoder = _efficientnet_encoder("efficientnetb0")
efficientnetb1_encoder = _efficientnet_encoder("efficientnetb1")
efficientnetb2_encoder = _efficientnet_encoder("efficientnetb2")
efficientnetb3_encoder = _efficientnet_encoder("efficientnetb3")
efficientnetv2b0_encoder = _efficientnet_encoder("efficientnetv2b0")
efficientnetv2b1_encoder = _efficientnet_encoder("efficientnetv2b1")

#: The public encoder function of each Keras applications encoder, by name.
APPLICATION_ENCODER_FUNCTIONS: dict[str, Callable[..., EncoderFeatures]] = {
    "mobilenetv2": mobilenetv2_encoder,
    "mobilenetv3_small": mobilenetv3_small_encoder,
    "mobilenetv3_large": mobilenetv3_large_encoder,
    "efficientnetb0": efficientnetb0_encoder,
    "efficientnetb1": efficientnetb1_encoder,
    "efficientnetb2": efficientnetb2_encoder,
    "efficientnetb3": efficientnetb3_encoder,
    "efficientnetv2b0": efficientnetv2b0_encoder,
    "efficientnetv2b1": efficientnetv2b1_encoder,
}


def get_application_encoder(name: str) -> ApplicationEncoder:
    """The :class:`ApplicationEncoder` named ``name``, or a ``ValueError`` listing them.

    Example:
        >>> get_application_encoder("efficientnetb2").application
        'EfficientNetB2'
    """
    if name not in APPLICATION_ENCODERS:
        raise ValueError(f"Unknown Keras applications encoder {name!r}; use one of: {', '.join(APPLICATION_ENCODERS)}.")
    return APPLICATION_ENCODERS[name]


__all__ = [
    "APPLICATION_ENCODERS",
    "APPLICATION_ENCODER_FUNCTIONS",
    "IMAGENET_STDDEV_RGB",
    "ApplicationEncoder",
    "WeightsFile",
    "application_encoder",
    "efficientnet_weights",
    "efficientnetb0_encoder",
    "efficientnetb1_encoder",
    "efficientnetb2_encoder",
    "efficientnetb3_encoder",
    "efficientnetv2b0_encoder",
    "efficientnetv2b1_encoder",
    "get_application_encoder",
    "mobilenetv2_encoder",
    "mobilenetv2_weights",
    "mobilenetv3_large_encoder",
    "mobilenetv3_small_encoder",
    "mobilenetv3_weights",
]
