"""``mobseg demo``: the main job with no data at hand -- synthetic shapes, a short training, the mean IoU."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from mobseg.cli.train import add_training_arguments, next_run_dir, parse_model_args, parse_size

#: The demo's defaults: small enough for a few minutes on 2 CPU cores.
DEMO_INPUT_SIZE = (64, 64)
DEMO_EPOCHS = 8
DEMO_MODEL_ARGS = {"encoder_level": 2}  # MobileNet-SegNet at full output resolution: learns shapes fast


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mobseg demo``."""
    parser = subparsers.add_parser(
        "demo",
        help="generate sample data, fine-tune mobilenet_segnet on it and print the mean IoU (a few minutes)",
        description="Write synthetic scenes (circles, rectangles, triangles on textured backgrounds) with exact "
        "masks, train mobilenet_segnet on them with the full pipeline, and print per-class and mean IoU on the "
        "validation scenes. Same run folder layout as `mobseg train`.",
    )
    parser.add_argument("--data-dir", default="runs/shapes-data", help="where the sample data is written")
    parser.add_argument("--n-train", type=int, default=240, help="training scenes")
    parser.add_argument("--n-val", type=int, default=48, help="validation scenes")
    parser.add_argument("--image-size", type=parse_size, default=(96, 96), help="scene size (resized to input)")
    add_training_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo."""
    return run_demo(args)


def run_demo(args: argparse.Namespace) -> int:
    """Generate the shapes data, train, evaluate and print the mean IoU (used by ``mobseg train`` without data).

    Example:
        >>> from mobseg.cli import main
        >>> main(["demo", "--epochs", "1"])  # doctest: +SKIP
    """
    from mobseg.data import list_pairs, model_dataset
    from mobseg.datasets import make_shapes
    from mobseg.metrics import format_report
    from mobseg.training import evaluate_dataset, train
    from mobseg.zoo import build_model

    started = time.time()
    data_dir = getattr(args, "data_dir", "runs/shapes-data")
    data = make_shapes(
        data_dir,
        n_train=getattr(args, "n_train", 240),
        n_val=getattr(args, "n_val", 48),
        size=getattr(args, "image_size", (96, 96)),
    )
    print(f"sample data: {data.root} ({data.n_classes} classes: {', '.join(data.class_names)})")
    kwargs = dict(DEMO_MODEL_ARGS) if args.model == "mobilenet_segnet" else {}
    kwargs.update(parse_model_args(args.model_arg))
    kwargs["input_height"], kwargs["input_width"] = args.input_size or DEMO_INPUT_SIZE
    model = build_model(args.model, data.n_classes, **kwargs)
    out = Path(args.out) if args.out else next_run_dir("runs/demo")
    run_result = train(
        data.train_images,
        data.train_masks,
        val_images=data.val_images,
        val_masks=data.val_masks,
        model=model,
        class_names=data.class_names,
        epochs=args.epochs or DEMO_EPOCHS,
        batch_size=args.batch_size,
        freeze_encoder_epochs=args.freeze_encoder_epochs,
        learning_rate=args.learning_rate,
        fine_tune_learning_rate=args.fine_tune_learning_rate,
        class_weights=args.class_weights,
        augment=not args.no_augment,
        cache=True,
        out=out,
        seed=args.seed,
        verbose=2 if args.quiet else 1,
        batchnorm_momentum=0.9 if args.batchnorm_momentum is None else args.batchnorm_momentum,
    )
    val = model_dataset(run_result.model, list_pairs(data.val_images, data.val_masks), batch_size=16)
    report = evaluate_dataset(run_result.model, val, class_names=list(data.class_names))
    print()
    print(format_report(report))
    background = report["classes"][0]["gt_pixels"] / max(report["n_pixels"], 1)
    print()
    print(f"run folder: {run_result.run_dir}  (model.keras, training.json, history.csv, curves.png)")
    print(f"time: {time.time() - started:.0f} s")
    print(
        f"mean IoU on the {len(list_pairs(data.val_images, data.val_masks))} validation scenes: "
        f"{report['mean_iou']:.3f} (guessing 'background' everywhere scores {background / data.n_classes:.3f})"
    )
    return 0
