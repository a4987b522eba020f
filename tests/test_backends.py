"""The whole training path on the backend this process runs (TensorFlow, JAX or PyTorch), and parity across them.

.ci/run runs this file (with the model, loss and metric tests) under ``KERAS_BACKEND=jax`` and ``=torch`` too.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import mobseg
from mobseg.data import list_pairs, model_dataset
from mobseg.datasets import make_shapes
from mobseg.training import evaluate_dataset, read_history_csv, train

ROOT = Path(__file__).resolve().parents[1]
BACKEND = keras.backend.backend()


class Interrupt(keras.callbacks.Callback):
    """Raise when epoch ``at_epoch`` begins (a crash)."""

    def __init__(self, at_epoch=None):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise RuntimeError(f"interrupted at epoch {epoch}")


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return make_shapes(tmp_path_factory.mktemp("shapes") / "data", n_train=8, n_val=4, size=(32, 32), seed=2)


def _train(shapes, out, callback):
    keras.utils.set_random_seed(0)
    return train(
        shapes.train_images,
        shapes.train_masks,
        val_images=shapes.val_images,
        val_masks=shapes.val_masks,
        model=mobseg.mobilenet_segnet(4, input_height=32, input_width=32, alpha=0.25, encoder_level=2),
        epochs=3,
        freeze_encoder_epochs=1,
        batch_size=4,
        class_weights="balanced",
        ignore_index=255,
        class_names=shapes.class_names,
        out=out,
        verbose=0,
        callbacks=[callback],
    )


def test_train_resume_evaluate_predict_and_reload_on_this_backend(shapes, tmp_path):
    """tf.data pipeline -> fit (both phases, SegmentationCrossentropy, MeanIoU) -> resume -> files -> reload."""
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="epoch 2"):
        _train(shapes, out, Interrupt(at_epoch=2))  # crash in the unfrozen phase
    run = _train(shapes, out, Interrupt())  # resumes at epoch 2
    rows = read_history_csv(out / "history.csv")
    assert [r["epoch"] for r in rows] == [0, 1, 2]
    assert [r["phase"] for r in rows] == ["frozen", "unfrozen", "unfrozen"]
    assert all(np.isfinite(r["loss"]) and 0 <= r["val_mean_iou"] <= 1 for r in rows)
    info = json.loads((out / "training.json").read_text())
    assert info["status"] == "complete" and info["backend"] == BACKEND and info["resumed"] == 1
    for name in ("model.keras", "checkpoints/best.keras", "checkpoints/last.keras", "curves.png"):
        assert (out / name).is_file(), name

    val = model_dataset(run.model, list_pairs(shapes.val_images, shapes.val_masks), batch_size=4)
    report = evaluate_dataset(run.model, val)
    assert abs(report["mean_iou"] - rows[-1]["val_mean_iou"]) < 1e-4  # the Keras metric agrees with numpy

    loaded = mobseg.load_model(out)
    assert loaded.architecture["class_names"] == list(shapes.class_names)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(run.model(x)), atol=1e-6
    )
    masks = mobseg.predict(loaded, shapes.val_images, out_dir=tmp_path / "pred")
    assert len(masks) == 4 and all(m.shape == (32, 32) for m in masks)


@pytest.mark.parametrize("mode", ["caffe", "mobilenet", "unit", "none"])
def test_preprocessing_takes_this_backends_tensors(mode):
    x = np.random.default_rng(1).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    expected = mobseg.preprocessing.preprocess_images(x, mode)
    got = mobseg.preprocessing.preprocess_images(keras.ops.convert_to_tensor(x), mode)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(got), expected, atol=1e-4)


def test_export_says_it_needs_tensorflow(tmp_path):
    if BACKEND == "tensorflow":
        pytest.skip("export works under TensorFlow (tests/test_export.py); this checks the JAX/PyTorch message")
    from mobseg.export import export_model

    model = mobseg.mobilenet_segnet(2, input_height=32, input_width=32, alpha=0.25)
    for fmt in ("tflite", "saved_model", "onnx"):
        with pytest.raises(RuntimeError, match=f"Export to {fmt} needs the TensorFlow backend; .*'{BACKEND}'"):
            export_model(model, tmp_path / f"m.{fmt}", format=fmt)


RUN_SAVED_MODEL = """
import sys
import keras, numpy as np
import mobseg  # registers the mobseg classes
model = keras.saving.load_model(sys.argv[1])
out = keras.ops.convert_to_numpy(model(np.load(sys.argv[2])))
np.save(sys.argv[3], out)
print(keras.backend.backend())
"""


def _randomised_batchnorm(model, rng):
    """Non-trivial BatchNorm statistics, so that inference-mode normalisation is exercised too."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = (np.asarray(w) for w in layer.get_weights())
            layer.set_weights(
                [
                    rng.uniform(0.8, 1.2, gamma.shape).astype("float32"),
                    rng.normal(0, 0.1, beta.shape).astype("float32"),
                    rng.normal(0, 0.1, mean.shape).astype("float32"),
                    rng.uniform(0.5, 1.5, var.shape).astype("float32"),
                ]
            )


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("other", ["jax", "torch"])
def test_a_saved_model_gives_the_same_outputs_under_each_backend(other, tmp_path):
    """Saved under TensorFlow (this process), loaded under ``other`` in a subprocess: same outputs within 1e-4."""
    probe = subprocess.run([sys.executable, "-c", f"import {other}"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"{other} is not installed (pip install 'mobseg[{other}]')")
    rng = np.random.default_rng(0)
    model = mobseg.mobilenet_segnet(4, input_height=64, input_width=64, head="spatial", logits=True)
    _randomised_batchnorm(model, rng)
    model.save(tmp_path / "m.keras")
    x = mobseg.preprocessing.preprocess_images(rng.uniform(0, 255, (2, 64, 64, 3)), "mobilenet").astype("float32")
    np.save(tmp_path / "x.npy", x)
    logits = keras.ops.convert_to_numpy(model(x))
    env = {**os.environ, "KERAS_BACKEND": other, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    args = [str(tmp_path / "m.keras"), str(tmp_path / "x.npy"), str(tmp_path / "y.npy")]
    done = subprocess.run(
        [sys.executable, "-c", RUN_SAVED_MODEL, *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert done.stdout.strip().splitlines()[-1] == other
    other_logits = np.load(tmp_path / "y.npy")
    probs = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    other_probs = keras.ops.convert_to_numpy(keras.ops.softmax(other_logits))
    print(
        f"{other}: logits max abs diff {np.abs(other_logits - logits).max():.2e} (scale {np.abs(logits).max():.1f}), "
        f"probabilities {np.abs(other_probs - probs).max():.2e}, "
        f"argmax agreement {(other_logits.argmax(-1) == logits.argmax(-1)).mean():.4f}"
    )
    np.testing.assert_allclose(other_probs, probs, atol=1e-4, rtol=0)
    np.testing.assert_allclose(other_logits, logits, atol=1e-4 * max(1.0, np.abs(logits).max()), rtol=0)
    assert (other_logits.argmax(-1) == logits.argmax(-1)).mean() >= 0.999
