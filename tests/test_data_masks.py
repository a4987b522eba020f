"""Mask formats: index (8/16-bit), palette, RGB colour maps, binary; ignore_index gets zero weight."""

import numpy as np
import pytest
from PIL import Image

from mobseg.data import make_dataset, read_mask
from mobseg.data.masks import parse_colors


def _save(array, path, mode=None):
    Image.fromarray(array, mode=mode).save(path) if mode else Image.fromarray(array).save(path)
    return str(path)


def test_8bit_index_mask(tmp_path):
    labels = np.array([[0, 1, 2], [3, 255, 0]], np.uint8)
    path = _save(labels, tmp_path / "m.png")
    assert Image.open(path).mode == "L"
    assert read_mask(path).tolist() == labels.tolist()


def test_16bit_index_mask_keeps_values_above_255(tmp_path):
    labels = np.array([[0, 300], [65535, 7]], np.uint16)
    path = tmp_path / "m16.png"
    Image.fromarray(labels).save(path)
    assert Image.open(path).mode.startswith("I;16")
    assert read_mask(path).tolist() == [[0, 300], [65535, 7]]


def test_palette_mask_gives_the_palette_index_not_the_colour(tmp_path):
    labels = np.array([[0, 1], [2, 1]], np.uint8)
    mask = Image.fromarray(labels, mode="L").convert("P")
    # Colours chosen so that no channel equals the index (the keras_segmentation blue-channel bug).
    mask.putpalette([10, 20, 30, 200, 100, 50, 7, 8, 9] + [0] * (256 * 3 - 9))
    mask.save(tmp_path / "p.png")
    assert Image.open(tmp_path / "p.png").mode == "P"
    assert read_mask(tmp_path / "p.png").tolist() == [[0, 1], [2, 1]]


def test_rgb_colour_mask_with_colour_map(tmp_path):
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[0, 1] = (255, 0, 0)
    rgb[1, 2] = (0, 128, 255)
    rgb[1, 0] = (255, 255, 255)
    path = _save(rgb, tmp_path / "c.png")
    colors = {"#000000": 0, "255,0,0": 1, (0, 128, 255): 2, "#ffffff": 255}
    assert read_mask(path, colors=colors).tolist() == [[0, 1, 0], [255, 0, 2]]
    assert parse_colors([(0, 0, 0), (255, 0, 0)]) == {(0, 0, 0): 0, (255, 0, 0): 1}


def test_rgb_mask_unknown_colour_and_missing_map_are_clear_errors(tmp_path):
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[0, 0] = (1, 2, 3)
    path = _save(rgb, tmp_path / "c.png")
    with pytest.raises(ValueError, match="#010203"):
        read_mask(path, colors={"#000000": 0})
    with pytest.raises(ValueError, match="colors"):
        read_mask(path)


def test_grayscale_saved_as_rgb_reads_as_index(tmp_path):
    labels = np.array([[0, 2], [1, 1]], np.uint8)
    path = _save(np.repeat(labels[..., None], 3, axis=-1), tmp_path / "g.png")
    assert read_mask(path).tolist() == labels.tolist()


def test_binary_masks_threshold_at_half(tmp_path):
    values = np.array([[0, 255, 100], [200, 127, 128]], np.uint8)
    path = _save(values, tmp_path / "b.png")
    assert read_mask(path, "binary").tolist() == [[0, 1, 0], [1, 0, 1]]
    rgb = _save(np.repeat(values[..., None], 3, axis=-1), tmp_path / "b_rgb.png")
    assert read_mask(rgb, "binary").tolist() == [[0, 1, 0], [1, 0, 1]]
    wide = tmp_path / "b16.png"
    Image.fromarray(np.array([[0, 65535]], np.uint16)).save(wide)
    assert read_mask(wide, "binary").tolist() == [[0, 1]]


def test_unknown_mask_format_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="index, rgb, binary"):
        read_mask(_save(np.zeros((2, 2), np.uint8), tmp_path / "m.png"), "colour")


@pytest.mark.parametrize("head", ["flat", "spatial"])
def test_ignore_index_pixels_get_zero_weight_and_class_weights_apply(tmp_path, head, loader):
    labels = np.zeros((8, 8), np.uint8)
    labels[:, 4:] = 1
    labels[:2, :] = 255
    image = _save(np.full((8, 8, 3), 90, np.uint8), tmp_path / "i.png")
    mask = _save(labels, tmp_path / "m.png")
    ds = make_dataset(
        [(image, mask)],
        n_classes=2,
        input_size=(8, 8),
        output_size=(4, 4),
        head=head,
        ignore_index=255,
        class_weights=[0.5, 3.0],
        batch_size=1,
        loader=loader,
    )
    _, y, w = next(iter(ds))
    y, w = np.asarray(y).reshape(4, 4), np.asarray(w).reshape(4, 4)
    assert y.shape == (4, 4) and (head == "spatial") == (len(next(iter(ds))[1].shape) == 3)
    assert (y[0] == 255).all() and (w[0] == 0).all()
    assert (w[1:, :2] == 0.5).all() and (y[1:, :2] == 0).all()
    assert (w[1:, 2:] == 3.0).all() and (y[1:, 2:] == 1).all()


def test_labels_at_or_above_n_classes_fail_with_the_file_name(tmp_path, loader):
    image = _save(np.zeros((4, 4, 3), np.uint8), tmp_path / "i.png")
    mask = _save(np.full((4, 4), 5, np.uint8), tmp_path / "bad.png")
    ds = make_dataset([(image, mask)], n_classes=3, input_size=(4, 4), batch_size=1, loader=loader)
    with pytest.raises(Exception, match=r"bad\.png"):
        next(iter(ds))
