"""``mobseg export``: write a trained model as SavedModel, TFLite (float32/float16/int8) or ONNX."""

from __future__ import annotations

import argparse
import os


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mobseg export``."""
    parser = subparsers.add_parser(
        "export",
        help="export a model for deployment (saved_model, tflite, onnx)",
        description="Export a .keras model (or run folder) with the spatial head and a fixed batch of 1. "
        "The exported model expects preprocessed input, like the Keras model.",
    )
    parser.add_argument("--model", required=True, help="a .keras file or a training run folder")
    parser.add_argument("--format", choices=("saved_model", "tflite", "onnx"), default="tflite")
    parser.add_argument("--quantize", choices=("float16", "int8"), default=None, help="TFLite quantization")
    parser.add_argument("--calibration-images", default=None, help="folder of real images for int8 calibration")
    parser.add_argument("--out", required=True, help="output file (tflite, onnx) or folder (saved_model)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load, export, and print what was written."""
    from mobseg.export import export_model
    from mobseg.inference.loading import load_model

    model = load_model(args.model)
    path = export_model(
        model, args.out, format=args.format, quantize=args.quantize, calibration_dir=args.calibration_images
    )
    size = (
        sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)
        if os.path.isdir(path)
        else os.path.getsize(path)
    )
    kind = args.format + (f" ({args.quantize})" if args.quantize else "")
    print(f"wrote {path}: {kind}, {size / 1e6:.2f} MB, input {tuple(model.inputs[0].shape[1:])}")
    return 0
