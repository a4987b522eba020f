"""The arguments of :func:`mobseg.train`, checked in one place before anything is built or written."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import keras

from mobseg.data.augment import Augmentation
from mobseg.data.class_weights import CLASS_WEIGHT_MODES
from mobseg.data.masks import check_mask_format
from mobseg.data.pairs import Pair, list_pairs
from mobseg.model import SegmentationModel
from mobseg.training.distribute import Distribution
from mobseg.training.optimization import Optimization
from mobseg.training.precision import check_mixed_precision
from mobseg.validation import check_int, check_number, check_optional_int

#: ``fine_tune_learning_rate`` after a frozen phase, as a fraction of ``learning_rate`` (1e-3 -> 3e-4, as measured).
FINE_TUNE_FACTOR = 0.3

#: Keras callbacks that set the optimizer's learning rate; they need the constant schedule.
RATE_SETTING_CALLBACKS = (keras.callbacks.LearningRateScheduler, keras.callbacks.ReduceLROnPlateau)


def has_pretrained_encoder(model: Any, model_kwargs: dict[str, Any] | None = None) -> bool:
    """Whether the model's encoder starts from pretrained weights (``encoder_weights=`` or ``load_encoder_weights``).

    A registry name counts when ``model_kwargs`` names ``encoder_weights``; a built model by its
    :attr:`~mobseg.model.SegmentationModel.pretrained_encoder` (the record is saved with the model).

    Example:
        >>> has_pretrained_encoder("mobilenet_segnet", {"encoder_weights": "imagenet"})
        True
        >>> has_pretrained_encoder("mobilenet_segnet")
        False
    """
    if isinstance(model, str):
        return bool((model_kwargs or {}).get("encoder_weights"))
    return isinstance(model, SegmentationModel) and model.pretrained_encoder


@dataclass
class TrainArguments:
    """Every argument of :func:`mobseg.train` (same names, no defaults), and what checking them finds.

    :meth:`check` raises a one-sentence ``ValueError`` for the first bad argument, normalises the
    numbers and fills in the derived values: the listed training and validation pairs, the augmentation,
    the distribution, the default ``fine_tune_learning_rate`` and the run's :class:`Optimization` (loss,
    optimizer, clipping, learning-rate schedule; the canonical loss name and the weight decay in use).

    Example:
        >>> args = TrainArguments(**arguments_of_train).check()  # doctest: +SKIP
        >>> args.monitor, len(args.train_pairs)  # doctest: +SKIP
        ('val_mean_iou', 96)
    """

    images: str | os.PathLike | None
    masks: str | os.PathLike | None
    n_classes: int | None
    val_images: str | os.PathLike | None
    val_masks: str | os.PathLike | None
    pairs: Sequence[tuple[str, str] | Pair] | None
    val_pairs: Sequence[tuple[str, str] | Pair] | None
    model: Any
    model_kwargs: dict[str, Any] | None
    input_size: tuple[int, int] | None
    epochs: int
    batch_size: int
    freeze_encoder_epochs: int | None
    learning_rate: float
    fine_tune_learning_rate: float | None
    lr_schedule: str
    warmup_epochs: float
    optimizer: str
    weight_decay: float | None
    clipnorm: float | None
    loss: str
    class_weights: str | Sequence[float] | None
    ignore_index: int | None
    class_names: Sequence[str] | None
    mask_format: str
    colors: Any
    augment: Augmentation | bool | dict | None
    cache: bool
    out: str | os.PathLike
    seed: int
    verbose: int
    callbacks: Sequence[keras.callbacks.Callback]
    num_parallel_calls: int | None
    batchnorm_momentum: float | None
    distribute: Any
    verify_data: bool
    early_stopping_patience: int | None
    mixed_precision: str | None
    # Filled in by check():
    train_pairs: list[Pair] = field(init=False, default_factory=list)
    validation_pairs: list[Pair] = field(init=False, default_factory=list)
    augmentation: Augmentation | None = field(init=False, default=None)
    distribution: Distribution = field(init=False, default_factory=Distribution)
    optimization: Optimization = field(init=False, default_factory=Optimization)

    def check(self) -> TrainArguments:
        """Check every argument that needs no model (data folders are listed, not read); returns ``self``."""
        self._check_data()
        self._check_schedule()
        self._check_optimization()
        self._check_callbacks()
        self._check_class_weights()
        self.ignore_index = check_optional_int(
            self.ignore_index, "ignore_index", hint=" Give the label value that loss and metrics skip, e.g. 255."
        )
        if self.batchnorm_momentum is not None:
            self.batchnorm_momentum = check_number(
                self.batchnorm_momentum, "batchnorm_momentum", minimum=0, maximum=1, high_open=True
            )
        self.mask_format = check_mask_format(self.mask_format, self.colors)
        self.augmentation = Augmentation.from_value(self.augment)
        self.mixed_precision = check_mixed_precision(self.mixed_precision)
        self.distribution = _resolve_distribution(self.distribute, self.batch_size)
        return self

    @property
    def built_by_name(self) -> bool:
        """True when ``model`` is a registry name (the model is built here, inside the distribution's scope)."""
        return isinstance(self.model, str)

    @property
    def monitor(self) -> str:
        """The metric that picks the best checkpoint: validation mean IoU, or training mean IoU without validation."""
        return "val_mean_iou" if self.validation_pairs else "mean_iou"

    def _check_data(self) -> None:
        train_pairs = _as_pairs(self.images, self.masks, self.pairs, "Training")
        if train_pairs is None:
            raise ValueError("No training data: give images= and masks= folders, or pairs=[(image, mask), ...].")
        self.train_pairs = train_pairs
        self.validation_pairs = _as_pairs(self.val_images, self.val_masks, self.val_pairs, "Validation") or []

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps in one epoch: one pass over the training pairs in batches of ``batch_size``."""
        return max(1, math.ceil(len(self.train_pairs) / self.batch_size))

    def _check_optimization(self) -> None:
        self.optimization = Optimization(
            loss=self.loss,
            optimizer=self.optimizer,
            weight_decay=self.weight_decay,
            clipnorm=self.clipnorm,
            lr_schedule=self.lr_schedule,
            warmup_epochs=self.warmup_epochs,
            epochs=self.epochs,
            steps_per_epoch=self.steps_per_epoch,
        ).checked()
        self.loss, self.weight_decay = self.optimization.loss, self.optimization.weight_decay
        self.clipnorm, self.warmup_epochs = self.optimization.clipnorm, self.optimization.warmup_epochs
        self.early_stopping_patience = check_optional_int(
            self.early_stopping_patience, "early_stopping_patience", minimum=1, hint=" E.g. 5 epochs."
        )
        if self.early_stopping_patience is not None and not self.validation_pairs:
            raise ValueError(
                "early_stopping_patience watches the validation mean IoU; give validation data (val_images= and "
                "val_masks=, or val_pairs=) or leave early stopping off."
            )

    def _check_callbacks(self) -> None:
        setters = [c for c in self.callbacks if isinstance(c, RATE_SETTING_CALLBACKS)]
        if setters and not self.optimization.constant_rate:
            raise ValueError(
                f"{type(setters[0]).__name__} sets the learning rate itself, which a {self.optimization.lr_schedule} "
                "schedule or a warm-up would fight; pass lr_schedule='constant' (--lr-schedule constant) and no "
                "warm-up with it, or drop the callback."
            )

    def _check_class_weights(self) -> None:
        if isinstance(self.class_weights, str):
            if self.class_weights not in CLASS_WEIGHT_MODES:
                raise ValueError(
                    f"class_weights={self.class_weights!r}: use one of {', '.join(CLASS_WEIGHT_MODES)}, or a list "
                    "with one number per class."
                )
            if self.class_weights == "none":
                self.class_weights = None

    def _check_schedule(self) -> None:
        self.epochs = check_int(self.epochs, "epochs", minimum=1)
        self.batch_size = check_int(self.batch_size, "batch_size", minimum=1)
        if self.freeze_encoder_epochs is None:  # one frozen epoch for a pretrained encoder (the measured recipe)
            self.freeze_encoder_epochs = int(self.epochs > 1 and has_pretrained_encoder(self.model, self.model_kwargs))
        self.freeze_encoder_epochs = check_int(self.freeze_encoder_epochs, "freeze_encoder_epochs", minimum=0)
        if self.freeze_encoder_epochs > self.epochs:
            raise ValueError(f"freeze_encoder_epochs={self.freeze_encoder_epochs} is more than epochs={self.epochs}.")
        self.learning_rate = check_number(self.learning_rate, "learning_rate", minimum=0, low_open=True)
        if self.fine_tune_learning_rate is None:
            factor = FINE_TUNE_FACTOR if self.freeze_encoder_epochs else 1.0
            self.fine_tune_learning_rate = self.learning_rate * factor
        else:
            self.fine_tune_learning_rate = check_number(
                self.fine_tune_learning_rate, "fine_tune_learning_rate", minimum=0, low_open=True
            )


def _as_pairs(images: Any, masks: Any, pairs: Any, what: str) -> list[Pair] | None:
    if images is None and masks is None and pairs is None:
        return None
    try:
        return list_pairs(images, masks, pairs=pairs)
    except ValueError as err:
        raise ValueError(f"{what} data: {err}") from None


def _resolve_distribution(distribute: Any, batch_size: int) -> Distribution:
    distribution = Distribution.resolve(distribute)
    if distribution.replicas > 1 and batch_size % distribution.replicas:
        raise ValueError(
            f"batch_size={batch_size} (the global batch) must be a multiple of the {distribution.replicas} replicas."
        )
    return distribution


__all__ = ["TrainArguments"]
