"""Throughput of mobilenet_segnet on one device under JAX (no TensorFlow): inference and training, 32 and 16 bits.

Usage:
    python scripts/bench_gpu.py [--size 416x416] [--batches 1 8 64] [--train-batch 16] [--json out.json]
    python scripts/bench_gpu.py --smoke        # tiny sizes and a short model: the test's CPU check

Synthetic data (random images and labels), so it measures the model and the device, not the input pipeline.
Inference: a jitted ``model.stateless_call`` on inputs already on the device (``block_until_ready``), images/s at
each batch size in float32 and bfloat16 (mixed_bfloat16 policy, softmax float32). Training: ``train_on_batch``
with ``mobseg.train``'s compile (Adam, SegmentationCrossentropy, MeanIoU), float32 and mixed bfloat16 (and float16
with ``--float16``). Memory: the device's peak bytes in use where JAX reports them (GPUs), and the process's peak
resident memory. Prints a Markdown table (and writes JSON with ``--json``); record it in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import keras
import numpy as np

import mobseg
from mobseg.training.optimization import compile_for_training
from mobseg.training.precision import with_precision


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="416x416", help="input HEIGHTxWIDTH (multiples of 32)")
    parser.add_argument("--n-classes", type=int, default=2)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 64], help="inference batch sizes")
    parser.add_argument("--train-batch", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per measurement (after warm-up)")
    parser.add_argument("--float16", action="store_true", help="also measure mixed float16 (loss-scaled) training")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and times (a CPU check, not a benchmark)")
    parser.add_argument("--json", default=None, help="write the results here as JSON")
    args = parser.parse_args()
    args.model_kwargs = {}
    if args.smoke:  # a short model too: compiling dominates at these sizes
        args.size, args.batches, args.train_batch, args.seconds = "32x32", [2], 2, 0.1
        args.model_kwargs = {"alpha": 0.25, "encoder_level": 1}
    return args


def timed(step, seconds: float, minimum: int = 3) -> float:
    """Median seconds per call of ``step`` over about ``seconds`` (after two warm-up calls, compilation included)."""
    step()
    step()
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < minimum or time.perf_counter() - started < seconds:
        begin = time.perf_counter()
        step()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def device_peak_bytes() -> int | None:
    """Peak bytes in use on the first device, where JAX reports it (GPUs; ``None`` on CPU)."""
    stats = jax.devices()[0].memory_stats() or {}
    return stats.get("peak_bytes_in_use")


def inference_rate(model: keras.Model, batch: int, seconds: float) -> dict:
    """Images/s of a jitted forward pass on device-resident inputs."""
    height, width = model.input_size
    x = jax.device_put(np.random.default_rng(0).uniform(-1, 1, (batch, height, width, 3)).astype("float32"))
    trainable = [v.value for v in model.trainable_variables]
    frozen = [v.value for v in model.non_trainable_variables]

    @jax.jit
    def forward(trainable, frozen, x):
        return model.stateless_call(trainable, frozen, x, training=False)[0]

    step = timed(lambda: forward(trainable, frozen, x).block_until_ready(), seconds)
    return {"batch": batch, "images_per_s": batch / step, "ms_per_batch": 1000 * step}


def training_rate(base: keras.Model, precision: str | None, batch: int, seconds: float) -> dict:
    """Images/s of ``train_on_batch`` (mobseg's compile) on device-resident synthetic data."""
    model = with_precision(base, precision) if precision else base
    compile_for_training(model, 1e-4)
    height, width = model.input_size
    rng = np.random.default_rng(1)
    x = jax.device_put(rng.uniform(-1, 1, (batch, height, width, 3)).astype("float32"))
    labels_shape = (batch, *model.output_shape[1:-1])
    y = jax.device_put(rng.integers(0, model.n_classes, labels_shape).astype("int32"))
    w = jax.device_put(np.ones(labels_shape, "float32"))
    step = timed(lambda: model.train_on_batch(x, y, sample_weight=w), seconds)
    return {
        "precision": precision or "float32",
        "batch": batch,
        "images_per_s": batch / step,
        "ms_per_step": 1000 * step,
    }


def run(args: argparse.Namespace) -> dict:
    height, width = (int(v) for v in args.size.lower().split("x"))
    base = mobseg.mobilenet_segnet(args.n_classes, input_height=height, input_width=width, **args.model_kwargs)
    results: dict = {"device": str(jax.devices()[0]), "platform": jax.devices()[0].platform, "size": [height, width]}
    results["inference"] = []
    for precision in (None, "bfloat16"):
        model = with_precision(base, precision) if precision else base
        for batch in args.batches:
            row = inference_rate(model, batch, args.seconds)
            results["inference"].append({"precision": precision or "float32", **row})
            print(f"inference {precision or 'float32'} batch {batch}: {row['images_per_s']:.1f} img/s", flush=True)
    results["training"] = []
    for precision in (None, "bfloat16", *(["float16"] if args.float16 else [])):
        row = training_rate(base, precision, args.train_batch, args.seconds)
        results["training"].append(row)
        print(f"training {row['precision']} batch {row['batch']}: {row['images_per_s']:.1f} img/s", flush=True)
    results["device_peak_bytes"] = device_peak_bytes()
    results["process_peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    results["tensorflow_imported"] = "tensorflow" in sys.modules and sys.modules["tensorflow"] is not None
    return results


def table(results: dict) -> str:
    """The results as Markdown."""
    lines = ["| what | precision | batch | images/s | ms per batch |", "|---|---|---|---|---|"]
    rows = [("inference", row, row["ms_per_batch"]) for row in results["inference"]]
    rows += [("training", row, row["ms_per_step"]) for row in results["training"]]
    for what, row, ms in rows:
        lines.append(f"| {what} | {row['precision']} | {row['batch']} | {row['images_per_s']:.1f} | {ms:.1f} |")
    peak = results["device_peak_bytes"]
    lines.append("")
    lines.append(f"device peak memory: {'n/a (not reported)' if peak is None else f'{peak / 2**30:.2f} GiB'}; "
                 f"process peak RSS: {results['process_peak_rss_bytes'] / 2**30:.2f} GiB")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    if keras.backend.backend() != "jax":
        raise SystemExit(f"bench_gpu.py runs under JAX; KERAS_BACKEND is {keras.backend.backend()!r}.")
    results = run(args)
    results.update(smoke=args.smoke, jax=jax.__version__, keras=keras.__version__, machine=platform.machine())
    print(f"# {results['device']} ({results['platform']}), input {args.size}, JAX {jax.__version__}, "
          f"Keras {keras.__version__}, {os.cpu_count()} CPUs{' (smoke sizes)' if args.smoke else ''}")  # fmt: skip
    print()
    print(table(results))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(results, stream, indent=2)


if __name__ == "__main__":
    main()
