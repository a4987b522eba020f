"""SegmentationCrossentropy: ignore_index, both heads, logits, and safe-mode reload of a compiled model."""

import keras
import numpy as np
import pytest

import mobseg
from mobseg.losses import SegmentationCrossentropy


def test_ignored_pixels_contribute_zero_and_never_nan():
    probs = np.array([[[0.7, 0.3], [0.0, 1.0], [0.5, 0.5]]], np.float32)
    labels = np.array([[0, 255, 1]])
    per_pixel = SegmentationCrossentropy(ignore_index=255, reduction=None)(labels, probs)
    per_pixel = keras.ops.convert_to_numpy(per_pixel)
    assert per_pixel[0, 1] == 0.0 and np.isfinite(per_pixel).all()
    assert per_pixel[0, 0] == pytest.approx(-np.log(0.7), rel=1e-5)
    weighted = SegmentationCrossentropy(ignore_index=255)(labels, probs, sample_weight=np.array([[1.0, 0.0, 1.0]]))
    assert float(weighted) == pytest.approx((-np.log(0.7) - np.log(0.5)) / 2, rel=1e-5)


def test_spatial_head_logits_and_trailing_axis():
    logits = np.random.default_rng(0).normal(size=(2, 3, 4, 5)).astype(np.float32)
    labels = np.random.default_rng(1).integers(0, 5, (2, 3, 4))
    labels[0, 0, 0] = 11
    from_logits = SegmentationCrossentropy(ignore_index=11, from_logits=True, reduction=None)(labels, logits)
    probs = keras.ops.softmax(logits)
    from_probs = SegmentationCrossentropy(ignore_index=11, reduction=None)(labels[..., None], probs)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(from_logits), keras.ops.convert_to_numpy(from_probs), 1e-4)
    assert keras.ops.convert_to_numpy(from_logits)[0, 0, 0] == 0.0


def test_compiled_model_reloads_in_safe_mode(tmp_path):
    from mobseg.metrics import MeanIoU

    model = mobseg.mobilenet_segnet(3, input_height=32, input_width=32, head="spatial", logits=True, alpha=0.25)
    model.compile("adam", SegmentationCrossentropy(ignore_index=255, from_logits=True), weighted_metrics=[MeanIoU(3)])
    x = np.zeros((2, 32, 32, 3), np.float32)
    y = np.full((2, 16, 16), 255)
    y[:, :4] = 1
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.loss, SegmentationCrossentropy)
    assert loaded.loss.ignore_index == 255 and loaded.loss.from_logits
    assert np.isfinite(loaded.evaluate(x, y, verbose=0)[0])
