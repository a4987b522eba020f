"""The encoder contract: an image input and a feature pyramid f1..f5 (three levels for ``unet_mini``'s own encoder)."""

from __future__ import annotations

from dataclasses import dataclass, field

import keras

#: Stride of each pyramid level f1..f5 relative to the input.
PYRAMID_STRIDES: tuple[int, ...] = (2, 4, 8, 16, 32)

#: Output strides an encoder can be built with: 32 (as designed), 16 and 8 (the last stages dilated).
OUTPUT_STRIDES: tuple[int, ...] = (8, 16, 32)


def check_output_stride(output_stride: object) -> int:
    """Return ``output_stride`` if it is 8, 16 or 32, else a ``ValueError``.

    Example:
        >>> check_output_stride(16)
        16
    """
    if isinstance(output_stride, bool) or output_stride not in OUTPUT_STRIDES:
        raise ValueError(
            f"output_stride={output_stride!r} is not supported; use 32 (the encoder as built), 16 or 8 "
            "(the last stages dilated instead of strided)."
        )
    return int(output_stride)


@dataclass
class EncoderFeatures:
    """What every encoder returns.

    Attributes:
        inputs: the image input tensor (``keras.Input``).
        pyramid: the feature maps [f1, f2, f3, f4, f5] (``unet_mini``'s own encoder has three: [f1, f2, f3]).
        name: the encoder's name, e.g. ``"mobilenet"``.
        preprocessing: how images must be scaled before the encoder (``"mobilenet"``: [-1, 1]).
        strides: each level's stride relative to the input.

    Example:
        >>> from mobseg.encoders import mobilenet_encoder
        >>> feats = mobilenet_encoder(input_height=64, input_width=64)
        >>> feats.channels
        [64, 128, 256, 512, 1024]
    """

    inputs: keras.KerasTensor
    pyramid: list[keras.KerasTensor]
    name: str
    preprocessing: str
    strides: tuple[int, ...] = field(default=PYRAMID_STRIDES)

    @property
    def channels(self) -> list[int]:
        """Channels of f1..f5."""
        return [int(f.shape[-1]) for f in self.pyramid]

    def __iter__(self):
        """Unpack as ``img_input, levels = encoder(...)``, like keras_segmentation."""
        return iter((self.inputs, self.pyramid))


def make_input(
    input_height: int | None,
    input_width: int | None,
    channels: int,
    input_tensor: keras.KerasTensor | None = None,
) -> keras.KerasTensor:
    """The image input every mobseg encoder starts from (named ``image``), or ``input_tensor`` if given.

    Example:
        >>> make_input(64, 64, 3).shape
        (None, 64, 64, 3)
    """
    if input_tensor is not None:
        return input_tensor
    return keras.Input(shape=(input_height, input_width, channels), name="image")
