"""``mobseg.train``: fine-tune a segmentation model on image/mask folders with ``model.fit``.

Phases: an optional frozen-encoder phase (``freeze_encoder_epochs``; frozen BatchNorm stays in
inference mode) at ``learning_rate``, then the whole model at ``fine_tune_learning_rate`` (default
``learning_rate / 10`` after a frozen phase). Epoch numbers run on across phases. One epoch is one
pass over the training pairs.

Resume: running again with the same ``out`` folder continues an unfinished run where it stopped
(``keras.callbacks.BackupAndRestore`` in ``out/backup``); the settings must be the same. A folder that
holds a finished run is refused (use a new ``out``).
"""

from __future__ import annotations

import datetime
import math
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from mobseg.data.augment import Augmentation
from mobseg.data.class_weights import resolve_class_weights
from mobseg.data.masks import check_mask_format, parse_colors
from mobseg.data.pairs import Pair, list_pairs
from mobseg.data.pipeline import model_dataset
from mobseg.losses import SegmentationCrossentropy
from mobseg.training.callbacks import Checkpoints, HistoryLog
from mobseg.training.distribute import Distribution
from mobseg.training.freezing import encoder_layer_names, set_encoder_trainable
from mobseg.training.run_folder import (
    RunFolder,
    plot_history,
    read_history_csv,
    save_model_atomic,
    write_json,
)

#: training.json keys that must match for a run to be resumed.
RESUME_KEYS: tuple[str, ...] = (
    "model",
    "n_classes",
    "input_size",
    "epochs",
    "freeze_encoder_epochs",
    "batch_size",
    "learning_rate",
    "fine_tune_learning_rate",
    "ignore_index",
    "class_weights",
    "mask_format",
    "augment",
    "batchnorm_momentum",
    "data",
)


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

    @property
    def final(self) -> dict[str, Any]:
        """The last epoch's row of the history."""
        return self.history[-1] if self.history else {}


def _as_pairs(images: Any, masks: Any, pairs: Any, what: str) -> list[Pair] | None:
    if images is None and masks is None and pairs is None:
        return None
    try:
        return list_pairs(images, masks, pairs=pairs)
    except ValueError as err:
        raise ValueError(f"{what} data: {err}") from None


def _build(model: Any, n_classes: int | None, input_size: Any, model_kwargs: dict | None) -> Any:
    from mobseg.zoo import build_model

    if isinstance(model, str):
        if n_classes is None:
            raise ValueError("n_classes is required to build a model by name (e.g. n_classes=3 or --n-classes 3).")
        kwargs = dict(model_kwargs or {})
        if input_size is not None:
            kwargs["input_height"], kwargs["input_width"] = (int(v) for v in input_size)
        return build_model(model, n_classes, **kwargs)
    if not hasattr(model, "architecture") or "output_size" not in getattr(model, "architecture", {}):
        raise ValueError("model must be a registry name (e.g. 'mobilenet_segnet') or a mobseg SegmentationModel.")
    if model_kwargs or input_size is not None:
        raise ValueError("model_kwargs and input_size apply to a model built by name; this model is already built.")
    model_classes = int(model.outputs[0].shape[-1])
    if n_classes is not None and n_classes != model_classes:
        raise ValueError(
            f"n_classes={n_classes} but the model predicts {model_classes} classes; "
            "rebuild it with model.rebuild(n_classes=...)."
        )
    return model


def _json_colors(colors: Any) -> list | None:
    if colors is None:
        return None
    return [[list(rgb), label] for rgb, label in parse_colors(colors).items()]


def _compile(model: Any, learning_rate: float, n_classes: int, ignore_index: int | None) -> None:
    from mobseg.metrics import MeanIoU

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=SegmentationCrossentropy(ignore_index=ignore_index, from_logits=bool(model.architecture.get("logits"))),
        weighted_metrics=[MeanIoU(n_classes, ignore_index=ignore_index)],
    )


def _check_resume(folder: RunFolder, config: dict[str, Any]) -> dict[str, Any] | None:
    previous = folder.read_config()
    if previous is None:
        if folder.root.exists() and any(p for p in folder.root.iterdir() if not p.name.startswith(".")):
            raise ValueError(
                f"{folder.root} exists and is not a mobseg run folder (no training.json); choose a new --out folder."
            )
        return None
    status = previous.get("status")
    if status == "complete":
        raise ValueError(
            f"{folder.root} already holds a finished run (its model is {folder.model_file}); "
            "choose a new --out folder to train again."
        )
    if status == "failed":
        raise ValueError(f"{folder.root} holds a failed run ({previous.get('error')}); choose a new --out folder.")
    changed = [k for k in RESUME_KEYS if previous.get(k) != config.get(k)]
    if changed:
        raise ValueError(
            f"{folder.root} holds an unfinished run with different settings ({', '.join(changed)}); "
            "resume it with the same settings, or choose a new --out folder."
        )
    return previous


