"""mobseg: a Keras 3 model zoo for semantic segmentation, built around the MobileNet-SegNet article.

Example:
    >>> import mobseg
    >>> model = mobseg.mobilenet_segnet(2, input_height=416, input_width=416)
    >>> model.count_params()
    5541378
"""

from mobseg import datasets
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
from mobseg.zoo import build_model, get_model_info, is_model, list_models, register_model

__version__ = "0.1.0"

#: Every registered model's factory, exported by its name (``mobseg.vgg_unet``, ``from mobseg import vgg_unet``).
#: The names come from the registry (importing ``mobseg.zoo`` registers the models), not from a list kept here.
_MODELS = {name: get_model_info(name).factory for name in list_models()}
globals().update(_MODELS)

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
    "register_model",
    "resolve_activation",
    "segnet_decoder",
    # the zoo (issue 3): encoders and decoders (the models are at the end, from the registry)
    "fcn8_decoder",
    "fcn32_decoder",
    "pspnet_decoder",
    "resnet50_encoder",
    "unet_decoder",
    "unet_mini_body",
    "vanilla_encoder",
    "vgg16_encoder",
    # fine-tuning on custom masks (issue 4)
    "SegmentationCrossentropy",
    "TrainingRun",
    "datasets",
    "list_pairs",
    "make_dataset",
    "model_dataset",
    "train",
    "verify_dataset",
    # the models: every registered factory, by its registry name
    *_MODELS,
]
