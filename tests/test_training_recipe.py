"""The training recipe: learning-rate schedules over both phases (resume-safe), AdamW, clipping, early stopping,
class weight modes, and the one-sentence errors for bad settings."""

import inspect
import json
import math
import types

import keras
import numpy as np
import pytest

import mobseg
from mobseg.data import list_pairs
from mobseg.data.class_weights import damp_weights, resolve_class_weights
from mobseg.datasets import make_shapes
from mobseg.schedules import RunLearningRate, schedule_factor
from mobseg.training import read_history_csv, train
from mobseg.training.arguments import TrainArguments
from mobseg.training.callbacks import EarlyStop, stall_reason
from mobseg.training.optimization import Optimization


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return make_shapes(tmp_path_factory.mktemp("shapes") / "data", n_train=8, n_val=4, size=(32, 32))


def test_schedule_factors_match_their_formulas():
    assert schedule_factor("constant", 7, total_steps=10) == 1.0
    assert schedule_factor("cosine", 0, total_steps=10) == 1.0
    assert schedule_factor("cosine", 5, total_steps=10) == pytest.approx(0.5)
    assert schedule_factor("cosine", 10, total_steps=10) == pytest.approx(0.0)
    # Warm-up of 4 steps: 1/4, 2/4, 3/4, 4/4, then the decay over the remaining 6 steps.
    warm = [schedule_factor("polynomial", s, total_steps=10, warmup_steps=4, power=2.0) for s in range(4)]
    assert warm == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert schedule_factor("polynomial", 7, total_steps=10, warmup_steps=4, power=2.0) == pytest.approx(0.25)
    lr = RunLearningRate(1e-3, "cosine", total_steps=10, warmup_steps=4, first_step=3)
    for step in range(7):
        expected = 1e-3 * schedule_factor("cosine", step + 3, total_steps=10, warmup_steps=4)
        assert float(keras.ops.convert_to_numpy(lr(step))) == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="unknown lr_schedule 'step'; use one of constant, cosine, polynomial"):
        schedule_factor("step", 0, total_steps=10)


def test_a_schedule_in_a_saved_model_reloads_in_safe_mode(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    schedule = RunLearningRate(1e-3, "polynomial", total_steps=100, warmup_steps=10, first_step=20)
    model.compile(Optimization(optimizer="adamw").checked().make_optimizer(schedule), mobseg.make_loss("ce"))
    model.fit(np.ones((4, 3), np.float32), np.array([0, 1, 0, 1]), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert loaded.optimizer.learning_rate.numpy() == pytest.approx(model.optimizer.learning_rate.numpy())


class RecordRates(keras.callbacks.Callback):
    """The learning rate of every step; raises at the start of ``stop_at_epoch`` (a crash)."""

    def __init__(self, stop_at_epoch=None):
        super().__init__()
        self.stop_at_epoch = stop_at_epoch
        self.rates = []

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.stop_at_epoch:
            raise RuntimeError(f"interrupted at epoch {epoch}")

    def on_train_batch_begin(self, batch, logs=None):
        self.rates.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))


def _train_schedule(shapes, out, callback):
    return train(
        shapes.train_images,
        shapes.train_masks,
        model=mobseg.unet_mini(4, input_height=32, input_width=32),  # freezable, quick to trace
        epochs=5,
        freeze_encoder_epochs=2,
        batch_size=4,  # 2 steps per epoch
        learning_rate=1e-3,
        fine_tune_learning_rate=2e-4,
        lr_schedule="cosine",
        warmup_epochs=1.5,
        optimizer="adamw",
        clipnorm=1.0,
        out=out,
        verbose=0,
        callbacks=[callback],
    )


