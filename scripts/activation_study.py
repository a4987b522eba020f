"""Activation grid (issue 17): MobileNet-SegNet and MobileNet-U-Net trained with every activation, compared fairly.

Usage:
    # (a) from scratch: both models, all 12 activations, decoder activation off (+ on for relu6 and gelu), 3 seeds
    python scripts/activation_study.py --data ../shared/data/camvid --size 64x96 --epochs 8 --seeds 0 1 2 \\
        --out results/activation_grid
    # (b) the pretrained swap: ImageNet MobileNet v1 encoder, its ReLU6 replaced by each activation, fine-tuned
    python scripts/activation_study.py --data ../shared/data/camvid --size 64x96 --epochs 8 --seeds 0 1 2 \\
        --init imagenet --weights ../shared/weights/mobilenet_1_0_224_tf_no_top.h5 --out results/activation_grid
    # (c) cost per activation: parameters, interleaved ms per training step, TFLite float32/int8 ms per image
    python scripts/activation_study.py --data ../shared/data/camvid --size 64x96 --costs --out results/activation_grid
    python scripts/activation_study.py ... --plan           # the runs not done yet and an estimate of their wall time
    python scripts/activation_study.py --smoke --out /tmp/grid [--costs]     # tiny, synthetic shapes, seconds

One training per (init, model, encoder activation, decoder activation off/on, seed). Run ORDER: seed-major (every
configuration of seed 0, then of seed 1, ...; within a seed init, model, decoder off then on, activation), so a
partial run (``--max-runs N``, or stopped at any time) leaves a complete table of the first seeds. Everything but
the activation is the same for every configuration of a seed: the initial weights (``keras.utils.set_random_seed``
before the model is built; PReLU's slopes start at zero and draw no random numbers, so every other tensor is
identical: each record keeps ``init_fingerprint``, a hash of the initial weights without PReLU slopes, and
:func:`initial_weights_check` compares the builds), the data order and the augmentation draws (the input pipeline
seeded with the seed), the optimizer, schedule, epochs, batch size and class weights. Class 11 of CamVid
("Unlabelled") is ignored in loss and metrics.

Recipes (``--init``, both may share one ``--out``; each init's recipe is recorded in ``settings.recipes``):

* ``scratch`` (issue 7's protocol): random initial weights; Adam with one cosine decay from ``--learning-rate``
  (1e-3) to 0 over all steps; median-frequency class weights (from the training masks); BatchNorm momentum 0.9;
  no frozen phase; augmentation on (mobseg's defaults: flip, scale 0.75-1.5, colour jitter).
* ``imagenet``: the ImageNet MobileNet v1 encoder weights of ``--weights`` loaded by layer name (the activation
  layers have no weights, so only ReLU6 -> the activation changes; PReLU's slopes start at 0, i.e. as ReLU), the
  decoder random (seeded), then ``mobseg.train`` with the default recipe of mobseg 0.2, passed explicitly
  since 0.3 changed the defaults: a first phase of ``--freeze-encoder-epochs`` (default 1, as
  ``scripts/finetune_camvid.py`` with weights) with the encoder frozen (its BatchNorm in inference mode) at
  ``--learning-rate`` (1e-3), then the whole model at a tenth of it (1e-4); constant learning rate
  (no schedule, no warm-up), Adam, cross-entropy (``loss="ce"``), no class weights (mobseg 0.1's default),
  augmentation on, the BatchNorm momentum the model was built with (Keras' 0.99), ``--epochs`` epochs in all.

Measured per run: the val mean IoU after the LAST epoch (no best-epoch selection), scored at the model's output
size (half the input) against nearest-resized masks; the median wall time of a training step (the first
``SKIP_STEPS`` steps left out); where the number came from (``backend``, ``keras_version``, ``device``: the CPU
model or the GPU name, ``cpu_count``, ``load_avg``) and ``wall_seconds`` of the whole run. ``--decoder-on`` lists
the encoder activations also trained with the same activation after every decoder BatchNormalization (the
article's SegNet decoder has none; mobilenet_unet's registry default is keras_segmentation's ReLU, which "off"
removes). ``--backend jax|tensorflow|torch`` sets ``KERAS_BACKEND`` before Keras is imported; without TensorFlow
the input pipeline is mobseg's PyDataset loader (``mobseg.make_dataset(loader="auto")``) and the TFLite costs are
skipped with a note.

Writes into ``--out`` (each file atomically, after every run): ``results.json`` (settings + one record per run),
``results.csv``, ``summary.csv``, ``paired.csv`` (every configuration against relu6, paired by seed) and
``activation_grid.png``; ``--costs`` writes ``costs.json`` (see ``scripts/activation_grid_costs.py``). Resumable:
the same command again skips the runs already in ``results.json``; different settings in the same ``--out`` are
refused. ``--save-models SEED`` keeps the trained models of those seeds in ``models/`` (for ``--costs``' int8
agreement on trained weights).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

BACKENDS: tuple[str, ...] = ("tensorflow", "jax", "torch")


def backend_from_argv(argv: list[str]) -> str | None:
    """The value of ``--backend`` in ``argv`` (``--backend jax`` or ``--backend=jax``), or ``None``.

    Read before Keras is imported: ``KERAS_BACKEND`` only counts then.

    Example:
        >>> backend_from_argv(["--smoke", "--backend", "jax"]), backend_from_argv(["--backend=torch"])
        ('jax', 'torch')
    """
    for i, arg in enumerate(argv):
        if arg == "--backend" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--backend="):
            return arg.split("=", 1)[1]
    return None


if __name__ == "__main__" and backend_from_argv(sys.argv[1:]) in BACKENDS:
    os.environ["KERAS_BACKEND"] = str(backend_from_argv(sys.argv[1:]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if str(Path(__file__).resolve().parent) not in sys.path:  # the helper modules next to this script
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import activation_grid_stats as stats  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from activation_grid_results import (  # noqa: E402
    ACTIVATIONS,
    INITS,
    MODELS,
    environment,
    load_results,
    machine_label,
    print_plan,
    print_tables,
    write_outputs,
)

import mobseg  # noqa: E402
from mobseg.data import list_pairs, model_dataset  # noqa: E402
from mobseg.data.class_weights import resolve_class_weights  # noqa: E402
from mobseg.data.pipeline import default_loader  # noqa: E402
from mobseg.io.atomic import atomic_write_text  # noqa: E402
from mobseg.training.evaluation import evaluate_dataset  # noqa: E402
from mobseg.training.run_folder import save_model_atomic  # noqa: E402

CAMVID_CLASSES: tuple[str, ...] = ("Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence",
                                   "Car", "Pedestrian", "Bicyclist")  # fmt: skip
#: Settings of costs.json that must be equal to add configurations to it.
COST_KEYS: tuple[str, ...] = ("input_size", "batch_size", "alpha", "backend", "jit_compile", "run_eagerly", "init",
                              "tflite_threads", "latency_runs", "calibration_images", "timing_rounds",
                              "timing_steps")  # fmt: skip
SKIP_STEPS = 3  # first training steps left out of the step time (graph tracing, warm-up)


class Run(NamedTuple):
    """One training of the grid (a named tuple: the script also loads as a module from its file, unregistered).

    Example:
        >>> Run("scratch", "mobilenet_unet", "gelu", True, 1).key
        'scratch|mobilenet_unet|gelu|decoder_on|1'
    """

    init: str
    model: str
    activation: str
    decoder: bool
    seed: int

    @property
    def key(self) -> str:
        """The identifier of the run in results.json."""
        return (
            f"{self.init}|{self.model}|{self.activation}|{'decoder_on' if self.decoder else 'decoder_off'}|{self.seed}"
        )

    @property
    def file_name(self) -> str:
        """The key as a file name (run folders, saved models)."""
        return self.key.replace("|", "__")


def plan_runs(
    seeds: list[int], inits: list[str], models: list[str], activations: list[str], decoder_on: list[str]
) -> list[Run]:
    """Every run of the grid in run order: seed-major, then init, model, decoder off before on, activation.

    Example:
        >>> [r.key for r in plan_runs([0, 1], ["scratch"], ["m"], ["relu6", "elu"], ["relu6"])][:4]
        ['scratch|m|relu6|decoder_off|0', 'scratch|m|elu|decoder_off|0', 'scratch|m|relu6|decoder_on|0', \
'scratch|m|relu6|decoder_off|1']
    """
    return [
        Run(init, model, activation, decoder, seed)
        for seed in seeds
        for init in inits
        for model in models
        for decoder, names in ((False, activations), (True, decoder_on))
        for activation in names
    ]


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
        >>> StepTimer().times
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


def load_data(args: argparse.Namespace) -> dict[str, Any]:
    """Training/validation pairs, class names, ignore index and the training image folder of the data source."""
    if args.smoke or args.data is None:
        from mobseg.datasets import make_shapes

        root = args.shapes_dir or os.path.join(tempfile.gettempdir(), "mobseg_activation_grid_shapes")
        data = make_shapes(root, n_train=args.shapes_train, n_val=args.shapes_val, size=(64, 64), seed=0)
        source = f"make_shapes(n_train={args.shapes_train}, n_val={args.shapes_val}, size=(64, 64), seed=0)"
        train_pairs = list_pairs(data.train_images, data.train_masks)
        val_pairs = list_pairs(data.val_images, data.val_masks)
        names, ignore, images = list(data.class_names), None, str(data.train_images)
    else:
        root = args.data
        source = os.path.abspath(root)
        train_pairs = list_pairs(os.path.join(root, "train"), os.path.join(root, "trainannot"))
        val_pairs = list_pairs(os.path.join(root, "val"), os.path.join(root, "valannot"))
        names, ignore, images = list(CAMVID_CLASSES), 11, os.path.join(root, "train")
    if args.train_limit:
        train_pairs = train_pairs[: args.train_limit]
    if args.val_limit:
        val_pairs = val_pairs[: args.val_limit]
    return {"source": source, "train": train_pairs, "val": val_pairs, "class_names": names, "ignore_index": ignore,
            "train_images": images}  # fmt: skip


def load_imagenet_encoder(model: Any, path: str) -> int:
    """Load the ImageNet MobileNet v1 file into the encoder by layer name; returns the number of layers loaded.

    Like :func:`mobseg.pretrained.load_encoder_weights`, but PReLU layers (named like the ReLU6 layers they
    replace, with weights the file does not have) may stay as built: slopes 0.
    """
    from mobseg.pretrained import load_weights_by_name

    report = load_weights_by_name(model, path)
    prelu = {layer.name for layer in model.layers if isinstance(layer, keras.layers.PReLU)}
    missing = [name for name in report.not_in_file if name not in prelu]
    if report.mismatched or not report.loaded or missing:
        raise ValueError(f"ImageNet weights from {path} do not fit this model:\n{report}")
    return len(report.loaded)


def build_model(run: Run, n_classes: int, args: argparse.Namespace) -> Any:
    """The model of ``run``, seeded (``keras.utils.set_random_seed(run.seed)`` first); ImageNet encoder if asked."""
    keras.utils.set_random_seed(run.seed)
    height, width = args.size
    model = getattr(mobseg, run.model)(
        n_classes,
        input_height=height,
        input_width=width,
        alpha=args.alpha,
        activation=run.activation,
        decoder_activation=run.activation if run.decoder else None,
    )
    if run.init == "imagenet":
        load_imagenet_encoder(model, args.weights)
    return model


def weights_fingerprint(model: Any) -> str:
    """A hash of every weight tensor (in layer order) except PReLU slopes: equal builds, equal fingerprints.

    Example:
        >>> import mobseg
        >>> keras.utils.set_random_seed(0)
        >>> a = weights_fingerprint(mobseg.mobilenet_segnet(2, input_height=32, input_width=32))
        >>> keras.utils.set_random_seed(0)
        >>> a == weights_fingerprint(mobseg.mobilenet_segnet(2, input_height=32, input_width=32, activation="prelu"))
        True
    """
    digest = hashlib.sha256()
    for layer in model.layers:
        if isinstance(layer, keras.layers.PReLU):
            continue
        for weight in layer.weights:
            digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(weight)).tobytes())
    return digest.hexdigest()[:16]


def initial_weights_check(
    model: str, seed: int, args: argparse.Namespace, activations: tuple[str, ...] = ("relu6", "prelu"), n_classes=4
) -> dict[str, Any]:
    """Build ``model`` with each activation under ``seed``: their fingerprints, and whether the first convolution's
    kernel is the same array in every build (the check that only the activation differs).

    Example:
        >>> check = initial_weights_check("mobilenet_segnet", 0, parse_args(["--smoke"]))  # doctest: +SKIP
        >>> check["identical"], check["first_conv_equal"]  # doctest: +SKIP
        (True, True)
    """
    fingerprints, kernels, slopes = {}, {}, {}
    for activation in activations:
        keras.backend.clear_session()
        built = build_model(Run(args.init[0], model, activation, False, seed), n_classes, args)
        fingerprints[activation] = weights_fingerprint(built)
        conv = next(layer for layer in built.layers if isinstance(layer, keras.layers.Conv2D))
        kernels[activation] = keras.ops.convert_to_numpy(conv.kernel)
        prelu = [w for layer in built.layers if isinstance(layer, keras.layers.PReLU) for w in layer.weights]
        slopes[activation] = sum(int(np.prod(w.shape)) for w in prelu)
    first = kernels[activations[0]]
    return {
        "fingerprints": fingerprints,
        "prelu_slopes": slopes,
        "identical": len(set(fingerprints.values())) == 1,
        "first_conv_equal": all(np.array_equal(first, kernels[a]) for a in activations),
    }


def _fit_scratch(model: Any, run: Run, data: dict[str, Any], weights: list[float] | None, args, timer) -> list:
    """Issue 7's recipe: Adam + one cosine decay to 0, class weights, BatchNorm momentum 0.9; the epoch losses."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
    train_ds = model_dataset(model, data["train"], shuffle=True, augment=True, class_weights=weights, cache=True,
                             seed=run.seed, ignore_index=data["ignore_index"], batch_size=args.batch_size)  # fmt: skip
    steps_per_epoch = math.ceil(len(data["train"]) / args.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, decay_steps=steps_per_epoch * args.epochs)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule),
        loss=mobseg.SegmentationCrossentropy(ignore_index=data["ignore_index"]),
        jit_compile=args.jit_compile,
        run_eagerly=args.run_eagerly,
    )
    callbacks = [timer, keras.callbacks.TerminateOnNaN()]
    history = model.fit(train_ds, epochs=args.epochs, verbose=0, shuffle=False, callbacks=callbacks)  # data: shuffled
    return [float(v) for v in history.history.get("loss", [])]


