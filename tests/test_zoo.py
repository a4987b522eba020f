"""One base tester over every registered model (the timm / smp pattern): each model is built once per module.

For every name in ``mobseg.list_models()``: the parameter count equals keras_segmentation's (derived below from
the original's layer definitions; for the modern models, Keras applications' encoder count plus the decoder's
layers), the output matches the head, one training step gives a finite loss, a ``.keras`` round trip (safe mode)
predicts exactly the same, swapping the activation changes the activation layers and nothing else, and bad
input sizes raise the documented ``ValueError``.

Speed (2 shared CPU cores): small inputs (32x64; PSPNet needs multiples of 192: 192x384). The FCN models
carry 4096-wide fc6/fc7 convolutions (up to 452M parameters with ResNet50); their behaviour tests use
``fc_filters=32`` and only the parameter-count test builds them at the original width. Of the 40 modern models
(every modern decoder on every mobile encoder) and the 20 originals, :data:`FAST_ORIGINAL` and :data:`FAST_MODERN`
run by default; the others are marked ``slow``
(``pytest -m slow tests/test_zoo.py``).
"""

from __future__ import annotations

import gc
import inspect
import pydoc
import re
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pytest

import mobseg
from mobseg.encoders import get_encoder
from mobseg.encoders.unet_mini import unet_mini_encoder
from mobseg.training.freezing import encoder_layer_names
from mobseg.zoo.registry import get_model_info

N_CLASSES = 12
MODELS = mobseg.list_models()

# ---------------------------------------------------------------------------------------------------------------
# Expected parameter counts, derived by arithmetic from keras_segmentation's layer definitions
# (divamgupta/image-segmentation-keras, keras_segmentation/models/*.py). Convolutional models' counts do not
# depend on the input size, so these hold at the default sizes and at the small test sizes alike.
# ---------------------------------------------------------------------------------------------------------------


def conv(k: int, cin: int, cout: int, bias: bool = True) -> int:
    """Conv2D(cout, (k, k)) on cin channels (use_bias=True is Keras' default, as in the original)."""
    return k * k * cin * cout + (cout if bias else 0)


def bn(c: int) -> int:
    """BatchNormalization: gamma, beta, moving mean, moving variance."""
    return 4 * c


def deconv(k: int, cin: int, cout: int) -> int:
    """Conv2DTranspose(cout, (k, k), use_bias=False)."""
    return k * k * cin * cout


# basic_models.vanilla_encoder: 5 x (ZeroPadding2D, Conv2D 3x3, BN, relu, MaxPool); filters 64, 128, 256, 256, 256.
VANILLA = [conv(3, 3, 64) + bn(64), conv(3, 64, 128) + bn(128), conv(3, 128, 256) + bn(256)] + 2 * [
    conv(3, 256, 256) + bn(256)
]
VANILLA_C = [64, 128, 256, 256, 256]
# vgg16.get_vgg_encoder: blocks of 2, 2, 3, 3, 3 3x3 convolutions (64, 128, 256, 512, 512); f_i = block_i_pool.
VGG = [
    conv(3, 3, 64) + conv(3, 64, 64),
    conv(3, 64, 128) + conv(3, 128, 128),
    conv(3, 128, 256) + 2 * conv(3, 256, 256),
    conv(3, 256, 512) + 2 * conv(3, 512, 512),
    3 * conv(3, 512, 512),
]
VGG_C = [64, 128, 256, 512, 512]


def bottleneck(cin: int, f: int, projection: bool) -> int:
    """resnet50.conv_block (projection) / identity_block: 1x1 f, 3x3 f, 1x1 4f, each + BN (+ 1x1 4f shortcut + BN)."""
    main = conv(1, cin, f) + bn(f) + conv(3, f, f) + bn(f) + conv(1, f, 4 * f) + bn(4 * f)
    return main + (conv(1, cin, 4 * f) + bn(4 * f) if projection else 0)


def stage(cin: int, f: int, blocks: int) -> int:
    return bottleneck(cin, f, True) + (blocks - 1) * bottleneck(4 * f, f, False)


# resnet50.get_resnet50_encoder: f1 = conv1 (7x7, 64; its BN bn_conv1 counts with the next level since every
# model that uses f1 also uses f2), stages 2..5 with 3, 4, 6, 3 blocks.
RESNET = [conv(7, 3, 64) + bn(64), stage(64, 64, 3), stage(256, 128, 4), stage(512, 256, 6), stage(1024, 512, 3)]
RESNET_C = [64, 256, 512, 1024, 2048]


def mobilenet_levels() -> list[int]:
    """mobilenet.get_mobilenet_encoder: conv1 (3x3/2, 32, no bias) + BN, then 13 depthwise-separable blocks
    (3x3 depthwise no bias + BN, 1x1 pointwise no bias + BN); f1..f5 after blocks 1, 3, 5, 11, 13."""
    pointwise = [64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024]
    blocks, cin = [], 32
    for cout in pointwise:
        blocks.append(3 * 3 * cin + bn(cin) + conv(1, cin, cout, bias=False) + bn(cout))
        cin = cout
    stem = conv(3, 3, 32, bias=False) + bn(32)
    return [stem + blocks[0], sum(blocks[1:3]), sum(blocks[3:5]), sum(blocks[5:11]), sum(blocks[11:13])]


