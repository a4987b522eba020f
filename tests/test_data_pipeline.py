"""The input pipelines (tf.data and the PyDataset): layouts, aligned joint augmentation, any image mode, epochs."""

import numpy as np
import pytest
from PIL import Image

from mobseg.data import list_pairs, make_dataset, median_frequency_weights, resolve_class_weights
from mobseg.datasets import SHAPES_CLASSES, make_shapes


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return make_shapes(tmp_path_factory.mktemp("shapes") / "data", n_train=12, n_val=2, size=(48, 64))


def test_layouts_dtypes_and_one_pass_per_epoch(shapes, loader):
    pairs = list_pairs(shapes.train_images, shapes.train_masks)
    flat = make_dataset(pairs, n_classes=4, input_size=(32, 32), output_size=(16, 16), batch_size=5, loader=loader)
    batches = list(flat)
    assert [int(b[0].shape[0]) for b in batches] == [5, 5, 2]  # 12 pairs = one epoch
    x, y, w = (np.asarray(t) for t in batches[0])
    assert x.shape == (5, 32, 32, 3) and x.dtype.name == "float32"
    assert y.shape == (5, 256) and y.dtype.name == "int32" and w.shape == (5, 256) and w.dtype.name == "float32"
    spatial = make_dataset(pairs, n_classes=4, input_size=(32, 32), output_size=(16, 16), head="spatial", loader=loader)
    assert next(iter(spatial))[1].shape == (8, 16, 16)
    mobilenet = make_dataset(
        pairs, n_classes=4, input_size=(32, 32), preprocessing="mobilenet", batch_size=12, loader=loader
    )
    x = np.asarray(next(iter(mobilenet))[0])
    assert x.min() >= -1.0 and x.max() <= 1.0 and x.min() < -0.5


def _passes(ds, count):
    """The first batch of ``count`` passes over ``ds`` (a PyDataset moves on at ``on_epoch_end``, as in fit)."""
    firsts = []
    for _ in range(count):
        firsts.append([np.asarray(t) for t in next(iter(ds))])
        if hasattr(ds, "on_epoch_end"):
            ds.on_epoch_end()
    return firsts


def test_shuffle_changes_order_every_epoch(shapes, loader):
    pairs = list_pairs(shapes.train_images, shapes.train_masks)
    ds = make_dataset(pairs, n_classes=4, input_size=(16, 16), batch_size=12, shuffle=True, seed=3, loader=loader)
    first, second = (batch[0].mean(axis=(1, 2, 3)) for batch in _passes(ds, 2))
    assert sorted(first.round(4).tolist()) == sorted(second.round(4).tolist())
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("cache", [False, True])
def test_augmentation_keeps_image_and_mask_aligned(shapes, cache, loader):
    """Each class has its own hue, so the mean colour under each label must stay distinct after augmenting."""
    pairs = list_pairs(shapes.train_images, shapes.train_masks)
    ds = make_dataset(
        pairs, n_classes=4, input_size=(32, 32), output_size=(16, 16), head="spatial",
        augment=True, shuffle=True, batch_size=12, cache=cache, loader=loader,
    )  # fmt: skip
    for x, y, w in _passes(ds, 2):
        pooled = x.reshape(12, 16, 2, 16, 2, 3).mean(axis=(2, 4))
        means = {c: pooled[(y == c) & (w > 0)].mean(axis=0) for c in range(1, 4)}
        for c, channel in ((1, 0), (2, 1), (3, 2)):  # circles reddish, rectangles greenish, triangles bluish
            assert np.argmax(means[c]) == channel, (SHAPES_CLASSES[c], means[c])


def test_zoom_out_padding_is_ignored(shapes, loader):
    pairs = list_pairs(shapes.train_images, shapes.train_masks)
    augment = {"scale": (0.5, 0.5)}
    ds = make_dataset(pairs, n_classes=4, input_size=(32, 32), augment=augment, batch_size=12, loader=loader)
    _x, y, w = (np.asarray(t) for t in next(iter(ds)))
    assert (w == 0).mean() > 0.5  # at half scale three quarters of the area is padding
    assert set(np.unique(y)) <= {0, 1, 2, 3}


def test_any_image_mode_and_size(tmp_path, loader):
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (20, 30), dtype=np.uint8)).save(images / "gray.png")
    Image.fromarray(rng.integers(0, 255, (25, 17, 4), dtype=np.uint8)).save(images / "rgba.png")
    Image.fromarray(np.full((10, 12), 65535, np.uint16)).save(images / "deep.tif")
    Image.fromarray(rng.integers(0, 255, (9, 9, 3), dtype=np.uint8)).save(images / "small.bmp")
    Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(images / "photo.jpg")
    for name, (h, w) in {
        "gray": (20, 30),
        "rgba": (25, 17),
        "deep": (10, 12),
        "small": (9, 9),
        "photo": (16, 16),
    }.items():
        Image.fromarray(np.ones((h, w), np.uint8)).save(masks / f"{name}.png")
    pairs = list_pairs(images, masks)
    for channels in (1, 3, 4):
        ds = make_dataset(pairs, n_classes=2, input_size=(16, 16), channels=channels, batch_size=5, loader=loader)
        x, y, w = (np.asarray(t) for t in next(iter(ds)))
        assert x.shape == (5, 16, 16, channels)
        assert (y == 1).all()
    deep = next(i for i, p in enumerate(pairs) if p.image.endswith("deep.tif"))
    assert np.allclose(x[deep], 255.0)  # 16-bit 65535 -> 255


def test_balanced_class_weights(shapes):
    assert median_frequency_weights([90, 10, 0], [100, 100, 0]) == [pytest.approx(0.5 / 0.9), pytest.approx(5.0), 0.0]
    pairs = list_pairs(shapes.train_images, shapes.train_masks)
    weights = resolve_class_weights("balanced", 4, pairs)
    assert len(weights) == 4 and weights[0] < 1 < max(weights[1:])
    with pytest.raises(ValueError, match="4 classes"):
        resolve_class_weights([1, 2], 4)


def test_make_shapes_is_deterministic(tmp_path):
    a = make_shapes(tmp_path / "a", n_train=3, n_val=1, size=(24, 24), seed=5)
    b = make_shapes(tmp_path / "b", n_train=3, n_val=1, size=(24, 24), seed=5)
    for folder in ("train/images", "train/masks", "val/masks"):
        files_a = sorted((tmp_path / "a" / folder).iterdir())
        files_b = sorted((tmp_path / "b" / folder).iterdir())
        assert [f.read_bytes() for f in files_a] == [f.read_bytes() for f in files_b]
    assert Image.open(files_a[0]).mode == "P"
    assert make_shapes(tmp_path / "a", n_train=3, n_val=1, size=(24, 24), seed=5) == a  # reused
    with pytest.raises(ValueError, match="does not hold"):
        make_shapes(tmp_path / "a", n_train=4, n_val=1, size=(24, 24), seed=5)
    assert b.n_classes == 4
