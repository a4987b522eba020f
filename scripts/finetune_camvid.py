"""Fine-tune MobileNet-SegNet on CamVid (11 classes, class 11 "Unlabelled" ignored) and print val IoU.

Usage:
    python scripts/finetune_camvid.py --data ../shared/data/camvid [--weights FILE.h5] [--epochs 2]
        [--input-size 96x128] [--out runs/camvid]

``--weights`` loads a MobileNet v1 legacy-HDF5 file (e.g. ``mobilenet_1_0_224_tf_no_top.h5``) into the
encoder by layer name (``mobseg.pretrained.load_encoder_weights``, which reads the file with h5py) and
prints how many layers loaded; the encoder is then frozen for ``--freeze-encoder-epochs`` epochs.
Without it the model trains from scratch.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import mobseg
from mobseg.data import list_pairs, model_dataset
from mobseg.metrics import format_report
from mobseg.training import evaluate_dataset

CAMVID_CLASSES = [
    "Sky",
    "Building",
    "Pole",
    "Road",
    "Pavement",
    "Tree",
    "SignSymbol",
    "Fence",
    "Car",
    "Pedestrian",
    "Bicyclist",
]
#: Median-frequency weights of the SegNet tutorial (full resolution), for comparison.
SEGNET_TUTORIAL_WEIGHTS = [0.2595, 0.1826, 4.5640, 0.1417, 0.9051, 0.3826, 9.6446, 1.8418, 0.6823, 6.2478, 7.3614]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="CamVid folder with train/, trainannot/, val/, valannot/")
    parser.add_argument("--weights", default=None, help="MobileNet v1 .h5 weights, loaded into the encoder by name")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--freeze-encoder-epochs", type=int, default=None, help="default: 1 with --weights, else 0")
    parser.add_argument("--input-size", default="96x128", help="HEIGHTxWIDTH, multiples of 16 (full: 176x240)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--class-weights", default="balanced", help="'balanced', 'segnet' (tutorial's) or 'none'")
    parser.add_argument("--out", default=None, help="run folder (default runs/camvid-<time>)")
    args = parser.parse_args()
    height, width = (int(v) for v in args.input_size.split("x"))
    started = time.time()

    model = mobseg.mobilenet_segnet(11, input_height=height, input_width=width)
    if args.weights:
        from mobseg.pretrained import load_encoder_weights

        report = load_encoder_weights(model, args.weights)
        print(f"encoder weights: {report}")
        print(f"loaded {len(report.loaded)} layers by name from {args.weights}")
    freeze = args.freeze_encoder_epochs if args.freeze_encoder_epochs is not None else (1 if args.weights else 0)
    weights = {"balanced": "balanced", "segnet": SEGNET_TUTORIAL_WEIGHTS, "none": None}[args.class_weights]
    out = args.out or f"runs/camvid-{time.strftime('%Y%m%d-%H%M%S')}"
    run = mobseg.train(
        os.path.join(args.data, "train"),
        os.path.join(args.data, "trainannot"),
        val_images=os.path.join(args.data, "val"),
        val_masks=os.path.join(args.data, "valannot"),
        model=model,
        epochs=args.epochs,
        freeze_encoder_epochs=min(freeze, args.epochs),
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        class_weights=weights,
        ignore_index=11,
        class_names=CAMVID_CLASSES,
        cache=True,
        out=out,
        verbose=2,
    )
    used = run.config["class_weights"]["values"]
    if used:
        print("class weights used:   ", " ".join(f"{w:.3f}" for w in used))
        print("SegNet tutorial's:    ", " ".join(f"{w:.3f}" for w in SEGNET_TUTORIAL_WEIGHTS))
    val = model_dataset(run.model, list_pairs(os.path.join(args.data, "val"), os.path.join(args.data, "valannot")),
                        ignore_index=11, batch_size=16)  # fmt: skip
    report = evaluate_dataset(run.model, val, class_names=CAMVID_CLASSES, ignore_index=11)
    print()
    print(f"CamVid val ({report['n_pixels']:,} pixels counted, class 11 ignored), input {height}x{width}:")
    print(format_report(report))
    print(f"\nrun folder: {run.run_dir}; {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
