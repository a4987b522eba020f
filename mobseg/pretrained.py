"""ImageNet encoder weights: Keras applications' weight files, loaded by layer name with a report.

Nothing is downloaded unless asked: ``encoder_weights="imagenet"`` fetches the file with
``keras.utils.get_file`` (cached in ``~/.keras/models`` under Keras applications' own file names,
so a file already there is used offline); a path loads a local file. Files are the legacy HDF5
layout Keras applications publishes (weights only, or a whole model saved as ``.h5``).

The files, names and MD5 hashes are Keras applications' own: MobileNet, VGG16 and ResNet50 here
(:data:`IMAGENET_FILES`), MobileNetV2, MobileNetV3 and EfficientNet / EfficientNetV2 in
:mod:`mobseg.encoders.applications` (:func:`imagenet_weights_file` gives either).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import keras
import numpy as np

from mobseg.encoders.applications import APPLICATION_ENCODERS, WeightsFile
from mobseg.model import SegmentationModel

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/"

#: encoder -> (file name template, url folder, md5 hash or None). Keras applications publish no
#: hash for MobileNet files; ``get_file`` then only checks that the file exists.
IMAGENET_FILES: dict[str, tuple[str, str, str | None]] = {
    "mobilenet": ("mobilenet_{alpha}_224_tf_no_top.h5", _BASE + "mobilenet/", None),
    "vgg16": (
        "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        _BASE + "vgg16/",
        "6d6bbae143d832006294945121d1f1fc",
    ),
    "resnet50": (
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        _BASE + "resnet/",
        "4d473c1dd8becc155b73f8504c6f6626",
    ),
}

_MOBILENET_ALPHAS = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}


@dataclass
class WeightsReport:
    """What loading a weights file did.

    Attributes:
        source: the file read.
        loaded: model layers whose weights were set from the file.
        mismatched: ``"layer: why"`` for same-named layers whose weights could not be used.
        not_in_file: model layers (with weights) named like encoder layers but absent from the file.
        unused: file layers the model does not have (e.g. MobileNet blocks 12-13 beyond encoder_level 3).

    Example:
        >>> WeightsReport("w.h5", loaded=["conv1"]).ok
        True
    """

    source: str
    loaded: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    not_in_file: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when something loaded and nothing mismatched."""
        return bool(self.loaded) and not self.mismatched

    def __str__(self) -> str:
        lines = [f"{Path(self.source).name}: loaded {len(self.loaded)} layers, {len(self.mismatched)} mismatched"]
        lines += [f"  mismatched {m}" for m in self.mismatched[:5]]
        if len(self.mismatched) > 5:
            lines.append(f"  ... and {len(self.mismatched) - 5} more mismatched layers")
        if self.not_in_file:
            lines.append(f"  not in file ({len(self.not_in_file)}): {', '.join(self.not_in_file)}")
        if self.unused:
            lines.append(f"  in file, not used by this model ({len(self.unused)}): {', '.join(self.unused)}")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        """JSON-friendly form (stored in ``model.architecture["encoder_weights"]``)."""
        return {
            "source": str(self.source),
            "loaded": len(self.loaded),
            "mismatched": list(self.mismatched),
            "not_in_file": list(self.not_in_file),
            "unused": len(self.unused),
        }


def imagenet_weights_file(encoder: str, alpha: float = 1.0, **options: object) -> WeightsFile:
    """Keras applications' ImageNet file (no top) for an encoder: name, URL and MD5 (``None`` where Keras has none).

    ``alpha`` (MobileNet, MobileNetV2, MobileNetV3) and ``options`` (MobileNetV3's ``minimalistic``) pick the file.

    Example:
        >>> imagenet_weights_file("mobilenetv3_small", minimalistic=True).name
        'weights_mobilenet_v3_small_minimalistic_224_1.0_float_no_top_v2.h5'
    """
    if encoder in APPLICATION_ENCODERS:
        spec = APPLICATION_ENCODERS[encoder]
        given = {"alpha": alpha, **options}
        return spec.weights(**{key: given[key] for key in spec.options if key in given})
    if encoder not in IMAGENET_FILES:
        available = ", ".join([*IMAGENET_FILES, *APPLICATION_ENCODERS])
        raise ValueError(
            f"No ImageNet weights for encoder {encoder!r}; available for: {available}. "
            "Train it from scratch (encoder_weights=None) or pass a weights file path."
        )
    template, folder, file_hash = IMAGENET_FILES[encoder]
    name = template
    if encoder == "mobilenet":
        if alpha not in _MOBILENET_ALPHAS:
            raise ValueError(
                f"MobileNet ImageNet weights exist for alpha in {sorted(_MOBILENET_ALPHAS)}; got alpha={alpha}."
            )
        name = template.format(alpha=_MOBILENET_ALPHAS[alpha])
    return WeightsFile(name, folder + name, file_hash)


def imagenet_file_name(encoder: str, alpha: float = 1.0, **options: object) -> str:
    """Keras applications' file name for an encoder's ImageNet weights (no top).

    Example:
        >>> imagenet_file_name("mobilenet", 0.5), imagenet_file_name("efficientnetb1")
        ('mobilenet_5_0_224_tf_no_top.h5', 'efficientnetb1_notop.h5')
    """
    return imagenet_weights_file(encoder, alpha, **options).name


