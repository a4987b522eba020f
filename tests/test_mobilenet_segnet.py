"""The encoder's pyramid, the encoder levels, the heads, and the errors users get for bad arguments."""

import keras
import numpy as np
import pytest

import mobseg
from mobseg.zoo.segnet import segnet_output_size


def pyramid_shapes(**kwargs):
    features = mobseg.mobilenet_encoder(224, 224, **kwargs)
    return [tuple(f.shape[1:]) for f in features.pyramid]


def test_pyramid_shapes_at_224():
    assert pyramid_shapes() == [(112, 112, 64), (56, 56, 128), (28, 28, 256), (14, 14, 512), (7, 7, 1024)]


def test_alpha_half_halves_the_channels():
    assert [s[-1] for s in pyramid_shapes(alpha=0.5)] == [32, 64, 128, 256, 512]


def test_grayscale_and_rgba_inputs_build():
    for channels in (1, 4):
        model = mobseg.mobilenet_segnet(2, input_height=64, input_width=64, channels=channels)
        assert model.input_shape == (None, 64, 64, channels)
        assert model.get_layer("conv1").kernel.shape == (3, 3, channels, 32)


def test_pyramid_names_follow_keras_applications():
    features = mobseg.mobilenet_encoder(64, 64)
    names = ["conv_pw_1_relu", "conv_pw_3_relu", "conv_pw_5_relu", "conv_pw_11_relu", "conv_pw_13_relu"]
    encoder = keras.Model(features.inputs, features.pyramid)
    assert all(encoder.get_layer(n).output is f for n, f in zip(names, features.pyramid, strict=True))
    assert features.strides == (2, 4, 8, 16, 32)


def test_encoder_and_decoder_compose_by_hand():
    img, levels = mobseg.mobilenet_encoder(64, 64, activation="gelu")
    logits = mobseg.segnet_decoder(levels[2], n_classes=4, decoder_activation="relu")
    model = keras.Model(img, logits)
    assert model.output_shape == (None, 64, 64, 4)


@pytest.mark.parametrize("level, size", [(0, 256), (1, 128), (2, 64), (3, 32), (4, 16)])
def test_each_encoder_level_builds_with_documented_output_size(level, size):
    # documented: output = input * 2**3 / stride(level) -> 4x, 2x, 1x, 1/2, 1/4 of the input
    model = mobseg.mobilenet_segnet(3, input_height=64, input_width=64, encoder_level=level, head="spatial")
    assert model.output_shape == (None, size, size, 3)
    assert segnet_output_size(64, 64, level) == (size, size)
    assert model.output_size == (size, size)


def test_heads():
    flat = mobseg.mobilenet_segnet(5, input_height=64, input_width=96)
    spatial = mobseg.mobilenet_segnet(5, input_height=64, input_width=96, head="spatial")
    logits = mobseg.mobilenet_segnet(5, input_height=64, input_width=96, head="spatial", logits=True)
    assert flat.output_shape == (None, 32 * 48, 5)
    assert spatial.output_shape == (None, 32, 48, 5)
    assert logits.output_shape == (None, 32, 48, 5)
    assert flat.count_params() == spatial.count_params() == logits.count_params()
    x = np.random.default_rng(1).uniform(-1, 1, (1, 64, 96, 3)).astype("float32")
    spatial.set_weights(flat.get_weights())
    logits.set_weights(flat.get_weights())
    probs = keras.ops.convert_to_numpy(flat(x))
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(spatial(x)).reshape(probs.shape), probs, atol=1e-6)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(keras.ops.softmax(logits(x))).reshape(probs.shape), probs, atol=1e-5
    )


def test_registry_and_rebuild():
    assert "mobilenet_segnet" in mobseg.list_models()
    model = mobseg.build_model("mobilenet_segnet", 3, input_height=64, input_width=64, activation="mish")
    assert model.architecture["kwargs"]["activation"] == "mish"
    again = model.rebuild()
    assert [layer.name for layer in again.layers] == [layer.name for layer in model.layers]
    assert again.count_params() == model.count_params()


def test_unknown_model_lists_close_matches():
    with pytest.raises(ValueError, match=r"Unknown model 'mobilenet_segnett'\. Did you mean: mobilenet_segnet"):
        mobseg.build_model("mobilenet_segnett", 2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(input_height=225), r"input_height=225 is not a multiple of 16 .* nearest valid input_height: 224 or 240"),
        (dict(input_width=100), r"input_width=100 is not a multiple of 16 .* nearest valid input_width: 96 or 112"),
        (dict(input_height=64, encoder_level=4, input_width=48), r"input_width=48 is not a multiple of 32 .* 32 or 64"),
        (dict(input_height=None), r"input_height must be a positive integer"),
        (dict(n_classes=1), r"n_classes=1 is too small: it must be >= 2.* use n_classes=2"),
        (dict(n_classes=2.5), r"n_classes must be an integer >= 2"),
        (dict(activation="rellu"), r"Unknown activation 'rellu'. Use one of: .*relu6"),
        (dict(encoder_level=5), r"encoder_level=5 is out of range: use 0, 1, 2, 3 or 4"),
        (dict(encoder_level=-1), r"encoder_level=-1 is out of range"),
        (dict(channels=0), r"channels=0 is too small: it must be >= 1"),
        (dict(alpha=0), r"alpha \(the width multiplier\) must be a number > 0"),
        (dict(alpha=-0.5), r"alpha \(the width multiplier\) must be a number > 0"),
        (dict(head="grid"), r"Unknown head 'grid'; use one of flat, spatial"),
        (dict(depth_multiplier=0), r"depth_multiplier=0 is too small"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, message):
    kwargs = {"n_classes": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        mobseg.mobilenet_segnet(**kwargs)


def test_unknown_argument_names_the_valid_ones():
    with pytest.raises(TypeError, match="Its arguments are: n_classes, input_height"):
        mobseg.mobilenet_segnet(2, input_size=224)
