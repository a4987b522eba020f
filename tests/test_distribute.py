"""Data-parallel training on existing engines gives the single-device updates (same global batch, same seed).

Design: ``tests/distributed_runs.py`` runs in a subprocess (devices must be configured before the engine
starts): 16 images, global batch 16, 4 epochs = 4 optimizer steps, once on one device and once spread over
two replicas, from the same weights. With one step per epoch the shuffle order cannot change a batch.

The model is unet_mini without dropout. BatchNormalization would make the two runs compute *different*
functions: under ``MirroredStrategy`` / ``DataParallel`` each replica normalises with the statistics of its own
half of the batch (Keras' BatchNormalization is not synchronised); measured with mobilenet_segnet, the first loss
differed by 4% (2.015 vs 1.935) and later ones by up to 30%, a property of per-replica BatchNorm, not a bug.
Dropout would draw different masks per replica. unet_mini has no BatchNormalization, and its dropout is set to 0,
so every step is the same math: the gradient of the global weighted mean loss, summed across replicas. Only the
float32 summation order differs, so the losses must agree to 1e-4.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(__file__).with_name("distributed_runs.py")
TOLERANCE = 1e-4


def _run(tmp_path, mode, backend, extra_env=None):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2", **(extra_env or {})}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path), mode], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _assert_same_losses(result):
    single, distributed = result["losses"]["single"], result["losses"]["distributed"]
    print(result)
    assert result["replicas"] == {"single": 1, "distributed": 2}
    assert len(single) == len(distributed) == 4
    np.testing.assert_allclose(distributed, single, atol=TOLERANCE, rtol=0)
    assert single[-1] < single[0] - 0.1  # it did train


@pytest.mark.tensorflow_only
def test_mirrored_strategy_over_two_logical_cpus_matches_one_device(tmp_path):
    _assert_same_losses(_run(tmp_path, "mirrored", "tensorflow"))


@pytest.mark.tensorflow_only
def test_jax_data_parallel_over_two_host_devices_matches_one_device(tmp_path):
    probe = subprocess.run([sys.executable, "-c", "import jax"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("jax is not installed (pip install 'mobseg[jax]')")
    flags = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    _assert_same_losses(_run(tmp_path, "data_parallel", "jax", flags))


def test_a_strategy_for_another_backend_is_refused_with_a_clear_message(tmp_path):
    from PIL import Image

    import mobseg

    image, mask = tmp_path / "a.png", tmp_path / "a_mask.png"
    Image.new("RGB", (32, 32)).save(image)
    Image.new("L", (32, 32)).save(mask)
    pairs = [(str(image), str(mask))]
    backend = keras.backend.backend()
    wrong = "data_parallel" if backend == "tensorflow" else "mirrored"
    needs = "jax" if wrong == "data_parallel" else "tensorflow"
    with pytest.raises(ValueError, match=f"needs the {needs} backend but this process runs '{backend}'"):
        mobseg.train(pairs=pairs, n_classes=2, distribute=wrong, out=tmp_path / "run")
    with pytest.raises(ValueError, match="Unknown distribute='ring'"):
        mobseg.train(pairs=pairs, n_classes=2, distribute="ring", out=tmp_path / "run")
