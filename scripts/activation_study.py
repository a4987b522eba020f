"""Activation study: mobilenet_segnet trained under one budget with different activations, compared fairly.

Usage:
    python scripts/activation_study.py --data ../shared/data/camvid --size 64x96 --epochs 8 --seeds 0 1 \\
        --decoder-on relu6 --out results/activation_study       # (README "Activation study": the exact commands)
    python scripts/activation_study.py --smoke --out /tmp/study      # tiny, synthetic shapes, seconds

One training per (encoder activation, decoder activation off/on, seed). Everything but the activation is
the same for every configuration of a seed: the initial weights (``keras.utils.set_random_seed(seed)``
before the model is built; no activation here has weights, so every configuration draws the same
tensors), the data order and the augmentation draws (``tf.data`` seeded with ``seed``), the Adam
optimizer with one cosine learning-rate schedule, the epochs, the batch size, BatchNorm momentum 0.9 and
the median-frequency class weights (computed once from the training masks). All models train FROM
SCRATCH: ImageNet weights were trained with ReLU6 and would favour it. Class 11 of CamVid ("Unlabelled")
is ignored in loss and metrics.

Measured per run: the mean IoU on the validation pairs after the LAST epoch (no best-epoch selection,
which would pick on the validation set), scored at the model's output size (half the input size)
against nearest-resized masks; and the median wall time of a training step (the first steps, which
trace the graph, are left out). ``--decoder-on`` lists the encoder activations that are also trained
with the same activation after every decoder BatchNormalization (the article's decoder has none).

Writes into ``--out`` (each file atomically, after every run): ``results.json`` (settings + one record per
run), ``results.csv`` (one row per run), ``summary.csv`` (one row per configuration) and
``activation_study.png``; prints a Markdown table (mean and spread over seeds). The study is resumable:
run the same command again and configurations already in ``results.json`` are skipped. Different
settings in the same ``--out`` are refused.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

import mobseg
from mobseg.data import list_pairs, model_dataset
from mobseg.data.class_weights import resolve_class_weights
from mobseg.io.atomic import atomic_write, atomic_write_text
from mobseg.training.evaluation import evaluate_dataset

#: The encoder activations of issue 7, in table order.
ACTIVATIONS: tuple[str, ...] = (
    "relu6",
    "relu",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "swish",
    "hard_swish",
    "mish",
)
CAMVID_CLASSES: tuple[str, ...] = (
    "Sky",
    "Building",
    "Pole",
    "Road",
    "Pavement",
    "Tree",
    "SignSymbol",
    "Fence",
    "Car",
    "Pedestrian",
    "Bicyclist",
)
#: Settings that must be equal for runs to share one results.json.
SETTING_KEYS: tuple[str, ...] = (
    "data",
    "input_size",
    "epochs",
    "batch_size",
    "learning_rate",
    "train_limit",
    "val_limit",
    "batchnorm_momentum",
    "augment",
    "class_weights",
    "ignore_index",
    "alpha",
    "jit_compile",
)
SKIP_STEPS = 3  # first training steps left out of the step time (graph tracing, warm-up)


def parse_size(text: str) -> tuple[int, int]:
    """``"64x96"`` -> ``(64, 96)`` (height, width).

    Example:
        >>> parse_size("64x96")
        (64, 96)
    """
    height, width = (int(v) for v in text.lower().split("x"))
    return height, width


class StepTimer(keras.callbacks.Callback):
    """Wall time of every training step (``on_train_batch_begin`` to ``on_train_batch_end``).

    Example:
        >>> timer = StepTimer()
        >>> timer.times
        []
    """

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []
        self._start = 0.0

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.times.append(time.perf_counter() - self._start)


def run_key(activation: str, decoder: bool, seed: int) -> str:
    """The identifier of one run in results.json.

    Example:
        >>> run_key("gelu", True, 1)
        'gelu|decoder_on|1'
    """
    return f"{activation}|{'decoder_on' if decoder else 'decoder_off'}|{seed}"


def load_data(args: argparse.Namespace) -> dict[str, Any]:
    """Training/validation pairs, class names and ignore index for the study's data source."""
    if args.smoke or args.data is None:
        from mobseg.datasets import make_shapes

        root = args.shapes_dir or os.path.join(tempfile.gettempdir(), "mobseg_activation_study_shapes")
        data = make_shapes(root, n_train=args.shapes_train, n_val=args.shapes_val, size=(64, 64), seed=0)
        source = f"make_shapes(n_train={args.shapes_train}, n_val={args.shapes_val}, size=(64, 64), seed=0)"
        train_pairs = list_pairs(data.train_images, data.train_masks)
        val_pairs = list_pairs(data.val_images, data.val_masks)
        names, ignore = list(data.class_names), None
    else:
        root = args.data
        source = os.path.abspath(root)
        train_pairs = list_pairs(os.path.join(root, "train"), os.path.join(root, "trainannot"))
        val_pairs = list_pairs(os.path.join(root, "val"), os.path.join(root, "valannot"))
        names, ignore = list(CAMVID_CLASSES), 11
    if args.train_limit:
        train_pairs = train_pairs[: args.train_limit]
    if args.val_limit:
        val_pairs = val_pairs[: args.val_limit]
    return {"source": source, "train": train_pairs, "val": val_pairs, "class_names": names, "ignore_index": ignore}


