"""Helpers shared by the sub-commands: common options, parsers for option values, small file readers."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that choose and configure a model from the zoo.

    Example:
        >>> p = argparse.ArgumentParser(); add_model_arguments(p)
        >>> p.parse_args(["--activation", "gelu"]).activation
        'gelu'
    """
    parser.add_argument("--model", default="mobilenet_segnet", help="registry name (see mobseg.list_models())")
    parser.add_argument("--n-classes", type=int, default=2, help="number of classes (default 2)")
    parser.add_argument("--height", type=int, default=None, help="input height (default: the model's)")
    parser.add_argument("--width", type=int, default=None, help="input width (default: the model's)")
    parser.add_argument("--activation", default=None, help="encoder activation name, e.g. relu6, gelu, mish")
    parser.add_argument("--decoder-activation", default=None, help="activation between decoder convolutions")
    parser.add_argument("--encoder-level", type=int, default=None, help="pyramid level fed to the decoder (0..4)")
    parser.add_argument("--channels", type=int, default=None, help="input channels (1 grayscale, 3 RGB, ...)")
    parser.add_argument("--alpha", type=float, default=None, help="MobileNet width multiplier")
    parser.add_argument("--head", choices=("flat", "spatial"), default=None, help="output layout")


def model_kwargs(args: argparse.Namespace) -> dict:
    """The factory keyword arguments given on the command line (unset options are left out).

    Example:
        >>> model_kwargs(argparse.Namespace(height=416, width=None, activation=None))
        {'input_height': 416}
    """
    names = {
        "height": "input_height",
        "width": "input_width",
        "activation": "activation",
        "decoder_activation": "decoder_activation",
        "encoder_level": "encoder_level",
        "channels": "channels",
        "alpha": "alpha",
        "head": "head",
    }
    return {key: getattr(args, attr) for attr, key in names.items() if getattr(args, attr, None) is not None}


def parse_size(text: str) -> tuple[int, int]:
    """``"224x224"`` (height x width) or ``"224"`` -> (224, 224).

    Example:
        >>> parse_size("64x96")
        (64, 96)
    """
    parts = text.lower().replace(",", "x").split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) == 1:
        values = values * 2
    if len(values) != 2 or min(values) < 1:
        raise argparse.ArgumentTypeError(f"bad size {text!r}: use HEIGHTxWIDTH, e.g. 224x224")
    return values[0], values[1]


#: ``--class-weights`` modes (see :func:`mobseg.data.class_weights.resolve_class_weights`).
CLASS_WEIGHT_CHOICES = ("none", "balanced", "balanced_sqrt", "balanced_log")


def parse_class_weights(text: str | None) -> str | list[float] | None:
    """A mode (``"none"``, ``"balanced"``, ``"balanced_sqrt"``, ``"balanced_log"``) or comma-separated numbers.

    Example:
        >>> parse_class_weights("1,2.5"), parse_class_weights("balanced_sqrt"), parse_class_weights("none")
        ([1.0, 2.5], 'balanced_sqrt', 'none')
    """
    if text is None:
        return None
    if text in CLASS_WEIGHT_CHOICES:
        return text
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"bad --class-weights {text!r}: use one of {', '.join(CLASS_WEIGHT_CHOICES)} or numbers like 1,2,0.5"
        ) from None


def load_colors(path: str | None) -> Any:
    """Read a colour map JSON file: ``{"#rrggbb": class, ...}``, ``{"r,g,b": class}`` or a list of colours.

    Example:
        >>> load_colors(None) is None
        True
    """
    if path is None:
        return None
    if not Path(path).is_file():
        raise FileNotFoundError(f'Colour map file not found: {path} (a JSON object like {{"#ff0000": 1}}).')
    return json.loads(Path(path).read_text())


