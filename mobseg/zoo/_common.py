"""Steps shared by every model factory: argument checks, the encoder call, the finished model."""

from __future__ import annotations

from typing import Any

import keras

from mobseg.activations import ActivationSpec
from mobseg.encoders import EncoderFeatures, get_encoder
from mobseg.heads import check_head
from mobseg.model import SegmentationModel
from mobseg.validation import check_input_size, check_int, check_n_classes


def check_common(n_classes: object, channels: object, head: object) -> tuple[int, int, str]:
    """Validate the arguments every factory shares; return them normalised.

    Example:
        >>> check_common(12, 3, "flat")
        (12, 3, 'flat')
    """
    n_classes = check_n_classes(n_classes)
    channels = check_int(channels, "channels", minimum=1, hint=" Use 1 for grayscale, 3 for RGB, 4 for RGBA.")
    return n_classes, channels, check_head(head)


def check_size(model: str, input_height: object, input_width: object, multiple: int, reason: str) -> tuple[int, int]:
    """Check the model's input-size rule up front (see :func:`mobseg.validation.check_input_size`).

    Example:
        >>> check_size("fcn_8", 64, 96, 32, "f5 has stride 32")
        (64, 96)
    """
    return check_input_size(model, input_height, input_width, multiple, reason)


def encode(
    encoder: str,
    input_height: int,
    input_width: int,
    channels: int,
    activation: ActivationSpec,
    **encoder_kwargs: Any,
) -> EncoderFeatures:
    """Build the named encoder (``vanilla``, ``vgg16``, ``resnet50``, ``mobilenet``).

    Example:
        >>> encode("vanilla", 32, 32, 3, "relu").channels
        [64, 128, 256, 256, 256]
    """
    return get_encoder(encoder)(input_height, input_width, channels=channels, activation=activation, **encoder_kwargs)


def finish(
    name: str, features: EncoderFeatures, logits: keras.KerasTensor, head: str, logits_output: bool
) -> SegmentationModel:
    """Wrap encoder input and decoder logits into a :class:`SegmentationModel` with the chosen head.

    Example:
        >>> feats = encode("vanilla", 32, 32, 3, "relu")
        >>> x = keras.layers.Conv2D(2, 1)(feats.pyramid[0])
        >>> finish("tiny", feats, x, "spatial", False).output_shape
        (None, 16, 16, 2)
    """
    return SegmentationModel.from_logits(
        features.inputs,
        logits,
        name=name,
        head=head,
        logits_output=logits_output,
        preprocessing=features.preprocessing,
    )


__all__ = ["check_common", "check_size", "encode", "finish"]
