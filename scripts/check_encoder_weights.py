"""Load an ImageNet weights file into a mobseg encoder and prove every tensor arrived intact.

    python scripts/check_encoder_weights.py --weights ../shared/weights/mobilenet_1_0_224_tf_no_top.h5

Builds the full encoder (all pyramid levels, so no file layer is left over) and the article's
mobilenet_segnet, loads the file into both by layer name, re-reads every tensor from the file
with h5py and compares it to the model's, and prints the report. Exit code 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import sys

import h5py
import keras
import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", required=True, help="a Keras applications weights file (.h5)")
    parser.add_argument("--encoder", default="mobilenet", choices=("mobilenet", "vgg16", "resnet50"))
    parser.add_argument("--alpha", type=float, default=1.0, help="MobileNet width of the file")
    args = parser.parse_args()

    import mobseg
    from mobseg.pretrained import load_encoder_weights, load_weights_by_name

    builders = {
        "mobilenet": lambda: mobseg.mobilenet_encoder(224, 224, alpha=args.alpha),
        "vgg16": lambda: mobseg.vgg16_encoder(224, 224),
        "resnet50": lambda: mobseg.resnet50_encoder(224, 224),
    }
    features = builders[args.encoder]()
    encoder = keras.Model(features.inputs, features.pyramid, name=f"{args.encoder}_encoder")
    report = load_weights_by_name(encoder, args.weights)
    print(f"full {args.encoder} encoder:\n{report}")

    differences = 0
    with h5py.File(args.weights, "r") as handle:
        group = handle.get("model_weights", handle)
        for name in report.loaded:
            names = [n.decode() if isinstance(n, bytes) else n for n in group[name].attrs["weight_names"]]
            for ours, weight_name in zip(encoder.get_layer(name).weights, names, strict=True):
                if not np.array_equal(np.asarray(ours), np.asarray(group[name][weight_name])):
                    differences += 1
                    print(f"  DIFFERENT: {weight_name}")
    tensors = sum(len(encoder.get_layer(n).weights) for n in report.loaded)
    print(f"tensors compared with the file: {tensors}, different: {differences}")

    factories = {"mobilenet": "mobilenet_segnet", "vgg16": "vgg_segnet", "resnet50": "resnet50_segnet"}
    kwargs = {"alpha": args.alpha} if args.encoder == "mobilenet" else {}
    model = mobseg.build_model(factories[args.encoder], 12, input_height=224, input_width=224, **kwargs)
    print(f"\n{model.name} (12 classes, 224x224):\n{load_encoder_weights(model, args.weights)}")
    ok = report.ok and not report.mismatched and not report.unused and differences == 0
    print("\nRESULT:", "zero mismatches" if ok else "MISMATCHES")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
