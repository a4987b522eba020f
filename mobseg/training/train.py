"""``mobseg.train``: fine-tune a segmentation model on image/mask folders with ``model.fit``.

Phases: an optional frozen-encoder phase (``freeze_encoder_epochs``; frozen BatchNorm stays in
inference mode) at ``learning_rate``, then the whole model at ``fine_tune_learning_rate`` (default
``0.3 * learning_rate`` after a frozen phase). By default a model whose encoder was loaded from pretrained
weights gets one frozen epoch, any other none. Epoch numbers run on across phases. One epoch is one pass over
the training pairs.

Defaults: the recipe that won on CamVid's held-out sequences (BENCHMARKS.md): ``balanced_sqrt`` class weights,
a cosine rate over the whole run, BatchNorm momentum 0.9, one frozen epoch for a pretrained encoder.

Recipe: ``loss`` is ``"ce"`` (cross-entropy, the default), ``"dice"``, ``"focal"``, ``"lovasz"`` (Lovász-softmax,
a surrogate of IoU) or a weighted sum such as ``"ce+dice"`` or ``"ce+0.5*lovasz"`` (:mod:`mobseg.losses`); class
weights (``"balanced_sqrt"``, the default, ``"balanced"``, ``"balanced_log"``, ``None`` or one per class) weigh
every term per pixel. ``lr_schedule`` (``"cosine"``, the default, ``"polynomial"``: power 0.9, ``"constant"``) is
one per-step curve over the whole run, both phases, after a linear warm-up of ``warmup_epochs`` (fractions
allowed); each phase's rate is its base rate times the curve (:mod:`mobseg.schedules`). ``optimizer`` is
``"adam"`` or ``"adamw"`` (decoupled ``weight_decay``, default 0.01, not applied to biases and BatchNorm);
``clipnorm`` clips the global norm of each step's gradients. ``early_stopping_patience=N`` stops once the
validation mean IoU has not improved for N epochs (validation data needed): the run ends ``complete`` with
the reason in ``training.json`` (``result.stopped_early``); the final model is the last epoch's,
``checkpoints/best.keras`` the best. All of it is recorded in ``training.json`` and must match to resume.

Resume: running again with the same ``out`` folder continues an unfinished run where it stopped (the state
after every epoch is kept in ``out/backup``, see :mod:`mobseg.training.phases`); the settings must be the
same. A folder that holds a finished run is refused (use a new ``out``).

Faults: one process at a time trains into ``out`` (a second is refused at once, naming the first; a lock
left by a dead process is taken over). A run killed at any moment, the final save included, or stopped by a
full disk resumes with the same call and loses at most the epoch in progress; temporary files of interrupted
writes are removed. A loss or weights that stop being finite, or a loss that explodes, end the run with
``FloatingPointError`` (status ``failed``) and no checkpoint receives those weights. With
``verify_data=True`` (the default) every pair is read before anything is written and all problems are
reported in one ``ValueError``; with ``False``, a bad file met during training ends the run with the
reader's one sentence naming it.

Distribution (``distribute=``, see :mod:`mobseg.training.distribute`): ``"mirrored"``
(``tf.distribute.MirroredStrategy``: the GPUs of this machine), ``"multi_worker"``
(``MultiWorkerMirroredStrategy``, machines listed in ``TF_CONFIG``), ``"data_parallel"`` (JAX:
``keras.distribution.DataParallel`` over all devices), or a strategy / distribution object. ``batch_size``
is the global batch, split across the replicas; a model passed in is rebuilt inside the strategy's scope
(same config and weights) and the trained weights are copied back into it.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import keras

from mobseg.data.augment import Augmentation
from mobseg.data.class_weights import resolve_class_weights
from mobseg.data.pairs import Pair
from mobseg.data.pipeline import model_dataset
from mobseg.data.verify import verify_dataset
from mobseg.model import SegmentationModel
from mobseg.training.arguments import TrainArguments
from mobseg.training.callbacks import best_row
from mobseg.training.freezing import encoder_layer_names
from mobseg.training.phases import PhaseRunner, plan_phases
from mobseg.training.precision import with_precision
from mobseg.training.run_config import RESUME_KEYS, RunConfig
from mobseg.training.run_folder import RunFolder, plot_history, read_history_csv, save_model_atomic
from mobseg.zoo.registry import build_model


@dataclass
class TrainingRun:
    """What :func:`train` returns: the trained model, its history and where everything was written.

    Example:
        >>> run = mobseg.train(images="img", masks="masks", n_classes=3, out="runs/x")  # doctest: +SKIP
        >>> run.best_value, run.run_dir  # doctest: +SKIP
        (0.71, 'runs/x')
    """

    model: Any
    run_dir: str
    history: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    monitor: str = "val_mean_iou"
    best_epoch: int | None = None
    best_value: float | None = None
    stopped_early: str | None = None

    @property
    def final(self) -> dict[str, Any]:
        """The last epoch's row of the history."""
        return self.history[-1] if self.history else {}


