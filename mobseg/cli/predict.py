"""``mobseg predict``: class masks at the original image size, as index PNGs, palette PNGs and overlays."""

from __future__ import annotations

import argparse
import os


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mobseg predict``."""
    parser = subparsers.add_parser(
        "predict",
        help="predict masks for an image or a folder of images",
        description=(
            "Writes OUT/masks/<name>.png (class index per pixel, the image's size), OUT/color/<name>.png (the same "
            "as a palette PNG) and, with --overlay, OUT/overlay/<name>.png (the image blended with the mask)."
        ),
    )
    parser.add_argument("--model", required=True, help="a .keras file or a training run folder (with model.keras)")
    parser.add_argument("--input", required=True, help="an image file or a folder of images")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--overlay", action="store_true", help="also write the image blended with the mask")
    parser.add_argument("--legend", action="store_true", help="add class names to the overlays (implies --overlay)")
    parser.add_argument("--alpha", type=float, default=0.5, help="mask colour weight in overlays (default 0.5)")
    parser.add_argument("--class-names", default=None, help="file with one class name per line (or a JSON list)")
    parser.add_argument("--batch-size", type=int, default=8, help="images per model call (default 8)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load the model, predict every input and write the masks (and overlays)."""
    from mobseg.cli.args import read_class_names
    from mobseg.inference import load_model, predict
    from mobseg.inference.prediction import COLOR_DIR, MASKS_DIR, OVERLAY_DIR

    model = load_model(args.model)
    class_names = read_class_names(args.class_names) if args.class_names else None
    masks = predict(
        model,
        args.input,
        out_dir=args.out,
        batch_size=args.batch_size,
        overlay=args.overlay,
        legend=args.legend,
        alpha=args.alpha,
        class_names=class_names,
        progress=True if os.path.isdir(args.input) else None,
    )
    count = len(masks) if isinstance(masks, list) else 1
    folders = [MASKS_DIR, COLOR_DIR] + ([OVERLAY_DIR] if args.overlay or args.legend else [])
    print(f"{count} mask(s) written to " + ", ".join(os.path.join(args.out, f) for f in folders))
    return 0
