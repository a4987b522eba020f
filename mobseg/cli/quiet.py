"""Keep TensorFlow's start-up chatter off the terminal: every command prints only its own output.

On a machine without a GPU, importing TensorFlow writes lines such as ``I0000 ... cudart_stub.cc ... Could
not find cuda drivers``, ``E0000 ... failed call to cuInit`` and oneDNN/CPU-feature notices straight to the
process's stderr (native code, before Python's logging). They read like errors to a new user. While
:func:`load_tensorflow_quietly` imports TensorFlow and lets it look for devices, file descriptor 2 points at
a temporary file; afterwards every line that is not a known start-up notice is written back, so real
warnings still show. ``--verbose`` or ``--debug`` (or ``MOBSEG_VERBOSE=1``) skip the filtering.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Iterator

#: Native start-up lines that are not problems (regular expressions, matched anywhere in a line).
STARTUP_NOISE: tuple[str, ...] = (
    r"All log messages before absl::InitializeLog\(\) is called",
    r"cudart_stub\.cc",
    r"cuda_platform\.cc.*cuInit",
    r"failed call to cuInit",
    r"cuda_executor\.cc",
    r"cuda_dnn\.cc|cuda_fft\.cc|cuda_blas\.cc",
    r"Unable to register cu(DNN|FFT|BLAS) factory",
    r"computation placer already registered",
    r"cpu_feature_guard\.cc",
    r"This TensorFlow binary is optimized to use available CPU instructions",
    r"To enable the following instructions: .*rebuild TensorFlow",
    r"oneDNN custom operations are on",
    r"TF-TRT Warning: Could not find TensorRT",
    r"port\.cc:\d+\] oneDNN",
)

_NOISE = re.compile("|".join(STARTUP_NOISE))


def filter_startup_lines(text: str) -> str:
    """``text`` without the known start-up notices (see :data:`STARTUP_NOISE`).

    Example:
        >>> filter_startup_lines("I0000 00:00 123 cudart_stub.cc:31] Could not find cuda drivers\\nreal warning\\n")
        'real warning\\n'
    """
    kept = [line for line in text.splitlines(keepends=True) if not _NOISE.search(line)]
    return "".join(kept)


@contextlib.contextmanager
def native_stderr_filtered() -> Iterator[None]:
    """Send fd 2 to a temporary file for the block, then write back what is not start-up noise.

    Example:
        >>> with native_stderr_filtered():
        ...     pass
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded interpreter): nothing to filter
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            rest = filter_startup_lines(capture.read().decode("utf-8", "replace"))
            if rest:
                sys.stderr.write(rest)
                sys.stderr.flush()


def load_tensorflow_quietly(verbose: bool = False) -> None:
    """Import TensorFlow (when installed and used by Keras) with its start-up notices filtered out.

    Also sets ``TF_CPP_MIN_LOG_LEVEL=2`` (INFO and WARNING logs of TensorFlow's C++ code off, errors on)
    unless it is set already. Does nothing when TensorFlow is not installed or Keras uses another backend.

    Example:
        >>> load_tensorflow_quietly()  # doctest: +SKIP
    """
    if verbose or os.environ.get("MOBSEG_VERBOSE"):
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules or importlib.util.find_spec("tensorflow") is None:
        return
    with native_stderr_filtered():
        import tensorflow as tf

        tf.config.list_physical_devices()  # device discovery logs the cuInit failure: do it here, filtered


__all__ = ["STARTUP_NOISE", "filter_startup_lines", "load_tensorflow_quietly", "native_stderr_filtered"]
