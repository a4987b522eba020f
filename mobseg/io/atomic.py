"""Atomic writes: build the result under a temporary name beside the target, then move it into place.

Every file mobseg writes (models, checkpoints, exports, masks, reports) goes through :func:`atomic_path`,
so a reader never sees a half-written file and an interrupted run leaves the old file (or none) in place.
Temporary names start with a dot and contain ``.tmp``; the finished file gets the permissions of a
normally created file (``0666`` less the process umask, i.e. ``0644`` under the usual ``022``), not the
``0600`` of ``tempfile``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import IO

#: Marker in the names of temporary files and folders (see :func:`atomic_path`).
TEMP_MARKER = ".tmp"

_umask_lock = threading.Lock()


def current_umask() -> int:
    """The process umask (read without changing it for other threads).

    Example:
        >>> 0 <= current_umask() <= 0o777
        True
    """
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _apply_umask(path: str, directory: bool) -> None:
    mode = (0o777 if directory else 0o666) & ~current_umask()
    if directory:
        for root, dirs, files in os.walk(path):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o777 & ~current_umask())
            for name in files:
                os.chmod(os.path.join(root, name), 0o666 & ~current_umask())
    os.chmod(path, mode)


def is_disk_full(err: BaseException) -> bool:
    """True when ``err`` (or an error it wraps) says the disk is full, whatever library raised it.

    Example:
        >>> is_disk_full(OSError(28, "No space left on device"))
        True
    """
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(err)
        if "No space left on device" in text or "errno = 28" in text or "Disk quota exceeded" in text:
            return True
        err = err.__cause__ or err.__context__
    return False


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        with contextlib.suppress(OSError):
            os.unlink(path)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, directory: bool = False, suffix: str | None = None) -> Iterator[str]:
    """Yield a temporary path beside ``path``; when the block succeeds, move it onto ``path`` in one step.

    The temporary name keeps ``path``'s extension (``model.keras`` -> ``.model.keras.<random>.tmp.keras``),
    so writers that check it (``model.save``) accept it; ``suffix`` sets another ending (``".weights.h5"``).
    A full disk is always reported as ``OSError(errno.ENOSPC, ..., path)``, also when the writer (h5py,
    Keras) wrapped it in another error. With ``directory=True`` the yielded path is a
    folder name that does not exist yet (create it, or let an exporter create it); an existing folder at
    ``path`` is replaced only once the new one is complete. If the block raises, the temporary file or
    folder is removed and ``path`` is left as it was. The parent folder is created if needed.

    Example:
        >>> with atomic_path("out/model.keras") as temp:  # doctest: +SKIP
        ...     model.save(temp)
    """
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    base = os.path.basename(path)
    suffix = TEMP_MARKER + (os.path.splitext(base)[1] if suffix is None else suffix)
    if directory:
        holder = tempfile.mkdtemp(dir=parent, prefix=f".{base}.", suffix=TEMP_MARKER)
        temp = os.path.join(holder, base)
    else:
        handle, temp = tempfile.mkstemp(dir=parent, prefix=f".{base}.", suffix=suffix)
        os.close(handle)
        holder = temp
    try:
        try:
            yield temp
        except Exception as err:
            if is_disk_full(err):
                raise OSError(errno.ENOSPC, "No space left on device", path) from err
            raise
        _apply_umask(temp, directory)
        if directory and os.path.isdir(path):
            old = os.path.join(holder, ".replaced")
            os.replace(path, old)
        os.replace(temp, path)
    finally:
        _remove(holder)


def remove_temporary_files(folder: str | os.PathLike) -> list[str]:
    """Delete what interrupted :func:`atomic_path` writes left in ``folder`` and below (``.name.<random>.tmp...``).

    Call it only while no other process writes into ``folder`` (e.g. holding the run folder's lock).
    Returns the paths removed.

    Example:
        >>> remove_temporary_files("runs/x")  # doctest: +SKIP
        ['runs/x/.model.keras.k2j3.tmp.keras']
    """
    removed = []
    for root, dirs, files in os.walk(os.fspath(folder)):
        for name in [*files, *dirs]:
            if name.startswith(".") and TEMP_MARKER in name:
                _remove(os.path.join(root, name))
                removed.append(os.path.join(root, name))
        dirs[:] = [d for d in dirs if os.path.join(root, d) not in removed]
    return removed


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> str:
    """Call ``write(stream)`` on a temporary file next to ``path``, then move it onto ``path`` in one step.

    Readers never see a half-written file; on error the temporary file is removed and ``path`` is
    left as it was. The folder is created if needed. Returns ``path``.

    Example:
        >>> atomic_write("out/report.txt", lambda stream: stream.write(b"ok"))  # doctest: +SKIP
        'out/report.txt'
    """
    with atomic_path(path) as temp, open(temp, "wb") as stream:
        write(stream)
        stream.flush()
        os.fsync(stream.fileno())
    return os.fspath(path)


def atomic_write_text(text: str, path: str | os.PathLike) -> str:
    """Write ``text`` (UTF-8) to ``path`` atomically; see :func:`atomic_write`.

    Example:
        >>> atomic_write_text('{"mean_iou": 0.5}', "out/report.json")  # doctest: +SKIP
        'out/report.json'
    """
    return atomic_write(path, lambda stream: stream.write(text.encode("utf-8")))


def atomic_copy(source: str | os.PathLike, path: str | os.PathLike) -> str:
    """Copy the file ``source`` to ``path`` atomically (e.g. ``last.keras`` -> ``best.keras``).

    Example:
        >>> atomic_copy("runs/x/checkpoints/last.keras", "runs/x/checkpoints/best.keras")  # doctest: +SKIP
        'runs/x/checkpoints/best.keras'
    """
    with atomic_path(path) as temp:
        shutil.copyfile(source, temp)
    return os.fspath(path)


__all__ = [
    "TEMP_MARKER",
    "atomic_copy",
    "atomic_path",
    "atomic_write",
    "atomic_write_text",
    "current_umask",
    "is_disk_full",
    "remove_temporary_files",
]
