"""Class names: generic defaults and the one-name-per-class check shared by training, metrics and prediction."""

from __future__ import annotations

from typing import Any


def default_class_names(n_classes: int) -> list[str]:
    """Generic names ``class_0``, ``class_1``, ... used when none are known.

    Example:
        >>> default_class_names(2)
        ['class_0', 'class_1']
    """
    return [f"class_{i}" for i in range(int(n_classes))]


def check_class_names(class_names: Any, n_classes: int) -> list[str]:
    """Validate class names (one string per class), or make generic ones when ``None``.

    Example:
        >>> check_class_names(["sky", "road"], 2)
        ['sky', 'road']
    """
    if class_names is None:
        return default_class_names(n_classes)
    names = [str(name) for name in class_names]
    if len(names) != n_classes:
        raise ValueError(
            f"Got {len(names)} class names for {n_classes} classes; give exactly one name per class, in class order."
        )
    return names


__all__ = ["check_class_names", "default_class_names"]
