"""Metrics against confusion matrices worked out by hand, the Keras metric, and keras_segmentation's formulas."""

import json

import keras
import numpy as np
import pytest
from inference_helpers import half_white, threshold_model

from mobseg.metrics import (
    ConfusionMatrix,
    MeanIoU,
    class_accuracy,
    class_dice,
    class_iou,
    confusion_matrix,
    format_report,
    frequency_weighted_iou,
    mean_class_accuracy,
    mean_dice,
    mean_iou,
    pixel_accuracy,
    segmentation_report,
)

# 4 classes; class 3 is predicted only at the ignored pixel, so it is absent from both.
Y_TRUE = np.array([[0, 0, 1, 1], [2, 2, 2, 255]])
Y_PRED = np.array([[0, 1, 1, 1], [2, 2, 0, 3]])
# By hand: gt 0 -> pred 0, 1; gt 1 -> pred 1, 1; gt 2 -> pred 2, 2, 0.
CM = [[1, 1, 0, 0], [0, 2, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]]


def test_confusion_matrix_by_hand_with_ignore_index():
    cm = confusion_matrix(Y_TRUE, Y_PRED, 4, ignore_index=255)
    assert cm.tolist() == CM
    assert cm.dtype == np.int64


def test_metrics_by_hand_with_an_absent_class():
    assert pixel_accuracy(CM) == pytest.approx(5 / 7)
    np.testing.assert_allclose(class_accuracy(CM), [1 / 2, 1.0, 2 / 3, np.nan])
    assert mean_class_accuracy(CM) == pytest.approx(13 / 18)
    # IoU = TP / (TP + FP + FN): 1/3, 2/3, 2/3; class 3 absent from both -> nan, excluded from the mean.
    np.testing.assert_allclose(class_iou(CM), [1 / 3, 2 / 3, 2 / 3, np.nan])
    assert mean_iou(CM) == pytest.approx(5 / 9)
    # frequency weights 2/7, 2/7, 3/7
    assert frequency_weighted_iou(CM) == pytest.approx(2 / 7 * 1 / 3 + 2 / 7 * 2 / 3 + 3 / 7 * 2 / 3)
    np.testing.assert_allclose(class_dice(CM), [0.5, 0.8, 0.8, np.nan])
    assert mean_dice(CM) == pytest.approx(0.7)


def test_class_predicted_but_absent_from_ground_truth_counts_as_zero():
    cm = confusion_matrix([0, 0, 0, 0], [0, 0, 1, 1], 3)
    assert cm.tolist() == [[2, 2, 0], [0, 0, 0], [0, 0, 0]]
    np.testing.assert_allclose(class_iou(cm), [0.5, 0.0, np.nan])
    assert mean_iou(cm) == pytest.approx(0.25)
    assert mean_class_accuracy(cm) == pytest.approx(0.5)  # recall undefined for classes 1 and 2
    assert mean_dice(cm) == pytest.approx((2 / 3 + 0) / 2)


def test_model_predicting_one_class_everywhere():
    # 90 % background: pixel accuracy looks good, mean IoU does not.
    y_true = np.array([0] * 9 + [1])
    cm = confusion_matrix(y_true, np.zeros(10, int), 2)
    assert cm.tolist() == [[9, 0], [1, 0]]
    assert pixel_accuracy(cm) == pytest.approx(0.9)
    assert mean_iou(cm) == pytest.approx(0.45)
    assert mean_class_accuracy(cm) == pytest.approx(0.5)
    assert frequency_weighted_iou(cm) == pytest.approx(0.81)
    assert mean_dice(cm) == pytest.approx((18 / 19) / 2)


def test_perfect_model_scores_one_even_with_an_absent_class():
    y = np.array([[0, 1], [1, 2]])
    cm = confusion_matrix(y, y, 4)
    for value in (pixel_accuracy(cm), mean_class_accuracy(cm), mean_iou(cm), frequency_weighted_iou(cm), mean_dice(cm)):
        assert value == 1.0
    assert np.isnan(class_iou(cm)[3])


def test_scores_are_argmaxed_and_streaming_equals_one_shot():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 3, (4, 5, 6))
    scores = rng.random((4, 5, 6, 3))
    stream = ConfusionMatrix(3)
    for i in range(4):
        stream.update(y_true[i], scores[i])
    expected = confusion_matrix(y_true, scores.argmax(-1), 3)
    assert stream.matrix.tolist() == expected.tolist()
    assert expected.sum() == 120
    stream.reset()
    assert stream.matrix.sum() == 0


