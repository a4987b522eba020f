"""Learning-rate schedules of a training run: constant, cosine or polynomial decay, after a linear warm-up.

One curve spans the whole run (every phase, epoch numbers running on): the learning rate at global step ``s``
is the phase's base rate times :func:`schedule_factor` of ``s``. Each phase's optimizer holds a
:class:`RunLearningRate` that knows the step its phase starts at, so the rate is a function of the global step
only: a resumed run, whose optimizer comes back with its step counter, continues the curve exactly.

Example:
    >>> round(schedule_factor("cosine", 50, total_steps=100), 4)
    0.5
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from mobseg.validation import check_int, check_number

#: Schedule names accepted by :func:`schedule_factor` and :class:`RunLearningRate`.
LR_SCHEDULES = ("constant", "cosine", "polynomial")

#: Power of the polynomial decay ("poly", as DeepLab): ``(1 - t) ** 0.9``.
POLYNOMIAL_POWER = 0.9


def check_schedule(name: str) -> str:
    """``name`` if it is a known schedule, else a ``ValueError`` listing them.

    Example:
        >>> check_schedule("cosine")
        'cosine'
    """
    if name not in LR_SCHEDULES:
        raise ValueError(f"unknown lr_schedule {name!r}; use one of {', '.join(LR_SCHEDULES)}.")
    return name


def schedule_factor(
    name: str, step: Any, *, total_steps: int, warmup_steps: int = 0, power: float = POLYNOMIAL_POWER
) -> Any:
    """The learning rate at 0-based global ``step`` as a fraction of the base rate.

    Warm-up: ``(step + 1) / warmup_steps`` for the first ``warmup_steps`` steps. Then, with
    ``t = (step - warmup_steps) / (total_steps - warmup_steps)`` (0 to 1): ``constant`` 1, ``cosine``
    ``(1 + cos(pi t)) / 2``, ``polynomial`` ``(1 - t) ** power``. A Python number for a Python ``step``, a
    tensor for a tensor.

    Example:
        >>> [round(schedule_factor("polynomial", s, total_steps=10, warmup_steps=2, power=1.0), 3) for s in (0, 1, 6)]
        [0.5, 1.0, 0.5]
    """
    check_schedule(name)
    if not isinstance(step, (int, float)):
        return _tensor_factor(name, step, total_steps, warmup_steps, power)
    warm = min(1.0, (step + 1) / warmup_steps) if warmup_steps else 1.0
    t = min(max((step - warmup_steps) / max(total_steps - warmup_steps, 1), 0.0), 1.0)
    if name == "cosine":
        return warm * 0.5 * (1.0 + math.cos(math.pi * t))
    if name == "polynomial":
        return warm * (1.0 - t) ** power
    return warm


def _tensor_factor(name: str, step: Any, total_steps: int, warmup_steps: int, power: float) -> Any:
    step = ops.cast(step, "float32")
    warm = ops.minimum(1.0, (step + 1.0) / warmup_steps) if warmup_steps else ops.ones_like(step)
    t = ops.clip((step - warmup_steps) / float(max(total_steps - warmup_steps, 1)), 0.0, 1.0)
    if name == "cosine":
        return warm * 0.5 * (1.0 + ops.cos(math.pi * t))
    if name == "polynomial":
        return warm * ops.power(1.0 - t, power)
    return warm


@keras.saving.register_keras_serializable(package="mobseg")
class RunLearningRate(keras.optimizers.schedules.LearningRateSchedule):
    """The learning rate of one phase of a run: ``base_learning_rate * schedule_factor(first_step + step)``.

    ``step`` is the phase optimizer's own step counter (``optimizer.iterations``), ``first_step`` the global step
    at which the phase starts; ``total_steps`` and ``warmup_steps`` are the whole run's.

    Example:
        >>> lr = RunLearningRate(1e-3, "cosine", total_steps=100, first_step=50)
        >>> round(float(lr(0)), 6)  # global step 50 of 100: half of the base rate
        0.0005
    """

    def __init__(
        self,
        base_learning_rate: float,
        schedule: str = "constant",
        *,
        total_steps: int,
        warmup_steps: int = 0,
        first_step: int = 0,
        power: float = POLYNOMIAL_POWER,
    ):
        self.base_learning_rate = check_number(base_learning_rate, "base_learning_rate", minimum=0, low_open=True)
        self.schedule = check_schedule(schedule)
        self.total_steps = check_int(total_steps, "total_steps", minimum=1)
        self.warmup_steps = check_int(warmup_steps, "warmup_steps", minimum=0)
        self.first_step = check_int(first_step, "first_step", minimum=0)
        self.power = check_number(power, "power", minimum=0, low_open=True)

    def __call__(self, step: Any) -> Any:
        """The learning rate for the phase's 0-based ``step``."""
        global_step = ops.cast(step, "float32") + float(self.first_step)
        factor = _tensor_factor(self.schedule, global_step, self.total_steps, self.warmup_steps, self.power)
        return self.base_learning_rate * factor

    def get_config(self) -> dict[str, Any]:
        """Serializable settings."""
        return {
            "base_learning_rate": self.base_learning_rate,
            "schedule": self.schedule,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "first_step": self.first_step,
            "power": self.power,
        }


__all__ = ["LR_SCHEDULES", "POLYNOMIAL_POWER", "RunLearningRate", "check_schedule", "schedule_factor"]
