"""``mobseg verify``: check an images folder and a masks folder; list every problem at once."""

from __future__ import annotations

import argparse
import json

from mobseg.cli.args import load_colors


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mobseg verify``."""
    parser = subparsers.add_parser(
        "verify",
        help="check a dataset (pairs, sizes, unreadable files, label values) and summarise it",
        description="Check image/mask folders and report every problem with file names, then the pairs, "
        "image sizes and class pixel histogram. Exit code 0 when the data is clean, 1 when problems were found.",
    )
    parser.add_argument("--images", required=True, help="folder of images (png/jpg/jpeg/bmp/tif)")
    parser.add_argument("--masks", required=True, help="folder of masks (png/bmp/tif), same file names as images")
    parser.add_argument("--n-classes", type=int, default=None, help="check that labels are below this")
    parser.add_argument("--ignore-index", type=int, default=None, help="label value to ignore (e.g. 255)")
    parser.add_argument("--mask-format", choices=("index", "rgb", "binary"), default="index")
    parser.add_argument("--colors", default=None, help="JSON file mapping colours to classes (RGB masks)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Verify the dataset and print the report."""
    from mobseg.data import verify_dataset

    report = verify_dataset(
        args.images,
        args.masks,
        n_classes=args.n_classes,
        ignore_index=args.ignore_index,
        mask_format=args.mask_format,
        colors=load_colors(args.colors),
    )
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.summary())
    return 0 if report.ok else 1
