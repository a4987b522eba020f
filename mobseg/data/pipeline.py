"""The ``tf.data`` input pipeline: parallel decode, joint augmentation, resize, weights, batch, prefetch.

Each element is ``(image, labels, sample_weight)``:

* ``image``: float32 ``(B, H, W, C)`` at the model's input size, preprocessed for its encoder;
* ``labels``: int32 at the model's *output* size, ``(B, h*w)`` for the flat head or ``(B, h, w)``
  for the spatial head (nearest-neighbour resized, so no new label values appear);
* ``sample_weight``: float32, same shape as ``labels``: the class weight of each pixel, and 0 for
  ``ignore_index`` pixels and for padding added by zoom-out augmentation.

Decoding uses Pillow (palette, 16-bit, tif and bmp all work) inside ``tf.numpy_function`` with
``num_parallel_calls``; the rest runs as TensorFlow ops.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from mobseg.data.augment import Augmentation, crop_resize, jitter_colors, region_box, sample_region
from mobseg.data.images import read_image_uint8
from mobseg.data.masks import binary_mask_hint, check_mask_format, parse_colors, read_mask
from mobseg.data.pairs import Pair
from mobseg.model import SegmentationModel
from mobseg.preprocessing import check_preprocessing, preprocess_images


def make_decoder(
    channels: int,
    n_classes: int,
    ignore_index: int | None,
    mask_format: str = "index",
    colors: Any = None,
    errors: list[str] | None = None,
):
    """A function ``(image_path: bytes, mask_path: bytes) -> (uint8 image, int32 labels)`` that checks the pair.

    It raises ``ValueError`` naming the file for an unreadable file, a size mismatch or labels >= ``n_classes``
    that are not ``ignore_index``. The message is also appended to ``errors`` when given: the error reaches
    the training loop wrapped in a long pipeline traceback, and the caller can re-raise this sentence instead.

    Example:
        >>> decode = make_decoder(3, 2, None)
        >>> image, labels = decode(b"a.png", b"a_mask.png")  # doctest: +SKIP
    """
    mask_format = check_mask_format(mask_format, colors)
    color_map = parse_colors(colors) if colors is not None else None

    def decode(image_path: bytes | str, mask_path: bytes | str) -> tuple[np.ndarray, np.ndarray]:
        try:
            return checked(os.fsdecode(image_path), os.fsdecode(mask_path))
        except (ValueError, OSError) as err:
            if errors is not None:
                errors.append(str(err))
            raise

    def checked(image_path: str, mask_path: str) -> tuple[np.ndarray, np.ndarray]:
        image = read_image_uint8(image_path, channels)
        labels = read_mask(mask_path, mask_format, color_map)
        if image.shape[:2] != labels.shape:
            raise ValueError(
                f"{mask_path} is {labels.shape[1]}x{labels.shape[0]} but its image {image_path} is "
                f"{image.shape[1]}x{image.shape[0]} (width x height); run `mobseg verify` to list every problem."
            )
        bad = labels >= n_classes
        if ignore_index is not None:
            bad &= labels != ignore_index
        if bad.any():
            values = sorted(set(np.unique(labels[bad]).tolist()))[:10]
            raise ValueError(
                f"{mask_path} has label values {values} >= n_classes={n_classes}; fix the mask, raise n_classes "
                f"or set ignore_index (run `mobseg verify` to list every problem).{binary_mask_hint(labels)}"
            )
        return image, labels.astype(np.int32)

    return decode


def _example_transform(
    aug: Augmentation | None,
    input_size: tuple[int, int],
    output_size: tuple[int, int],
    *,
    n_classes: int,
    ignore_index: int | None,
    weights_table: tf.Tensor | None,
    preprocessing: str,
    head: str,
):
    """The per-example step: joint crop/flip/resize of image and labels, pixel weights, colour jitter."""
    in_h, in_w = input_size
    out_h, out_w = output_size
    fill_label = 0 if ignore_index is None else int(ignore_index)

    def transform(image: tf.Tensor, labels: tf.Tensor, seed_pair: tf.Tensor):
        shape = tf.shape(image)
        height, width = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
        if aug is not None:
            geometry_seed = tf.stack([seed_pair[0], seed_pair[1]])
            region = sample_region(height, width, aug, geometry_seed)
        else:
            region = (0.0, 0.0, height, width, tf.constant(False), tf.constant(False))
        x = crop_resize(image, region_box(region, height, width, in_h, in_w), (in_h, in_w), "bilinear", 0.0)
        y = crop_resize(
            labels[..., None], region_box(region, height, width, out_h, out_w), (out_h, out_w), "nearest", -1.0
        )
        y = tf.cast(tf.round(y[..., 0]), tf.int32)
        padded = y < 0
        valid = tf.logical_not(padded)
        if ignore_index is not None:
            valid = tf.logical_and(valid, tf.not_equal(y, ignore_index))
        if weights_table is not None:
            w = tf.gather(weights_table, tf.clip_by_value(y, 0, n_classes - 1))
            w = tf.where(valid, w, 0.0)
        else:
            w = tf.cast(valid, tf.float32)
        y = tf.where(padded, fill_label, y)
        if aug is not None:
            x = jitter_colors(x / 255.0, aug, tf.stack([seed_pair[1], seed_pair[0]])) * 255.0
        x = preprocess_images(x, preprocessing)
        if head == "flat":
            y = tf.reshape(y, [out_h * out_w])
            w = tf.reshape(w, [out_h * out_w])
        return x, y, w

    return transform


def _decoded_pairs(
    pairs: list[Pair], decode: Any, channels: int, *, cache: bool | str, shuffle: bool, seed: int, parallel: int
) -> tf.data.Dataset:
    """(uint8 image, int32 labels) per pair, decoded in parallel; shuffled per epoch and cached if asked."""

    def load(image_path: tf.Tensor, mask_path: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image, labels = tf.numpy_function(decode, [image_path, mask_path], [tf.uint8, tf.int32], stateful=False)
        image.set_shape([None, None, channels])
        labels.set_shape([None, None])
        return image, labels

    files = tf.data.Dataset.from_tensor_slices(([p.image for p in pairs], [p.mask for p in pairs]))
    shuffle_buffer = len(pairs)
    if cache is not False and cache is not None:
        ds = files.map(load, num_parallel_calls=parallel).cache("" if cache is True else os.fspath(cache))
        if shuffle:
            ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    else:
        ds = files.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True) if shuffle else files
        ds = ds.map(load, num_parallel_calls=parallel)
    return ds


def make_dataset(
    pairs: Sequence[Pair | tuple[str, str]],
    *,
    n_classes: int,
    input_size: tuple[int, int],
    output_size: tuple[int, int] | None = None,
    head: str = "flat",
    preprocessing: str = "none",
    channels: int = 3,
    batch_size: int = 8,
    shuffle: bool = False,
    augment: Augmentation | bool | dict | None = None,
    class_weights: Sequence[float] | None = None,
    ignore_index: int | None = None,
    mask_format: str = "index",
    colors: Any = None,
    cache: bool | str = False,
    seed: int = 0,
    num_parallel_calls: int | None = None,
    drop_remainder: bool = False,
    errors: list[str] | None = None,
) -> tf.data.Dataset:
    """Build the input pipeline for ``pairs`` (one pass over the data per iteration = one epoch).

    Order: (shuffle file list) -> parallel decode -> (cache) -> (shuffle decoded) -> joint
    augmentation + resize + weights + preprocessing -> batch -> prefetch. With ``shuffle=True`` the
    order changes every epoch; with ``augment`` the random draws change every epoch (both follow
    ``seed``). ``cache=True`` keeps decoded images in memory (a string: a cache file path).
    ``num_parallel_calls=None`` lets tf.data tune parallelism; an integer fixes it. ``errors`` collects the
    messages of bad files met while reading (see :func:`make_decoder`).

    Example:
        >>> ds = make_dataset(pairs, n_classes=3, input_size=(64, 64), output_size=(32, 32))  # doctest: +SKIP
        >>> x, y, w = next(iter(ds))  # doctest: +SKIP
        >>> x.shape, y.shape  # doctest: +SKIP
        (TensorShape([8, 64, 64, 3]), TensorShape([8, 1024]))
    """
    pairs = [p if isinstance(p, Pair) else Pair(*(os.fspath(q) for q in p)) for p in pairs]
    if not pairs:
        raise ValueError("make_dataset got no pairs; give at least one (image, mask) pair.")
    check_preprocessing(preprocessing)
    if head not in ("flat", "spatial"):
        raise ValueError(f"Unknown head {head!r}; use 'flat' or 'spatial'.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}.")
    in_h, in_w = (int(v) for v in input_size)
    out_h, out_w = (int(v) for v in (output_size or input_size))
    aug = Augmentation.from_value(augment)
    weights_table = None
    if class_weights is not None:
        if len(class_weights) != n_classes:
            raise ValueError(f"class_weights has {len(class_weights)} values for {n_classes} classes.")
        weights_table = tf.constant([float(w) for w in class_weights], tf.float32)
    parallel = tf.data.AUTOTUNE if num_parallel_calls is None else int(num_parallel_calls)
    decode = make_decoder(channels, n_classes, ignore_index, mask_format, colors, errors)
    transform = _example_transform(
        aug,
        (in_h, in_w),
        (out_h, out_w),
        n_classes=n_classes,
        ignore_index=ignore_index,
        weights_table=weights_table,
        preprocessing=preprocessing,
        head=head,
    )

    ds = _decoded_pairs(pairs, decode, channels, cache=cache, shuffle=shuffle, seed=seed, parallel=parallel)
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    ds = tf.data.Dataset.zip((ds, seeds)).map(lambda il, s: transform(il[0], il[1], s), num_parallel_calls=parallel)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
    return ds


def model_dataset(model: Any, pairs: Sequence[Pair | tuple[str, str]], **kwargs: Any) -> tf.data.Dataset:
    """:func:`make_dataset` with sizes, head, channels, classes and preprocessing taken from ``model``.

    Example:
        >>> import mobseg
        >>> model = mobseg.mobilenet_segnet(3, input_height=64, input_width=64)
        >>> ds = model_dataset(model, pairs, batch_size=4, shuffle=True, augment=True)  # doctest: +SKIP
    """
    if not isinstance(model, SegmentationModel):
        raise ValueError("model_dataset needs a mobseg SegmentationModel (one with model.architecture).")
    height, width = model.input_size
    if height is None or width is None:
        raise ValueError("The model has no fixed input size; use make_dataset(..., input_size=(H, W)).")
    settings = {
        "n_classes": model.n_classes,
        "input_size": (int(height), int(width)),
        "output_size": model.output_size,
        "head": model.head,
        "preprocessing": model.preprocessing,
        "channels": model.channels,
    }
    settings.update(kwargs)
    return make_dataset(pairs, **settings)


__all__ = ["make_dataset", "make_decoder", "model_dataset"]