def _fit_phase(
    model: Any,
    train_ds: Any,
    val_ds: Any,
    *,
    folder: RunFolder,
    phase: str,
    initial_epoch: int,
    epochs: int,
    monitor: str,
    verbose: int,
    callbacks: Sequence[keras.callbacks.Callback],
    distribution: Distribution,
) -> Checkpoints:
    history = HistoryLog(folder.history_csv, phase=phase)
    checkpoints = Checkpoints(folder.checkpoints, monitor=monitor, mode="max", history=history)
    backup = keras.callbacks.BackupAndRestore(str(folder.backup / phase), double_checkpoint=True)
    with distribution.scope():
        model.fit(
            train_ds,
            validation_data=val_ds,
            initial_epoch=initial_epoch,
            epochs=epochs,
            verbose=verbose,
            shuffle=False,
            callbacks=[backup, history, checkpoints, keras.callbacks.TerminateOnNaN(), *callbacks],
        )
    rows = read_history_csv(folder.history_csv)
    if any(isinstance(row.get("loss"), float) and math.isnan(row["loss"]) for row in rows):
        raise FloatingPointError(
            f"Training diverged in the {phase} phase (the loss became NaN); lower the learning rate "
            "(e.g. learning_rate=1e-4) and train again into a new --out folder."
        )
    return checkpoints


