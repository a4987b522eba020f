"""The run configuration: the layout of a run folder's ``training.json`` and its life (running, complete, failed)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, fields
from typing import Any

import keras

from mobseg._version import __version__
from mobseg.data.masks import parse_colors
from mobseg.data.pipeline import default_loader
from mobseg.model import SegmentationModel
from mobseg.optional import tensorflow_version
from mobseg.training.arguments import TrainArguments
from mobseg.training.run_folder import RunFolder, write_json

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
    "lr_schedule",
    "optimizer",
    "weight_decay",
    "clipnorm",
    "loss",
    "early_stopping",
    "ignore_index",
    "class_weights",
    "mask_format",
    "augment",
    "batchnorm_momentum",
    "data",
    "mixed_precision",
)

#: Keys written only once they are known (a failed run has ``error``; a complete one the other four).
_OUTCOME_KEYS = ("error", "finished", "last_session_seconds", "result", "files")


def _now() -> str:
    return datetime.datetime.now().isoformat(timespec="seconds")


@dataclass
class RunConfig:
    """What ``training.json`` holds: how a run is trained and, once it ends, how it went.

    The fields are the file's keys in the file's order. ``status`` is ``"running"`` while training,
    then ``"complete"`` (adding ``finished``, ``last_session_seconds``, ``result`` and ``files``) or
    ``"failed"`` (adding ``error``). The keys in :data:`RESUME_KEYS` must match for an unfinished run
    in the same folder to be resumed.

    Example:
        >>> config = RunConfig.describe(args, model, class_weights=None, frozen_layers=0)  # doctest: +SKIP
        >>> config.begin(RunFolder("runs/x"))  # doctest: +SKIP
        >>> RunFolder("runs/x").read_config()["status"]  # doctest: +SKIP
        'running'
    """

    model: dict[str, Any]
    n_classes: int
    class_names: list[str]
    input_size: list[int]
    output_size: list[int]
    channels: int
    head: str
    logits: bool
    preprocessing: str
    ignore_index: int | None
    class_weights: dict[str, Any]
    mask_format: str
    colors: list | None
    epochs: int
    freeze_encoder_epochs: int
    frozen_layers: int
    batch_size: int
    optimizer: str
    weight_decay: float
    clipnorm: float | None
    learning_rate: float
    fine_tune_learning_rate: float
    lr_schedule: dict[str, Any]
    loss: str
    early_stopping: dict[str, Any] | None
    batchnorm_momentum: float | None
    augment: dict[str, Any] | None
    cache: bool
    seed: int
    monitor: str
    data: dict[str, Any]
    distribute: dict[str, Any] | None
    mixed_precision: str | None
    loader: str
    backend: str
    versions: dict[str, str]
    status: str = "running"
    started: str | None = None
    resumed: int = 0
    error: str | None = None
    finished: str | None = None
    last_session_seconds: float | None = None
    result: dict[str, Any] | None = None
    files: dict[str, str] | None = None

    @classmethod
    def describe(
        cls, args: TrainArguments, model: SegmentationModel, *, class_weights: list[float] | None, frozen_layers: int
    ) -> RunConfig:
        """The configuration of a run of ``model`` with checked ``args`` (status ``running``)."""
        return cls(
            model={"name": model.registry_name or model.name, "kwargs": model.build_kwargs},
            n_classes=model.n_classes,
            class_names=model.class_names,
            input_size=[int(v) for v in model.input_size],
            output_size=list(model.output_size),
            channels=model.channels,
            head=model.head,
            logits=model.outputs_logits,
            preprocessing=model.preprocessing,
            ignore_index=args.ignore_index,
            class_weights={"setting": _weights_setting(args.class_weights), "values": class_weights},
            mask_format=args.mask_format,
            colors=_json_colors(args.colors),
            epochs=args.epochs,
            freeze_encoder_epochs=args.freeze_encoder_epochs,
            frozen_layers=frozen_layers,
            batch_size=args.batch_size,
            optimizer=args.optimization.optimizer,
            weight_decay=args.optimization.weight_decay,
            clipnorm=args.optimization.clipnorm,
            learning_rate=args.learning_rate,
            fine_tune_learning_rate=args.fine_tune_learning_rate,
            lr_schedule=args.optimization.record(),
            loss=args.optimization.loss,
            early_stopping=_early_stopping(args),
            batchnorm_momentum=args.batchnorm_momentum,
            augment=args.augmentation.to_dict() if args.augmentation else None,
            cache=bool(args.cache),
            seed=args.seed,
            monitor=args.monitor,
            data=_describe_data(args),
            distribute=args.distribution.describe(),
            mixed_precision=args.mixed_precision,
            loader=default_loader(),
            backend=keras.backend.backend(),
            versions={"mobseg": __version__, "keras": keras.__version__, "tensorflow": tensorflow_version()},
        )

    def to_json(self) -> dict[str, Any]:
        """The ``training.json`` content: ``status`` first, then the settings, then what is known of the outcome."""
        record: dict[str, Any] = {"status": self.status}
        for item in fields(self):
            if item.name != "status" and item.name not in _OUTCOME_KEYS:
                record[item.name] = getattr(self, item.name)
        record.update((key, getattr(self, key)) for key in _OUTCOME_KEYS if getattr(self, key) is not None)
        return record

    def begin(self, folder: RunFolder) -> None:
        """Check that ``folder`` can take this run, then record the start in a new ``training.json``.

        A new or empty folder starts a run; one holding an unfinished run with the same settings resumes it.
        Raises ``ValueError`` for a folder that holds something else, a finished or failed run, or an
        unfinished run with different settings.
        """
        previous = self._previous_run(folder)
        self.started = (previous or {}).get("started") or _now()
        self.resumed = previous.get("resumed", -1) + 1 if previous else 0
        folder.root.mkdir(parents=True, exist_ok=True)
        write_json(self.to_json(), folder.training_json)

    def fail(self, folder: RunFolder, error: str) -> None:
        """Mark the run failed (it cannot be resumed) with the one-sentence ``error``."""
        self.status, self.error = "failed", error
        write_json(self.to_json(), folder.training_json)

    def complete(
        self,
        folder: RunFolder,
        *,
        history: list[dict[str, Any]],
        best_epoch: int | None,
        best_value: float | None,
        session_seconds: float,
        stop_reason: str | None = None,
    ) -> None:
        """Mark the run complete: when it finished, how long this session took, its results and its files.

        ``stop_reason`` says why the run ended before its last epoch (early stopping); ``result.stopped_early``
        records it (``None``: every epoch ran).
        """
        self.status, self.finished = "complete", _now()
        self.last_session_seconds = round(session_seconds, 1)
        self.result = {
            "epochs_done": len(history),
            "best_epoch": best_epoch,
            f"best_{self.monitor}": best_value,
            "stopped_early": stop_reason,
            "final": history[-1] if history else {},
        }
        self.files = {
            "model": folder.model_file.name,
            "history": folder.history_csv.name,
            "curves": folder.curves_png.name,
            "best_checkpoint": "checkpoints/best.keras",
            "last_checkpoint": "checkpoints/last.keras",
        }
        write_json(self.to_json(), folder.training_json)

    def _previous_run(self, folder: RunFolder) -> dict[str, Any] | None:
        previous = folder.read_config()
        if previous is None:
            if folder.root.exists() and any(p for p in folder.root.iterdir() if not p.name.startswith(".")):
                raise ValueError(
                    f"{folder.root} exists and is not a mobseg run folder (no training.json); "
                    "choose a new --out folder."
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
        current = self.to_json()
        changed = [k for k in RESUME_KEYS if previous.get(k) != current.get(k)]
        if changed:
            details = ", ".join(_difference(k, previous.get(k), current.get(k)) for k in changed)
            raise ValueError(
                f"{folder.root} holds an unfinished run with different settings ({details}); "
                "resume it with the same settings, or choose a new --out folder."
            )
        return previous


def _difference(key: str, before: Any, now: Any) -> str:
    """``key`` with both values when they are short (``class_weights: run none, now balanced_sqrt``), else the key."""

    def short(value: Any) -> str:
        if isinstance(value, dict) and "setting" in value:  # class_weights: its mode names it
            value = value["setting"]
        elif isinstance(value, dict) and "name" in value:  # lr_schedule: its name, unless only its steps differ
            value = value["name"]
        return "none" if value is None else str(value)

    texts = short(before), short(now)
    if texts[0] == texts[1] or max(len(t) for t in texts) > 40:
        return key
    return f"{key}: run {texts[0]}, now {texts[1]}"


def _early_stopping(args: TrainArguments) -> dict[str, Any] | None:
    if args.early_stopping_patience is None:
        return None
    return {"monitor": args.monitor, "patience": args.early_stopping_patience}


def _weights_setting(class_weights: Any) -> str | None:
    return class_weights if isinstance(class_weights, str) or class_weights is None else "list"


def _json_colors(colors: Any) -> list | None:
    if colors is None:
        return None
    return [[list(rgb), label] for rgb, label in parse_colors(colors).items()]


def _describe_data(args: TrainArguments) -> dict[str, Any]:
    return {
        "train_images": None if args.images is None else str(args.images),
        "train_masks": None if args.masks is None else str(args.masks),
        "train_pairs": len(args.train_pairs),
        "val_images": None if args.val_images is None else str(args.val_images),
        "val_masks": None if args.val_masks is None else str(args.val_masks),
        "val_pairs": len(args.validation_pairs),
    }


__all__ = ["RESUME_KEYS", "RunConfig"]
