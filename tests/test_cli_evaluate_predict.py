"""End to end on tiny data: ``mobseg train`` one epoch, ``mobseg evaluate``, ``mobseg predict --overlay --legend``."""

import json

import numpy as np
import pytest
from PIL import Image

import mobseg
from mobseg.cli import COMMANDS, main
from mobseg.io import read_image, resize_image
from mobseg.preprocessing import preprocess_images

HEIGHT, WIDTH = 45, 61  # awkward on purpose: not the model's 32x32 input


def write_dataset(root):
    images, masks = root / "images", root / "masks"
    images.mkdir()
    masks.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        labels = np.zeros((HEIGHT, WIDTH), np.uint8)
        labels[:, 20 + i :] = 1
        labels[30:, :15] = 2
        colors = np.array([[20, 20, 20], [230, 230, 230], [200, 30, 30]], np.uint8)
        image = colors[labels] + rng.integers(0, 10, (HEIGHT, WIDTH, 3), dtype=np.uint8)
        Image.fromarray(image).save(images / f"img{i}.png")
        Image.fromarray(labels).save(masks / f"img{i}.png")
    return images, masks


def train_one_epoch(images, masks, run):
    """``mobseg train`` for one epoch; until that sub-command is registered, the same with fit + save."""
    if any(module.__name__ == "mobseg.cli.train" for module in COMMANDS):
        argv = ["train", "--images", str(images), "--masks", str(masks), "--n-classes", "3"]
        argv += ["--class-names", "dark,bright,red", "--input-size", "32x32", "--epochs", "1", "--batch-size", "2"]
        argv += ["--out", str(run), "--quiet", "--no-augment"]
        assert main(argv) == 0
        return
    model = mobseg.mobilenet_segnet(3, input_height=32, input_width=32)
    model.architecture["class_names"] = ["dark", "bright", "red"]
    names = sorted(p.name for p in images.iterdir())
    x = np.stack([resize_image(read_image(images / n), 32, 32) for n in names])
    y = np.stack([np.asarray(Image.open(masks / n).resize((16, 16), Image.Resampling.NEAREST)) for n in names])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[mobseg.MeanIoU(3)])
    x = preprocess_images(x, model.preprocessing)
    model.fit(x, y.reshape(len(names), -1), batch_size=2, epochs=1, verbose=0)
    run.mkdir()
    model.save(run / "model.keras")


def test_train_evaluate_predict_end_to_end(tmp_path, capsys):
    images, masks = write_dataset(tmp_path)
    run = tmp_path / "run"
    train_one_epoch(images, masks, run)
    assert (run / "model.keras").is_file()

    report_path = tmp_path / "report.json"
    argv = ["evaluate", "--model", str(run), "--images", str(images), "--masks", str(masks), "--json", str(report_path)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "bright" in printed and "mean IoU" in printed
    report = json.loads(report_path.read_text())
    assert report["class_names"] == ["dark", "bright", "red"]
    assert report["n_images"] == 4
    assert report["n_pixels"] == 4 * HEIGHT * WIDTH
    assert np.sum(report["confusion_matrix"]) == 4 * HEIGHT * WIDTH
    assert [c["gt_pixels"] for c in report["classes"]] == [
        int(sum(np.sum(np.asarray(Image.open(m)) == k) for m in sorted(masks.iterdir()))) for k in range(3)
    ]
    assert 0.0 <= report["mean_iou"] <= 1.0

    out = tmp_path / "pred"
    argv = ["predict", "--model", str(run), "--input", str(images), "--out", str(out), "--overlay", "--legend"]
    assert main(argv) == 0
    for i in range(4):
        mask = Image.open(out / "masks" / f"img{i}.png")
        assert (mask.size, mask.mode) == ((WIDTH, HEIGHT), "L")
        assert np.asarray(mask).max() <= 2
        color = Image.open(out / "color" / f"img{i}.png")
        assert (color.size, color.mode) == ((WIDTH, HEIGHT), "P")
        overlay = Image.open(out / "overlay" / f"img{i}.png")
        assert overlay.mode == "RGB" and overlay.size[0] > WIDTH and overlay.size[1] >= HEIGHT  # legend on the right
    # the masks predict wrote give back the evaluate report's confusion matrix
    predicted = [np.asarray(Image.open(out / "masks" / f"img{i}.png")) for i in range(4)]
    truth = [np.asarray(Image.open(masks / f"img{i}.png")) for i in range(4)]
    cm = np.zeros((3, 3), np.int64)
    np.add.at(cm, (np.concatenate(truth).ravel(), np.concatenate(predicted).ravel()), 1)
    assert cm.tolist() == report["confusion_matrix"]


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_cli_reports_bad_input_in_one_line(tmp_path, capsys, command):
    (tmp_path / "fake.keras").write_text("not a model")
    argv = [command, "--model", str(tmp_path / "fake.keras")]
    argv += ["--images", "x", "--masks", "y"] if command == "evaluate" else ["--input", "x", "--out", "y"]
    assert main(argv) == 2
    assert "not a Keras model archive" in capsys.readouterr().err
