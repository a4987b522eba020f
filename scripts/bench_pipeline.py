"""Throughput of the input pipelines (decode + augment + batch) against what training consumes.

Usage:
    python scripts/bench_pipeline.py --data ../shared/data/camvid [--size 224x224] [--batch-size 8]
    python scripts/bench_pipeline.py --data ../shared/data/camvid --loaders pydataset --workers 2 8 16
    python scripts/bench_pipeline.py --data ../shared/data/camvid --loaders --mixed-precision bfloat16  # training only

Reads ``DATA/train`` + ``DATA/trainannot`` (CamVid layout; any images/masks folder pair works with
``--images``/``--masks``). Rows: the ``tf.data`` pipeline (where TensorFlow is installed), the backend-neutral
PyDataset with worker threads (``--workers``; threads call ``__getitem__`` as ``fit``'s enqueuer does), the
candidate built from Keras 3's image augmentation layers (``--keras-layers``: RandomCrop / RandomFlip / Resizing
on ``{"images", "segmentation_masks"}``, per example on this backend; it cannot zoom out or pad, see
BENCHMARKS.md), and ``model.fit`` steps on cached batches. Prints a Markdown table of images/s; record it in
BENCHMARKS.md. ``--limit 16`` uses the first 16 pairs (a quick check, not a measurement).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

import mobseg
from mobseg.data import list_pairs, model_dataset
from mobseg.data.images import read_image_uint8
from mobseg.data.masks import read_mask
from mobseg.optional import has_tensorflow, tensorflow_version
from mobseg.training.optimization import compile_for_training
from mobseg.training.precision import with_precision


def pass_rate(ds, epochs: int = 2, workers: int = 1) -> float:
    """Images/s over full passes of ``ds`` (its first batch, which builds a tf.data pipeline, is not timed).

    A PyDataset is read by ``workers`` threads calling ``ds[i]``, in order, as ``fit``'s enqueuer does.
    """
    if isinstance(ds, keras.utils.PyDataset):
        ds[0]
        count, start = 0, time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            for _ in range(epochs):
                for batch in pool.map(ds.__getitem__, range(len(ds))):
                    count += int(batch[0].shape[0])
                ds.on_epoch_end()
        return count / (time.perf_counter() - start)
    iterator = iter(ds)
    next(iterator)
    count, start = 0, time.perf_counter()
    for batch in iterator:
        count += int(batch[0].shape[0])
    for _ in range(epochs - 1):
        for batch in ds:
            count += int(batch[0].shape[0])
    return count / (time.perf_counter() - start)


def keras_layers_rate(pairs, size: tuple[int, int], output_size: tuple[int, int], limit: int) -> float:
    """Images/s of the Keras-layers candidate: per example, decode, resize up by a random zoom, RandomCrop + RandomFlip
    on ``{"images", "segmentation_masks"}``, then the mask resized (nearest) to the output size."""
    height, width = size
    crop = keras.layers.RandomCrop(height, width, seed=1)
    flip = keras.layers.RandomFlip("horizontal", seed=2)
    to_output = keras.layers.Resizing(*output_size, interpolation="nearest")
    rng = np.random.default_rng(0)
    start, count = time.perf_counter(), 0
    for pair in pairs[:limit]:
        zoom = rng.uniform(1.0, 1.5)  # RandomZoom has no segmentation masks in Keras 3; zooming out would pad
        grow = keras.layers.Resizing(int(height * zoom), int(width * zoom), interpolation="bilinear")
        grow_mask = keras.layers.Resizing(int(height * zoom), int(width * zoom), interpolation="nearest")
        image = grow(read_image_uint8(pair.image).astype("float32"))
        mask = grow_mask(read_mask(pair.mask).astype("float32")[..., None])
        data = flip(crop({"images": image, "segmentation_masks": mask}))
        keras.ops.convert_to_numpy(data["images"])
        keras.ops.convert_to_numpy(to_output(data["segmentation_masks"]))
        count += 1
    return count / (time.perf_counter() - start)


class CachedBatches(keras.utils.PyDataset):
    """``steps`` batches cycling over a few batches held in memory (what the model consumes when data is free)."""

    def __init__(self, batches: list, steps: int):
        super().__init__()
        self.batches, self.steps = batches, steps

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, index: int):
        return self.batches[index % len(self.batches)]


class StepTimer(keras.callbacks.Callback):
    """Wall time of each training step."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def training_rate(model, pairs, args) -> float:
    """Images/s of ``model.fit`` steps (median) on cached batches (in ``--mixed-precision`` if given)."""
    model = with_precision(model, args.mixed_precision) if args.mixed_precision else model
    compile_for_training(model, 1e-3, ignore_index=args.ignore_index)
    few = pairs[: args.batch_size * 4]
    source = model_dataset(model, few, batch_size=args.batch_size, ignore_index=args.ignore_index, loader="pydataset")
    batches = [tuple(np.asarray(t) for t in batch) for batch in source]
    timer = StepTimer()
    data = CachedBatches(batches, args.train_steps + 3)
    model.fit(data, epochs=1, verbose=0, shuffle=False, callbacks=[timer])
    return args.batch_size / float(np.median(timer.times[3:]))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="CamVid-style folder (train/ + trainannot/)")
    parser.add_argument("--images", default=None)
    parser.add_argument("--masks", default=None)
    parser.add_argument("--size", default="224x224", help="model input HEIGHTxWIDTH")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--n-classes", type=int, default=11)
    parser.add_argument("--ignore-index", type=int, default=11)
    parser.add_argument(
        "--loaders",
        nargs="*",
        default=["tf.data", "pydataset"],
        choices=("tf.data", "pydataset"),
        help="pipelines to time (none: the training row only)",
    )
    parser.add_argument("--mixed-precision", choices=("bfloat16", "float16"), default=None, help="for the training row")
    parser.add_argument("--workers", type=int, nargs="+", default=[2], help="PyDataset worker threads to try")
    parser.add_argument("--keras-layers", action="store_true", help="also time the Keras-layers candidate")
    parser.add_argument("--train-steps", type=int, default=12, help="timed training steps (after 3 warm-up steps)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first LIMIT pairs (a quick check)")
    return parser.parse_args()


