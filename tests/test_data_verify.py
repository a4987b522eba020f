"""verify_dataset reports every kind of problem, with file names, in one run."""

import numpy as np
from PIL import Image

from mobseg.data import verify_dataset


def _image(path, size=(8, 6)):
    Image.fromarray(np.full((size[1], size[0], 3), 128, np.uint8)).save(path)


def _mask(path, size=(8, 6), value=0):
    Image.fromarray(np.full((size[1], size[0]), value, np.uint8)).save(path)


def test_every_problem_is_reported_in_one_run(tmp_path):
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    _image(images / "good.png")
    _mask(masks / "good.png", value=1)
    _image(images / "ignored.jpg")
    _mask(masks / "ignored.png", value=255)  # ignore_index: fine
    _image(images / "no_mask.png")
    _mask(masks / "no_image.png")
    _image(images / "twice.png")
    _image(images / "twice.jpg")
    _mask(masks / "twice.png")
    (images / "corrupt_image.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    _mask(masks / "corrupt_image.png")
    _image(images / "corrupt_mask.png")
    good = (masks / "good.png").read_bytes()
    (masks / "corrupt_mask.png").write_bytes(good[: len(good) // 2])  # truncated file
    _image(images / "mismatch.png", size=(8, 6))
    _mask(masks / "mismatch.png", size=(6, 8))
    _image(images / "out_of_range.png")
    _mask(masks / "out_of_range.png", value=7)
    _image(images / "colour_mask.png")
    Image.fromarray(np.dstack([np.full((6, 8), v, np.uint8) for v in (200, 10, 10)])).save(masks / "colour_mask.png")
    (images / "notes.txt").write_text("not an image")

    report = verify_dataset(images, masks, n_classes=3, ignore_index=255)
    found = {(p.kind, p.file.split("/")[-1]) for p in report.problems}
    expected = {
        ("missing_mask", "no_mask.png"),
        ("missing_image", "no_image.png"),
        ("duplicate_name", "twice.jpg"),
        ("unreadable_image", "corrupt_image.png"),
        ("unreadable_mask", "corrupt_mask.png"),
        ("size_mismatch", "mismatch.png"),
        ("label_out_of_range", "out_of_range.png"),
        ("bad_mask", "colour_mask.png"),
    }
    assert expected <= found, expected - found
    assert len(report.problems) == len(expected), report.summary()
    assert not report.ok
    text = report.summary()
    for _, name in expected:
        assert name in text
    assert "values 7" in text and "n_classes=3" in text
    # Summary: 8 pairs were formed (twice.* is not paired), class histogram over readable masks.
    assert len(report.pairs) == 7
    assert report.class_pixels[1] == 48 and report.ignored_pixels == 48
    assert report.image_sizes[(8, 6)] >= 5
    assert report.skipped_files and report.skipped_files[0].endswith("notes.txt")


def test_empty_and_missing_folders_are_reported(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    report = verify_dataset(tmp_path / "images", tmp_path / "masks", n_classes=2)
    assert {p.kind for p in report.problems} == {"empty_folder"}
    assert len(report.problems) == 2
    report = verify_dataset(tmp_path / "nope", tmp_path / "masks")
    assert [p.kind for p in report.problems] == ["missing_folder", "empty_folder"]


def test_clean_dataset_summary(tmp_path):
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    for i in range(3):
        _image(images / f"{i}.png")
        _mask(masks / f"{i}.png", value=i % 2)
    report = verify_dataset(images, masks, n_classes=2)
    assert report.ok and len(report.pairs) == 3
    assert report.class_pixels == [96, 48]
    assert report.labels_found == [0, 1]