def test_bad_labels_raise_with_the_fix():
    with pytest.raises(ValueError, match=r"labels \[255\] outside 0\.\.2.*ignore_index"):
        confusion_matrix([0, 255], [0, 1], 3)
    with pytest.raises(ValueError, match="different numbers of pixels"):
        confusion_matrix([0, 1, 2], [0, 1], 3)
    with pytest.raises(ValueError, match="square"):
        mean_iou([[1, 2, 3]])


def test_report_is_json_and_table_names_classes():
    report = segmentation_report(CM, ["road", "car", "sky", "boat"], ignore_index=255)
    assert report["mean_iou"] == pytest.approx(5 / 9)
    assert report["absent_classes"] == ["boat"]
    assert report["classes"][3] == {
        "index": 3,
        "name": "boat",
        "iou": None,
        "dice": None,
        "accuracy": None,
        "gt_pixels": 0,
        "pred_pixels": 0,
    }
    assert report["classes"][1]["pred_pixels"] == 3
    assert report["n_pixels"] == 7
    assert json.loads(json.dumps(report)) == report
    table = format_report(report)
    assert "car     0.6667  0.8000  1.0000  2          3" in table
    assert "absent (excluded from means): boat" in table
    with pytest.raises(ValueError, match="3 class names for 4 classes"):
        segmentation_report(CM, ["a", "b", "c"])


# keras_segmentation.predict.evaluate, re-implemented from its formulas (per-class loops over tp, fp, fn).
def keras_segmentation_scores(gt, pr, n_classes):
    tp, fp, fn, n_pixels = (np.zeros(n_classes) for _ in range(4))
    for c in range(n_classes):
        tp[c] = np.sum((pr == c) & (gt == c))
        fp[c] = np.sum((pr == c) & (gt != c))
        fn[c] = np.sum((pr != c) & (gt == c))
        n_pixels[c] = np.sum(gt == c)
    class_wise = tp / (tp + fp + fn + 1e-12)
    fw = np.sum(class_wise * n_pixels / n_pixels.sum())
    return {"frequency_weighted_IU": fw, "mean_IU": np.mean(class_wise), "class_wise_IU": class_wise}


def test_same_numbers_as_keras_segmentation_where_definitions_agree():
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 5, 2000)
    pr = np.where(rng.random(2000) < 0.6, gt, rng.integers(0, 5, 2000))
    theirs = keras_segmentation_scores(gt, pr, 5)
    cm = confusion_matrix(gt, pr, 5)
    np.testing.assert_allclose(class_iou(cm), theirs["class_wise_IU"], rtol=1e-9)
    assert mean_iou(cm) == pytest.approx(theirs["mean_IU"], rel=1e-9)
    assert frequency_weighted_iou(cm) == pytest.approx(theirs["frequency_weighted_IU"], rel=1e-9)
    assert 0.3 < mean_iou(cm) < 0.8


def test_absent_classes_are_where_keras_segmentation_differs():
    gt = np.array([0, 0, 1, 1, 1, 0])
    pr = np.array([0, 1, 1, 1, 0, 0])
    theirs = keras_segmentation_scores(gt, pr, 4)  # classes 2 and 3 absent from both
    cm = confusion_matrix(gt, pr, 4)
    # frequency-weighted IoU: absent classes weigh 0 in both definitions
    assert frequency_weighted_iou(cm) == pytest.approx(theirs["frequency_weighted_IU"], rel=1e-9)
    # class-wise: same for present classes; absent classes are 0 there and nan (undefined) here
    np.testing.assert_allclose(class_iou(cm)[:2], theirs["class_wise_IU"][:2], rtol=1e-9)
    assert theirs["class_wise_IU"][2:].tolist() == [0.0, 0.0]
    assert np.isnan(class_iou(cm)[2:]).all()
    # mean: keras_segmentation averages over all 4 classes, mobseg over the 2 present ones
    assert mean_iou(cm) == pytest.approx(0.5)
    assert theirs["mean_IU"] == pytest.approx(0.25)
    assert mean_iou(cm) * 2 / 4 == pytest.approx(theirs["mean_IU"])


def one_hot_scores(labels, n_classes):
    return np.eye(n_classes, dtype=np.float32)[labels]