def train(
    images: str | os.PathLike | None = None,
    masks: str | os.PathLike | None = None,
    *,
    n_classes: int | None = None,
    val_images: str | os.PathLike | None = None,
    val_masks: str | os.PathLike | None = None,
    pairs: Sequence[tuple[str, str] | Pair] | None = None,
    val_pairs: Sequence[tuple[str, str] | Pair] | None = None,
    model: Any = "mobilenet_segnet",
    model_kwargs: dict[str, Any] | None = None,
    input_size: tuple[int, int] | None = None,
    epochs: int = 10,
    batch_size: int = 8,
    freeze_encoder_epochs: int | None = None,
    learning_rate: float = 1e-3,
    fine_tune_learning_rate: float | None = None,
    lr_schedule: str = "cosine",
    warmup_epochs: float = 0.0,
    optimizer: str = "adam",
    weight_decay: float | None = None,
    clipnorm: float | None = None,
    loss: str = "ce",
    class_weights: str | Sequence[float] | None = "balanced_sqrt",
    ignore_index: int | None = None,
    class_names: Sequence[str] | None = None,
    mask_format: str = "index",
    colors: Any = None,
    augment: Augmentation | bool | dict | None = True,
    cache: bool = False,
    out: str | os.PathLike = "runs/train",
    seed: int = 0,
    verbose: int = 1,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    num_parallel_calls: int | None = None,
    batchnorm_momentum: float | None = 0.9,
    distribute: Any = None,
    verify_data: bool = True,
    early_stopping_patience: int | None = None,
    mixed_precision: str | None = None,
) -> TrainingRun:
    """Train (fine-tune) a segmentation model on image/mask folders and write a run folder.

    Args:
        images, masks: folders paired by file stem (or ``pairs=[(image, mask), ...]``).
        n_classes: number of classes (labels 0..n_classes-1; ``ignore_index`` is extra).
        val_images, val_masks / val_pairs: validation data; its mean IoU picks the best checkpoint.
        model: a registry name (built with ``n_classes``, ``input_size`` and ``model_kwargs``) or a model.
        input_size: (height, width) of the model input; images are resized to it.
        epochs, freeze_encoder_epochs: all epochs (one pass over the training pairs each); the first ones frozen
            (default: 1 if the encoder is pretrained and epochs > 1, else 0; see ``has_pretrained_encoder``).
        learning_rate, fine_tune_learning_rate: base rates of the two phases (second: 0.3x after a frozen phase).
        lr_schedule, warmup_epochs, optimizer, weight_decay, clipnorm, loss, early_stopping_patience, class_weights:
            the recipe ("Recipe" in the module doc; ``lr_schedule="constant"`` for callbacks that set the rate).
        ignore_index: label value counted in neither loss nor metrics (e.g. 255, or 11 for CamVid).
        class_names: one name per class (stored in ``model.architecture["class_names"]``).
        mask_format, colors: how masks are read (see :mod:`mobseg.data.masks`).
        augment, cache: ``True``/``False``, a dict or an :class:`~mobseg.data.Augmentation`; keep decoded images.
        out: the run folder; the same folder again resumes an unfinished run.
        callbacks, num_parallel_calls: extra Keras callbacks for both phases; tf.data parallelism (None: auto).
        batchnorm_momentum: set on every BatchNormalization layer (0.9; Keras' 0.99 lags); ``None``: the model's.
        distribute, verify_data: data parallelism (``"mirrored"``, ...), read every pair first (module doc).
        mixed_precision: ``"bfloat16"``/``"float16"``: train in 16 bits, save float32 (:mod:`.training.precision`).

    Returns:
        A :class:`TrainingRun` (its folder: ``model.keras``, ``training.json``, ``history.csv``, ``checkpoints/``).

    Example:
        >>> data = mobseg.datasets.make_shapes("shapes", n_train=64, n_val=16, size=(64, 64))  # doctest: +SKIP
        >>> run = mobseg.train(data.train_images, data.train_masks, n_classes=4, val_images=data.val_images,
        ...     val_masks=data.val_masks, input_size=(64, 64), loss="ce+lovasz", out="runs/shapes")  # doctest: +SKIP
    """
    args = TrainArguments(**locals()).check()  # every parameter above, by name (nothing else is defined yet)
    started = time.time()
    model = _prepare_model(args)
    if args.verify_data:
        _verify_data(args, model.n_classes)
    folder = RunFolder(args.out)
    with folder.lock():
        return _train_in_folder(args, model, folder, started)


