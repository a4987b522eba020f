"""Inference speed of a zoo model (mobilenet_segnet by default) on this machine: Keras, compiled call, TFLite, ONNX.

Prints a Markdown table: images/s, achieved GFLOP/s and its ratio to this machine's fp32
matrix-multiply GFLOP/s (a 4096x4096 numpy/OpenBLAS matmul, measured in the same run), and the
file size of each exported format. Medians of --repeats timed runs after a warm-up.

    python scripts/bench_inference.py                      # 224 and 416, batch 1 and 8
    python scripts/bench_inference.py --sizes 224 --batches 1 --repeats 3 --calibration ../shared/data/camvid/train
    python scripts/bench_inference.py --model mobilenet_lraspp --n-classes 11 --sizes 176x240 --batches 1 --skip-onnx

``--model`` is any registry name; ``--sizes`` are sides (224) or HEIGHTxWIDTH (176x240).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from functools import partial

import numpy as np


def matmul_gflops(n: int = 4096, repeats: int = 5) -> float:
    """The fp32 ceiling: GFLOP/s of an n x n float32 matmul with numpy."""
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up (tracing, allocation)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def file_size(path: str) -> int:
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)
    return os.path.getsize(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="mobilenet_segnet", help="registry name (mobseg.list_models())")
    parser.add_argument("--sizes", nargs="+", default=["224", "416"], help="sides or HEIGHTxWIDTH")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-classes", type=int, default=2)
    parser.add_argument("--calibration", default=None, help="folder of real images for int8 (else random noise)")
    parser.add_argument("--skip-onnx", action="store_true")
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    import mobseg
    from mobseg.complexity import flops as count_flops
    from mobseg.export import TFLiteRunner, calibration_images, deployment_model, export_onnx, export_tflite

    ceilings = [matmul_gflops()]
    print(f"model: {args.model}, n_classes={args.n_classes}")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; TF {tf.__version__}, "
        f"Keras {keras.__version__}; TF_ENABLE_ONEDNN_OPTS={os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'unset')}"
    )
    print(f"fp32 matmul at start: {ceilings[0]:.1f} GFLOP/s (measured again before each size; the maximum is used)\n")
    print("| size | batch | path | img/s | GFLOP/s | of ceiling | file MB |")
    print("|---|---|---|---|---|---|---|")
    tmp = tempfile.mkdtemp(prefix="mobseg-bench-")
    speed, cost = {}, {}
    for size in args.sizes:
        height, width = (int(v) for v in (size.split("x") if "x" in size else (size, size)))
        ceilings.append(matmul_gflops())
        ceiling = max(ceilings)
        model = mobseg.build_model(args.model, args.n_classes, input_height=height, input_width=width)
        deploy = deployment_model(model)
        cost[size] = count_flops(model).gflops
        if args.calibration:
            calibration = list(calibration_images(args.calibration, model, limit=32))
        else:
            calibration = [np.random.default_rng(i).uniform(-1, 1, (height, width, 3)) for i in range(8)]
        keras_file = os.path.join(tmp, f"m{size}.keras")
        model.save(keras_file)
        compiled = tf.function(lambda t, m=deploy: m(t, training=False))
        for batch in args.batches:
            x = np.random.default_rng(0).uniform(-1, 1, (batch, height, width, 3)).astype("float32")
            paths = [
                ("keras predict", partial(model.predict, x, batch_size=batch, verbose=0), keras_file),
                ("compiled call (tf.function)", partial(compiled, tf.constant(x)), keras_file),
            ]
            for quant in (None, "float16", "int8"):
                path = os.path.join(tmp, f"m{size}_b{batch}_{quant or 'float32'}.tflite")
                export_tflite(model, path, quantize=quant, calibration=calibration, batch_size=batch)
                runner = TFLiteRunner(path, num_threads=os.cpu_count())
                paths.append((f"TFLite {quant or 'float32'}", partial(runner, x), path))
            if not args.skip_onnx:
                try:
                    import onnxruntime as ort

                    onnx_path = export_onnx(model, os.path.join(tmp, f"m{size}_b{batch}.onnx"), batch_size=batch)
                    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
                    feed = {session.get_inputs()[0].name: x}
                    paths.append(("ONNX Runtime", partial(session.run, None, feed), onnx_path))
                except (ImportError, RuntimeError) as err:
                    print(f"(ONNX skipped: {err})")
            for label, fn, path in paths:
                ips = batch / median_seconds(fn, args.repeats)
                speed[size, batch, label] = ips
                gflops = ips * cost[size]
                print(
                    f"| {size} | {batch} | {label} | {ips:.2f} | {gflops:.0f} | {gflops / ceiling:.2f} "
                    f"| {file_size(path) / 1e6:.1f} |",
                    flush=True,
                )
    ceilings.append(matmul_gflops())
    ceiling = max(ceilings)
    print(f"\nfp32 matmul measurements: {', '.join(f'{c:.0f}' for c in ceilings)} GFLOP/s; ceiling {ceiling:.1f}")
    print("(the 'of ceiling' column uses the maximum measured up to that row)")
    for size in args.sizes:
        print(f"{size}: {cost[size]:.2f} GFLOP per image")
        keras_b1 = speed.get((size, 1, "compiled call (tf.function)"))
        int8_b1 = speed.get((size, 1, "TFLite int8"))
        if keras_b1 and int8_b1:
            print(f"  TFLite int8 / Keras fp32 compiled call, batch 1: {int8_b1 / keras_b1:.2f}x (goal >= 2x)")
        keras_b8 = speed.get((size, 8, "compiled call (tf.function)"))
        if keras_b8:
            print(
                f"  Keras fp32 compiled call, batch 8: {keras_b8 * cost[size] / ceiling:.2f} of the ceiling (goal 0.85)"
            )


if __name__ == "__main__":
    main()
