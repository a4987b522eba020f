"""``SegmentationModel``: a functional Keras model that remembers how it was built."""

from __future__ import annotations

import copy
import json
from typing import Any

import keras

from mobseg.classes import check_class_names, default_class_names


@keras.saving.register_keras_serializable(package="mobseg")
class SegmentationModel(keras.Model):
    """A functional segmentation model plus its build record.

    It is an ordinary functional ``keras.Model`` (``summary()``, ``fit``, ``save``); the extra
    ``architecture`` dict records the factory name and the arguments it was built with, the
    encoder's preprocessing and the head, and survives ``.keras`` save/load in safe mode.
    :meth:`rebuild` builds a fresh, untrained copy from that record.

    Example:
        >>> import mobseg
        >>> model = mobseg.mobilenet_segnet(3, input_height=64, input_width=64)
        >>> model.architecture["name"], model.architecture["kwargs"]["n_classes"]
        ('mobilenet_segnet', 3)
    """

    def __init__(self, inputs: Any, outputs: Any, architecture: dict | None = None, **kwargs: Any):
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.architecture: dict[str, Any] = copy.deepcopy(dict(architecture or {}))

    @classmethod
    def from_logits(
        cls,
        inputs: Any,
        logits: Any,
        *,
        name: str,
        head: str = "flat",
        logits_output: bool = False,
        preprocessing: str = "none",
    ) -> SegmentationModel:
        """Finish a model from per-pixel ``logits`` (N, h, w, n_classes) with the chosen head.

        Example:
            >>> import keras
            >>> x = keras.Input((8, 8, 3))
            >>> m = SegmentationModel.from_logits(x, keras.layers.Conv2D(2, 1)(x), name="tiny")
            >>> m.output_shape, m.output_size
            ((None, 64, 2), (8, 8))
        """
        from mobseg.heads import segmentation_head

        outputs = segmentation_head(logits, head=head, logits_output=logits_output)
        architecture = {
            "output_size": [int(logits.shape[1]), int(logits.shape[2])],
            "head": head,
            "logits": bool(logits_output),
            "preprocessing": preprocessing,
        }
        return cls(inputs=inputs, outputs=outputs, architecture=architecture, name=name)

    @property
    def n_classes(self) -> int:
        """Number of classes the model predicts."""
        return int(self.outputs[0].shape[-1])

    @property
    def input_size(self) -> tuple[int | None, int | None]:
        """(height, width) of the model input."""
        shape = self.inputs[0].shape
        return shape[1], shape[2]

    @property
    def output_size(self) -> tuple[int, int]:
        """(height, width) of the class map the model predicts, before any flattening."""
        return tuple(self.architecture["output_size"])

    @property
    def preprocessing(self) -> str:
        """How images are scaled before the encoder (see ``mobseg.preprocessing``)."""
        return self.architecture.get("preprocessing", "none")

    @property
    def channels(self) -> int:
        """Channels of the input image (1 grayscale, 3 RGB, ...)."""
        return int(self.inputs[0].shape[-1])

    @property
    def head(self) -> str:
        """Output layout: ``"flat"`` (N, h*w, C) or ``"spatial"`` (N, h, w, C)."""
        return self.architecture.get("head", "spatial" if len(self.outputs[0].shape) == 4 else "flat")

    @property
    def outputs_logits(self) -> bool:
        """True if the model outputs logits (no softmax at the end)."""
        return bool(self.architecture.get("logits", False))

    @property
    def class_names(self) -> list[str]:
        """One name per class: the recorded names, else ``class_0``, ``class_1``, ...

        Example:
            >>> import mobseg
            >>> mobseg.mobilenet_segnet(2, input_height=32, input_width=32).class_names
            ['class_0', 'class_1']
        """
        names = self.architecture.get("class_names")
        if names and len(names) == self.n_classes:
            return [str(n) for n in names]
        return default_class_names(self.n_classes)

    @class_names.setter
    def class_names(self, names: Any) -> None:
        self.architecture["class_names"] = check_class_names(names, self.n_classes)

    @property
    def registry_name(self) -> str | None:
        """The registry name the model was built with (``build_model(name, ...)``), if any."""
        return self.architecture.get("name")

    @property
    def build_kwargs(self) -> dict[str, Any]:
        """The arguments the model was built with (defaults filled in); ``{}`` if it was not built by name."""
        return dict(self.architecture.get("kwargs", {}))

    @property
    def encoder(self) -> str | None:
        """Name of the encoder (``"mobilenet"``, ``"vgg16"``, ...), if recorded."""
        return self.architecture.get("encoder")

    @property
    def pretrained_encoder(self) -> bool:
        """Whether encoder weights were loaded from a file (``encoder_weights=``, ``load_encoder_weights``)."""
        record = self.architecture.get("encoder_weights")
        return isinstance(record, dict) and bool(record.get("loaded"))

    @property
    def encoder_layers(self) -> list[str]:
        """Names of the model's encoder layers, in layer order, as recorded when it was built.

        Models saved before the names were recorded get them from a fresh build of their own record
        (:meth:`rebuild`). Raises ``ValueError`` when neither is known.

        Example:
            >>> import mobseg
            >>> names = mobseg.mobilenet_segnet(2, input_height=64, input_width=64).encoder_layers
            >>> names[0], names[-1]
            ('conv1_pad', 'conv_pw_11_relu')
        """
        names = self.architecture.get("encoder_layers")
        if names is None and self.registry_name:
            names = self.rebuild().architecture.get("encoder_layers")
            if names is None and self.encoder:  # interim, until build_model records the names (refactor-zoo)
                names = _probe_encoder_layers(self)
            self.architecture["encoder_layers"] = names
        if not names:
            raise ValueError(
                f"Model {self.name!r} does not record its encoder layers (model.architecture['encoder_layers']); "
                "build it with mobseg.build_model, or set that list to the names of the layers to freeze."
            )
        return list(names)

    def get_config(self) -> dict[str, Any]:
        """The functional graph (standard Keras layers only) plus the build record."""
        graph = keras.Model(inputs=self.inputs, outputs=self.outputs, name=self.name)
        config = graph.get_config()
        config["architecture"] = json.loads(json.dumps(self.architecture))
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> SegmentationModel:
        """Rebuild from :meth:`get_config`; every layer is a stock Keras layer."""
        config = dict(config)
        architecture = config.pop("architecture", None)
        graph = keras.Model.from_config(config, custom_objects=custom_objects)
        inputs = graph.inputs[0] if len(graph.inputs) == 1 else graph.inputs
        outputs = graph.outputs[0] if len(graph.outputs) == 1 else graph.outputs
        return cls(inputs=inputs, outputs=outputs, architecture=architecture, name=graph.name)

    def rebuild(self, **overrides: Any) -> SegmentationModel:
        """Build a new, freshly initialised model from the build record, optionally changing arguments.

        Example:
            >>> import mobseg
            >>> m = mobseg.mobilenet_segnet(2, input_height=64, input_width=64)
            >>> m.rebuild(n_classes=4).n_classes
            4
        """
        from mobseg.zoo.registry import build_model

        kwargs = dict(self.architecture["kwargs"])
        kwargs.update(overrides)
        return build_model(self.architecture["name"], **kwargs)


def _probe_encoder_layers(model: SegmentationModel) -> list[str]:
    """Interim: the model's layers that its encoder, built on its own, also has (in the model's layer order).

    Only for models whose build record lacks ``encoder_layers``; goes once ``build_model`` records them.
    """
    from mobseg.encoders import get_encoder

    kwargs = model.build_kwargs
    extra = {k: kwargs[k] for k in ("alpha", "depth_multiplier") if k in kwargs and model.encoder == "mobilenet"}
    height, width = model.input_size
    features = get_encoder(model.encoder)(height, width, channels=model.channels, **extra)
    wanted = {layer.name for layer in keras.Model(features.inputs, features.pyramid).layers}
    return [
        layer.name for layer in model.layers if layer.name in wanted and not isinstance(layer, keras.layers.InputLayer)
    ]
