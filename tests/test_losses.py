"""mobseg's losses: hand-computed values, ignore_index and pixel weights, both heads, logits, safe-mode reload."""

import keras
import numpy as np
import pytest

import mobseg
from mobseg.losses import (
    CombinedLoss,
    LovaszSoftmaxLoss,
    SegmentationCrossentropy,
    SegmentationDiceLoss,
    SegmentationFocalLoss,
    make_loss,
    parse_loss,
)


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


# --- Dice, focal, Lovász-softmax, weighted sums ------------------------------------------------------------------


def _value(loss, labels, probs, weights=None):
    return float(keras.ops.convert_to_numpy(loss(labels, probs, sample_weight=weights)))


#: Four pixels, three classes (label 3 is ignored): a small example to compute by hand.
LABELS = np.array([[0, 1, 1, 3]])
PROBS = np.array([[[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1], [0.1, 0.1, 0.8]]], np.float32)


def test_dice_matches_a_hand_computation_with_ignored_pixels_and_weights():
    # Unweighted, pixel 3 ignored. Class 0: I = 0.6, |p| = 1.3, |y| = 1; class 1: I = 1.1, |p| = 1.4, |y| = 2;
    # class 2 has no ground truth and is left out of the mean.
    expected = 1 - (2 * 0.6 / 2.3 + 2 * 1.1 / 3.4) / 2
    assert _value(SegmentationDiceLoss(ignore_index=3), LABELS, PROBS) == pytest.approx(expected, rel=1e-5)
    # Weights [2, 1, 0, 5]: pixel 2 drops out, the ignored pixel stays out whatever its weight.
    # Class 0: I = 1.2, |p| = 1.2 + 0.2 = 1.4, |y| = 2; class 1: I = 0.7, |p| = 0.6 + 0.7 = 1.3, |y| = 1.
    weighted = 1 - (2 * 1.2 / 3.4 + 2 * 0.7 / 2.3) / 2
    weights = np.array([[2.0, 1.0, 0.0, 5.0]])
    assert _value(SegmentationDiceLoss(ignore_index=3), LABELS, PROBS, weights) == pytest.approx(weighted, rel=1e-5)
    perfect = np.eye(3, dtype=np.float32)[[[0, 1, 1, 2]]]
    assert _value(SegmentationDiceLoss(ignore_index=3), LABELS, perfect) == pytest.approx(0.0, abs=1e-6)


def test_lovasz_of_a_hard_prediction_is_one_minus_the_mean_iou_of_the_present_classes():
    labels = np.array([[0, 0, 1, 1, 2, 2, 2, 9]])
    predicted = np.array([[0, 1, 1, 1, 2, 0, 2, 0]])  # the last pixel is ignored
    hard = np.eye(3, dtype=np.float32)[predicted]
    # IoU: class 0 1/3 (tp 1, fp 1, fn 1), class 1 2/3, class 2 2/3.
    iou = np.array([1 / 3, 2 / 3, 2 / 3])
    assert _value(LovaszSoftmaxLoss(ignore_index=9), labels, hard) == pytest.approx(1 - iou.mean(), rel=1e-5)
    # Weights count pixels several times: pixel 1 (class 0, predicted 1) weighs 3.
    # Class 0: tp 1, fn 3, fp 1 -> 1/5; class 1: tp 2, fp 3 -> 2/5; class 2: 2/3.
    weights = np.array([[1.0, 3.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]])
    weighted = 1 - (1 / 5 + 2 / 5 + 2 / 3) / 3
    assert _value(LovaszSoftmaxLoss(ignore_index=9), labels, hard, weights) == pytest.approx(weighted, rel=1e-5)
    # A class absent from the labels is left out: only class 0 is present here, and it is predicted perfectly.
    only_zero = np.array([[0, 0, 0]])
    assert _value(LovaszSoftmaxLoss(), only_zero, np.eye(3, dtype=np.float32)[[[0, 0, 0]]]) == pytest.approx(0.0)


def test_set_losses_of_a_soft_prediction_lie_between_zero_and_one():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 6, 5, 4)).astype(np.float32)
    labels = rng.integers(0, 4, (2, 6, 5))
    labels[0, :2] = 255
    for loss in (LovaszSoftmaxLoss(ignore_index=255, from_logits=True), SegmentationDiceLoss(255, from_logits=True)):
        value = _value(loss, labels, logits)
        assert 0.0 < value < 1.0