def test_a_resumed_run_continues_the_schedule_over_both_phases_exactly(shapes, tmp_path):
    out = tmp_path / "run"
    first, second, third = RecordRates(stop_at_epoch=1), RecordRates(stop_at_epoch=3), RecordRates()
    with pytest.raises(RuntimeError, match="epoch 1"):
        _train_schedule(shapes, out, first)  # crash inside the frozen phase
    with pytest.raises(RuntimeError, match="epoch 3"):
        _train_schedule(shapes, out, second)  # finish the frozen phase, crash inside the unfrozen one
    run = _train_schedule(shapes, out, third)
    rates = first.rates + second.rates + third.rates
    # One curve over 10 steps, 3 of warm-up; steps 0-3 at the frozen phase's 1e-3, then the fine-tune 2e-4.
    base = [1e-3] * 4 + [2e-4] * 6
    expected = [b * schedule_factor("cosine", s, total_steps=10, warmup_steps=3) for s, b in enumerate(base)]
    assert rates == pytest.approx(expected, rel=1e-5)
    info = json.loads((out / "training.json").read_text())
    assert info["status"] == "complete" and info["resumed"] == 2 and run.stopped_early is None
    assert info["lr_schedule"]["name"] == "cosine" and info["lr_schedule"]["warmup_steps"] == 3
    assert info["lr_schedule"]["total_steps"] == 10 and info["optimizer"] == "adamw"
    assert info["weight_decay"] == 0.01 and info["clipnorm"] == 1.0 and info["loss"] == "ce"
    history = read_history_csv(out / "history.csv")
    assert [r["epoch"] for r in history] == [0, 1, 2, 3, 4]
    # The logged rate is the phase's rate for the step after the epoch's last one.
    for row in history:
        phase_base = 1e-3 if row["phase"] == "frozen" else 2e-4
        next_step = 2 * (row["epoch"] + 1)
        factor = schedule_factor("cosine", next_step, total_steps=10, warmup_steps=3)
        assert row["learning_rate"] == pytest.approx(phase_base * factor, rel=1e-5, abs=1e-12)


class StopAfterEarlyStop(keras.callbacks.Callback):
    """Crash right after the epoch at which early stopping decided to stop (before the run is finished)."""

    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(epoch)
        if self.model.stop_training:
            raise RuntimeError("killed after the stop")


def test_early_stopping_ends_the_run_complete_with_its_reason_and_survives_a_resume(shapes, tmp_path):
    out = tmp_path / "run"

    def run(callback):
        return train(
            shapes.train_images,
            shapes.train_masks,
            val_images=shapes.val_images,
            val_masks=shapes.val_masks,
            model=mobseg.unet_mini(4, input_height=32, input_width=32),
            epochs=6,
            batch_size=4,
            learning_rate=1e-9,  # the model hardly changes: the validation mean IoU stops improving at once
            augment=False,
            early_stopping_patience=1,
            loss="ce+dice",
            class_weights="balanced_log",
            out=out,
            verbose=0,
            callbacks=[callback],
        )

    crash = StopAfterEarlyStop()
    with pytest.raises(RuntimeError, match="killed after the stop"):
        run(crash)
    stopped_at = crash.epochs[-1]
    assert stopped_at < 5
    resumed = StopAfterEarlyStop()
    result = run(resumed)
    assert resumed.epochs == []  # the resumed run sees the rule already met and trains no further epoch
    rows = read_history_csv(out / "history.csv")
    assert [r["epoch"] for r in rows] == list(range(stopped_at + 1))
    info = json.loads((out / "training.json").read_text())
    assert info["status"] == "complete" and info["result"]["epochs_done"] == stopped_at + 1
    assert info["result"]["stopped_early"] == stall_reason(rows, "val_mean_iou", 1) == result.stopped_early
    assert "did not improve for 1 epochs" in result.stopped_early
    assert info["early_stopping"] == {"monitor": "val_mean_iou", "patience": 1}
    assert info["loss"] == "ce+dice" and info["class_weights"]["setting"] == "balanced_log"


def test_stall_reason_needs_patience_epochs_without_a_new_best():
    rows = [{"epoch": e, "val_mean_iou": v} for e, v in enumerate([0.3, 0.5, 0.4, 0.5, 0.45])]
    assert stall_reason(rows[:3], "val_mean_iou", 2) is None
    assert "best, 0.5000 at epoch 2 (stopped after epoch 4)" in stall_reason(rows[:4], "val_mean_iou", 2)
    assert stall_reason([{"epoch": 0, "val_mean_iou": float("nan")}], "val_mean_iou", 1) is None


