"""One-sentence errors for outputs that cannot be written (disk full, no permission, read-only, a file in the way)."""

from __future__ import annotations

import errno
import os


def _hint(code: int | None, folder: str) -> str:
    if code == errno.ENOSPC:
        return f"the disk holding {folder} is full; free some space and run the same command again"
    if code in (errno.EACCES, errno.EPERM):
        return f"this user may not write in {folder}; choose another output folder or fix its permissions"
    if code == errno.EROFS:
        return f"{folder} is on a read-only file system; choose another output folder"
    if code in (errno.ENOTDIR, errno.EEXIST):
        return "a file stands where a folder is needed; choose another output folder"
    if code == errno.EDQUOT:
        return f"the disk quota for {folder} is used up; free some space and run the same command again"
    return f"check {folder}"


class WriteError(OSError):
    """Writing ``path`` failed; ``str()`` is one sentence naming the file, the reason and what to do.

    It keeps the ``errno`` of the original error, so callers can still test ``err.errno == errno.ENOSPC``.
    Files are written atomically, so no half-written file is left behind.

    Example:
        >>> err = WriteError("out/masks/a.png", OSError(errno.ENOSPC, "No space left on device"))
        >>> str(err).split("; ")[:2]
        ['cannot write out/masks/a.png: No space left on device', 'the disk holding out/masks is full']
    """

    def __init__(self, path: str | os.PathLike, cause: OSError):
        path = os.fspath(path)
        reason = cause.strerror or str(cause)
        super().__init__(cause.errno, reason, path)
        folder = os.path.dirname(path) or "."
        self.message = f"cannot write {path}: {reason}; {_hint(cause.errno, folder)}."

    def __str__(self) -> str:
        return self.message


__all__ = ["WriteError"]
