"""Using a trained model: ``load_model``, ``predict`` (masks at the original image size) and ``evaluate``.

Example:
    >>> import mobseg, numpy as np
    >>> model = mobseg.mobilenet_segnet(2, input_height=32, input_width=32)
    >>> mobseg.predict(model, np.zeros((50, 70, 3), np.uint8)).shape
    (50, 70)
"""

from mobseg.inference.evaluation import evaluate
from mobseg.inference.loading import load_model, model_class_names
from mobseg.inference.prediction import predict, resize_scores, scores_to_mask
from mobseg.inference.visualize import add_legend, colorize_mask, default_palette, legend_image, overlay_mask

__all__ = [
    "add_legend",
    "colorize_mask",
    "default_palette",
    "evaluate",
    "legend_image",
    "load_model",
    "model_class_names",
    "overlay_mask",
    "predict",
    "resize_scores",
    "scores_to_mask",
]