def test_early_stop_decides_nothing_at_the_runs_last_epoch():
    log = types.SimpleNamespace(rows=[{"epoch": e, "m": v} for e, v in enumerate([0.5, 0.4, 0.4])])
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    at_the_end = EarlyStop(log, "m", 1, last_epoch=2)
    at_the_end.set_model(model)
    at_the_end.on_epoch_end(2)
    assert at_the_end.reason is None and not getattr(model, "stop_training", False)
    before_the_end = EarlyStop(log, "m", 1, last_epoch=5)
    before_the_end.set_model(model)
    before_the_end.on_epoch_end(2)
    assert before_the_end.reason.startswith("m did not improve for 1 epochs") and model.stop_training


def test_class_weight_modes_damp_the_median_frequency_weights(shapes):
    pairs = list_pairs(shapes.train_images, shapes.train_masks)
    balanced = resolve_class_weights("balanced", 4, pairs)
    assert resolve_class_weights("balanced_sqrt", 4, pairs) == pytest.approx(np.sqrt(balanced), rel=1e-5)
    assert resolve_class_weights("balanced_log", 4, pairs) == pytest.approx(np.log2(1 + np.array(balanced)), rel=1e-5)
    assert resolve_class_weights("none", 4, pairs) is None
    assert damp_weights([0.0, 1.0, 4.0], "balanced_sqrt") == [0.0, 1.0, 2.0]
    ratio = {m: max(w) / min(w) for m, w in (("b", balanced), ("s", damp_weights(balanced, "balanced_sqrt")))}
    assert math.isclose(ratio["s"], math.sqrt(ratio["b"]), rel_tol=1e-4)
    with pytest.raises(ValueError, match="use one of none, balanced, balanced_sqrt, balanced_log"):
        resolve_class_weights("inverse", 4, pairs)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"loss": "ce+iou"}, "unknown loss term 'iou' in 'ce\\+iou'; use ce, dice, focal, lovasz"),
        ({"lr_schedule": "step"}, "unknown lr_schedule 'step'; use one of constant, cosine, polynomial"),
        ({"optimizer": "sgd"}, "optimizer='sgd' is not supported; use one of 'adam', 'adamw'"),
        ({"weight_decay": 0.01}, "weight_decay needs optimizer='adamw'"),
        ({"clipnorm": 0}, "clipnorm=0 is out of range"),
        ({"warmup_epochs": 3}, "warmup_epochs=3 is out of range: it must be >= 0 and <= 2"),
        ({"early_stopping_patience": 3}, "early_stopping_patience watches the validation mean IoU"),
        ({"class_weights": "sqrt"}, "class_weights='sqrt': use one of none, balanced, balanced_sqrt, balanced_log"),
        (
            {"callbacks": [keras.callbacks.ReduceLROnPlateau()]},
            "ReduceLROnPlateau sets the learning rate itself, which a cosine schedule .* pass lr_schedule='constant'",
        ),
    ],
)
def test_bad_recipe_settings_fail_before_anything_is_written(shapes, tmp_path, settings, message):
    with pytest.raises(ValueError, match=message):
        train(shapes.train_images, shapes.train_masks, n_classes=4, epochs=2, out=tmp_path / "run", **settings)
    assert not (tmp_path / "run").exists()


class StopAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("killed after the first epoch")


def _two_epoch_run(shapes, out):
    """``run(callbacks=(), **settings)``: a seeded 2-epoch unet_mini training into ``out`` (a new model each call)."""

    def run(callbacks=(), **settings):
        keras.utils.set_random_seed(0)
        model = mobseg.unet_mini(4, input_height=32, input_width=32, dropout=0)
        return train(shapes.train_images, shapes.train_masks, model=model, epochs=2, batch_size=4, out=out,
                     verbose=0, callbacks=list(callbacks), **settings)  # fmt: skip

    return run


