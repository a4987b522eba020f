"""``mobseg benchmark``: every engine installed here on one model, and which one to use."""

from __future__ import annotations

import argparse
import json

from mobseg.cli.args import needs_framework


def _batch_sizes(text: str) -> list[int]:
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"batch sizes are positive integers, e.g. 1,8; got {text!r}")
    return sizes


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mobseg benchmark``."""
    parser = subparsers.add_parser(
        "benchmark",
        help="measure every installed engine on a model (images/s, latency, agreement) and pick one",
        description=(
            "For each engine available here (keras, tflite float32/float16/int8, onnxruntime, openvino float32 and "
            "bfloat16 where the CPU has it): model load time, images/s and latency p50/p90 per call at each batch "
            "size, and argmax agreement with the float32 Keras model on the given images. It recommends the fastest "
            "engine that agrees on at least --min-agreement of the pixels. Measure on an otherwise idle machine."
        ),
    )
    parser.add_argument("--model", required=True, help="a .keras file, a run folder, or an export")
    parser.add_argument(
        "--engines",
        nargs="+",
        default=None,
        metavar="ENGINE[:PRECISION]",
        help="e.g. keras tflite tflite:int8 onnxruntime openvino openvino:bfloat16 (default: all installed)",
    )
    parser.add_argument("--batch-size", type=_batch_sizes, default=[1, 8], help="comma-separated (default 1,8)")
    parser.add_argument("--images", default=None, help="folder of real images (agreement and int8 calibration)")
    parser.add_argument("--count", type=int, default=16, help="images used for agreement (default 16)")
    parser.add_argument("--repeats", type=int, default=10, help="timed calls per batch size (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls first (default 2)")
    parser.add_argument("--threads", type=int, default=None, help="engine threads (default: every CPU)")
    parser.add_argument("--min-agreement", type=float, default=0.99, help="needed to be recommended (default 0.99)")
    parser.add_argument("--json", default=None, metavar="OUT", help="also write the results as JSON")
    parser.set_defaults(run=run, needs_framework=needs_framework)


def run(args: argparse.Namespace) -> int:
    """Measure, print the table and the recommendation."""
    from mobseg.inference.benchmarking import benchmark, format_benchmark
    from mobseg.io.atomic import atomic_write_text
    from mobseg.io.errors import WriteError
    from mobseg.validation import check_int, check_number

    check_int(args.repeats, "--repeats", minimum=1)
    check_int(args.warmup, "--warmup", minimum=0)
    check_int(args.count, "--count", minimum=1)
    check_number(args.min_agreement, "--min-agreement", minimum=0, maximum=1)
    result = benchmark(
        args.model,
        engines=args.engines,
        batch_sizes=args.batch_size,
        images=args.images,
        count=args.count,
        repeats=args.repeats,
        warmup=args.warmup,
        threads=args.threads,
        min_agreement=args.min_agreement,
    )
    print(format_benchmark(result))
    if args.json:
        try:
            atomic_write_text(json.dumps(result, indent=2) + "\n", args.json)
        except OSError as err:
            raise WriteError(args.json, err) from None
        print(f"results written to {args.json}")
    return 0