def test_keras_mean_iou_matches_numpy_on_flat_and_spatial_shapes():
    y_true = np.array([[0, 0, 1, 1], [2, 2, 2, 255]])
    pred = one_hot_scores(np.array([[0, 1, 1, 1], [2, 2, 0, 3]]), 4)
    flat = MeanIoU(4, ignore_index=255)
    flat.update_state(y_true, pred)
    assert float(flat.result()) == pytest.approx(5 / 9)
    assert flat.confusion_matrix().tolist() == CM
    spatial = MeanIoU(4, ignore_index=255)
    spatial.update_state(y_true.reshape(2, 2, 2, 1), pred.reshape(2, 2, 2, 4))  # (N, H, W, 1) labels
    assert float(spatial.result()) == pytest.approx(5 / 9)
    one_hot = MeanIoU(3)
    one_hot.update_state(one_hot_scores(np.array([[0, 1, 2]]), 3), one_hot_scores(np.array([[0, 1, 1]]), 3))
    assert float(one_hot.result()) == pytest.approx((1 + 0.5 + 0) / 3)


def test_keras_mean_iou_ignores_out_of_range_labels_streams_and_resets():
    metric = MeanIoU(2)
    metric.update_state(np.array([[0, 1, 7, -1]]), one_hot_scores(np.array([[0, 0, 1, 1]]), 2))
    assert metric.confusion_matrix().tolist() == [[1, 0], [1, 0]]
    metric.update_state(np.array([[1, 1]]), one_hot_scores(np.array([[1, 1]]), 2))
    assert metric.confusion_matrix().tolist() == [[1, 0], [1, 2]]
    assert float(metric.result()) == pytest.approx((0.5 + 2 / 3) / 2)
    metric.reset_state()
    assert metric.confusion_matrix().sum() == 0
    assert float(metric.result()) == 0.0


def test_sample_weight_is_a_mask_not_a_multiplier():
    y_true = np.array([[0, 0, 1, 1]])
    pred = one_hot_scores(np.array([[0, 1, 1, 0]]), 2)
    metric = MeanIoU(2)
    metric.update_state(y_true, pred, sample_weight=np.array([[5.0, 0.0, 0.5, 1.0]]))
    # the zero-weight pixel is dropped; the others count once each, whatever their weight
    assert metric.confusion_matrix().tolist() == [[1, 0], [1, 1]]
    assert float(metric.result()) == pytest.approx(0.5)
    per_sample = MeanIoU(2)
    per_sample.update_state(np.array([[0, 1], [1, 1]]), one_hot_scores(np.array([[0, 1], [0, 0]]), 2), [3.0, 0.0])
    assert per_sample.confusion_matrix().tolist() == [[1, 0], [0, 1]]


def test_keras_mean_iou_config_round_trip():
    metric = MeanIoU(5, ignore_index=255, name="val_iou")
    clone = MeanIoU.from_config(metric.get_config())
    assert (clone.n_classes, clone.ignore_index, clone.name) == (5, 255, "val_iou")
    with pytest.raises(ValueError, match="n_classes"):
        MeanIoU(0)


def test_keras_mean_iou_in_fit_with_flat_head_and_safe_reload(tmp_path):
    model = threshold_model(n_classes=3, height=16, width=16)
    images = np.stack([half_white(16, 16, 8), half_white(16, 16, 4), half_white(16, 16, 12), half_white(16, 16, 0)])
    labels = np.zeros((4, 8, 8), np.int32)
    labels[:, :, :4] = 1  # ground truth: left half; the model sees the white part
    labels[0, 0, 0] = 255
    model.compile(
        optimizer=keras.optimizers.SGD(0.0),  # keep the known weights
        loss=keras.losses.SparseCategoricalCrossentropy(ignore_class=255),
        metrics=[MeanIoU(3, ignore_index=255)],
        # XLA under TensorFlow and JAX. Not torch.compile: Keras' default ("auto") never uses it, and on CPU it
        # spends ~90 s building C++ kernels for this one small model.
        jit_compile=keras.backend.backend() != "torch",
    )
    flat_labels = labels.reshape(4, 64)
    history = model.fit(images, flat_labels, batch_size=2, epochs=1, verbose=0, validation_data=(images, flat_labels))
    prediction = model.predict(images, verbose=0)
    cm = confusion_matrix(flat_labels, prediction, 3, ignore_index=255)
    # By hand (8x8 outputs, gt class 1 in columns 0..3): the model marks columns 0..3, 0..1, 0..5 and none.
    assert cm.tolist() == [[112, 16, 0], [48, 79, 0], [0, 0, 0]]
    expected = (112 / 176 + 79 / 143) / 2  # class 2 absent from both: excluded
    assert history.history["val_mean_iou"][0] == pytest.approx(expected, abs=1e-6)
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    logs = reloaded.evaluate(images, flat_labels, verbose=0, return_dict=True)
    assert logs["mean_iou"] == pytest.approx(expected, abs=1e-6)
