"""mobseg: a Keras 3 model zoo for semantic segmentation, built around the MobileNet-SegNet article.

Example:
    >>> import mobseg
    >>> model = mobseg.mobilenet_segnet(2, input_height=416, input_width=416)
    >>> model.count_params()
    5541378
"""

from mobseg.activations import get_activation, list_activations, resolve_activation
from mobseg.decoders import segnet_decoder
from mobseg.encoders import EncoderFeatures, mobilenet_encoder
from mobseg.model import SegmentationModel
from mobseg.zoo import build_model, get_model_info, is_model, list_models, mobilenet_segnet, register_model

__version__ = "0.1.0"

__all__ = [
    "EncoderFeatures",
    "SegmentationModel",
    "build_model",
    "get_activation",
    "get_model_info",
    "is_model",
    "list_activations",
    "list_models",
    "mobilenet_encoder",
    "mobilenet_segnet",
    "register_model",
    "resolve_activation",
    "segnet_decoder",
]
