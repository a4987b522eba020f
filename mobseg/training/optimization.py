"""How a run optimizes: its loss, optimizer (Adam or AdamW), gradient clipping and learning-rate schedule.

:class:`Optimization` holds these settings for the whole run; :meth:`Optimization.learning_rate` gives each
phase its rate (a :class:`~mobseg.schedules.RunLearningRate` that continues the run's one curve at the phase's
first step, or the plain number when the rate is constant), and :func:`compile_for_training` compiles a model
with them the way :func:`mobseg.train` does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import keras

from mobseg.losses import loss_name, make_loss
from mobseg.schedules import POLYNOMIAL_POWER, RunLearningRate, check_schedule
from mobseg.training.precision import loss_scaled
from mobseg.validation import check_choice, check_int, check_number

#: Optimizers :func:`mobseg.train` offers. AdamW is Adam with decoupled weight decay.
OPTIMIZERS = ("adam", "adamw")

#: ``weight_decay`` of ``optimizer="adamw"`` when none is given (PyTorch's AdamW default).
DEFAULT_WEIGHT_DECAY = 0.01

#: Variables AdamW does not decay: biases and BatchNormalization's scale and offset.
NO_DECAY_NAMES = ("bias", "gamma", "beta")


@dataclass(frozen=True)
class Optimization:
    """The optimization settings of a run (checked by :meth:`checked`).

    ``epochs`` and ``steps_per_epoch`` place the phases on the run's one learning-rate curve;
    ``warmup_epochs`` (fractions allowed) is the linear warm-up at the start of the run.

    Example:
        >>> opt = Optimization(lr_schedule="cosine", warmup_epochs=1, epochs=10, steps_per_epoch=5).checked()
        >>> opt.total_steps, opt.warmup_steps
        (50, 5)
    """

    loss: str = "ce"
    optimizer: str = "adam"
    weight_decay: float | None = None
    clipnorm: float | None = None
    lr_schedule: str = "constant"
    warmup_epochs: float = 0.0
    epochs: int = 1
    steps_per_epoch: int = 1

    def checked(self) -> Optimization:
        """A copy with every setting checked and normalised (canonical loss name, the weight decay in use)."""
        optimizer = check_choice(self.optimizer, "optimizer", OPTIMIZERS)
        weight_decay = self.weight_decay
        if optimizer == "adam" and weight_decay:
            raise ValueError("weight_decay needs optimizer='adamw' (--optimizer adamw); Adam has none.")
        if weight_decay is None:
            weight_decay = DEFAULT_WEIGHT_DECAY if optimizer == "adamw" else 0.0
        epochs = check_int(self.epochs, "epochs", minimum=1)
        warmup = check_number(self.warmup_epochs, "warmup_epochs", minimum=0, maximum=epochs)
        return Optimization(
            loss=loss_name(self.loss),
            optimizer=optimizer,
            weight_decay=check_number(weight_decay, "weight_decay", minimum=0),
            clipnorm=None
            if self.clipnorm is None
            else check_number(self.clipnorm, "clipnorm", minimum=0, low_open=True),
            lr_schedule=check_schedule(self.lr_schedule),
            warmup_epochs=warmup,
            epochs=epochs,
            steps_per_epoch=check_int(self.steps_per_epoch, "steps_per_epoch", minimum=1),
        )

    @property
    def total_steps(self) -> int:
        """Optimizer steps in the whole run."""
        return self.epochs * self.steps_per_epoch

    @property
    def warmup_steps(self) -> int:
        """Steps of linear warm-up at the start of the run."""
        return math.ceil(self.warmup_epochs * self.steps_per_epoch)

    @property
    def constant_rate(self) -> bool:
        """True when every phase keeps its base rate (no schedule, no warm-up)."""
        return self.lr_schedule == "constant" and self.warmup_steps == 0

    def learning_rate(self, base_learning_rate: float, first_epoch: int) -> float | RunLearningRate:
        """The rate of a phase starting at ``first_epoch`` with base rate ``base_learning_rate``.

        Example:
            >>> Optimization().learning_rate(1e-3, 0)
            0.001
        """
        if self.constant_rate:
            return float(base_learning_rate)
        return RunLearningRate(
            base_learning_rate,
            self.lr_schedule,
            total_steps=self.total_steps,
            warmup_steps=self.warmup_steps,
            first_step=first_epoch * self.steps_per_epoch,
        )

    def make_optimizer(self, learning_rate: float | RunLearningRate) -> keras.optimizers.Optimizer:
        """A new Adam / AdamW optimizer with these settings (AdamW decays no bias or BatchNorm variable).

        Example:
            >>> type(Optimization(optimizer="adamw").checked().make_optimizer(1e-3)).__name__
            'AdamW'
        """
        clip = {} if self.clipnorm is None else {"global_clipnorm": self.clipnorm}
        if self.optimizer == "adamw":
            optimizer = keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=self.weight_decay, **clip)
            optimizer.exclude_from_weight_decay(var_names=list(NO_DECAY_NAMES))
            return optimizer
        return keras.optimizers.Adam(learning_rate=learning_rate, **clip)

    def record(self) -> dict[str, Any]:
        """The learning-rate schedule as ``training.json`` records it.

        Example:
            >>> Optimization(epochs=2, steps_per_epoch=3).checked().record()["total_steps"]
            6
        """
        record: dict[str, Any] = {
            "name": self.lr_schedule,
            "warmup_epochs": self.warmup_epochs,
            "warmup_steps": self.warmup_steps,
            "steps_per_epoch": self.steps_per_epoch,
            "total_steps": self.total_steps,
            "spans": "all phases; each phase's base rate times one curve of the global step",
        }
        if self.lr_schedule == "polynomial":
            record["power"] = POLYNOMIAL_POWER
        return record


def compile_for_training(
    model: Any,
    learning_rate: float | RunLearningRate,
    *,
    ignore_index: int | None = None,
    optimization: Optimization | None = None,
) -> None:
    """Compile ``model`` as :func:`mobseg.train` does: the optimizer and loss of ``optimization`` and mean IoU.

    Sample weights weigh the loss (class weights; 0 at ignored pixels); the mean IoU only uses them as a mask.

    Example:
        >>> compile_for_training(model, 1e-3, ignore_index=255)  # doctest: +SKIP
        >>> compile_for_training(model, 1e-3, optimization=Optimization(loss="ce+dice"))  # doctest: +SKIP
    """
    from mobseg.metrics import MeanIoU

    optimization = (optimization or Optimization()).checked()
    model.compile(
        optimizer=loss_scaled(model, optimization.make_optimizer(learning_rate)),
        loss=make_loss(optimization.loss, ignore_index=ignore_index, from_logits=model.outputs_logits),
        weighted_metrics=[MeanIoU(model.n_classes, ignore_index=ignore_index)],
    )


__all__ = ["DEFAULT_WEIGHT_DECAY", "NO_DECAY_NAMES", "OPTIMIZERS", "Optimization", "compile_for_training"]
