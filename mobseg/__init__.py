"""mobseg: a Keras 3 model zoo for semantic segmentation, built around the MobileNet-SegNet article.

Example:
    >>> import mobseg
    >>> model = mobseg.mobilenet_segnet(2, input_height=416, input_width=416)
    >>> model.count_params()
    5541378
"""

from mobseg import datasets
from mobseg._version import __version__ as __version__
from mobseg.activations import get_activation, list_activations, resolve_activation
from mobseg.complexity import FlopCount, flops
from mobseg.data import list_pairs, make_dataset, model_dataset, verify_dataset
from mobseg.decoders import (
    fcn8_decoder,
    fcn32_decoder,
    pspnet_decoder,
    segnet_decoder,
    unet_decoder,
    unet_mini_body,
)
from mobseg.encoders import EncoderFeatures, mobilenet_encoder, resnet50_encoder, vanilla_encoder, vgg16_encoder
from mobseg.inference import evaluate, load_model, predict
from mobseg.losses import SegmentationCrossentropy
from mobseg.metrics import MeanIoU, confusion_matrix, segmentation_report
from mobseg.model import SegmentationModel
from mobseg.training import TrainingRun, train
from mobseg.zoo import build_model, get_model_info, is_model, list_models, mobilenet_segnet, register_model
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
from mobseg.zoo.pspnet import pspnet, resnet50_pspnet, vgg_pspnet
from mobseg.zoo.segnet import resnet50_segnet, segnet, vgg_segnet
from mobseg.zoo.unet import mobilenet_unet, resnet50_unet, unet, unet_mini, vgg_unet

__all__ = [
    "EncoderFeatures",
    "FlopCount",
    "flops",
    "MeanIoU",
    "SegmentationModel",
    "confusion_matrix",
    "evaluate",
    "load_model",
    "predict",
    "segmentation_report",
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
    # the zoo (issue 3): encoders, decoders, and the keras_segmentation models
    "fcn8_decoder",
    "fcn32_decoder",
    "pspnet_decoder",
    "resnet50_encoder",
    "unet_decoder",
    "unet_mini_body",
    "vanilla_encoder",
    "vgg16_encoder",
    "fcn_8",
    "fcn_8_mobilenet",
    "fcn_8_resnet50",
    "fcn_8_vgg",
    "fcn_32",
    "fcn_32_mobilenet",
    "fcn_32_resnet50",
    "fcn_32_vgg",
    "mobilenet_unet",
    "pspnet",
    "resnet50_pspnet",
    "resnet50_segnet",
    "resnet50_unet",
    "segnet",
    "unet",
    "unet_mini",
    "vgg_pspnet",
    "vgg_segnet",
    "vgg_unet",
    # fine-tuning on custom masks (issue 4)
    "SegmentationCrossentropy",
    "TrainingRun",
    "datasets",
    "list_pairs",
    "make_dataset",
    "model_dataset",
    "train",
    "verify_dataset",
]
