"""Why does an int8 TFLite export disagree with its float model? Calibration variants and a per-layer look.

For a trained model (e.g. CamVid's mobilenet_unet), exports int8 TFLite files calibrated in several ways and
measures each one's argmax agreement with the float32 Keras model on validation images (prepared exactly as
prediction prepares them), at the model's output resolution:

* ``nearest-first``: what mobseg did before issue 13: ``keras.utils.load_img(target_size=...)`` (nearest
  neighbour resize) on the first ``--limit`` files in name order;
* ``bilinear-first``: the prediction path (bilinear resize) on the same files;
* ``bilinear-spread``: the prediction path on ``--limit`` files spread over the folder (mobseg's choice now);
  these three keep the graph as it is (``equalize=False``);
* ``equalized``: ``bilinear-spread`` plus the per-channel range equalization at concatenations
  (``mobseg.export.equalize``), the fix;
* ``export``: ``mobseg.export.export_model`` as it is (its own calibration and graph), i.e. the fix in place.

``--layers`` also runs TFLite's QuantizationDebugger and prints the layers with the largest quantization
error relative to their scale, and the agreement with some ops kept in float (``--denylist-ops``).

    python scripts/int8_agreement.py --model runs/camvid-mobilenet-unet --calibration ../shared/data/camvid/train \\
        --val ../shared/data/camvid/val --layers --json results/int8_agreement.json
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np


def nearest_calibration(folder: str, model, limit: int) -> list[np.ndarray]:
    """The pre-issue-13 calibration: keras.utils.load_img with target_size (nearest), first files by name."""
    import keras

    from mobseg.io.images import list_images
    from mobseg.preprocessing import preprocess_images

    height, width = model.input_size
    arrays = []
    for path in list_images(folder)[:limit]:
        image = keras.utils.load_img(path, color_mode="rgb", target_size=(height, width))
        arrays.append(preprocess_images(keras.utils.img_to_array(image, dtype="float32"), model.preprocessing))
    return arrays


def bilinear_calibration(folder: str, model, limit: int, spread: bool) -> list[np.ndarray]:
    """The prediction path (bilinear resize): the first ``limit`` files, or ``limit`` spread over the folder."""
    from mobseg.export.calibration import pick_evenly
    from mobseg.inference.scoring import ModelGeometry
    from mobseg.io.images import list_images, read_image

    files = list_images(folder)
    files = pick_evenly(files, limit) if spread else files[:limit]
    geometry = ModelGeometry.of(model)
    return [geometry.prepare_one(read_image(f)) for f in files]


def agreement(model, path: str, val: list[np.ndarray]) -> float:
    """Argmax agreement of the .tflite file at ``path`` with the Keras model on ``val``."""
    from mobseg.inference.agreement import argmax_agreement
    from mobseg.inference.engines.keras_engine import KerasEngine, keras_model_info
    from mobseg.inference.engines.tflite_engine import TFLiteEngine

    info = {**keras_model_info(model), "precision": "int8"}
    return argmax_agreement(KerasEngine(model), TFLiteEngine(path, info=info), val)


def converter_for(model, folder: str, samples: list[np.ndarray]):
    """The int8 converter mobseg's export_tflite builds, for the debugger."""
    import tensorflow as tf

    from mobseg.export import export_saved_model

    saved = export_saved_model(model, os.path.join(folder, "saved_model"), batch_size=1)
    converter = tf.lite.TFLiteConverter.from_saved_model(saved)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.representative_dataset = lambda: ([s[None].astype(np.float32)] for s in samples)
    return converter


def concat_scales(path: str) -> list[dict]:
    """The int8 scale of every CONCATENATION's inputs in a .tflite file (one scale shared by all of them)."""
    from mobseg.inference.engines.tflite_engine import load_interpreter

    interpreter = load_interpreter(path)
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    found = []
    for op in interpreter._get_ops_details():  # the only way to list ops in the Python interpreter API
        if op["op_name"] == "CONCATENATION":
            scales = [round(float(tensors[i]["quantization"][0]), 5) for i in op["inputs"]]
            found.append({"output": tensors[op["outputs"][0]]["name"][-40:], "input_scales": scales})
    return found