MOBILENET = mobilenet_levels()
MOBILENET_C = [64, 128, 256, 512, 1024]


def segnet_decoder(cin: int, n: int) -> int:
    """segnet.segnet_decoder(n_up=3): convs 512, 256, 128, 64 (3x3, each + BN), 3x3 conv to n."""
    return (
        conv(3, cin, 512) + bn(512) + conv(3, 512, 256) + bn(256) + conv(3, 256, 128) + bn(128)
        + conv(3, 128, 64) + bn(64) + conv(3, 64, n)
    )  # fmt: skip


def unet_decoder(c: list[int], n: int) -> int:
    """unet._unet: conv 512 on f4, then concat f3 / f2 / f1 before convs 256 / 128 / 64 (each + BN), 3x3 to n."""
    return (
        conv(3, c[3], 512) + bn(512) + conv(3, 512 + c[2], 256) + bn(256) + conv(3, 256 + c[1], 128) + bn(128)
        + conv(3, 128 + c[0], 64) + bn(64) + conv(3, 64, n)
    )  # fmt: skip


def fcn_head(c5: int, n: int, fc: int = 4096) -> int:
    """fcn.fcn_8 / fcn_32 on f5: Conv2D(4096, 7x7), Conv2D(4096, 1x1), Conv2D(n, 1x1)."""
    return conv(7, c5, fc) + conv(1, fc, fc) + conv(1, fc, n)


def fcn8_decoder(c: list[int], n: int, fc: int = 4096) -> int:
    """fcn.fcn_8: + deconv 4x4/2, score f4 (1x1), deconv 4x4/2, score f3 (1x1), deconv 16x16/8."""
    return (
        fcn_head(c[4], n, fc)
        + deconv(4, n, n)
        + conv(1, c[3], n)
        + deconv(4, n, n)
        + conv(1, c[2], n)
        + deconv(16, n, n)
    )


def fcn32_decoder(c: list[int], n: int, fc: int = 4096) -> int:
    """fcn.fcn_32: + deconv 64x64/32."""
    return fcn_head(c[4], n, fc) + deconv(64, n, n)


def pspnet_decoder(c5: int, n: int) -> int:
    """pspnet._pspnet: 4 pool blocks (1x1 conv 512 no bias + BN), concat, 1x1 conv 512 no bias + BN, 3x3 conv to n."""
    return (
        4 * (conv(1, c5, 512, bias=False) + bn(512))
        + conv(1, c5 + 4 * 512, 512, bias=False)
        + bn(512)
        + conv(3, 512, n)
    )


def unet_mini_params(n: int) -> int:
    """unet.unet_mini: conv pairs 32, 64, 128 down; 64 (on 128+64), 32 (on 64+32) up; 1x1 to n."""
    down = conv(3, 3, 32) + conv(3, 32, 32) + conv(3, 32, 64) + conv(3, 64, 64) + conv(3, 64, 128) + conv(3, 128, 128)
    up = conv(3, 128 + 64, 64) + conv(3, 64, 64) + conv(3, 64 + 32, 32) + conv(3, 32, 32)
    return down + up + conv(1, 32, n)


def derive_expected(n: int, fc: int = 4096) -> dict[str, int]:
    """Every model's count: the encoder up to the deepest level its decoder uses, plus the decoder."""
    encoders = {
        "": (VANILLA, VANILLA_C),
        "vgg": (VGG, VGG_C),
        "resnet50": (RESNET, RESNET_C),
        "mobilenet": (MOBILENET, MOBILENET_C),
    }
    expected = {"unet_mini": unet_mini_params(n)}
    for enc, (levels, c) in encoders.items():
        prefix, suffix = (f"{enc}_" if enc else ""), (f"_{enc}" if enc else "")
        expected[f"{prefix}segnet"] = sum(levels[:4]) + segnet_decoder(c[3], n)  # encoder_level=3: up to f4
        expected[f"{prefix}unet"] = sum(levels[:4]) + unet_decoder(c, n)
        expected[f"fcn_8{suffix}"] = sum(levels) + fcn8_decoder(c, n, fc)
        expected[f"fcn_32{suffix}"] = sum(levels) + fcn32_decoder(c, n, fc)
        if enc != "mobilenet":  # keras_segmentation has no mobilenet_pspnet (commented out there)
            expected[f"{prefix}pspnet"] = sum(levels) + pspnet_decoder(c[4], n)
    return expected


