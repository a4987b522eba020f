"""The run folder: its file names, atomic writes, the history CSV and the PNG plot of the curves.

Layout of ``out/``::

    training.json         how the run was trained (and, at the end, its results); status running/complete
    history.csv           one row per epoch: epoch, phase, learning_rate, loss, mean_iou, val_loss, val_mean_iou
    curves.png            loss and mean IoU per epoch
    model.keras           the final model (written when training completes)
    checkpoints/best.keras, checkpoints/last.keras
    backup/               the state after each epoch and each finished phase, while the run is unfinished
    .lock                 held (flock) by the process that trains into the folder; names it

Every file is written through :func:`mobseg.io.atomic.atomic_path` (a temporary name in the same folder,
moved into place in one step), so a reader (or a killed run) never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mobseg.io.atomic import atomic_path, atomic_write, atomic_write_text, remove_temporary_files


class RunFolder:
    """Paths of one training run's files.

    Example:
        >>> RunFolder("runs/demo").model_file.name
        'model.keras'
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    training_json = property(lambda self: self.root / "training.json")
    history_csv = property(lambda self: self.root / "history.csv")
    curves_png = property(lambda self: self.root / "curves.png")
    model_file = property(lambda self: self.root / "model.keras")
    checkpoints = property(lambda self: self.root / "checkpoints")
    best_checkpoint = property(lambda self: self.root / "checkpoints" / "best.keras")
    last_checkpoint = property(lambda self: self.root / "checkpoints" / "last.keras")
    backup = property(lambda self: self.root / "backup")

    lock_file = property(lambda self: self.root / ".lock")

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the folder for one training process; a second one is refused at once, naming the first.

        The lock is an advisory ``flock`` on ``.lock``: the operating system releases it when its process
        ends, however it ends, so a lock left by a killed process is simply taken over. Inside the block,
        temporary files that interrupted writes left behind are removed; once the run is complete, the
        ``.lock`` file is removed too.

        Example:
            >>> with RunFolder("runs/x").lock():  # doctest: +SKIP
            ...     train_into_the_folder()
        """
        if self.root.exists() and not self.root.is_dir():
            raise ValueError(f"--out {self.root} is a file; give a folder for the run (it is created if needed).")
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.lock_file, "a+")  # noqa: SIM115 (held for the whole block)
        try:
            _take_lock(handle, self.root)
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            handle.flush()
            remove_temporary_files(self.root)
            yield
            if (self.read_config() or {}).get("status") == "complete":  # a finished folder keeps only its results
                self.lock_file.unlink(missing_ok=True)
        finally:
            handle.close()

    def read_config(self) -> dict[str, Any] | None:
        """The ``training.json`` of an earlier run in this folder, or ``None``."""
        if not self.training_json.is_file():
            return None
        return json.loads(self.training_json.read_text())


def _take_lock(handle: Any, root: Path) -> None:
    try:
        try:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # Windows
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        raise ValueError(
            f"another training is writing into {root} ({holder}); wait for it to finish, or choose another --out."
        ) from None


def write_json(data: Any, path: str | os.PathLike) -> str:
    """Write ``data`` as indented JSON, atomically.

    Example:
        >>> write_json({"a": 1}, "out/x.json")  # doctest: +SKIP
        'out/x.json'
    """
    return atomic_write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", path)


def save_model_atomic(model: Any, path: str | os.PathLike) -> str:
    """``model.save(path)`` through a temporary ``.keras`` file moved into place (:func:`atomic_path`).

    A mixed-precision model is saved as its float32 copy (:func:`~mobseg.training.precision.float32_model`),
    so every saved model loads and predicts in float32.

    Example:
        >>> save_model_atomic(model, "runs/x/model.keras")  # doctest: +SKIP
        'runs/x/model.keras'
    """
    from mobseg.training.precision import float32_model

    with atomic_path(path) as temp:
        float32_model(model).save(temp, overwrite=True)
    return os.fspath(path)


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)
    return value


def write_history_csv(rows: list[dict[str, Any]], path: str | os.PathLike) -> str:
    """Write per-epoch rows as CSV (columns: epoch, phase, learning_rate, then metrics sorted), atomically.

    Example:
        >>> write_history_csv([{"epoch": 0, "loss": 1.0}], "out/history.csv")  # doctest: +SKIP
        'out/history.csv'
    """
    first = ["epoch", "phase", "learning_rate"]
    keys = {k for row in rows for k in row}
    columns = [k for k in first if k in keys] + sorted(keys - set(first))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k, "")) for k in columns})
    return atomic_write_text(buffer.getvalue(), path)


def read_history_csv(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Rows of a history CSV (numbers parsed; ``epoch`` as int); an absent file gives ``[]``.

    Example:
        >>> read_history_csv("does/not/exist.csv")
        []
    """
    if not os.path.isfile(path):
        return []
    rows = []
    with open(path, newline="") as stream:
        for raw in csv.DictReader(stream):
            row: dict[str, Any] = {}
            for key, value in raw.items():
                if value in ("", None):
                    continue
                try:
                    row[key] = int(value) if key == "epoch" else float(value)
                except ValueError:
                    row[key] = value
            rows.append(row)
    return rows


def plot_history(rows: list[dict[str, Any]], path: str | os.PathLike, title: str = "") -> str:
    """Plot loss and mean IoU (train and validation) per epoch to a PNG, atomically (Agg backend).

    Example:
        >>> plot_history([{"epoch": 0, "loss": 1.0, "mean_iou": 0.3}], "out/curves.png")  # doctest: +SKIP
        'out/curves.png'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4), dpi=100)
    FigureCanvasAgg(figure)
    epochs = [row["epoch"] + 1 for row in rows]
    for position, (metric, label) in enumerate((("loss", "loss"), ("mean_iou", "mean IoU")), start=1):
        axes = figure.add_subplot(1, 2, position)
        for key, style in ((metric, "-o"), (f"val_{metric}", "-s")):
            points = [(e, row[key]) for e, row in zip(epochs, rows, strict=True) if isinstance(row.get(key), float)]
            points = [(e, v) for e, v in points if not math.isnan(v)]
            if points:
                axes.plot(*zip(*points, strict=True), style, markersize=3, label=key)
        phases = [row.get("phase") for row in rows]
        if "frozen" in phases and "unfrozen" in phases:
            axes.axvline(phases.count("frozen") + 0.5, color="gray", linestyle=":", label="encoder unfrozen")
        axes.set_xlabel("epoch")
        axes.set_ylabel(label)
        axes.grid(alpha=0.3)
        axes.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return atomic_write(path, lambda stream: figure.savefig(stream, format="png"))


__all__ = [
    "RunFolder",
    "plot_history",
    "read_history_csv",
    "save_model_atomic",
    "write_history_csv",
    "write_json",
]
