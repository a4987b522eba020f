"""Exported models give the same masks as the Keras model; bad files give clear errors."""

import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image

import mobseg
from mobseg.export import TFLiteRunner, calibration_images, deployment_model, export_model, export_tflite
from mobseg.preprocessing import preprocess_images

SIZE = 64


def toy_batch(rng, n):
    """Images with a bright square (class 1) and a dark square (class 2) on noise; masks at 1/2 size."""
    images = rng.uniform(80, 170, (n, SIZE, SIZE, 3)).astype("float32")
    masks = np.zeros((n, SIZE, SIZE), "int32")
    for i in range(n):
        for cls, value in ((1, 250.0), (2, 5.0)):
            y, x = rng.integers(0, SIZE - 24, 2).tolist()
            s = int(rng.integers(12, 24))
            images[i, y : y + s, x : x + s] = value
            masks[i, y : y + s, x : x + s] = cls
    return images, masks[:, ::2, ::2].reshape(n, -1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny mobilenet_segnet trained briefly, and a folder of the images it saw."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    images, masks = toy_batch(rng, 64)
    model = mobseg.mobilenet_segnet(3, input_height=SIZE, input_width=SIZE, alpha=0.25)
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    model.fit(images / 127.5 - 1, masks, batch_size=16, epochs=6, verbose=0)
    folder = tmp_path_factory.mktemp("calibration")
    for i, image in enumerate(images[:16]):
        Image.fromarray(image.astype("uint8")).save(folder / f"{i:02d}.png")
    return model, folder, (images[16:32] / 127.5 - 1).astype("float32")


def test_deployment_model_is_the_spatial_view(trained):
    model, _, x = trained
    deploy = deployment_model(model)
    assert deploy.output_shape == (None, SIZE // 2, SIZE // 2, 3)
    np.testing.assert_allclose(np.asarray(deploy(x)).reshape(len(x), -1, 3), np.asarray(model(x)), atol=1e-6)


def test_tflite_float32_matches_keras(trained, tmp_path):
    model, _, _ = trained
    path = export_tflite(model, tmp_path / "m.tflite")
    x = np.random.default_rng(1).uniform(-1, 1, (3, SIZE, SIZE, 3)).astype("float32")
    ours = TFLiteRunner(path)(x)
    expected = np.asarray(deployment_model(model)(x))
    assert ours.shape == expected.shape == (3, SIZE // 2, SIZE // 2, 3)
    assert expected.std() > 1e-3  # the comparison is not between two constant maps
    assert np.abs(ours - expected).max() < 1e-4


def test_float16_halves_the_file(trained, tmp_path):
    model, _, x = trained
    f32 = export_tflite(model, tmp_path / "f32.tflite")
    f16 = export_tflite(model, tmp_path / "f16.tflite", quantize="float16")
    ratio = (tmp_path / "f16.tflite").stat().st_size / (tmp_path / "f32.tflite").stat().st_size
    assert 0.4 < ratio < 0.65
    assert np.abs(TFLiteRunner(f16)(x) - TFLiteRunner(f32)(x)).max() < 1e-2


def test_int8_agrees_with_float_argmax(trained, tmp_path):
    model, folder, x = trained
    path = export_model(model, tmp_path / "i8.tflite", format="tflite", quantize="int8", calibration_dir=folder)
    runner = TFLiteRunner(path)
    assert runner.interpreter.get_tensor_details()  # it loads in the stock interpreter (builtin ops only)
    agreement = (runner(x).argmax(-1) == np.asarray(deployment_model(model)(x)).argmax(-1)).mean()
    assert agreement >= 0.95
    assert path.agreement >= 0.95  # measured at export, on the calibration images, and recorded in the sidecar
    assert path.info["agreement"]["images"] == 16 and path.info["agreement"]["on"] == "calibration images"


def test_saved_model_round_trip(trained, tmp_path):
    import tensorflow as tf

    model, _, x = trained
    path = export_model(model, tmp_path / "sm", format="saved_model")
    loaded = tf.saved_model.load(path)
    out = loaded.serve(tf.constant(x[:1]))
    np.testing.assert_allclose(np.asarray(out), np.asarray(deployment_model(model)(x[:1])), atol=1e-5)


def test_onnx_matches_keras(trained, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="ONNX export is optional: pip install 'mobseg[onnx]'")
    pytest.importorskip("tf2onnx")
    model, _, x = trained
    path = export_model(model, tmp_path / "m.onnx", format="onnx")
    session = ort.InferenceSession(str(path))
    out = session.run(None, {session.get_inputs()[0].name: x[:1]})[0]
    assert np.abs(out - np.asarray(deployment_model(model)(x[:1]))).max() < 1e-4


def test_bad_requests_and_files(trained, tmp_path):
    model, _, _ = trained
    with pytest.raises(ValueError, match="int8 quantization needs calibration images"):
        export_tflite(model, tmp_path / "x.tflite", quantize="int8")
    with pytest.raises(ValueError, match="Unknown export format 'coreml'"):
        export_model(model, tmp_path / "x", format="coreml")
    with pytest.raises(ValueError, match="applies to the tflite format only"):
        export_model(model, tmp_path / "x", format="onnx", quantize="int8")
    with pytest.raises(FileNotFoundError, match="Calibration folder not found"):
        next(calibration_images(tmp_path / "nowhere", model))
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ValueError, match="is not a valid TFLite model"):
        TFLiteRunner(corrupt)
    assert not list(tmp_path.glob(".tmp-*"))  # nothing half-written left behind


def test_cli_export_and_bad_model_file(trained, tmp_path):
    model, _, _ = trained
    model.save(tmp_path / "model.keras")
    cmd = [sys.executable, "-m", "mobseg", "export", "--model", str(tmp_path / "model.keras")]
    done = subprocess.run(
        [*cmd, "--format", "tflite", "--out", str(tmp_path / "m.tflite")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and (tmp_path / "m.tflite").stat().st_size > 10_000
    (tmp_path / "notes.keras").write_text("not a model")
    bad = [sys.executable, "-m", "mobseg", "export", "--model", str(tmp_path / "notes.keras"), "--out", "x.tflite"]
    done = subprocess.run(bad, capture_output=True, text=True)
    assert done.returncode == 2
    assert "is not a Keras model archive" in done.stderr and "Traceback" not in done.stderr


def skip_model():
    """A toy U-Net step: a ReLU6 skip (0..6) concatenated with a decoder path whose BatchNorm output spans ~+-100."""
    inputs = keras.Input((32, 32, 3))
    skip = keras.layers.ReLU(6.0, name="skip_relu6")(
        keras.layers.Conv2D(8, 3, padding="same", name="skip_conv")(inputs)
    )
    down = keras.layers.Conv2D(16, 3, strides=2, padding="same", name="down")(skip)
    down = keras.layers.BatchNormalization(name="down_bn")(keras.layers.ReLU(name="down_relu")(down))
    x = keras.layers.Concatenate(name="cat")([keras.layers.UpSampling2D(2, name="up")(down), skip])
    x = keras.layers.Conv2D(4, 3, name="classifier")(keras.layers.ZeroPadding2D(1, name="pad")(x))
    model = keras.Model(inputs, keras.layers.Softmax()(x))
    bn = model.get_layer("down_bn")
    bn.set_weights(
        [np.full(16, 40.0, "float32"), np.zeros(16, "float32"), np.zeros(16, "float32"), np.ones(16, "float32")]
    )
    return model


def concat_scale(path):
    details = TFLiteRunner(path).interpreter.get_tensor_details()
    return next(
        t["quantization"][0] for t in details if t["name"].endswith("cat_1/concat") or t["name"].endswith("/cat/concat")
    )


def test_int8_equalizes_concatenations_and_keeps_the_skips(tmp_path):
    from mobseg.export.equalize import equalize_concat_ranges

    model = skip_model()
    rng = np.random.default_rng(0)
    samples = [rng.uniform(-1, 1, (32, 32, 3)).astype("float32") for _ in range(16)]
    equalized, report = equalize_concat_ranges(model, samples)
    assert [(r["concat"], r["producer"], r["target"] > 0) for r in report] == [
        ("cat", "down -> down_relu -> down_bn", True)
    ]
    x = np.stack(samples[:4])
    np.testing.assert_allclose(np.asarray(equalized(x)), np.asarray(model(x)), atol=1e-5)  # exact in float
    before = export_tflite(model, tmp_path / "plain.tflite", quantize="int8", calibration=samples, equalize=False)
    after = export_tflite(model, tmp_path / "equalized.tflite", quantize="int8", calibration=samples)
    assert concat_scale(before) > 5 * concat_scale(after)  # the skip is no longer flattened
    reference = np.asarray(model(x)).argmax(-1)
    agree = [(TFLiteRunner(p)(x).argmax(-1) == reference).mean() for p in (before, after)]
    assert agree[1] >= 0.97 and agree[1] > agree[0]


@pytest.mark.parametrize("kind", ["conv", "conv_bn", "conv_relu_bn", "fused_relu_bn"])
def test_equalization_is_exact_in_float_for_each_producer(kind):
    from mobseg.export.equalize import equalize_concat_ranges

    inputs = keras.Input((16, 16, 3))
    skip = keras.layers.ReLU(6.0)(keras.layers.Conv2D(4, 3, padding="same")(inputs))
    x = keras.layers.Conv2D(6, 3, strides=2, padding="same", activation="relu" if kind == "fused_relu_bn" else None)(
        skip
    )
    if kind == "conv_relu_bn":
        x = keras.layers.ReLU()(x)
    if kind != "conv":
        x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Concatenate()([keras.layers.UpSampling2D(2)(x), skip])
    model = keras.Model(inputs, keras.layers.Conv2D(3, 3, padding="same")(keras.layers.ZeroPadding2D(1)(x)))
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            rng = np.random.default_rng(2)
            layer.set_weights(
                [rng.uniform(-30, 30, 6), rng.normal(0, 5, 6), rng.normal(0, 1, 6), rng.uniform(0.5, 2, 6)]
            )
    samples = [np.random.default_rng(i).uniform(-1, 1, (16, 16, 3)).astype("float32") for i in range(4)]
    equalized, report = equalize_concat_ranges(model, samples)
    assert len(report) == 1 and report[0]["target"] > 0
    x = np.stack(samples)
    np.testing.assert_allclose(np.asarray(equalized(x)), np.asarray(model(x)), rtol=1e-4, atol=1e-3)


#: The modern mobile models exported in tests: (name, input size, options). 80x112 is an odd multiple of 16 (f5
#: resized onto f4, LinkNet's crop), as CamVid's 176x240. The default run exports the first; the rest are slow.
MODERN_EXPORTS = [
    ("mobilenetv3_small_lraspp", (64, 64), {}),
    *(
        pytest.param(name, size, options, marks=pytest.mark.slow)
        for name, size, options in [
            ("mobilenetv2_deeplabv3plus", (64, 64), {"alpha": 0.35}),
            ("mobilenetv3_large_lraspp", (64, 64), {"minimalistic": True}),
            ("mobilenet_deeplabv3plus", (80, 112), {"alpha": 0.25}),
            ("mobilenet_lraspp", (80, 112), {"alpha": 0.25}),
            ("mobilenet_fpn", (80, 112), {"alpha": 0.25}),
            ("mobilenet_linknet", (80, 112), {"alpha": 0.25}),
        ]
    ),
]


@pytest.mark.parametrize(("name", "size", "options"), MODERN_EXPORTS)
def test_modern_mobile_models_export_to_tflite_float32_and_int8(name, size, options, tmp_path):
    """Builtin ops only (the stock interpreter runs them); float32 as Keras; int8 close to it (untrained weights:
    logits compared, whose scale the calibration sets)."""
    keras.utils.set_random_seed(0)
    height, width = size
    model = mobseg.build_model(name, 3, input_height=height, input_width=width, head="spatial", logits=True, **options)
    images = np.random.default_rng(0).uniform(0, 255, (6, *size, 3)).astype("float32")
    x = np.asarray(preprocess_images(images, model.preprocessing), "float32")
    expected = np.concatenate([np.asarray(model(x[i : i + 1])) for i in range(len(x))])  # batch 1, as the file
    f32 = TFLiteRunner(export_tflite(model, tmp_path / "f32.tflite"))(x)
    assert f32.shape == expected.shape == (6, *size, 3)
    assert np.abs(f32 - expected).max() <= 1e-4 * np.abs(expected).max()
    i8 = TFLiteRunner(export_tflite(model, tmp_path / "i8.tflite", quantize="int8", calibration=list(x)))(x)
    assert np.corrcoef(i8.ravel(), expected.ravel())[0, 1] > 0.98
    assert (i8.argmax(-1) == expected.argmax(-1)).mean() >= 0.9