#: The totals at n_classes=12, as the derivation above gives them (also the docs/MODELS.md column).
EXPECTED_PARAMS: dict[str, int] = {
    "fcn_32": 70_359_436,
    "fcn_32_mobilenet": 226_174_156,
    "fcn_32_resnet50": 452_053_900,
    "fcn_32_vgg": 134_899_532,
    "fcn_8": 69_817_252,
    "fcn_8_mobilenet": 225_635_044,
    "fcn_8_resnet50": 451_524_004,
    "fcn_8_vgg": 134_360_420,
    "mobilenet_segnet": 5_547_148,
    "mobilenet_unet": 6_321_292,
    "pspnet": 3_324_300,
    "resnet50_pspnet": 29_944_716,
    "resnet50_segnet": 14_867_788,
    "resnet50_unet": 16_379_212,
    "segnet": 3_703_372,
    "unet": 4_477_516,
    "unet_mini": 471_916,
    "vgg_pspnet": 17_139_532,
    "vgg_segnet": 11_554_572,
    "vgg_unet": 12_328_716,
}

# ---------------------------------------------------------------------------------------------------------------
# The modern models: every modern decoder on every mobile encoder. Expected counts: the encoder's (Keras
# applications' count with include_top=False, which the encoder holds whole; test_zoo_parts checks it against
# keras.applications) plus the decoder's layers as documented in mobseg/decoders/<decoder>.py.
# ---------------------------------------------------------------------------------------------------------------

#: Parameters of each encoder: keras.applications.<Name>(include_top=False) (MobileNet v1: MOBILENET, all levels).
ENCODER_PARAMS: dict[str, int] = {
    "mobilenet": 3_228_864,
    "mobilenetv2": 2_257_984,
    "mobilenetv3_small": 939_120,
    "mobilenetv3_large": 2_996_352,
    "efficientnetb0": 4_049_571,
    "efficientnetb1": 6_575_239,
    "efficientnetb2": 7_768_569,
    "efficientnetb3": 10_783_535,
    "efficientnetv2b0": 5_919_312,
    "efficientnetv2b1": 6_931_124,
}

#: Channels of f1..f5 of each encoder (the last block output at strides 2..16, the network's last layer).
ENCODER_CHANNELS: dict[str, list[int]] = {
    "mobilenet": MOBILENET_C,
    "mobilenetv2": [16, 24, 32, 96, 1280],
    "mobilenetv3_small": [16, 16, 24, 48, 576],
    "mobilenetv3_large": [16, 24, 40, 112, 960],
    "efficientnetb0": [16, 24, 40, 112, 1280],
    "efficientnetb1": [16, 24, 40, 112, 1280],
    "efficientnetb2": [16, 24, 48, 120, 1408],
    "efficientnetb3": [24, 32, 48, 136, 1536],
    "efficientnetv2b0": [16, 32, 48, 112, 1280],
    "efficientnetv2b1": [16, 32, 48, 112, 1280],
}


def separable(k: int, cin: int, cout: int) -> int:
    """Atrous separable convolution: k x k depthwise (no bias) + BN, 1x1 pointwise (no bias) + BN."""
    return k * k * cin + bn(cin) + conv(1, cin, cout, bias=False) + bn(cout)


def deeplabv3plus_params(c: list[int], n: int, f: int = 256, low: int = 48) -> int:
    """ASPP on f5 (1x1, three separable rates, image pooling 1x1, 1x1 projection of 5f), 1x1 low-level on f2,
    two separable 3x3 on f + low, 1x1 classifier."""
    aspp = 2 * (conv(1, c[4], f, bias=False) + bn(f)) + 3 * separable(3, c[4], f) + conv(1, 5 * f, f, False) + bn(f)
    decoder = conv(1, c[1], low, bias=False) + bn(low) + separable(3, f + low, f) + separable(3, f, f)
    return aspp + decoder + conv(1, f, n)


def lraspp_params(c: list[int], n: int, f: int = 128) -> int:
    """1x1 + BN on f5, 1x1 gate on pooled f5 (no bias), classifiers on the gated features and on f3."""
    return conv(1, c[4], f, bias=False) + bn(f) + conv(1, c[4], f, bias=False) + conv(1, f, n) + conv(1, c[2], n)


def fpn_params(c: list[int], n: int, p: int = 256, s: int = 128) -> int:
    """1x1 laterals on f2..f5; 3x3 + BN blocks: one from each of P5..P2, then 3 more (two on P5, one on P4)."""
    laterals = sum(conv(1, ci, p) for ci in c[1:])
    return laterals + 4 * (conv(3, p, s, bias=False) + bn(s)) + 3 * (conv(3, s, s, bias=False) + bn(s)) + conv(1, s, n)


def linknet_block_params(cin: int, cout: int) -> int:
    """1x1 to cin // 4 + BN, 3x3 transposed (no bias) + BN, 1x1 to cout + BN."""
    m = cin // 4
    return conv(1, cin, m, bias=False) + bn(m) + deconv(3, m, m) + bn(m) + conv(1, m, cout, bias=False) + bn(cout)


def linknet_params(c: list[int], n: int, prefinal: int = 32) -> int:
    """Blocks f5->f4, f4->f3, f3->f2, f2->f1, f1->32 (stride 1), 1x1 classifier."""
    blocks = sum(linknet_block_params(c[i], c[i - 1]) for i in range(4, 0, -1))
    return blocks + linknet_block_params(c[0], prefinal) + conv(1, prefinal, n)


