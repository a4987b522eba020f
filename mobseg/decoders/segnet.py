"""The SegNet decoder of keras_segmentation (and of the MobileNet-SegNet article); see :mod:`mobseg.decoders.base`."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from mobseg.activations import ActivationSpec
from mobseg.decoders.base import level_map, optional_activation
from mobseg.validation import check_int


def segnet_decoder(
    features: keras.KerasTensor | Sequence[keras.KerasTensor],
    n_classes: int,
    n_up: int = 3,
    decoder_activation: ActivationSpec | None = None,
    prefix: str = "segnet",
    *,
    level: int = 3,
) -> keras.KerasTensor:
    """Upsample the pyramid's map at ``level`` by ``2 ** n_up`` and classify each pixel (logits, no softmax).

    ``features`` is the encoder's pyramid ``[f1..f5]`` (``level=3``, the article's f4, is decoded) or, as
    in the original, the one map to decode.

    The layers, as in the article: pad, conv 512, BN; up, pad, conv 256, BN;
    ``n_up - 2`` x (up, pad, conv 128, BN); up, pad, conv 64, BN; a 3x3 'same' conv to
    ``n_classes``. The article puts **no activation** between these convolutions, so the
    decoder is one linear map (BN included) until the softmax; that is kept as the default for
    fidelity. ``decoder_activation="relu"`` (or any activation spec) adds one after each BN;
    it adds no parameters except for activations with weights (``"prelu"``).

    Example:
        >>> from mobseg.encoders import mobilenet_encoder
        >>> img, levels = mobilenet_encoder(64, 64)
        >>> segnet_decoder(levels, 5, level=3).shape, segnet_decoder(levels[3], 5, prefix="b").shape
        ((None, 32, 32, 5), (None, 32, 32, 5))
    """
    n_up = check_int(n_up, "n_up", minimum=2, hint=" The SegNet decoder upsamples at least twice.")
    act = optional_activation(decoder_activation)
    filters = [512, 256] + [128] * (n_up - 2) + [64]

    x = level_map(features, level, "segnet_decoder")
    for i, f in enumerate(filters, start=1):
        if i > 1:
            x = keras.layers.UpSampling2D((2, 2), name=f"{prefix}_up_{i}")(x)
        x = keras.layers.ZeroPadding2D((1, 1), name=f"{prefix}_pad_{i}")(x)
        x = keras.layers.Conv2D(f, (3, 3), padding="valid", name=f"{prefix}_conv_{i}")(x)
        x = keras.layers.BatchNormalization(name=f"{prefix}_bn_{i}")(x)
        if act is not None:
            x = act(f"{prefix}_act_{i}")(x)
    return keras.layers.Conv2D(n_classes, (3, 3), padding="same", name=f"{prefix}_classifier")(x)
