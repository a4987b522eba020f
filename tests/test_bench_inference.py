"""scripts/bench_inference.py on a tiny model: every section runs and its JSON holds real numbers (not a benchmark)."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mobseg.datasets import make_shapes

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None, reason="needs ONNX Runtime (mobseg[onnx])")
def test_bench_inference_runs_every_section_and_writes_its_numbers(tmp_path):
    data = make_shapes(tmp_path / "data", n_train=1, n_val=5, size=(40, 48), seed=1)
    images, out = data.val_images, tmp_path / "bench.json"
    command = [
        sys.executable, str(ROOT / "scripts" / "bench_inference.py"), "--model", "unet_mini", "--n-classes", "4",
        "--input-size", "32x32", "--images", str(images), "--engines", "keras", "onnxruntime",
        "--batches", "1", "2", "--repeats", "2", "--count", "3", "--folder-repeats", "1", "--memory", "3", "7",
        "--json", str(out),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(out.read_text())

    rows = {(row["engine"], row["precision"]): row for row in report["engines"]["results"]}
    onnx = rows["onnxruntime", "float32"]
    assert onnx["error"] is None and onnx["agreement"] >= 0.99
    assert all(onnx["batches"][b]["images_per_s"] > 0 and onnx["batches"][b]["p50_ms"] > 0 for b in ("1", "2"))
    # the recommended engine ran the folder (5 images, PNGs written) and the whole CLI process
    for batch in ("1", "2"):
        folder = report["folder"][batch]
        assert folder["engine"] in {f"{e} {p}" for e, p in rows} and folder["images_per_s"] > 0
        assert folder["engine_alone"] > 0
    assert report["cli"]["seconds"] > 0 and report["cli"]["images_per_s"] > 0
    assert {int(n) for n in report["memory"]} == {3, 7}
    assert all(entry["peak_rss_mib"] > 10 for entry in report["memory"].values())
    assert "folder run, batch 1" in done.stdout and "peak memory 7 vs 3 images" in done.stdout