def parse_model_args(items: list[str] | None) -> dict[str, Any]:
    """``["head=spatial", "alpha=0.5"]`` -> ``{"head": "spatial", "alpha": 0.5}`` (values read as JSON when possible).

    Example:
        >>> parse_model_args(["alpha=0.5", "head=spatial"])
        {'alpha': 0.5, 'head': 'spatial'}
    """
    result: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--model-arg {item!r}: use KEY=VALUE, e.g. --model-arg decoder_activation=relu")
        try:
            result[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            result[key.replace("-", "_")] = value
    return result


def next_run_dir(base: str | Path) -> Path:
    """``base`` if it is new or holds an unfinished run (which will resume), else ``base-2``, ``base-3``, ...

    Example:
        >>> next_run_dir("runs/does-not-exist").name
        'does-not-exist'
    """
    base = Path(base)
    candidate, n = base, 1
    while True:
        info = candidate / "training.json"
        if not candidate.exists():
            return candidate
        if info.is_file() and json.loads(info.read_text()).get("status") == "running":
            return candidate
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``mobseg train`` and ``mobseg demo`` (see :func:`training_options`)."""
    parser.add_argument("--model", default="mobilenet_segnet", help="registry name (default mobilenet_segnet)")
    parser.add_argument("--model-arg", action="append", metavar="KEY=VALUE", help="extra model argument (repeat)")
    parser.add_argument("--input-size", type=parse_size, default=None, help="HEIGHTxWIDTH of the model input")
    parser.add_argument("--epochs", type=int, default=None, help="total epochs (frozen phase included)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--freeze-encoder-epochs",
        type=int,
        default=None,
        help="first epochs with the encoder frozen (default: 1 with --weights, else 0)",
    )
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument(
        "--fine-tune-learning-rate", type=float, default=None, help="after a frozen phase (default: 0.3x the rate)"
    )
    parser.add_argument(
        "--class-weights",
        type=parse_class_weights,
        default=None,
        help="balanced_sqrt (mobseg train's default: median-frequency weights, square-rooted), balanced, "
        "balanced_log, none (mobseg demo's default), or w0,w1,...",
    )
    parser.add_argument(
        "--loss", default="ce", help="ce (default), dice, focal, lovasz, or a sum: ce+dice, ce+0.5*lovasz"
    )
    parser.add_argument(
        "--lr-schedule",
        choices=("constant", "cosine", "polynomial"),
        default=None,
        help="one curve over all epochs: cosine (mobseg train's default), polynomial, constant (mobseg demo's)",
    )
    parser.add_argument("--warmup-epochs", type=float, default=0.0, help="linear warm-up at the start (e.g. 1)")
    parser.add_argument("--optimizer", choices=("adam", "adamw"), default="adam")
    parser.add_argument("--weight-decay", type=float, default=None, help="AdamW's decoupled decay (default 0.01)")
    parser.add_argument("--clipnorm", type=float, default=None, help="clip the global gradient norm, e.g. 1.0")
    parser.add_argument(
        "--early-stopping-patience", type=int, default=None, help="stop after N epochs without a better val mean IoU"
    )
    parser.add_argument(
        "--batchnorm-momentum", type=float, default=0.9, help="set on every BatchNorm layer (default 0.9)"
    )
    parser.add_argument("--no-augment", action="store_true", help="turn off flips, scale/crop and colour jitter")
    parser.add_argument(
        "--crop",
        choices=("resize", "native"),
        default=None,
        help="augmentation crops: resize (default: the whole image, zoomed) or native (windows of the input "
        "size at the image's own scale)",
    )
    parser.add_argument(
        "--scale", type=parse_scale, default=None, help="augmentation zoom range LOW,HIGH (default 0.75,1.5)"
    )
    parser.add_argument(
        "--mixed-precision",
        nargs="?",
        const="bfloat16",
        choices=("bfloat16", "float16"),
        default=None,
        help="train in 16 bits (bfloat16 if no value; float16 with loss scaling); saved models are float32",
    )
    parser.add_argument("--cache", action="store_true", help="keep decoded images in memory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="run folder; the same folder again resumes an unfinished run")
    parser.add_argument("--quiet", action="store_true", help="one line per epoch instead of a progress bar")


def parse_scale(text: str) -> tuple[float, float]:
    """``"0.75,1.5"`` -> (0.75, 1.5); ``"1"`` -> (1.0, 1.0).

    Example:
        >>> parse_scale("1,1.25")
        (1.0, 1.25)
    """
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) == 1:
        values = values * 2
    if len(values) != 2 or not 0 < values[0] <= values[1]:
        raise argparse.ArgumentTypeError(f"bad --scale {text!r}: use LOW,HIGH with 0 < LOW <= HIGH, e.g. 0.75,1.5")
    return values[0], values[1]


def _augment_option(args: argparse.Namespace) -> bool | dict[str, Any]:
    """``augment=`` of :func:`mobseg.train`: ``False``, ``True`` or the settings given by ``--crop`` / ``--scale``."""
    if args.no_augment:
        if args.crop is not None or args.scale is not None:
            raise ValueError("--no-augment turns augmentation off; leave out --crop and --scale, or --no-augment.")
        return False
    settings = {"crop": args.crop, "scale": args.scale}
    return {key: value for key, value in settings.items() if value is not None} or True


def read_class_names(path: str) -> list[str]:
    """Class names from a file: a JSON list, or one name per line (blank lines skipped).

    Example:
        >>> read_class_names("classes.txt")  # doctest: +SKIP
        ['background', 'road']
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Class names file not found: {path}")
    with open(path, encoding="utf-8") as stream:
        text = stream.read()
    if text.lstrip().startswith("["):
        try:
            names = json.loads(text)
        except ValueError as err:
            raise ValueError(f"{path} starts like JSON but is not a valid JSON list: {err}") from None
        return [str(name) for name in names]
    return [line.strip() for line in text.splitlines() if line.strip()]


def training_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``mobseg.train`` keywords set by :func:`add_training_arguments` options.

    Example:
        >>> p = argparse.ArgumentParser(); add_training_arguments(p)
        >>> training_options(p.parse_args(["--epochs", "3"]))["epochs"]
        3
    """
    return {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "freeze_encoder_epochs": args.freeze_encoder_epochs,
        "learning_rate": args.learning_rate,
        "fine_tune_learning_rate": args.fine_tune_learning_rate,
        "loss": args.loss,
        "warmup_epochs": args.warmup_epochs,
        "optimizer": args.optimizer,
        "weight_decay": args.weight_decay,
        "clipnorm": args.clipnorm,
        "early_stopping_patience": args.early_stopping_patience,
        "batchnorm_momentum": args.batchnorm_momentum,
        "augment": _augment_option(args),
        "mixed_precision": args.mixed_precision,
        "cache": args.cache,
        "seed": args.seed,
        "verbose": 2 if args.quiet else 1,
        # only when given: mobseg.train's defaults (balanced_sqrt, cosine) or the demo's (none, constant) apply
        **({} if args.class_weights is None else {"class_weights": args.class_weights}),
        **({} if args.lr_schedule is None else {"lr_schedule": args.lr_schedule}),
    }


#: Exported model files that run without Keras (see :mod:`mobseg.inference.engines`).
EXPORTED_SUFFIXES: tuple[str, ...] = (".tflite", ".onnx", ".xml")


def needs_framework(args: argparse.Namespace) -> bool:
    """Whether a command will import Keras/TensorFlow (then it is loaded quietly first, see :mod:`mobseg.cli.quiet`).

    Prediction from an exported file on its own engine does not, except TFLite without LiteRT installed, which
    falls back to TensorFlow's interpreter.

    Example:
        >>> needs_framework(argparse.Namespace(model="roads.onnx", engine=None))
        False
    """
    model, engine = str(getattr(args, "model", "") or ""), getattr(args, "engine", None)
    suffix = os.path.splitext(model)[1].lower()
    if suffix not in EXPORTED_SUFFIXES or engine == "keras":
        return True
    if suffix == ".tflite" and engine in (None, "tflite"):
        import importlib.util

        return importlib.util.find_spec("ai_edge_litert") is None
    return False
