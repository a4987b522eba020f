"""``mobseg train``: fine-tune a model on image/mask folders; with no data arguments, the built-in demo."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


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


def parse_class_weights(text: str | None) -> str | list[float] | None:
    """``"balanced"``, a comma-separated list of numbers, or ``None``.

    Example:
        >>> parse_class_weights("1,2.5")
        [1.0, 2.5]
    """
    if text is None or text == "none":
        return None
    if text == "balanced":
        return text
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"bad --class-weights {text!r}: use 'balanced' or numbers like 1,2,0.5"
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


def add_training_arguments(parser: argparse.ArgumentParser, demo: bool = False) -> None:
    """Options shared by ``mobseg train`` and ``mobseg demo``."""
    parser.add_argument("--model", default="mobilenet_segnet", help="registry name (default mobilenet_segnet)")
    parser.add_argument("--model-arg", action="append", metavar="KEY=VALUE", help="extra model argument (repeat)")
    parser.add_argument("--input-size", type=parse_size, default=None, help="HEIGHTxWIDTH of the model input")
    parser.add_argument("--epochs", type=int, default=None, help="total epochs (frozen phase included)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--freeze-encoder-epochs", type=int, default=0, help="first epochs with the encoder frozen")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--fine-tune-learning-rate", type=float, default=None, help="default: learning rate / 10")
    parser.add_argument("--class-weights", type=parse_class_weights, default=None, help="'balanced' or w0,w1,...")
    parser.add_argument("--batchnorm-momentum", type=float, default=None, help="e.g. 0.9 for short runs")
    parser.add_argument("--no-augment", action="store_true", help="turn off flips, scale/crop and colour jitter")
    parser.add_argument("--cache", action="store_true", help="keep decoded images in memory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="run folder; the same folder again resumes an unfinished run")
    parser.add_argument("--quiet", action="store_true", help="one line per epoch instead of a progress bar")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mobseg train``."""
    parser = subparsers.add_parser(
        "train",
        help="fine-tune a model on your images and masks (no data arguments: the built-in demo)",
        description="Train on an images folder and a masks folder paired by file name. Writes a run folder "
        "(model.keras, training.json, history.csv, curves.png, checkpoints/). Run again with the same --out "
        "to resume an interrupted run. Without --images/--masks it runs `mobseg demo`.",
    )
    parser.add_argument("--images", default=None, help="training images folder")
    parser.add_argument("--masks", default=None, help="training masks folder (same file names)")
    parser.add_argument("--val-images", default=None, help="validation images folder")
    parser.add_argument("--val-masks", default=None, help="validation masks folder")
    parser.add_argument("--n-classes", type=int, default=None, help="number of classes (required with data)")
    parser.add_argument("--class-names", default=None, help="comma-separated class names, in label order")
    parser.add_argument("--ignore-index", type=int, default=None, help="label value left out of loss and metrics")
    parser.add_argument("--mask-format", choices=("index", "rgb", "binary"), default="index")
    parser.add_argument("--colors", default=None, help="JSON file: colour -> class map for RGB masks")
    parser.add_argument("--weights", default=None, help="encoder weights: a legacy .h5 file (loaded by layer name)")
    parser.add_argument(
        "--distribute",
        choices=("mirrored", "multi_worker", "data_parallel"),
        default=None,
        help="data-parallel training: mirrored (TF, all GPUs of this machine), multi_worker (TF, machines in "
        "TF_CONFIG, one process each), data_parallel (JAX, all devices); --batch-size is the global batch",
    )
    add_training_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Train, print where the run was written and its mean IoU."""
    if args.images is None and args.masks is None and args.val_images is None:
        from mobseg.cli.demo import run_demo

        return run_demo(args)
    if args.images is None or args.masks is None:
        raise ValueError("give both --images and --masks (or neither, to run the built-in demo).")
    if args.n_classes is None:
        raise ValueError("--n-classes is required, e.g. --n-classes 3 (labels 0, 1, 2).")
    from mobseg.training import train
    from mobseg.training.distribute import Distribution
    from mobseg.zoo import build_model

    # once, before any work: a strategy that does not fit the backend fails here, and TF's multi-worker
    # strategy must be created once, at program start
    distribution = Distribution.resolve(args.distribute)
    kwargs = parse_model_args(args.model_arg)
    if args.input_size is not None:
        kwargs["input_height"], kwargs["input_width"] = args.input_size
    model = build_model(args.model, args.n_classes, **kwargs)
    if args.weights:
        from mobseg.pretrained import load_encoder_weights

        print(load_encoder_weights(model, args.weights))
    out = Path(args.out) if args.out else next_run_dir(Path("runs") / args.model)
    run_result = train(
        args.images,
        args.masks,
        val_images=args.val_images,
        val_masks=args.val_masks,
        model=model,
        epochs=args.epochs or 10,
        batch_size=args.batch_size,
        freeze_encoder_epochs=args.freeze_encoder_epochs,
        learning_rate=args.learning_rate,
        fine_tune_learning_rate=args.fine_tune_learning_rate,
        class_weights=args.class_weights,
        ignore_index=args.ignore_index,
        class_names=args.class_names.split(",") if args.class_names else None,
        mask_format=args.mask_format,
        colors=load_colors(args.colors),
        augment=not args.no_augment,
        cache=args.cache,
        out=out,
        seed=args.seed,
        verbose=2 if args.quiet else 1,
        batchnorm_momentum=args.batchnorm_momentum,
        distribute=distribution,
    )
    best = run_result.best_value
    print(f"run folder: {run_result.run_dir}")
    if best is not None:
        print(f"best {run_result.monitor}: {best:.4f} (epoch {run_result.best_epoch + 1})")
    return 0