MODERN_DECODERS = {
    "deeplabv3plus": deeplabv3plus_params,
    "lraspp": lraspp_params,
    "fpn": fpn_params,
    "linknet": linknet_params,
}


def modern_parts(name: str) -> tuple[str, str]:
    """(encoder, decoder) of a modern model's name, ``<encoder>_<decoder>``."""
    encoder, decoder = name.rsplit("_", 1)
    return encoder, decoder


#: Every modern model's count at n_classes=12: the encoder's plus the decoder's.
EXPECTED_MODERN_PARAMS: dict[str, int] = {
    f"{encoder}_{decoder}": ENCODER_PARAMS[encoder] + derive(ENCODER_CHANNELS[encoder], N_CLASSES)
    for decoder, derive in MODERN_DECODERS.items()
    for encoder in ENCODER_PARAMS
}

#: Original models in the default run: the article's model, mobilenet_unet, and each original decoder (SegNet,
#: U-Net, FCN, PSPNet) on the small vanilla encoder; the VGG16 / ResNet50 / MobileNet variants (the 4096-wide FCN
#: ones take up to 45 s) are marked slow. Every encoder is still built and checked by test_zoo_parts by default.
FAST_ORIGINAL = {"mobilenet_segnet", "mobilenet_unet", "unet_mini", "segnet", "fcn_32", "pspnet"}
#: Modern models in the default run: DeepLabV3+ on MobileNet v1 (the CamVid comparison's encoder) and LR-ASPP on
#: MobileNetV3 (a Keras applications encoder); every modern decoder and encoder is built by test_zoo_parts too.
FAST_MODERN = {"mobilenet_deeplabv3plus", "mobilenetv3_small_lraspp"}

ORIGINAL_MODELS = sorted(EXPECTED_PARAMS)
MODERN_MODELS = sorted(EXPECTED_MODERN_PARAMS)
#: The zoo suite's parameters: the models outside FAST_ORIGINAL and FAST_MODERN are marked slow.
MODEL_PARAMS = [
    name if name in FAST_ORIGINAL | FAST_MODERN else pytest.param(name, marks=pytest.mark.slow) for name in MODELS
]

#: What each modern encoder adds to the common layout: (activation default, its own parameters).
MODERN_ENCODER_PARAMETERS: dict[str, tuple[str, str]] = {
    "mobilenet": ("'relu6'", "alpha=1.0, depth_multiplier=1, "),
    "mobilenetv2": ("'relu6'", "alpha=1.0, "),
    "mobilenetv3_small": ("None", "alpha=1.0, minimalistic=False, "),
    "mobilenetv3_large": ("None", "alpha=1.0, minimalistic=False, "),
    **{name: ("'swish'", "") for name in ENCODER_PARAMS if name.startswith("efficientnet")},
}


def declared_modern_parameters(name: str) -> str:
    """The modern model's parameters, written out: the zoo's common layout, the encoder's, then output_stride."""
    encoder, decoder = modern_parts(name)
    activation, own = MODERN_ENCODER_PARAMETERS[encoder]
    stride = "output_stride=16, " if decoder in ("deeplabv3plus", "lraspp") else ""
    return (
        f"n_classes, input_height=224, input_width=224, activation={activation}, decoder_activation='relu', "
        f"channels=3, {own}{stride}head='flat', logits=False"
    )


#: keras_segmentation's default (input_height, input_width) of each model.
ORIGINAL_DEFAULT_SIZES: dict[str, tuple[int, int]] = {
    **{name: (416, 608) for name in EXPECTED_PARAMS if name.startswith("fcn_")},
    **{name: (384, 576) for name in ("pspnet", "vgg_pspnet", "resnet50_pspnet")},
    **{name: (416, 608) for name in ("segnet", "vgg_segnet", "resnet50_segnet", "unet", "vgg_unet", "resnet50_unet")},
    "mobilenet_segnet": (224, 224),
    "mobilenet_unet": (224, 224),
    "unet_mini": (360, 480),
}

