"""scripts/prior_shift_camvid.py (issue 15): EM re-estimation of class priors, and its three scorings of a fold.

The script lives in scripts/ (not a package) and is loaded from its file; the data is conftest's fake CamVid.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # prior_shift_camvid puts scripts/ on sys.path for finetune_camvid
    return module


shift = _load("prior_shift_camvid")
camvid = sys.modules["finetune_camvid"]


def _posteriors(rng: np.random.Generator, share: float) -> np.ndarray:
    """Posteriors of a calibrated two-class model (unit Gaussians at -1, +1; trained 50/50), ``share`` of class 1."""
    labels = rng.random(200_000) < share
    x = rng.normal(np.where(labels, 1.0, -1.0), 1.0)
    likelihood = np.stack([np.exp(-0.5 * (x + 1) ** 2), np.exp(-0.5 * (x - 1) ** 2)], axis=1)
    return likelihood / likelihood.sum(axis=1, keepdims=True)  # Bayes under the training prior 50/50


def test_em_recovers_the_prior_of_a_shifted_sample():
    rng = np.random.default_rng(0)
    shifted = _posteriors(rng, 0.2)
    assert 0.3 < shifted.mean(axis=0)[1] < 0.4  # the plain average of the posteriors is pulled towards 50/50
    priors, steps = shift.em_priors(shifted, np.array([0.5, 0.5]))
    assert priors == pytest.approx([0.8, 0.2], abs=0.01) and steps < 200
    unshifted, _ = shift.em_priors(_posteriors(rng, 0.5), np.array([0.5, 0.5]))
    assert unshifted == pytest.approx([0.5, 0.5], abs=0.01)  # no shift: EM stays at the training prior


def test_the_label_shift_table_divides_training_by_held_out_frequencies(fake_camvid):
    table = shift.shift_table(str(fake_camvid)).splitlines()
    assert table[0].startswith("| held out | Sky | Building") and len(table) == 2 + len(camvid.SEQUENCES)
    train, held = camvid.fold_pairs(str(fake_camvid), "0006R0")
    a = shift.shares(shift.label_counts(shift.read_labels(train)))
    b = shift.shares(shift.label_counts(shift.read_labels(held)))
    assert a.sum() == pytest.approx(1.0) and a[4:].sum() == 0  # the fake masks hold classes 0-3 (and 11, ignored)
    row = next(line for line in table if line.startswith("| 0006R0 |")).split(" | ")
    assert float(row[1]) == pytest.approx(a[0] / b[0], abs=0.006) and row[5] == "-"


def test_a_trained_fold_is_scored_three_ways_and_the_plain_one_is_finetune_camvids(fake_camvid, tmp_path, capsys):
    results, runs = tmp_path / "results", tmp_path / "runs"
    camvid.main(["--data", str(fake_camvid), "--protocol", "loso", "--folds", "0016E5", "--model", "unet_mini",
                 "--input-size", "32x32", "--epochs", "1", "--batch-size", "2", "--name", "tiny",
                 "--results", str(results), "--runs", str(runs)])  # fmt: skip
    out = tmp_path / "shift.json"
    assert shift.main(["--data", str(fake_camvid), "--runs", str(runs / "tiny"), "--folds", "0016E5",
                       "--out", str(out)]) == 0  # fmt: skip
    fold = json.loads(out.read_text())["folds"][0]
    trained = json.loads((results / "tiny" / "0016E5.json").read_text())
    assert fold["model"]["mean_iou"] == pytest.approx(trained["mean_iou"], abs=1e-9)  # same scoring as the script
    assert fold["model"]["pixel_ratio"] == {k: v for k, v in trained["pixel_ratio"].items() if v is not None}
    assert sum(fold["em_prior"].values()) == pytest.approx(1.0, abs=1e-4) and fold["em_iterations"] >= 1
    assert fold["true_frequencies"]["Bicyclist"] == 0 and fold["oracle"]["pixel_ratio"].keys() == {
        "Sky", "Building", "Pole", "Road"}  # fmt: skip
    assert "| 0016E5 | oracle |" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # a fold that was not trained: one line naming the fix
        shift.main(["--data", str(fake_camvid), "--runs", str(runs / "tiny"), "--folds", "0001TP", "--out", str(out)])
    assert "no model.keras for fold(s) 0001TP" in capsys.readouterr().err


def test_the_fit_finds_ratios_that_follow_the_shift(fake_camvid, tmp_path):
    shift_by_fold = shift.shifts(str(fake_camvid))
    recipe = tmp_path / "recipe"
    recipe.mkdir()
    for fold in camvid.SEQUENCES[:2]:
        pairs = zip(camvid.CAMVID_CLASSES, shift_by_fold[fold], strict=True)
        ratios = {n: float(v) ** 0.5 for n, v in pairs if np.isfinite(v)}  # painted as the square root of the shift
        (recipe / f"{fold}.json").write_text(json.dumps({"pixel_ratio": ratios}))
    assert shift.shift_fit(shift_by_fold, recipe) is None  # a fold missing
    ratios = {n: 0.0 for n in camvid.CAMVID_CLASSES}  # never predicted: left out of the fit
    (recipe / "0016E5.json").write_text(json.dumps({"pixel_ratio": ratios}))
    fit = shift.shift_fit(shift_by_fold, recipe)
    assert fit["pairs"] == 8 and fit["r"] == pytest.approx(1.0) and fit["slope"] == pytest.approx(0.5)
    assert "| recipe | 8 | 1.00 | 0.50 |" in shift.shift_table(str(fake_camvid), [recipe])
