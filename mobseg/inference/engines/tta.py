"""Test-time augmentation: an engine that averages the scores of each image and its mirror image."""

from __future__ import annotations

import numpy as np

from mobseg.inference.engines.base import Engine

#: Test-time augmentations :func:`mobseg.inference.engines.open_engine` knows.
TTA_MODES: tuple[str, ...] = ("flip",)


class FlipAveraged(Engine):
    """Wraps an engine: scores are the mean of the image's and of its left-right mirror's (mirrored back).

    Twice the model work per image. Softmax models average probabilities, logits models average logits;
    either way the argmax (the mask) is what changes.

    Example:
        >>> import mobseg
        >>> from mobseg.inference.engines import open_engine
        >>> engine = open_engine(mobseg.mobilenet_segnet(2, input_height=32, input_width=32), tta="flip")
        >>> engine.run(np.zeros((1, 32, 32, 3), np.float32)).shape, engine.describe()
        ((1, 16, 16, 2), 'keras float32 (mobilenet_segnet) + flip TTA')
    """

    def __init__(self, inner: Engine, *, owns_inner: bool = True):
        super().__init__(inner.geometry, inner.n_classes, inner.info, inner.source)
        self.inner = inner
        self.owns_inner = owns_inner
        self.name, self.precision, self.fixed_batch = inner.name, inner.precision, inner.fixed_batch
        self.class_names = inner.class_names

    def run(self, x: np.ndarray) -> np.ndarray:
        """Mean of ``inner.run(x)`` and the mirrored scores of ``inner.run(mirror(x))``."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        both = self.inner.run(np.concatenate([x, x[:, :, ::-1]]))
        return 0.5 * (both[: len(x)] + both[len(x) :, :, ::-1])

    def describe(self) -> str:
        """The inner engine's line, plus the augmentation."""
        return f"{self.inner.describe()} + flip TTA"

    def close(self) -> None:
        """Close the inner engine, unless the caller handed it in ready-made."""
        if self.owns_inner:
            self.inner.close()


__all__ = ["TTA_MODES", "FlipAveraged"]
