"""The zoo's encoders and decoders on their own: pyramids, Keras-applications names, the documented fixes."""

from __future__ import annotations

import inspect

import keras
import pytest

import mobseg
from mobseg.encoders import ENCODERS, get_encoder
from mobseg.zoo import registry
from mobseg.zoo.pspnet import PSPNET

PYRAMID_CHANNELS = {
    "vanilla": [64, 128, 256, 256, 256],
    "vgg16": [64, 128, 256, 512, 512],
    "resnet50": [64, 256, 512, 1024, 2048],
    "mobilenet": [64, 128, 256, 512, 1024],
}


@pytest.mark.parametrize("name", sorted(ENCODERS))
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
