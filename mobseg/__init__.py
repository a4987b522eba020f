"""mobseg: a Keras 3 model zoo for semantic segmentation, built around the MobileNet-SegNet article.

``import mobseg`` is light: the public names load on first use (PEP 562), so the command line starts fast
and a prediction through an exported engine never imports Keras or TensorFlow. The model factories
(``mobseg.mobilenet_segnet``, ``mobseg.vgg_unet``, ...) come from the registry, not from a list kept here.
mobseg's Keras objects (``SegmentationModel``, its losses, metric and learning-rate schedule) are registered as
soon as Keras is imported, whoever imports it, so ``keras.saving.load_model("m.keras")`` works after ``import mobseg``.

Example:
    >>> import mobseg
    >>> model = mobseg.mobilenet_segnet(2, input_height=416, input_width=416)
    >>> model.count_params()
    5541378
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from typing import Any

from mobseg._version import __version__ as __version__

#: Public name -> the module that defines it (imported on first use).
_EXPORTS: dict[str, str] = {
    "datasets": "mobseg.datasets",
    "get_activation": "mobseg.activations",
    "list_activations": "mobseg.activations",
    "resolve_activation": "mobseg.activations",
    "FlopCount": "mobseg.complexity",
    "flops": "mobseg.complexity",
    "list_pairs": "mobseg.data",
    "make_dataset": "mobseg.data",
    "model_dataset": "mobseg.data",
    "verify_dataset": "mobseg.data",
    "deeplabv3plus_decoder": "mobseg.decoders",
    "fcn8_decoder": "mobseg.decoders",
    "fpn_decoder": "mobseg.decoders",
    "linknet_decoder": "mobseg.decoders",
    "lraspp_decoder": "mobseg.decoders",
    "fcn32_decoder": "mobseg.decoders",
    "pspnet_decoder": "mobseg.decoders",
    "segnet_decoder": "mobseg.decoders",
    "unet_decoder": "mobseg.decoders",
    "unet_mini_body": "mobseg.decoders",
    "EncoderFeatures": "mobseg.encoders",
    "efficientnetb0_encoder": "mobseg.encoders",
    "efficientnetb1_encoder": "mobseg.encoders",
    "efficientnetb2_encoder": "mobseg.encoders",
    "efficientnetb3_encoder": "mobseg.encoders",
    "efficientnetv2b0_encoder": "mobseg.encoders",
    "efficientnetv2b1_encoder": "mobseg.encoders",
    "get_encoder": "mobseg.encoders",
    "mobilenet_encoder": "mobseg.encoders",
    "mobilenetv2_encoder": "mobseg.encoders",
    "mobilenetv3_large_encoder": "mobseg.encoders",
    "mobilenetv3_small_encoder": "mobseg.encoders",
    "resnet50_encoder": "mobseg.encoders",
    "vanilla_encoder": "mobseg.encoders",
    "vgg16_encoder": "mobseg.encoders",
    "evaluate": "mobseg.inference",
    "load_model": "mobseg.inference",
    "predict": "mobseg.inference",
    "CombinedLoss": "mobseg.losses",
    "LovaszSoftmaxLoss": "mobseg.losses",
    "SegmentationCrossentropy": "mobseg.losses",
    "SegmentationDiceLoss": "mobseg.losses",
    "SegmentationFocalLoss": "mobseg.losses",
    "make_loss": "mobseg.losses",
    "MeanIoU": "mobseg.metrics",
    "confusion_matrix": "mobseg.metrics",
    "segmentation_report": "mobseg.metrics",
    "SegmentationModel": "mobseg.model",
    "TrainingRun": "mobseg.training",
    "train": "mobseg.training",
    "build_model": "mobseg.zoo",
    "get_model_info": "mobseg.zoo",
    "is_model": "mobseg.zoo",
    "list_decoders": "mobseg.zoo",
    "list_models": "mobseg.zoo",
    "register_model": "mobseg.zoo",
}


#: Modules that register Keras serializables; imported right after Keras itself.
_KERAS_REGISTRATIONS = ("mobseg.model", "mobseg.losses", "mobseg.metrics.keras_metric", "mobseg.schedules")


def _register_with_keras() -> None:
    for module in _KERAS_REGISTRATIONS:
        importlib.import_module(module)


class _AfterKerasImport(importlib.abc.MetaPathFinder):
    """Runs :func:`_register_with_keras` once the ``keras`` package has finished importing."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "keras":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            _register_with_keras()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if "keras" in sys.modules:
    _register_with_keras()
elif not any(isinstance(finder, _AfterKerasImport) for finder in sys.meta_path):
    sys.meta_path.insert(0, _AfterKerasImport())


def _model_names() -> list[str]:
    return importlib.import_module("mobseg.zoo").list_models()


def __getattr__(name: str) -> Any:
    """Load a public name on first use; model names come from the registry."""
    if name in _EXPORTS:
        module = importlib.import_module(_EXPORTS[name])
        value = module if module.__name__ == f"mobseg.{name}" else getattr(module, name)
    elif name == "__all__":
        value = ["__version__", *_EXPORTS, *_model_names()]
    elif not name.startswith("_") and importlib.import_module("mobseg.zoo").is_model(name):
        value = importlib.import_module("mobseg.zoo").get_model_info(name).factory
    else:
        raise AttributeError(f"module 'mobseg' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | set(_model_names()))