def _verify_data(args: TrainArguments, n_classes: int) -> None:
    """Read every pair once; one ``ValueError`` listing every problem, before anything is written."""
    problems, notes = [], []
    for what, pairs in (("training", args.train_pairs), ("validation", args.validation_pairs)):
        if not pairs:
            continue
        report = verify_dataset(
            pairs=pairs,
            n_classes=n_classes,
            ignore_index=args.ignore_index,
            mask_format=args.mask_format,
            colors=args.colors,
        )
        problems += [f"  {what}: {problem}" for problem in report.problems]
        notes += report.warnings
    for note in dict.fromkeys(notes):
        print(f"note: {note}")
    if problems:
        count = f"{len(problems)} problem{'s' * (len(problems) != 1)}"
        raise ValueError(
            f"the data has {count}; fix them (`mobseg verify` checks a folder), or skip this check with "
            "verify_data=False (--no-verify):\n" + "\n".join(problems)
        )


def _train_in_folder(args: TrainArguments, model: SegmentationModel, folder: RunFolder, started: float) -> TrainingRun:
    """The run itself, holding the folder's lock: configuration, phases, final files."""
    class_weights = resolve_class_weights(
        args.class_weights, model.n_classes, args.train_pairs, args.ignore_index, args.mask_format, args.colors
    )
    encoder_layers = encoder_layer_names(model) if args.freeze_encoder_epochs else []
    config = RunConfig.describe(args, model, class_weights=class_weights, frozen_layers=len(encoder_layers))
    config.begin(folder)
    keras.utils.set_random_seed(args.seed)
    runner = _phase_runner(args, model, folder, class_weights, encoder_layers)
    phases = plan_phases(
        epochs=args.epochs,
        freeze_encoder_epochs=args.freeze_encoder_epochs,
        learning_rate=args.learning_rate,
        fine_tune_learning_rate=args.fine_tune_learning_rate,
    )
    try:
        model = _run_phases(args, runner, model, phases)
    except FloatingPointError as err:  # diverged: the run is failed, not resumable
        config.fail(folder, str(err))
        raise
    return _finish(model, folder, config, session_seconds=time.time() - started, stop_reason=runner.stop_reason)


def _run_phases(args: TrainArguments, runner: PhaseRunner, model: SegmentationModel, phases: list) -> Any:
    """Train ``model`` through ``phases``; with mixed precision a 16-bit copy trains and its weights come back."""
    if args.mixed_precision is None:
        return runner.run(model, phases, copy_into_scope=args.distribution.active and not args.built_by_name)
    with args.distribution.scope():
        training_copy = with_precision(model, args.mixed_precision)
    model.set_weights(runner.run(training_copy, phases).get_weights())
    return model


