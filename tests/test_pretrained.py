"""Encoder weights load by layer name from Keras applications' HDF5 files, offline, with a report."""

import h5py
import keras
import numpy as np
import pytest

import mobseg
from mobseg import pretrained
from mobseg.encoders.applications import APPLICATION_ENCODERS
from mobseg.training.arguments import has_pretrained_encoder

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
    # the record survives a save and decides mobseg.train's default frozen phase
    assert has_pretrained_encoder(model)
    assert not has_pretrained_encoder(mobseg.mobilenet_segnet(3, input_height=SIZE, input_width=SIZE))


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


# ---------------------------------------------------------------------------------------------------------------
# The Keras applications encoders: files saved from keras.applications(weights=None) in the ImageNet files' layout.
# ---------------------------------------------------------------------------------------------------------------

#: Checked by default: one of each kind (EfficientNet with its Normalization and ImageNet rescaling); others slow.
SLOW_APPLICATIONS = {
    "mobilenetv3_large",
    "efficientnetb1",
    "efficientnetb2",
    "efficientnetb3",
    "efficientnetv2b0",
    "efficientnetv2b1",
}


def application_file(name: str, path, seed: int = 2) -> dict[str, list[np.ndarray]]:
    """Save keras.applications' network ``name`` (weights=None, randomised; a fresh session names it as Keras' own
    ImageNet files) in the legacy HDF5 layout of those files; return its weights by layer name."""
    keras.backend.clear_session()  # unnamed layers get a fresh session's names: "normalization", as in the files
    spec = APPLICATION_ENCODERS[name]
    app = getattr(keras.applications, spec.application)(include_top=False, weights=None, input_shape=(SIZE, SIZE, 3))
    rng = np.random.default_rng(seed)
    for layer in app.layers:
        for w in layer.weights:
            if w.dtype == "float32":  # near 1 for BatchNormalization and Normalization: a finite, distinct network
                scale = 0.1 if len(w.shape) > 1 else 1.0
                w.assign((rng.uniform(0.5, 1.5, w.shape) * scale).astype("float32"))
    app.save(path)
    return {layer.name: [np.asarray(w) for w in layer.weights] for layer in app.layers if layer.weights}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_APPLICATIONS else n for n in APPLICATION_ENCODERS],
)
def test_keras_applications_files_load_into_the_modern_encoders(name, tmp_path):
    path = tmp_path / pretrained.imagenet_file_name(name)
    expected = application_file(name, path)
    features = mobseg.get_encoder(name)(SIZE, SIZE)
    ours = keras.Model(features.inputs, features.pyramid)
    report = pretrained.load_weights_by_name(ours, path)
    assert report.ok and not report.mismatched and not report.unused and not report.not_in_file
    assert sorted(report.loaded) == sorted(expected)
    for layer, arrays in expected.items():
        for mine, theirs in zip(ours.get_layer(layer).weights, arrays, strict=True):
            np.testing.assert_array_equal(np.asarray(mine), theirs)


def test_a_modern_model_loads_its_encoder_file_and_keeps_its_decoder(tmp_path):
    path = tmp_path / "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"
    expected = application_file("mobilenetv3_small", path)
    size = {"input_height": SIZE, "input_width": SIZE}
    keras.utils.set_random_seed(3)
    untouched = mobseg.mobilenetv3_small_lraspp(3, **size)
    keras.utils.set_random_seed(3)
    model = mobseg.mobilenetv3_small_lraspp(3, encoder_weights=str(path), **size)
    assert model.architecture["encoder_weights"] == {
        "source": str(path), "loaded": len(expected), "mismatched": [], "not_in_file": [], "unused": 0
    }  # fmt: skip
    decoder = [layer for layer in model.layers if layer.weights and layer.name.startswith("lraspp_")]
    assert decoder and all(
        np.array_equal(np.asarray(a), np.asarray(b))
        for layer in decoder
        for a, b in zip(layer.weights, untouched.get_layer(layer.name).weights, strict=True)
    )


def test_efficientnet_file_without_its_normalization_is_refused(tmp_path):
    """EfficientNet's Normalization is an unnamed Keras layer: if a file named it otherwise, loading must not pass
    silently with an identity normalization."""
    path = tmp_path / "efficientnetb0_notop.h5"
    application_file("efficientnetb0", path)
    with h5py.File(path, "r+") as handle:
        group = handle.get("model_weights", handle)
        names = [n for n in group.attrs["layer_names"] if n not in (b"normalization", "normalization")]
        group.attrs["layer_names"] = names
        del group["normalization"]
    model = mobseg.efficientnetb0_lraspp(3, input_height=SIZE, input_width=SIZE)
    with pytest.raises(ValueError, match=r"(?s)do not fit this model:.*not in file \(1\): normalization"):
        pretrained.load_encoder_weights(model, path)


def test_modern_imagenet_files_are_keras_applications_own(monkeypatch):
    base = "https://storage.googleapis.com/tensorflow/keras-applications/"
    v2 = pretrained.imagenet_weights_file("mobilenetv2", 0.35)
    assert (v2.name, v2.md5) == ("mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5", None)
    assert v2.url == base + "mobilenet_v2/" + v2.name
    v3 = pretrained.imagenet_weights_file("mobilenetv3_large", 0.75)
    assert v3 == pretrained.WeightsFile(
        "weights_mobilenet_v3_large_224_0.75_float_no_top_v2.h5",
        base + "mobilenet_v3/weights_mobilenet_v3_large_224_0.75_float_no_top_v2.h5",
        "40af19a13ebea4e2ee0c676887f69a2e",
    )
    b3 = pretrained.imagenet_weights_file("efficientnetb3")
    assert b3.url == "https://storage.googleapis.com/keras-applications/efficientnetb3_notop.h5"
    assert b3.md5 == "af6d107764bb5b1abb91932881670226"
    assert pretrained.imagenet_file_name("efficientnetv2b1") == "efficientnetv2-b1_notop.h5"
    with pytest.raises(ValueError, match=r"minimalistic: 1\.0 only"):
        pretrained.imagenet_file_name("mobilenetv3_small", 0.75, minimalistic=True)
    with pytest.raises(ValueError, match=r"MobileNetV2 ImageNet weights exist for alpha in \[0.35"):
        pretrained.imagenet_file_name("mobilenetv2", 0.6)

    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    model = mobseg.mobilenetv3_small_lraspp(3, input_height=SIZE, input_width=SIZE, minimalistic=True)
    with pytest.raises(RuntimeError, match=r"weights_mobilenet_v3_small_minimalistic_224_1\.0_float_no_top_v2\.h5"):
        pretrained.load_encoder_weights(model, "imagenet")
