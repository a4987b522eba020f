"""``benchmark``: every engine available here on one model: images/s, latency, load time, agreement, a choice.

Like OpenVINO's ``benchmark_app``, but across engines and for this model: each candidate (an engine and a
precision) runs the same preprocessed images at each batch size; the rate is ``batch / median seconds``
of ``repeats`` timed calls after ``warmup`` calls; latency p50/p90 are per call. Agreement is the share of
output pixels whose argmax equals the reference's (the float32 Keras model when there is one) on the
given images (real ones are the honest test) or on smooth synthetic images. The recommendation per
batch size is the fastest candidate with agreement >= ``min_agreement``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mobseg.inference.agreement import argmax_agreement, synthetic_images
from mobseg.inference.engines import FILE_ENGINES, INSTALL_HINTS, Engine, available_engines, open_engine
from mobseg.inference.engines.keras_engine import KerasEngine, is_keras_model
from mobseg.inference.engines.openvino_engine import openvino_cpu_capabilities
from mobseg.io.images import list_images, read_image


@dataclass
class Candidate:
    """One engine and precision to measure, and what was measured."""

    engine: str
    precision: str = "float32"
    file: str | None = None
    export_s: float | None = None
    load_s: float | None = None
    agreement: float | None = None
    batches: dict[int, dict[str, float]] = field(default_factory=dict)
    error: str | None = None

    @property
    def label(self) -> str:
        """``engine precision``, e.g. ``tflite int8``."""
        return f"{self.engine} {self.precision}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "engine": self.engine,
            "precision": self.precision,
            "file": self.file,
            "export_s": self.export_s,
            "load_s": self.load_s,
            "agreement": self.agreement,
            "batches": {str(b): v for b, v in self.batches.items()},
            "error": self.error,
        }


def parse_candidate(text: str) -> Candidate:
    """``"engine"`` or ``"engine:precision"``, e.g. ``tflite:int8``, ``openvino:bfloat16``.

    Example:
        >>> parse_candidate("tflite:int8").label
        'tflite int8'
    """
    engine, _, precision = text.partition(":")
    return Candidate(engine.strip(), precision.strip() or "float32")


def default_candidates(model: Any, with_images: bool) -> list[Candidate]:
    """What to measure by default: every engine installed here, float32, plus the reduced precisions it offers.

    int8 TFLite needs real images (calibration); OpenVINO bfloat16 only where the CPU has BF16.

    Example:
        >>> [c.label for c in default_candidates("m.tflite", False)]
        ['tflite float32']
    """
    installed = available_engines()
    bf16 = "BF16" in openvino_cpu_capabilities()
    if isinstance(model, (str, os.PathLike)) and os.path.splitext(os.fspath(model))[1].lower() in FILE_ENGINES:
        names = FILE_ENGINES[os.path.splitext(os.fspath(model))[1].lower()]
        found = [Candidate(n) for n in names if n in installed]
        return found + ([Candidate("openvino", "bfloat16")] if "openvino" in names and bf16 else [])
    found = [Candidate(n) for n in ("keras", "tflite", "onnxruntime", "openvino") if n in installed]
    if "tflite" in installed:
        found.insert(2, Candidate("tflite", "float16"))
        if with_images:
            found.insert(3, Candidate("tflite", "int8"))
    if "openvino" in installed and bf16:
        found.append(Candidate("openvino", "bfloat16"))
    return found


def benchmark_inputs(geometry: Any, images: str | None, count: int) -> tuple[list[np.ndarray], str]:
    """Up to ``count`` prepared images from the folder ``images``, or smooth synthetic ones; and a description.

    Example:
        >>> from mobseg.inference.scoring import ModelGeometry
        >>> len(benchmark_inputs(ModelGeometry((16, 16), 3, (8, 8), "unit"), None, 4)[0])
        4
    """
    if images is None:
        return synthetic_images(geometry, count), f"{count} synthetic images (smooth noise; real images are better)"
    files = list_images(images)[:count]
    return [geometry.prepare_one(read_image(f)) for f in files], f"{len(files)} images from {images}"


def _export_for(model: Any, candidate: Candidate, folder: str, images: str | None) -> str:
    """Export the Keras ``model`` to a file ``candidate`` runs; returns its path."""
    from mobseg.export import export_model

    if candidate.engine == "tflite":
        quantize = None if candidate.precision == "float32" else candidate.precision
        name = f"model_{candidate.precision}.tflite"
        return export_model(model, os.path.join(folder, name), "tflite", quantize, images if quantize else None)
    if candidate.engine == "onnxruntime":
        path = os.path.join(folder, "model.onnx")
        return path if os.path.isfile(path) else export_model(model, path, "onnx")
    path = os.path.join(folder, "model.xml")
    return path if os.path.isfile(path) else export_model(model, path, "openvino")


def _open(source: Any, candidate: Candidate, folder: str, images: str | None, threads: int | None) -> Engine:
    """Open ``candidate`` for ``source`` (a Keras model or an exported file), timing export and load."""
    if candidate.engine == "keras":
        if not is_keras_model(source):
            raise ValueError("the keras engine needs a Keras model (.keras or run folder), not an exported file")
        return KerasEngine(source)
    path = source
    if is_keras_model(source):
        start = time.perf_counter()
        path = _export_for(source, candidate, folder, images)
        candidate.export_s = round(time.perf_counter() - start, 3)
    candidate.file = os.fspath(path)
    start = time.perf_counter()
    precision = candidate.precision if candidate.engine == "openvino" else None
    engine = open_engine(os.fspath(path), candidate.engine, precision=precision, threads=threads)
    candidate.load_s = round(time.perf_counter() - start, 3)
    candidate.precision = engine.precision  # what really runs (OpenVINO may not have bfloat16 here)
    return engine


def time_engine(engine: Engine, inputs: list[np.ndarray], batch: int, repeats: int, warmup: int) -> dict[str, float]:
    """``{"images_per_s", "p50_ms", "p90_ms"}`` of ``engine.run`` on batches of ``batch`` images.

    Example:
        >>> time_engine(engine, inputs, batch=8, repeats=10, warmup=2)  # doctest: +SKIP
        {'images_per_s': 24.1, 'p50_ms': 331.9, 'p90_ms': 340.2}
    """
    x = np.stack([inputs[i % len(inputs)] for i in range(batch)]).astype(np.float32)
    for _ in range(warmup):
        engine.run(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        engine.run(x)
        times.append(time.perf_counter() - start)
    median, p90 = statistics.median(times), float(np.percentile(times, 90))
    return {"images_per_s": round(batch / median, 3), "p50_ms": round(1e3 * median, 2), "p90_ms": round(1e3 * p90, 2)}


def _reference(source: Any, threads: int | None) -> tuple[Engine, str]:
    if is_keras_model(source):
        return KerasEngine(source), "keras float32"
    engine = open_engine(source, threads=threads)
    return engine, f"{engine.name} {engine.precision} ({os.path.basename(engine.source)}; no Keras model given)"


def recommend(candidates: list[Candidate], batch_sizes: list[int], min_agreement: float) -> dict[int, str | None]:
    """Per batch size, the label of the fastest candidate whose agreement is at least ``min_agreement``.

    Example:
        >>> c = Candidate("onnxruntime", agreement=1.0, batches={1: {"images_per_s": 9.0}})
        >>> recommend([c], [1], 0.99)
        {1: 'onnxruntime float32'}
    """
    choice: dict[int, str | None] = {}
    for batch in batch_sizes:
        good = [c for c in candidates if c.error is None and batch in c.batches and (c.agreement or 0) >= min_agreement]
        best = max(good, key=lambda c: c.batches[batch]["images_per_s"], default=None)
        choice[batch] = None if best is None else best.label
    return choice


def benchmark(
    model: Any,
    *,
    engines: list[str] | None = None,
    batch_sizes: tuple[int, ...] | list[int] = (1, 8),
    images: str | None = None,
    count: int = 16,
    repeats: int = 10,
    warmup: int = 2,
    threads: int | None = None,
    min_agreement: float = 0.99,
) -> dict[str, Any]:
    """Measure every engine available here on ``model``; returns a JSON-ready dict (see the module doc).

    ``model``: a Keras model, a ``.keras`` file / run folder, or an exported file. ``engines``: specs such
    as ``["keras", "tflite:int8", "openvino:bfloat16"]`` (default: :func:`default_candidates`).
    ``images``: a folder of real images (also int8 calibration); ``count`` of them are used.

    Example:
        >>> result = benchmark("runs/roads", batch_sizes=[1, 8], images="data/val")  # doctest: +SKIP
        >>> result["recommended"]  # doctest: +SKIP
        {'1': 'tflite int8', '8': 'tflite int8'}
    """
    source, keras_load_s = model, None
    if isinstance(model, (str, os.PathLike)) and os.path.splitext(os.fspath(model))[1].lower() not in FILE_ENGINES:
        from mobseg.inference.loading import load_model

        start = time.perf_counter()
        source = load_model(model)
        keras_load_s = round(time.perf_counter() - start, 3)
    candidates = [parse_candidate(e) for e in engines] if engines else default_candidates(model, images is not None)
    reference, reference_label = _reference(source, threads)
    inputs, described = benchmark_inputs(reference.geometry, images, count)
    folder = tempfile.mkdtemp(prefix="mobseg-benchmark-")
    try:
        plan = _Plan(source, reference, inputs, folder, images, threads, [int(b) for b in batch_sizes], repeats, warmup)
        for candidate in candidates:
            candidate.load_s = keras_load_s if candidate.engine == "keras" else None
            _measure(candidate, plan)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "reference": reference_label,
        "inputs": described,
        "threads": threads,
        "batch_sizes": list(batch_sizes),
        "min_agreement": min_agreement,
        "results": [c.to_dict() for c in candidates],
        "recommended": {str(b): label for b, label in recommend(candidates, list(batch_sizes), min_agreement).items()},
    }


@dataclass
class _Plan:
    """What every candidate of one benchmark run shares."""

    source: Any
    reference: Engine
    inputs: list[np.ndarray]
    folder: str
    images: str | None
    threads: int | None
    batch_sizes: list[int]
    repeats: int
    warmup: int


def _first_line(err: BaseException) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def _measure(candidate: Candidate, plan: _Plan) -> None:
    if candidate.engine not in available_engines():
        candidate.error = f"not installed: {INSTALL_HINTS.get(candidate.engine, 'unknown engine')}"
        return
    try:
        engine = _open(plan.source, candidate, plan.folder, plan.images, plan.threads)
    except Exception as err:  # one engine failing must not stop the others
        candidate.error = _first_line(err)
        return
    try:
        candidate.agreement = round(argmax_agreement(plan.reference, engine, plan.inputs), 6)
        for batch in plan.batch_sizes:
            candidate.batches[batch] = time_engine(engine, plan.inputs, batch, plan.repeats, plan.warmup)
    except Exception as err:
        candidate.error = _first_line(err)
    finally:
        engine.close()


def format_benchmark(result: dict[str, Any]) -> str:
    """A Markdown table of :func:`benchmark`'s result and the recommendation.

    Example:
        >>> print(format_benchmark(benchmark("m.keras", batch_sizes=[1])))  # doctest: +SKIP
        | engine | precision | load s | agreement | b1 img/s | b1 p50 ms | b1 p90 ms |
    """
    batches = result["batch_sizes"]
    head = ["engine", "precision", "load s", "agreement"]
    for b in batches:
        head += [f"b{b} img/s", f"b{b} p50 ms", f"b{b} p90 ms"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in result["results"]:
        if row["error"]:
            lines.append(f"| {row['engine']} | {row['precision']} | {row['error']} |")
            continue
        load = "-" if row["load_s"] is None else f"{row['load_s']:.2f}"
        cells = [row["engine"], row["precision"], load, f"{100 * row['agreement']:.2f}%"]
        for b in batches:
            t = row["batches"][str(b)]
            cells += [f"{t['images_per_s']:.2f}", f"{t['p50_ms']:.1f}", f"{t['p90_ms']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append(f"\nreference: {result['reference']}; agreement on {result['inputs']}")
    for b, label in result["recommended"].items():
        verdict = label or f"none reaches {100 * result['min_agreement']:.0f}% agreement"
        lines.append(f"batch {b}: use {verdict} (fastest with >= {100 * result['min_agreement']:.0f}% agreement)")
    return "\n".join(lines)


__all__ = [
    "Candidate",
    "benchmark",
    "benchmark_inputs",
    "default_candidates",
    "format_benchmark",
    "parse_candidate",
    "recommend",
    "time_engine",
]
