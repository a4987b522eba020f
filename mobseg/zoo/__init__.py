"""The model zoo: importing this package registers every model.

Families live in submodules (``mobseg.zoo.segnet``, ``.unet``, ``.fcn``, ``.pspnet``: keras_segmentation's 20
models; ``.modern``: DeepLabV3+, LR-ASPP, FPN and LinkNet on the mobile encoders; the shared machinery in
``.family``). Every registered factory is exported here by its registry name, from the registry itself (no
second list), except the three that share their family module's name (``segnet``, ``unet``, ``pspnet``): in
this package those names stay the modules; get the factories from the top level (``mobseg.segnet``) or with
``build_model("segnet", ...)``.
"""

from mobseg.zoo import fcn, modern, pspnet, segnet, unet
from mobseg.zoo.registry import (
    ModelInfo,
    build_model,
    get_model_info,
    is_model,
    list_decoders,
    list_models,
    model_name,
    register_model,
)

_MODULES = {"fcn": fcn, "modern": modern, "pspnet": pspnet, "segnet": segnet, "unet": unet}

#: The registered factories exported here: all but those named like a family module.
_FACTORIES = {name: get_model_info(name).factory for name in list_models() if name not in _MODULES}
globals().update(_FACTORIES)

__all__ = [
    "ModelInfo",
    "build_model",
    "fcn",
    "get_model_info",
    "is_model",
    "list_decoders",
    "list_models",
    "model_name",
    "modern",
    "pspnet",
    "register_model",
    "segnet",
    "unet",
    *_FACTORIES,
]
