"""Output heads: how per-pixel logits are presented to the loss and the user."""

from __future__ import annotations

import keras

#: ``"flat"``: Reshape to (H*W, n_classes) as the article; ``"spatial"``: keep (H, W, n_classes).
HEADS: tuple[str, ...] = ("flat", "spatial")


def check_head(head: str) -> str:
    """Validate a head name.

    Example:
        >>> check_head("spatial")
        'spatial'
    """
    if head not in HEADS:
        raise ValueError(f"Unknown head {head!r}; use one of {', '.join(HEADS)}.")
    return head


def segmentation_head(logits: keras.KerasTensor, head: str = "flat", logits_output: bool = False) -> keras.KerasTensor:
    """Finish a model: flatten (the article's Reshape) or keep spatial, then Softmax unless logits.

    ``"flat"`` gives ``(N, H*W, n_classes)`` exactly as keras_segmentation; ``"spatial"`` gives
    ``(N, H, W, n_classes)``, the layout to deploy. With ``logits_output=True`` the Softmax is left
    out (use a ``from_logits=True`` loss).

    Example:
        >>> x = keras.Input((8, 8, 3))
        >>> segmentation_head(x).shape
        (None, 64, 3)
    """
    check_head(head)
    height, width, n_classes = logits.shape[1:]
    x = logits
    if head == "flat":
        if height is None or width is None:
            raise ValueError("The 'flat' head needs a fixed input size; pass input_height and input_width.")
        x = keras.layers.Reshape((height * width, n_classes), name="output_reshape")(x)
    if not logits_output:
        x = keras.layers.Softmax(name="output_softmax")(x)
    return x
