"""The backend-neutral input pipeline: a ``keras.utils.PyDataset`` of numpy batches, no TensorFlow needed.

It feeds ``model.fit`` / ``evaluate`` under JAX, PyTorch or TensorFlow with the same examples as the
``tf.data`` pipeline (the same :class:`~mobseg.data.transform.ExampleTransform`), decoded and augmented in
``workers`` threads: Pillow decodes and resamples, and numpy jitters, without holding the GIL for the
pixel work. ``fit`` is given it with ``shuffle=False``; it shuffles itself, once per pass over the data.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence

import keras
import numpy as np

from mobseg.data.pairs import Pair
from mobseg.data.transform import Decoded, ExampleTransform, seeded_rng


def default_workers() -> int:
    """Threads that prepare batches when none are asked for: the CPUs of this machine, at most 16.

    Example:
        >>> default_workers() >= 1
        True
    """
    return max(1, min(os.cpu_count() or 1, 16))


class SegmentationBatches(keras.utils.PyDataset):
    """Batches ``(images, labels, sample_weights)`` of numpy arrays, one pass over ``pairs`` per epoch.

    With ``shuffle`` the order, and with augmentation the random draws, change at every pass; both
    are fixed by ``seed``, the pass number (counted by ``on_epoch_end``) and the pair's position, so the
    same call gives the same batches in any thread or worker order. ``cache`` keeps the decoded pairs in
    memory after the first pass. Iterating it directly (``for batch in data``) runs in this thread.

    Example:
        >>> transform = ExampleTransform((64, 64), (32, 32), n_classes=3)
        >>> data = SegmentationBatches(pairs, decode, transform, batch_size=8)  # doctest: +SKIP
        >>> images, labels, weights = data[0]  # doctest: +SKIP
    """

    def __init__(
        self,
        pairs: Sequence[Pair],
        decode: Callable[[str, str], Decoded],
        transform: ExampleTransform,
        *,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        cache: bool = False,
        drop_remainder: bool = False,
        workers: int | None = None,
    ):
        workers = default_workers() if workers is None else max(1, int(workers))
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=max(10, 2 * workers))
        self.pairs = list(pairs)
        self.decode = decode
        self.transform = transform
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_remainder = bool(drop_remainder)
        self.passes = 0
        self._cache: dict[int, Decoded] | None = {} if cache else None
        self._order: tuple[int, np.ndarray] | None = None

    def __len__(self) -> int:
        count = len(self.pairs) / self.batch_size
        return int(count) if self.drop_remainder else math.ceil(count)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        order = self.order()
        examples = [self.example(int(i)) for i in order[index * self.batch_size : (index + 1) * self.batch_size]]
        return tuple(np.stack(parts) for parts in zip(*examples, strict=True))

    def order(self) -> np.ndarray:
        """Positions of the pairs in this pass: shuffled by ``(seed, pass)`` or in file order."""
        cached = self._order
        if cached is not None and cached[0] == self.passes:
            return cached[1]
        passes, count = self.passes, len(self.pairs)
        order = seeded_rng(self.seed, passes).permutation(count) if self.shuffle else np.arange(count)
        self._order = (passes, order)
        return order

    def example(self, position: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The example of pair ``position`` in this pass (augmented with the draws of ``(seed, pass, position)``)."""
        image, labels = self._decoded(position)
        rng = seeded_rng(self.seed, self.passes, position) if self.transform.augmentation is not None else None
        return self.transform(image, labels, rng)

    def _decoded(self, position: int) -> Decoded:
        if self._cache is not None and position in self._cache:
            return self._cache[position]
        pair = self.pairs[position]
        decoded = self.decode(pair.image, pair.mask)
        if self._cache is not None:
            self._cache[position] = decoded
        return decoded

    def on_epoch_end(self) -> None:
        """Next pass: a new order and new augmentation draws."""
        self.passes += 1


__all__ = ["SegmentationBatches", "default_workers"]