def swap_fine_tune_rate(args: argparse.Namespace) -> float:
    """The pretrained swap's rate after the frozen phase: mobseg 0.2's default, a tenth (1e-3 -> 1e-4).

    Example:
        >>> swap_fine_tune_rate(argparse.Namespace(learning_rate=1e-3, freeze_encoder_epochs=1))
        0.0001
    """
    return args.learning_rate / 10 if args.freeze_encoder_epochs else args.learning_rate


def _fit_imagenet(model: Any, run: Run, data: dict[str, Any], args, timer, folder: Path) -> tuple[Any, list]:
    """mobseg 0.2's default recipe (module doc) into ``folder`` (resumed if a killed run left it); the losses."""
    config = folder / "training.json"
    if config.is_file() and json.loads(config.read_text()).get("status") in ("complete", "failed"):
        shutil.rmtree(folder)  # finished, but its record was never written: train it again
    try:
        trained = mobseg.train(
            pairs=data["train"],
            model=model,
            class_names=data["class_names"],
            ignore_index=data["ignore_index"],
            epochs=args.epochs,
            batch_size=args.batch_size,
            freeze_encoder_epochs=args.freeze_encoder_epochs,
            learning_rate=args.learning_rate,
            # mobseg 0.2's defaults, pinned so every run of results.json has the same recipe (recipes() below)
            fine_tune_learning_rate=swap_fine_tune_rate(args),
            lr_schedule="constant",
            batchnorm_momentum=None,
            class_weights=None,  # mobseg 0.1's default
            cache=True,
            seed=run.seed,
            out=folder,
            verbose=0,
            callbacks=[timer],
        )
    except FloatingPointError:  # mobseg.train's divergence guard: no result
        return model, [math.nan]
    return trained.model, [float(row["loss"]) for row in trained.history]


