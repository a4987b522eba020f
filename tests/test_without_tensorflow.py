"""Without TensorFlow: import, build, train (PyDataset loader), predict, evaluate, load; export and tf.distribute say
what they need in one sentence. (Both training phases, resume and reload: tests/test_backends.py, which .ci/run
runs without TensorFlow too.)

Each test runs a Python subprocess in which TensorFlow cannot be imported (``sys.modules["tensorflow"] = None``
where it is installed), under this process's backend when it is JAX or PyTorch, else under PyTorch (no compile
step: the fastest on CPU) or JAX, whichever is installed. .ci/run also runs this file under ``KERAS_BACKEND=jax``
in a virtual environment that has no TensorFlow at all.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

import mobseg

ROOT = Path(__file__).resolve().parents[1]

#: The Keras backend the subprocesses use.
CANDIDATES = (keras.backend.backend(), "torch", "jax")
BACKEND = next((name for name in CANDIDATES if name != "tensorflow" and importlib.util.find_spec(name)), None)

pytestmark = pytest.mark.skipif(BACKEND is None, reason="needs JAX or PyTorch (pip install 'mobseg[jax]')")

BLOCK_TENSORFLOW = """
import sys
sys.modules["tensorflow"] = None  # `import tensorflow` fails, find_spec finds nothing: as if not installed
"""

IMPORT_AND_BUILD = """
import mobseg
assert "keras" not in sys.modules, "import mobseg imported Keras"
model = mobseg.mobilenet_segnet(3, input_height=32, input_width=32, alpha=0.25)
names = mobseg.list_models()
import mobseg.data, mobseg.training, mobseg.inference, mobseg.metrics, mobseg.losses, mobseg.export
tf = sys.modules.get("tensorflow") is not None
print(json.dumps({"params": model.count_params(), "models": len(names), "tf": tf}))
"""

TRAIN_PREDICT_EVALUATE = """
import shutil
import mobseg
from mobseg.datasets import make_shapes

data = make_shapes(sys.argv[1] + "/data", n_train=8, n_val=4, size=(32, 32), seed=2)
run = mobseg.train(
    data.train_images, data.train_masks, val_images=data.val_images, val_masks=data.val_masks,
    model="unet_mini", n_classes=4, input_size=(32, 32), epochs=1, batch_size=4,
    class_weights="balanced", ignore_index=255, augment={"crop": "native", "scale": (0.75, 1.25)},
    out=sys.argv[1] + "/run", verbose=0,
)
info = json.load(open(sys.argv[1] + "/run/training.json"))
model = mobseg.load_model(sys.argv[1] + "/run")
masks = mobseg.predict(model, data.val_images, out_dir=sys.argv[1] + "/pred")
report = mobseg.evaluate(model, data.val_images, data.val_masks, verbose=False)

bad = sys.argv[1] + "/bad"  # a mask cut short, met inside the loader (no verification pass)
shutil.copytree(data.train_images, bad + "/images")
shutil.copytree(data.train_masks, bad + "/masks")
mask = sorted(os.listdir(bad + "/masks"))[3]
with open(bad + "/masks/" + mask, "r+b") as stream:
    stream.truncate(40)
try:
    mobseg.train(bad + "/images", bad + "/masks", model="unet_mini", n_classes=4, input_size=(32, 32), epochs=1,
                 batch_size=8, verify_data=False, out=sys.argv[1] + "/bad-run", verbose=0)
    bad_file = "no error"
except ValueError as err:
    bad_file = str(err)

from mobseg.export import export_model
try:
    export_model(model, sys.argv[1] + "/m.tflite")
    export = "no error"
except RuntimeError as err:
    export = str(err)
try:
    mobseg.train(data.train_images, data.train_masks, n_classes=4, out=sys.argv[1] + "/m", distribute="mirrored")
    mirrored = "no error"
except ValueError as err:
    mirrored = str(err)
print(json.dumps({
    "history": run.history, "status": info["status"], "loader": info["loader"], "backend": info["backend"],
    "tensorflow_version": info["versions"]["tensorflow"], "masks": [list(m.shape) for m in masks],
    "mean_iou": report["mean_iou"], "bad_file": bad_file, "bad_mask": mask, "export": export,
    "mirrored": mirrored, "tf": sys.modules.get("tensorflow") is not None,
}))
"""


def _run(script: str, *args: str) -> dict:
    env = {**os.environ, "KERAS_BACKEND": BACKEND, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    code = "import json, os, sys\n" + BLOCK_TENSORFLOW + script
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_and_every_package_without_tensorflow():
    result = _run(IMPORT_AND_BUILD)
    assert result["params"] > 0 and result["models"] == len(mobseg.list_models()) >= 60  # every zoo model
    assert not result["tf"]


def test_train_predict_evaluate_without_tensorflow(tmp_path):
    result = _run(TRAIN_PREDICT_EVALUATE, str(tmp_path))
    assert [row["epoch"] for row in result["history"]] == [0]
    assert all(0 <= row["val_mean_iou"] <= 1 for row in result["history"])
    assert result["status"] == "complete" and result["loader"] == "pydataset" and result["backend"] == BACKEND
    assert result["tensorflow_version"] is None
    assert result["masks"] == [[32, 32]] * 4 and 0 <= result["mean_iou"] <= 1
    assert result["bad_mask"] in result["bad_file"] and "\n" not in result["bad_file"]
    for message in (result["export"], result["mirrored"]):
        assert 'pip install "tensorflow' in message and "\n" not in message, message
    assert not result["tf"]
