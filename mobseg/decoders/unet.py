"""The U-Net decoder of keras_segmentation's ``_unet`` and the decoder half of its self-contained ``unet_mini``.

Both follow the decoder contract of :mod:`mobseg.decoders.base`: they start from the pyramid's map at ``level``
and join the maps of the levels below it on the way up.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from mobseg.activations import ActivationSpec
from mobseg.decoders.base import optional_activation, pyramid_levels
from mobseg.encoders.unet_mini import check_dropout, unet_mini_block, unet_mini_encoder
from mobseg.validation import check_int

#: Filters of the four decoder convolutions, from f4 (stride 16) up to stride 2.
UNET_FILTERS: tuple[int, ...] = (512, 256, 128, 64)


def unet_decoder(
    pyramid: Sequence[keras.KerasTensor],
    n_classes: int,
    l1_skip_conn: bool = True,
    decoder_activation: ActivationSpec | None = "relu",
    prefix: str = "unet",
    *,
    level: int = 3,
) -> keras.KerasTensor:
    """Decode [f1, f2, f3, f4] to per-pixel logits at stride 2 (half the input size).

    As keras_segmentation: pad + 3x3 conv 512 on f4, BN; then three times upsample x2, concatenate the
    skip (f3, f2, and f1 when ``l1_skip_conn``), pad + 3x3 conv (256, 128, 64), BN; a 3x3 'same'
    convolution to ``n_classes``. The original puts the ReLU inside each convolution, i.e. *before*
    BatchNormalization; mobseg keeps that order with a separate activation layer (``unet_act_i``).
    ``decoder_activation=None`` leaves the activations out (a linear decoder); any other spec replaces ReLU.
    Extra levels (f5) are ignored. ``level`` (3, f4, as the original) is where decoding starts; a lower one
    starts with the later, narrower convolutions (``level=2``: f3 with 256 filters) and still ends at stride 2.

    Example:
        >>> from mobseg.encoders import vanilla_encoder
        >>> img, levels = vanilla_encoder(64, 64)
        >>> unet_decoder(levels, n_classes=5).shape, unet_decoder(levels, 5, level=2, prefix="u2").shape
        ((None, 32, 32, 5), (None, 32, 32, 5))
    """
    maps = pyramid_levels(pyramid, level, None, "unet_decoder")
    if len(maps) > len(UNET_FILTERS):
        stages = len(UNET_FILTERS)
        raise ValueError(f"unet_decoder: level={level} is too deep; its {stages} stages start at f{stages} at most.")
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    act = optional_activation(decoder_activation)
    x, skips = maps[-1], maps[-2::-1]  # the map at level, then the levels below it: f3, f2, f1 from f4
    if skips and not l1_skip_conn:
        skips[-1] = None

    for i, filters in enumerate(UNET_FILTERS[-len(maps) :], start=1):
        if i > 1:
            x = keras.layers.UpSampling2D((2, 2), name=f"{prefix}_up_{i}")(x)
            skip = skips[i - 2]
            if skip is not None:
                x = keras.layers.Concatenate(axis=-1, name=f"{prefix}_concat_{i}")([x, skip])
        x = keras.layers.ZeroPadding2D((1, 1), name=f"{prefix}_pad_{i}")(x)
        x = keras.layers.Conv2D(filters, (3, 3), padding="valid", name=f"{prefix}_conv_{i}")(x)
        if act is not None:
            x = act(f"{prefix}_act_{i}")(x)
        x = keras.layers.BatchNormalization(name=f"{prefix}_bn_{i}")(x)
    return keras.layers.Conv2D(n_classes, (3, 3), padding="same", name=f"{prefix}_classifier")(x)


def unet_mini_decoder(
    pyramid: Sequence[keras.KerasTensor],
    n_classes: int,
    *,
    level: int = 2,
    decoder_activation: ActivationSpec | None = "relu",
    dropout: float = 0.2,
    prefix: str = "unet_mini",
) -> keras.KerasTensor:
    """``unet_mini``'s decoder on its encoder's [f1, f2, f3] (:func:`mobseg.encoders.unet_mini.unet_mini_encoder`).

    From the map at ``level`` (f3), each level below is joined back: upsample x2, concatenate that level's map,
    two 3x3 convolutions with its filters (64, then 32) and ``Dropout`` between; then a 1x1 convolution to
    ``n_classes``. The output has the size of f1, i.e. the input's.

    Example:
        >>> from mobseg.encoders.unet_mini import unet_mini_encoder
        >>> unet_mini_decoder(unet_mini_encoder(32, 32).pyramid, 4).shape
        (None, 32, 32, 4)
    """
    maps = pyramid_levels(pyramid, level, None, "unet_mini_decoder")
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    dropout = check_dropout(dropout)
    act = optional_activation(decoder_activation)
    x = maps[-1]
    for depth, skip in enumerate(maps[-2::-1], start=level + 2):  # layer numbers go on from the encoder's
        x = keras.layers.UpSampling2D((2, 2), name=f"{prefix}_up{depth}")(x)
        x = keras.layers.Concatenate(axis=-1, name=f"{prefix}_concat{depth}")([x, skip])
        x = unet_mini_block(x, int(skip.shape[-1]), depth, act, dropout, prefix)
    return keras.layers.Conv2D(n_classes, (1, 1), padding="same", name=f"{prefix}_classifier")(x)


def unet_mini_body(
    inputs: keras.KerasTensor,
    n_classes: int,
    activation: ActivationSpec | None = "relu",
    decoder_activation: ActivationSpec | None = "relu",
    dropout: float = 0.2,
    prefix: str = "unet_mini",
) -> keras.KerasTensor:
    """keras_segmentation's ``unet_mini``: a small U-Net with its own encoder, from the image to logits.

    Encoder: two 3x3 'same' convolutions (32, 64, 128 filters) with ``Dropout`` between them at each of three
    levels, 2x2 max pooling between levels. Decoder: twice upsample x2, concatenate the encoder's map of that
    size, two 3x3 convolutions (64, then 32) with ``Dropout`` between; a 1x1 convolution to ``n_classes``.
    The output has the input's size (height and width must be multiples of 4). The original fuses ReLU into
    every convolution; here ``activation`` acts in the encoder half and ``decoder_activation`` in the decoder
    half, each as a separate layer after the convolution (``None`` leaves it out). The halves on their own:
    :func:`mobseg.encoders.unet_mini.unet_mini_encoder` and :func:`unet_mini_decoder`.

    Example:
        >>> x = keras.Input((32, 32, 3))
        >>> unet_mini_body(x, n_classes=4).shape
        (None, 32, 32, 4)
    """
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    features = unet_mini_encoder(activation=activation, dropout=dropout, input_tensor=inputs, prefix=prefix)
    return unet_mini_decoder(
        features.pyramid, n_classes, decoder_activation=decoder_activation, dropout=dropout, prefix=prefix
    )


__all__ = ["UNET_FILTERS", "unet_decoder", "unet_mini_body", "unet_mini_decoder"]
