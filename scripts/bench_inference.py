"""Inference on this machine, in one run: every engine x batch size, the folder run, the CLI, peak memory.

1. The fp32 ceiling: GFLOP/s of a 4096x4096 numpy matmul (measured before and after; the maximum is used).
2. Engines x batch sizes (``mobseg.inference.benchmarking.benchmark``): model-only images/s, latency p50/p90,
   load time, argmax agreement with Keras float32 on real images, GFLOP/s and the ratio to the ceiling.
3. The folder run: ``mobseg.predict_iter`` over ``--images`` (PNG outputs written) with the best engine (the
   fastest with >= ``--min-agreement``) at each batch size, as a ratio to the same engine alone on the same
   images (read and prepared beforehand, same batches; the two interleaved, medians of ``--folder-repeats``).
4. The whole CLI process (``mobseg predict --model <export>``: start-up, imports, model load included).
5. Peak memory (max RSS) of ``mobseg predict`` on a folder of 200 and of 2,000 images (copies of ``--images``).

    # the issue-13 measurement (a CamVid-trained model, run at 416x416):
    python scripts/bench_inference.py --model runs/camvid-mobilenet-unet --input-size 416x416 \\
        --images ../shared/data/camvid/val --batches 1 8 --repeats 20 --json results/bench_inference.json
    # a smoke run (correctness only; numbers meaningless on a busy machine):
    python scripts/bench_inference.py --input-size 64x64 --batches 1 2 --repeats 2 --count 4 --memory 20 40

``--model`` may also be a registry name (``mobilenet_lraspp``; ``--n-classes``, random weights). Without
``--model`` a randomly initialised ``mobilenet_segnet(2)`` is used (agreement then is a hard test:
random decoders put many pixels near a tie). Measure on an otherwise idle machine; compare ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

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


def cpu_flags() -> str:
    """The instruction-set extensions that matter for int8 / bf16 speed (from /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            flags = next((line.split(":")[1].split() for line in stream if line.startswith("flags")), [])
    except OSError:
        return "unknown"
    wanted = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_bf16", "amx_int8")
    return ", ".join(flag for flag in wanted if flag in flags) or "none of avx2/avx512/vnni/bf16"


def load_source(args: argparse.Namespace):
    """The Keras model to measure: ``--model`` (rebuilt at ``--input-size`` with the same weights) or a fresh one."""
    import mobseg

    height, width = (int(v) for v in args.input_size.lower().split("x"))
    if args.model is None:
        return mobseg.mobilenet_segnet(2, input_height=height, input_width=width)
    if args.model in mobseg.list_models():  # a registry name: that model, randomly initialised
        return mobseg.build_model(args.model, args.n_classes, input_height=height, input_width=width)
    model = mobseg.load_model(args.model)
    if tuple(model.input_size) == (height, width):
        return model
    resized = model.rebuild(input_height=height, input_width=width)  # fully convolutional: same weights fit
    resized.set_weights(model.get_weights())
    resized.architecture["class_names"] = model.class_names
    resized.run_info = getattr(model, "run_info", {})
    return resized


def export_best(model, label: str, folder: str, images: str | None) -> str | None:
    """Export the Keras model for the engine/precision ``label`` (e.g. ``tflite int8``); None for keras."""
    from mobseg.export import export_model

    engine, precision = label.split()
    if engine == "keras":
        return None
    if engine == "tflite":
        quantize = None if precision == "float32" else precision
        return export_model(model, os.path.join(folder, f"best_{precision}.tflite"), "tflite", quantize, images)
    if engine == "onnxruntime":
        return export_model(model, os.path.join(folder, "best.onnx"), "onnx")
    return export_model(model, os.path.join(folder, "best.xml"), "openvino")


def engine_pass(engine, batches: list[np.ndarray], batch: int) -> float:
    """Seconds of the engine alone over prepared ``batches`` (the last one padded, as the folder run does)."""
    start = time.perf_counter()
    for i, x in enumerate(batches):
        engine.run_padded(x, batch, pad=i > 0)
    return time.perf_counter() - start


def folder_rate(source, label: str, images: str, batch: int, out: str, repeats: int) -> tuple[float, float]:
    """(folder, engine-alone) images/s over the same images: medians of ``repeats`` interleaved runs after a warm-up.

    The folder run is ``predict_iter`` over ``images`` with outputs written; the engine-alone pass runs the same
    engine on the same images, read and prepared beforehand, in the same batches. Interleaving them puts any
    drift of the machine into both. ``source``: the Keras model (keras engine) or the exported file of ``label``.
    """
    from mobseg.inference import predict_iter
    from mobseg.inference.engines import open_engine
    from mobseg.io.images import list_images, read_image

    engine_name, precision = label.split()
    engine = open_engine(source, engine_name, precision=precision if engine_name == "openvino" else None)
    files = list_images(images)
    prepared = np.stack([engine.geometry.prepare_one(read_image(f)) for f in files])
    batches = [prepared[i : i + batch] for i in range(0, len(prepared), batch)]
    folder_rates, engine_rates = [], []
    for run in range(repeats + 1):
        alone = engine_pass(engine, batches, batch)
        start = time.perf_counter()
        for result in predict_iter(engine, images, out, batch_size=batch):
            assert result.ok, result.error
        if run:  # the first round warms up (compilation, caches)
            folder_rates.append(len(files) / (time.perf_counter() - start))
            engine_rates.append(len(files) / alone)
    engine.close()
    return statistics.median(folder_rates), statistics.median(engine_rates)


def cli_run(model_arg: str, images: str, out: str, batch: int, extra: list[str]) -> tuple[float, int]:
    """(wall seconds, peak RSS in KiB) of one ``mobseg predict`` process."""
    code = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "done = subprocess.run(sys.argv[1:]); w = time.perf_counter() - t; "
        "print(w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(done.returncode)"
    )
    cmd = [sys.executable, "-c", code, sys.executable, "-m", "mobseg", "predict", "--model", model_arg]
    cmd += ["--input", images, "--out", out, "--batch-size", str(batch), "--quiet", *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"mobseg predict failed: {done.stderr.strip()[-500:]}")
    wall, rss = done.stdout.strip().splitlines()[-1].split()
    return float(wall), int(rss)