#: Every factory's parameters in order, with their defaults, written out: the public API (as before the model
#: families, which now build these signatures). Positional calls bind in this order.
DECLARED_PARAMETERS: dict[str, str] = {
    "fcn_32": (
        "n_classes, input_height=416, input_width=608, activation='relu', decoder_activation='relu', "
        "channels=3, crop=False, fc_filters=4096, head='flat', logits=False"
    ),
    "fcn_32_mobilenet": (
        "n_classes, input_height=416, input_width=608, activation='relu6', decoder_activation='relu', "
        "channels=3, alpha=1.0, depth_multiplier=1, crop=False, fc_filters=4096, head='flat', "
        "logits=False"
    ),
    "fcn_32_resnet50": (
        "n_classes, input_height=416, input_width=608, activation='relu', decoder_activation='relu', "
        "channels=3, crop=False, fc_filters=4096, head='flat', logits=False"
    ),
    "fcn_32_vgg": (
        "n_classes, input_height=416, input_width=608, activation='relu', decoder_activation='relu', "
        "channels=3, crop=False, fc_filters=4096, head='flat', logits=False"
    ),
    "fcn_8": (
        "n_classes, input_height=416, input_width=608, activation='relu', decoder_activation='relu', "
        "channels=3, crop=False, fc_filters=4096, head='flat', logits=False"
    ),
    "fcn_8_mobilenet": (
        "n_classes, input_height=416, input_width=608, activation='relu6', decoder_activation='relu', "
        "channels=3, alpha=1.0, depth_multiplier=1, crop=False, fc_filters=4096, head='flat', "
        "logits=False"
    ),
    "fcn_8_resnet50": (
        "n_classes, input_height=416, input_width=608, activation='relu', decoder_activation='relu', "
        "channels=3, crop=False, fc_filters=4096, head='flat', logits=False"
    ),
    "fcn_8_vgg": (
        "n_classes, input_height=416, input_width=608, activation='relu', decoder_activation='relu', "
        "channels=3, crop=False, fc_filters=4096, head='flat', logits=False"
    ),
    "mobilenet_segnet": (
        "n_classes, input_height=224, input_width=224, encoder_level=3, activation='relu6', "
        "decoder_activation=None, channels=3, alpha=1.0, depth_multiplier=1, head='flat', logits=False"
    ),
    "mobilenet_unet": (
        "n_classes, input_height=224, input_width=224, encoder_level=3, activation='relu6', "
        "decoder_activation='relu', channels=3, alpha=1.0, depth_multiplier=1, head='flat', "
        "logits=False"
    ),
    "pspnet": (
        "n_classes, input_height=384, input_width=576, activation='relu', decoder_activation='relu', "
        "channels=3, head='flat', logits=False"
    ),
    "resnet50_pspnet": (
        "n_classes, input_height=384, input_width=576, activation='relu', decoder_activation='relu', "
        "channels=3, head='flat', logits=False"
    ),
    "resnet50_segnet": (
        "n_classes, input_height=416, input_width=608, encoder_level=3, activation='relu', "
        "decoder_activation=None, channels=3, head='flat', logits=False"
    ),
    "resnet50_unet": (
        "n_classes, input_height=416, input_width=608, encoder_level=3, activation='relu', "
        "decoder_activation='relu', channels=3, head='flat', logits=False"
    ),
    "segnet": (
        "n_classes, input_height=416, input_width=608, encoder_level=3, activation='relu', "
        "decoder_activation=None, channels=3, head='flat', logits=False"
    ),
    "unet": (
        "n_classes, input_height=416, input_width=608, encoder_level=3, activation='relu', "
        "decoder_activation='relu', channels=3, head='flat', logits=False"
    ),
    "unet_mini": (
        "n_classes, input_height=360, input_width=480, activation='relu', decoder_activation='relu', "
        "channels=3, dropout=0.2, head='flat', logits=False"
    ),
    "vgg_pspnet": (
        "n_classes, input_height=384, input_width=576, activation='relu', decoder_activation='relu', "
        "channels=3, head='flat', logits=False"
    ),
    "vgg_segnet": (
        "n_classes, input_height=416, input_width=608, encoder_level=3, activation='relu', "
        "decoder_activation=None, channels=3, head='flat', logits=False"
    ),
    "vgg_unet": (
        "n_classes, input_height=416, input_width=608, encoder_level=3, activation='relu', "
        "decoder_activation='relu', channels=3, head='flat', logits=False"
    ),
}

#: The annotations ``help()`` shows for each parameter.
ANNOTATIONS = {
    **dict.fromkeys(("n_classes", "input_height", "input_width", "encoder_level", "channels"), "int"),
    **dict.fromkeys(("depth_multiplier", "fc_filters"), "int"),
    **dict.fromkeys(("alpha", "dropout"), "float"),
    **dict.fromkeys(("crop", "logits", "minimalistic"), "bool"),
    "output_stride": "int",
    "activation": "ActivationSpec",
    "decoder_activation": "ActivationSpec | None",
    "head": "str",
}

# ---------------------------------------------------------------------------------------------------------------
# Per-family test settings.
# ---------------------------------------------------------------------------------------------------------------

#: Input-size multiple of each decoder family (the documented rule).
SIZE_MULTIPLE = {
    **{"segnet": 16, "unet": 16, "unet_mini": 4, "fcn_8": 32, "fcn_32": 32, "pspnet": 192},
    **dict.fromkeys(MODERN_DECODERS, 16),
}

#: Behaviour tests build FCNs with narrow fc6/fc7 (see the module docstring).
FCN_TEST_FC = 32


def decoder_of(name: str) -> str:
    return get_model_info(name).decoder


def small_size(name: str) -> tuple[int, int]:
    return (192, 384) if decoder_of(name) == "pspnet" else (32, 64)


def narrow_kwargs(name: str) -> dict:
    return {"fc_filters": FCN_TEST_FC} if decoder_of(name).startswith("fcn") else {}


