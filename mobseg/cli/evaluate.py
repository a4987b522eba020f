"""``mobseg evaluate``: per-class IoU, mean IoU and more of a trained model on images with masks."""

from __future__ import annotations

import argparse
import json


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mobseg evaluate``."""
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a trained model on images with ground-truth masks",
        description=(
            "Predict every image at its original size and compare with its mask: prints per-class IoU, Dice and "
            "accuracy, then mean IoU, frequency-weighted IoU, mean Dice, mean class accuracy and pixel accuracy. "
            "Classes absent from both ground truth and prediction are excluded from the means."
        ),
    )
    parser.add_argument("--model", required=True, help="a .keras file or a training run folder (with model.keras)")
    parser.add_argument("--images", required=True, help="folder of images")
    parser.add_argument("--masks", required=True, help="folder of masks, paired with the images by file name")
    parser.add_argument(
        "--ignore-index",
        type=int,
        default=None,
        help="mask value that is not counted, e.g. 255 (default: the run's training.json value, else none)",
    )
    parser.add_argument("--class-names", default=None, help="file with one class name per line (or a JSON list)")
    parser.add_argument("--mask-format", choices=("index", "binary"), default="index", help="how masks encode classes")
    parser.add_argument("--batch-size", type=int, default=8, help="images per model call (default 8)")
    parser.add_argument("--json", default=None, metavar="OUT", help="also write the report as JSON to OUT")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load the model, evaluate, print the table and optionally write the JSON report."""
    from mobseg.cli.args import read_class_names
    from mobseg.inference import evaluate, load_model
    from mobseg.io.atomic import atomic_write_text

    model = load_model(args.model)
    class_names = read_class_names(args.class_names) if args.class_names else None
    ignore_index = args.ignore_index
    if ignore_index is None:
        ignore_index = getattr(model, "run_info", {}).get("ignore_index")
    report = evaluate(
        model,
        args.images,
        args.masks,
        ignore_index=ignore_index,
        class_names=class_names,
        batch_size=args.batch_size,
        mask_format=args.mask_format,
    )
    if args.json:
        atomic_write_text(json.dumps(report, indent=2) + "\n", args.json)
        print(f"report written to {args.json}")
    return 0
