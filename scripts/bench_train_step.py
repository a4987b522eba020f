"""What mobseg's compile costs per training step over plain sparse cross-entropy, on one fixed batch.

Usage:
    python scripts/bench_train_step.py [--model mobilenet_segnet] [--size 224x224] [--batch-size 8]
        [--rounds 7] [--steps 10] [--loss ce] [--variants plain mobseg] [--json results/bench_train_step.json]

Every variant trains its own copy of the same model (same weights) with ``train_on_batch`` on the same batch:

* ``plain``: ``compile(Adam, "sparse_categorical_crossentropy")``, no metric, no sample weights (the baseline);
* ``mobseg``: :func:`mobseg.training.optimization.compile_for_training` (mobseg's loss named by ``--loss`` and the
  streaming ``MeanIoU``) with per-pixel sample weights (class weights, 0 at ignored pixels), as ``mobseg.train``;
* ``mobseg_loss``: mobseg's loss and sample weights, no metric; ``plain_iou``: the baseline plus ``MeanIoU``
  (these two split the overhead into its parts).

After two warm-up steps each, the variants take turns (the order rotates every round): one round times
``--steps`` steps of each. A variant's ms/step is the median over rounds of its round's mean step; the overhead
is the median over rounds of ``variant / plain`` within the round, so drifts in machine load cancel out. Run it on
an idle machine; on a shared one the ratios still hold better than the absolute times.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

VARIANTS = ("plain", "mobseg", "mobseg_loss", "plain_iou")


def fixed_batch(model: Any, batch_size: int, ignore_index: int, seed: int = 0) -> tuple[Any, Any, Any]:
    """A batch of random images, labels at the output size (5% ignored) and pixel weights (0 where ignored).

    Example:
        >>> x, y, w = fixed_batch(model, 8, 11)  # doctest: +SKIP
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    height, width = model.input_size
    x = rng.uniform(-1, 1, (batch_size, height, width, model.channels)).astype("float32")
    out_h, out_w = model.output_size
    shape = (batch_size, out_h * out_w) if model.head == "flat" else (batch_size, out_h, out_w)
    y = rng.integers(0, model.n_classes, shape).astype("int32")
    y[rng.random(shape) < 0.05] = ignore_index
    class_weights = rng.uniform(0.2, 5.0, model.n_classes).astype("float32")
    w = np.where(y == ignore_index, 0.0, class_weights[np.clip(y, 0, model.n_classes - 1)]).astype("float32")
    return x, y, w


def compiled_copy(model: Any, variant: str, loss: str, ignore_index: int) -> Any:
    """A copy of ``model`` (same weights) compiled as ``variant`` says.

    Example:
        >>> compiled_copy(model, "plain", "ce", 11).loss  # doctest: +SKIP
        'sparse_categorical_crossentropy'
    """
    import keras

    from mobseg.metrics import MeanIoU
    from mobseg.training.optimization import Optimization, compile_for_training

    copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    if variant in ("plain", "plain_iou"):
        metrics = [MeanIoU(model.n_classes, ignore_index=ignore_index)] if variant == "plain_iou" else []
        copy.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=metrics)
    else:
        compile_for_training(copy, 1e-3, ignore_index=ignore_index, optimization=Optimization(loss=loss))
        if variant == "mobseg_loss":
            copy.compile(copy.optimizer, copy.loss)
    return copy


def time_steps(model: Any, batch: tuple[Any, Any, Any], weighted: bool, steps: int) -> float:
    """Mean seconds per ``train_on_batch`` step over ``steps`` steps.

    Example:
        >>> time_steps(model, batch, True, 5)  # doctest: +SKIP
        0.21
    """
    x, y, w = batch
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y, sample_weight=w if weighted else None)
    return (time.perf_counter() - start) / steps


def measure(models: dict[str, Any], batch: tuple, rounds: int, steps: int) -> dict[str, list[float]]:
    """Per variant, its mean step time (s) in each round; the variants take turns, the order rotating."""
    names = list(models)
    for name in names:  # warm-up: tracing, first allocations
        time_steps(models[name], batch, not name.startswith("plain"), 2)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            times[name].append(time_steps(models[name], batch, not name.startswith("plain"), steps))
        print(f"round {r + 1}/{rounds}: " + ", ".join(f"{n} {1000 * times[n][-1]:.1f} ms" for n in names), flush=True)
    return times


def summary(times: dict[str, list[float]], batch_size: int) -> dict[str, dict[str, float]]:
    """ms/step (median over rounds), images/s and the median per-round ratio to ``plain``.

    Example:
        >>> summary({"plain": [0.1, 0.1], "mobseg": [0.11, 0.1]}, 8)["mobseg"]["vs_plain"]
        1.05
    """
    result = {}
    for name, values in times.items():
        ratios = [v / p for v, p in zip(values, times["plain"], strict=True)]
        result[name] = {
            "ms_per_step": round(1000 * statistics.median(values), 2),
            "images_per_s": round(batch_size / statistics.median(values), 2),
            "vs_plain": round(statistics.median(ratios), 4),
        }
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mobilenet_segnet", help="registry name")
    parser.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE", help="e.g. alpha=0.25")
    parser.add_argument("--size", default="224x224", help="model input HEIGHTxWIDTH")
    parser.add_argument("--n-classes", type=int, default=12, help="classes (CamVid: 12 with the ignored one)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=10, help="steps per variant per round")
    parser.add_argument("--loss", default="ce", help="mobseg's loss for the mobseg variants, e.g. ce, ce+lovasz")
    parser.add_argument("--variants", nargs="+", default=["plain", "mobseg"], choices=VARIANTS)
    parser.add_argument("--json", default=None, help="write the results to this file")
    args = parser.parse_args(argv)

    import keras

    import mobseg
    from mobseg.cli.args import parse_model_args, parse_size

    height, width = parse_size(args.size)
    model = mobseg.build_model(
        args.model, args.n_classes, input_height=height, input_width=width, **parse_model_args(args.model_arg)
    )
    ignore_index = args.n_classes - 1
    batch = fixed_batch(model, args.batch_size, ignore_index)
    variants = ["plain", *[v for v in args.variants if v != "plain"]]
    models = {v: compiled_copy(model, v, args.loss, ignore_index) for v in variants}
    times = measure(models, batch, args.rounds, args.steps)
    result = summary(times, args.batch_size)
    print(
        f"\n{args.model} {height}x{width}, batch {args.batch_size}, loss {args.loss}, backend {keras.backend.backend()}"
    )
    print("| variant | ms/step | images/s | vs plain |\n|---|---|---|---|")
    for name, row in result.items():
        print(f"| {name} | {row['ms_per_step']} | {row['images_per_s']} | {row['vs_plain']:.3f}x |")
    if args.json:
        from mobseg.training.run_folder import write_json

        record = {"settings": vars(args), "backend": keras.backend.backend(), "result": result, "times_s": times}
        record["machine"] = {"cpu_count": os.cpu_count(), "platform": platform.platform(), "load": os.getloadavg()}
        write_json(record, args.json)
        print(f"results: {args.json}")


if __name__ == "__main__":
    main()
