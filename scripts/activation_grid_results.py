"""The results of the activation grid (``scripts/activation_study.py``): its layout, where a number came from,
resuming a results.json, the run-time estimate of ``--plan`` and the files written after every run.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import statistics
from pathlib import Path
from typing import Any

import activation_grid_stats as stats
import keras

from mobseg.io.atomic import atomic_write_text

#: The encoder activations: relu6 (the article's, the baseline) first, then the articles' and the modern ones.
ACTIVATIONS: tuple[str, ...] = ("relu6", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "swish", "gelu",
                                "mish", "hard_swish", "selu")  # fmt: skip
MODELS: tuple[str, ...] = ("mobilenet_segnet", "mobilenet_unet")
INITS: tuple[str, ...] = ("scratch", "imagenet")
#: Settings that must be equal for runs to share one results.json (each init's recipe must be equal too).
SETTING_KEYS: tuple[str, ...] = ("data", "input_size", "batch_size", "train_limit", "val_limit", "ignore_index",
                                 "alpha", "jit_compile", "run_eagerly", "backend", "loader", "augment")  # fmt: skip


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (``platform.processor()`` elsewhere).

    Example:
        >>> isinstance(cpu_model(), str)
        True
    """
    try:
        with open("/proc/cpuinfo") as stream:
            found = next((line.split(":", 1)[1].strip() for line in stream if line.startswith("model name")), "")
    except OSError:
        found = ""
    return found or platform.processor() or platform.machine()


def cpu_features() -> str:
    """The widest vector instructions of the CPU (from /proc/cpuinfo): what int8 and bfloat16 speed depends on.

    Example:
        >>> cpu_features() in ("AVX-512 VNNI", "AVX-512", "AVX2", "")
        True
    """
    try:
        with open("/proc/cpuinfo") as stream:
            flags = set(next((line.split(":", 1)[1].split() for line in stream if line.startswith("flags")), []))
    except OSError:
        flags = set()
    if "avx512f" in flags:
        return "AVX-512 VNNI" if "avx512_vnni" in flags else "AVX-512"
    return "AVX2" if "avx2" in flags else ""


def machine_label() -> str:
    """One line naming the machine a measurement ran on: device, CPU features and CPU count.

    Example:
        >>> machine_label().startswith(("cpu: ", "gpu: "))
        True
    """
    features = cpu_features()
    return f"{device_name()}{', ' + features if features else ''}, {os.cpu_count()} CPUs"


def device_name() -> str:
    """The device the backend computes on: ``"gpu: <name>"`` (JAX, PyTorch, TensorFlow) or ``"cpu: <model>"``.

    Example:
        >>> device_name().startswith(("cpu: ", "gpu: "))
        True
    """
    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            device = jax.devices()[0]
            if device.platform != "cpu":
                return f"gpu: {device.device_kind}"
        elif backend == "torch":
            import torch

            if torch.cuda.is_available():
                return f"gpu: {torch.cuda.get_device_name(0)}"
        elif backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                return f"gpu: {tf.config.experimental.get_device_details(gpus[0]).get('device_name', gpus[0].name)}"
    except Exception as err:  # a broken accelerator setup: say so, the CPU computes
        return f"cpu: {cpu_model()} (no accelerator: {type(err).__name__})"
    return f"cpu: {cpu_model()}"