def fetch_imagenet_weights(encoder: str, alpha: float = 1.0, **options: object) -> str:
    """Path of the ImageNet weights file, from Keras' cache or downloaded with ``keras.utils.get_file``.

    Offline and not cached, it raises an error naming the file and how to pass it yourself.

    Example:
        >>> fetch_imagenet_weights("mobilenet")  # doctest: +SKIP
        '/root/.keras/models/mobilenet_1_0_224_tf_no_top.h5'
    """
    file = imagenet_weights_file(encoder, alpha, **options)
    try:
        return keras.utils.get_file(file.name, file.url, file_hash=file.md5, cache_subdir="models")
    except Exception as err:
        cache = os.path.join(os.path.expanduser("~"), ".keras", "models", file.name)
        raise RuntimeError(
            f"Could not get the ImageNet weights file {file.name} ({err}). Without internet, copy the file to "
            f"{cache}, or pass its path: encoder_weights='/path/to/{file.name}'."
        ) from None


def _weights_group(handle: h5py.File) -> h5py.Group:
    group = handle.get("model_weights", handle)
    if "layer_names" not in group.attrs:
        raise ValueError(
            f"{handle.filename} is not a Keras weights file in the legacy HDF5 layout (no 'layer_names'). "
            "Pass a keras.applications weights file (e.g. mobilenet_1_0_224_tf_no_top.h5) or a model saved as .h5."
        )
    return group


def _decode(names) -> list[str]:
    return [n.decode("utf8") if isinstance(n, bytes) else str(n) for n in names]


def load_weights_by_name(model: keras.Model, path: str | os.PathLike) -> WeightsReport:
    """Set every layer of ``model`` whose name is in the legacy HDF5 file ``path`` from that file.

    Layers absent from the file (e.g. the decoder) are left untouched. A same-named layer whose
    weights differ in number or shape is reported, not loaded, and makes the report not ``ok``. Encoder layers
    with weights that the file lacks are reported in ``not_in_file`` (the encoder layers a mobseg model recorded
    at build; for other models, layers named ``conv*`` or ``block*``).

    Example:
        >>> report = load_weights_by_name(model, "mobilenet_1_0_224_tf_no_top.h5")  # doctest: +SKIP
        >>> print(report)  # doctest: +SKIP
        mobilenet_1_0_224_tf_no_top.h5: loaded 81 layers, 0 mismatched
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Weights file not found: {path}")
    try:
        handle = h5py.File(path, "r")
    except OSError as err:
        raise ValueError(f"{path} is not a readable HDF5 weights file ({err}).") from None
    report = WeightsReport(source=path)
    with handle:
        group = _weights_group(handle)
        file_layers = _decode(group.attrs["layer_names"])
        model_layers = {layer.name: layer for layer in model.layers if layer.weights}
        for name in file_layers:
            weight_names = _decode(group[name].attrs.get("weight_names", []))
            if not weight_names:
                continue
            layer = model_layers.get(name)
            if layer is None:
                report.unused.append(name)
                continue
            arrays = [np.asarray(group[name][w]) for w in weight_names]
            expected = [tuple(w.shape) for w in layer.weights]
            got = [a.shape for a in arrays]
            if expected != got:
                report.mismatched.append(f"{name}: model expects {expected}, file has {got}")
                continue
            layer.set_weights(arrays)
            report.loaded.append(name)
        seen = set(file_layers)
        encoder = _recorded_encoder_layers(model)
        report.not_in_file = [
            n
            for n in model_layers
            if n not in seen and (n in encoder if encoder is not None else n.startswith(("conv", "block")))
        ]
    return report


def _recorded_encoder_layers(model: keras.Model) -> set[str] | None:
    """The encoder layers a mobseg model recorded at build, or ``None`` (then names guess: ``conv*``, ``block*``)."""
    if isinstance(model, SegmentationModel) and model.architecture.get("encoder_layers"):
        return set(model.architecture["encoder_layers"])
    return None


def load_encoder_weights(model: keras.Model, weights: str | os.PathLike) -> WeightsReport:
    """Load ``"imagenet"`` or a weights file into ``model``'s encoder, by layer name; returns the report.

    For ``"imagenet"`` the encoder (and its ``alpha``, MobileNetV3's ``minimalistic``) is read from
    ``model.architecture``. Raises ``ValueError`` if any same-named layer mismatches (e.g. alpha or channels
    differ from the file's), if an encoder layer with weights is not in the file (a file for another
    network: the encoder would be half loaded), or if nothing loaded.

    Example:
        >>> import mobseg
        >>> model = mobseg.mobilenet_segnet(12)
        >>> report = load_encoder_weights(model, "/path/to/mobilenet_1_0_224_tf_no_top.h5")  # doctest: +SKIP
    """
    if isinstance(weights, str) and weights == "imagenet":
        if not isinstance(model, SegmentationModel):
            raise ValueError("encoder_weights='imagenet' needs a mobseg model (it records its encoder); pass a file.")
        kwargs = model.build_kwargs
        options = {key: kwargs[key] for key in ("minimalistic",) if key in kwargs}
        weights = fetch_imagenet_weights(model.encoder, kwargs.get("alpha", 1.0), **options)
    report = load_weights_by_name(model, weights)
    if report.mismatched or not report.loaded or report.not_in_file:
        raise ValueError(
            f"Encoder weights from {weights} do not fit this model:\n{report}\n"
            "Check that the file is for this encoder with the same alpha (and minimalistic) and 3 input channels."
        )
    if isinstance(model, SegmentationModel):
        model.architecture["encoder_weights"] = report.as_dict()
    return report