def layer_report(model, samples: list[np.ndarray], val: list[np.ndarray], folder: str, denylist: list[str]) -> dict:
    """QuantizationDebugger: the worst layers (RMSE / scale) and the agreement with ``denylist`` ops in float."""
    import tensorflow as tf

    debug_data = lambda: ([v[None].astype(np.float32)] for v in val[:16])  # noqa: E731
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter_for(model, folder, samples), debug_dataset=debug_data
    )
    debugger.run()
    buffer = io.StringIO()
    debugger.layer_statistics_dump(buffer)
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    for row in rows:
        row["rmse_over_scale"] = float(row["mean_squared_error"]) ** 0.5 / max(float(row["scale"]), 1e-12)
    rows.sort(key=lambda r: -r["rmse_over_scale"])
    worst = [
        {"op": r["op_name"], "tensor": r["tensor_name"], "rmse/scale": round(r["rmse_over_scale"], 3)}
        for r in rows[:15]
    ]
    result = {"worst_layers": worst}
    if denylist:
        options = tf.lite.experimental.QuantizationDebugOptions(denylisted_ops=denylist)
        selective = tf.lite.experimental.QuantizationDebugger(
            converter=converter_for(model, folder, samples), debug_dataset=debug_data, debug_options=options
        )
        path = os.path.join(folder, "selective.tflite")
        with open(path, "wb") as stream:
            stream.write(selective.get_nondebug_quantized_model())
        result[f"agreement_with_{'_'.join(denylist)}_in_float"] = agreement(model, path, val)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--calibration", required=True, help="folder of calibration images (e.g. CamVid train)")
    parser.add_argument("--val", required=True, help="folder of images the agreement is measured on")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument(
        "--variants", nargs="+", default=["nearest-first", "bilinear-first", "bilinear-spread", "equalized", "export"]
    )
    parser.add_argument("--layers", action="store_true", help="per-layer quantization error (slow)")
    parser.add_argument("--denylist-ops", nargs="*", default=["MUL", "ADD"], help="ops kept in float for --layers")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    import mobseg
    from mobseg.export import export_model, export_tflite

    model = mobseg.load_model(args.model)
    val = bilinear_calibration(args.val, model, 10_000, spread=False)
    results: dict = {"model": args.model, "val_images": len(val), "limit": args.limit, "agreement": {}}
    with tempfile.TemporaryDirectory() as folder:
        for variant in args.variants:
            path = os.path.join(folder, f"{variant}.tflite")
            if variant == "export":
                export_model(model, path, "tflite", "int8", args.calibration, calibration_limit=args.limit)
            else:
                samples = (
                    nearest_calibration(args.calibration, model, args.limit)
                    if variant == "nearest-first"
                    else bilinear_calibration(args.calibration, model, args.limit, variant != "bilinear-first")
                )
                export_tflite(model, path, quantize="int8", calibration=samples, equalize=variant == "equalized")
            results["agreement"][variant] = round(agreement(model, path, val), 5)
            results.setdefault("concat_scales", {})[variant] = concat_scales(path)
            scales = [c["input_scales"][0] for c in results["concat_scales"][variant]]
            print(
                f"{variant:>16}: argmax agreement {100 * results['agreement'][variant]:.2f}%; concatenation scales "
                f"{scales} (a ReLU6 skip alone: {6 / 255:.4f})",
                flush=True,
            )
        if args.layers:
            samples = bilinear_calibration(args.calibration, model, args.limit, spread=True)
            results["layers"] = layer_report(model, samples, val, folder, args.denylist_ops)
            print(json.dumps(results["layers"], indent=1))
    if args.json:
        from mobseg.io.atomic import atomic_write_text

        atomic_write_text(json.dumps(results, indent=2) + "\n", args.json)


if __name__ == "__main__":
    main()