def replicate(images: str, count: int, folder: str) -> str:
    """A folder of ``count`` images: hard links (or copies) of the files in ``images``, renamed."""
    from mobseg.io.images import list_images

    files = list_images(images)
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        source = files[i % len(files)]
        target = os.path.join(folder, f"{i:06d}{os.path.splitext(source)[1]}")
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
    return folder


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--model", default=None, help="a .keras file, a run folder or a registry name (default: mobilenet_segnet)"
    )
    parser.add_argument("--n-classes", type=int, default=2, help="classes of a --model built by registry name")
    parser.add_argument("--input-size", default="416x416", help="HxW to run the model at (default 416x416)")
    parser.add_argument("--images", default=None, help="folder of real images (agreement, int8, folder run)")
    parser.add_argument("--engines", nargs="+", default=None, help="as mobseg benchmark (default: all installed)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--count", type=int, default=16, help="images for agreement (default 16)")
    parser.add_argument("--folder-repeats", type=int, default=2, help="timed folder runs per batch size")
    parser.add_argument("--memory", type=int, nargs=2, default=[200, 2000], metavar=("SMALL", "LARGE"))
    parser.add_argument("--min-agreement", type=float, default=0.99)
    parser.add_argument("--json", default=None, help="write every number as JSON")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    import keras

    from mobseg.complexity import flops as count_flops
    from mobseg.inference.benchmarking import benchmark, format_benchmark

    ceilings = [matmul_gflops()]
    model = load_source(args)
    gflop = count_flops(model).gflops
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; flags: {cpu_flags()}")
    print(
        f"Keras {keras.__version__}, backend {keras.backend.backend()}; model {model.name} "
        f"{model.input_size[0]}x{model.input_size[1]}, {gflop:.2f} GFLOP per image\n"
    )
    result = benchmark(
        model,
        engines=args.engines,
        batch_sizes=args.batches,
        images=args.images,
        count=args.count,
        repeats=args.repeats,
        min_agreement=args.min_agreement,
    )
    ceilings.append(matmul_gflops())
    ceiling = max(ceilings)
    print(format_benchmark(result))
    print(f"\nfp32 matmul ceiling: {ceiling:.0f} GFLOP/s (measured {', '.join(f'{c:.0f}' for c in ceilings)})")
    for row in result["results"]:
        for batch, timing in row["batches"].items():
            timing["gflops"] = round(timing["images_per_s"] * gflop, 1)
            timing["of_ceiling"] = round(timing["gflops"] / ceiling, 3)
            print(
                f"  {row['engine']} {row['precision']} b{batch}: {timing['gflops']:.0f} GFLOP/s, "
                f"{timing['of_ceiling']:.2f} of the ceiling"
            )
    report = {
        "machine": {"cpu_flags": cpu_flags(), "cpus": os.cpu_count(), "ceiling_gflops": ceiling},
        "gflop_per_image": gflop,
        "engines": result,
        "folder": {},
        "cli": {},
        "memory": {},
    }
    if args.images:
        pipeline_runs(model, result, args, report)
    if args.json:
        from mobseg.io.atomic import atomic_write_text

        atomic_write_text(json.dumps(report, indent=2) + "\n", args.json)
        print(f"\nwritten to {args.json}")


