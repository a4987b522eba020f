"""The shared augmentation: half-pixel geometry, native-scale crops, and both loaders giving the same examples."""

import numpy as np
import pytest
from PIL import Image

from mobseg.data import Augmentation, ExampleTransform, make_dataset
from mobseg.data.augment import Region, resample
from mobseg.optional import has_tensorflow

STILL = {"flip": False, "brightness": 0.0, "contrast": 0.0, "saturation": 0.0}  # geometry only


def _reference(array, region, size, method):
    """Sample at the centres of a ``size`` grid over ``region`` (numpy): what :func:`resample` must give."""
    (out_h, out_w), (height, width) = size, array.shape[:2]
    ys = region.top + (np.arange(out_h) + 0.5) * (region.bottom - region.top) / out_h
    xs = region.left + (np.arange(out_w) + 0.5) * (region.right - region.left) / out_w
    inside = ((ys >= 0) & (ys < height))[:, None] & ((xs >= 0) & (xs < width))[None, :]
    if method == "nearest":
        yi, xi = np.clip(np.floor(ys).astype(int), 0, height - 1), np.clip(np.floor(xs).astype(int), 0, width - 1)
        return np.where(inside, array[np.ix_(yi, xi)], -1)
    y0, x0 = np.floor(ys - 0.5).astype(int), np.floor(xs - 0.5).astype(int)
    dy, dx = (ys - 0.5 - y0)[:, None, None], (xs - 0.5 - x0)[None, :, None]
    f = array.astype(float)

    def at(yy, xx):
        return f[np.clip(yy, 0, height - 1)][:, np.clip(xx, 0, width - 1)]

    out = (at(y0, x0) * (1 - dy) * (1 - dx) + at(y0, x0 + 1) * (1 - dy) * dx
           + at(y0 + 1, x0) * dy * (1 - dx) + at(y0 + 1, x0 + 1) * dy * dx)  # fmt: skip
    return np.where(inside[..., None], out, 0.0)


def test_resample_samples_pixel_centres_with_flips_and_padding():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 100, (37, 53)).astype(np.int32)
    image = rng.integers(0, 256, (37, 53, 3)).astype(np.uint8)
    for _ in range(50):
        top, bottom = sorted(rng.uniform(-10, 47, 2))
        left, right = sorted(rng.uniform(-10, 63, 2))
        size = tuple(int(v) for v in rng.integers(3, 40, 2))
        region = Region(top, left, bottom, right)
        np.testing.assert_array_equal(
            resample(labels, region, size, "nearest", -1), _reference(labels, region, size, "nearest")
        )
        got = resample(image, region, size, "bilinear").astype(float)
        assert np.abs(got - _reference(image, region, size, "bilinear")).max() <= 1.0  # uint8 rounding
        flipped = resample(labels, region._replace(flip_h=True, flip_v=True), size, "nearest", -1)
        np.testing.assert_array_equal(flipped, resample(labels, region, size, "nearest", -1)[::-1, ::-1])


def _ramp(height, width):
    """An image whose red channel is the column index and whose labels are the column index // 16."""
    columns = np.broadcast_to(np.arange(width, dtype=np.uint8), (height, width))
    return np.stack([columns] * 3, axis=-1).copy(), (columns // 16).astype(np.int32)


@pytest.mark.parametrize(("crop", "step"), [("resize", 4.0), ("native", 1.0)])
def test_native_crops_keep_the_image_scale(crop, step):
    """A 64x128 image at a 32x32 input: resized whole, a column step is 4 pixels; cropped natively, 1."""
    image, labels = _ramp(64, 128)
    transform = ExampleTransform(
        (32, 32), (16, 16), n_classes=8, head="spatial", augmentation=Augmentation(scale=(1, 1), crop=crop, **STILL)
    )
    for seed in range(5):
        x, y, w = transform(image, labels, np.random.default_rng(seed))
        np.testing.assert_allclose(np.diff(x[..., 0], axis=1), step, atol=0.51)
        assert (w == 1).all()
        column = x[1::2, 1::2, 0]  # the image's column near each label's sample point (within 2 pixels)
        assert ((y == column // 16) | (y == (column - 1) // 16) | (y == (column - 2) // 16)).all()


def test_native_crops_of_small_images_pad_and_the_padding_is_ignored():
    image, labels = _ramp(16, 16)
    transform = ExampleTransform(
        (32, 32), (32, 32), n_classes=1, augmentation=Augmentation(scale=(1, 1), crop="native", **STILL)
    )
    x, y, w = transform(image, labels, np.random.default_rng(0))
    assert (w == 0).mean() == pytest.approx(0.75) and (y[w == 0] == 0).all()
    assert (x.reshape(32, 32, 3)[w.reshape(32, 32) == 0] == 0).all()  # padded pixels are black
    with pytest.raises(ValueError, match="crop='center' is unknown; use one of: resize, native"):
        Augmentation(crop="center")


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pairs")
    rng = np.random.default_rng(0)
    found = []
    for i in range(6):
        size = (40 + 4 * i, 50)
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(folder / f"{i}.png")
        Image.fromarray(rng.integers(0, 3, size, dtype=np.uint8)).save(folder / f"{i}_mask.png")
        found.append((str(folder / f"{i}.png"), str(folder / f"{i}_mask.png")))
    return found


def _batches(ds):
    return [[np.asarray(t) for t in batch] for batch in ds]


@pytest.mark.skipif(not has_tensorflow(), reason="compares with tf.data, which needs TensorFlow")
def test_both_loaders_give_the_same_batches(pairs):
    settings = {"n_classes": 3, "input_size": (32, 32), "output_size": (16, 16), "batch_size": 4}
    settings.update(class_weights=[0.5, 1.0, 2.0], preprocessing="mobilenet")
    tf_batches, py_batches = (
        _batches(make_dataset(pairs, loader=name, **settings)) for name in ("tf.data", "pydataset")
    )
    assert len(tf_batches) == len(py_batches) == 2
    for tf_batch, py_batch in zip(tf_batches, py_batches, strict=True):
        for a, b in zip(tf_batch, py_batch, strict=True):
            np.testing.assert_array_equal(a, b)


def test_the_pydataset_is_fixed_by_seed_and_pass_in_any_order(pairs):
    def dataset(seed):
        return make_dataset(pairs, n_classes=3, input_size=(32, 32), batch_size=2, shuffle=True, augment=True,
                            seed=seed, loader="pydataset")  # fmt: skip

    first, again, other = dataset(1), dataset(1), dataset(2)
    forward = _batches(first)
    backward = [[np.asarray(t) for t in again[i]] for i in reversed(range(len(again)))][::-1]
    for a, b in zip(forward, backward, strict=True):
        np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(forward[0][0], _batches(other)[0][0])
    first.on_epoch_end()  # the next pass: a new order and new draws
    second = _batches(first)
    assert not np.array_equal(forward[0][0], second[0][0])
    sums = sorted(float(w.sum()) for batch in forward for w in batch[2])
    assert len(sums) == 6 and sums != sorted(float(w.sum()) for batch in second for w in batch[2])
