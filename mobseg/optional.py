"""Optional dependencies: is TensorFlow here, and the one sentence that says how to get it.

TensorFlow is a default dependency of ``pip install mobseg`` but not a requirement: without it (a JAX or
PyTorch install) everything but export and the ``tf.distribute`` strategies works. Finding out never imports it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util

#: How to install TensorFlow, as error messages say it.
TENSORFLOW_INSTALL = 'pip install "tensorflow>=2.16"'


def has_tensorflow() -> bool:
    """True when TensorFlow is installed (it is not imported to find out).

    Example:
        >>> isinstance(has_tensorflow(), bool)
        True
    """
    return importlib.util.find_spec("tensorflow") is not None


def tensorflow_version() -> str | None:
    """The installed TensorFlow's version, or ``None`` without TensorFlow (read from its metadata, no import).

    Example:
        >>> tensorflow_version() is None or tensorflow_version()[0].isdigit()
        True
    """
    if not has_tensorflow():
        return None
    for distribution in ("tensorflow", "tensorflow-cpu", "tf-nightly"):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "unknown"


def tensorflow_missing(what: str, alternative: str = "") -> str:
    """The one sentence for ``what`` needing TensorFlow where it is not installed (``alternative``: another way).

    Example:
        >>> tensorflow_missing("export", "use another machine")
        'export needs TensorFlow, which is not installed here: pip install "tensorflow>=2.16", or use another machine.'
    """
    return f"{what} needs TensorFlow, which is not installed here: {TENSORFLOW_INSTALL}" + (
        f", or {alternative}." if alternative else "."
    )


__all__ = ["TENSORFLOW_INSTALL", "has_tensorflow", "tensorflow_missing", "tensorflow_version"]
