"""The overlapped scoring loop under ``predict_iter`` and ``evaluate``: read, run the model, finish, in order.

Three kinds of work overlap, each image's in input order:

* **read**: a thread pool reads, decodes, resizes and preprocesses images ahead of the model (a bounded
  window, so memory does not grow with the folder);
* **model**: this thread runs the engine on full batches (the last one padded: one batch shape);
* **finish**: a second thread pool resizes the scores to the original size, takes the argmax and writes
  or scores the result (PNG encoding, zlib, numpy and the engines release the GIL).

An input that cannot be read or finished (a truncated file, a mask of the wrong size) becomes an
:class:`Outcome` with its ``error`` (``on_error="skip"``) or stops the run (``"stop"``). Outputs that
cannot be written (:class:`mobseg.io.errors.WriteError`: disk full, permissions) always stop the run.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from mobseg.inference.inputs import InputItem
from mobseg.inference.progress import ProgressBar
from mobseg.inference.scoring import load_input
from mobseg.io.errors import WriteError

#: What ``on_error`` accepts.
ON_ERROR: tuple[str, ...] = ("skip", "stop")


@dataclass
class Outcome:
    """What became of one input: ``value`` (from the finish step) or ``error`` (one sentence)."""

    item: InputItem
    value: Any = None
    error: str | None = None


class SkippedInputsError(ValueError):
    """Some inputs failed and were skipped; every other input was done. ``failures``: ``[(input, error)]``.

    ``result`` holds what the run produced for the good inputs (the masks, with ``None`` for failed
    ones, or the evaluation report).

    Example:
        >>> err = SkippedInputsError([("a.png", "Cannot read image a.png")], total=3)
        >>> str(err)
        '1 of 3 inputs failed and were skipped (the others were done): a.png: Cannot read image a.png'
    """

    def __init__(self, failures: list[tuple[str, str]], total: int, result: Any = None):
        self.failures = list(failures)
        self.total = int(total)
        self.result = result
        listed = "; ".join(f"{name}: {error}" for name, error in self.failures[:3])
        more = f"; and {len(self.failures) - 3} more" if len(self.failures) > 3 else ""
        super().__init__(
            f"{len(self.failures)} of {total} inputs failed and were skipped (the others were done): {listed}{more}"
        )


def default_workers() -> int:
    """Threads of each pool (read, finish): every CPU, at least 2, at most 8.

    Example:
        >>> 2 <= default_workers() <= 8
        True
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return max(2, min(8, cpus))


def is_item_error(err: BaseException) -> bool:
    """True for errors that belong to one input (unreadable, wrong size), not to the run (disk full, bugs).

    Example:
        >>> is_item_error(ValueError("Cannot read image a.png")), is_item_error(WriteError("x", OSError(28, "full")))
        (True, False)
    """
    return isinstance(err, (ValueError, OSError)) and not isinstance(err, WriteError)


class _Slot:
    """One input's place in the output order: its finish future, or its outcome when it failed early."""

    __slots__ = ("future", "item", "outcome")

    def __init__(self, item: InputItem, outcome: Outcome | None = None):
        self.item, self.outcome, self.future = item, outcome, None

    def ready(self) -> bool:
        return self.outcome is not None or (self.future is not None and self.future.done())

    def waitable(self) -> bool:
        return self.outcome is not None or self.future is not None


@dataclass
class Pipeline:
    """Settings of one streaming run; :meth:`run` yields an :class:`Outcome` per input, in input order.

    ``finish(item, image, scores)`` runs in the finish pool and returns the outcome's value.

    Example:
        >>> from mobseg.inference.engines import open_engine
        >>> import mobseg
        >>> engine = open_engine(mobseg.mobilenet_segnet(2, input_height=32, input_width=32))
        >>> items = [InputItem(0, np.zeros((8, 8, 3), np.uint8), "a")]
        >>> [o.value for o in Pipeline(engine, lambda i, im, s: s.shape).run(items)]
        [(16, 16, 2)]
    """

    engine: Any
    finish: Callable[[InputItem, np.ndarray, np.ndarray], Any]
    batch_size: int = 8
    workers: int | None = None
    on_error: str = "skip"
    progress: bool = False

    def run(self, items: Iterable[InputItem], total: int | None = None) -> Iterator[Outcome]:
        """Yield the outcome of each item, overlapping reading, the model and finishing."""
        workers = self.workers or default_workers()
        window = 2 * self.batch_size + workers
        readers = ThreadPoolExecutor(workers, thread_name_prefix="mobseg-read")
        finishers = ThreadPoolExecutor(workers, thread_name_prefix="mobseg-finish")
        bar = ProgressBar(total) if self.progress and total else None
        try:
            yield from self._loop(iter(items), readers, finishers, window, bar)
        finally:
            readers.shutdown(wait=True, cancel_futures=True)
            finishers.shutdown(wait=True, cancel_futures=True)
            if bar is not None:
                bar.close()

    def _read(self, item: InputItem) -> tuple[np.ndarray, np.ndarray]:
        image = load_input(item.item, item.index)
        return image, self.engine.geometry.prepare_one(image)

    def _loop(self, source: Iterator, readers: Any, finishers: Any, window: int, bar: Any) -> Iterator[Outcome]:
        loads: deque[tuple[InputItem, Future]] = deque()
        slots: deque[_Slot] = deque()
        batch: list[tuple[_Slot, np.ndarray, np.ndarray]] = []
        batches_run = done = 0
        while True:
            while len(loads) < window and (item := next(source, None)) is not None:
                loads.append((item, readers.submit(self._read, item)))
            if not loads:
                break
            item, future = loads.popleft()
            slot = _Slot(item)
            slots.append(slot)
            try:
                image, x = future.result()
            except Exception as err:
                slot.outcome = self._failed(item, err)
            else:
                batch.append((slot, image, x))
            if len(batch) == self.batch_size:
                self._run_batch(batch, finishers, pad=False)
                batch, batches_run = [], batches_run + 1
            for outcome in self._drain(slots, keep=window):
                done += 1
                yield outcome
                if bar is not None:
                    bar.update(done)
        if batch:
            self._run_batch(batch, finishers, pad=batches_run > 0)
        for outcome in self._drain(slots, keep=0):
            done += 1
            yield outcome
            if bar is not None:
                bar.update(done)

    def _failed(self, item: InputItem, err: BaseException) -> Outcome:
        if not is_item_error(err) or self.on_error == "stop":
            raise err
        return Outcome(item, error=str(err))

    def _run_batch(self, batch: list, finishers: Any, pad: bool) -> None:
        x = np.stack([entry[2] for entry in batch])
        scores = self.engine.run_padded(x, self.batch_size, pad=pad)
        for (slot, image, _), score in zip(batch, scores, strict=True):
            slot.future = finishers.submit(self.finish, slot.item, image, score)

    def _drain(self, slots: deque[_Slot], keep: int) -> Iterator[Outcome]:
        """Yield finished outcomes from the front; wait on the front while more than ``keep`` are queued."""
        while slots and slots[0].waitable() and (slots[0].ready() or len(slots) > keep):
            slot = slots.popleft()
            if slot.outcome is not None:
                yield slot.outcome
                continue
            try:
                value = slot.future.result()
            except Exception as err:
                yield self._failed(slot.item, err)
            else:
                yield Outcome(slot.item, value=value)


__all__ = ["ON_ERROR", "Outcome", "Pipeline", "SkippedInputsError", "default_workers", "is_item_error"]
