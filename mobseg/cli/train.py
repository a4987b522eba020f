"""``mobseg train``: fine-tune a model on image/mask folders; with no data arguments, the built-in demo."""

from __future__ import annotations

import argparse
from pathlib import Path

from mobseg.cli.args import add_training_arguments, load_colors, next_run_dir, parse_model_args, training_options


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
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="skip reading every pair before training (very large datasets); a bad file still stops with one line",
    )
    add_training_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Train, print where the run was written and its mean IoU."""
    if args.images is None and args.masks is None and args.val_images is None:
        from mobseg.cli.demo import run_demo

        return run_demo(
            model=args.model,
            model_args=parse_model_args(args.model_arg),
            input_size=args.input_size,
            out=args.out,
            **training_options(args),
        )
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
    options = training_options(args)
    options["epochs"] = options["epochs"] or 10
    run_result = train(
        args.images,
        args.masks,
        val_images=args.val_images,
        val_masks=args.val_masks,
        model=model,
        ignore_index=args.ignore_index,
        class_names=args.class_names.split(",") if args.class_names else None,
        mask_format=args.mask_format,
        colors=load_colors(args.colors),
        out=Path(args.out) if args.out else next_run_dir(Path("runs") / args.model),
        distribute=distribution,
        verify_data=not args.no_verify,
        **options,
    )
    best = run_result.best_value
    print(f"run folder: {run_result.run_dir}")
    if best is not None:
        print(f"best {run_result.monitor}: {best:.4f} (epoch {run_result.best_epoch + 1})")
    return 0
