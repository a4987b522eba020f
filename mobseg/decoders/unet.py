"""The U-Net decoder of keras_segmentation's ``_unet`` and its self-contained ``unet_mini``."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from mobseg.activations import ActivationSpec, LayerMaker, resolve_activation
from mobseg.validation import check_int

#: Filters of the four decoder convolutions, from f4 (stride 16) up to stride 2.
UNET_FILTERS: tuple[int, ...] = (512, 256, 128, 64)


def _maybe_act(spec: ActivationSpec | None, argument: str) -> LayerMaker | None:
    return None if spec is None else resolve_activation(spec, argument=argument)


def unet_decoder(
    pyramid: Sequence[keras.KerasTensor],
    n_classes: int,
    l1_skip_conn: bool = True,
    decoder_activation: ActivationSpec | None = "relu",
    prefix: str = "unet",
) -> keras.KerasTensor:
    """Decode [f1, f2, f3, f4] to per-pixel logits at stride 2 (half the input size).

    As keras_segmentation: pad + 3x3 conv 512 on f4, BN; then three times upsample x2, concatenate the
    skip (f3, f2, and f1 when ``l1_skip_conn``), pad + 3x3 conv (256, 128, 64), BN; a 3x3 'same'
    convolution to ``n_classes``. The original puts the ReLU inside each convolution, i.e. *before*
    BatchNormalization; mobseg keeps that order with a separate activation layer (``unet_act_i``).
    ``decoder_activation=None`` leaves the activations out (a linear decoder); any other spec replaces ReLU.
    Extra levels (f5) are ignored.

    Example:
        >>> from mobseg.encoders import vanilla_encoder
        >>> img, levels = vanilla_encoder(64, 64)
        >>> unet_decoder(levels, n_classes=5).shape
        (None, 32, 32, 5)
    """
    if len(pyramid) < 4:
        raise ValueError(f"unet_decoder needs the pyramid levels [f1, f2, f3, f4]; got {len(pyramid)} levels.")
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    act = _maybe_act(decoder_activation, "decoder_activation")
    f1, f2, f3, f4 = pyramid[:4]
    skips = (f3, f2, f1 if l1_skip_conn else None)

    x = f4
    for i, filters in enumerate(UNET_FILTERS, start=1):
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
    half, each as a separate layer after the convolution (``None`` leaves it out).

    Example:
        >>> x = keras.Input((32, 32, 3))
        >>> unet_mini_body(x, n_classes=4).shape
        (None, 32, 32, 4)
    """
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a rate in [0, 1), e.g. 0.2 (the original); got {dropout!r}.")
    enc_act = _maybe_act(activation, "activation")
    dec_act = _maybe_act(decoder_activation, "decoder_activation")

    def double_conv(x: keras.KerasTensor, filters: int, level: int, act: LayerMaker | None) -> keras.KerasTensor:
        for j in (1, 2):
            name = f"{prefix}_conv{level}_{j}"
            x = keras.layers.Conv2D(filters, (3, 3), padding="same", name=name)(x)
            if act is not None:
                x = act(f"{name}_act")(x)
            if j == 1:
                x = keras.layers.Dropout(dropout, name=f"{prefix}_drop{level}")(x)
        return x

    conv1 = double_conv(inputs, 32, 1, enc_act)
    x = keras.layers.MaxPooling2D((2, 2), name=f"{prefix}_pool1")(conv1)
    conv2 = double_conv(x, 64, 2, enc_act)
    x = keras.layers.MaxPooling2D((2, 2), name=f"{prefix}_pool2")(conv2)
    x = double_conv(x, 128, 3, enc_act)

    for level, (skip, filters) in enumerate(((conv2, 64), (conv1, 32)), start=4):
        x = keras.layers.UpSampling2D((2, 2), name=f"{prefix}_up{level}")(x)
        x = keras.layers.Concatenate(axis=-1, name=f"{prefix}_concat{level}")([x, skip])
        x = double_conv(x, filters, level, dec_act)
    return keras.layers.Conv2D(n_classes, (1, 1), padding="same", name=f"{prefix}_classifier")(x)


__all__ = ["UNET_FILTERS", "unet_decoder", "unet_mini_body"]