def expected_output_size(name: str, h: int, w: int) -> tuple[int, int]:
    decoder = decoder_of(name)
    if decoder in ("segnet", "unet"):
        return h // 2, w // 2
    if decoder == "pspnet":
        return h // 4, w // 4
    if decoder == "fcn_8":
        return h + 8, w + 8
    if decoder == "fcn_32":
        return h + 32, w + 32
    return h, w  # unet_mini and the modern decoders


def build(name: str, **overrides) -> mobseg.SegmentationModel:
    h, w = small_size(name)
    kwargs = {"input_height": h, "input_width": w, **narrow_kwargs(name), **overrides}
    return mobseg.build_model(name, N_CLASSES, **kwargs)


@dataclass
class Case:
    name: str
    model: mobseg.SegmentationModel
    x: np.ndarray
    y: np.ndarray


@pytest.fixture(autouse=True)
def _seed():
    """Overrides conftest's ``_seed`` here: seed each test, but leave ``clear_session()`` to the ``case``
    fixture (once per model). Clearing after every test runs a full garbage collection over the module's
    live models, ~0.4 s x 144 tests on 2 cores."""
    keras.utils.set_random_seed(0)
    yield


@pytest.fixture(scope="module", params=MODEL_PARAMS)
def case(request) -> Case:
    """Each model built once for all the tests of this module (pytest groups the tests by model)."""
    name = request.param
    keras.utils.set_random_seed(0)
    model = build(name)
    h, w = small_size(name)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (2, h, w, 3)).astype("float32") / 255.0
    oh, ow = model.output_size
    y = rng.integers(0, N_CLASSES, (2, oh * ow))
    yield Case(name, model, x, y)
    del model
    keras.backend.clear_session()
    gc.collect()


# ---------------------------------------------------------------------------------------------------------------
# The registry.
# ---------------------------------------------------------------------------------------------------------------


def test_registry_has_the_twenty_originals_and_every_modern_decoder_on_every_mobile_encoder():
    assert sorted(MODELS) == sorted([*EXPECTED_PARAMS, *EXPECTED_MODERN_PARAMS])
    assert len(EXPECTED_PARAMS) == 20 and len(EXPECTED_MODERN_PARAMS) == 40
    assert all(get_model_info(name).decoder == modern_parts(name)[1] for name in MODERN_MODELS)
    assert all(get_model_info(name).encoder == modern_parts(name)[0] for name in MODERN_MODELS)


def test_a_decoder_on_an_encoder_is_the_registered_model():
    model = mobseg.build_model("deeplabv3plus", 3, encoder="mobilenetv3_small", input_height=32, input_width=32)
    assert model.name == model.architecture["name"] == "mobilenetv3_small_deeplabv3plus"
    assert mobseg.zoo.model_name("unet", "vgg16") == "vgg_unet"  # keras_segmentation's names resolve too
    assert mobseg.zoo.model_name("segnet", "mobilenet") == "mobilenet_segnet"
    with pytest.raises(ValueError, match=r"'fpn' is a decoder; name its encoder, e\.g\. build_model\('fpn', 3, enc"):
        mobseg.build_model("fpn", 3)
    with pytest.raises(ValueError, match=r"No lraspp model on the encoder 'vgg16'; lraspp is registered on: "):
        mobseg.build_model("lraspp", 3, encoder="vgg16")
    with pytest.raises(ValueError, match=r"Unknown decoder 'deeplab'\. Did you mean: deeplabv3plus"):
        mobseg.build_model("deeplab", 3, encoder="mobilenetv2")


def test_expected_counts_follow_from_the_original_layers():
    assert derive_expected(N_CLASSES) == EXPECTED_PARAMS
    # anchors: keras.applications' encoders without top, and the article's MobileNet-SegNet summary
    assert sum(VGG) == 14_714_688 and sum(RESNET) == 23_587_712 and sum(MOBILENET) == 3_228_864
    assert sum(MOBILENET[:4]) + segnet_decoder(512, 2) == 5_541_378
    assert ENCODER_PARAMS["mobilenet"] == sum(MOBILENET)


def _described(signature: inspect.Signature) -> str:
    parameters = signature.parameters.values()
    return ", ".join(p.name if p.default is p.empty else f"{p.name}={p.default!r}" for p in parameters)


@pytest.mark.parametrize("name", ORIGINAL_MODELS)
def test_factory_is_exported_with_the_original_defaults(name):
    info = get_model_info(name)
    assert getattr(mobseg, name) is info.factory
    assert info.default_size == ORIGINAL_DEFAULT_SIZES[name]
    assert str(SIZE_MULTIPLE[info.decoder]) in info.size_rule


@pytest.mark.parametrize("name", MODERN_MODELS)
def test_modern_factory_is_exported_with_its_declared_parameters(name):
    info = get_model_info(name)
    factory = getattr(mobseg, name)
    assert factory is info.factory and info.default_size == (224, 224) and "multiples of 16" in info.size_rule
    signature = inspect.signature(factory)
    assert _described(signature) == declared_modern_parameters(name)
    expected = {p: ANNOTATIONS[p] for p in signature.parameters}
    if signature.parameters["activation"].default is None:  # MobileNetV3: the network's own activations
        expected["activation"] = "ActivationSpec | None"
    assert {p.name: p.annotation for p in signature.parameters.values()} == expected
    assert factory.__name__ == name and " encoder; logits at the input size." in factory.__doc__.splitlines()[0]
    assert f"{name}{signature}" in pydoc.render_doc(factory, renderer=pydoc.plaintext)


