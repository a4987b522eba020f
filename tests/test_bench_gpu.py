"""scripts/bench_gpu.py in its smoke mode: JAX, no TensorFlow, every row measured (on this CPU; not a benchmark)."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

RUN_WITHOUT_TENSORFLOW = """
import runpy, sys
sys.modules["tensorflow"] = None  # as if not installed
sys.argv = [sys.argv[1], "--smoke", "--json", sys.argv[2]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="bench_gpu.py runs under JAX (pip install jax)")
def test_bench_gpu_smoke_measures_every_row_without_tensorflow(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT)}
    script, out = ROOT / "scripts" / "bench_gpu.py", tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-c", RUN_WITHOUT_TENSORFLOW, str(script), str(out)],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads(out.read_text())
    inference = {(row["precision"], row["batch"]) for row in results["inference"]}
    assert inference == {("float32", 2), ("bfloat16", 2)}
    assert [row["precision"] for row in results["training"]] == ["float32", "bfloat16"]
    assert all(row["images_per_s"] > 0 for row in results["inference"] + results["training"])
    assert results["process_peak_rss_bytes"] > 0 and not results["tensorflow_imported"]
    assert "| inference | bfloat16 | 2 |" in done.stdout and "| training | float32 | 2 |" in done.stdout