def test_default_weights_are_balanced_sqrt_and_an_old_default_run_resumes_only_with_none(shapes, tmp_path):
    """mobseg 0.2 weighs pixels with balanced_sqrt by default (CamVid leave-one-sequence-out, BENCHMARKS.md); a run
    begun with 0.1's default (no weights) is refused by a plain resume, naming both values, and resumes with none."""
    out = tmp_path / "run"
    run = _two_epoch_run(shapes, out)

    with pytest.raises(RuntimeError, match="killed after the first epoch"):
        run([StopAfterFirstEpoch()], class_weights=None)  # as mobseg 0.1 started it
    assert json.loads((out / "training.json").read_text())["class_weights"] == {"setting": None, "values": None}
    with pytest.raises(ValueError, match="different settings \\(class_weights: run none, now balanced_sqrt\\)"):
        run()
    result = run(class_weights="none")
    assert [r["epoch"] for r in result.history] == [0, 1]

    default = tmp_path / "default"
    keras.utils.set_random_seed(0)
    model = mobseg.unet_mini(4, input_height=32, input_width=32, dropout=0)
    train(shapes.train_images, shapes.train_masks, model=model, epochs=1, batch_size=4, out=default, verbose=0)
    pairs = list_pairs(shapes.train_images, shapes.train_masks)
    recorded = json.loads((default / "training.json").read_text())["class_weights"]
    assert recorded["setting"] == "balanced_sqrt"
    assert recorded["values"] == pytest.approx(resolve_class_weights("balanced_sqrt", 4, pairs), rel=1e-5)


def _checked(**settings):
    """mobseg.train's arguments with its defaults, checked as train() checks them (nothing is built or read)."""
    defaults = {name: p.default for name, p in inspect.signature(train).parameters.items() if p.default is not p.empty}
    return TrainArguments(**{**defaults, "images": "imgs", "masks": "masks", "n_classes": 4, **settings}).check()


def test_default_recipe_is_the_measured_one(monkeypatch):
    """Defaults from mobseg 0.3: cosine over the run, BatchNorm momentum 0.9, one frozen epoch at 1e-3 then 3e-4
    for a pretrained encoder (CamVid leave-one-sequence-out, BENCHMARKS.md); a model without one trains unfrozen."""
    monkeypatch.setattr("mobseg.training.arguments.list_pairs", lambda *a, **k: [("a.png", "a.png")] * 8)
    args = _checked(model="mobilenet_segnet", model_kwargs={"encoder_weights": "imagenet"})
    assert (args.freeze_encoder_epochs, args.learning_rate, args.fine_tune_learning_rate) == (1, 1e-3, 3e-4)
    assert args.optimization.lr_schedule == "cosine" and args.batchnorm_momentum == 0.9
    one_epoch = _checked(model="mobilenet_segnet", model_kwargs={"encoder_weights": "imagenet"}, epochs=1)
    assert one_epoch.freeze_encoder_epochs == 0  # a frozen-only run would never train its encoder
    scratch = _checked(model="mobilenet_segnet")
    assert (scratch.freeze_encoder_epochs, scratch.fine_tune_learning_rate) == (0, 1e-3)
    given = _checked(model="mobilenet_segnet", freeze_encoder_epochs=2, learning_rate=1e-2)
    assert (given.freeze_encoder_epochs, given.fine_tune_learning_rate) == (2, pytest.approx(3e-3))
    constant = _checked(lr_schedule="constant", callbacks=[keras.callbacks.ReduceLROnPlateau()])
    assert constant.optimization.constant_rate


def test_a_run_begun_with_the_old_defaults_resumes_only_with_them(shapes, tmp_path):
    """mobseg 0.2 trained at a constant rate with the model's BatchNorm momentum; a plain resume of such an
    unfinished run names both changed settings, and resumes with them given."""
    out = tmp_path / "run"
    run = _two_epoch_run(shapes, out)

    old = {"lr_schedule": "constant", "batchnorm_momentum": None}
    with pytest.raises(RuntimeError, match="killed after the first epoch"):
        run([StopAfterFirstEpoch()], **old)
    message = "lr_schedule: run constant, now cosine, batchnorm_momentum: run none, now 0.9"
    with pytest.raises(ValueError, match=f"different settings \\({message}\\)"):
        run()
    result = run(**old)
    assert [r["epoch"] for r in result.history] == [0, 1]
    info = json.loads((out / "training.json").read_text())
    assert info["lr_schedule"]["name"] == "constant" and info["batchnorm_momentum"] is None