def pipeline_runs(model, result: dict, args: argparse.Namespace, report: dict) -> None:
    """Sections 3-5: the folder run, the CLI process and peak memory, with the recommended engine."""
    from mobseg.io.images import list_images

    rates = {f"{r['engine']} {r['precision']}": r["batches"] for r in result["results"] if not r["error"]}
    tmp = tempfile.mkdtemp(prefix="mobseg-bench-")
    exported: dict[str, str | None] = {}
    try:
        for batch, label in result["recommended"].items():
            if label is None:
                continue
            if label not in exported:
                exported[label] = export_best(model, label, tmp, args.images)
            model_only = rates[label][batch]["images_per_s"]
            source = exported[label] or model
            out = os.path.join(tmp, "out")
            rate, alone = folder_rate(source, label, args.images, int(batch), out, args.folder_repeats)
            report["folder"][batch] = {
                "engine": label, "images_per_s": round(rate, 3), "engine_alone": round(alone, 3),
                "model_only": model_only,
            }  # fmt: skip
            print(
                f"\nfolder run, batch {batch}, {label}: {rate:.2f} img/s = {rate / alone:.2f} of the engine alone on "
                f"the same images ({alone:.2f} img/s; goal >= 0.9); {rate / model_only:.2f} of the table's rate "
                f"{model_only:.2f} (repeated calls on {args.count} images)"
            )
        batch = max(args.batches)
        best = result["recommended"].get(str(batch))
        if best is None:
            return
        model_arg = exported.get(best) or os.path.join(tmp, "model.keras")
        if exported.get(best) is None:
            model.save(model_arg)
        extra = ["--precision", best.split()[1]] if best.startswith("openvino") else []
        count = len(list_images(args.images))
        wall, _ = cli_run(model_arg, args.images, os.path.join(tmp, "cli"), batch, extra)
        model_only = rates[best][str(batch)]["images_per_s"]
        report["cli"] = {"engine": best, "seconds": round(wall, 2), "images_per_s": round(count / wall, 3)}
        print(
            f"CLI process ({best}, {count} images, batch {batch}): {wall:.1f} s = {count / wall:.2f} img/s, "
            f"{count / wall / model_only:.2f} of the model-only rate"
        )
        memory_runs(model_arg, args, tmp, batch, extra, report)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def memory_runs(model_arg: str, args: argparse.Namespace, tmp: str, batch: int, extra: list, report: dict) -> None:
    """Peak RSS of ``mobseg predict`` on a small and a large folder (copies of ``--images``)."""
    for n in args.memory:
        folder = replicate(args.images, n, os.path.join(tmp, f"folder{n}"))
        wall, rss = cli_run(model_arg, folder, os.path.join(tmp, f"mem{n}"), batch, extra)
        report["memory"][n] = {"peak_rss_mib": round(rss / 1024, 1), "seconds": round(wall, 1)}
        print(f"peak memory, {n} images: {rss / 1024:.0f} MiB ({wall:.0f} s)")
        shutil.rmtree(os.path.join(tmp, f"mem{n}"), ignore_errors=True)
    small, large = (report["memory"][n]["peak_rss_mib"] for n in args.memory)
    print(f"peak memory {args.memory[1]} vs {args.memory[0]} images: {large / small:.3f}x (goal <= 1.10)")


if __name__ == "__main__":
    main()
