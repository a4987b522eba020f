"""Encoder weights load by layer name from Keras applications' HDF5 files, offline, with a report."""

import keras
import numpy as np
import pytest

import mobseg
from mobseg import pretrained

SIZE = 64


def randomize(model, seed=0):
    """Give every weight a distinct random value, so equality after loading means something."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign(rng.uniform(0.5, 1.5, w.shape).astype("float32"))


@pytest.fixture(scope="module")
def mobilenet_h5(tmp_path_factory):
    app = keras.applications.MobileNet(weights=None, include_top=False, input_shape=(SIZE, SIZE, 3))
    randomize(app)
    path = tmp_path_factory.mktemp("weights") / "mobilenet_1_0_224_tf_no_top.h5"
    app.save(path)  # the legacy HDF5 layout Keras applications' weight files use
    return path, {layer.name: [np.asarray(w) for w in layer.weights] for layer in app.layers if layer.weights}


def test_mobilenet_file_loads_into_our_encoder_exactly(mobilenet_h5):
    path, expected = mobilenet_h5
    model = mobseg.mobilenet_segnet(3, input_height=SIZE, input_width=SIZE, encoder_level=4)
    decoder_before = {
        layer.name: [np.asarray(w) for w in layer.weights] for layer in model.layers if "segnet" in layer.name
    }
    report = pretrained.load_encoder_weights(model, path)
    assert report.ok and not report.mismatched and not report.unused and not report.not_in_file
    assert sorted(report.loaded) == sorted(expected)  # every weighted layer of the file
    for name, arrays in expected.items():
        for ours, theirs in zip(model.get_layer(name).weights, arrays, strict=True):
            np.testing.assert_array_equal(np.asarray(ours), theirs)
    for name, arrays in decoder_before.items():  # the decoder is untouched
        for ours, before in zip(model.get_layer(name).weights, arrays, strict=True):
            np.testing.assert_array_equal(np.asarray(ours), before)
    assert model.architecture["encoder_weights"]["loaded"] == len(expected)


def test_factory_argument_and_unused_deeper_blocks(mobilenet_h5):
    path, expected = mobilenet_h5
    model = mobseg.mobilenet_segnet(3, input_height=SIZE, input_width=SIZE, encoder_weights=str(path))
    # encoder_level=3 stops at block 11: blocks 12-13 of the file are reported unused, not mismatched
    np.testing.assert_array_equal(np.asarray(model.get_layer("conv_pw_11").kernel), expected["conv_pw_11"][0])
    assert model.architecture["encoder_weights"]["unused"] == 8


def test_wrong_width_is_refused_with_the_reason(mobilenet_h5):
    path, _ = mobilenet_h5
    model = mobseg.mobilenet_segnet(3, input_height=SIZE, input_width=SIZE, alpha=0.5)
    with pytest.raises(
        ValueError, match=r"(?s)do not fit this model:.*loaded 0 layers, 46 mismatched.*mismatched conv1: model expects"
    ):
        pretrained.load_encoder_weights(model, path)


def test_missing_and_corrupt_files(tmp_path):
    model = mobseg.mobilenet_segnet(3, input_height=SIZE, input_width=SIZE, alpha=0.25)
    with pytest.raises(FileNotFoundError, match="Weights file not found"):
        pretrained.load_encoder_weights(model, tmp_path / "nope.h5")
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"this is not hdf5")
    with pytest.raises(ValueError, match="is not a readable HDF5 weights file"):
        pretrained.load_encoder_weights(model, junk)


def test_imagenet_names_and_offline_error(monkeypatch):
    assert pretrained.imagenet_file_name("mobilenet", 0.25) == "mobilenet_2_5_224_tf_no_top.h5"
    assert pretrained.imagenet_file_name("vgg16") == "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    with pytest.raises(ValueError, match="alpha in"):
        pretrained.imagenet_file_name("mobilenet", 0.3)

    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    model = mobseg.mobilenet_segnet(3, input_height=SIZE, input_width=SIZE, alpha=0.25)
    with pytest.raises(RuntimeError, match=r"mobilenet_2_5_224_tf_no_top\.h5.*encoder_weights='/path/to/"):
        pretrained.load_encoder_weights(model, "imagenet")


@pytest.mark.parametrize(
    "application, encoder, segmenter",
    [
        (keras.applications.VGG16, mobseg.vgg16_encoder, "vgg_segnet"),
        (keras.applications.ResNet50, mobseg.resnet50_encoder, "resnet50_segnet"),
    ],
    ids=["vgg16", "resnet50"],
)
def test_keras_applications_files_load_into_our_encoders(application, encoder, segmenter, tmp_path):
    app = application(weights=None, include_top=False, input_shape=(SIZE, SIZE, 3))
    randomize(app, seed=1)
    path = tmp_path / "weights.h5"
    app.save(path)
    expected = {layer.name: [np.asarray(w) for w in layer.weights] for layer in app.layers if layer.weights}
    del app

    features = encoder(SIZE, SIZE)
    ours = keras.Model(features.inputs, features.pyramid)
    report = pretrained.load_weights_by_name(ours, path)
    assert report.ok and not report.mismatched and not report.unused and not report.not_in_file
    assert sorted(report.loaded) == sorted(expected)
    for name, arrays in expected.items():
        for mine, theirs in zip(ours.get_layer(name).weights, arrays, strict=True):
            np.testing.assert_array_equal(np.asarray(mine), theirs)

    # through the model factory: the encoder loads, the decoder stays as initialised
    keras.utils.set_random_seed(3)
    untouched = mobseg.build_model(segmenter, 3, input_height=SIZE, input_width=SIZE)
    keras.utils.set_random_seed(3)
    model = mobseg.build_model(segmenter, 3, input_height=SIZE, input_width=SIZE, encoder_weights=str(path))
    decoder = [layer.name for layer in model.layers if layer.weights and layer.name not in expected]
    assert decoder and all(
        np.array_equal(np.asarray(a), np.asarray(b))
        for name in decoder
        for a, b in zip(model.get_layer(name).weights, untouched.get_layer(name).weights, strict=True)
    )
    assert model.architecture["encoder_weights"]["mismatched"] == []
