"""Reading label masks: index PNGs (8/16-bit), palette PNGs, RGB colour masks and binary masks.

Formats (``mask_format``):

* ``"index"`` (default): the pixel value is the class.
  8-bit (``L``) and 16-bit (``I;16``) single-channel images give their values; palette (``P``)
  images give the **palette index** (the colours in the palette are ignored); 1-bit images give
  0/1; an RGB(A) image whose three channels are equal everywhere gives that value (a grayscale
  index mask saved as RGB). Any other RGB mask is an error that asks for ``colors``.
* ``"rgb"``: colour masks. ``colors`` maps each colour to its class; a pixel of a colour that is not
  in the map is an error (map a "void" colour to your ``ignore_index`` to skip it). Palette images
  are read through their palette; alpha is dropped.
* ``"binary"``: two-class masks such as 0/255: values >= 128 (>= 32768 for 16-bit) become 1, the
  rest 0 (so anti-aliased edges go to the nearer class). RGB binary masks use their luminance.

``colors`` may be a dict ``{(r, g, b): class}``, ``{"#rrggbb": class}`` or ``{"r,g,b": class}``, or a
list of colours whose position is the class (``[(0, 0, 0), (128, 0, 0), ...]``). Passing ``colors``
implies ``mask_format="rgb"``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image

from mobseg.io.images import open_image
from mobseg.validation import check_int

#: File extensions accepted for masks (lossless formats only).
MASK_EXTENSIONS: tuple[str, ...] = (".png", ".bmp", ".tif", ".tiff")

#: Mask extensions that are recognised only to be refused, with :data:`LOSSY_MASK_REASON`.
LOSSY_MASK_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".webp")

LOSSY_MASK_REASON = (
    "lossy compression changes label values along every edge (a border between classes 1 and 2 gets 0, 3, ...), "
    "so such masks are not read; export the masks as PNG"
)

MASK_FORMATS: tuple[str, ...] = ("index", "rgb", "binary")

ColorMap = dict[tuple[int, int, int], int]

_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def _parse_color(color: Any) -> tuple[int, int, int]:
    if isinstance(color, str):
        text = color.strip()
        if text.startswith("#") and len(text) == 7:
            return int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16)
        parts = [p for p in text.replace(" ", ",").split(",") if p]
        color = parts
    try:
        rgb = tuple(int(c) for c in color)
    except (TypeError, ValueError):
        rgb = ()
    if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb):
        raise ValueError(f"Bad colour {color!r}: use (r, g, b) with values 0..255, 'r,g,b' or '#rrggbb'.")
    return rgb  # type: ignore[return-value]


def parse_colors(colors: Mapping[Any, int] | Sequence[Any]) -> ColorMap:
    """Normalise a colour -> class map to ``{(r, g, b): class}``.

    Example:
        >>> parse_colors({"#ff0000": 1, "0,0,0": 0})
        {(255, 0, 0): 1, (0, 0, 0): 0}
        >>> parse_colors([(0, 0, 0), (255, 255, 255)])
        {(0, 0, 0): 0, (255, 255, 255): 1}
    """
    items = colors.items() if isinstance(colors, Mapping) else enumerate(colors)
    result: ColorMap = {}
    for key, value in items:
        if isinstance(colors, Mapping):
            color, label = key, value
        else:
            color, label = value, key
        rgb = _parse_color(color)
        label = check_int(label, f"The class of colour {color!r}", minimum=0)
        if rgb in result and result[rgb] != int(label):
            raise ValueError(f"Colour {rgb} is mapped twice ({result[rgb]} and {label}).")
        result[rgb] = int(label)
    if not result:
        raise ValueError("The colour map is empty: give at least one colour -> class entry.")
    return result


def check_mask_format(mask_format: str, colors: Any = None) -> str:
    """Validate ``mask_format`` (``colors`` given implies ``"rgb"``).

    Example:
        >>> check_mask_format("index"), check_mask_format("index", colors={"#000000": 0})
        ('index', 'rgb')
    """
    if colors is not None:
        if mask_format not in ("index", "rgb"):
            raise ValueError(f"colors is given, so mask_format must be 'rgb'; got {mask_format!r}.")
        return "rgb"
    if mask_format not in MASK_FORMATS:
        raise ValueError(f"Unknown mask_format {mask_format!r}; use one of: {', '.join(MASK_FORMATS)}.")
    if mask_format == "rgb":
        raise ValueError("mask_format='rgb' needs colors: a map from (r, g, b) colour to class, e.g. {'#ff0000': 1}.")
    return mask_format


def _index_values(image: Image.Image, name: str) -> np.ndarray:
    mode = image.mode
    if mode in ("P", "L", "1") or mode in _SIXTEEN_BIT_MODES:
        return np.asarray(image).astype(np.int32)
    if mode in ("LA", "PA"):
        return np.asarray(image)[..., 0].astype(np.int32)
    if mode in ("RGB", "RGBA"):
        rgb = np.asarray(image)[..., :3]
        if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2]):
            return rgb[..., 0].astype(np.int32)
        raise ValueError(
            f"{name} is a colour (RGB) mask: pass colors={{(r, g, b): class, ...}} (CLI: --colors FILE.json), "
            "or save the mask as a single-channel or palette PNG whose values are the classes."
        )
    if mode == "F":
        values = np.asarray(image)
        if np.all(np.isfinite(values)) and np.array_equal(values, np.round(values)) and values.min() >= 0:
            return values.astype(np.int32)
        raise ValueError(f"{name} is a float mask with non-integer values; save it as an 8- or 16-bit PNG.")
    raise ValueError(f"{name} has image mode {mode!r}, which is not a supported mask mode; save it as an index PNG.")


def decode_mask(image: Image.Image, mask_format: str = "index", colors: Any = None, name: str = "mask") -> np.ndarray:
    """Turn a Pillow image into an ``int32`` label array ``(H, W)`` following ``mask_format``.

    Example:
        >>> from PIL import Image
        >>> decode_mask(Image.new("L", (3, 2), 255), "binary").tolist()
        [[1, 1, 1], [1, 1, 1]]
    """
    mask_format = check_mask_format(mask_format, colors)
    if mask_format == "index":
        return _index_values(image, name)
    if mask_format == "binary":
        if image.mode in _SIXTEEN_BIT_MODES:
            return (np.asarray(image).astype(np.int64) >= 32768).astype(np.int32)
        if image.mode == "1":
            return np.asarray(image).astype(np.int32)
        return (np.asarray(image.convert("L")) >= 128).astype(np.int32)
    color_map = colors if isinstance(colors, dict) and all(isinstance(k, tuple) for k in colors) else None
    color_map = color_map or parse_colors(colors)
    rgb = np.asarray(image.convert("RGB")).astype(np.int64)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    keys = np.array(sorted((r << 16) | (g << 8) | b for r, g, b in color_map), dtype=np.int64)
    values = np.array([color_map[((k >> 16) & 255, (k >> 8) & 255, k & 255)] for k in keys.tolist()], dtype=np.int32)
    position = np.clip(np.searchsorted(keys, packed), 0, len(keys) - 1)
    known = keys[position] == packed
    if not known.all():
        unknown, counts = np.unique(packed[~known], return_counts=True)
        order = np.argsort(-counts)[:5]
        listed = ", ".join(f"#{int(unknown[i]):06x} ({int(counts[i])} px)" for i in order)
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise ValueError(
            f"{name} has colours that are not in the colour map: {listed}{more}. "
            "Add them to colors (map a 'void' colour to your ignore_index to skip it)."
        )
    return values[position]


def binary_mask_hint(values: Any) -> str:
    """A hint for masks whose label values are exactly 0 and 255 (the usual binary-mask export), else "".

    Example:
        >>> binary_mask_hint([0, 255]).split(":")[0]
        ' These masks hold only the values 0 and 255'
        >>> binary_mask_hint([0, 1, 2])
        ''
    """
    found = {int(v) for v in np.unique(np.asarray(values))}
    if found != {0, 255} and found != {255}:
        return ""
    return (
        " These masks hold only the values 0 and 255: if 255 marks the object, read them with "
        "mask_format='binary' (CLI: --mask-format binary), which makes 255 class 1; ignore_index=255 "
        "would instead drop every object pixel."
    )


def read_mask(path: str | os.PathLike, mask_format: str = "index", colors: Any = None) -> np.ndarray:
    """Read a mask file as ``int32`` labels ``(H, W)``; see the module doc for the formats.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for an unreadable one or one
    that does not fit ``mask_format``.

    Example:
        >>> read_mask("masks/0001.png").shape  # doctest: +SKIP
        (180, 240)
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Mask file not found: {path}")
    try:
        image, _ = open_image(path)
    except (OSError, SyntaxError, Image.DecompressionBombError) as err:
        raise ValueError(f"Cannot read mask {path}: {err}. Re-export it as a lossless PNG.") from None
    return decode_mask(image, mask_format, colors, name=path)


__all__ = [
    "LOSSY_MASK_EXTENSIONS",
    "LOSSY_MASK_REASON",
    "MASK_EXTENSIONS",
    "MASK_FORMATS",
    "ColorMap",
    "binary_mask_hint",
    "check_mask_format",
    "decode_mask",
    "parse_colors",
    "read_mask",
]
