"""Turning exceptions into the one sentence a user reads: ``mobseg <command>: error: <sentence>``.

Errors a user can cause (bad arguments or data, missing files, permissions, a full disk, a diverged
training) are :class:`ValueError`, :class:`OSError` and friends raised with a message that names the
problem and the fix; :func:`describe_error` turns each into that sentence. Anything else is a bug:
it gets one line too, with the hint to run again with ``--debug`` for the traceback.
"""

from __future__ import annotations

import errno
import os

#: Exceptions whose message is already the sentence for the user.
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, RuntimeError, FloatingPointError, TypeError)


def _where(err: OSError) -> str:
    return os.fspath(err.filename) if err.filename is not None else ""


def describe_os_error(err: OSError) -> str:
    """One sentence for a file-system error: what happened, to which path, and what to do.

    Example:
        >>> describe_os_error(PermissionError(13, "Permission denied", "/data/out"))
        'permission denied: /data/out; check that you may write there (owner and mode), or choose another folder.'
    """
    path = _where(err)
    code = err.errno
    if code == errno.ENOSPC or code == errno.EDQUOT:
        folder = os.path.dirname(os.path.abspath(path)) if path else "the output folder"
        return (
            f"no space left on the disk holding {folder}; free some space and run the same command again "
            "(an unfinished training run resumes where it stopped)."
        )
    if isinstance(err, PermissionError) or code in (errno.EACCES, errno.EPERM):
        return f"permission denied: {path}; check that you may write there (owner and mode), or choose another folder."
    if code == errno.EROFS:
        return f"read-only file system: {path}; choose an output folder on a writable disk."
    if isinstance(err, IsADirectoryError):
        return f"{path} is a folder, but a file is needed here; give a file path."
    if isinstance(err, NotADirectoryError):
        return f"{path} (or a folder above it) is a file, but a folder is needed here; choose another path."
    if isinstance(err, FileNotFoundError):
        return str(err) if not err.filename else f"not found: {path}; check the path."
    if isinstance(err, FileExistsError):
        return f"{path} already exists; choose another path or remove it."
    text = err.strerror or str(err) or type(err).__name__
    return f"{text}: {path}" if path else text


def describe_error(err: BaseException) -> tuple[str, int]:
    """The sentence and exit code for an exception that ends a command (2 for user errors, 1 for bugs).

    Example:
        >>> describe_error(ValueError("n_classes must be >= 2."))
        ('n_classes must be >= 2.', 2)
    """
    if isinstance(err, OSError):
        own_sentence = type(err).__str__ is not OSError.__str__  # e.g. mobseg.io.errors.WriteError
        if own_sentence or (isinstance(err, FileNotFoundError) and err.filename is None):
            return str(err), 2
        return describe_os_error(err), 2
    if isinstance(err, USER_ERRORS):
        text = str(err).strip() or type(err).__name__
        return text, 2
    if isinstance(err, MemoryError):
        return "out of memory; use a smaller --batch-size or input size.", 2
    name = type(err).__name__
    return f"internal error ({name}: {err}); run again with --debug for the traceback and report it.", 1


__all__ = ["USER_ERRORS", "describe_error", "describe_os_error"]