def _fresh_copy(model: Any) -> Any:
    """The same model (architecture and weights) as a new object.

    A ``fit()`` that ``BackupAndRestore`` restored leaves the restored epoch on the model object, and a
    later ``fit()`` of that object (the next phase) would start from it; a fresh object carries no such
    state, using only public Keras API.
    """
    copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy


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
    freeze_encoder_epochs: int = 0,
    learning_rate: float = 1e-3,
    fine_tune_learning_rate: float | None = None,
    class_weights: str | Sequence[float] | None = None,
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
    batchnorm_momentum: float | None = None,
    distribute: Any = None,
) -> TrainingRun:
    """Train (fine-tune) a segmentation model on image/mask folders and write a run folder.

    Args:
        images, masks: folders paired by file stem (or ``pairs=[(image, mask), ...]``).
        n_classes: number of classes (labels 0..n_classes-1; ``ignore_index`` is extra).
        val_images, val_masks / val_pairs: validation data; the best checkpoint is chosen by its mean IoU
            (by the training mean IoU when there is none).
        model: a registry name (built with ``n_classes``, ``input_size`` and ``model_kwargs``) or a model.
        input_size: (height, width) of the model input; images are resized to it.
        epochs: total epochs, frozen phase included; one epoch is one pass over the training pairs.
        freeze_encoder_epochs: first epochs with the encoder frozen (BatchNorm in inference mode).
        learning_rate, fine_tune_learning_rate: Adam learning rates of the two phases.
        class_weights: ``None``, a list (one per class) or ``"balanced"`` (median-frequency balancing).
        ignore_index: label value counted in neither loss nor metrics (e.g. 255, or 11 for CamVid).
        class_names: one name per class (stored in ``model.architecture["class_names"]``).
        mask_format, colors: how masks are read (see :mod:`mobseg.data.masks`).
        augment: ``True`` (defaults), ``False``, a dict or an :class:`~mobseg.data.Augmentation`.
        cache: keep decoded images in memory after the first epoch.
        out: the run folder; the same folder again resumes an unfinished run.
        callbacks: extra Keras callbacks for both phases.
        num_parallel_calls: tf.data parallelism (``None``: autotuned).
        batchnorm_momentum: if given, set on every BatchNormalization layer before training. Keras' default
            0.99 makes the moving statistics lag for hundreds of steps, so short runs evaluate poorly;
            0.9 (PyTorch's 0.1) suits short fine-tunes and small datasets.
        distribute: data-parallel training on an existing engine (see :mod:`mobseg.training.distribute`):
            ``None`` (one device), ``"mirrored"`` (``tf.distribute.MirroredStrategy``: the GPUs of this
            machine), ``"multi_worker"`` (``MultiWorkerMirroredStrategy``, machines listed in ``TF_CONFIG``),
            ``"data_parallel"`` (JAX: ``keras.distribution.DataParallel`` over all devices), or a strategy /
            distribution object. ``batch_size`` is the global batch, split across the replicas; a model
            passed in is rebuilt inside the strategy's scope (same config and weights) and the trained
            weights are copied back into it.

    Returns:
        A :class:`TrainingRun`; the run folder holds ``model.keras``, ``training.json``,
        ``history.csv``, ``curves.png`` and ``checkpoints/{best,last}.keras``.

    Example:
        >>> data = mobseg.datasets.make_shapes("shapes", n_train=64, n_val=16, size=(64, 64))  # doctest: +SKIP
        >>> run = mobseg.train(data.train_images, data.train_masks, n_classes=4,
        ...                    val_images=data.val_images, val_masks=data.val_masks,
        ...                    input_size=(64, 64), epochs=5, out="runs/shapes")  # doctest: +SKIP
    """
    started = time.time()
    train_pairs = _as_pairs(images, masks, pairs, "Training")
    if train_pairs is None:
        raise ValueError("No training data: give images= and masks= folders, or pairs=[(image, mask), ...].")
    validation_pairs = _as_pairs(val_images, val_masks, val_pairs, "Validation")
    for name, value, low in (
        ("epochs", epochs, 1),
        ("batch_size", batch_size, 1),
        ("freeze_encoder_epochs", freeze_encoder_epochs, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    if freeze_encoder_epochs > epochs:
        raise ValueError(f"freeze_encoder_epochs={freeze_encoder_epochs} is more than epochs={epochs}.")
    if ignore_index is not None and (isinstance(ignore_index, bool) or not isinstance(ignore_index, int)):
        raise ValueError(f"ignore_index must be an integer label value (e.g. 255) or None; got {ignore_index!r}.")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0; got {learning_rate}.")
    if fine_tune_learning_rate is None:
        fine_tune_learning_rate = learning_rate / 10 if freeze_encoder_epochs else learning_rate
    mask_format = check_mask_format(mask_format, colors)
    aug = Augmentation.from_value(augment)

    dist = Distribution.resolve(distribute)
    if dist.replicas > 1 and batch_size % dist.replicas:
        raise ValueError(
            f"batch_size={batch_size} (the global batch) must be a multiple of the {dist.replicas} replicas."
        )
    built_by_name = isinstance(model, str)
    with dist.scope():  # a model built by name is built inside the strategy's scope
        model = _build(model, n_classes, input_size, model_kwargs)
    n_classes = int(model.outputs[0].shape[-1])
    from mobseg.metrics import check_class_names

    names = check_class_names(list(class_names) if class_names is not None else None, n_classes)
    if ignore_index is not None and 0 <= ignore_index < n_classes:
        print(
            f"note: ignore_index={ignore_index} is also a class index; class {names[ignore_index]!r} is never learned."
        )
    weights = resolve_class_weights(class_weights, n_classes, train_pairs, ignore_index, mask_format, colors)
    encoder_names = encoder_layer_names(model) if freeze_encoder_epochs else []
    if batchnorm_momentum is not None:
        if not 0 <= batchnorm_momentum < 1:
            raise ValueError(f"batchnorm_momentum must be in [0, 1); got {batchnorm_momentum}.")
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = float(batchnorm_momentum)
    architecture = model.architecture
    architecture["class_names"] = names
    monitor = "val_mean_iou" if validation_pairs else "mean_iou"
    folder = RunFolder(out)
    config: dict[str, Any] = {
        "status": "running",
        "model": {"name": architecture.get("name", model.name), "kwargs": architecture.get("kwargs", {})},
        "n_classes": n_classes,
        "class_names": names,
        "input_size": [int(v) for v in model.inputs[0].shape[1:3]],
        "output_size": list(architecture["output_size"]),
        "channels": int(model.inputs[0].shape[-1]),
        "head": architecture.get("head", "flat"),
        "logits": bool(architecture.get("logits", False)),
        "preprocessing": architecture.get("preprocessing", "none"),
        "ignore_index": ignore_index,
        "class_weights": {
            "setting": class_weights if isinstance(class_weights, str) or class_weights is None else "list",
            "values": weights,
        },
        "mask_format": mask_format,
        "colors": _json_colors(colors),
        "epochs": epochs,
        "freeze_encoder_epochs": freeze_encoder_epochs,
        "frozen_layers": len(encoder_names),
        "batch_size": batch_size,
        "optimizer": "adam",
        "learning_rate": learning_rate,
        "fine_tune_learning_rate": fine_tune_learning_rate,
        "loss": "SegmentationCrossentropy (sample-weighted mean)",
        "batchnorm_momentum": batchnorm_momentum,
        "augment": aug.to_dict() if aug else None,
        "cache": bool(cache),
        "seed": seed,
        "monitor": monitor,
        "data": {
            "train_images": None if images is None else str(images),
            "train_masks": None if masks is None else str(masks),
            "train_pairs": len(train_pairs),
            "val_images": None if val_images is None else str(val_images),
            "val_masks": None if val_masks is None else str(val_masks),
            "val_pairs": len(validation_pairs or []),
        },
        "distribute": dist.describe(),
        "backend": keras.backend.backend(),
        "versions": {"mobseg": _mobseg_version(), "keras": keras.__version__, "tensorflow": _tf_version()},
    }
    previous = _check_resume(folder, config)
    config["started"] = (previous or {}).get("started") or datetime.datetime.now().isoformat(timespec="seconds")
    config["resumed"] = (previous or {}).get("resumed", -1) + 1 if previous else 0
    folder.root.mkdir(parents=True, exist_ok=True)
    write_json(config, folder.training_json)

    keras.utils.set_random_seed(seed)
    common = {
        "mask_format": mask_format,
        "colors": colors,
        "ignore_index": ignore_index,
        "num_parallel_calls": num_parallel_calls,
        "batch_size": batch_size,
    }
    train_ds = model_dataset(
        model, train_pairs, shuffle=True, augment=aug, class_weights=weights, cache=cache, seed=seed, **common
    )
    val_ds = model_dataset(model, validation_pairs, cache=cache, **common) if validation_pairs else None
    phase_args = {
        "folder": folder,
        "monitor": monitor,
        "verbose": verbose,
        "callbacks": list(callbacks),
        "distribution": dist,
    }
    phase1_weights = folder.backup / "frozen_phase_end.npz"
    given_model = model
    if dist.active and not built_by_name:  # variables must be created inside the strategy's scope
        with dist.scope():
            model = _fresh_copy(model)
    checkpoints = None
    try:
        if freeze_encoder_epochs and not phase1_weights.is_file():
            set_encoder_trainable(model, False, encoder_names)
            with dist.scope():
                _compile(model, learning_rate, n_classes, ignore_index)
            checkpoints = _fit_phase(
                model, train_ds, val_ds, phase="frozen", initial_epoch=0, epochs=freeze_encoder_epochs, **phase_args
            )
            set_encoder_trainable(model, True, encoder_names)
            _save_arrays(model.get_weights(), phase1_weights)
            with dist.scope():
                model = _fresh_copy(model)
        elif freeze_encoder_epochs:
            with np.load(phase1_weights) as arrays:
                model.set_weights([arrays[f"arr_{i}"] for i in range(len(arrays.files))])
        if epochs > freeze_encoder_epochs:
            with dist.scope():
                _compile(model, fine_tune_learning_rate, n_classes, ignore_index)
            checkpoints = _fit_phase(
                model,
                train_ds,
                val_ds,
                phase="unfrozen" if freeze_encoder_epochs else "train",
                initial_epoch=freeze_encoder_epochs,
                epochs=epochs,
                **phase_args,
            )
    except FloatingPointError as err:
        config.update(status="failed", error=str(err))
        write_json(config, folder.training_json)
        raise
    if freeze_encoder_epochs:
        set_encoder_trainable(model, True, encoder_names)
    if model is not given_model:  # hand the result back in the caller's model object
        given_model.set_weights(model.get_weights())
        model = given_model

    rows = read_history_csv(folder.history_csv)
    save_model_atomic(model, folder.model_file)
    plot_history(rows, folder.curves_png, title=f"{config['model']['name']} - {Path(out).name}")
    best_epoch = checkpoints.best_epoch if checkpoints else None
    best_value = checkpoints.best if checkpoints else None
    config.update(
        status="complete",
        finished=datetime.datetime.now().isoformat(timespec="seconds"),
        last_session_seconds=round(time.time() - started, 1),
        result={
            "epochs_done": len(rows),
            "best_epoch": best_epoch,
            f"best_{monitor}": best_value,
            "final": rows[-1] if rows else {},
        },
        files={
            "model": folder.model_file.name,
            "history": folder.history_csv.name,
            "curves": folder.curves_png.name,
            "best_checkpoint": "checkpoints/best.keras",
            "last_checkpoint": "checkpoints/last.keras",
        },
    )
    write_json(config, folder.training_json)
    shutil.rmtree(folder.backup, ignore_errors=True)
    return TrainingRun(
        model=model,
        run_dir=str(folder.root),
        history=rows,
        config=config,
        monitor=monitor,
        best_epoch=best_epoch,
        best_value=best_value,
    )


def _save_arrays(arrays: list[np.ndarray], path: Path) -> None:
    from mobseg.io.atomic import atomic_write

    atomic_write(path, lambda stream: np.savez(stream, *arrays))


def _mobseg_version() -> str:
    import mobseg

    return getattr(mobseg, "__version__", "unknown")


def _tf_version() -> str:
    import tensorflow as tf

    return tf.__version__


__all__ = ["RESUME_KEYS", "TrainingRun", "train"]
