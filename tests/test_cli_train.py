"""The CLI: ``mobseg verify`` exit codes and ``mobseg train`` end to end on tiny data."""

import json

import pytest

from mobseg.cli import main
from mobseg.datasets import make_shapes


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return make_shapes(tmp_path_factory.mktemp("shapes") / "data", n_train=6, n_val=2, size=(40, 40))


def test_verify_command(shapes, tmp_path, capsys):
    assert main(["verify", "--images", shapes.train_images, "--masks", shapes.train_masks, "--n-classes", "4"]) == 0
    assert "6 pairs, 0 problems" in capsys.readouterr().out
    assert main(["verify", "--images", shapes.train_images, "--masks", shapes.train_masks, "--n-classes", "2"]) == 1
    assert "label_out_of_range" in capsys.readouterr().out


def test_train_command_writes_a_run_folder(shapes, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--images", shapes.train_images, "--masks", shapes.train_masks]
    args += ["--val-images", shapes.val_images, "--val-masks", shapes.val_masks, "--n-classes", "4"]
    args += ["--input-size", "32x32", "--epochs", "1", "--batch-size", "3", "--class-weights", "balanced"]
    args += ["--model-arg", "alpha=0.25", "--class-names", "bg,circle,rect,tri", "--quiet", "--out", str(out)]
    args += ["--loss", "ce+0.5*lovasz", "--lr-schedule", "polynomial", "--warmup-epochs", "0.5"]
    args += ["--optimizer", "adamw", "--weight-decay", "0.001", "--clipnorm", "2", "--early-stopping-patience", "3"]
    assert main(args) == 0
    assert "best val_mean_iou" in capsys.readouterr().out
    info = json.loads((out / "training.json").read_text())
    assert info["model"]["kwargs"]["alpha"] == 0.25 and info["input_size"] == [32, 32]
    assert info["class_names"] == ["bg", "circle", "rect", "tri"] and len(info["class_weights"]["values"]) == 4
    assert info["loss"] == "ce+0.5*lovasz" and info["optimizer"] == "adamw" and info["weight_decay"] == 0.001
    assert info["lr_schedule"]["name"] == "polynomial" and info["lr_schedule"]["warmup_steps"] == 1
    assert info["clipnorm"] == 2.0 and info["early_stopping"]["patience"] == 3
    assert sorted(p.name for p in out.iterdir()) == [
        "checkpoints",  # no .lock: the run-folder lock goes once the run is complete
        "curves.png",
        "history.csv",
        "model.keras",
        "training.json",
    ]
    assert main(args) == 2  # a finished run is not overwritten
    assert "finished run" in capsys.readouterr().err


def test_train_command_names_the_valid_losses(shapes, capsys):
    args = ["train", "--images", shapes.train_images, "--masks", shapes.train_masks, "--n-classes", "4"]
    assert main([*args, "--loss", "ce+jaccard"]) == 2
    assert "unknown loss term 'jaccard' in 'ce+jaccard'; use ce, dice, focal, lovasz" in capsys.readouterr().err


def test_train_command_needs_n_classes(shapes, capsys):
    assert main(["train", "--images", shapes.train_images, "--masks", shapes.train_masks]) == 2
    assert "--n-classes" in capsys.readouterr().err


@pytest.mark.tensorflow_only
def test_train_command_refuses_a_strategy_of_another_backend(shapes, capsys):
    args = ["train", "--images", shapes.train_images, "--masks", shapes.train_masks, "--n-classes", "4"]
    assert main([*args, "--distribute", "data_parallel"]) == 2  # the tests run under TensorFlow
    err = capsys.readouterr().err
    assert "distribute='data_parallel' needs the jax backend but this process runs 'tensorflow'" in err


@pytest.fixture(scope="module")
def encoder_h5(tmp_path_factory):
    """A MobileNet v1 (alpha 0.25) weights file in Keras applications' legacy HDF5 layout, random weights."""
    import keras

    app = keras.applications.MobileNet(alpha=0.25, weights=None, include_top=False, input_shape=(32, 32, 3))
    path = tmp_path_factory.mktemp("weights") / "mobilenet_2_5_32_tf_no_top.h5"
    app.save(path)
    return path


def test_train_defaults_with_weights_are_the_measured_recipe(shapes, encoder_h5, tmp_path, capsys):
    """--weights alone gives the recipe of BENCHMARKS.md: one frozen epoch, then 0.3x the rate, cosine, momentum 0.9."""
    out = tmp_path / "run"
    args = ["train", "--images", shapes.train_images, "--masks", shapes.train_masks, "--n-classes", "4"]
    args += ["--input-size", "32x32", "--epochs", "2", "--batch-size", "3", "--model-arg", "alpha=0.25"]
    args += ["--weights", str(encoder_h5), "--quiet", "--out", str(out)]
    assert main(args) == 0
    assert "loaded" in capsys.readouterr().out
    info = json.loads((out / "training.json").read_text())
    assert info["freeze_encoder_epochs"] == 1 and info["frozen_layers"] > 0
    assert info["learning_rate"] == 1e-3 and info["fine_tune_learning_rate"] == pytest.approx(3e-4)
    assert info["lr_schedule"]["name"] == "cosine" and info["batchnorm_momentum"] == 0.9
    assert info["class_weights"]["setting"] == "balanced_sqrt"


def test_demo_keeps_no_weights_and_a_constant_rate(tmp_path, capsys):
    data, out = tmp_path / "shapes", tmp_path / "demo"
    args = ["demo", "--data-dir", str(data), "--n-train", "6", "--n-val", "2", "--image-size", "40x40"]
    args += ["--input-size", "32x32", "--epochs", "1", "--quiet", "--out", str(out)]
    assert main(args) == 0
    assert "mean IoU on the 2 validation scenes" in capsys.readouterr().out
    info = json.loads((out / "training.json").read_text())
    assert info["lr_schedule"]["name"] == "constant" and info["class_weights"]["setting"] is None
    assert info["batchnorm_momentum"] == 0.9 and info["freeze_encoder_epochs"] == 0
