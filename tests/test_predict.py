"""predict / evaluate / load_model / image IO: original sizes for awkward inputs, files written, clear errors."""

import json
import os

import keras
import numpy as np
import pytest
from inference_helpers import half_white, threshold_model
from PIL import Image

import mobseg
from mobseg.inference import resize_scores, scores_to_mask
from mobseg.io import atomic_write_png, read_image, resize_image, to_channels


def expected_half_mask(height, width, split):
    mask = np.zeros((height, width), np.uint8)
    mask[:, :split] = 1
    return mask


# ---- image reading ------------------------------------------------------------------------------------------


def test_read_image_modes(tmp_path):
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    Image.fromarray(gray).save(tmp_path / "gray.png")
    assert read_image(tmp_path / "gray.png").tolist() == gray[..., None].tolist()
    deep = np.array([[0, 257, 65535]], np.uint16)
    Image.fromarray(deep).save(tmp_path / "deep.png")
    loaded = read_image(tmp_path / "deep.png")
    assert loaded.dtype == np.uint16 and loaded[..., 0].tolist() == [[0, 257, 65535]]
    assert resize_image(loaded, 1, 3)[..., 0].tolist() == [[0.0, 1.0, 255.0]]
    palette = Image.fromarray(np.array([[0, 1]], np.uint8), mode="P")
    palette.putpalette([10, 20, 30, 200, 100, 50])
    palette.save(tmp_path / "palette.png")
    assert read_image(tmp_path / "palette.png").tolist() == [[[10, 20, 30], [200, 100, 50]]]
    rgba = np.array([[[255, 0, 0, 0], [0, 0, 255, 128]]], np.uint8)
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    assert read_image(tmp_path / "rgba.png").shape == (1, 2, 4)


def test_prediction_reads_images_as_the_training_loader_does(tmp_path):
    from mobseg.data.images import read_image_uint8 as training_read_image

    rng = np.random.default_rng(3)
    files = {
        "gray.png": Image.fromarray(rng.integers(0, 256, (9, 11), dtype=np.uint8)),
        "rgba.png": Image.fromarray(rng.integers(0, 256, (9, 11, 4), dtype=np.uint8)),
        "deep.png": Image.fromarray(rng.integers(0, 65536, (9, 11), dtype=np.uint16)),
        "palette.png": Image.fromarray(rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)).convert("P"),
    }
    for name, image in files.items():
        image.save(tmp_path / name)
        for channels in (1, 3, 4):
            ours = resize_image(to_channels(read_image(tmp_path / name), channels), 9, 11)
            theirs = training_read_image(tmp_path / name, channels).astype(np.float32)
            np.testing.assert_allclose(ours, theirs, atol=0.5 if name == "deep.png" else 0, err_msg=name)


def test_channel_conversion_rules():
    rgba = np.array([[[255, 0, 0, 0], [0, 0, 255, 128]]], np.uint8)
    assert to_channels(rgba, 3).tolist() == [[[255, 0, 0], [0, 0, 255]]]  # alpha dropped, colour kept
    assert to_channels(rgba, 1)[..., 0].tolist() == [[76, 29]]  # ITU-R 601 luminance, like Pillow "L"
    assert to_channels(np.array([[[7]]], np.uint8), 3).tolist() == [[[7, 7, 7]]]
    assert to_channels(np.array([[[1, 2, 3]]], np.uint16), 4).tolist() == [[[1, 2, 3, 65535]]]


