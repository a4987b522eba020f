"""The phases of a training: an optional frozen-encoder phase, then the whole model; each one ``model.fit``.

Epoch numbers run on across phases. Each phase keeps its state after every epoch in ``out/backup/<phase>``
(:class:`~mobseg.training.callbacks.EpochBackup`: weights and optimizer, written atomically, the last two
kept) and resumes from the newest one; the end of every phase is kept as ``out/backup/<phase>_phase_end.npz``
(its weights), so a run killed at any later moment, the final save included, goes on from there and no
epoch runs twice. A loss or weights that stop being finite, or a loss that explodes, stop the run with
:class:`FloatingPointError` (:class:`~mobseg.training.callbacks.DivergenceGuard`). An error in the input
pipeline is re-raised as the one-sentence ``ValueError`` the data reader gave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from mobseg.io.atomic import atomic_write
from mobseg.losses import SegmentationCrossentropy
from mobseg.training.callbacks import Checkpoints, DivergenceGuard, EpochBackup, HistoryLog
from mobseg.training.distribute import Distribution
from mobseg.training.freezing import set_encoder_trainable
from mobseg.training.precision import loss_scaled
from mobseg.training.run_folder import RunFolder


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
        optimizer=loss_scaled(model, keras.optimizers.Adam(learning_rate=learning_rate)),
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
        >>> model = runner.run(model, plan_phases(epochs=3, freeze_encoder_epochs=0,
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
    data_errors: list[str] = field(default_factory=list)

    def run(self, model: Any, phases: Sequence[Phase], *, copy_into_scope: bool = False) -> Any:
        """Train ``model`` through ``phases``; returns it (same object, trained weights).

        ``copy_into_scope``: train a copy made inside the distribution's scope (a model built outside it).
        """
        given = model
        if copy_into_scope:  # variables must be created inside the strategy's scope
            model = self._fresh_copy(model)
        for phase in phases:
            if self._end_file(phase).is_file():  # an earlier run finished this phase
                self._restore(model, phase)
                continue
            self._fit(model, phase)
            if phase.frozen:
                model = self._end_frozen_phase(model, phase)
            else:
                self._save_end(model, phase)
        if model is not given:  # hand the result back in the caller's model object
            given.set_weights(model.get_weights())
        return given

    def _fit(self, model: Any, phase: Phase) -> None:
        if phase.frozen:
            set_encoder_trainable(model, False, list(self.encoder_layers))
        with self._scope():
            compile_for_training(model, phase.learning_rate, ignore_index=self.ignore_index)
        history = HistoryLog(self.folder.history_csv, phase=phase.name)
        guard = DivergenceGuard(history)
        checkpoints = Checkpoints(self.folder.checkpoints, monitor=self.monitor, history=history, guard=guard)
        backup = EpochBackup(self.folder.backup / phase.name, guard=guard)
        start = backup.restore(model, default=phase.first_epoch)
        if start >= phase.end_epoch:  # killed after the phase's last epoch, before its end was recorded
            return
        callbacks = [guard, history, checkpoints, backup, *self.callbacks]
        try:
            with self._scope():
                model.fit(
                    self.train_data,
                    validation_data=self.val_data,
                    initial_epoch=start,
                    epochs=phase.end_epoch,
                    verbose=self.verbose,
                    shuffle=False,
                    callbacks=callbacks,
                )
        except Exception:
            if self.data_errors:  # the reader's own sentence, not the pipeline's traceback
                raise ValueError(self.data_errors[0]) from None
            raise
        if guard.diverged:
            raise FloatingPointError(
                f"training diverged in the {phase.name} phase: {guard.diverged}. The checkpoints hold the last "
                "finite epoch; lower the learning rate (e.g. learning_rate=1e-4) and train into a new --out folder."
            )

    def _end_frozen_phase(self, model: Any, phase: Phase) -> Any:
        """Unfreeze, keep the phase's weights for a resumed run and go on with a fresh copy (:func:`fresh_copy`)."""
        set_encoder_trainable(model, True, list(self.encoder_layers))
        self._save_end(model, phase)
        return self._fresh_copy(model)

    def _save_end(self, model: Any, phase: Phase) -> None:
        weights = model.get_weights()
        atomic_write(self._end_file(phase), lambda stream: np.savez(stream, *weights))

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