def train_one(
    activation: str,
    decoder: bool,
    seed: int,
    data: dict[str, Any],
    weights: list[float] | None,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Train one configuration from scratch and return its record (val mean IoU, step times, ...)."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    height, width = args.size
    n_classes = len(data["class_names"])
    model = mobseg.mobilenet_segnet(
        n_classes,
        input_height=height,
        input_width=width,
        alpha=args.alpha,
        activation=activation,
        decoder_activation=activation if decoder else None,
    )
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = args.batchnorm_momentum
    common = {"ignore_index": data["ignore_index"], "batch_size": args.batch_size}
    train_ds = model_dataset(
        model, data["train"], shuffle=True, augment=True, class_weights=weights, cache=True, seed=seed, **common
    )
    val_ds = model_dataset(model, data["val"], cache=True, **common)
    steps_per_epoch = math.ceil(len(data["train"]) / args.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, decay_steps=steps_per_epoch * args.epochs)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule),
        loss=mobseg.SegmentationCrossentropy(ignore_index=data["ignore_index"]),
        jit_compile=args.jit_compile,
    )
    timer = StepTimer()
    started = time.perf_counter()
    history = model.fit(train_ds, epochs=args.epochs, verbose=0, callbacks=[timer, keras.callbacks.TerminateOnNaN()])
    train_seconds = time.perf_counter() - started
    losses = [float(v) for v in history.history.get("loss", [])]
    report = evaluate_dataset(model, val_ds, class_names=data["class_names"], ignore_index=data["ignore_index"])
    timed = timer.times[SKIP_STEPS:] or timer.times
    diverged = not losses or any(not math.isfinite(v) for v in losses) or len(losses) < args.epochs
    return {
        "key": run_key(activation, decoder, seed),
        "activation": activation,
        "decoder": "on" if decoder else "off",
        "seed": seed,
        "val_mean_iou": None if diverged else float(report["mean_iou"]),
        "val_pixel_accuracy": None if diverged else float(report["pixel_accuracy"]),
        "val_class_iou": {c["name"]: c["iou"] for c in report["classes"]},
        "train_loss": losses,
        "diverged": diverged,
        "step_ms_median": 1000 * statistics.median(timed),
        "step_ms_p90": 1000 * float(np.percentile(timed, 90)),
        "steps": len(timer.times),
        "train_seconds": round(train_seconds, 1),
        "params": int(model.count_params()),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def config_key(activation: str, decoder: str) -> str:
    """The identifier of one configuration (all seeds): ``"gelu|on"``.

    Example:
        >>> config_key("gelu", "on")
        'gelu|on'
    """
    return f"{activation}|{decoder}"


def time_configs(
    configs: list[tuple[str, bool]], n_classes: int, args: argparse.Namespace, rounds: int, steps: int
) -> dict[str, dict[str, float]]:
    """Interleaved timing: every configuration's model is built first, then ``rounds`` times each in turn runs
    ``steps`` training steps and ``steps`` forward passes on one fixed batch. Interleaving spreads the load of
    a shared machine over all configurations alike; the medians are returned in ms per batch.

    Example:
        >>> time_configs([("relu6", False)], 2, parse_args(["--smoke"]), rounds=1, steps=1)  # doctest: +SKIP
        {'relu6|off': {'train_ms': 31.2, 'predict_ms': 9.8}}
    """
    height, width = args.size
    rng = np.random.default_rng(0)
    models = {}
    for activation, decoder in configs:
        keras.utils.set_random_seed(0)
        model = mobseg.mobilenet_segnet(
            n_classes,
            input_height=height,
            input_width=width,
            alpha=args.alpha,
            activation=activation,
            decoder_activation=activation if decoder else None,
        )
        model.compile(
            optimizer=keras.optimizers.Adam(1e-4),
            loss=mobseg.SegmentationCrossentropy(),
            jit_compile=args.jit_compile,
        )
        models[config_key(activation, "on" if decoder else "off")] = model
    first = next(iter(models.values()))
    x = rng.uniform(-1, 1, (args.batch_size, height, width, 3)).astype("float32")
    y = rng.integers(0, n_classes, (args.batch_size, *first.outputs[0].shape[1:-1])).astype("int32")
    times: dict[str, dict[str, list[float]]] = {key: {"train_ms": [], "predict_ms": []} for key in models}
    for model in models.values():  # warm-up: graph tracing
        model.train_on_batch(x, y)
        model.predict_on_batch(x)
    for _ in range(rounds):
        for key, model in models.items():
            for _ in range(steps):
                start = time.perf_counter()
                model.train_on_batch(x, y)
                times[key]["train_ms"].append(1000 * (time.perf_counter() - start))
            for _ in range(steps):
                start = time.perf_counter()
                model.predict_on_batch(x)
                times[key]["predict_ms"].append(1000 * (time.perf_counter() - start))
    return {key: {kind: statistics.median(v) for kind, v in value.items()} for key, value in times.items()}


def summarize(runs: list[dict[str, Any]], timing: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One row per (activation, decoder): mean, sample standard deviation and range over seeds.

    ``timing``: the interleaved measurements of :func:`time_configs` (``results["timing"]["configs"]``);
    when given, "vs relu6" compares those, else the median step times measured during training.

    Example:
        >>> rows = summarize([{"activation": "relu6", "decoder": "off", "seed": s, "val_mean_iou": v,
        ...                    "step_ms_median": 10.0} for s, v in ((0, 0.4), (1, 0.5))])
        >>> round(rows[0]["miou_mean"], 2), rows[0]["n_seeds"]
        (0.45, 2)
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["activation"], run["decoder"]), []).append(run)
    order = {name: i for i, name in enumerate(ACTIVATIONS)}
    timing = timing or {}
    baseline = groups.get(("relu6", "off"))
    base_ms = statistics.median(r["step_ms_median"] for r in baseline) if baseline else None
    base_bench = timing.get(config_key("relu6", "off"), {}).get("train_ms")
    rows = []
    for (activation, decoder), items in sorted(groups.items(), key=lambda kv: (kv[0][1], order.get(kv[0][0], 99))):
        values = [r["val_mean_iou"] for r in items if r.get("val_mean_iou") is not None]
        ms = statistics.median(r["step_ms_median"] for r in items)
        bench = timing.get(config_key(activation, decoder), {})
        rows.append(
            {
                "activation": activation,
                "decoder": decoder,
                "n_seeds": len(items),
                "seeds": sorted(r["seed"] for r in items),
                "miou_per_seed": [round(v, 4) for v in values],
                "miou_mean": statistics.fmean(values) if values else None,
                "miou_sd": statistics.stdev(values) if len(values) > 1 else None,
                "miou_min": min(values) if values else None,
                "miou_max": max(values) if values else None,
                "diverged": sum(bool(r.get("diverged")) for r in items),
                "step_ms": ms,
                "bench_train_ms": bench.get("train_ms"),
                "bench_predict_ms": bench.get("predict_ms"),
                "step_vs_relu6": (
                    bench["train_ms"] / base_bench
                    if base_bench and bench.get("train_ms")
                    else (ms / base_ms if base_ms and not timing else None)
                ),
            }
        )
    return rows


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The summary as a Markdown table.

    Example:
        >>> print(markdown_table([]).splitlines()[0])
        | encoder activation | decoder activation | seeds | val mIoU mean ± sd | min - max | ms/step in training \
