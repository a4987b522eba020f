"""Turning class masks into pictures: a palette, palette PNGs, overlays on the image, and a legend."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

#: Legend layout in pixels.
LEGEND_ROW = 20
LEGEND_SWATCH = 14
LEGEND_PAD = 6


def default_palette(n_classes: int) -> np.ndarray:
    """The Pascal VOC colour map: ``(n_classes, 3)`` uint8, class 0 black, 1 dark red, 2 dark green, ...

    Example:
        >>> default_palette(3).tolist()
        [[0, 0, 0], [128, 0, 0], [0, 128, 0]]
    """
    palette = np.zeros((n_classes, 3), dtype=np.uint8)
    for index in range(n_classes):
        label, color = index, [0, 0, 0]
        for shift in range(7, -1, -1):
            for channel in range(3):
                color[channel] |= ((label >> channel) & 1) << shift
            label >>= 3
            if not label:
                break
        palette[index] = color
    return palette


def check_palette(palette: Sequence[Sequence[int]] | np.ndarray | None, n_classes: int) -> np.ndarray:
    """``palette`` as ``(n_classes, 3)`` uint8, or :func:`default_palette` when ``None``.

    Example:
        >>> check_palette([(255, 0, 0), (0, 0, 255)], 2).shape
        (2, 3)
    """
    if palette is None:
        return default_palette(n_classes)
    array = np.asarray(palette)
    if array.ndim != 2 or array.shape[1] != 3 or array.shape[0] < n_classes:
        raise ValueError(f"palette must hold one (r, g, b) colour per class ({n_classes}); got shape {array.shape}.")
    if array.min() < 0 or array.max() > 255:
        raise ValueError("palette colours must be in 0..255.")
    return array[:n_classes].astype(np.uint8)


def colorize_mask(mask: np.ndarray, palette: np.ndarray) -> Image.Image:
    """A palette (``P``) image of ``mask``: pixel values stay the class index, viewers show the colours.

    More than 256 classes do not fit a PNG palette; then an ``RGB`` image is returned.

    Example:
        >>> colorize_mask(np.array([[0, 1]], np.uint8), default_palette(2)).mode
        'P'
    """
    mask = np.asarray(mask)
    if len(palette) <= 256:
        image = Image.fromarray(mask.astype(np.uint8))
        image.putpalette(np.asarray(palette, np.uint8).reshape(-1).tolist())
        return image
    return Image.fromarray(np.asarray(palette, np.uint8)[mask])


def overlay_mask(image: np.ndarray, mask: np.ndarray, palette: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Blend the class colours over an RGB uint8 image: ``(1 - alpha) * image + alpha * colour``.

    Example:
        >>> overlay_mask(np.full((1, 1, 3), 200, np.uint8), np.zeros((1, 1), int), default_palette(2)).tolist()
        [[[100, 100, 100]]]
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha={alpha} must be in [0, 1] (0: image only, 1: mask colours only).")
    colors = np.asarray(palette, np.float32)[np.asarray(mask)]
    blended = (1.0 - alpha) * np.asarray(image, np.float32) + alpha * colors
    return np.clip(np.round(blended), 0, 255).astype(np.uint8)


def _font() -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=12)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def legend_image(class_names: Sequence[str], palette: np.ndarray) -> np.ndarray:
    """A white RGB panel listing each class: a colour swatch and the class name, one row per class.

    Example:
        >>> legend_image(["sky", "road"], default_palette(2)).shape[0]
        52
    """
    font = _font()
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    text_width = max(int(probe.textbbox((0, 0), name, font=font)[2]) for name in class_names)
    width = LEGEND_PAD * 3 + LEGEND_SWATCH + text_width
    height = LEGEND_PAD * 2 + LEGEND_ROW * len(class_names)
    panel = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(panel)
    for row, (name, color) in enumerate(zip(class_names, palette, strict=True)):
        top = LEGEND_PAD + row * LEGEND_ROW + (LEGEND_ROW - LEGEND_SWATCH) // 2
        box = (LEGEND_PAD, top, LEGEND_PAD + LEGEND_SWATCH - 1, top + LEGEND_SWATCH - 1)
        draw.rectangle(box, fill=tuple(int(c) for c in color), outline=(0, 0, 0))
        draw.text((LEGEND_PAD * 2 + LEGEND_SWATCH, top), name, fill=(0, 0, 0), font=font)
    return np.asarray(panel)


def add_legend(picture: np.ndarray, class_names: Sequence[str], palette: np.ndarray) -> np.ndarray:
    """Put :func:`legend_image` to the right of an RGB picture (white below the shorter one).

    The result is ``legend width`` wider and ``max(picture height, legend height)`` tall; the picture
    itself keeps its pixels at the top left.

    Example:
        >>> add_legend(np.zeros((100, 80, 3), np.uint8), ["a", "b"], default_palette(2)).shape[:2][0]
        100
    """
    legend = legend_image(class_names, palette)
    height = max(picture.shape[0], legend.shape[0])
    canvas = np.full((height, picture.shape[1] + legend.shape[1], 3), 255, dtype=np.uint8)
    canvas[: picture.shape[0], : picture.shape[1]] = picture
    canvas[: legend.shape[0], picture.shape[1] :] = legend
    return canvas


__all__ = ["add_legend", "check_palette", "colorize_mask", "default_palette", "legend_image", "overlay_mask"]
