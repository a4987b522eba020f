"""Resume-aware callbacks: the per-epoch history CSV, best/last checkpoints, the epoch backup, the divergence guard.

All files are written atomically (:func:`mobseg.io.atomic.atomic_path`), and nothing is written for an epoch
whose loss or weights are not finite (:class:`DivergenceGuard` decides, first in the callback list).

Both work with ``keras.callbacks.BackupAndRestore``: when a run resumes at epoch ``k``, rows of
epochs ``>= k`` left by the interrupted run are dropped (so no epoch is lost or repeated) and the
best value so far is taken from the kept rows (so ``best.keras`` is only replaced by a better model).
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any

import keras
import numpy as np

from mobseg.io.atomic import atomic_copy, atomic_path
from mobseg.training.run_folder import read_history_csv, save_model_atomic, write_history_csv


class HistoryLog(keras.callbacks.Callback):
    """Append one row per epoch to a CSV (rewritten atomically each epoch); resumes cleanly.

    Example:
        >>> log = HistoryLog("runs/x/history.csv", phase="unfrozen")
        >>> model.fit(ds, epochs=3, callbacks=[log])  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike, phase: str = ""):
        super().__init__()
        self.path = Path(path)
        self.phase = phase
        self.rows: list[dict[str, Any]] = read_history_csv(self.path)
        self._started = False

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if not self._started:
            self.rows = [row for row in read_history_csv(self.path) if row.get("epoch", 0) < epoch]
            self._started = True

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        row: dict[str, Any] = {"epoch": int(epoch)}
        if self.phase:
            row["phase"] = self.phase
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            row["learning_rate"] = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        for key, value in (logs or {}).items():
            if key == "learning_rate":
                continue
            try:
                row[key] = float(value)
            except (TypeError, ValueError):
                continue
        self.rows = [r for r in self.rows if r.get("epoch") != epoch] + [row]
        write_history_csv(self.rows, self.path)


