"""Image preprocessing that matches each encoder, applied the same way in training and prediction.

Modes (recorded in ``model.architecture["preprocessing"]``):

* ``"mobilenet"``: ``x / 127.5 - 1`` -> [-1, 1] (MobileNet's ImageNet weights expect this).
* ``"caffe"``: RGB -> BGR and subtract the ImageNet channel means (VGG16 / ResNet50 in Keras
  applications). For inputs without 3 channels the channel order is kept and the mean of the three
  means (114.8) is subtracted from every channel.
* ``"unit"``: ``x / 255`` -> [0, 1] (encoders trained from scratch).
* ``"none"``: images are passed through unchanged.

Images are float arrays or tensors in [0, 255], channels last.
"""

from __future__ import annotations

from typing import Any

#: ImageNet means in BGR order, as used by Keras applications' "caffe" mode.
CAFFE_MEAN_BGR: tuple[float, float, float] = (103.939, 116.779, 123.68)

PREPROCESSING_MODES: tuple[str, ...] = ("mobilenet", "caffe", "unit", "none")


def check_preprocessing(mode: str) -> str:
    """Validate a preprocessing mode name.

    Example:
        >>> check_preprocessing("mobilenet")
        'mobilenet'
    """
    if mode not in PREPROCESSING_MODES:
        raise ValueError(f"Unknown preprocessing {mode!r}; use one of: {', '.join(PREPROCESSING_MODES)}.")
    return mode


def preprocess_images(images: Any, mode: str) -> Any:
    """Scale images in [0, 255] (numpy array, TF tensor or backend tensor) the way ``mode`` says.

    Works on a batch ``(N, H, W, C)`` or a single image ``(H, W, C)``; inside ``tf.data`` too.

    Example:
        >>> import numpy as np
        >>> preprocess_images(np.array([[[0.0, 127.5, 255.0]]]), "mobilenet").tolist()
        [[[-1.0, 0.0, 1.0]]]
    """
    check_preprocessing(mode)
    if mode == "mobilenet":
        return images / 127.5 - 1.0
    if mode == "unit":
        return images / 255.0
    if mode == "caffe":
        if images.shape[-1] != 3:
            return images - sum(CAFFE_MEAN_BGR) / 3.0
        if _is_backend_tensor(images):  # JAX / PyTorch tensors: no negative-step slices in torch
            from keras import ops

            return ops.flip(images, axis=-1) - ops.convert_to_tensor(CAFFE_MEAN_BGR, dtype=images.dtype)
        return images[..., ::-1] - CAFFE_MEAN_BGR
    return images


def _is_backend_tensor(images: Any) -> bool:
    """True for JAX arrays and PyTorch tensors (numpy arrays and TensorFlow tensors slice with ``::-1``)."""
    return type(images).__module__.split(".")[0] in ("torch", "jax", "jaxlib")