def pipeline_rows(model, pairs, args) -> list[tuple[str, float]]:
    """(name, images/s) of each pipeline variant asked for."""
    common = {"batch_size": args.batch_size, "ignore_index": args.ignore_index}
    augmented = {"augment": True, "shuffle": True}
    rows = []
    if "tf.data" in args.loaders and has_tensorflow():
        for name, options in [
            ("tf.data: decode + augment + batch (autotuned)", augmented),
            ("tf.data: decode + augment, 2 parallel calls", {**augmented, "num_parallel_calls": 2}),
            ("tf.data: decode + resize only (validation)", {}),
            ("tf.data: cached decode + augment (epochs 2+)", {**augmented, "cache": True}),
        ]:
            ds = model_dataset(model, pairs, loader="tf.data", **common, **options)
            if options.get("cache"):
                for _ in ds:  # fill the cache
                    pass
            rows.append((name, pass_rate(ds)))
    if "pydataset" in args.loaders:
        for workers in args.workers:
            ds = model_dataset(model, pairs, loader="pydataset", **common, **augmented)
            rows.append((f"pydataset: decode + augment + batch, {workers} threads", pass_rate(ds, workers=workers)))
        workers = max(args.workers)
        ds = model_dataset(model, pairs, loader="pydataset", **common)
        rate = pass_rate(ds, workers=workers)
        rows.append((f"pydataset: decode + resize only (validation), {workers} threads", rate))
        ds = model_dataset(model, pairs, loader="pydataset", cache=True, **common, **augmented)
        pass_rate(ds, epochs=1, workers=workers)  # fill the cache
        rows.append((f"pydataset: cached decode + augment, {workers} threads", pass_rate(ds, workers=workers)))
    if args.keras_layers:
        limit = min(len(pairs), 64)
        rate = keras_layers_rate(pairs, model.input_size, model.output_size, limit)
        rows.append((f"keras layers candidate, 1 thread, first {limit} pairs ({keras.backend.backend()})", rate))
    return rows


def main() -> None:
    args = parse_args()
    images = args.images or os.path.join(args.data, "train")
    masks = args.masks or os.path.join(args.data, "trainannot")
    height, width = (int(v) for v in args.size.split("x"))
    pairs = list_pairs(images, masks)[: args.limit]
    model = mobseg.mobilenet_segnet(args.n_classes, input_height=height, input_width=width)
    rows = pipeline_rows(model, pairs, args)
    train_rate = training_rate(model, pairs, args)
    precision = args.mixed_precision or "float32"
    rows.append(
        (f"training steps: mobilenet_segnet fit, batch {args.batch_size}, {precision} (median step)", train_rate)
    )

    print(f"# {len(pairs)} pairs from {images}, input {height}x{width}, batch {args.batch_size}")
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Keras {keras.__version__} "
        f"({keras.backend.backend()}), TensorFlow {tensorflow_version() or 'not installed'}"
    )
    print()
    print("| what | images/s | x training |")
    print("|---|---|---|")
    for name, rate in rows:
        print(f"| {name} | {rate:.1f} | {rate / train_rate:.1f} |")


if __name__ == "__main__":
    main()
