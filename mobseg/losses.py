"""Losses for segmentation, registered so that compiled models reload in safe mode.

Every loss here takes integer labels ``(N, P)`` / ``(N, H, W)`` (a trailing axis of 1 is accepted) and
predictions ``(N, P, C)`` / ``(N, H, W, C)``, softmax probabilities (``from_logits=False``) or logits
(``from_logits=True``). Pixels labelled ``ignore_index`` -- or outside ``0..C-1`` -- count in none of them,
and per-pixel ``sample_weight`` (how class weights reach a loss in :func:`mobseg.train`; ignored pixels have
weight 0) weighs every pixel:

* :class:`SegmentationCrossentropy` and :class:`SegmentationFocalLoss` are per-pixel losses, reduced to the
  weighted mean over the counted pixels;
* :class:`SegmentationDiceLoss` and :class:`LovaszSoftmaxLoss` are set losses over all the pixels of the batch,
  with the weights inside the sums (a pixel of weight 2 counts as two pixels, one of weight 0 not at all);
* :class:`CombinedLoss` is a weighted sum of them; :func:`make_loss` builds one from a name such as
  ``"ce+0.5*dice"``.

Example:
    >>> loss = make_loss("ce+lovasz", ignore_index=255)
    >>> loss.name
    'ce+lovasz'
"""

from __future__ import annotations

import re
from typing import Any

import keras
from keras import ops

from mobseg.validation import check_number, check_optional_int

#: Loss names accepted by :func:`make_loss` (aliases map to these).
LOSS_NAMES = ("ce", "dice", "focal", "lovasz")
_ALIASES = {"crossentropy": "ce", "cross_entropy": "ce", "lovasz_softmax": "lovasz"}


def _labels_and_validity(y_true: Any, n_classes: int, ignore_index: int | None) -> tuple[Any, Any]:
    """Integer labels shaped like the predictions without their class axis (0 where not valid), and validity."""
    labels = ops.convert_to_tensor(y_true)
    labels = ops.cast(labels, "int32")
    valid = ops.logical_and(ops.greater_equal(labels, 0), ops.less(labels, n_classes))
    if ignore_index is not None:
        valid = ops.logical_and(valid, ops.not_equal(labels, ignore_index))
    return ops.where(valid, labels, ops.zeros_like(labels)), valid


def _squeeze_labels(labels: Any, y_pred: Any) -> Any:
    labels = ops.convert_to_tensor(labels)
    if len(labels.shape) == len(y_pred.shape) and labels.shape[-1] == 1:
        labels = ops.squeeze(labels, axis=-1)
    return labels


class _PixelLoss(keras.losses.Loss):
    """Shared settings of the losses here: ``ignore_index`` and ``from_logits``."""

    def __init__(self, ignore_index: int | None, from_logits: bool, *, name: str, reduction: Any, dtype: Any):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.ignore_index = check_optional_int(
            ignore_index, "ignore_index", hint=" Use the label value of unlabelled pixels, e.g. 255."
        )
        self.from_logits = bool(from_logits)

    def get_config(self) -> dict[str, Any]:
        """Serializable settings."""
        config = super().get_config()
        config.update({"ignore_index": self.ignore_index, "from_logits": self.from_logits})
        return config


