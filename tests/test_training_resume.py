"""An interrupted run resumes where it stopped: no epoch lost or repeated, checkpoints intact."""

import json

import keras
import pytest

import mobseg
from mobseg.datasets import make_shapes
from mobseg.training import read_history_csv, train


class Interrupt(keras.callbacks.Callback):
    """Raise when an epoch begins (a crash); record which epochs ran."""

    def __init__(self, at_epoch=None):
        super().__init__()
        self.at_epoch = at_epoch
        self.ran = []

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise RuntimeError(f"interrupted at epoch {epoch}")

    def on_epoch_end(self, epoch, logs=None):
        self.ran.append(epoch)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return make_shapes(tmp_path_factory.mktemp("shapes") / "data", n_train=8, n_val=0, size=(32, 32))


def _train(shapes, out, callback, epochs=4):
    keras.utils.set_random_seed(0)
    return train(
        shapes.train_images,
        shapes.train_masks,
        model=mobseg.unet_mini(4, input_height=32, input_width=32),  # traces in a third of mobilenet_segnet's time
        epochs=epochs,
        freeze_encoder_epochs=2,
        lr_schedule="constant",  # each phase at its base rate, so the rates below can be compared
        batch_size=4,
        out=out,
        verbose=0,
        callbacks=[callback],
    )


def test_interrupted_run_resumes_without_losing_or_repeating_epochs(shapes, tmp_path):
    out = tmp_path / "run"
    first, second, third = Interrupt(at_epoch=1), Interrupt(at_epoch=3), Interrupt()

    with pytest.raises(RuntimeError, match="epoch 1"):
        _train(shapes, out, first)  # crash inside the frozen phase
    assert first.ran == [0]
    assert [r["epoch"] for r in read_history_csv(out / "history.csv")] == [0]
    assert json.loads((out / "training.json").read_text())["status"] == "running"
    assert keras.saving.load_model(out / "checkpoints" / "last.keras").n_classes == 4
    assert not (out / "model.keras").exists()

    with pytest.raises(ValueError, match="different settings"):
        _train(shapes, out, Interrupt(), epochs=5)

    with pytest.raises(RuntimeError, match="epoch 3"):
        _train(shapes, out, second)  # resume: finish the frozen phase, crash inside the unfrozen one
    assert second.ran == [1, 2]

    run = _train(shapes, out, third)
    assert third.ran == [3]
    rows = read_history_csv(out / "history.csv")
    assert [r["epoch"] for r in rows] == [0, 1, 2, 3]
    assert [r["phase"] for r in rows] == ["frozen", "frozen", "unfrozen", "unfrozen"]
    assert rows[2]["learning_rate"] == pytest.approx(rows[0]["learning_rate"] * 0.3)  # the default after a frozen phase
    assert run.history == rows
    info = json.loads((out / "training.json").read_text())
    assert info["status"] == "complete" and info["result"]["epochs_done"] == 4 and info["resumed"] == 2
    assert not (out / "backup").exists()
    for name in ("model.keras", "checkpoints/best.keras", "checkpoints/last.keras"):
        assert keras.saving.load_model(out / name).architecture["name"] == "unet_mini"
    best_epoch = max(rows, key=lambda r: r["mean_iou"])["epoch"]
    assert info["result"]["best_epoch"] == best_epoch
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"

    with pytest.raises(ValueError, match="finished run"):
        _train(shapes, out, Interrupt())
