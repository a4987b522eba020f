"""The zoo's encoders and decoders on their own: pyramids, Keras-applications names, the documented fixes."""

from __future__ import annotations

import inspect
import math

import keras
import numpy as np
import pytest
from test_zoo import ENCODER_CHANNELS, ENCODER_PARAMS

import mobseg
from mobseg.encoders import get_encoder
from mobseg.encoders.applications import APPLICATION_ENCODERS, IMAGENET_STDDEV_RGB
from mobseg.zoo import registry
from mobseg.zoo.pspnet import PSPNET

PYRAMID_CHANNELS = {
    "vanilla": [64, 128, 256, 256, 256],
    "vgg16": [64, 128, 256, 512, 512],
    "resnet50": [64, 256, 512, 1024, 2048],
    "mobilenet": [64, 128, 256, 512, 1024],
}


@pytest.mark.parametrize("name", sorted(PYRAMID_CHANNELS))
def test_pyramid_channels_and_strides(name):
    features = get_encoder(name)(64, 96, channels=1)
    assert features.channels == PYRAMID_CHANNELS[name]
    assert [tuple(f.shape[1:3]) for f in features.pyramid] == [(64 // s, 96 // s) for s in features.strides]
    assert features.inputs.shape == (None, 64, 96, 1)


def test_unknown_encoder_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Did you mean: vgg16"):
        get_encoder("vgg")


@pytest.mark.parametrize(
    ("ours", "application"),
    [(mobseg.vgg16_encoder, keras.applications.VGG16), (mobseg.resnet50_encoder, keras.applications.ResNet50)],
)
def test_every_weighted_keras_applications_layer_has_a_twin(ours, application):
    """A later issue loads keras.applications' ImageNet .h5 files by name: every weighted layer must match."""
    reference = application(weights=None, include_top=False, input_shape=(64, 64, 3))
    features = ours(64, 64)
    encoder = keras.Model(features.inputs, features.pyramid[-1])
    layers = {layer.name: layer for layer in encoder.layers}
    weighted = [layer for layer in reference.layers if layer.weights]
    for layer in weighted:
        assert layer.name in layers, layer.name
        twin = layers[layer.name]
        assert type(twin) is type(layer), layer.name
        assert [tuple(w.shape) for w in twin.weights] == [tuple(w.shape) for w in layer.weights], layer.name
    assert encoder.count_params() == reference.count_params()
    assert len([layer for layer in encoder.layers if layer.weights]) == len(weighted)


def test_resnet50_f1_is_conv1_before_batchnorm():
    features = mobseg.resnet50_encoder(64, 64)
    encoder = keras.Model(features.inputs, features.pyramid)
    assert encoder.get_layer("conv1_conv").output is features.pyramid[0]
    assert encoder.get_layer("conv2_one_side_crop").output is features.pyramid[1]


@pytest.mark.parametrize("name", ["fcn_8", "fcn_32"])
def test_fcn_crop_restores_the_input_grid_without_new_parameters(name):
    kwargs = {"input_height": 64, "input_width": 96, "fc_filters": 16, "head": "spatial"}
    faithful = mobseg.build_model(name, 3, **kwargs)
    cropped = mobseg.build_model(name, 3, crop=True, **kwargs)
    excess = 8 if name == "fcn_8" else 32
    assert faithful.output_shape == (None, 64 + excess, 96 + excess, 3)
    assert cropped.output_shape == (None, 64, 96, 3)
    assert cropped.count_params() == faithful.count_params()


def test_unet_refuses_the_encoder_level_the_original_ignored():
    with pytest.raises(ValueError, match="silently ignored"):
        mobseg.unet(2, input_height=64, input_width=64, encoder_level=2)


def test_fcn_fc_filters_must_be_positive():
    with pytest.raises(ValueError, match="fc_filters"):
        mobseg.fcn_32(2, input_height=32, input_width=32, fc_filters=0)


def test_pspnet_decoder_rejects_features_it_cannot_pool_evenly():
    with pytest.raises(ValueError, match="multiples of 6"):
        mobseg.pspnet_decoder(keras.Input((4, 4, 8)), 2)


def test_unet_mini_keeps_the_input_size_and_its_dropout():
    model = mobseg.unet_mini(3, input_height=32, input_width=48, head="spatial", logits=True)
    assert model.output_shape == (None, 32, 48, 3)
    assert [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)] == [0.2] * 5
    assert model.preprocessing == "unit"


@pytest.mark.parametrize(
    ("name", "mode"),
    [("segnet", "unit"), ("vgg_unet", "caffe"), ("resnet50_pspnet", "caffe"), ("mobilenet_unet", "mobilenet")],
)
def test_preprocessing_follows_the_encoder(name, mode):
    size = 192 if "pspnet" in name else 32
    assert mobseg.build_model(name, 2, input_height=size, input_width=size).preprocessing == mode


def test_every_decoder_takes_the_pyramid_and_a_level():
    levels = mobseg.vanilla_encoder(192, 192).pyramid
    calls = [
        (mobseg.segnet_decoder, 3, {}, (96, 96)),
        (mobseg.unet_decoder, 3, {}, (96, 96)),
        (mobseg.fcn8_decoder, 4, {"fc_filters": 8}, (200, 200)),
        (mobseg.fcn32_decoder, 4, {"fc_filters": 8}, (224, 224)),
        (mobseg.pspnet_decoder, 4, {}, (48, 48)),
    ]
    for i, (decoder, level, options, size) in enumerate(calls):
        logits = decoder(levels, 3, level=level, decoder_activation="relu", prefix=f"d{i}", **options)
        assert tuple(logits.shape) == (None, *size, 3), decoder.__name__
    # the original call forms still work: SegNet and PSPNet also take the one map they decode
    assert mobseg.segnet_decoder(levels[3], 3, 3, None, "old_segnet").shape == (None, 96, 96, 3)
    assert mobseg.pspnet_decoder(levels[4], 3, "relu", "old_psp").shape == (None, 48, 48, 3)
    assert mobseg.unet_decoder(levels, 3, False, "relu", "old_unet").shape == (None, 96, 96, 3)


def test_decoder_levels_are_checked():
    levels = mobseg.vanilla_encoder(64, 64).pyramid
    with pytest.raises(ValueError, match=r"unet_decoder needs the pyramid levels \[f1, f2, f3, f4\]; got 2 levels"):
        mobseg.unet_decoder(levels[:2], 2)
    with pytest.raises(ValueError, match=r"fcn8_decoder: level must be a pyramid index >= 2; got 1"):
        mobseg.fcn8_decoder(levels, 2, level=1)
    with pytest.raises(ValueError, match=r"segnet_decoder needs the pyramid levels \[f6\]"):
        mobseg.segnet_decoder(levels, 2, level=5)
    with pytest.raises(ValueError, match="too deep"):
        mobseg.unet_decoder(levels, 2, level=4)
    # a shallower U-Net start: f3 with the later stages, still at stride 2
    assert mobseg.unet_decoder(levels, 2, level=2, prefix="u2").shape == (None, 32, 32, 2)


def test_factories_bind_positional_arguments_in_their_declared_order():
    model = mobseg.segnet(3, 32, 64, 3, "elu", "relu", 1, "spatial", True)
    assert model.input_shape == (None, 32, 64, 1) and model.output_shape == (None, 16, 32, 3)
    assert model.outputs_logits and model.get_layer("vanilla_act_1").get_config()["activation"] == "elu"
    with pytest.raises(TypeError, match=r"segnet\(\): too many positional arguments. Its arguments are: n_classes"):
        mobseg.segnet(3, 32, 64, 3, "elu", "relu", 1, "spatial", True, "extra")


def test_a_new_model_is_one_decorated_function(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # forget it after the test

    @PSPNET.model(encoder="mobilenet")
    def mobilenet_pspnet():
        """PSPNet on MobileNet v1 (keras_segmentation left it out)."""

    assert mobseg.is_model("mobilenet_pspnet") and mobilenet_pspnet.__doc__.startswith("PSPNet on MobileNet")
    parameters = list(inspect.signature(mobilenet_pspnet).parameters)
    assert parameters[-5:] == ["channels", "alpha", "depth_multiplier", "head", "logits"]
    model = mobseg.build_model("mobilenet_pspnet", 3, input_height=192, input_width=192, alpha=0.25)
    assert model.architecture["encoder"] == "mobilenet" and model.architecture["decoder"] == "pspnet"
    assert model.output_shape == (None, 48 * 48, 3) and model.encoder_layers[-1] == "conv_pw_13_relu"
    with pytest.raises(TypeError, match="takes no parameters of its own"):

        @PSPNET.model(encoder="vgg16")
        def with_parameters(n_classes): ...


# ---------------------------------------------------------------------------------------------------------------
# The modern encoders (keras.applications) and decoders.
# ---------------------------------------------------------------------------------------------------------------

#: Keras applications encoders checked in the default run; the larger EfficientNets are marked slow.
SLOW_ENCODERS = {"efficientnetb1", "efficientnetb2", "efficientnetb3", "efficientnetv2b1"}
APPLICATION_PARAMS = [
    pytest.param(name, marks=pytest.mark.slow) if name in SLOW_ENCODERS else name for name in APPLICATION_ENCODERS
]


def imagenet_scale(name: str) -> np.ndarray:
    """What EfficientNet's extra ImageNet rescaling multiplies by (1 elsewhere): see mobseg.encoders.applications."""
    scale = [1 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB] if APPLICATION_ENCODERS[name].imagenet_rescaling else 1
    return np.asarray(scale, "float32")


@pytest.mark.parametrize("name", APPLICATION_PARAMS)
def test_application_encoder_is_the_keras_application(name):
    """Same weighted layers (names, classes, shapes), same count, same function once the weights are shared."""
    spec = APPLICATION_ENCODERS[name]
    reference = getattr(keras.applications, spec.application)(include_top=False, weights=None, input_shape=(32, 64, 3))
    features = get_encoder(name)(32, 64)
    encoder = keras.Model(features.inputs, features.pyramid)
    assert features.channels == ENCODER_CHANNELS[name] and features.name == name
    assert [tuple(f.shape[1:3]) for f in features.pyramid] == [(32 // s, 64 // s) for s in (2, 4, 8, 16, 32)]
    assert encoder.count_params() == reference.count_params() == ENCODER_PARAMS[name]
    ours = {layer.name: layer for layer in encoder.layers if layer.weights}
    theirs = [layer for layer in reference.layers if layer.weights]
    assert sorted(ours) == sorted(layer.name for layer in theirs)  # the names ImageNet files load by
    for layer in theirs:
        assert type(ours[layer.name]) is type(layer), layer.name
        ours[layer.name].set_weights(layer.get_weights())
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 64, 3)).astype("float32")
    x_in = x / 127.5 - 1 if features.preprocessing == "mobilenet" else x
    assert features.preprocessing == ("mobilenet" if name == "mobilenetv2" else "none")
    expected = np.asarray(reference(x_in * imagenet_scale(name)))
    np.testing.assert_allclose(np.asarray(encoder(x_in)[-1]), expected, rtol=1e-4, atol=1e-4)


def test_output_stride_dilates_the_last_stages_with_the_same_weights():
    plain_model = keras.Model(*mobseg.mobilenetv2_encoder(64, 64))
    dilated = mobseg.mobilenetv2_encoder(64, 64, output_stride=8)
    model = keras.Model(dilated.inputs, dilated.pyramid)
    assert [int(f.shape[1]) for f in dilated.pyramid] == [32, 16, 8, 8, 8] and dilated.strides == (2, 4, 8, 8, 8)
    assert model.count_params() == plain_model.count_params()
    model.set_weights(plain_model.get_weights())  # same weights, in the same order
    x = np.random.default_rng(1).uniform(-1, 1, (1, 64, 64, 3)).astype("float32")
    for ours, before in zip(model(x)[:3], plain_model(x)[:3], strict=True):  # f1..f3 are computed as before
        np.testing.assert_allclose(np.asarray(ours), np.asarray(before), atol=1e-6)
    assert model.get_layer("block_6_depthwise").dilation_rate == (2, 2)  # was stride 2 at 8: stride 1, dilation 2
    last = model.get_layer("block_16_depthwise")  # in the stride-32 stage: dilation 4
    assert last.strides == (1, 1) and last.dilation_rate == (4, 4)
    assert "block_13_pad" not in [layer.name for layer in model.layers]  # its stride-2 convolution pads 'same'
    v1 = mobseg.mobilenet_encoder(64, 64, output_stride=16)
    assert v1.strides == (2, 4, 8, 16, 16) and keras.Model(v1.inputs, v1.pyramid).count_params() == 3_228_864
    with pytest.raises(ValueError, match=r"output_stride=4 is not supported; use 32 \(the encoder as built\), 16 or 8"):
        mobseg.build_model("mobilenet_deeplabv3plus", 2, input_height=64, input_width=64, output_stride=4)


def _activations(model: keras.Model) -> list[str]:
    return [layer.get_config()["activation"] for layer in model.layers if isinstance(layer, keras.layers.Activation)]


def test_activation_swap_replaces_the_design_activations_not_the_gates():
    design_model = keras.Model(*mobseg.mobilenetv3_small_encoder(32, 32))
    swapped_model = keras.Model(*mobseg.mobilenetv3_small_encoder(32, 32, activation="gelu"))
    # as built: ReLU in the first blocks, hard-swish after; every one becomes gelu, the squeeze-excite gates stay
    assert set(_activations(design_model)) == {"relu", "hard_silu"} and set(_activations(swapped_model)) == {"gelu"}
    assert len(_activations(design_model)) == len(_activations(swapped_model))
    gates = [layer.name for layer in swapped_model.layers if isinstance(layer, keras.layers.ReLU)]
    assert gates and all("squeeze_excite" in name or name.startswith("re_lu") for name in gates)
    effnet = keras.Model(*mobseg.efficientnetb0_encoder(32, 32, activation="relu"))
    assert effnet.get_layer("block2a_se_reduce").get_config()["activation"] == "linear"  # split off and swapped
    assert effnet.get_layer("block2a_se_reduce_activation").get_config()["activation"] == "relu"
    assert effnet.get_layer("block2a_se_expand").get_config()["activation"] == "sigmoid"  # the gate stays


def test_modern_encoders_refuse_tiny_inputs_and_unknown_options():
    with pytest.raises(ValueError, match=r"mobilenetv2: the encoder needs a fixed input of at least 32x32; got 16x64"):
        mobseg.mobilenetv2_encoder(16, 64)
    with pytest.raises(ValueError, match="alpha"):
        mobseg.mobilenetv3_large_encoder(32, 32, alpha=0)


@pytest.mark.parametrize(
    "decoder", [mobseg.deeplabv3plus_decoder, mobseg.lraspp_decoder, mobseg.fpn_decoder, mobseg.linknet_decoder]
)
def test_modern_decoders_work_on_any_pyramid(decoder):
    """keras_segmentation's vanilla encoder, a dilated MobileNet v1 and CamVid's 176x240 (f5 resized onto f4)."""
    for i, features in enumerate(
        (mobseg.vanilla_encoder(64, 64), mobseg.mobilenet_encoder(64, 64, output_stride=8, alpha=0.25))
    ):
        logits = decoder(features.pyramid, 3, prefix=f"d{i}")
        assert logits.shape == (None, 64, 64, 3)
    camvid = mobseg.mobilenet_encoder(176, 240, alpha=0.25)
    assert [tuple(f.shape[1:3]) for f in camvid.pyramid][-2:] == [(11, 15), (6, 8)]
    assert decoder(camvid.pyramid, 11, decoder_activation=None, prefix="camvid").shape == (None, 176, 240, 11)


def test_modern_decoder_arguments_are_checked():
    levels = mobseg.vanilla_encoder(64, 64).pyramid
    with pytest.raises(ValueError, match="low_level must be a pyramid index below level=4; got 4"):
        mobseg.deeplabv3plus_decoder(levels, 2, low_level=4)
    with pytest.raises(ValueError, match=r"fpn_decoder needs the pyramid levels \[f2, f3, f4, f5\]; got 3 levels"):
        mobseg.fpn_decoder(levels[:3], 2)
    with pytest.raises(ValueError, match="dropout"):
        mobseg.fpn_decoder(levels, 2, dropout=1.5)