@keras.saving.register_keras_serializable(package="mobseg")
class SegmentationCrossentropy(_PixelLoss):
    """Per-pixel sparse categorical crossentropy that skips ``ignore_index`` pixels.

    Works with the flat head (labels ``(N, P)``, predictions ``(N, P, C)``) and the spatial head
    (``(N, H, W)`` / ``(N, H, W, C)``; a trailing label axis of 1 is accepted), with softmax outputs
    (``from_logits=False``) and logits (``from_logits=True``). Pixels whose label is ``ignore_index``
    -- or outside ``0..C-1`` -- contribute exactly zero; labels are clamped before the gather, so they never
    produce NaN.

    Class weights come in as per-pixel ``sample_weight`` (the ``mobseg.data`` pipeline gives 0 to
    ignored pixels too). The default reduction ``"mean_with_sample_weight"`` divides the weighted
    sum by the sum of the weights -- a weighted mean over the counted pixels, as PyTorch's
    ``CrossEntropyLoss(weight=..., ignore_index=...)``. Without sample weights it divides by all pixels.

    Example:
        >>> import numpy as np
        >>> loss = SegmentationCrossentropy(ignore_index=255)
        >>> y_true = np.array([[0, 255]])
        >>> y_pred = np.array([[[0.5, 0.5], [1.0, 0.0]]])
        >>> round(float(loss(y_true, y_pred, sample_weight=np.array([[1.0, 0.0]]))), 4)
        0.6931
    """

    def __init__(
        self,
        ignore_index: int | None = None,
        from_logits: bool = False,
        reduction: str | None = "mean_with_sample_weight",
        name: str = "segmentation_crossentropy",
        dtype: Any = None,
    ):
        super().__init__(ignore_index, from_logits, name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Per-pixel losses, shaped like the labels (zero at ignored pixels)."""
        y_pred = ops.convert_to_tensor(y_pred)
        labels, valid = _labels_and_validity(_squeeze_labels(y_true, y_pred), y_pred.shape[-1], self.ignore_index)
        losses = -_log_prob_of_label(labels, y_pred, self.from_logits)
        return ops.where(valid, losses, ops.zeros_like(losses))


def _log_prob_of_label(labels: Any, y_pred: Any, from_logits: bool) -> Any:
    """log p(label) per pixel, through Keras' sparse cross-entropy.

    On TensorFlow that op finds the logits behind a model's final Softmax and computes a fused, stable
    log-softmax from them, so a softmax model costs no more than a logits one.
    """
    return -ops.sparse_categorical_crossentropy(labels, y_pred, from_logits=from_logits)


@keras.saving.register_keras_serializable(package="mobseg")
class SegmentationFocalLoss(_PixelLoss):
    """Per-pixel focal loss (Lin et al. 2017): ``-(1 - p)**gamma * log(p)``, ``p`` the true class's probability.

    ``gamma=0`` is exactly :class:`SegmentationCrossentropy`; larger ``gamma`` lowers the loss of pixels already
    classified with confidence, so hard pixels (often of rare classes, and at boundaries) weigh more. Ignored
    pixels, sample weights and the reduction are as in :class:`SegmentationCrossentropy`.

    Example:
        >>> import numpy as np
        >>> loss = SegmentationFocalLoss(gamma=2.0)
        >>> round(float(loss(np.array([[0]]), np.array([[[0.5, 0.5]]]))), 4)  # 0.25 * log(2)
        0.1733
    """

    def __init__(
        self,
        gamma: float = 2.0,
        ignore_index: int | None = None,
        from_logits: bool = False,
        reduction: str | None = "mean_with_sample_weight",
        name: str = "segmentation_focal_loss",
        dtype: Any = None,
    ):
        super().__init__(ignore_index, from_logits, name=name, reduction=reduction, dtype=dtype)
        self.gamma = check_number(gamma, "gamma", minimum=0, hint=" 2 is the usual value; 0 is cross-entropy.")

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Per-pixel losses, shaped like the labels (zero at ignored pixels)."""
        y_pred = ops.convert_to_tensor(y_pred)
        labels, valid = _labels_and_validity(_squeeze_labels(y_true, y_pred), y_pred.shape[-1], self.ignore_index)
        log_p = _log_prob_of_label(labels, y_pred, self.from_logits)
        losses = -log_p if self.gamma == 0 else -ops.power(1.0 - ops.exp(log_p), self.gamma) * log_p
        return ops.where(valid, losses, ops.zeros_like(losses))

    def get_config(self) -> dict[str, Any]:
        """Serializable settings."""
        return {**super().get_config(), "gamma": self.gamma}


class _SetLoss(_PixelLoss):
    """A loss over all the pixels of the batch at once, with the pixel weights inside its sums.

    Keras applies ``sample_weight`` to what ``call`` returns, which only suits per-pixel losses; here the
    weights travel with the labels into ``call`` and the result is one value for the batch.
    """

    def __init__(self, ignore_index: int | None, from_logits: bool, *, name: str, dtype: Any):
        super().__init__(ignore_index, from_logits, name=name, reduction="sum_over_batch_size", dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        """Serializable settings (the reduction is fixed: one value per batch)."""
        config = super().get_config()
        config.pop("reduction", None)
        return config

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        """The loss of the batch; ``sample_weight`` (per pixel, or per image) weighs the pixels."""
        y_pred = ops.convert_to_tensor(y_pred)
        labels = _squeeze_labels(y_true, y_pred)
        if sample_weight is None:
            sample_weight = ops.ones(ops.shape(labels), dtype="float32")
        sample_weight = ops.convert_to_tensor(sample_weight)
        if len(sample_weight.shape) > len(labels.shape):
            sample_weight = ops.reshape(sample_weight, ops.shape(labels))
        while len(sample_weight.shape) < len(labels.shape):
            sample_weight = ops.expand_dims(sample_weight, -1)
        sample_weight = ops.broadcast_to(sample_weight, ops.shape(labels))
        # (1,)-shaped result: the base class then scales it for tf.distribute as it does every other loss.
        return super().__call__((labels, sample_weight), y_pred)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """``y_true`` is ``(labels, pixel_weights)``; returns the loss of the batch with shape ``(1,)``."""
        labels, weights = y_true
        n_classes = y_pred.shape[-1]
        labels, valid = _labels_and_validity(ops.reshape(labels, (-1,)), n_classes, self.ignore_index)
        weights = ops.where(valid, ops.cast(ops.reshape(weights, (-1,)), y_pred.dtype), 0.0)
        probs = ops.softmax(y_pred, axis=-1) if self.from_logits else y_pred
        probs = ops.reshape(probs, (-1, n_classes))
        return ops.reshape(self.batch_loss(labels, weights, probs), (1,))

    def batch_loss(self, labels: Any, weights: Any, probs: Any) -> Any:
        """The loss from flat labels ``(M,)``, weights ``(M,)`` (0 where not counted) and probabilities ``(M, C)``."""
        raise NotImplementedError


def _mean_over_present(values: Any, present: Any) -> Any:
    """Mean of per-class ``values`` over the classes that have ground-truth pixels (0 when none has)."""
    present = ops.cast(present, values.dtype)
    return ops.sum(values * present) / ops.maximum(ops.sum(present), 1.0)


@keras.saving.register_keras_serializable(package="mobseg")
class SegmentationDiceLoss(_SetLoss):
    """Soft Dice loss over the batch: ``1 - mean_c (2 sum(w p_c y_c) + s) / (sum(w p_c) + sum(w y_c) + s)``.

    ``p_c`` is the predicted probability of class ``c``, ``y_c`` 1 where the label is ``c``, ``w`` the pixel
    weight (0 at ignored pixels); the sums run over every pixel of the batch. The mean runs over the classes
    with ground-truth pixels in the batch, so a class that is absent neither helps nor hurts (its false
    positives still lower the Dice of the classes they are taken from). ``smooth`` (``s``) keeps the ratio
    defined; the default 0 is the plain Dice coefficient.

    Example:
        >>> import numpy as np
        >>> loss = SegmentationDiceLoss()
        >>> # class 0: 2*0.5 / (0.5 + 1) = 2/3; class 1: 2*1 / (1.5 + 1) = 0.8; 1 - (2/3 + 0.8) / 2
        >>> round(float(loss(np.array([[0, 1]]), np.array([[[0.5, 0.5], [0.0, 1.0]]]))), 4)
        0.2667
    """

    def __init__(
        self,
        ignore_index: int | None = None,
        from_logits: bool = False,
        smooth: float = 0.0,
        name: str = "segmentation_dice_loss",
        dtype: Any = None,
    ):
        super().__init__(ignore_index, from_logits, name=name, dtype=dtype)
        self.smooth = check_number(smooth, "smooth", minimum=0)

    def batch_loss(self, labels: Any, weights: Any, probs: Any) -> Any:
        """1 - the mean soft Dice coefficient of the classes present in the batch's labels."""
        truth = ops.one_hot(labels, probs.shape[-1], dtype=probs.dtype) * ops.expand_dims(weights, -1)
        intersection = ops.sum(truth * probs, axis=0)
        true_mass = ops.sum(truth, axis=0)
        predicted_mass = ops.sum(probs * ops.expand_dims(weights, -1), axis=0)
        dice = (2.0 * intersection + self.smooth) / ops.maximum(true_mass + predicted_mass + self.smooth, 1e-12)
        return 1.0 - _mean_over_present(dice, ops.greater(true_mass, 0))

    def get_config(self) -> dict[str, Any]:
        """Serializable settings."""
        return {**super().get_config(), "smooth": self.smooth}


@keras.saving.register_keras_serializable(package="mobseg")
class LovaszSoftmaxLoss(_SetLoss):
    """Lovász-softmax (Berman et al. 2018): a convex surrogate of ``1 - IoU``, averaged over the present classes.

    For each class with ground-truth pixels in the batch, the pixels' errors ``|y_c - p_c|`` are sorted
    (largest first) and weighed by the steps of the Jaccard loss along that order (the Lovász extension).
    Pixel weights enter the Jaccard's counts: a pixel of weight ``w`` counts ``w`` times, ignored pixels
    (weight 0) not at all. For a hard prediction (one-hot ``p``) the loss is exactly ``1 -`` the mean IoU
    (weighted counts) over the classes present in the labels. Probabilities only: logits go through a softmax.

    Example:
        >>> import numpy as np
        >>> loss = LovaszSoftmaxLoss()
        >>> # hard prediction [0, 1, 1] for labels [0, 0, 1]: IoU 1/2 (class 0) and 1/2 (class 1)
        >>> round(float(loss(np.array([[0, 0, 1]]), np.eye(2)[[[0, 1, 1]]])), 4)
        0.5
    """

    def __init__(
        self,
        ignore_index: int | None = None,
        from_logits: bool = False,
        name: str = "lovasz_softmax_loss",
        dtype: Any = None,
    ):
        super().__init__(ignore_index, from_logits, name=name, dtype=dtype)

    def batch_loss(self, labels: Any, weights: Any, probs: Any) -> Any:
        """The mean over present classes of the Lovász extension of the (weighted) Jaccard loss."""
        truth = ops.transpose(ops.one_hot(labels, probs.shape[-1], dtype=probs.dtype))  # (C, M)
        errors = ops.abs(truth - ops.transpose(probs))
        order = ops.argsort(-ops.stop_gradient(errors), axis=-1)
        sorted_errors = ops.take_along_axis(errors, order, axis=-1)
        sorted_truth = ops.take_along_axis(truth, order, axis=-1)
        sorted_weights = ops.take(weights, order)
        truth_mass = sorted_weights * sorted_truth
        true_total = ops.sum(truth_mass, axis=-1, keepdims=True)
        intersection = true_total - ops.cumsum(truth_mass, axis=-1)
        union = true_total + ops.cumsum(sorted_weights - truth_mass, axis=-1)
        jaccard = 1.0 - intersection / ops.maximum(union, 1e-12)
        steps = ops.concatenate([jaccard[:, :1], jaccard[:, 1:] - jaccard[:, :-1]], axis=-1)
        per_class = ops.sum(sorted_errors * ops.stop_gradient(steps), axis=-1)
        return _mean_over_present(per_class, ops.greater(true_total[:, 0], 0))


@keras.saving.register_keras_serializable(package="mobseg")
class CombinedLoss(keras.losses.Loss):
    """A weighted sum of losses, each given the same labels, predictions and sample weights.

    Example:
        >>> loss = CombinedLoss([SegmentationCrossentropy(), SegmentationDiceLoss()], [1.0, 0.5], name="ce+0.5*dice")
        >>> [type(term).__name__ for term in loss.losses], loss.weights
        (['SegmentationCrossentropy', 'SegmentationDiceLoss'], [1.0, 0.5])
    """

    def __init__(
        self,
        losses: list[keras.losses.Loss | dict[str, Any]],
        weights: list[float] | None = None,
        name: str = "combined_loss",
        reduction: str | None = "sum_over_batch_size",
        dtype: Any = None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.losses = [keras.saving.deserialize_keras_object(t) if isinstance(t, dict) else t for t in losses]
        self.weights = [1.0] * len(self.losses) if weights is None else [float(w) for w in weights]
        if not self.losses or len(self.weights) != len(self.losses):
            raise ValueError(f"CombinedLoss needs one weight per loss; got {len(losses)} losses, weights {weights}.")

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        """The weighted sum of the terms."""
        total = None
        for weight, loss in zip(self.weights, self.losses, strict=True):
            value = loss(y_true, y_pred, sample_weight=sample_weight)
            value = value if weight == 1.0 else value * weight
            total = value if total is None else total + value
        return total

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Unweighted sum of the terms (``__call__`` is the one that sees sample weights)."""
        return self(y_true, y_pred)

    def get_config(self) -> dict[str, Any]:
        """The terms (serialized) and their weights."""
        config = super().get_config()
        config.update(
            {"losses": [keras.saving.serialize_keras_object(t) for t in self.losses], "weights": self.weights}
        )
        return config


_TERM = re.compile(r"^\s*(?:(?P<weight>[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*\*\s*)?(?P<name>[a-z_]+)\s*$")


def parse_loss(spec: str) -> list[tuple[float, str]]:
    """``"ce+0.5*dice"`` -> ``[(1.0, "ce"), (0.5, "dice")]``: the terms of a loss name (aliases resolved).

    Raises ``ValueError`` naming the valid losses for anything else.

    Example:
        >>> parse_loss("ce + 0.5*Dice")
        [(1.0, 'ce'), (0.5, 'dice')]
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"loss must be a name such as 'ce', 'ce+dice' or 'ce+0.5*lovasz'; got {spec!r}.")
    terms = []
    for part in spec.lower().split("+"):
        match = _TERM.match(part)
        name = _ALIASES.get(match["name"], match["name"]) if match else None
        if name not in LOSS_NAMES:
            raise ValueError(
                f"unknown loss term {part.strip()!r} in {spec!r}; use {', '.join(LOSS_NAMES)} or a weighted sum "
                "of them such as 'ce+0.5*dice'."
            )
        weight = float(match["weight"]) if match["weight"] else 1.0
        if weight <= 0:
            raise ValueError(f"loss term {part.strip()!r} has weight {weight}; weights must be > 0.")
        terms.append((weight, name))
    if len({name for _, name in terms}) != len(terms):
        raise ValueError(f"loss {spec!r} names a term twice; give each loss once with its weight.")
    return terms


def loss_name(spec: str) -> str:
    """The canonical spelling of a loss name: ``"CE + 1*dice"`` -> ``"ce+dice"``.

    Example:
        >>> loss_name("cross_entropy+0.50*lovasz")
        'ce+0.5*lovasz'
    """
    return "+".join(name if weight == 1.0 else f"{weight:g}*{name}" for weight, name in parse_loss(spec))


def make_loss(spec: str = "ce", *, ignore_index: int | None = None, from_logits: bool = False) -> keras.losses.Loss:
    """The loss named by ``spec``: ``"ce"``, ``"dice"``, ``"focal"`` (gamma 2), ``"lovasz"`` or a weighted sum.

    A single unweighted term is that loss itself; a sum is a :class:`CombinedLoss` named by the canonical spec.

    Example:
        >>> type(make_loss("ce", ignore_index=11)).__name__
        'SegmentationCrossentropy'
        >>> make_loss("ce+0.5*dice").weights
        [1.0, 0.5]
    """
    terms = parse_loss(spec)
    settings = {"ignore_index": ignore_index, "from_logits": from_logits}
    classes = {
        "ce": SegmentationCrossentropy,
        "dice": SegmentationDiceLoss,
        "focal": SegmentationFocalLoss,
        "lovasz": LovaszSoftmaxLoss,
    }
    losses = [classes[name](**settings) for _, name in terms]
    if len(terms) == 1 and terms[0][0] == 1.0:
        return losses[0]
    return CombinedLoss(losses, [weight for weight, _ in terms], name=loss_name(spec))


__all__ = [
    "LOSS_NAMES",
    "CombinedLoss",
    "LovaszSoftmaxLoss",
    "SegmentationCrossentropy",
    "SegmentationDiceLoss",
    "SegmentationFocalLoss",
    "loss_name",
    "make_loss",
    "parse_loss",
]