@pytest.mark.parametrize("name", ORIGINAL_MODELS)
def test_factory_signature_is_its_declared_parameters(name):
    factory = getattr(mobseg, name)
    signature = inspect.signature(factory)
    assert _described(signature) == DECLARED_PARAMETERS[name]
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in signature.parameters.values())
    assert {p.name: p.annotation for p in signature.parameters.values()} == {
        p: ANNOTATIONS[p] for p in signature.parameters
    }
    assert signature.return_annotation == "SegmentationModel"
    assert factory.__name__ == name and factory.__doc__.startswith(("keras_segmentation's", "The MobileNet-SegNet"))
    assert f"{name}{signature}" in pydoc.render_doc(factory, renderer=pydoc.plaintext)  # what help() prints


def test_every_registered_model_is_exported_from_the_registry():
    assert set(MODELS) <= set(mobseg.__all__)
    assert all(hasattr(mobseg, name) for name in mobseg.__all__)
    from mobseg import vgg_unet

    assert vgg_unet is get_model_info("vgg_unet").factory
    family_modules = {"segnet", "unet", "pspnet"}  # in mobseg.zoo these names stay the family modules
    assert all(getattr(mobseg.zoo, name) is getattr(mobseg, name) for name in set(MODELS) - family_modules)
    assert set(mobseg.zoo.__all__) >= set(MODELS)


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match="Did you mean: vgg_unet"):
        mobseg.build_model("vgg_unte", 2)


@pytest.mark.parametrize("name", MODELS)
def test_bad_sizes_raise_the_documented_error(name):
    multiple = SIZE_MULTIPLE[decoder_of(name)]
    bad = multiple + multiple // 2
    nearest = f"{multiple} or {2 * multiple}"
    with pytest.raises(ValueError, match=rf"{name}: input_height={bad} is not a multiple of {multiple} .*{nearest}"):
        build(name, input_height=bad)
    with pytest.raises(ValueError, match=rf"input_width={bad} is not a multiple of {multiple}"):
        build(name, input_width=bad)
    with pytest.raises(ValueError, match="input_height must be a positive integer"):
        build(name, input_height=None)


def test_models_table_is_in_sync():
    table = (Path(__file__).parent.parent / "docs" / "MODELS.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \|.*\| ([\d,]+) \| [^|]+ \| [^|]+ \|$", table, flags=re.M)
    assert {name: int(params.replace(",", "")) for name, params in rows} == EXPECTED_PARAMS | EXPECTED_MODERN_PARAMS
    assert "python scripts/models_table.py --write docs/MODELS.md" in table


# ---------------------------------------------------------------------------------------------------------------
# The base tester: every test below runs once per registered model.
# ---------------------------------------------------------------------------------------------------------------


def _zeros(self, shape, dtype=None):
    return keras.ops.zeros(shape, dtype=dtype)


def test_parameter_count_matches_the_original(case, monkeypatch):
    if narrow_kwargs(case.name):  # FCN: the fixture is narrow; check it, then build the original width once
        narrow = derive_expected(N_CLASSES, fc=FCN_TEST_FC)[case.name]
        assert case.model.count_params() == narrow
        h, w = small_size(case.name)
        # Only the count is read: fill the 4096-wide fc6/fc7 kernels (Conv2D's glorot_uniform) with zeros instead
        # of drawing up to 450M random numbers (fcn_8_resnet50 builds in 1.6 s instead of 18 s).
        monkeypatch.setattr(keras.initializers.GlorotUniform, "__call__", _zeros)
        model = mobseg.build_model(case.name, N_CLASSES, input_height=h, input_width=w)
        count = model.count_params()
        del model
        gc.collect()
    else:
        count = case.model.count_params()
    assert count == (EXPECTED_PARAMS | EXPECTED_MODERN_PARAMS)[case.name]


def test_output_matches_the_head(case):
    h, w = small_size(case.name)
    oh, ow = expected_output_size(case.name, h, w)
    assert case.model.output_size == (oh, ow)
    assert case.model.input_shape == (None, h, w, 3)
    assert case.model.output_shape == (None, oh * ow, N_CLASSES)
    assert isinstance(case.model.layers[-1], keras.layers.Softmax)
    assert case.model.name == case.name
    assert case.model.architecture["name"] == case.name
    assert case.model.architecture["encoder"] == get_model_info(case.name).encoder


def test_one_training_step_gives_a_finite_loss(case):
    case.model.compile(
        optimizer=keras.optimizers.SGD(1e-3), loss="sparse_categorical_crossentropy", run_eagerly=True
    )  # eager: one step costs less than tracing a graph
    loss = case.model.train_on_batch(case.x, case.y)
    assert np.isfinite(loss)


