"""The model zoo: importing this package registers every model."""

from mobseg.zoo import segnet
from mobseg.zoo.registry import ModelInfo, build_model, get_model_info, is_model, list_models, register_model
from mobseg.zoo.segnet import mobilenet_segnet

__all__ = [
    "ModelInfo",
    "build_model",
    "get_model_info",
    "is_model",
    "list_models",
    "mobilenet_segnet",
    "register_model",
    "segnet",
]
