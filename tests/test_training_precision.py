"""Mixed precision: a 16-bit run learns a toy problem, records its precision, and every file it saves is float32."""

import argparse
import json
import os

import keras
import numpy as np
import pytest
from PIL import Image

import mobseg
from mobseg.cli.args import add_training_arguments, training_options
from mobseg.data import Augmentation
from mobseg.training.precision import check_mixed_precision, float32_model, is_mixed, with_precision
from mobseg.training.run_config import RESUME_KEYS

BACKEND = keras.backend.backend()

#: Class -> colour of the toy scenes (blocks of one class each, with noise).
PALETTE = np.array([[20, 20, 20], [220, 40, 40], [40, 200, 60], [50, 60, 230]], np.uint8)

#: Measured (2 vCPU dev VM, unet_mini at 32x32, 5 epochs of 4 steps, Adam 3e-3): validation mean IoU
#: 0.78-0.94 after training in float32, bfloat16 and float16 under TensorFlow and JAX; 0.04-0.27 before.
LEARNED_MEAN_IOU = 0.5

#: TensorFlow's CPU kernels run bfloat16 training steps ~9x slower than float32 on the dev VM (no AVX-512 BF16),
#: float16 ~2.5x; the learning test takes float16 there (it also exercises loss scaling), bfloat16 elsewhere.
PRECISION = "float16" if BACKEND == "tensorflow" else "bfloat16"


def _blocks(folder, n, seed, size=32, block=8):
    rng = np.random.default_rng(seed)
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    for i in range(n):
        labels = np.kron(rng.integers(0, 4, (size // block, size // block)), np.ones((block, block), np.uint8))
        noise = rng.integers(-40, 40, (size, size, 3))
        image = np.clip(PALETTE[labels].astype(int) + noise, 0, 255).astype(np.uint8)
        Image.fromarray(image).save(folder / "images" / f"{i:03d}.png")
        Image.fromarray(labels.astype(np.uint8)).save(folder / "masks" / f"{i:03d}.png")
    return folder / "images", folder / "masks"


class OptimizerProbe(keras.callbacks.Callback):
    """Records the optimizer class and the compute dtype of the model that fit() trains."""

    def on_train_begin(self, logs=None):
        self.optimizer = type(self.model.optimizer).__name__
        self.compute_dtype = self.model.layers[1].compute_dtype


def test_mixed_precision_learns_and_saves_float32(tmp_path):
    train_images, train_masks = _blocks(tmp_path / "train", 32, seed=0)
    val_images, val_masks = _blocks(tmp_path / "val", 8, seed=1)
    keras.utils.set_random_seed(0)
    probe = OptimizerProbe()
    run = mobseg.train(
        train_images, train_masks, val_images=val_images, val_masks=val_masks, model="unet_mini", n_classes=4,
        input_size=(32, 32), epochs=5, batch_size=8, learning_rate=3e-3, augment=False, out=tmp_path / "run",
        verbose=0, mixed_precision=PRECISION, callbacks=[probe],
    )  # fmt: skip
    print(f"{BACKEND} {PRECISION}: {[round(row['val_mean_iou'], 3) for row in run.history]}")
    assert probe.compute_dtype == PRECISION
    assert probe.optimizer == ("LossScaleOptimizer" if PRECISION == "float16" else "Adam")
    assert run.history[0]["val_mean_iou"] < run.history[-1]["val_mean_iou"]
    assert run.history[-1]["val_mean_iou"] > LEARNED_MEAN_IOU
    info = json.loads((tmp_path / "run" / "training.json").read_text())
    assert info["mixed_precision"] == PRECISION and "mixed_precision" in RESUME_KEYS

    x = mobseg.preprocessing.preprocess_images(np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)), "unit")
    x = x.astype("float32")
    expected = keras.ops.convert_to_numpy(run.model(x))
    assert not is_mixed(run.model)
    for name in ("model.keras", os.path.join("checkpoints", "best.keras"), os.path.join("checkpoints", "last.keras")):
        loaded = keras.saving.load_model(tmp_path / "run" / name)
        assert {layer.compute_dtype for layer in loaded.layers if layer.weights} == {"float32"}, name
    out = keras.ops.convert_to_numpy(loaded(x))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=1e-6)
    masks = mobseg.predict(mobseg.load_model(tmp_path / "run"), val_images)
    assert len(masks) == 8


def _randomised(model):
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = (np.asarray(w) for w in layer.get_weights())
            layer.set_weights([rng.uniform(0.8, 1.2, gamma.shape), rng.normal(0, 0.2, beta.shape),
                               rng.normal(0, 0.1, mean.shape), rng.uniform(0.5, 1.5, var.shape)])  # fmt: skip
    return model


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_the_softmax_and_batchnorm_statistics_stay_float32(precision):
    model = _randomised(mobseg.mobilenet_segnet(3, input_height=32, input_width=32, alpha=0.25))
    mixed = with_precision(model, precision)
    computes = {type(layer).__name__: layer.compute_dtype for layer in mixed.layers[1:-1]}
    assert computes["Conv2D"] == computes["BatchNormalization"] == computes["DepthwiseConv2D"] == precision
    assert mixed.layers[-1].name == "output_softmax" and mixed.layers[-1].compute_dtype == "float32"
    assert {w.dtype for w in mixed.weights} == {"float32"}  # weights and BatchNorm moving statistics
    x = np.random.default_rng(1).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    full, half = (keras.ops.convert_to_numpy(m(x)) for m in (model, mixed))
    assert half.dtype == np.float32 and np.allclose(half.sum(-1), 1.0, atol=1e-5)
    assert 0 < np.abs(half - full).max() < 0.1  # 16-bit arithmetic: close, not equal
    back = float32_model(mixed)
    assert not is_mixed(back)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(back(x)), full, atol=1e-6)


def test_precision_names_and_the_command_line():
    assert check_mixed_precision("mixed_bfloat16") == "bfloat16" and check_mixed_precision(False) is None
    with pytest.raises(ValueError, match="mixed_precision='fp8' is unknown; use 'bfloat16'"):
        check_mixed_precision("fp8")
    parser = argparse.ArgumentParser()
    add_training_arguments(parser)
    assert training_options(parser.parse_args(["--mixed-precision"]))["mixed_precision"] == "bfloat16"
    assert training_options(parser.parse_args(["--mixed-precision", "float16"]))["mixed_precision"] == "float16"
    assert training_options(parser.parse_args([]))["mixed_precision"] is None
    native = training_options(parser.parse_args(["--crop", "native", "--scale", "1,1.25"]))["augment"]
    assert Augmentation.from_value(native) == Augmentation(crop="native", scale=(1, 1.25))
