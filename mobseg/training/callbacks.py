"""Resume-aware callbacks: the per-epoch history CSV and the best/last checkpoints, written atomically.

Both work with ``keras.callbacks.BackupAndRestore``: when a run resumes at epoch ``k``, rows of
epochs ``>= k`` left by the interrupted run are dropped (so no epoch is lost or repeated) and the
best value so far is taken from the kept rows (so ``best.keras`` is only replaced by a better model).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import keras

from mobseg.io.atomic import atomic_copy
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
    ):
        super().__init__()
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min'; got {mode!r}.")
        self.folder = Path(folder)
        self.monitor = monitor
        self.mode = mode
        self.history = history
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
        last = self.folder / "last.keras"
        save_model_atomic(self.model, last)
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        value = float(value)
        if self._better(value):
            self.best, self.best_epoch = value, int(epoch)
            atomic_copy(last, self.folder / "best.keras")


__all__ = ["Checkpoints", "HistoryLog"]
