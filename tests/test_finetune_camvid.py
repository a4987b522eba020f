"""scripts/finetune_camvid.py (issue 15): leave-one-sequence-out folds, recipes, defaults, and one tiny protocol run.

The script lives in scripts/ (not a package) and is loaded from its file. The data is a fake CamVid folder (its
layout and file-name prefixes, random pixels); the training is one epoch of ``unet_mini`` at 32x32.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def _load_script():
    spec = importlib.util.spec_from_file_location("finetune_camvid", ROOT / "scripts" / "finetune_camvid.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


camvid = _load_script()


def test_folds_hold_out_one_sequence_from_both_splits(fake_camvid):
    train, scored = camvid.fold_pairs(str(fake_camvid), "0016E5")
    assert {camvid.sequence_of(image) for image, _ in scored} == {"0016E5"} and len(scored) == 5  # train and val
    assert {camvid.sequence_of(image) for image, _ in train} == {"0001TP", "0006R0"} and len(train) == 4
    train, scored = camvid.fold_pairs(str(fake_camvid), "val")
    assert (len(train), len(scored)) == (7, 2)
    assert all(Path(mask).parent.name == "trainannot" for _, mask in train)
    with pytest.raises(ValueError, match="unknown fold 'test'; use 0001TP, 0006R0, 0016E5, val"):
        camvid.fold_pairs(str(fake_camvid), "test")


def test_files_of_another_sequence_are_refused(tmp_path):
    for folder in ("train", "trainannot", "val", "valannot"):
        (tmp_path / folder).mkdir()
        Image.new("L", (8, 8)).save(tmp_path / folder / "Seq05VD_00001.png")
    with pytest.raises(ValueError, match=r"files of unknown sequences \['Seq05VD'\]"):
        camvid.fold_pairs(str(tmp_path), "0001TP")


def test_recipes_override_the_base_and_the_defaults_follow_mobseg_train(tmp_path):
    base = {key: default for key, (_, default, _) in camvid.RECIPE_OPTIONS.items()}
    options = camvid.train_options({**base, "epochs": 10, "weights": "encoder.h5"})
    assert (options["freeze_encoder_epochs"], options["fine_tune_learning_rate"]) == (1, pytest.approx(3e-4))
    assert (options["lr_schedule"], options["class_weights"], options["batchnorm_momentum"]) == (
        "cosine",
        "balanced_sqrt",
        0.9,
    )
    assert camvid.train_options({**base, "epochs": 10})["freeze_encoder_epochs"] == 0  # no pretrained encoder

    file = tmp_path / "recipes.json"
    file.write_text(json.dumps([{"name": "old", "lr_schedule": "constant", "batchnorm_momentum": None}, {"epochs": 4}]))
    old, longer = camvid.expand_recipes({**base, "name": None}, str(file), None)
    assert (old["name"], old["lr_schedule"], old["batchnorm_momentum"], old["epochs"]) == ("old", "constant", None, 2)
    assert (longer["name"], longer["epochs"], longer["lr_schedule"]) == ("epochs=4", 4, "cosine")
    grid = camvid.expand_recipes(base, None, ["loss=ce,ce+dice", "epochs=2,3"])
    assert [r["name"] for r in grid] == ["loss=ce,epochs=2", "loss=ce,epochs=3", "loss=ce+dice,epochs=2",
                                         "loss=ce+dice,epochs=3"]  # fmt: skip
    file.write_text(json.dumps([{"name": "x", "learning_rat": 1}]))
    with pytest.raises(ValueError, match=r"unknown recipe keys \['learning_rat'\]"):
        camvid.expand_recipes(base, str(file), None)
    with pytest.raises(ValueError, match="recipe names must differ"):
        camvid.expand_recipes(base, None, ["seed=1,1"])
    with pytest.raises(ValueError, match="recipe 'tta=mirror': tta='mirror' is unknown; use flip"):
        camvid.expand_recipes(base, None, ["tta=mirror"])


def test_augmentation_keys_reach_mobseg_train_and_bad_ranges_are_one_sentence():
    base = {key: default for key, (_, default, _) in camvid.RECIPE_OPTIONS.items()}
    assert camvid.train_options(base)["augment"] is True  # mobseg.train's defaults
    augment = camvid.train_options({**base, "augment_scale": "0.5-2", "augment_color": 0.4})["augment"]
    assert augment == {"scale": [0.5, 2.0], "brightness": 0.4, "contrast": 0.4, "saturation": 0.4}
    assert camvid.train_options({**base, "augment_color": 0.0})["augment"]["saturation"] == 0.0  # 0: no jitter
    with pytest.raises(ValueError, match="augment_scale='2' is not a zoom range; write LOW-HIGH"):
        camvid.train_options({**base, "augment_scale": "2"})
    trained = camvid.training_recipe({**base, "name": "a", "tta": "flip", "train_runs": "b"})
    assert trained == {k: v for k, v in base.items() if k not in ("tta", "train_runs")} and "augment_scale" in trained


def test_a_protocol_fold_trains_scores_and_is_skipped_when_run_again(fake_camvid, tmp_path, capsys):
    results, runs = tmp_path / "results", tmp_path / "runs"
    argv = ["--data", str(fake_camvid), "--protocol", "loso", "--folds", "0001TP", "--model", "unet_mini",
            "--input-size", "32x32", "--epochs", "1", "--batch-size", "2", "--name", "tiny",
            "--augment-scale", "1-1.25", "--augment-color", "0.3",
            "--results", str(results), "--runs", str(runs)]  # fmt: skip
    camvid.main(argv)
    augment = json.loads((runs / "tiny" / "0001TP" / "training.json").read_text())["augment"]
    assert (augment["scale"], augment["brightness"], augment["flip"]) == ([1.0, 1.25], 0.3, True)
    result = json.loads((results / "tiny" / "0001TP.json").read_text())
    assert (result["fold"], result["train_images"], result["scored_images"]) == ("0001TP", 7, 2)
    assert 0.0 <= result["mean_iou"] <= 1.0 and 0.0 <= result["pixel_accuracy"] <= 1.0
    assert list(result["pixel_ratio"]) == camvid.CAMVID_CLASSES
    for name in ("Sky", "Building", "Pole", "Road"):  # the classes the fake masks hold: predicted / true pixels
        ratio = result["pixel_ratio"][name]
        assert ratio is not None and ratio >= 0
    assert result["pixel_ratio"]["Bicyclist"] is None  # no true pixel: no ratio
    assert result["recipe"]["lr_schedule"] == "cosine" and result["recipe"]["class_weights"] == "balanced_sqrt"
    assert len(result["history"]) == 1
    summary = json.loads((results / "tiny" / "summary.json").read_text())
    assert summary["loso_fold_mean_iou"] == {"0001TP": result["mean_iou"]} and summary["loso_complete"] is False

    capsys.readouterr()
    camvid.main(argv)  # the same command again: the fold's result file exists, nothing trains
    assert f"[skip] {results / 'tiny' / '0001TP.json'} exists" in capsys.readouterr().out
    with pytest.raises(ValueError, match=r"holds recipe 'tiny' with other settings \(epochs\)"):
        camvid.main([*argv[:-4], "--results", str(results), "--runs", str(runs), "--epochs", "2"])

    camvid.main(["--table", str(results / "tiny" / "*.json")])
    table = capsys.readouterr().out
    assert "| tiny |" in table and "0001TP" in table

    # the finished run scored again with test-time flips: nothing trains, the result has its own file
    flip = [*argv[:-4], "--results", str(results), "--runs", str(runs)]
    camvid.main([*flip[: flip.index("--name") + 1], "tiny-flip", *flip[flip.index("--name") + 2 :],
                 "--tta", "flip", "--train-runs", "tiny"])  # fmt: skip
    flipped = json.loads((results / "tiny-flip" / "0001TP.json").read_text())
    assert flipped["reloaded_finished_run"] is True and not (runs / "tiny-flip").exists()
    assert flipped["recipe"]["tta"] == "flip" and 0.0 <= flipped["mean_iou"] <= 1.0
    assert flipped["n_pixels"] == result["n_pixels"]
    with pytest.raises(ValueError, match=r"train_runs='tiny' trained with other settings \(epochs\)"):
        camvid.main([*argv[:-4], "--results", str(results), "--runs", str(runs), "--name", "tiny-e2",
                     "--epochs", "2", "--train-runs", "tiny"])  # fmt: skip
    with pytest.raises(ValueError, match=r"train_runs='tiny': .*0001TP holds no finished training"):
        camvid.main([*flip, "--name", "moved", "--runs", str(tmp_path / "elsewhere"), "--train-runs", "tiny"])
    assert not (tmp_path / "elsewhere").exists()  # nothing trained in its place
    with pytest.raises(ValueError, match=r"train_runs='nothing': .*0006R0.json does not exist"):
        camvid.main([*argv[:-4], "--results", str(results), "--runs", str(runs), "--name", "x", "--folds",
                     "0006R0", "--train-runs", "nothing"])  # fmt: skip


def test_summary_keeps_a_class_never_predicted_in_the_ratio_range():
    def fold(mean_iou, ratios):
        return {"mean_iou": mean_iou, "per_class_iou": dict.fromkeys(camvid.CAMVID_CLASSES, 0.1), "pixel_ratio": ratios,
                "wall_time_s": 1.0,
                "pixel_ratio_within_range": all(0.5 <= r <= 2 for r in ratios.values() if r is not None)}  # fmt: skip

    results = {"0001TP": fold(0.4, {"Sky": 0.0, "Road": 1.2, "Car": None}), "0006R0": fold(0.5, {"Sky": 2.5})}
    summary = camvid.summarize({"name": "r"}, results)
    assert summary["loso_pixel_ratio_extremes"] == [0.0, 2.5]  # Sky never predicted on 0001TP: 0.00x, not left out
    assert summary["loso_mean_iou"] == pytest.approx(0.45) and summary["loso_complete"] is False
    assert summary["loso_pixel_ratio_within_range"] is False
