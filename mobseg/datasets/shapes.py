"""Synthetic "shapes" scenes with exact masks: sample data that needs no download and no licence."""

from __future__ import annotations

import colorsys
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from mobseg.io.atomic import atomic_path

#: Classes of :func:`make_shapes`, in label order.
SHAPES_CLASSES: tuple[str, ...] = ("background", "circle", "rectangle", "triangle")

#: Palette colours of the mask PNGs (the palette index is the class).
SHAPES_PALETTE: tuple[tuple[int, int, int], ...] = ((0, 0, 0), (220, 20, 60), (0, 160, 80), (30, 90, 230))

_HUES = (0.0, 1.0 / 3.0, 2.0 / 3.0)  # circles reddish, rectangles greenish, triangles bluish (+- jitter)
_FORMAT_VERSION = 1


@dataclass(frozen=True)
class ShapesData:
    """Where :func:`make_shapes` wrote its data.

    Example:
        >>> data = make_shapes("shapes", n_train=8, n_val=4)  # doctest: +SKIP
        >>> data.n_classes, data.class_names[1]  # doctest: +SKIP
        (4, 'circle')
    """

    root: str
    train_images: str
    train_masks: str
    val_images: str
    val_masks: str
    class_names: tuple[str, ...] = SHAPES_CLASSES

    @property
    def n_classes(self) -> int:
        """Number of classes (background included)."""
        return len(self.class_names)


def _background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    gray = rng.uniform(70, 190)
    tint = rng.uniform(-20, 20, 3)
    grid = rng.uniform(-35, 35, (4, 4, 3)).astype(np.float32)
    texture = np.stack(
        [np.asarray(Image.fromarray(grid[..., c]).resize((width, height), Image.BICUBIC)) for c in range(3)], -1
    )
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    slope = rng.uniform(-0.4, 0.4, 2)
    gradient = (yy * slope[0] + xx * slope[1])[..., None]
    return gray + tint + texture + gradient


def _shape_color(rng: np.random.Generator, label: int) -> tuple[int, int, int]:
    hue = (_HUES[label - 1] + rng.uniform(-0.08, 0.08)) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, rng.uniform(0.55, 1.0), rng.uniform(0.55, 1.0))
    return int(r * 255), int(g * 255), int(b * 255)


def render_scene(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """One scene: an RGB uint8 image and its exact uint8 label mask (see ``SHAPES_CLASSES``).

    Example:
        >>> image, mask = render_scene(np.random.default_rng(0), 32, 48)
        >>> image.shape, mask.shape, int(mask.max()) <= 3
        ((32, 48, 3), (32, 48), True)
    """
    image = Image.fromarray(np.clip(_background(rng, height, width), 0, 255).astype(np.uint8))
    mask = Image.new("L", (width, height), 0)
    draw_image, draw_mask = ImageDraw.Draw(image), ImageDraw.Draw(mask)
    side = min(height, width)
    for _ in range(int(rng.integers(1, 5))):
        label = int(rng.integers(1, 4))
        radius = rng.uniform(0.09, 0.22) * side
        cx, cy = rng.uniform(0.1, 0.9) * width, rng.uniform(0.1, 0.9) * height
        if label == 1:
            shape = [cx - radius, cy - radius, cx + radius, cy + radius]
            draw = ("ellipse", shape)
        elif label == 2:
            half_w, half_h = radius * rng.uniform(0.7, 1.3), radius * rng.uniform(0.7, 1.3)
            draw = ("rectangle", [cx - half_w, cy - half_h, cx + half_w, cy + half_h])
        else:
            angle = rng.uniform(0, 2 * np.pi) + np.array([0, 2 * np.pi / 3, 4 * np.pi / 3])
            points = [(float(cx + 1.3 * radius * np.cos(a)), float(cy + 1.3 * radius * np.sin(a))) for a in angle]
            draw = ("polygon", points)
        kind, geometry = draw
        getattr(draw_image, kind)(geometry, fill=_shape_color(rng, label))
        getattr(draw_mask, kind)(geometry, fill=label)
    pixels = np.asarray(image, np.float32) + rng.normal(0, 6, (height, width, 3))
    return np.clip(pixels, 0, 255).astype(np.uint8), np.asarray(mask, np.uint8)


def _write_split(folder: Path, split: str, count: int, size: tuple[int, int], seed: int) -> None:
    images, masks = folder / split / "images", folder / split / "masks"
    images.mkdir(parents=True)
    masks.mkdir(parents=True)
    palette = [c for color in SHAPES_PALETTE for c in color]
    for index in range(count):
        rng = np.random.default_rng([seed, 0 if split == "train" else 1, index])
        image, labels = render_scene(rng, size[0], size[1])
        Image.fromarray(image).save(images / f"{split}_{index:04d}.png")
        mask = Image.fromarray(labels, mode="L").convert("P")
        mask.putpalette(palette)
        mask.save(masks / f"{split}_{index:04d}.png")


def make_shapes(
    out_dir: str | os.PathLike,
    n_train: int = 200,
    n_val: int = 50,
    size: tuple[int, int] = (96, 96),
    seed: int = 0,
) -> ShapesData:
    """Write deterministic synthetic scenes: textured, noisy backgrounds with circles, rectangles, triangles.

    Layout: ``out_dir/{train,val}/{images,masks}/*.png``; images are RGB, masks are palette PNGs
    whose index is the class (``SHAPES_CLASSES``: background, circle, rectangle, triangle). Shapes
    of a class share a hue family (reddish circles, greenish rectangles, bluish triangles) with
    random jitter, and may overlap. The same arguments always give the same files; a folder that
    already holds the same data is reused, and the folder appears complete or not at all.

    Example:
        >>> data = make_shapes("shapes", n_train=20, n_val=5, size=(64, 64))  # doctest: +SKIP
        >>> mobseg.verify_dataset(data.train_images, data.train_masks, n_classes=4).ok  # doctest: +SKIP
        True
    """
    height, width = (int(v) for v in size)
    if n_train < 1 or n_val < 0 or height < 8 or width < 8:
        raise ValueError("make_shapes needs n_train >= 1, n_val >= 0 and a size of at least 8x8.")
    root = Path(out_dir)
    spec = {
        "generator": "mobseg.datasets.make_shapes",
        "version": _FORMAT_VERSION,
        "n_train": n_train,
        "n_val": n_val,
        "size": [height, width],
        "seed": seed,
        "class_names": list(SHAPES_CLASSES),
    }
    data = ShapesData(
        root=str(root),
        train_images=str(root / "train" / "images"),
        train_masks=str(root / "train" / "masks"),
        val_images=str(root / "val" / "images"),
        val_masks=str(root / "val" / "masks"),
    )
    spec_file = root / "shapes.json"
    if root.exists():
        if spec_file.is_file() and json.loads(spec_file.read_text()) == spec:
            return data
        if any(root.iterdir()):
            raise ValueError(
                f"{root} already exists and does not hold this shapes data; choose an empty or new folder."
            )
    with atomic_path(root, directory=True) as staging_name:
        staging = Path(staging_name)
        _write_split(staging, "train", n_train, (height, width), seed)
        _write_split(staging, "val", n_val, (height, width), seed)
        (staging / "shapes.json").write_text(json.dumps(spec, indent=2) + "\n")
    return data


__all__ = ["SHAPES_CLASSES", "SHAPES_PALETTE", "ShapesData", "make_shapes", "render_scene"]
