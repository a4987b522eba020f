"""The fault matrix: every mistake a user can make, and every fault, ends in one sentence, the right exit code,
and nothing lost or half-written.

Each case names what the user did, the command line (run in-process through ``mobseg.cli.main`` unless the
case is about the process itself), the exit code and words the one-line message must contain. The training
faults (kill during the final save, ENOSPC, concurrent runs, NaN) are further down.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mobseg.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _image(path: Path, size=(8, 6), value=128, exif_orientation: int | None = None) -> None:
    array = np.full((size[1], size[0], 3), value, np.uint8)
    array[0, 0] = (255, 0, 0)  # a marker to follow rotations
    picture = Image.fromarray(array)
    if exif_orientation is None:
        picture.save(path)
    else:
        exif = Image.Exif()
        exif[274] = exif_orientation
        picture.save(path, exif=exif)


def _mask(path: Path, size=(8, 6), value=0) -> None:
    Image.fromarray(np.full((size[1], size[0]), value, np.uint8)).save(path)


def _folders(tmp_path: Path) -> tuple[Path, Path]:
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    return images, masks


def _one_line_error(capsys, command: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"mobseg {command}: error: "), err
    assert "Traceback" not in err[0]
    return err[0]


# --- the data a user brings ---------------------------------------------------------------------------------


def test_jpeg_mask_is_named_with_the_reason(tmp_path, capsys):
    images, masks = _folders(tmp_path)
    _image(images / "a.png")
    Image.fromarray(np.zeros((6, 8), np.uint8)).save(masks / "a.jpg")
    assert main(["verify", "--images", str(images), "--masks", str(masks), "--n-classes", "2"]) == 1
    out = capsys.readouterr().out
    assert "[lossy_mask]" in out and "a.jpg" in out and "PNG" in out
    assert "no mask named" not in out
    # training refuses the same folder with the same reason, in one line
    code = main(
        ["train", "--images", str(images), "--masks", str(masks), "--n-classes", "2", "--out", str(tmp_path / "r")]
    )
    assert code == 2
    line = _one_line_error(capsys, "train")
    assert "a.jpg" in line and "lossy" in line


def test_zero_255_masks_get_the_binary_hint(tmp_path, capsys):
    images, masks = _folders(tmp_path)
    _image(images / "a.png")
    mask = np.zeros((6, 8), np.uint8)
    mask[2:4, 2:6] = 255
    Image.fromarray(mask).save(masks / "a.png")
    assert main(["verify", "--images", str(images), "--masks", str(masks), "--n-classes", "2"]) == 1
    out = capsys.readouterr().out
    assert "--mask-format binary" in out and "label_out_of_range" in out
    # ignore_index 255 would silently drop every object pixel: a warning says so
    assert main(["verify", "--images", str(images), "--masks", str(masks), "--ignore-index", "255"]) == 0
    out = capsys.readouterr().out
    assert "warning:" in out and "--mask-format binary" in out
    # the binary reading is clean
    assert main(["verify", "--images", str(images), "--masks", str(masks), "--mask-format", "binary"]) == 0


def test_exif_orientation_is_applied_when_reading(tmp_path):
    from mobseg.data.masks import read_mask
    from mobseg.io import read_image

    _image(tmp_path / "rotated.png", size=(8, 6), exif_orientation=6)  # viewers show it 6 wide, 8 high
    image = read_image(tmp_path / "rotated.png")
    assert image.shape[:2] == (8, 6)
    # orientation 6 = rotate 90 degrees clockwise to display: the stored top-left lands at the top-right
    assert image[0, -1, 0] > 200 and image[0, -1, 1] < 60
    Image.fromarray(np.zeros((6, 8), np.uint8)).save(tmp_path / "plain.png")
    assert read_mask(tmp_path / "plain.png").shape == (6, 8)


def test_verify_explains_a_pair_that_matches_only_before_rotation(tmp_path):
    from mobseg.data import verify_dataset

    images, masks = _folders(tmp_path)
    _image(images / "portrait.jpg", size=(8, 6), exif_orientation=6)
    _mask(masks / "portrait.png", size=(8, 6))
    report = verify_dataset(images, masks, n_classes=2)
    (problem,) = report.problems
    assert problem.kind == "size_mismatch"
    assert "EXIF orientation 6" in problem.message and "Rotate the mask" in problem.message


# --- the command line ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "command", "words"),
    [
        (["predict", "--model", "{tmp}/none.keras", "--input", "{tmp}", "--out", "{tmp}/o"], "predict", "not found"),
        (["evaluate", "--model", "{tmp}/none.keras", "--images", "{tmp}", "--masks", "{tmp}"], "evaluate", "not found"),
        (["export", "--model", "{tmp}/none.keras", "--out", "{tmp}/m.tflite"], "export", "not found"),
        (["summary", "--n-classes", "1"], "summary", "n_classes"),
        (["summary", "--height", "225", "--width", "224"], "summary", "nearest valid"),
        (["summary", "--model", "mobilenet_segnett"], "summary", "Did you mean"),
        (["models", "no_such_*"], "models", "no registered model"),
    ],
)
def test_bad_command_lines_end_in_one_sentence(tmp_path, capsys, argv, command, words):
    code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert code == 2
    assert words in _one_line_error(capsys, command)


def test_mistyped_model_arg_is_one_sentence(tmp_path, capsys):
    images, masks = _folders(tmp_path)
    _image(images / "a.png", size=(32, 32))
    _mask(masks / "a.png", size=(32, 32))
    argv = ["train", "--images", str(images), "--masks", str(masks), "--n-classes", "2", "--model-arg", "alhpa=0.5"]
    assert main([*argv, "--out", str(tmp_path / "run")]) == 2
    line = _one_line_error(capsys, "train")
    assert "alhpa" in line and "alpha" in line


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "/data/run/model.keras"),
            "no space left on the disk holding /data/run",
        ),
        (PermissionError(errno.EACCES, "Permission denied", "/data/run"), "permission denied: /data/run"),
        (OSError(errno.EROFS, "Read-only file system", "/mnt/ro/x"), "read-only file system: /mnt/ro/x"),
        (NotADirectoryError(errno.ENOTDIR, "Not a directory", "/data/file/out"), "is a file, but a folder is needed"),
        (IsADirectoryError(errno.EISDIR, "Is a directory", "/data/out"), "is a folder, but a file is needed"),
    ],
)
def test_file_system_errors_are_one_sentence(monkeypatch, capsys, error, words):
    import mobseg.cli.summary as summary

    def fail(args):
        raise error

    monkeypatch.setattr(summary, "run", fail)
    assert main(["summary"]) == 2
    assert words in _one_line_error(capsys, "summary")


def test_debug_shows_the_traceback(monkeypatch, capsys):
    import mobseg.cli.summary as summary

    def fail(args):
        raise ValueError("a sentence")

    monkeypatch.setattr(summary, "run", fail)
    assert main(["--debug", "summary"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().endswith("mobseg summary: error: a sentence")


def test_a_bug_is_one_line_with_the_debug_hint(monkeypatch, capsys):
    import mobseg.cli.summary as summary

    def fail(args):
        raise KeyError("oops")

    monkeypatch.setattr(summary, "run", fail)
    assert main(["summary"]) == 1
    assert "--debug" in _one_line_error(capsys, "summary")


def test_version_and_models(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    import mobseg

    assert capsys.readouterr().out.strip() == f"mobseg {mobseg.__version__}"
    assert main(["models", "--names-only"]) == 0
    assert capsys.readouterr().out.split() == mobseg.list_models()
    assert main(["models", "mobilenet_segnet"]) == 0
    out = capsys.readouterr().out
    assert "mobilenet_segnet" in out and "224x224" in out and f"{mobseg.mobilenet_segnet(2).count_params():,}" in out


def test_a_command_prints_only_its_own_output(tmp_path):
    """A fresh process: no TensorFlow/CUDA start-up lines on stderr, and a bad input is one line, exit 2."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    done = subprocess.run(
        [sys.executable, "-m", "mobseg", "predict", "--model", str(tmp_path / "x.keras"), "--input", ".", "--out", "o"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mobseg predict: error:") and "x.keras" in lines[0], done.stderr
    assert done.stdout == ""


# --- training: kills, a full disk, two runs at once, divergence, bad files met late ---------------------------
# The trainings below use unet_mini (two phases: its encoder freezes like any other): a 3-epoch run traces its
# training step in ~9 s against ~30 s for mobilenet_segnet(alpha=0.25); the faults do not depend on the model.


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    from mobseg.datasets import make_shapes

    return make_shapes(tmp_path_factory.mktemp("shapes") / "data", n_train=8, n_val=0, size=(32, 32))


def _train_argv(shapes, out: Path, *extra: str, images=None, masks=None) -> list[str]:
    images, masks = str(images or shapes.train_images), str(masks or shapes.train_masks)
    return [
        "train", "--images", images, "--masks", masks, "--n-classes", "4",
        "--input-size", "32x32", "--model", "unet_mini", "--epochs", "3", "--freeze-encoder-epochs", "1",
        "--batch-size", "4", "--quiet", "--out", str(out), *extra,
    ]  # fmt: skip


def _epochs(out: Path) -> list[int]:
    from mobseg.training import read_history_csv

    return [row["epoch"] for row in read_history_csv(out / "history.csv")]


def _status(out: Path) -> str:
    import json

    return json.loads((out / "training.json").read_text())["status"]


def _leftovers(out: Path) -> list[str]:
    return [str(p) for p in out.rglob(".*") if ".tmp" in p.name]


KILL_AT = """
import importlib, os, signal, sys
train_module = importlib.import_module("mobseg.training.train")
phases = importlib.import_module("mobseg.training.phases")
where = sys.argv[1]
if where == "final_save":
    def save(model, path):  # the final model.keras is half written when the process is killed
        with open(os.path.join(os.path.dirname(path), ".model.keras.x.tmp.keras"), "wb") as f:
            f.write(b"PK half")
        os.kill(os.getpid(), signal.SIGKILL)
    train_module.save_model_atomic = save
else:  # after the last epoch of the last phase, before the phase's end is recorded
    def save_end(self, model, phase):
        if phase.name == "unfrozen":
            os.kill(os.getpid(), signal.SIGKILL)
    phases.PhaseRunner._save_end = save_end
from mobseg.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("where", ["final_save", "phase_end"])
def test_a_kill_at_the_end_loses_nothing(shapes, tmp_path, where):
    """kill -9 during the final save (or just before the last phase is recorded): the same command finishes."""
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", KILL_AT, where, *_train_argv(shapes, out)], env=env, capture_output=True, timeout=600
    )
    assert done.returncode == -9, done.stderr[-2000:]
    assert _epochs(out) == [0, 1, 2] and _status(out) == "running"
    best = (out / "checkpoints" / "best.keras").read_bytes()
    assert main(_train_argv(shapes, out)) == 0  # the same command
    assert _epochs(out) == [0, 1, 2], "an epoch ran twice"
    assert _status(out) == "complete" and (out / "model.keras").is_file()
    assert (out / "checkpoints" / "best.keras").read_bytes() == best, "best.keras was replaced"
    assert not _leftovers(out) and not (out / "backup").exists()


def test_a_full_disk_stops_in_one_line_and_the_same_command_resumes(shapes, tmp_path, monkeypatch, capsys):
    import mobseg.training.callbacks as callbacks

    out = tmp_path / "run"
    real = callbacks.save_model_atomic
    calls = {"n": 0}

    def full_disk(model, path):
        calls["n"] += 1
        if calls["n"] == 2:  # last.keras of the second epoch: the disk is full
            with open(path, "ab"):
                pass
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(model, path)

    monkeypatch.setattr(callbacks, "save_model_atomic", full_disk)
    assert main(_train_argv(shapes, out)) == 2
    line = _one_line_error(capsys, "train")
    assert "no space left on the disk holding" in line and str(out / "checkpoints") in line
    assert _status(out) == "running"
    monkeypatch.setattr(callbacks, "save_model_atomic", real)
    assert main(_train_argv(shapes, out)) == 0  # space was freed: the same command finishes the run
    assert _epochs(out) == [0, 1, 2] and _status(out) == "complete"
    assert not _leftovers(out)


def test_a_damaged_backup_falls_back_to_the_one_before(shapes, tmp_path):
    from mobseg.training.callbacks import EpochBackup

    out = tmp_path / "run"

    class Stop(keras_callback()):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    _api_train(shapes, out, epochs=4, callbacks=[Stop()], expect=KeyboardInterrupt)
    states = EpochBackup(out / "backup" / "unfrozen").states()
    assert [n for n, _ in states] == [3, 2]
    states[0][1].write_bytes(b"truncated by a full disk")
    with pytest.warns(UserWarning, match="unreadable backup"):
        run = _api_train(shapes, out, epochs=4)
    assert [r["epoch"] for r in run.history] == [0, 1, 2, 3]


def test_a_second_training_into_the_same_folder_is_refused(shapes, tmp_path, capsys):
    from mobseg.training.run_folder import RunFolder

    out = tmp_path / "run"
    with RunFolder(out).lock():  # another training holds the folder
        assert main(_train_argv(shapes, out)) == 2
        line = _one_line_error(capsys, "train")
        assert "another training is writing into" in line and f"pid {os.getpid()}" in line
    # a lock left by a process that died is taken over (flock ends with its process)
    holder = subprocess.Popen([sys.executable, "-c", LOCK_AND_DIE, str(out)])
    assert holder.wait(timeout=120) == -9
    assert (out / ".lock").read_text().startswith("pid ")
    assert main(_train_argv(shapes, out)) == 0


LOCK_AND_DIE = """
import os, signal, sys
from mobseg.training.run_folder import RunFolder
with RunFolder(sys.argv[1]).lock():
    os.kill(os.getpid(), signal.SIGKILL)
"""


def keras_callback():
    import keras

    return keras.callbacks.Callback


def _api_train(shapes, out, *, epochs=3, callbacks=(), expect=None, learning_rate=1e-3):
    import mobseg

    kwargs = {
        "n_classes": 4, "model": "unet_mini", "input_size": (32, 32),
        "epochs": epochs, "freeze_encoder_epochs": 1, "batch_size": 4, "out": out, "verbose": 0,
        "callbacks": list(callbacks), "learning_rate": learning_rate,
    }  # fmt: skip
    if expect is None:
        return mobseg.train(shapes.train_images, shapes.train_masks, **kwargs)
    with pytest.raises(expect) as caught:
        mobseg.train(shapes.train_images, shapes.train_masks, **kwargs)
    return caught.value


@pytest.mark.parametrize("fault", ["nan", "explode"])
def test_divergence_stops_and_no_checkpoint_gets_its_weights(shapes, tmp_path, fault):
    import keras
    import numpy as np

    class Break(keras_callback()):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                layer = self.model.get_layer("unet_mini_classifier")
                kernel, bias = layer.get_weights()
                scale = np.nan if fault == "nan" else 1e4
                layer.set_weights([kernel * scale, bias * scale])

    out = tmp_path / "run"
    err = _api_train(shapes, out, callbacks=[Break()], expect=FloatingPointError)
    assert "training diverged" in str(err) and ("exploded" in str(err)) == (fault == "explode")
    assert _status(out) == "failed"
    for name in ("last.keras", "best.keras"):
        model = keras.saving.load_model(out / "checkpoints" / name)
        assert all(np.isfinite(w).all() for w in model.get_weights()), name
        assert abs(model.get_layer("unet_mini_classifier").get_weights()[0]).max() < 100, name
    assert _epochs(out)[:2] == [0, 1]


def test_bad_data_is_reported_before_training_and_nothing_is_left_running(shapes, tmp_path, capsys):
    import shutil

    images, masks = tmp_path / "images", tmp_path / "masks"
    shutil.copytree(shapes.train_images, images)
    shutil.copytree(shapes.train_masks, masks)
    first, second = sorted(masks.iterdir())[:2]
    first.write_bytes(b"")  # a zero-byte mask
    Image.fromarray(np.full((32, 32), 9, np.uint8)).save(second)  # a label out of range
    out = tmp_path / "run"
    assert main(_train_argv(shapes, out, images=images, masks=masks)) == 2
    err = capsys.readouterr().err
    assert err.startswith("mobseg train: error: the data has 2 problems") and "Traceback" not in err
    assert first.name in err and second.name in err
    assert not out.exists()


def test_a_bad_file_met_during_training_is_one_line_and_the_process_ends(shapes, tmp_path):
    """--no-verify: the corrupt mask is met inside the input pipeline; one line, exit 2, no hang at shutdown."""
    import shutil

    images, masks = tmp_path / "images", tmp_path / "masks"
    shutil.copytree(shapes.train_images, images)
    shutil.copytree(shapes.train_masks, masks)
    bad = sorted(masks.iterdir())[3]
    bad.write_bytes(bad.read_bytes()[:40])  # truncated
    argv = _train_argv(shapes, tmp_path / "run", "--no-verify", images=images, masks=masks)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "mobseg", *argv], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("mobseg train: error:")]
    assert len(lines) == 1 and bad.name in lines[0], done.stderr[-3000:]
    assert "Traceback" not in done.stderr


def test_files_follow_the_umask_and_out_must_be_a_folder(shapes, tmp_path, capsys):
    old = os.umask(0o022)
    try:
        out = tmp_path / "run"
        run = _api_train(shapes, out, epochs=1)
        for path in (
            out / "model.keras",
            out / "training.json",
            out / "history.csv",
            out / "checkpoints" / "best.keras",
        ):
            assert path.stat().st_mode & 0o777 == 0o644, path
        assert run.best_epoch == 0
    finally:
        os.umask(old)
    (tmp_path / "afile").write_text("x")
    assert main(_train_argv(shapes, tmp_path / "afile")) == 2
    assert "is a file" in _one_line_error(capsys, "train")
