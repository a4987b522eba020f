"""The phases of a training: an optional frozen-encoder phase, then the whole model; each one ``model.fit``.

Epoch numbers run on across phases. Each phase resumes through ``keras.callbacks.BackupAndRestore`` in
``out/backup/<phase>``; the end of the frozen phase is kept as ``out/backup/frozen_phase_end.npz`` (its
weights), so a run resumed later in the unfrozen phase starts that phase from them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from mobseg.io.atomic import atomic_write
from mobseg.losses import SegmentationCrossentropy
from mobseg.training.callbacks import Checkpoints, HistoryLog
from mobseg.training.distribute import Distribution
from mobseg.training.freezing import set_encoder_trainable
from mobseg.training.run_folder import RunFolder, read_history_csv


@dataclass(frozen=True)
class Phase:
    """One ``model.fit``: epochs ``first_epoch`` .. ``end_epoch - 1`` at one learning rate, encoder frozen or not.

    ``name`` is what history.csv's ``phase`` column says: ``"frozen"``, ``"unfrozen"`` or ``"train"``.

    Example:
        >>> Phase("train", 0, 10, 1e-3).epochs
        10
    """

    name: str
    first_epoch: int
    end_epoch: int
    learning_rate: float
    frozen: bool = False

    @property
    def epochs(self) -> int:
        """How many epochs the phase runs."""
        return self.end_epoch - self.first_epoch


def plan_phases(
    *, epochs: int, freeze_encoder_epochs: int, learning_rate: float, fine_tune_learning_rate: float
) -> list[Phase]:
    """The phases of a run: the frozen-encoder phase (if any) at ``learning_rate``, then the rest of the epochs.

    Example:
        >>> [p.name for p in plan_phases(epochs=5, freeze_encoder_epochs=2, learning_rate=1e-3,
        ...                              fine_tune_learning_rate=1e-4)]
        ['frozen', 'unfrozen']
    """
    phases = []
    if freeze_encoder_epochs:
        phases.append(Phase("frozen", 0, freeze_encoder_epochs, learning_rate, frozen=True))
    if epochs > freeze_encoder_epochs:
        name = "unfrozen" if freeze_encoder_epochs else "train"
        phases.append(Phase(name, freeze_encoder_epochs, epochs, fine_tune_learning_rate))
    return phases


def compile_for_training(model: Any, learning_rate: float, *, ignore_index: int | None = None) -> None:
    """Compile ``model`` as :func:`mobseg.train` does: Adam, mobseg's cross-entropy and mean IoU (sample-weighted).

    Example:
        >>> compile_for_training(model, 1e-3, ignore_index=255)  # doctest: +SKIP
    """
    from mobseg.metrics import MeanIoU

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=SegmentationCrossentropy(ignore_index=ignore_index, from_logits=model.outputs_logits),
        weighted_metrics=[MeanIoU(model.n_classes, ignore_index=ignore_index)],
    )


def fresh_copy(model: Any) -> Any:
    """The same model (architecture and weights) as a new object.

    A ``fit()`` that ``BackupAndRestore`` restored leaves the restored epoch on the model object, and a
    later ``fit()`` of that object (the next phase) would start from it; a fresh object carries no such
    state, using only public Keras API.

    Example:
        >>> copy = fresh_copy(model)  # doctest: +SKIP
    """
    copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy


@dataclass
class PhaseRunner:
    """Runs the phases of one training into a run folder, resuming a phase that an earlier run began.

    Example:
        >>> runner = PhaseRunner(RunFolder("runs/x"), train_ds, None, monitor="mean_iou")  # doctest: +SKIP
        >>> model, checkpoints = runner.run(model, plan_phases(epochs=3, freeze_encoder_epochs=0,
        ...     learning_rate=1e-3, fine_tune_learning_rate=1e-3))  # doctest: +SKIP
    """

    folder: RunFolder
    train_data: Any
    val_data: Any
    monitor: str
    ignore_index: int | None = None
    encoder_layers: Sequence[str] = ()
    distribution: Distribution = field(default_factory=Distribution)
    callbacks: Sequence[keras.callbacks.Callback] = ()
    verbose: int = 1

    def run(self, model: Any, phases: Sequence[Phase], *, copy_into_scope: bool = False) -> tuple[Any, Any]:
        """Train ``model`` through ``phases``; returns it (same object, trained weights) and the last
        phase's :class:`Checkpoints` (``None`` if every phase was already done).

        ``copy_into_scope``: train a copy made inside the distribution's scope (a model built outside it).
        """
        given = model
        if copy_into_scope:  # variables must be created inside the strategy's scope
            model = self._fresh_copy(model)
        checkpoints = None
        for phase in phases:
            if self._end_file(phase).is_file():  # an earlier run finished this phase
                self._restore(model, phase)
                continue
            checkpoints = self._fit(model, phase)
            if phase.frozen:
                model = self._end_frozen_phase(model, phase)
        if model is not given:  # hand the result back in the caller's model object
            given.set_weights(model.get_weights())
        return given, checkpoints

    def _fit(self, model: Any, phase: Phase) -> Checkpoints:
        if phase.frozen:
            set_encoder_trainable(model, False, list(self.encoder_layers))
        with self._scope():
            compile_for_training(model, phase.learning_rate, ignore_index=self.ignore_index)
        history = HistoryLog(self.folder.history_csv, phase=phase.name)
        checkpoints = Checkpoints(self.folder.checkpoints, monitor=self.monitor, mode="max", history=history)
        backup = keras.callbacks.BackupAndRestore(str(self.folder.backup / phase.name), double_checkpoint=True)
        with self._scope():
            model.fit(
                self.train_data,
                validation_data=self.val_data,
                initial_epoch=phase.first_epoch,
                epochs=phase.end_epoch,
                verbose=self.verbose,
                shuffle=False,
                callbacks=[backup, history, checkpoints, keras.callbacks.TerminateOnNaN(), *self.callbacks],
            )
        self._check_finite(phase)
        return checkpoints

    def _check_finite(self, phase: Phase) -> None:
        rows = read_history_csv(self.folder.history_csv)
        if any(isinstance(row.get("loss"), float) and math.isnan(row["loss"]) for row in rows):
            raise FloatingPointError(
                f"Training diverged in the {phase.name} phase (the loss became NaN); lower the learning rate "
                "(e.g. learning_rate=1e-4) and train again into a new --out folder."
            )

    def _end_frozen_phase(self, model: Any, phase: Phase) -> Any:
        """Unfreeze, keep the phase's weights for a resumed run and go on with a fresh copy (:func:`fresh_copy`)."""
        set_encoder_trainable(model, True, list(self.encoder_layers))
        weights = model.get_weights()
        atomic_write(self._end_file(phase), lambda stream: np.savez(stream, *weights))
        return self._fresh_copy(model)

    def _restore(self, model: Any, phase: Phase) -> None:
        with np.load(self._end_file(phase)) as arrays:
            model.set_weights([arrays[f"arr_{i}"] for i in range(len(arrays.files))])

    def _end_file(self, phase: Phase) -> Path:
        return self.folder.backup / f"{phase.name}_phase_end.npz"

    def _fresh_copy(self, model: Any) -> Any:
        with self._scope():
            return fresh_copy(model)

    def _scope(self) -> Any:
        return self.distribution.scope()


__all__ = ["Phase", "PhaseRunner", "compile_for_training", "fresh_copy", "plan_phases"]
