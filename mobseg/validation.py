"""Argument checks shared by every model factory: one clear ``ValueError`` per mistake."""

from __future__ import annotations

import numbers


def nearest_multiples(value: int, multiple: int) -> list[int]:
    """The valid sizes closest to ``value``: the multiples of ``multiple`` just below and above.

    Example:
        >>> nearest_multiples(225, 16)
        [224, 240]
        >>> nearest_multiples(5, 16)
        [16]
    """
    below = (value // multiple) * multiple
    above = below + multiple if below != value else value
    return sorted({size for size in (below, above) if size >= multiple})


def check_int(value: object, argument: str, *, minimum: int, hint: str = "") -> int:
    """Return ``value`` if it is an integer >= ``minimum``, else raise a ``ValueError``.

    Example:
        >>> check_int(3, "channels", minimum=1)
        3
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{argument} must be an integer >= {minimum}; got {value!r}.{hint}")
    if value < minimum:
        raise ValueError(f"{argument}={value} is too small: it must be >= {minimum}.{hint}")
    return int(value)


def check_optional_int(value: object, argument: str, *, minimum: int | None = None, hint: str = "") -> int | None:
    """``None``, or an integer (>= ``minimum`` when given); else a ``ValueError``.

    Example:
        >>> check_optional_int(None, "ignore_index") is None, check_optional_int(255, "ignore_index")
        (True, 255)
    """
    if value is None:
        return None
    if minimum is not None:
        return check_int(value, argument, minimum=minimum, hint=hint)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{argument} must be an integer or None; got {value!r}.{hint}")
    return int(value)


def check_number(
    value: object,
    argument: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    hint: str = "",
) -> float:
    """Return ``value`` as a float if it is a finite real number in the given range, else raise a ``ValueError``.

    ``low_open`` / ``high_open`` exclude the bounds (``minimum=0, low_open=True`` means "> 0").

    Example:
        >>> check_number(0.5, "alpha", minimum=0, low_open=True)
        0.5
        >>> check_number(0.9, "batchnorm_momentum", minimum=0, maximum=1, high_open=True)
        0.9
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value or abs(value) == float("inf"):
        raise ValueError(f"{argument} must be a finite number; got {value!r}.{hint}")
    low = "" if minimum is None else f"{'>' if low_open else '>='} {minimum:g}"
    high = "" if maximum is None else f"{'<' if high_open else '<='} {maximum:g}"
    too_low = minimum is not None and (value <= minimum if low_open else value < minimum)
    too_high = maximum is not None and (value >= maximum if high_open else value > maximum)
    if too_low or too_high:
        rule = " and ".join(part for part in (low, high) if part)
        raise ValueError(f"{argument}={value!r} is out of range: it must be {rule}.{hint}")
    return float(value)


def check_choice(value: object, argument: str, choices: tuple | list, *, hint: str = "") -> object:
    """Return ``value`` if it is one of ``choices``, else raise a ``ValueError`` listing them.

    Example:
        >>> check_choice("flat", "head", ("flat", "spatial"))
        'flat'
    """
    if isinstance(value, bool) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{argument}={value!r} is not supported; use one of {listed}.{hint}")
    return value


def check_n_classes(n_classes: object) -> int:
    """Validate a class count for a softmax segmentation head (at least 2 classes).

    Example:
        >>> check_n_classes(12)
        12
    """
    return check_int(
        n_classes,
        "n_classes",
        minimum=2,
        hint=" The softmax head needs at least 2 classes; for a binary task (object vs background) use n_classes=2.",
    )


def check_input_size(model: str, height: object, width: object, multiple: int, reason: str) -> tuple[int, int]:
    """Check that height and width are positive multiples of ``multiple``.

    ``reason`` says why the model needs that multiple; the error names the nearest valid sizes.

    Example:
        >>> check_input_size("mobilenet_segnet", 224, 416, 16, "encoder stride 16")
        (224, 416)
    """
    sizes = []
    for argument, value in (("input_height", height), ("input_width", width)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(
                f"{model}: {argument} must be a positive integer (a fixed size is needed for the "
                f"output head); got {value!r}. Use a multiple of {multiple}, e.g. {multiple * 14}."
            )
        if value % multiple:
            nearest = " or ".join(str(s) for s in nearest_multiples(int(value), multiple))
            raise ValueError(
                f"{model}: {argument}={value} is not a multiple of {multiple} ({reason}). "
                f"Resize or pad your images to a valid size; nearest valid {argument}: {nearest}."
            )
        sizes.append(int(value))
    return sizes[0], sizes[1]
