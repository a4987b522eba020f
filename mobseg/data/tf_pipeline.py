"""The ``tf.data`` input pipeline (where TensorFlow is installed): parallel decode, cache, shuffle, batch, prefetch.

The per-example work is the shared numpy code (:func:`~mobseg.data.transform.make_decoder`,
:class:`~mobseg.data.transform.ExampleTransform`) inside ``tf.numpy_function`` with ``num_parallel_calls``;
Pillow and numpy release the GIL for the pixel work, so the calls run in parallel. Only this module imports
TensorFlow; :mod:`mobseg.data.pipeline` imports it only when this pipeline is chosen.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import tensorflow as tf

from mobseg.data.pairs import Pair
from mobseg.data.transform import Decoded, ExampleTransform


def _decoded_pairs(
    pairs: list[Pair],
    decode: Callable[[bytes, bytes], Decoded],
    channels: int,
    *,
    cache: bool | str,
    shuffle: bool,
    seed: int,
    parallel: int,
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


def _example_function(transform: ExampleTransform, channels: int) -> Callable:
    """``(image, labels, seed pair) -> (x, y, w)`` tensors with static shapes, calling ``transform.seeded``."""
    in_h, in_w = transform.input_size
    out_h, out_w = transform.output_size
    label_shape = [out_h * out_w] if transform.head == "flat" else [out_h, out_w]

    def example(decoded: tuple[tf.Tensor, tf.Tensor], seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        x, y, w = tf.numpy_function(
            transform.seeded, [decoded[0], decoded[1], seed], [tf.float32, tf.int32, tf.float32], stateful=False
        )
        x.set_shape([in_h, in_w, channels])
        y.set_shape(label_shape)
        w.set_shape(label_shape)
        return x, y, w

    return example


def tf_dataset(
    pairs: Sequence[Pair],
    decode: Callable[[bytes, bytes], Decoded],
    transform: ExampleTransform,
    *,
    channels: int,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    cache: bool | str = False,
    num_parallel_calls: int | None = None,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """The ``tf.data.Dataset`` of batches ``(image, labels, sample_weight)`` (see :func:`mobseg.make_dataset`).

    Order: (shuffle file list) -> parallel decode -> (cache) -> (shuffle decoded) -> ``transform`` with a
    fresh seed pair per example and pass (``tf.data.Dataset.random``, fixed by ``seed``) -> batch -> prefetch.

    Example:
        >>> transform = ExampleTransform((64, 64), (32, 32), n_classes=3)
        >>> ds = tf_dataset(pairs, decode, transform, channels=3, batch_size=8)  # doctest: +SKIP
    """
    parallel = tf.data.AUTOTUNE if num_parallel_calls is None else int(num_parallel_calls)
    ds = _decoded_pairs(list(pairs), decode, channels, cache=cache, shuffle=shuffle, seed=seed, parallel=parallel)
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    ds = tf.data.Dataset.zip((ds, seeds)).map(_example_function(transform, channels), num_parallel_calls=parallel)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


__all__ = ["tf_dataset"]