| ms/step interleaved | ms/forward | step vs relu6 |
    """
    lines = [
        "| encoder activation | decoder activation | seeds | val mIoU mean ± sd | min - max | ms/step in training "
        "| ms/step interleaved | ms/forward | step vs relu6 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['activation']} | {'same' if row['decoder'] == 'on' else 'none (article)'} | {row['n_seeds']} "
            f"| {_fmt(row['miou_mean'])} ± {_fmt(row['miou_sd'])} | {_fmt(row['miou_min'])} - {_fmt(row['miou_max'])} "
            f"| {_fmt(row['step_ms'], '.0f')} | {_fmt(row.get('bench_train_ms'), '.0f')} "
            f"| {_fmt(row.get('bench_predict_ms'), '.0f')} | {_fmt(row['step_vs_relu6'], '.2f')}x |"
        )
    return "\n".join(lines)


def plot(runs: list[dict[str, Any]], rows: list[dict[str, Any]], path: Path, title: str) -> None:
    """Two panels: val mean IoU per configuration (bar = mean, dots = seeds) and median ms per step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = [a for a in ACTIVATIONS if any(r["activation"] == a for r in rows)]
    order += sorted({r["activation"] for r in rows} - set(order))
    x = np.arange(len(order))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.2))
    for offset, decoder, color in ((-0.2, "off", "tab:blue"), (0.2, "on", "tab:orange")):
        label = "decoder activation: none (article)" if decoder == "off" else "decoder activation: same as encoder"
        table = {r["activation"]: r for r in rows if r["decoder"] == decoder}
        if not table:
            continue
        idx = [i for i, a in enumerate(order) if a in table]
        ax1.bar(x[idx] + offset, [table[order[i]]["miou_mean"] or 0 for i in idx], 0.38, color=color, alpha=0.6,
                label=label)  # fmt: skip
        ms = [table[order[i]].get("bench_train_ms") or table[order[i]]["step_ms"] for i in idx]
        ax2.bar(x[idx] + offset, ms, 0.38, color=color, alpha=0.8, label=label)
        for run in runs:
            if run["decoder"] == decoder and run.get("val_mean_iou") is not None:
                ax1.plot(order.index(run["activation"]) + offset, run["val_mean_iou"], "k.", ms=6)
    ax1.set_ylabel("val mean IoU after the last epoch (dots: seeds)")
    interleaved = any(r.get("bench_train_ms") for r in rows)
    ax2.set_ylabel(f"median ms per training step{' (interleaved timing)' if interleaved else ''}")
    for ax in (ax1, ax2):
        ax.set_xticks(x, order, rotation=30)
        ax.grid(axis="y", alpha=0.3)
    ax1.legend(fontsize=8, loc="lower right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    atomic_write(path, lambda stream: stream.write(buffer.getvalue()))


def write_outputs(out: Path, results: dict[str, Any]) -> list[dict[str, Any]]:
    """Write results.json, results.csv, summary.csv and the plot (each atomically); return the summary rows."""
    runs = results["runs"]
    rows = summarize(runs, results.get("timing", {}).get("configs"))
    results["summary"] = rows
    atomic_write_text(json.dumps(results, indent=1), out / "results.json")
    fields = ["activation", "decoder", "seed", "val_mean_iou", "val_pixel_accuracy", "step_ms_median", "step_ms_p90",
              "steps", "train_seconds", "diverged"]  # fmt: skip
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(runs)
    atomic_write_text(text.getvalue(), out / "results.csv")
    text = io.StringIO()
    summary_fields = ["activation", "decoder", "n_seeds", "miou_mean", "miou_sd", "miou_min", "miou_max", "step_ms",
                      "bench_train_ms", "bench_predict_ms", "step_vs_relu6", "diverged"]  # fmt: skip
    writer = csv.DictWriter(text, fieldnames=summary_fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(text.getvalue(), out / "summary.csv")
    s = results["settings"]
    title = (
        f"mobilenet_segnet from scratch, {s['data_name']}, input {s['input_size'][0]}x{s['input_size'][1]}, "
        f"{s['epochs']} epochs, seeds {s['seeds']}"
    )
    plot(runs, rows, out / "activation_study.png", title)
    return rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="CamVid folder (train/, trainannot/, val/, valannot/)")
    parser.add_argument("--smoke", action="store_true", help="tiny synthetic setting (make_shapes), for tests")
    parser.add_argument("--size", type=parse_size, default=None, help="HEIGHTxWIDTH, multiples of 16 (64x96)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=None)
    parser.add_argument("--activations", nargs="+", default=None, help=f"encoder activations ({' '.join(ACTIVATIONS)})")
    parser.add_argument("--decoder-on", nargs="*", default=None, help="activations also run with the decoder's on")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="peak of the cosine schedule")
    parser.add_argument("--alpha", type=float, default=1.0, help="MobileNet width multiplier")
    parser.add_argument("--train-limit", type=int, default=0, help="use only the first N training pairs (0: all)")
    parser.add_argument("--val-limit", type=int, default=0, help="use only the first N validation pairs (0: all)")
    parser.add_argument("--shapes-dir", default=None, help="where synthetic data is written (default: temp dir)")
    parser.add_argument("--shapes-train", type=int, default=None)
    parser.add_argument("--shapes-val", type=int, default=None)
    parser.add_argument(
        "--jit-compile", action="store_true", help="XLA-compile training steps (default off: per-op kernels)"
    )
    parser.add_argument("--timing-rounds", type=int, default=None, help="interleaved timing rounds (0: none)")
    parser.add_argument("--timing-steps", type=int, default=5, help="steps per configuration and round")
    parser.add_argument("--max-runs", type=int, default=0, help="stop after N new runs (0: all); resume later")
    parser.add_argument("--out", default="results/activation_study")
    args = parser.parse_args(argv)
    smoke = args.smoke
    defaults = {
        "size": (32, 32) if smoke else (64, 96),
        "epochs": 1 if smoke else 8,
        "seeds": [0] if smoke else [0, 1],
        "activations": ["relu6", "hard_swish"] if smoke else list(ACTIVATIONS),
        "decoder_on": ["relu6"] if smoke else ["relu6", "gelu"],
        "timing_rounds": 0 if smoke else 3,
        "shapes_train": 8 if smoke else 200,
        "shapes_val": 4 if smoke else 50,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    unknown = [a for a in [*args.activations, *args.decoder_on] if a not in mobseg.list_activations()]
    if unknown:
        parser.error(f"unknown activations {unknown}; known: {mobseg.list_activations()}")
    if any(v % 16 for v in args.size):
        parser.error(f"--size {args.size}: height and width must be multiples of 16")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the study (skipping runs already in results.json) and print the Markdown table."""
    args = parse_args(argv)
    args.batchnorm_momentum = 0.9
    out = Path(args.out)
    data = load_data(args)
    settings = {
        "data": data["source"],
        "data_name": "synthetic shapes" if (args.smoke or args.data is None) else "CamVid",
        "train_pairs": len(data["train"]),
        "val_pairs": len(data["val"]),
        "input_size": list(args.size),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "schedule": "Adam, cosine decay from learning_rate to 0 over all steps",
        "train_limit": args.train_limit,
        "val_limit": args.val_limit,
        "batchnorm_momentum": args.batchnorm_momentum,
        "augment": "mobseg defaults (flip, scale 0.75-1.5, colour jitter), seeded",
        "class_weights": "balanced (median frequency, from the training masks)",
        "ignore_index": data["ignore_index"],
        "alpha": args.alpha,
        "jit_compile": args.jit_compile,
        "weights": "from scratch",
        "metric": "val mean IoU after the last epoch, at the model output size (input/2), nearest-resized masks",
        "timing": f"median wall time of a training step, first {SKIP_STEPS} steps left out",
        "seeds": args.seeds,
        "activations": args.activations,
        "decoder_on": args.decoder_on,
        "versions": {"mobseg": mobseg.__version__, "keras": keras.__version__},
        "cpu_count": os.cpu_count(),
    }
    results: dict[str, Any] = {"settings": settings, "runs": []}
    if (out / "results.json").is_file():
        previous = json.loads((out / "results.json").read_text())
        changed = [k for k in SETTING_KEYS if previous["settings"].get(k) != settings.get(k)]
        if changed:
            print(f"{out}/results.json was made with other settings ({', '.join(changed)}); choose another --out.")
            return 2
        results["runs"] = previous["runs"]
        if "timing" in previous:
            results["timing"] = previous["timing"]
        # what the results hold: the configurations run before plus the ones asked for now
        runs = results["runs"]
        settings["seeds"] = sorted({*(r["seed"] for r in runs), *args.seeds})
        off = [r["activation"] for r in runs if r["decoder"] == "off"]
        on = [r["activation"] for r in runs if r["decoder"] == "on"]
        settings["activations"] = [a for a in dict.fromkeys([*ACTIVATIONS, *off, *args.activations])
                                   if a in off or a in args.activations]  # fmt: skip
        settings["decoder_on"] = [a for a in dict.fromkeys([*ACTIVATIONS, *on, *args.decoder_on])
                                  if a in on or a in args.decoder_on]  # fmt: skip
    done = {run["key"] for run in results["runs"]}
    weights = resolve_class_weights("balanced", len(data["class_names"]), data["train"], data["ignore_index"])
    settings["class_weight_values"] = [round(w, 4) for w in weights]
    plan = [(a, False, s) for s in args.seeds for a in args.activations]
    plan += [(a, True, s) for s in args.seeds for a in args.decoder_on]
    plan.sort(key=lambda c: c[2])  # seed-major: slow drifts of machine load spread over all configurations
    todo = [c for c in plan if run_key(*c) not in done]
    print(f"{len(plan)} runs planned, {len(plan) - len(todo)} already in {out}/results.json, {len(todo)} to do")
    if args.max_runs:
        todo = todo[: args.max_runs]
    for activation, decoder, seed in todo:
        record = train_one(activation, decoder, seed, data, weights, args)
        results["runs"].append(record)
        write_outputs(out, results)
        print(
            f"[{time.strftime('%H:%M:%S')}] {record['key']:28} val mIoU {_fmt(record['val_mean_iou'])}  "
            f"{record['step_ms_median']:.0f} ms/step  {record['train_seconds']:.0f} s",
            flush=True,
        )
    configs = [(a, False) for a in settings["activations"]] + [(a, True) for a in settings["decoder_on"]]
    measured = results.get("timing", {}).get("configs", {})
    untimed = [c for c in configs if config_key(c[0], "on" if c[1] else "off") not in measured]
    remaining = [c for c in plan if run_key(*c) not in {r["key"] for r in results["runs"]}]
    if args.timing_rounds and untimed and not remaining:  # after all trainings: timing needs a quiet process
        print(f"interleaved timing of {len(untimed)} configurations ({args.timing_rounds} rounds)...", flush=True)
        keras.backend.clear_session()
        measured.update(time_configs(untimed, len(data["class_names"]), args, args.timing_rounds, args.timing_steps))
        results["timing"] = {
            "method": f"interleaved: {args.timing_rounds} rounds x {args.timing_steps} train_on_batch and "
            f"predict_on_batch calls per configuration on one fixed batch of {args.batch_size}; median",
            "configs": measured,
        }
    rows = write_outputs(out, results) if results["runs"] else []
    print()
    print(markdown_table(rows))
    print(f"\nwritten: {out}/results.json, results.csv, summary.csv, activation_study.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
