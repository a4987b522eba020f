"""``mobseg export``: write a trained model as SavedModel, TFLite (float32/float16/int8), ONNX or OpenVINO IR."""

from __future__ import annotations

import argparse
import os


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mobseg export``."""
    parser = subparsers.add_parser(
        "export",
        help="export a model for deployment (saved_model, tflite, onnx, openvino)",
        description="Export a .keras model (or run folder) with the spatial head. The exported model expects "
        "preprocessed input, like the Keras model; a sidecar OUT.json (OUT/mobseg.json for saved_model) records "
        "the preprocessing, sizes, class names and precision, so `mobseg predict --model OUT` works from the file. "
        "Quantized exports print (and record) how often they agree with the float32 model.",
    )
    parser.add_argument("--model", required=True, help="a .keras file or a training run folder")
    parser.add_argument("--format", choices=("saved_model", "tflite", "onnx", "openvino"), default="tflite")
    parser.add_argument("--quantize", choices=("float16", "int8"), default=None, help="TFLite quantization")
    parser.add_argument(
        "--calibration-images",
        default=None,
        help="folder of real images: int8 calibration, and where agreement with float32 is measured",
    )
    parser.add_argument(
        "--calibration-limit", type=int, default=100, help="at most this many calibration images (default 100)"
    )
    parser.add_argument("--out", required=True, help="output file (.tflite, .onnx, .xml) or folder (saved_model)")
    parser.set_defaults(run=run)


def _size(path: str) -> int:
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)
    extra = path[: -len(".xml")] + ".bin" if path.endswith(".xml") else None
    return os.path.getsize(path) + (os.path.getsize(extra) if extra and os.path.isfile(extra) else 0)


def run(args: argparse.Namespace) -> int:
    """Load, export, and print what was written (with the measured agreement of quantized files)."""
    from mobseg.export import export_model
    from mobseg.inference.loading import load_model

    model = load_model(args.model)
    path = export_model(
        model,
        args.out,
        format=args.format,
        quantize=args.quantize,
        calibration_dir=args.calibration_images,
        calibration_limit=args.calibration_limit,
    )
    kind = args.format + (f" ({args.quantize})" if args.quantize else "")
    print(
        f"wrote {path} and {path.sidecar}: {kind}, {_size(path) / 1e6:.2f} MB, input {tuple(model.inputs[0].shape[1:])}"
    )
    agreement = path.info.get("agreement")
    if agreement:
        print(
            f"argmax agreement with the float32 model: {100 * agreement['argmax']:.2f}% of output pixels "
            f"on {agreement['images']} {agreement['on']}"
        )
    return 0
