"""A small progress line for long prediction runs (numpy-free, Keras-free: usable by exported engines)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """``done/total images, rate, time left`` on one line of ``stream`` (stderr), redrawn at most every 0.5 s.

    Example:
        >>> import io
        >>> bar = ProgressBar(4, stream=io.StringIO())
        >>> bar.update(4); bar.close()
        >>> bar.stream.getvalue().strip().startswith("4/4 images")
        True
    """

    def __init__(self, total: int, *, unit: str = "images", stream: TextIO | None = None, interval: float = 0.5):
        self.total = int(total)
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._done = 0
        self._closed = False

    def update(self, done: int) -> None:
        """Record ``done`` finished items; redraw if the last draw is older than the interval."""
        self._done = int(done)
        now = time.perf_counter()
        if now - self._last_draw >= self.interval or self._done >= self.total:
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-9)
        rate = self._done / elapsed
        left = (self.total - self._done) / rate if rate > 0 and self.total > self._done else 0.0
        text = f"{self._done}/{self.total} {self.unit}, {rate:.1f}/s, {elapsed:.0f} s"
        if left:
            text += f", ~{left:.0f} s left"
        self.stream.write("\r" + text.ljust(60))
        self.stream.flush()
        self._last_draw = now

    def close(self) -> None:
        """Draw the final state and end the line."""
        if not self._closed:
            self._draw(time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()
            self._closed = True


__all__ = ["ProgressBar"]
