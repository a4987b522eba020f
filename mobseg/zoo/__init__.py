"""The model zoo: importing this package registers every model.

Families live in submodules (``mobseg.zoo.segnet``, ``.unet``, ``.fcn``, ``.pspnet``). Three factories share
their family module's name (``segnet``, ``unet``, ``pspnet``), so in this package those names stay the
modules; get the factories from the top level (``mobseg.segnet``) or with ``build_model("segnet", ...)``.
"""

from mobseg.zoo import fcn, pspnet, segnet, unet
from mobseg.zoo.fcn import (
    fcn_8,
    fcn_8_mobilenet,
    fcn_8_resnet50,
    fcn_8_vgg,
    fcn_32,
    fcn_32_mobilenet,
    fcn_32_resnet50,
    fcn_32_vgg,
)
from mobseg.zoo.pspnet import resnet50_pspnet, vgg_pspnet
from mobseg.zoo.registry import ModelInfo, build_model, get_model_info, is_model, list_models, register_model
from mobseg.zoo.segnet import mobilenet_segnet, resnet50_segnet, vgg_segnet
from mobseg.zoo.unet import mobilenet_unet, resnet50_unet, unet_mini, vgg_unet

__all__ = [
    "ModelInfo",
    "build_model",
    "fcn",
    "fcn_8",
    "fcn_8_mobilenet",
    "fcn_8_resnet50",
    "fcn_8_vgg",
    "fcn_32",
    "fcn_32_mobilenet",
    "fcn_32_resnet50",
    "fcn_32_vgg",
    "get_model_info",
    "is_model",
    "list_models",
    "mobilenet_segnet",
    "mobilenet_unet",
    "pspnet",
    "register_model",
    "resnet50_pspnet",
    "resnet50_segnet",
    "resnet50_unet",
    "segnet",
    "unet",
    "unet_mini",
    "vgg_pspnet",
    "vgg_segnet",
    "vgg_unet",
]
