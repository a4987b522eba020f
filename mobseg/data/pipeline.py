"""The input pipeline: decode, joint augmentation, resize, weights, batch; on ``tf.data`` or without TensorFlow.

Each element is ``(image, labels, sample_weight)``:

* ``image``: float32 ``(B, H, W, C)`` at the model's input size, preprocessed for its encoder;
* ``labels``: int32 at the model's *output* size, ``(B, h*w)`` for the flat head or ``(B, h, w)``
  for the spatial head (nearest-neighbour resized, so no new label values appear);
* ``sample_weight``: float32, same shape as ``labels``: the class weight of each pixel, and 0 for
  ``ignore_index`` pixels and for padding added by zoom-out or native-scale crops.

Two loaders give the same examples (one implementation of decoding and augmentation,
:mod:`mobseg.data.transform`): ``"tf.data"`` (:mod:`mobseg.data.tf_pipeline`) and ``"pydataset"``
(:class:`~mobseg.data.loader.SegmentationBatches`, a ``keras.utils.PyDataset`` of numpy batches prepared in
threads). ``loader="auto"`` takes ``tf.data`` where TensorFlow is installed and the PyDataset where it is not,
so ``import mobseg`` and training never need TensorFlow.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from mobseg.data.augment import Augmentation
from mobseg.data.loader import SegmentationBatches
from mobseg.data.pairs import Pair
from mobseg.data.transform import ExampleTransform, make_decoder
from mobseg.model import SegmentationModel
from mobseg.optional import has_tensorflow, tensorflow_missing

#: Input pipelines :func:`make_dataset` can build (``"auto"`` picks one, see :func:`default_loader`).
LOADERS: tuple[str, ...] = ("auto", "tf.data", "pydataset")


def default_loader() -> str:
    """``"tf.data"`` where TensorFlow is installed, else ``"pydataset"`` (the backend-neutral loader).

    Example:
        >>> default_loader() in ("tf.data", "pydataset")
        True
    """
    return "tf.data" if has_tensorflow() else "pydataset"


def _check_loader(loader: str) -> str:
    if loader not in LOADERS:
        raise ValueError(f"Unknown loader {loader!r}; use one of: {', '.join(LOADERS)}.")
    if loader == "auto":
        return default_loader()
    if loader == "tf.data" and not has_tensorflow():
        raise ValueError(tensorflow_missing('loader="tf.data"', 'use loader="pydataset"'))
    return loader


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
    loader: str = "auto",
) -> Any:
    """Build the input pipeline for ``pairs`` (one pass over the data per iteration = one epoch).

    Order: (shuffle) -> parallel decode -> (cache) -> joint augmentation + resize + weights + preprocessing ->
    batch. With ``shuffle=True`` the order changes every epoch; with ``augment`` (``True``, a dict or an
    :class:`~mobseg.data.Augmentation`) the random draws change every epoch (both follow ``seed``).
    ``cache=True`` keeps decoded images in memory (with ``tf.data``, a string is a cache file path; the
    PyDataset keeps it in memory). ``num_parallel_calls``: parallel calls (``tf.data``; ``None`` autotunes)
    or worker threads (PyDataset; ``None``: the CPUs, at most 16). ``errors`` collects the messages of bad
    files met while reading (see :func:`~mobseg.data.transform.make_decoder`).

    Returns a ``tf.data.Dataset`` (``loader="tf.data"``) or a :class:`~mobseg.data.loader.SegmentationBatches`
    (``"pydataset"``, numpy batches); ``"auto"`` picks ``tf.data`` where TensorFlow is installed. Both go
    straight to ``model.fit``; without shuffling and augmentation they give the same batches.

    Example:
        >>> ds = make_dataset(pairs, n_classes=3, input_size=(64, 64), output_size=(32, 32))  # doctest: +SKIP
        >>> x, y, w = next(iter(ds))  # doctest: +SKIP
        >>> x.shape, y.shape  # doctest: +SKIP
        ((8, 64, 64, 3), (8, 1024))
    """
    pairs = [p if isinstance(p, Pair) else Pair(*(os.fspath(q) for q in p)) for p in pairs]
    if not pairs:
        raise ValueError("make_dataset got no pairs; give at least one (image, mask) pair.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}.")
    loader = _check_loader(loader)
    transform = ExampleTransform(
        input_size=(int(input_size[0]), int(input_size[1])),
        output_size=tuple(int(v) for v in (output_size or input_size)),
        n_classes=n_classes,
        ignore_index=ignore_index,
        class_weights=None if class_weights is None else [float(w) for w in class_weights],
        preprocessing=preprocessing,
        head=head,
        augmentation=Augmentation.from_value(augment),
    )
    decode = make_decoder(channels, n_classes, ignore_index, mask_format, colors, errors)
    common = {"batch_size": batch_size, "shuffle": shuffle, "seed": seed, "drop_remainder": drop_remainder}
    if loader == "pydataset":
        return SegmentationBatches(pairs, decode, transform, cache=bool(cache), workers=num_parallel_calls, **common)
    from mobseg.data.tf_pipeline import tf_dataset

    return tf_dataset(
        pairs, decode, transform, channels=channels, cache=cache, num_parallel_calls=num_parallel_calls, **common
    )


def model_dataset(model: Any, pairs: Sequence[Pair | tuple[str, str]], **kwargs: Any) -> Any:
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


__all__ = ["LOADERS", "default_loader", "make_dataset", "make_decoder", "model_dataset"]
