"""Data-parallel training on existing engines: ``tf.distribute`` strategies and ``keras.distribution``.

``distribute=`` in :func:`mobseg.train` (``--distribute`` in ``mobseg train``) takes:

* ``None``: one device (the default);
* ``"mirrored"``: ``tf.distribute.MirroredStrategy``, every GPU of this machine (TensorFlow backend);
* ``"multi_worker"``: ``tf.distribute.MultiWorkerMirroredStrategy``, several machines described by the
  ``TF_CONFIG`` environment variable, one process per machine (TensorFlow backend);
* ``"data_parallel"``: ``keras.distribution.DataParallel`` over ``keras.distribution.list_devices()``
  (JAX backend);
* a ``tf.distribute.Strategy`` or a ``keras.distribution.DataParallel`` / ``ModelParallel`` you made yourself.

In every case the batch size is the **global** batch, split evenly across the replicas, so the same
settings give the same updates as a one-device run (up to BatchNormalization statistics, which each
replica computes on its own share of the batch).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import keras

from mobseg.optional import TENSORFLOW_INSTALL, has_tensorflow

#: The names ``distribute=`` accepts, with the backend each needs.
DISTRIBUTE_MODES: dict[str, str] = {
    "mirrored": "tensorflow",
    "multi_worker": "tensorflow",
    "data_parallel": "jax",
}


@dataclass
class Distribution:
    """A resolved ``distribute=`` setting: the engine object and how many replicas share a batch.

    Example:
        >>> Distribution.resolve(None).replicas
        1
        >>> Distribution.resolve("mirrored").name  # doctest: +SKIP
        'mirrored'
    """

    name: str | None = None
    strategy: Any = None  # a tf.distribute.Strategy
    distribution: Any = None  # a keras.distribution.DataParallel / ModelParallel
    replicas: int = 1

    @classmethod
    def resolve(cls, distribute: Any) -> Distribution:
        """Turn ``None``, a mode name, a ``tf.distribute.Strategy`` or a ``keras.distribution`` object into a
        :class:`Distribution`, checking that it fits the Keras backend of this process.

        Raises:
            ValueError: an unknown name, or a strategy that does not fit the backend (e.g. ``"mirrored"``
                under ``KERAS_BACKEND=jax``).

        Example:
            >>> Distribution.resolve("data_parallel")  # doctest: +SKIP
            Distribution(name='data_parallel', ..., replicas=2)
        """
        backend = keras.backend.backend()
        if isinstance(distribute, Distribution):
            return distribute
        if distribute is None or distribute is False:
            return cls()
        if isinstance(distribute, (keras.distribution.DataParallel, keras.distribution.ModelParallel)):
            if backend != "jax":
                raise ValueError(_wrong_backend("a keras.distribution DataParallel/ModelParallel", "jax", backend))
            return cls("keras_distribution", distribution=distribute, replicas=_keras_replicas(distribute))
        if not isinstance(distribute, str):
            tf = _tensorflow_if_installed()
            if tf is not None and isinstance(distribute, tf.distribute.Strategy):
                if backend != "tensorflow":
                    raise ValueError(_wrong_backend("a tf.distribute.Strategy", "tensorflow", backend))
                return cls("tf_strategy", strategy=distribute, replicas=int(distribute.num_replicas_in_sync))
            raise ValueError(
                f"distribute must be None, one of {', '.join(DISTRIBUTE_MODES)}, a tf.distribute.Strategy or a "
                f"keras.distribution.DataParallel / ModelParallel; got {distribute!r}."
            )
        name = distribute.replace("-", "_").lower()
        if name not in DISTRIBUTE_MODES:
            raise ValueError(f"Unknown distribute={distribute!r}; use one of: {', '.join(DISTRIBUTE_MODES)}.")
        needed = DISTRIBUTE_MODES[name]
        if backend != needed:
            raise ValueError(_wrong_backend(f"distribute={name!r}", needed, backend))
        if name == "data_parallel":
            devices = keras.distribution.list_devices()
            data_parallel = keras.distribution.DataParallel(devices=devices)
            return cls(name, distribution=data_parallel, replicas=len(devices))
        import tensorflow as tf

        strategy = (
            tf.distribute.MirroredStrategy() if name == "mirrored" else tf.distribute.MultiWorkerMirroredStrategy()
        )
        return cls(name, strategy=strategy, replicas=int(strategy.num_replicas_in_sync))

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        """Build, compile and fit inside this: the strategy's or distribution's scope (nothing for one device).

        Example:
            >>> with Distribution.resolve(None).scope():
            ...     pass
        """
        if self.strategy is not None:
            with self.strategy.scope():
                yield
        elif self.distribution is not None:
            with self.distribution.scope():
                yield
        else:
            yield

    @property
    def active(self) -> bool:
        """True when training is spread over an engine's replicas (even a single one)."""
        return self.strategy is not None or self.distribution is not None

    def describe(self) -> dict[str, Any] | None:
        """What ``training.json`` records: the mode and the number of replicas.

        Example:
            >>> Distribution.resolve(None).describe() is None
            True
        """
        if not self.active:
            return None
        info: dict[str, Any] = {"mode": self.name, "replicas": self.replicas}
        if self.strategy is not None:
            info["strategy"] = type(self.strategy).__name__
        else:
            info["distribution"] = type(self.distribution).__name__
        return info


def _keras_replicas(distribution: Any) -> int:
    mesh = getattr(distribution, "device_mesh", None)
    if mesh is None:
        return 1
    batch_dim = getattr(distribution, "batch_dim_name", None)
    names = list(mesh.axis_names)
    if batch_dim in names:
        return int(mesh.shape[names.index(batch_dim)])
    return len(mesh.devices.reshape(-1))


def _tensorflow_if_installed() -> Any:
    """The ``tensorflow`` module, or ``None`` where it is not installed (then no object is a TF strategy)."""
    if not has_tensorflow():
        return None
    import tensorflow as tf

    return tf


def _wrong_backend(what: str, needed: str, backend: str) -> str:
    hint = {
        "tensorflow": "use distribute='data_parallel' under JAX, or run with KERAS_BACKEND=tensorflow",
        "jax": "use distribute='mirrored' or 'multi_worker' under TensorFlow, or run with KERAS_BACKEND=jax",
    }[needed]
    if backend == "torch":
        hint = (
            "the PyTorch backend has no data-parallel engine in mobseg; run with KERAS_BACKEND=tensorflow "
            "(mirrored, multi_worker) or KERAS_BACKEND=jax (data_parallel)"
        )
    if needed == "tensorflow" and not has_tensorflow():
        hint += f" (TensorFlow is not installed here: {TENSORFLOW_INSTALL})"
    return f"{what} needs the {needed} backend but this process runs {backend!r}: {hint}."


__all__ = ["DISTRIBUTE_MODES", "Distribution"]