def _prepare_model(args: TrainArguments) -> SegmentationModel:
    """The model to train: built by name (in the distribution's scope) or checked, with class names and BN momentum."""
    with args.distribution.scope():
        model = _build(args) if args.built_by_name else _check_given_model(args)
    model.class_names = args.class_names  # checked (one per class) by the setter; None gives class_0, ...
    if args.ignore_index is not None and 0 <= args.ignore_index < model.n_classes:
        name = model.class_names[args.ignore_index]
        print(f"note: ignore_index={args.ignore_index} is also a class index; class {name!r} is never learned.")
    if args.batchnorm_momentum is not None:
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = args.batchnorm_momentum
    return model


def _build(args: TrainArguments) -> SegmentationModel:
    if args.n_classes is None:
        raise ValueError("n_classes is required to build a model by name (e.g. n_classes=3 or --n-classes 3).")
    kwargs = dict(args.model_kwargs or {})
    if args.input_size is not None:
        kwargs["input_height"], kwargs["input_width"] = (int(v) for v in args.input_size)
    return build_model(args.model, args.n_classes, **kwargs)


def _check_given_model(args: TrainArguments) -> SegmentationModel:
    model = args.model
    if not isinstance(model, SegmentationModel):
        raise ValueError("model must be a registry name (e.g. 'mobilenet_segnet') or a mobseg SegmentationModel.")
    if args.model_kwargs or args.input_size is not None:
        raise ValueError("model_kwargs and input_size apply to a model built by name; this model is already built.")
    if args.n_classes is not None and args.n_classes != model.n_classes:
        raise ValueError(
            f"n_classes={args.n_classes} but the model predicts {model.n_classes} classes; "
            "rebuild it with model.rebuild(n_classes=...)."
        )
    return model


def _phase_runner(
    args: TrainArguments,
    model: SegmentationModel,
    folder: RunFolder,
    class_weights: list[float] | None,
    encoder_layers: list[str],
) -> PhaseRunner:
    """The input pipelines and everything the phases share."""
    common = {
        "mask_format": args.mask_format,
        "colors": args.colors,
        "ignore_index": args.ignore_index,
        "num_parallel_calls": args.num_parallel_calls,
        "batch_size": args.batch_size,
        "cache": args.cache,
    }
    augment, seed = args.augmentation, args.seed
    errors: list[str] = []
    common["errors"] = errors
    train_data = model_dataset(
        model, args.train_pairs, shuffle=True, augment=augment, class_weights=class_weights, seed=seed, **common
    )
    val_data = model_dataset(model, args.validation_pairs, **common) if args.validation_pairs else None
    return PhaseRunner(
        folder,
        train_data,
        val_data,
        monitor=args.monitor,
        ignore_index=args.ignore_index,
        encoder_layers=encoder_layers,
        distribution=args.distribution,
        callbacks=list(args.callbacks),
        verbose=args.verbose,
        data_errors=errors,
        optimization=args.optimization,
        early_stopping_patience=args.early_stopping_patience,
    )


def _finish(
    model: SegmentationModel, folder: RunFolder, config: RunConfig, *, session_seconds: float, stop_reason: str | None
) -> TrainingRun:
    """Save the final model, the curves and ``status: complete`` (in that order), then drop the backup."""
    history = read_history_csv(folder.history_csv)
    save_model_atomic(model, folder.model_file)
    plot_history(history, folder.curves_png, title=f"{config.model['name']} - {folder.root.name}")
    best_epoch, best_value = best_row(history, config.monitor)
    config.complete(
        folder,
        history=history,
        best_epoch=best_epoch,
        best_value=best_value,
        session_seconds=session_seconds,
        stop_reason=stop_reason,
    )
    shutil.rmtree(folder.backup, ignore_errors=True)
    return TrainingRun(
        model=model,
        run_dir=str(folder.root),
        history=history,
        config=config.to_json(),
        monitor=config.monitor,
        best_epoch=best_epoch,
        best_value=best_value,
        stopped_early=stop_reason,
    )


__all__ = ["RESUME_KEYS", "TrainingRun", "train"]