def test_keras_round_trip_predicts_exactly_the_same(case, tmp_path):
    path = tmp_path / f"{case.name}.keras"
    case.model.save(path)
    loaded = keras.saving.load_model(path)  # safe_mode=True by default: no Lambda, no custom code
    assert isinstance(loaded, mobseg.SegmentationModel)
    assert loaded.architecture == case.model.architecture
    expected = keras.ops.convert_to_numpy(case.model(case.x, training=False))
    got = keras.ops.convert_to_numpy(loaded(case.x, training=False))
    np.testing.assert_array_equal(got, expected)


def test_build_record_lists_the_arguments_in_signature_order(case):
    signature = inspect.signature(get_model_info(case.name).factory)
    assert list(case.model.architecture["kwargs"]) == list(signature.parameters)


#: The probe's layer names per (encoder, input shape, encoder arguments): every decoder on an encoder shares them,
#: so the 40 modern models build each of the 10 encoders alone once, not once per model.
_PROBED: dict[tuple, frozenset[str]] = {}


def encoder_layers_by_probe(model: mobseg.SegmentationModel) -> list[str]:
    """How freezing found the encoder layers before they were recorded (issue 11): build the model's encoder
    alone and keep the model's layers that it has, in model order."""
    encoder = model.architecture["encoder"]
    _, height, width, channels = model.input_shape
    kwargs = model.architecture["kwargs"]
    extra = {k: kwargs[k] for k in ("alpha", "depth_multiplier", "minimalistic", "output_stride") if k in kwargs}
    key = (encoder, height, width, channels, tuple(sorted(extra.items())))
    if key not in _PROBED:
        build = unet_mini_encoder if encoder == "unet_mini" else get_encoder(encoder)
        features = build(height, width, channels=channels, **extra)
        probe = keras.Model(features.inputs, features.pyramid)
        own = (layer.name for layer in probe.layers if not isinstance(layer, keras.layers.InputLayer))
        _PROBED[key] = frozenset(own)
    return [layer.name for layer in model.layers if layer.name in _PROBED[key]]


def test_encoder_layers_are_recorded_at_build(case):
    recorded = case.model.architecture["encoder_layers"]
    assert recorded == encoder_layers_by_probe(case.model)  # freezing reads only the record now (issue 11)
    assert recorded == case.model.encoder_layers == encoder_layer_names(case.model)
    order = [layer.name for layer in case.model.layers]
    assert recorded == [name for name in order if name in set(recorded)]  # model layer order
    assert order[0] not in recorded and order[-1] not in recorded  # not the input, not the head


def _describe(layer: keras.layers.Layer) -> tuple:
    return layer.name, layer.__class__.__name__, layer.count_params()


#: The activations the zoo's encoders and decoders use by design (relu6: MobileNet v1/v2; hard_silu and relu:
#: MobileNetV3; silu: EfficientNet's swish).
DESIGN_ACTIVATIONS = ("relu", "relu6", "hard_silu", "silu")
#: Gates, not activations: squeeze-and-excite (EfficientNet, fused in its expand convolution) and LR-ASPP's; a swap
#: leaves them (MobileNetV3's squeeze-and-excite ReLU / hard-sigmoid are ReLU layers and stay too).
GATES = ("sigmoid",)


def test_swapping_the_activation_changes_only_activation_layers(case):
    factory_defaults = {
        k: p.default for k, p in inspect.signature(get_model_info(case.name).factory).parameters.items()
    }
    swap = {"activation": "elu"}
    if factory_defaults["decoder_activation"] is not None:
        swap["decoder_activation"] = "elu"
    swapped = build(case.name, **swap)

    base_layers, new_layers = case.model.layers, swapped.layers
    assert [_describe(a) for a in base_layers] == [_describe(b) for b in new_layers]
    assert swapped.count_params() == case.model.count_params()
    changed = []
    for a, b in zip(base_layers, new_layers, strict=True):
        config_a, config_b = a.get_config(), b.get_config()
        if isinstance(a, keras.layers.Activation) and config_a["activation"] not in GATES:
            assert config_a["activation"] in DESIGN_ACTIVATIONS, a.name  # the models' defaults
            assert config_b["activation"] == "elu", a.name
            changed.append(a.name)
        else:
            assert config_a == config_b, a.name
            # no activation hidden inside a layer: every nonlinearity is a switchable layer (gates aside)
            assert config_a.get("activation", "linear") in ("linear", *GATES), a.name
    assert set(changed) & set(case.model.encoder_layers)  # the encoder's activations changed
    del swapped

    if factory_defaults["decoder_activation"] is None:  # SegNet: the faithful decoder has none; the fix adds 4
        activated = build(case.name, decoder_activation="relu")
        extra = [layer.name for layer in activated.layers if layer.name.startswith("segnet_act_")]
        assert extra == [f"segnet_act_{i}" for i in range(1, 5)]
        assert len(activated.layers) == len(base_layers) + 4
        assert activated.count_params() == case.model.count_params()