class Checkpoints(keras.callbacks.Callback):
    """Save ``last.keras`` after every epoch and ``best.keras`` when ``monitor`` improves (atomic files).

    ``history`` (a :class:`HistoryLog` earlier in the callback list) supplies the best value of a run
    that is resuming.

    Example:
        >>> cb = Checkpoints("runs/x/checkpoints", monitor="val_mean_iou", history=log)  # doctest: +SKIP
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        monitor: str = "val_mean_iou",
        mode: str = "max",
        history: HistoryLog | None = None,
        guard: DivergenceGuard | None = None,
    ):
        super().__init__()
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min'; got {mode!r}.")
        self.folder = Path(folder)
        self.monitor = monitor
        self.mode = mode
        self.history = history
        self.guard = guard
        self.best: float | None = None
        self.best_epoch: int | None = None
        self._started = False

    def _better(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.best is None:
            return True
        return value > self.best if self.mode == "max" else value < self.best

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self._started:
            return
        self._started = True
        self.best, self.best_epoch = None, None
        rows = self.history.rows if self.history is not None else []
        for row in rows:
            value = row.get(self.monitor)
            if isinstance(value, float) and row.get("epoch", 0) < epoch and self._better(value):
                self.best, self.best_epoch = value, row["epoch"]

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.guard is not None and self.guard.diverged:
            return  # never a checkpoint with the weights of a diverged epoch
        last = self.folder / "last.keras"
        save_model_atomic(self.model, last)
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        value = float(value)
        if self._better(value):
            self.best, self.best_epoch = value, int(epoch)
            atomic_copy(last, self.folder / "best.keras")


#: An epoch loss this many times the lowest epoch loss so far counts as divergence (the loss exploded).
EXPLOSION_FACTOR = 100.0


def weights_are_finite(model: keras.Model) -> bool:
    """True when every weight of ``model`` is finite (no NaN or Inf).

    Example:
        >>> import keras
        >>> weights_are_finite(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
        True
    """
    return all(np.all(np.isfinite(w)) for w in model.get_weights())


class DivergenceGuard(keras.callbacks.Callback):
    """Stop training at a non-finite loss or weights, or at an exploding loss, and say why.

    A batch with a NaN/Inf loss stops at once. At the end of an epoch the loss must be finite, the weights
    finite, and the loss at most :data:`EXPLOSION_FACTOR` times the lowest epoch loss of the run so far
    (``history`` rows of earlier sessions count). ``diverged`` then holds the reason; the checkpoint and
    backup callbacks write nothing for that epoch, so no file ever receives non-finite weights.

    Example:
        >>> guard = DivergenceGuard()
        >>> guard.diverged is None
        True
    """

    def __init__(self, history: HistoryLog | None = None, factor: float = EXPLOSION_FACTOR):
        super().__init__()
        self.history = history
        self.factor = float(factor)
        self.diverged: str | None = None
        self._lowest: float | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        rows = self.history.rows if self.history is not None else []
        losses = [r["loss"] for r in rows if isinstance(r.get("loss"), float) and math.isfinite(r["loss"])]
        self._lowest = min(losses) if losses else None

    def _stop(self, reason: str) -> None:
        self.diverged = reason
        self.model.stop_training = True

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self._stop(f"the loss became {float(loss)} at batch {batch + 1}")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.diverged:
            self.diverged = f"{self.diverged} of epoch {epoch + 1}"
            return
        loss = float((logs or {}).get("loss", 0.0))
        if not math.isfinite(loss):
            self._stop(f"the loss of epoch {epoch + 1} is {loss}")
        elif not weights_are_finite(self.model):
            self._stop(f"the weights became non-finite in epoch {epoch + 1}")
        elif self._lowest is not None and loss > self.factor * max(self._lowest, 1e-12):
            self._stop(
                f"the loss exploded in epoch {epoch + 1}: {loss:.4g}, over {self.factor:g} times its lowest "
                f"value so far ({self._lowest:.4g})"
            )
        else:
            self._lowest = loss if self._lowest is None else min(self._lowest, loss)


def best_row(history: list[dict[str, Any]], monitor: str) -> tuple[int | None, float | None]:
    """(epoch, value) of the first epoch with the highest finite ``monitor`` in the history (the best checkpoint).

    Example:
        >>> best_row([{"epoch": 0, "m": 0.5}, {"epoch": 1, "m": 0.7}, {"epoch": 2, "m": 0.7}], "m")
        (1, 0.7)
    """
    best: tuple[int | None, float | None] = (None, None)
    for row in history:
        value = row.get(monitor)
        if isinstance(value, float) and math.isfinite(value) and (best[1] is None or value > best[1]):
            best = (int(row["epoch"]), value)
    return best


def stall_reason(history: list[dict[str, Any]], monitor: str, patience: int) -> str | None:
    """Why a run should stop early: ``monitor`` has not improved for ``patience`` epochs; ``None`` if it has.

    "Improved" means a value above every earlier one. The decision depends on the history rows only, so a
    resumed run (whose rows are read back from ``history.csv``) decides exactly as the uninterrupted one.

    Example:
        >>> rows = [{"epoch": e, "m": v} for e, v in enumerate([0.5, 0.6, 0.6, 0.55])]
        >>> stall_reason(rows, "m", 2)
        'm did not improve for 2 epochs after its best, 0.6000 at epoch 2 (stopped after epoch 4)'
        >>> stall_reason(rows, "m", 3) is None
        True
    """
    if not history:
        return None
    best_epoch, best_value = best_row(history, monitor)
    last_epoch = max(int(row["epoch"]) for row in history)
    if best_epoch is None or last_epoch - best_epoch < patience:
        return None
    return (
        f"{monitor} did not improve for {patience} epochs after its best, {best_value:.4f} at epoch {best_epoch + 1} "
        f"(stopped after epoch {last_epoch + 1})"
    )


class EarlyStop(keras.callbacks.Callback):
    """Stop training once ``monitor`` has not improved for ``patience`` epochs (:func:`stall_reason`).

    ``history`` (a :class:`HistoryLog` earlier in the callback list) supplies the rows, those of earlier
    sessions included; ``reason`` says why it stopped (``None`` while it has not). Nothing is decided at
    ``last_epoch`` (the run's last), where the run ends anyway.

    Example:
        >>> stop = EarlyStop(log, monitor="val_mean_iou", patience=5)  # doctest: +SKIP
    """

    def __init__(
        self,
        history: HistoryLog,
        monitor: str,
        patience: int,
        guard: DivergenceGuard | None = None,
        last_epoch: int | None = None,
    ):
        super().__init__()
        self.history = history
        self.monitor = monitor
        self.patience = int(patience)
        self.guard = guard
        self.last_epoch = last_epoch
        self.reason: str | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if (self.guard is not None and self.guard.diverged) or (
            self.last_epoch is not None and epoch >= self.last_epoch
        ):
            return
        rows = [row for row in self.history.rows if row.get("epoch", 0) <= epoch]
        self.reason = stall_reason(rows, self.monitor, self.patience)
        if self.reason:
            self.model.stop_training = True


class EpochBackup(keras.callbacks.Callback):
    """After every epoch, the training state (weights and optimizer) in ``folder/epoch-NNNN.weights.h5``.

    Each file is written atomically and the last two are kept, so a kill at any moment leaves at least one
    complete state; :meth:`restore` loads the newest one that reads (an unreadable one, e.g. from a disk
    that filled up, is skipped). Unlike ``keras.callbacks.BackupAndRestore``, which overwrites its file in
    place and deletes the backup when ``fit`` returns (before the run's final model is saved), the files
    stay until the run folder is finished.

    Example:
        >>> backup = EpochBackup("runs/x/backup/train")  # doctest: +SKIP
        >>> first_epoch = backup.restore(model, default=0)  # doctest: +SKIP
    """

    def __init__(self, folder: str | os.PathLike, guard: DivergenceGuard | None = None, keep: int = 2):
        super().__init__()
        self.folder = Path(folder)
        self.guard = guard
        self.keep = keep

    def states(self) -> list[tuple[int, Path]]:
        """``(epochs done, file)`` of the saved states, newest first."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.glob("epoch-*.weights.h5"):
            try:
                found.append((int(path.name[len("epoch-") :].split(".")[0]), path))
            except ValueError:
                continue
        return sorted(found, reverse=True)

    def restore(self, model: keras.Model, *, default: int) -> int:
        """Load the newest readable state into ``model`` (compiled); returns its epochs done, else ``default``."""
        for epochs_done, path in self.states():
            try:
                if model.optimizer is not None and not model.optimizer.built:
                    model.optimizer.build(model.trainable_variables)
                model.load_weights(path)
            except Exception as err:  # a damaged file: fall back to the one before
                warnings.warn(f"Skipping the unreadable backup {path} ({type(err).__name__}).", stacklevel=2)
                continue
            return epochs_done
        return default

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.guard is not None and self.guard.diverged:
            return
        with atomic_path(self.folder / f"epoch-{epoch + 1:04d}.weights.h5", suffix=".weights.h5") as temp:
            self.model.save_weights(temp, overwrite=True)
        for _, old in self.states()[self.keep :]:
            old.unlink(missing_ok=True)


__all__ = [
    "Checkpoints",
    "DivergenceGuard",
    "EarlyStop",
    "EpochBackup",
    "HistoryLog",
    "best_row",
    "stall_reason",
    "weights_are_finite",
]
