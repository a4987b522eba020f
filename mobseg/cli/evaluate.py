"""``mobseg evaluate``: per-class IoU, mean IoU and more of a trained model on images with masks.

Exit codes: 0 all pairs scored; 1 report written, but some pairs could not be used (each named on
stderr); 2 error.
"""

from __future__ import annotations

import argparse
import json
import sys

from mobseg.cli.args import needs_framework


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mobseg evaluate``."""
    from mobseg.cli.predict import add_engine_arguments

    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a trained model on images with ground-truth masks",
        description=(
            "Predict every image at its original size and compare with its mask: prints per-class IoU, Dice and "
            "accuracy, then mean IoU, frequency-weighted IoU, mean Dice, mean class accuracy and pixel accuracy. "
            "Classes absent from both ground truth and prediction are excluded from the means. A pair that cannot "
            "be used is named and skipped; the exit code is then 1."
        ),
    )
    parser.add_argument(
        "--model", required=True, help="a .keras file, a training run folder, or an export (.tflite, .onnx, .xml)"
    )
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
    add_engine_arguments(parser)
    parser.add_argument(
        "--on-error", choices=("skip", "stop"), default="skip", help="a bad pair: skip it (default) or stop"
    )
    parser.add_argument("--json", default=None, metavar="OUT", help="also write the report as JSON to OUT")
    parser.set_defaults(run=run, needs_framework=needs_framework)


def run(args: argparse.Namespace) -> int:
    """Open the engine, evaluate, print the table and optionally write the JSON report."""
    from mobseg.cli.args import read_class_names
    from mobseg.inference.engines import open_engine
    from mobseg.inference.evaluation import evaluate
    from mobseg.inference.streaming import SkippedInputsError
    from mobseg.io.atomic import atomic_write_text
    from mobseg.io.errors import WriteError

    engine = open_engine(args.model, args.engine, precision=args.precision, threads=args.threads, tta=args.tta)
    class_names = read_class_names(args.class_names) if args.class_names else None
    ignore_index = args.ignore_index if args.ignore_index is not None else engine.info.get("ignore_index")
    failures: list[tuple[str, str]] = []
    try:
        report = evaluate(
            engine,
            args.images,
            args.masks,
            ignore_index=ignore_index,
            class_names=class_names,
            batch_size=args.batch_size,
            mask_format=args.mask_format,
            on_error=args.on_error,
        )
    except SkippedInputsError as err:
        if err.result is None:
            raise
        report, failures = err.result, err.failures
    finally:
        engine.close()
    if args.json:
        try:
            atomic_write_text(json.dumps(report, indent=2) + "\n", args.json)
        except OSError as err:
            raise WriteError(args.json, err) from None
        print(f"report written to {args.json}")
    for name, error in failures:
        print(f"mobseg evaluate: skipped {name}: {error}", file=sys.stderr)
    if failures:
        total = report["n_images"] + len(failures)
        print(
            f"mobseg evaluate: {len(failures)} of {total} pairs could not be used; the report leaves them out",
            file=sys.stderr,
        )
        return 1
    return 0
