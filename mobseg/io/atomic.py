"""Atomic file writes: write a temporary file in the target folder, then ``os.replace`` it into place."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import IO


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> str:
    """Call ``write(stream)`` on a temporary file next to ``path``, then move it onto ``path`` in one step.

    Readers never see a half-written file; on error the temporary file is removed and ``path`` is
    left as it was. The folder is created if needed. Returns ``path``.

    Example:
        >>> atomic_write("out/report.txt", lambda stream: stream.write(b"ok"))  # doctest: +SKIP
        'out/report.txt'
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return path


def atomic_write_text(text: str, path: str | os.PathLike) -> str:
    """Write ``text`` (UTF-8) to ``path`` atomically; see :func:`atomic_write`.

    Example:
        >>> atomic_write_text('{"mean_iou": 0.5}', "out/report.json")  # doctest: +SKIP
        'out/report.json'
    """
    return atomic_write(path, lambda stream: stream.write(text.encode("utf-8")))


__all__ = ["atomic_write", "atomic_write_text"]