def train_one(run: Run, data: dict[str, Any], weights: list[float] | None, args, out: Path) -> dict[str, Any]:
    """Train one run of the grid and return its record (val mean IoU, step times, where it ran, ...)."""
    started = time.perf_counter()
    here = environment()
    keras.backend.clear_session()
    model = build_model(run, len(data["class_names"]), args)
    fingerprint = weights_fingerprint(model)
    timer = StepTimer()
    folder = out / "runs" / run.file_name
    train_started = time.perf_counter()
    if run.init == "scratch":
        losses = _fit_scratch(model, run, data, weights, args, timer)
    else:
        model, losses = _fit_imagenet(model, run, data, args, timer, folder)
    train_seconds = time.perf_counter() - train_started
    diverged = not losses or any(not math.isfinite(v) for v in losses) or len(losses) < args.epochs
    val_ds = model_dataset(
        model, data["val"], cache=True, ignore_index=data["ignore_index"], batch_size=args.batch_size
    )
    report = evaluate_dataset(model, val_ds, class_names=data["class_names"], ignore_index=data["ignore_index"])
    if run.seed in args.save_models:
        (out / "models").mkdir(parents=True, exist_ok=True)
        save_model_atomic(model, out / "models" / f"{run.file_name}.keras")
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):
        folder.parent.rmdir()  # runs/, once empty
    timed = timer.times[SKIP_STEPS:] or timer.times or [math.nan]
    return {
        "key": run.key, "init": run.init, "model": run.model, "activation": run.activation,
        "decoder": "on" if run.decoder else "off", "seed": run.seed,
        "val_mean_iou": None if diverged else float(report["mean_iou"]),
        "val_pixel_accuracy": None if diverged else float(report["pixel_accuracy"]),
        "val_class_iou": {c["name"]: c["iou"] for c in report["classes"]},
        "train_loss": losses, "diverged": diverged,
        "step_ms_median": 1000 * statistics.median(timed), "step_ms_p90": 1000 * float(np.percentile(timed, 90)),
        "steps": len(timer.times), "train_seconds": round(train_seconds, 1), "params": int(model.count_params()),
        "init_fingerprint": fingerprint, "output_activation": _output_activation(model), "loader": default_loader(),
        **here, "machine": machine_label(), "wall_seconds": round(time.perf_counter() - started, 1),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }  # fmt: skip


