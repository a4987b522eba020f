"""Throughput of the input pipeline (decode + augment + batch) against what training consumes.

Usage:
    python scripts/bench_pipeline.py --data ../shared/data/camvid [--size 224x224] [--batch-size 8]

Reads ``DATA/train`` + ``DATA/trainannot`` (CamVid layout; any images/masks folder pair works with
``--images``/``--masks``). Prints a Markdown table of images/s; record it in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

import mobseg
from mobseg.data import list_pairs, model_dataset
from mobseg.training.phases import compile_for_training


def pipeline_rate(ds: tf.data.Dataset, epochs: int = 2) -> float:
    """Images/s over full passes of ``ds`` (the first batch, which builds the pipeline, is not timed)."""
    iterator = iter(ds)
    next(iterator)
    count, start = 0, time.perf_counter()
    for batch in iterator:
        count += int(batch[0].shape[0])
    for _ in range(epochs - 1):
        for batch in ds:
            count += int(batch[0].shape[0])
    return count / (time.perf_counter() - start)


class StepTimer(keras.callbacks.Callback):
    """Wall time of each training step."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="CamVid-style folder (train/ + trainannot/)")
    parser.add_argument("--images", default=None)
    parser.add_argument("--masks", default=None)
    parser.add_argument("--size", default="224x224", help="model input HEIGHTxWIDTH")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--n-classes", type=int, default=11)
    parser.add_argument("--ignore-index", type=int, default=11)
    parser.add_argument("--train-steps", type=int, default=12, help="timed training steps (after 3 warm-up steps)")
    args = parser.parse_args()
    images = args.images or os.path.join(args.data, "train")
    masks = args.masks or os.path.join(args.data, "trainannot")
    height, width = (int(v) for v in args.size.split("x"))
    pairs = list_pairs(images, masks)
    model = mobseg.mobilenet_segnet(args.n_classes, input_height=height, input_width=width)
    common = {"batch_size": args.batch_size, "ignore_index": args.ignore_index}

    rows = []
    variants = [
        ("pipeline: decode + augment + batch (autotuned)", {"augment": True, "shuffle": True}),
        ("pipeline: decode + augment, 2 parallel calls", {"augment": True, "shuffle": True, "num_parallel_calls": 2}),
        ("pipeline: decode + resize only (validation)", {}),
        ("pipeline: cached decode + augment (epochs 2+)", {"augment": True, "shuffle": True, "cache": True}),
    ]
    for name, options in variants:
        ds = model_dataset(model, pairs, **common, **options)
        if options.get("cache"):
            for _ in ds:  # fill the cache
                pass
        rows.append((name, pipeline_rate(ds)))

    compile_for_training(model, 1e-3, ignore_index=args.ignore_index)
    batches = model_dataset(model, pairs[: args.batch_size * 4], **common).cache()
    for _ in batches:
        pass
    data = batches.repeat()
    timer = StepTimer()
    steps = args.train_steps + 3
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False, callbacks=[timer])
    step = float(np.median(timer.times[3:]))
    train_rate = args.batch_size / step
    rows.append((f"training steps: mobilenet_segnet fit, batch {args.batch_size} (median step)", train_rate))

    print(f"# {len(pairs)} pairs from {images}, input {height}x{width}, batch {args.batch_size}")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, TF {tf.__version__}")
    print()
    print("| what | images/s | x training |")
    print("|---|---|---|")
    for name, rate in rows:
        print(f"| {name} | {rate:.1f} | {rate / train_rate:.1f} |")


if __name__ == "__main__":
    main()
