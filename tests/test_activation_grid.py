"""scripts/activation_study.py (the activation grid of issue 17): its statistics, run order, fairness and resuming.

The script and its helper modules live in scripts/ (not a package); they are loaded from their files. Trainings
here are the script's smoke setting cut to one or two runs (eager, 32x32, one step each).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT.parent / "shared" / "weights" / "mobilenet_1_0_224_tf_no_top.h5"


def _load_study():
    spec = importlib.util.spec_from_file_location("activation_study", ROOT / "scripts" / "activation_study.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # puts scripts/ on sys.path for its helper modules
    return module


study = _load_study()
stats = study.stats


def _runs(values: dict[str, list[float | None]], model: str = "mobilenet_segnet", init: str = "scratch") -> list:
    return [
        {"init": init, "model": model, "activation": a, "decoder": "off", "seed": s, "val_mean_iou": v}
        for a, vs in values.items()
        for s, v in enumerate(vs)
    ]


def test_paired_statistics_flag_a_clear_difference_and_not_a_noisy_one() -> None:
    base = {0: 0.20, 1: 0.25, 2: 0.22, 3: 0.30}
    clear = stats.paired_comparison({s: v + 0.05 + 0.002 * s for s, v in base.items()}, base)
    assert clear["n"] == 4 and clear["df"] == 3 and clear["t_crit"] == 3.182
    assert math.isclose(clear["mean_diff"], 0.053) and clear["verdict"] == "exceeds seed noise"
    # t = mean / (sd / sqrt(n)) by hand: diffs 0.050, 0.052, 0.054, 0.056
    sd = math.sqrt(sum((d - 0.053) ** 2 for d in (0.050, 0.052, 0.054, 0.056)) / 3)
    assert math.isclose(clear["t"], 0.053 / (sd / 2))
    assert clear["ci95"][0] > 0  # the 95% interval excludes 0
    shifts = dict(zip(base, (0.05, -0.04, 0.06, -0.05), strict=True))
    noisy = stats.paired_comparison({s: v + shifts[s] for s, v in base.items()}, base)
    assert abs(noisy["t"]) < noisy["t_crit"] and noisy["verdict"] == "within seed noise"
    assert noisy["ci95"][0] < 0 < noisy["ci95"][1]
    # a diverged run (None) drops its seed; one pair left cannot be tested
    one = stats.paired_comparison({0: 0.3, 1: None}, {0: 0.2, 1: 0.2})
    assert one["n"] == 1 and one["verdict"] == "one seed: not testable" and math.isclose(one["mean_diff"], 0.1)
    assert [stats.t_critical(df) for df in (1, 2, 10, 30, 31)] == [12.706, 4.303, 2.228, 2.042, 2.042]


def test_paired_table_pairs_by_seed_against_relu6_and_the_decoder_setting() -> None:
    runs = _runs({"relu6": [0.20, 0.21, 0.22], "elu": [0.26, 0.27, 0.29], "relu": [0.21, 0.19, 0.23]})
    relu6 = [r for r in runs if r["activation"] == "relu6"]
    runs += [{**r, "decoder": "on", "val_mean_iou": r["val_mean_iou"] + 0.01} for r in relu6]
    table = {(r["activation"], r["decoder"]): r for r in stats.paired_table(runs, order=study.ACTIVATIONS)}
    assert set(table) == {("elu", "off"), ("relu", "off")}  # decoder on: relu6 alone, nothing to pair
    assert table[("elu", "off")]["verdict"] == "exceeds seed noise"
    assert table[("relu", "off")]["verdict"] == "within seed noise"
    on_off = stats.decoder_table(runs)
    assert [(r["activation"], r["n"], round(r["mean_diff"], 3)) for r in on_off] == [("relu6", 3, 0.01)]
    markdown = stats.markdown_paired(stats.paired_table(runs, order=study.ACTIVATIONS))
    assert "| scratch | mobilenet_segnet | off | elu | relu6 | 3 | +0.063 |" in markdown


def test_step_times_are_compared_with_relu6_only_on_one_machine() -> None:
    def run(activation: str, machine: str, ms: float) -> dict:
        return {"init": "imagenet", "model": "m", "activation": activation, "decoder": "off", "seed": 0,
                "val_mean_iou": 0.3, "step_ms_median": ms, "machine": machine}  # fmt: skip

    rows = stats.summarize([run("relu6", "A", 100.0), run("elu", "A", 120.0), run("gelu", "B", 60.0)])
    ratio = {r["activation"]: r["step_vs_relu6"] for r in rows}
    assert ratio == {"relu6": 1.0, "elu": pytest.approx(1.2), "gelu": None}  # gelu ran elsewhere: not compared
    costs = {"m|relu6|off": {"train_ms": 50.0, "machine": "A"}, "m|elu|off": {"train_ms": 55.0, "machine": "A"},
             "m|gelu|off": {"train_ms": 20.0, "machine": "B"}}  # fmt: skip
    rows = stats.summarize([run("relu6", "A", 100.0), run("elu", "A", 120.0), run("gelu", "B", 60.0)], costs)
    ratio = {r["activation"]: r["step_vs_relu6"] for r in rows}
    assert ratio == {"relu6": 1.0, "elu": pytest.approx(1.1), "gelu": None}
    gelu = next(line for line in stats.markdown_summary(rows).splitlines() if line.startswith("| gelu |"))
    assert gelu.endswith("| 20 | -x | B |")  # its own interleaved time, no ratio, and where it ran


def test_claims_are_computed_from_the_records() -> None:
    runs = _runs({
        "relu": [0.20, 0.21, 0.22], "sigmoid": [0.10, 0.12, 0.11], "tanh": [0.15, 0.14, 0.16],
        "leaky_relu": [0.21, 0.20, 0.23], "elu": [0.26, 0.27, 0.29],
    })  # fmt: skip
    for run in runs:
        run["output_activation"] = "softmax"
    tflite = {
        "relu6": ({"ms": 1.0, "ops": 40, "activation_ops": 0}, {"ms": 0.5, "agreement": 0.99}),
        "swish": ({"ms": 1.4, "ops": 86, "activation_ops": 23}, {"ms": 0.9, "agreement": 0.95}),
        "gelu": ({"ms": 1.6, "ops": 90, "activation_ops": 23}, {"ms": 1.2, "agreement": 0.97}),
    }
    configs = {
        a: {"params": 1, "tflite": {"float32": f, "int8": i}, "output_sum_error": 1e-7} for a, (f, i) in tflite.items()
    }
    costs = {"configs": {f"mobilenet_segnet|{a}|off": entry for a, entry in configs.items()}}
    verdicts = {row["claim"]: row for row in stats.claims(runs, costs)}
    assert verdicts["a"]["verdict"] == "supported"  # sigmoid and tanh below relu on every seed
    assert verdicts["b"]["verdict"] == "not supported"  # leaky_relu within seed noise of relu; prelu not run
    assert verdicts["c"]["verdict"] == "supported" and "elu +0.063 vs relu" in verdicts["c"]["measured"]
    assert verdicts["d"]["verdict"] == "supported" and "0 activation ops" in verdicts["d"]["measured"]
    assert verdicts["e"]["verdict"] == "not measurable here" and "softmax" in verdicts["e"]["measured"]
    slower = {**costs["configs"]["mobilenet_segnet|relu6|off"]}
    slower["tflite"] = {"float32": {"ms": 1.0, "ops": 40, "activation_ops": 0}, "int8": {"ms": 2.0, "agreement": 0.9}}
    worse = {"configs": {**costs["configs"], "mobilenet_segnet|relu6|off": slower}}
    assert stats.claims(runs, worse)[3]["verdict"] == "partly supported"  # fused, but slower and less agreeing
    assert [row["verdict"] for row in stats.claims([], {})] == ["not measurable here"] * 5


def test_costs_count_ops_of_decomposed_activations() -> None:
    """selu has no TFLite activation op of its own but decomposes into five ops per layer: the table shows them."""
    f32 = {"relu6": {"ms": 1.0, "ops": 58, "activation_ops": 0}, "selu": {"ms": 1.1, "ops": 219, "activation_ops": 0}}
    configs = {
        f"mobilenet_unet|{a}|off": {"params": 1, "tflite": {"float32": f, "int8": {"ms": 0.5, "agreement": 0.9}}}
        for a, f in f32.items()
    }
    rows = {line.split(" | ")[1]: line for line in stats.markdown_costs(configs).splitlines()[2:]}
    assert "| 58 (+0) |" in rows["relu6"] and "| 219 (+161) |" in rows["selu"]
    claim = stats.claims([], {"configs": configs})[3]
    assert "the fewest ops (others: median +161 ops)" in claim["measured"]
    configs["mobilenet_unet|selu|off"]["tflite"]["float32"]["ops"] = 50  # relu6 no longer the leanest file
    leaner = stats.claims([], {"configs": configs})[3]
    assert leaner["verdict"] != "supported" and "not the fewest ops" in leaner["measured"]


def test_the_run_order_is_seed_major() -> None:
    plan = study.plan_runs([0, 1, 2], ["scratch", "imagenet"], list(study.MODELS), list(study.ACTIVATIONS), ["relu6"])
    seeds = [run.seed for run in plan]
    assert seeds == sorted(seeds)  # every run of seed 0 before any of seed 1
    assert len(plan) == 3 * 2 * 2 * (len(study.ACTIVATIONS) + 1) and len({run.key for run in plan}) == len(plan)
    first = plan[: len(plan) // 3]
    assert {(r.init, r.model, r.activation, r.decoder) for r in first} == {
        (r.init, r.model, r.activation, r.decoder) for r in plan if r.seed == 2
    }  # the first seed alone is a complete table
    segnet = [r for r in first if (r.init, r.model) == ("scratch", "mobilenet_segnet")]
    assert [r.decoder for r in segnet] == [False] * len(study.ACTIVATIONS) + [True]
    assert plan[0].key == "scratch|mobilenet_segnet|relu6|decoder_off|0"


@pytest.mark.parametrize("model", ["mobilenet_segnet", "mobilenet_unet"])
def test_prelu_and_relu6_builds_of_a_seed_share_every_initial_tensor(model: str) -> None:
    args = study.parse_args(["--smoke"])
    check = study.initial_weights_check(model, 3, args, activations=("relu6", "prelu", "sigmoid"))
    assert check["first_conv_equal"] and check["identical"], check
    assert check["prelu_slopes"]["relu6"] == 0 < check["prelu_slopes"]["prelu"]
    other_seed = study.initial_weights_check(model, 4, args, activations=("relu6",))
    assert other_seed["fingerprints"]["relu6"] != check["fingerprints"]["relu6"]  # the seed does change them


@pytest.mark.skipif(not WEIGHTS.is_file(), reason=f"needs {WEIGHTS}")
def test_the_imagenet_encoder_loads_into_every_activation_with_prelu_slopes_at_zero() -> None:
    args = study.parse_args(["--smoke", "--init", "imagenet", "--weights", str(WEIGHTS)])
    check = study.initial_weights_check("mobilenet_segnet", 0, args, activations=("relu6", "prelu"))
    assert check["identical"] and check["first_conv_equal"]
    keras.backend.clear_session()
    model = study.build_model(study.Run("imagenet", "mobilenet_segnet", "prelu", False, 0), 4, args)
    slopes = [w for layer in model.layers if isinstance(layer, keras.layers.PReLU) for w in layer.get_weights()]
    assert slopes and all(not s.any() for s in slopes)


def test_a_grid_resumes_and_refuses_other_settings(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "grid"
    common = ["--smoke", "--models", "mobilenet_segnet", "--activations", "relu6", "prelu", "--decoder-on",
              "--seeds", "0", "--out", str(out), "--shapes-dir", str(tmp_path / "shapes")]  # fmt: skip
    assert study.main([*common, "--max-runs", "1"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert [r["key"] for r in results["runs"]] == ["scratch|mobilenet_segnet|relu6|decoder_off|0"]
    record = results["runs"][0]
    for key in ("backend", "keras_version", "device", "cpu_count", "wall_seconds", "init_fingerprint", "loader"):
        assert record[key] not in (None, ""), key
    assert record["backend"] == keras.backend.backend() and record["val_mean_iou"] is not None
    capsys.readouterr()
    assert study.main([*common, "--plan"]) == 0  # the run left, with an estimate from the run done
    plan = capsys.readouterr().out
    assert "1 runs to do" in plan and "scratch|mobilenet_segnet|prelu|decoder_off|0" in plan
    assert "step time of scratch mobilenet_segnet" in plan and "estimated wall time" in plan
    assert study.main([*common, "--epochs", "2"]) == 2  # other settings: refused, nothing changed
    assert "other settings (recipes.scratch)" in capsys.readouterr().out
    assert json.loads((out / "results.json").read_text())["runs"] == results["runs"]
    assert sorted(p.name for p in out.iterdir()) == [
        "activation_grid.png", "paired.csv", "results.csv", "results.json", "summary.csv"
    ]  # fmt: skip


def test_issue_7_results_are_never_added_to(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    old = json.loads((ROOT / "results" / "activation_study" / "results.json").read_text())
    out = tmp_path / "issue7"
    out.mkdir()
    (out / "results.json").write_text(json.dumps(old))
    assert study.main(["--smoke", "--out", str(out), "--shapes-dir", str(tmp_path / "shapes")]) == 2
    assert "layout (an issue-7 results.json)" in capsys.readouterr().out
    assert json.loads((out / "results.json").read_text()) == old


def test_costs_use_the_saved_trained_model_and_count_prelu_parameters(tmp_path: Path) -> None:
    out = tmp_path / "grid"
    train = ["--smoke", "--models", "mobilenet_segnet", "--activations", "relu6", "--decoder-on", "--seeds", "0",
             "--save-models", "0", "--out", str(out), "--shapes-dir", str(tmp_path / "shapes")]  # fmt: skip
    assert study.main(train) == 0
    assert (out / "models" / "scratch__mobilenet_segnet__relu6__decoder_off__0.keras").is_file()
    args = ["--smoke", "--costs", "--no-tflite", "--models", "mobilenet_segnet", "--activations", "relu6", "prelu",
            "--decoder-on", "--timing-rounds", "0", "--save-models", "0", "--out", str(out),
            "--shapes-dir", str(tmp_path / "shapes")]  # fmt: skip
    assert study.main(args) == 0
    costs = json.loads((out / "costs.json").read_text())
    relu6, prelu = costs["configs"]["mobilenet_segnet|relu6|off"], costs["configs"]["mobilenet_segnet|prelu|off"]
    assert prelu["params"] > relu6["params"] and relu6["output_activation"] == "softmax"
    assert relu6["weights"] == "trained (scratch__mobilenet_segnet__relu6__decoder_off__0.keras)"
    assert prelu["weights"] == "untrained (seed 0)"
    assert relu6["output_sum_error"] < 1e-5 and "--no-tflite" in costs["tflite_note"]
    assert relu6["machine"] == prelu["machine"] and relu6["machine"].startswith(("cpu: ", "gpu: "))  # where it ran
    assert stats.markdown_costs(costs["configs"]).splitlines()[2].endswith(f"| {relu6['machine']} |")
    assert study.main([*args, "--size", "64x64"]) == 2  # other cost settings: refused


def test_the_backend_flag_is_read_before_keras_is_imported(tmp_path: Path) -> None:
    assert study.backend_from_argv(["--smoke", "--backend", "jax"]) == "jax"
    assert study.backend_from_argv(["--backend=torch", "--plan"]) == "torch"
    assert study.backend_from_argv(["--smoke"]) is None
    other = "jax" if keras.backend.backend() != "jax" else "torch"
    with pytest.raises(SystemExit):  # in this process Keras is imported already: the flag cannot take effect
        study.parse_args(["--smoke", "--backend", other])
    if importlib.util.find_spec(other) is None:
        pytest.skip(f"{other} is not installed")
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend(), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "activation_study.py"), "--backend", other, "--smoke", "--plan",
         "--out", str(tmp_path / "grid"), "--shapes-dir", str(tmp_path / "shapes")],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith(f"backend {other}, keras "), done.stdout[:300]


def test_tflite_costs_find_relu6_fused_and_time_int8(tmp_path: Path) -> None:
    """Four TFLite exports of the smoke setting (about 20 s each on 2 cores): claim (d) gets its numbers."""
    out = tmp_path / "grid"
    args = ["--smoke", "--costs", "--models", "mobilenet_segnet", "--activations", "relu6", "swish", "--decoder-on",
            "--timing-rounds", "0", "--out", str(out), "--shapes-dir", str(tmp_path / "shapes")]  # fmt: skip
    assert study.main(args) == 0
    costs = json.loads((out / "costs.json").read_text())
    relu6, swish = (costs["configs"][f"mobilenet_segnet|{a}|off"]["tflite"] for a in ("relu6", "swish"))
    assert relu6["float32"]["activation_ops"] == 0 < swish["float32"]["activation_ops"]  # relu6: fused
    assert relu6["float32"]["op_counts"]["CONV_2D"] == swish["float32"]["op_counts"]["CONV_2D"]
    for entry in (relu6, swish):
        assert entry["float32"]["ms"] > 0 and entry["int8"]["ms"] > 0 and 0 <= entry["int8"]["agreement"] <= 1
        assert entry["int8"]["file_kb"] < entry["float32"]["file_kb"] / 2
    claim = stats.claims([], costs)[3]
    assert claim["verdict"] != "not measurable here" and "relu6 has 0 activation ops" in claim["measured"]


@pytest.mark.skipif(not WEIGHTS.is_file(), reason=f"needs {WEIGHTS}")
def test_the_pretrained_swap_fine_tunes_with_mobseg_train(tmp_path: Path) -> None:
    """One pretrained run (frozen epoch, then unfrozen) through mobseg.train: its record and recipe."""
    out = tmp_path / "grid"
    args = ["--smoke", "--init", "imagenet", "--weights", str(WEIGHTS), "--models", "mobilenet_segnet",
            "--activations", "prelu", "--decoder-on", "--seeds", "0", "--epochs", "2", "--out", str(out),
            "--shapes-dir", str(tmp_path / "shapes")]  # fmt: skip
    assert study.main(args) == 0
    results = json.loads((out / "results.json").read_text())
    (record,) = results["runs"]
    assert record["key"] == "imagenet|mobilenet_segnet|prelu|decoder_off|0" and len(record["train_loss"]) == 2
    assert record["val_mean_iou"] is not None and not (out / "runs").exists()  # the run folder is removed
    recipe = results["settings"]["recipes"]["imagenet"]
    assert recipe["freeze_encoder_epochs"] == 1 and recipe["fine_tune_learning_rate"] == 1e-4
    assert recipe["weights"]["file"] == WEIGHTS.name
