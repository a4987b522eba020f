"""The FCN-8 and FCN-32 decoders of keras_segmentation.

Both start with the "fully convolutional" classifier on f5: a 7x7 convolution to 4096 channels, ReLU,
``Dropout(0.5)``, a 1x1 convolution to 4096, ReLU, ``Dropout(0.5)``, and a 1x1 ``he_normal`` "score"
convolution to ``n_classes``. FCN-32 then upsamples 32x with one transposed convolution (kernel 64);
FCN-8 upsamples 2x (kernel 4), adds the scored f4, upsamples 2x again, adds the scored f3 and upsamples 8x
(kernel 16). All transposed convolutions are ``'valid'`` and have no bias.

Faithful flaw: a ``'valid'`` transposed convolution with kernel ``2 * stride`` makes ``stride`` extra pixels,
so the original's output is **8 px (FCN-8) or 32 px (FCN-32) larger than the input** in height and width,
and never cropped back (the intermediate sums crop the extra 2 px at the bottom/right only). This is the
default here too, so shapes and parameters match. ``crop=True`` crops the final map to the input's grid
(half the excess from each side, which centres each upsampling kernel on the cell it came from); it adds a
weightless ``Cropping2D`` and changes no parameters.

``fc_filters`` (default 4096, as the original) sets the width of the two fc6/fc7 convolutions; the 7x7 one
holds ``49 * C5 * fc_filters`` weights (411M on ResNet50's 2048-channel f5), so a smaller width makes FCN on
big encoders practical. Any value other than 4096 changes the parameter count.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from mobseg.activations import ActivationSpec
from mobseg.decoders.base import optional_activation, pyramid_levels
from mobseg.validation import check_int

#: Width of the two "fully connected as convolution" layers (VGG's fc6/fc7) in keras_segmentation.
FCN_FC_FILTERS = 4096


def _crop_to_match(
    o1: keras.KerasTensor, o2: keras.KerasTensor, name: str
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """keras_segmentation's ``crop(o1, o2)``: crop the larger map at the right, then at the bottom.

    Like the original it always emits two ``Cropping2D`` layers (width, then height), cropping 0 px from the
    second map when the sizes are equal.
    """
    (h1, w1), (h2, w2) = o1.shape[1:3], o2.shape[1:3]
    cx, cy = abs(w1 - w2), abs(h1 - h2)
    width_crop = keras.layers.Cropping2D(((0, 0), (0, cx)), name=f"{name}_crop_w")
    if w1 > w2:
        o1 = width_crop(o1)
    else:
        o2 = width_crop(o2)
    height_crop = keras.layers.Cropping2D(((0, cy), (0, 0)), name=f"{name}_crop_h")
    if h1 > h2:
        o1 = height_crop(o1)
    else:
        o2 = height_crop(o2)
    return o1, o2


def _fcn_head(
    f5: keras.KerasTensor, n_classes: int, decoder_activation: ActivationSpec | None, fc_filters: int, prefix: str
) -> keras.KerasTensor:
    act = optional_activation(decoder_activation)
    fc_filters = check_int(fc_filters, "fc_filters", minimum=1, hint=" The original uses 4096.")
    x = f5
    for layer, kernel in ((6, (7, 7)), (7, (1, 1))):
        x = keras.layers.Conv2D(fc_filters, kernel, padding="same", name=f"{prefix}_conv{layer}")(x)
        if act is not None:
            x = act(f"{prefix}_conv{layer}_act")(x)
        x = keras.layers.Dropout(0.5, name=f"{prefix}_drop{layer}")(x)
    return keras.layers.Conv2D(n_classes, (1, 1), kernel_initializer="he_normal", name=f"{prefix}_score5")(x)


def _final_crop(x: keras.KerasTensor, excess: int, crop: bool, prefix: str) -> keras.KerasTensor:
    if not crop:
        return x
    half = excess // 2
    return keras.layers.Cropping2D(((half, excess - half), (half, excess - half)), name=f"{prefix}_crop_to_input")(x)


def fcn8_decoder(
    pyramid: Sequence[keras.KerasTensor],
    n_classes: int,
    decoder_activation: ActivationSpec | None = "relu",
    crop: bool = False,
    fc_filters: int = FCN_FC_FILTERS,
    prefix: str = "fcn",
    *,
    level: int = 4,
) -> keras.KerasTensor:
    """FCN-8 on [f1..f5]: logits of size ``input + 8`` (faithful) or ``input`` (``crop=True``).

    The classifier runs on the map at ``level`` (f5) and is fused with the two levels below it (f4, f3).
    ``decoder_activation`` replaces the ReLU after the two 4096-channel convolutions (``None``: none);
    ``fc_filters`` sets their width (4096 in the original).

    Example:
        >>> from mobseg.encoders import vanilla_encoder
        >>> img, levels = vanilla_encoder(64, 64)
        >>> fcn8_decoder(levels, 3).shape, fcn8_decoder(levels, 3, crop=True, prefix="b").shape
        ((None, 72, 72, 3), (None, 64, 64, 3))
    """
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    f3, f4, f5 = pyramid_levels(pyramid, level, 3, "fcn8_decoder")
    x = _fcn_head(f5, n_classes, decoder_activation, fc_filters, prefix)
    x = keras.layers.Conv2DTranspose(n_classes, (4, 4), strides=(2, 2), use_bias=False, name=f"{prefix}_up5")(x)
    s4 = keras.layers.Conv2D(n_classes, (1, 1), kernel_initializer="he_normal", name=f"{prefix}_score4")(f4)
    x, s4 = _crop_to_match(x, s4, f"{prefix}_fuse4")
    x = keras.layers.Add(name=f"{prefix}_add4")([x, s4])

    x = keras.layers.Conv2DTranspose(n_classes, (4, 4), strides=(2, 2), use_bias=False, name=f"{prefix}_up4")(x)
    s3 = keras.layers.Conv2D(n_classes, (1, 1), kernel_initializer="he_normal", name=f"{prefix}_score3")(f3)
    s3, x = _crop_to_match(s3, x, f"{prefix}_fuse3")
    x = keras.layers.Add(name=f"{prefix}_add3")([s3, x])

    x = keras.layers.Conv2DTranspose(n_classes, (16, 16), strides=(8, 8), use_bias=False, name=f"{prefix}_up3")(x)
    return _final_crop(x, 8, crop, prefix)


def fcn32_decoder(
    pyramid: Sequence[keras.KerasTensor],
    n_classes: int,
    decoder_activation: ActivationSpec | None = "relu",
    crop: bool = False,
    fc_filters: int = FCN_FC_FILTERS,
    prefix: str = "fcn",
    *,
    level: int = 4,
) -> keras.KerasTensor:
    """FCN-32 on [f1..f5] (only the map at ``level``, f5, is used): logits of size ``input + 32`` or ``input``.

    ``crop=True`` gives the input's size; the rest is as :func:`fcn8_decoder`.

    Example:
        >>> from mobseg.encoders import vanilla_encoder
        >>> img, levels = vanilla_encoder(64, 64)
        >>> fcn32_decoder(levels, 3).shape
        (None, 96, 96, 3)
    """
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    (f5,) = pyramid_levels(pyramid, level, 1, "fcn32_decoder")
    x = _fcn_head(f5, n_classes, decoder_activation, fc_filters, prefix)
    x = keras.layers.Conv2DTranspose(n_classes, (64, 64), strides=(32, 32), use_bias=False, name=f"{prefix}_up5")(x)
    return _final_crop(x, 32, crop, prefix)


#: Pixels the uncropped decoder adds to the input's height and width.
FCN_EXCESS: dict[str, int] = {"fcn_8": 8, "fcn_32": 32}

__all__ = ["FCN_EXCESS", "FCN_FC_FILTERS", "fcn8_decoder", "fcn32_decoder"]
