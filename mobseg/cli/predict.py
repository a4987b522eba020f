"""``mobseg predict``: class masks at the original image size, as index PNGs, palette PNGs and overlays.

With an exported file (``--model roads.tflite|.onnx|.xml``) nothing of Keras or TensorFlow is imported here.
Exit codes: 0 all done; 1 done, but some inputs could not be read (each named on stderr, the others all
have their outputs); 2 error (bad arguments, unreadable model, outputs that cannot be written).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from mobseg.cli.args import needs_framework

ENGINE_CHOICES = ("keras", "tflite", "onnxruntime", "openvino")
PRECISION_CHOICES = ("float32", "float16", "bfloat16")


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """``--engine``, ``--precision``, ``--threads``: shared by predict, evaluate and benchmark.

    Example:
        >>> p = argparse.ArgumentParser(); add_engine_arguments(p)
        >>> p.parse_args(["--engine", "openvino"]).engine
        'openvino'
    """
    parser.add_argument(
        "--engine",
        choices=ENGINE_CHOICES,
        default=None,
        help="what runs the model (default: keras for .keras models, the file's engine for exports; "
        "see `mobseg benchmark` for the fastest on this machine)",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISION_CHOICES,
        default=None,
        help="float32 (default); bfloat16/float16 are opt-in for OpenVINO, float16 for tflite from a .keras model",
    )
    parser.add_argument("--threads", type=int, default=None, help="threads of the engine (default: every CPU)")
    parser.add_argument(
        "--tta", choices=("flip",), default=None, help="test-time augmentation: average with the mirror image (2x work)"
    )


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mobseg predict``."""
    parser = subparsers.add_parser(
        "predict",
        help="predict masks for an image or a folder of images",
        description=(
            "Writes OUT/masks/<name>.png (class index per pixel, the image's size), OUT/color/<name>.png (the same "
            "as a palette PNG) and, with --overlay, OUT/overlay/<name>.png (the image blended with the mask). "
            "An image that cannot be read is named and skipped; the exit code is then 1."
        ),
    )
    parser.add_argument(
        "--model", required=True, help="a .keras file, a training run folder, or an export (.tflite, .onnx, .xml)"
    )
    parser.add_argument("--input", required=True, help="an image file, a folder of images, or a .txt list of images")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--overlay", action="store_true", help="also write the image blended with the mask")
    parser.add_argument("--legend", action="store_true", help="add class names to the overlays (implies --overlay)")
    parser.add_argument("--alpha", type=float, default=0.5, help="mask colour weight in overlays (default 0.5)")
    parser.add_argument("--class-names", default=None, help="file with one class name per line (or a JSON list)")
    parser.add_argument("--batch-size", type=int, default=8, help="images per model call (default 8)")
    add_engine_arguments(parser)
    parser.add_argument("--workers", type=int, default=None, help="reading and writing threads (default: CPUs, 2-8)")
    parser.add_argument(
        "--on-error",
        choices=("skip", "stop"),
        default="skip",
        help="an unreadable image: skip it and go on (default; exit code 1 at the end) or stop at once",
    )
    parser.add_argument(
        "--shard", default=None, metavar="K/N", help="only the inputs of shard K of N (split across N machines)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line (shown on a terminal only)")
    parser.set_defaults(run=run, needs_framework=needs_framework)


def run(args: argparse.Namespace) -> int:
    """Open the engine, stream the predictions to disk, report skipped inputs; returns the exit code."""
    from mobseg.cli.args import read_class_names
    from mobseg.inference.engines import open_engine
    from mobseg.inference.inputs import parse_shard
    from mobseg.inference.prediction import COLOR_DIR, MASKS_DIR, OVERLAY_DIR, predict_iter

    shard = parse_shard(args.shard) if args.shard else None
    class_names = read_class_names(args.class_names) if args.class_names else None
    start = time.perf_counter()
    engine = open_engine(args.model, args.engine, precision=args.precision, threads=args.threads, tta=args.tta)
    results = predict_iter(
        engine,
        args.input,
        args.out,
        batch_size=args.batch_size,
        overlay=args.overlay,
        legend=args.legend,
        alpha=args.alpha,
        class_names=class_names,
        on_error=args.on_error,
        shard=shard,
        workers=args.workers,
        progress=not args.quiet and sys.stderr.isatty() and os.path.isdir(args.input),
    )
    count, failures = 0, 0
    try:
        for result in results:
            count += 1
            if not result.ok:
                failures += 1
                print(f"mobseg predict: skipped {result.source}: {result.error}", file=sys.stderr)
    finally:
        engine.close()
    seconds = time.perf_counter() - start
    folders = [MASKS_DIR, COLOR_DIR] + ([OVERLAY_DIR] if args.overlay or args.legend else [])
    print(
        f"{count - failures} mask(s) written to {', '.join(os.path.join(args.out, f) for f in folders)} "
        f"({engine.name} {engine.precision}, {seconds:.1f} s)"
    )
    if failures:
        print(f"mobseg predict: {failures} of {count} inputs could not be read and were skipped", file=sys.stderr)
        return 1
    return 0
