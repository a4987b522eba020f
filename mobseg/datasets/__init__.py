"""Built-in sample data: synthetic scenes with exact masks, generated on the spot."""

from mobseg.datasets.shapes import SHAPES_CLASSES, ShapesData, make_shapes, render_scene

__all__ = ["SHAPES_CLASSES", "ShapesData", "make_shapes", "render_scene"]