def test_unreadable_and_missing_files_name_the_file(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(ValueError, match=r"notes\.png"):
        read_image(bad)
    with pytest.raises(FileNotFoundError, match=r"nope\.png"):
        read_image(tmp_path / "nope.png")


def test_atomic_write_png_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "sub" / "mask.png"
    atomic_write_png(np.full((3, 5), 2, np.uint8), target)
    atomic_write_png(np.full((3, 5), 4, np.uint8), target)  # replaces
    assert os.listdir(tmp_path / "sub") == ["mask.png"]
    assert np.asarray(Image.open(target)).tolist() == np.full((3, 5), 4).tolist()
    with pytest.raises(ValueError, match="float64"):
        atomic_write_png(np.zeros((2, 2)), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


# ---- score resizing -----------------------------------------------------------------------------------------


def test_resize_scores_matches_keras_bilinear():
    scores = np.random.default_rng(0).random((5, 7, 3)).astype(np.float32)
    ours = resize_scores(scores, 181, 243)
    theirs = keras.ops.convert_to_numpy(
        keras.ops.image.resize(scores[None], (181, 243), interpolation="bilinear", antialias=False)
    )[0]
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    np.testing.assert_array_equal(scores_to_mask(scores, 181, 243), ours.argmax(-1))


def test_scores_to_mask_in_blocks_equals_one_shot(monkeypatch):
    import mobseg.inference.scoring as scoring

    scores = np.random.default_rng(1).random((6, 9, 4)).astype(np.float32)
    whole = scores_to_mask(scores, 50, 70)
    monkeypatch.setattr(scoring, "_CHUNK_ELEMENTS", 70 * 4 * 3)  # 3 rows per block
    np.testing.assert_array_equal(scoring.scores_to_mask(scores, 50, 70), whole)
    assert whole.shape == (50, 70) and whole.dtype == np.uint8


# ---- predict ------------------------------------------------------------------------------------------------


def test_predict_returns_the_original_size_for_awkward_files(tmp_path):
    model = threshold_model(n_classes=3, height=32, width=32)
    height, width, split = 181, 243, 120
    rgb = half_white(height, width, split)
    Image.fromarray(rgb[..., 0]).save(tmp_path / "gray.png")
    rgba = np.concatenate([rgb, np.zeros((height, width, 1), np.uint8)], axis=-1)  # fully transparent
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    Image.fromarray(half_white(height, width, split, 1, np.uint16)[..., 0]).save(tmp_path / "deep16.png")
    Image.fromarray(rgb).save(tmp_path / "photo.jpg", quality=95)
    paletted = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=2)
    paletted.save(tmp_path / "palette.png")
    assert Image.open(tmp_path / "deep16.png").mode == "I;16"

    masks = mobseg.predict(model, tmp_path, batch_size=2)
    assert len(masks) == 5
    for mask in masks:
        assert mask.shape == (height, width) and mask.dtype == np.uint8
        # the class boundary follows the image at full resolution (1/32 of the width of slack for resizing)
        assert (mask[:, : split - 8] == 1).all() and (mask[:, split + 8 :] == 0).all()
    np.testing.assert_array_equal(masks[0], masks[1])  # 16-bit gives what 8-bit gives
    single = mobseg.predict(model, tmp_path / "gray.png")
    assert isinstance(single, np.ndarray)
    np.testing.assert_array_equal(single, masks[1])


def test_predict_is_exact_when_sizes_divide(tmp_path):
    # 32x32 input, 16x16 output: bilinear upsampling of scores puts the boundary exactly at column 16.
    model = threshold_model(n_classes=2, height=32, width=32)
    mask = mobseg.predict(model, half_white(32, 32, 16))
    np.testing.assert_array_equal(mask, expected_half_mask(32, 32, 16))
    spatial = threshold_model(n_classes=2, height=32, width=32, head="spatial")
    np.testing.assert_array_equal(mobseg.predict(spatial, half_white(32, 32, 16)), mask)


def test_predict_batches_and_grayscale_models_agree():
    images = [half_white(40 + i, 50, 10 + 5 * i) for i in range(5)]
    model = threshold_model(n_classes=2, height=32, width=32)
    by_two = mobseg.predict(model, images, batch_size=2, progress=False)
    by_eight = mobseg.predict(model, images, batch_size=8)
    gray_model = threshold_model(n_classes=2, height=32, width=32, channels=1)
    gray = mobseg.predict(gray_model, images, batch_size=3)
    for a, b, c, image in zip(by_two, by_eight, gray, images, strict=True):
        assert a.shape == image.shape[:2]
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_predict_writes_masks_palette_pngs_and_overlays(tmp_path):
    model = threshold_model(n_classes=3, height=32, width=32)
    model.architecture["class_names"] = ["ground", "sky", "boat"]
    Image.fromarray(half_white(45, 61, 30)).save(tmp_path / "a.png")
    Image.fromarray(half_white(37, 29, 10)[..., 0]).save(tmp_path / "b.png")
    out = tmp_path / "out"
    masks = mobseg.predict(model, [tmp_path / "a.png", tmp_path / "b.png"], out, overlay=True)
    for stem, size, mask in (("a", (61, 45), masks[0]), ("b", (29, 37), masks[1])):
        index = Image.open(out / "masks" / f"{stem}.png")
        assert (index.size, index.mode) == (size, "L")
        np.testing.assert_array_equal(np.asarray(index), mask)
        color = Image.open(out / "color" / f"{stem}.png")
        assert (color.size, color.mode) == (size, "P")
        np.testing.assert_array_equal(np.asarray(color), mask)
        assert color.getpalette()[:6] == [0, 0, 0, 128, 0, 0]
        overlay = Image.open(out / "overlay" / f"{stem}.png")
        assert (overlay.size, overlay.mode) == (size, "RGB")
    # white pixel of class 1 (128, 0, 0) blended half and half; black class-0 pixel stays black
    pixels = np.asarray(Image.open(out / "overlay" / "a.png"))
    assert pixels[0, 0].tolist() == [192, 128, 128] and pixels[0, 60].tolist() == [0, 0, 0]
    assert sorted(os.listdir(out)) == ["color", "masks", "overlay"]
    assert all(not name.endswith(".tmp") for _, _, files in os.walk(out) for name in files)

    mobseg.predict(model, tmp_path / "a.png", tmp_path / "legend", legend=True)
    with_legend = Image.open(tmp_path / "legend" / "overlay" / "a.png")
    assert with_legend.mode == "RGB" and with_legend.size[0] > 61 and with_legend.size[1] == max(45, 6 * 2 + 20 * 3)
    np.testing.assert_array_equal(np.asarray(with_legend)[:45, :61], pixels)


def test_predict_errors(tmp_path):
    model = threshold_model(n_classes=2, height=32, width=32)
    with pytest.raises(FileNotFoundError, match=r"missing\.png"):
        mobseg.predict(model, tmp_path / "missing.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(ValueError, match=r"broken\.png"):
        mobseg.predict(model, tmp_path / "broken.png")
    os.makedirs(tmp_path / "x")
    os.makedirs(tmp_path / "y")
    Image.fromarray(half_white(8, 8, 4)).save(tmp_path / "x" / "same.png")
    Image.fromarray(half_white(8, 8, 4)).save(tmp_path / "y" / "same.jpg")
    with pytest.raises(ValueError, match="same output name 'same'"):
        mobseg.predict(model, [tmp_path / "x" / "same.png", tmp_path / "y" / "same.jpg"], tmp_path / "out")
    with pytest.raises(ValueError, match="shape"):
        mobseg.predict(model, np.zeros((4, 4, 5), np.uint8))


# ---- load_model ---------------------------------------------------------------------------------------------


def test_load_model_reads_training_json_and_keeps_preprocessing(tmp_path):
    model = threshold_model(n_classes=3, height=32, width=32)
    run = tmp_path / "run"
    run.mkdir()
    model.save(run / "model.keras")
    info = {"class_names": ["ground", "sky", "boat"], "preprocessing": "caffe", "n_classes": 3, "ignore_index": 255}
    (run / "training.json").write_text(json.dumps(info))
    loaded = mobseg.load_model(run)
    assert isinstance(loaded, mobseg.SegmentationModel)
    assert loaded.architecture["class_names"] == ["ground", "sky", "boat"]
    assert loaded.preprocessing == "unit"  # what the model records wins over training.json
    assert loaded.run_info["ignore_index"] == 255
    np.testing.assert_array_equal(
        mobseg.predict(loaded, half_white(32, 32, 16)), mobseg.predict(model, half_white(32, 32, 16))
    )
    (run / "training.json").write_text(json.dumps({"class_names": ["only", "two"]}))
    with pytest.warns(UserWarning, match="2 class names"):
        assert mobseg.load_model(run / "model.keras").architecture["class_names"] == ["class_0", "class_1", "class_2"]


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_load_model_wraps_plain_keras_models_and_restores_compiled_metric(tmp_path):
    inputs = keras.Input((16, 16, 3))
    outputs = keras.layers.Softmax()(keras.layers.Conv2D(2, 1)(keras.layers.AveragePooling2D(2)(inputs)))
    plain = keras.Model(inputs, keras.layers.Reshape((64, 2))(outputs))
    plain.compile("adam", "sparse_categorical_crossentropy", metrics=[mobseg.MeanIoU(2)])
    plain.save(tmp_path / "plain.keras")
    loaded = mobseg.load_model(tmp_path / "plain.keras", compile=True)
    assert loaded.output_size == (8, 8) and loaded.preprocessing == "none"
    assert mobseg.predict(loaded, np.zeros((20, 30, 3), np.uint8)).shape == (20, 30)
    compiled = keras.saving.load_model(tmp_path / "plain.keras")
    compiled.evaluate(np.zeros((1, 16, 16, 3)), np.zeros((1, 64)), verbose=0)
    assert "mean_iou" in compiled.get_metrics_result()


def test_load_model_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.keras"):
        mobseg.load_model(tmp_path / "nothing.keras")
    (tmp_path / "weights.h5").write_bytes(b"HDF")
    with pytest.raises(ValueError, match=r"not a \.keras file"):
        mobseg.load_model(tmp_path / "weights.h5")
    (tmp_path / "fake.keras").write_text("hello")
    with pytest.raises(ValueError, match="not a Keras model archive"):
        mobseg.load_model(tmp_path / "fake.keras")
    (tmp_path / "empty_run").mkdir()
    with pytest.raises(FileNotFoundError, match=r"No model\.keras"):
        mobseg.load_model(tmp_path / "empty_run")


# ---- evaluate -----------------------------------------------------------------------------------------------


def test_evaluate_counts_by_hand(tmp_path, capsys):
    model = threshold_model(n_classes=3, height=32, width=32)  # predicts class 1 on the left 16 columns
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    for stem in ("a", "b"):
        Image.fromarray(half_white(32, 32, 16)).save(images / f"{stem}.jpg", quality=100)
        mask = expected_half_mask(32, 32, 16)
        mask[0] = 0  # first row labelled background: 16 false positives of class 1
        mask[31] = 255  # last row unlabelled
        Image.fromarray(mask).save(masks / f"{stem}.png")
    report = mobseg.evaluate(model, images, masks, ignore_index=255, class_names=["ground", "sky", "boat"])
    assert report["confusion_matrix"] == [[2 * 496, 2 * 16, 0], [0, 2 * 480, 0], [0, 0, 0]]
    assert report["classes"][0]["iou"] == pytest.approx(496 / 512)
    assert report["classes"][1]["iou"] == pytest.approx(480 / 496)
    assert report["classes"][2]["iou"] is None
    assert report["mean_iou"] == pytest.approx((496 / 512 + 480 / 496) / 2)
    assert report["pixel_accuracy"] == pytest.approx(976 / 992)
    assert report["n_images"] == 2 and report["absent_classes"] == ["boat"]
    printed = capsys.readouterr().out
    assert "sky" in printed and "mean IoU                0.9682" in printed


def test_evaluate_rejects_bad_masks():
    model = threshold_model(n_classes=2, height=32, width=32)
    image = half_white(20, 30, 15)
    with pytest.raises(ValueError, match=r"values \[255\].*ignore_index=255"):
        mobseg.evaluate(model, [image], [np.full((20, 30), 255, np.uint8)], verbose=False)
    with pytest.raises(ValueError, match=r"mask 0 is 31x20 \(WxH\) but its image image 0 is 30x20"):
        mobseg.evaluate(model, [image], [np.zeros((20, 31), np.uint8)], verbose=False)
    with pytest.raises(ValueError, match="1 images but 2 masks"):
        mobseg.evaluate(model, [image], [np.zeros((20, 30))] * 2, verbose=False)