def test_focal_with_gamma_zero_is_the_crossentropy_and_gamma_two_scales_each_pixel():
    weights = np.array([[1.0, 2.0, 0.5, 0.0]])
    ce = _value(SegmentationCrossentropy(ignore_index=3), LABELS, PROBS, weights)
    focal0 = _value(SegmentationFocalLoss(gamma=0.0, ignore_index=3), LABELS, PROBS, weights)
    assert focal0 == pytest.approx(ce, rel=1e-6)
    per_pixel = keras.ops.convert_to_numpy(SegmentationFocalLoss(ignore_index=3, reduction=None)(LABELS, PROBS))
    p_true = np.array([0.6, 0.7, 0.4])
    np.testing.assert_allclose(per_pixel[0, :3], -((1 - p_true) ** 2) * np.log(p_true), rtol=1e-5)
    assert per_pixel[0, 3] == 0.0


@pytest.mark.parametrize("spec", ["ce", "dice", "focal", "lovasz", "ce+0.5*dice"])
def test_every_loss_agrees_on_flat_and_spatial_layouts_and_on_logits_and_softmax(spec):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    labels = rng.integers(0, 5, (2, 3, 4))
    labels[1, 0] = 255
    weights = rng.uniform(0.5, 2.0, (2, 3, 4)).astype(np.float32) * (labels != 255)
    probs = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    spatial = _value(make_loss(spec, ignore_index=255, from_logits=True), labels, logits, weights)
    flat = _value(
        make_loss(spec, ignore_index=255), labels.reshape(2, 12), probs.reshape(2, 12, 5), weights.reshape(2, 12)
    )
    trailing_axis = _value(make_loss(spec, ignore_index=255), labels[..., None], probs, weights)
    assert spatial == pytest.approx(flat, rel=1e-4) and flat == pytest.approx(trailing_axis, rel=1e-5)


def test_a_weighted_sum_is_the_sum_of_its_weighted_terms():
    weights = np.array([[1.0, 2.0, 0.5, 0.0]])
    ce = _value(SegmentationCrossentropy(ignore_index=3), LABELS, PROBS, weights)
    dice = _value(SegmentationDiceLoss(ignore_index=3), LABELS, PROBS, weights)
    combined = make_loss("ce+0.5*dice", ignore_index=3)
    assert isinstance(combined, CombinedLoss) and combined.name == "ce+0.5*dice"
    assert _value(combined, LABELS, PROBS, weights) == pytest.approx(ce + 0.5 * dice, rel=1e-6)


def test_loss_names_parse_and_bad_ones_name_the_valid_losses():
    assert parse_loss("CE + 0.5*lovasz") == [(1.0, "ce"), (0.5, "lovasz")]
    assert type(make_loss("cross_entropy")).__name__ == "SegmentationCrossentropy"
    with pytest.raises(ValueError, match=r"unknown loss term 'tversky'.*ce, dice, focal, lovasz"):
        make_loss("ce+tversky")
    with pytest.raises(ValueError, match="names a term twice"):
        parse_loss("ce+2*ce")
    with pytest.raises(ValueError, match="weights must be > 0"):
        parse_loss("0*dice")


def test_combined_losses_reload_in_safe_mode(tmp_path):
    model = keras.Sequential([keras.Input((16, 2)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", make_loss("ce+0.5*lovasz+dice", ignore_index=255))
    x = np.random.default_rng(0).normal(size=(4, 16, 2)).astype(np.float32)
    y = np.full((4, 16), 255)
    y[:, :5], y[:, 5:9] = 1, 2
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(loaded.loss, CombinedLoss) and loaded.loss.weights == [1.0, 0.5, 1.0]
    assert [t.ignore_index for t in loaded.loss.losses] == [255, 255, 255]
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-5)


def test_lovasz_and_dice_learn_a_toy_problem():
    """A per-pixel linear classifier trained with each set loss alone reaches a high IoU."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(64, 16, 2)).astype(np.float32)
    labels = (features[..., 0] > 0.3).astype(np.int32) + (features[..., 1] > 0.8).astype(np.int32)
    for loss in (LovaszSoftmaxLoss(), SegmentationDiceLoss()):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((16, 2)), keras.layers.Dense(3, activation="softmax")])
        model.compile(keras.optimizers.Adam(0.1), loss, metrics=[mobseg.MeanIoU(3)])
        before = model.evaluate(features, labels, verbose=0)[1]
        model.fit(features, labels, batch_size=64, epochs=80, verbose=0)
        after = model.evaluate(features, labels, verbose=0)[1]
        print(type(loss).__name__, before, after)
        assert after > 0.6 and after > before + 0.2, (type(loss).__name__, before, after)