def environment() -> dict[str, Any]:
    """Where a number came from: backend, Keras version, device, CPU count and load average.

    Example:
        >>> sorted(environment())
        ['backend', 'cpu_count', 'device', 'keras_version', 'load_avg']
    """
    return {
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "device": device_name(),
        "cpu_count": os.cpu_count(),
        "load_avg": [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }


def changed_settings(previous: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    """The settings that differ from an earlier results.json's (each init's recipe where both have it).

    A results.json of the issue-7 study (no ``recipes``) differs in its layout and is never added to.

    Example:
        >>> same = {k: 1 for k in SETTING_KEYS}
        >>> changed_settings({**same, "alpha": 1.0, "recipes": {"scratch": {"epochs": 8}}},
        ...                  {**same, "alpha": 0.5, "recipes": {"scratch": {"epochs": 4}, "imagenet": {}}})
        ['alpha', 'recipes.scratch']
    """
    changed = [k for k in SETTING_KEYS if previous.get(k) != settings.get(k)]
    if "recipes" not in previous:
        return [*changed, "layout (an issue-7 results.json)"]
    before, now = previous["recipes"], settings.get("recipes", {})
    return changed + [f"recipes.{init}" for init in now if init in before and before[init] != now[init]]


def merge_settings(previous: dict[str, Any], settings: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    """What the results hold: the configurations run before plus the ones asked for now (in ``settings``)."""
    settings["recipes"] = {**previous.get("recipes", {}), **settings["recipes"]}
    settings["seeds"] = sorted({*(r["seed"] for r in runs), *settings["seeds"]})
    for key, field, order in (("inits", "init", INITS), ("models", "model", MODELS)):
        have = {r[field] for r in runs} | set(settings[key])
        settings[key] = [v for v in dict.fromkeys([*order, *sorted(have)]) if v in have]
    for key, decoder in (("activations", "off"), ("decoder_on", "on")):
        have = {r["activation"] for r in runs if r["decoder"] == decoder} | set(settings[key])
        settings[key] = [a for a in dict.fromkeys([*ACTIVATIONS, *sorted(have)]) if a in have]


def load_results(out: Path, settings: dict[str, Any]) -> dict[str, Any] | None:
    """The results so far (an earlier results.json with the same settings, merged), or ``None`` when they differ."""
    results: dict[str, Any] = {"settings": settings, "runs": []}
    if not (out / "results.json").is_file():
        return results
    previous = json.loads((out / "results.json").read_text())
    changed = changed_settings(previous["settings"], settings)
    if changed:
        print(f"{out}/results.json was made with other settings ({', '.join(changed)}); choose another --out.")
        return None
    results["runs"] = previous["runs"]
    merge_settings(previous["settings"], settings, results["runs"])
    return results


def estimate_seconds(
    run: Any, runs: list[dict[str, Any]], costs: dict[str, Any], steps: int
) -> tuple[float | None, str]:
    """Estimated wall seconds of ``run`` and on what it rests, from what was measured before.

    The median wall time of finished runs of the same configuration; else ``steps`` times the configuration's
    interleaved training step (costs.json) or the median step of the same init and model, scaled by how much
    longer than their steps the finished runs took (building, tracing, evaluation); else unknown.

    Example:
        >>> from collections import namedtuple
        >>> Run = namedtuple("Run", "init model activation decoder seed")  # activation_study.Run
        >>> done = [{"init": "scratch", "model": "m", "activation": "relu6", "decoder": "off", "seed": 0,
        ...          "wall_seconds": 100.0, "step_ms_median": 200.0, "steps": 400}]
        >>> estimate_seconds(Run("scratch", "m", "relu6", False, 1), done, {}, 400)
        (100.0, 'same configuration')
        >>> estimate_seconds(Run("scratch", "m", "elu", False, 0), done, {}, 400)
        (100.0, 'step time of scratch m x 1.25')
    """
    decoder = "on" if run.decoder else "off"
    same = [r["wall_seconds"] for r in runs if (r.get("init"), r.get("model"), r["activation"], r["decoder"])
            == (run.init, run.model, run.activation, decoder) and r.get("wall_seconds")]  # fmt: skip
    if same:
        return statistics.median(same), "same configuration"
    mine = [r for r in runs if (r.get("init"), r.get("model")) == (run.init, run.model) and r.get("wall_seconds")]
    configs = costs.get("configs", {})
    bench = configs.get(stats.config_key(run.model, run.activation, decoder), {}).get("train_ms")
    basis = "interleaved step time"
    if bench is None and not mine:  # the model's other configurations in costs.json
        timed = [c["train_ms"] for k, c in configs.items() if k.startswith(f"{run.model}|") and c.get("train_ms")]
        bench, basis = _median(timed), f"interleaved step time of {run.model}"
    step_ms = bench or (statistics.median(r["step_ms_median"] for r in mine) if mine else None)
    if step_ms is None:
        return None, "nothing measured yet"
    ratios = [r["wall_seconds"] / (r["steps"] * r["step_ms_median"] / 1000) for r in mine if r.get("steps")]
    factor = statistics.median(ratios) if ratios else 1.0
    basis = basis if bench else f"step time of {run.init} {run.model}"
    return steps * step_ms / 1000 * factor, f"{basis} x {factor:.2f}" if ratios else f"{basis} (steps only)"


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def print_plan(todo: list[Any], results: dict[str, Any], costs: dict[str, Any], data: dict[str, Any], args) -> None:
    """``--plan``: the runs not done yet, in run order, with an estimate of their wall time."""
    steps = args.epochs * math.ceil(len(data["train"]) / args.batch_size)
    total, unknown = 0.0, 0
    print(f"{len(todo)} runs to do ({steps} training steps each), in this order:")
    for run in todo:
        seconds, basis = estimate_seconds(run, results["runs"], costs, steps)
        unknown += seconds is None
        total += seconds or 0.0
        print(f"  {run.key:50} {'?' if seconds is None else f'{seconds / 60:6.1f} min'}  ({basis})")
    known = len(todo) - unknown
    print(f"estimated wall time: {total / 3600:.2f} h for {known} runs" + (f"; {unknown} runs without an estimate "
          "(run one, or --costs for the step times)" if unknown else ""))  # fmt: skip


def write_outputs(out: Path, results: dict[str, Any], costs: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Write results.json, results.csv, summary.csv, paired.csv and the plot (each atomically); the summary rows."""
    runs = results["runs"]
    rows = stats.summarize(runs, (costs or {}).get("configs"), ACTIVATIONS)
    results["summary"] = rows
    atomic_write_text(json.dumps(results, indent=1), out / "results.json")
    paired = stats.paired_table(runs, order=ACTIVATIONS)
    tables = (
        ("results.csv", runs, ["init", "model", "activation", "decoder", "seed", "val_mean_iou", "val_pixel_accuracy",
                               "step_ms_median", "steps", "train_seconds", "wall_seconds", "diverged", "backend",
                               "device", "machine", "init_fingerprint"]),
        ("summary.csv", rows, ["init", "model", "activation", "decoder", "n_seeds", "miou_mean", "miou_sd", "miou_min",
                               "miou_max", "step_ms", "bench_train_ms", "step_vs_relu6", "diverged", "machine"]),
        ("paired.csv", paired, ["init", "model", "decoder", "activation", "baseline", "n", "mean_diff", "sd_diff", "t",
                                "df", "t_crit", "verdict"]),
    )  # fmt: skip
    for name, items, fields in tables:
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(items)
        atomic_write_text(text.getvalue(), out / name)
    if rows:
        stats.plot(runs, rows, out / "activation_grid.png", ACTIVATIONS)
    return rows


def print_tables(results: dict[str, Any], costs: dict[str, Any] | None) -> None:
    """The Markdown tables: one per (init, model), the paired comparison with relu6, the costs and the claims."""
    rows = stats.summarize(results["runs"], (costs or {}).get("configs"), ACTIVATIONS)
    for init, model in sorted({(r["init"], r["model"]) for r in rows}):
        print(f"\n### {init}, {model}\n")
        print(stats.markdown_summary([r for r in rows if (r["init"], r["model"]) == (init, model)]))
    paired = stats.paired_table(results["runs"], order=ACTIVATIONS)
    if paired:
        print("\n### paired with relu6 (same seed)\n")
        print(stats.markdown_paired(paired))
    if costs and costs.get("configs"):
        print("\n### costs\n")
        print(stats.markdown_costs(costs["configs"]))
    print("\n### the articles' claims\n")
    print(stats.markdown_claims(stats.claims(results["runs"], costs)))