def _output_activation(model: Any) -> str:
    if model.outputs_logits:
        return "none (logits)"
    last = model.layers[-1]
    return str(last.get_config().get("activation") or type(last).__name__.lower())


def recipes(args: argparse.Namespace, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The recipe of each init asked for (recorded in settings; must match to share a results.json)."""
    found: dict[str, dict[str, Any]] = {}
    if "scratch" in args.init:
        found["scratch"] = {
            "epochs": args.epochs, "learning_rate": args.learning_rate,
            "schedule": "Adam, cosine decay from learning_rate to 0 over all steps", "freeze_encoder_epochs": 0,
            "class_weights": "balanced (median frequency, from the training masks)", "batchnorm_momentum": 0.9,
            "loss": "SegmentationCrossentropy", "weights": "from scratch",
        }  # fmt: skip
    if "imagenet" in args.init:
        fine_tune = swap_fine_tune_rate(args)
        found["imagenet"] = {
            "epochs": args.epochs, "learning_rate": args.learning_rate, "fine_tune_learning_rate": fine_tune,
            "freeze_encoder_epochs": args.freeze_encoder_epochs,
            # "mobseg.train default" names 0.2's (settings.versions); the label stays so earlier results still match
            "schedule": "mobseg.train default: Adam, constant rate per phase, no warm-up", "loss": "ce",
            "class_weights": None, "batchnorm_momentum": "as built (Keras default 0.99)",
            "jit_compile": "Keras' auto (XLA on a GPU or under JAX; --jit-compile/--run-eagerly: scratch only)",
            "weights": {"file": os.path.basename(args.weights), "bytes": os.path.getsize(args.weights)},
        }  # fmt: skip
    return found


def make_settings(args: argparse.Namespace, data: dict[str, Any]) -> dict[str, Any]:
    """Everything the grid's numbers depend on, recorded in results.json."""
    here = environment()
    return {
        "data": data["source"],
        "data_name": "synthetic shapes" if (args.smoke or args.data is None) else "CamVid",
        "train_pairs": len(data["train"]),
        "val_pairs": len(data["val"]),
        "input_size": list(args.size),
        "batch_size": args.batch_size,
        "train_limit": args.train_limit,
        "val_limit": args.val_limit,
        "ignore_index": data["ignore_index"],
        "alpha": args.alpha,
        "jit_compile": args.jit_compile,
        "run_eagerly": args.run_eagerly,
        "backend": here["backend"],
        "loader": default_loader(),
        "augment": "mobseg defaults (flip, scale 0.75-1.5, colour jitter), seeded",
        "recipes": recipes(args, data),
        "metric": "val mean IoU after the last epoch, at the model output size (input/2), nearest-resized masks",
        "timing": f"median wall time of a training step, first {SKIP_STEPS} steps left out",
        "order": "seed-major: every configuration of a seed before the next seed",
        "seeds": args.seeds,
        "inits": args.init,
        "models": args.models,
        "activations": args.activations,
        "decoder_on": args.decoder_on,
        "versions": {"mobseg": mobseg.__version__, "keras": keras.__version__},
        "device": here["device"],
        "cpu_count": here["cpu_count"],
    }


def _cost_model_builder(args: argparse.Namespace, n_classes: int, out: Path):
    """``build(model, activation, decoder)`` for the costs: the saved trained model of the grid, else a fresh one."""

    def build(model_name: str, activation: str, decoder: bool) -> Any:
        runs = [Run(args.init[0], model_name, activation, decoder, seed) for seed in sorted(args.save_models or [0])]
        saved = [out / "models" / f"{run.file_name}.keras" for run in runs]
        found = next((path for path in saved if path.is_file()), None)
        if found is not None:
            model = mobseg.load_model(str(found))
            model._grid_weights = f"trained ({found.name})"
        else:
            model = build_model(Run(args.init[0], model_name, activation, decoder, 0), n_classes, args)
            model._grid_weights = "untrained (seed 0" + (", ImageNet encoder)" if args.init[0] == "imagenet" else ")")
        return model

    return build


def run_costs(args: argparse.Namespace, data: dict[str, Any], out: Path) -> int:
    """``--costs``: measure every model x activation not yet in ``costs.json`` (see activation_grid_costs)."""
    from activation_grid_costs import measure_costs

    settings = {
        "input_size": list(args.size), "batch_size": args.batch_size, "alpha": args.alpha,
        "jit_compile": args.jit_compile, "run_eagerly": args.run_eagerly, "init": args.init[0],
        "tflite_threads": args.tflite_threads, "latency_runs": args.latency_runs,
        "calibration_images": args.calibration_images, "calibration_folder": data["train_images"],
        "timing_rounds": args.timing_rounds, "timing_steps": args.timing_steps, **environment(),
    }  # fmt: skip
    path = out / "costs.json"
    costs: dict[str, Any] = {"settings": settings, "configs": {}}
    if path.is_file():
        previous = json.loads(path.read_text())
        changed = [k for k in COST_KEYS if previous["settings"].get(k) != settings.get(k)]
        if changed:
            print(f"{path} was made with other settings ({', '.join(changed)}); choose another --out.")
            return 2
        costs["configs"] = previous.get("configs", {})
    out.mkdir(parents=True, exist_ok=True)

    def save(value: dict[str, Any]) -> None:
        value["written"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        atomic_write_text(json.dumps(value, indent=1), path)

    configs = [(m, a, False) for m in args.models for a in args.activations]
    configs += [(m, a, True) for m in args.models for a in args.decoder_on]
    build = _cost_model_builder(args, len(data["class_names"]), out)
    measure_costs(configs, costs, build, data["train_images"], args, save, machine=machine_label())
    print("\n" + stats.markdown_costs(costs["configs"]))
    print(f"\nwritten: {path}")
    return 0


def _defaults(args: argparse.Namespace) -> None:
    """Fill the options left unset with the full or the smoke setting."""
    smoke = args.smoke
    defaults = {
        "size": (32, 32) if smoke else (64, 96),
        "epochs": 1 if smoke else 8,
        "seeds": [0, 1] if smoke else [0, 1, 2],
        "models": list(MODELS),
        "activations": ["relu6", "swish"] if smoke else list(ACTIVATIONS),
        "decoder_on": ["relu6"] if smoke else ["relu6", "gelu"],
        # smoke under TensorFlow: no graph tracing (seconds instead of tens of seconds per run); JAX compiles
        # faster than it runs eagerly, PyTorch runs eagerly anyway
        "run_eagerly": smoke and keras.backend.backend() == "tensorflow",
        "timing_rounds": 1 if smoke else 3,
        "timing_steps": 1 if smoke else 5,
        "tflite_models": ["mobilenet_segnet"] if smoke else list(MODELS),  # smoke: 4 exports, not 8 (~20 s each)
        "latency_runs": 3 if smoke else 50,
        "calibration_images": 2 if smoke else 32,
        "shapes_train": 8 if smoke else 200,
        "shapes_val": 4 if smoke else 50,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=None, help="CamVid folder (train/, trainannot/, val/, valannot/)")
    p.add_argument("--smoke", action="store_true", help="tiny synthetic setting (make_shapes), for tests")
    p.add_argument("--backend", choices=BACKENDS, default=None, help="Keras backend (sets KERAS_BACKEND first)")
    p.add_argument("--init", nargs="+", choices=INITS, default=["scratch"], help="scratch and/or imagenet")
    p.add_argument("--weights", default=None, help="ImageNet MobileNet v1 .h5 (mobilenet_1_0_224_tf_no_top.h5)")
    p.add_argument("--models", nargs="+", choices=MODELS, default=None)
    p.add_argument("--activations", nargs="+", default=None, help=f"encoder activations ({' '.join(ACTIVATIONS)})")
    p.add_argument("--decoder-on", nargs="*", default=None, help="activations also run with the decoder's on")
    p.add_argument("--seeds", type=int, nargs="+", default=None)
    p.add_argument("--size", type=parse_size, default=None, help="HEIGHTxWIDTH, multiples of 16 (64x96)")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--learning-rate", type=float, default=1e-3, help="peak of the cosine / first phase's rate")
    p.add_argument("--freeze-encoder-epochs", type=int, default=1, help="imagenet: epochs with the encoder frozen")
    p.add_argument("--alpha", type=float, default=1.0, help="MobileNet width multiplier")
    p.add_argument("--train-limit", type=int, default=0, help="use only the first N training pairs (0: all)")
    p.add_argument("--val-limit", type=int, default=0, help="use only the first N validation pairs (0: all)")
    p.add_argument("--shapes-dir", default=None, help="where synthetic data is written (default: temp dir)")
    p.add_argument("--shapes-train", type=int, default=None)
    p.add_argument("--shapes-val", type=int, default=None)
    p.add_argument("--jit-compile", choices=("auto", "on", "off"), default="auto",
                   help="XLA-compile training steps (auto: on under JAX, off otherwise: per-op kernels)")  # fmt: skip
    p.add_argument("--run-eagerly", action=argparse.BooleanOptionalAction, default=None, help="default: smoke only")
    p.add_argument("--max-runs", type=int, default=0, help="stop after N new runs (0: all); resume later")
    p.add_argument("--plan", action="store_true", help="print the runs not done yet and an estimate; train nothing")
    p.add_argument("--save-models", type=int, nargs="*", default=[], metavar="SEED", help="keep these seeds' models")
    p.add_argument("--costs", action="store_true", help="measure the cost per activation into costs.json; no training")
    p.add_argument("--no-tflite", action="store_true", help="--costs without the TFLite exports")
    p.add_argument("--tflite-models", nargs="+", choices=MODELS, default=None, help="models exported (default: all)")
    p.add_argument("--tflite-threads", type=int, default=1, help="TFLite interpreter threads (1: like a phone core)")
    p.add_argument("--latency-runs", type=int, default=None, help="TFLite calls timed per file")
    p.add_argument("--calibration-images", type=int, default=None, help="int8 calibration images")
    p.add_argument("--timing-rounds", type=int, default=None, help="interleaved timing rounds (0: none)")
    p.add_argument("--timing-steps", type=int, default=None, help="steps per configuration and round")
    p.add_argument("--out", default="results/activation_grid")
    args = p.parse_args(argv)
    _defaults(args)
    args.jit_compile = {"on": True, "off": False}.get(args.jit_compile, keras.backend.backend() == "jax")
    unknown = [a for a in [*args.activations, *args.decoder_on] if a not in mobseg.list_activations()]
    if unknown:
        p.error(f"unknown activations {unknown}; known: {mobseg.list_activations()}")
    if any(v % 16 for v in args.size):
        p.error(f"--size {args.size}: height and width must be multiples of 16")
    if "imagenet" in args.init and not (args.weights and os.path.isfile(args.weights)):
        p.error(f"--init imagenet needs --weights PATH of mobilenet_1_0_224_tf_no_top.h5 (got {args.weights})")
    if "imagenet" in args.init and args.alpha != 1.0:
        p.error("--init imagenet: the ImageNet file is for --alpha 1.0")
    if args.backend and args.backend != keras.backend.backend():
        p.error(f"--backend {args.backend}: Keras was imported with {keras.backend.backend()} before the flag was read "
                "(run this file as a script, or set KERAS_BACKEND)")  # fmt: skip
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the grid (skipping runs already in results.json), ``--plan`` it, or measure ``--costs``."""
    args = parse_args(argv)
    out = Path(args.out)
    here = environment()
    print(f"backend {here['backend']}, keras {here['keras_version']}, {here['device']}, {here['cpu_count']} CPUs, "
          f"load {here['load_avg']}")  # fmt: skip
    data = load_data(args)
    if args.costs:
        return run_costs(args, data, out)
    results = load_results(out, make_settings(args, data))
    if results is None:
        return 2
    costs = json.loads((out / "costs.json").read_text()) if (out / "costs.json").is_file() else {}
    plan = plan_runs(args.seeds, args.init, args.models, args.activations, args.decoder_on)
    done = {run["key"] for run in results["runs"]}
    todo = [run for run in plan if run.key not in done]
    if args.plan:
        print_plan(todo, results, costs, data, args)
        return 0
    print(f"{len(plan)} runs planned, {len(plan) - len(todo)} already in {out}/results.json, {len(todo)} to do")
    weights = None
    if any(run.init == "scratch" for run in todo):
        weights = resolve_class_weights("balanced", len(data["class_names"]), data["train"], data["ignore_index"])
        results["settings"]["class_weight_values"] = [round(w, 4) for w in weights]
    out.mkdir(parents=True, exist_ok=True)
    for run in todo[: args.max_runs or None]:
        record = train_one(run, data, weights, args, out)
        results["runs"].append(record)
        write_outputs(out, results, costs)
        print(f"[{time.strftime('%H:%M:%S')}] {record['key']:48} val mIoU {stats._fmt(record['val_mean_iou'])}  "
              f"{record['step_ms_median']:.0f} ms/step  {record['wall_seconds']:.0f} s", flush=True)  # fmt: skip
    if results["runs"]:
        write_outputs(out, results, costs)
        print_tables(results, costs)
        print(f"\nwritten: {out}/results.json, results.csv, summary.csv, paired.csv, activation_grid.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
