"""The PSPNet decoder (pyramid pooling module) of keras_segmentation's ``_pspnet``."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from mobseg.activations import ActivationSpec
from mobseg.decoders.base import level_map, optional_activation
from mobseg.validation import check_int

#: Bins of the pyramid pooling module: the f5 map is average-pooled to 1x1, 2x2, 3x3 and 6x6.
PSP_POOL_FACTORS: tuple[int, ...] = (1, 2, 3, 6)

#: Final bilinear upsampling of the logits (from stride 32 to stride 4).
PSP_FINAL_UPSAMPLING = 8


def pspnet_decoder(
    features: keras.KerasTensor | Sequence[keras.KerasTensor],
    n_classes: int,
    decoder_activation: ActivationSpec | None = "relu",
    prefix: str = "psp",
    *,
    level: int = 4,
) -> keras.KerasTensor:
    """Pyramid pooling on the pyramid's map at ``level`` (f5), then logits upsampled 8x: 1/4 of the input size.

    ``features`` is the encoder's pyramid ``[f1..f5]`` or, as in the original, the one map to decode (f5).

    For each bin count p in 1, 2, 3, 6: average pooling with ``pool_size = strides = round(h / p)``
    ('same'), a 1x1 convolution to 512 without bias, BN, ReLU, and a bilinear resize back by the same factor;
    the four maps are concatenated with ``features``, then a 1x1 convolution to 512 without bias, BN, ReLU,
    a 3x3 'same' convolution to ``n_classes`` and a bilinear 8x upsampling.

    keras_segmentation resizes with a ``Lambda`` around ``K.resize_images(..., interpolation='bilinear')``;
    mobseg uses ``UpSampling2D(size, interpolation="bilinear")`` with the same integer factors (same numbers,
    serializable, no ``Lambda``); both resize with half-pixel centres as ``tf.image.resize`` does (very old
    Keras 2.2 / TF 1 installs used ``tf.image.resize_bilinear`` without them: same weights, slightly different
    interpolated values). The factors depend on the input size, so the map's height and width must
    be multiples of 6 (input multiples of 192), which the model factories check.
    ``decoder_activation`` replaces all five ReLUs (``None``: none).

    Example:
        >>> x = keras.Input((6, 6, 256))
        >>> pspnet_decoder(x, n_classes=4).shape
        (None, 48, 48, 4)
    """
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    act = optional_activation(decoder_activation)
    features = level_map(features, level, "pspnet_decoder")
    height, width = features.shape[1:3]
    if height is None or width is None:
        raise ValueError("pspnet_decoder needs a fixed feature size; pass input_height and input_width.")
    for p in PSP_POOL_FACTORS:
        if height % p or width % p:
            raise ValueError(
                f"pspnet_decoder: features of {height}x{width} cannot be pooled into {p}x{p} bins and resized "
                "back exactly; their height and width must be multiples of 6 (inputs multiples of 192)."
            )

    outs = [features]
    for p in PSP_POOL_FACTORS:
        # keras_segmentation: pool_size = strides = int(np.round(h / p)); h is a multiple of p here.
        size = (round(height / p), round(width / p))
        x = keras.layers.AveragePooling2D(size, strides=size, padding="same", name=f"{prefix}_pool{p}_avg")(features)
        x = keras.layers.Conv2D(512, (1, 1), padding="same", use_bias=False, name=f"{prefix}_pool{p}_conv")(x)
        x = keras.layers.BatchNormalization(name=f"{prefix}_pool{p}_bn")(x)
        if act is not None:
            x = act(f"{prefix}_pool{p}_act")(x)
        x = keras.layers.UpSampling2D(size, interpolation="bilinear", name=f"{prefix}_pool{p}_resize")(x)
        outs.append(x)

    x = keras.layers.Concatenate(axis=-1, name=f"{prefix}_concat")(outs)
    x = keras.layers.Conv2D(512, (1, 1), use_bias=False, name=f"{prefix}_conv")(x)
    x = keras.layers.BatchNormalization(name=f"{prefix}_bn")(x)
    if act is not None:
        x = act(f"{prefix}_act")(x)
    x = keras.layers.Conv2D(n_classes, (3, 3), padding="same", name=f"{prefix}_classifier")(x)
    return keras.layers.UpSampling2D(
        (PSP_FINAL_UPSAMPLING, PSP_FINAL_UPSAMPLING), interpolation="bilinear", name=f"{prefix}_resize"
    )(x)


__all__ = ["PSP_FINAL_UPSAMPLING", "PSP_POOL_FACTORS", "pspnet_decoder"]
