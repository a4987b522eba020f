"""Run in a subprocess by tests/test_distribute.py: the same few training steps on one device and data-parallel.

Usage: ``python tests/distributed_runs.py OUT_DIR MODE`` with MODE ``mirrored``
(TensorFlow, two logical CPU devices) or ``data_parallel`` (JAX, with
``XLA_FLAGS=--xla_force_host_platform_device_count=2``). Prints one JSON line: the per-epoch training
losses of the single-device run and of the distributed run, and the replicas.

The devices must be set up before anything initialises the engine, so this runs as its own process.
"""

import json
import os
import sys

MODE = sys.argv[2]
if MODE == "mirrored":
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )

import keras  # noqa: E402

import mobseg  # noqa: E402
from mobseg.datasets import make_shapes  # noqa: E402


def _small_model():
    """unet_mini without dropout: no BatchNormalization and no random masks, so one device and two replicas
    compute the same function (see tests/test_distribute.py), and it traces in seconds."""
    keras.utils.set_random_seed(0)
    return mobseg.unet_mini(4, input_height=32, input_width=32, dropout=0.0)


def main() -> None:
    out = sys.argv[1]
    data = make_shapes(os.path.join(out, "data"), n_train=16, n_val=0, size=(32, 32), seed=3)
    weights = _small_model().get_weights()
    losses = {}
    replicas = {}
    for name, distribute in (("single", None), ("distributed", MODE)):
        model = _small_model()
        model.set_weights(weights)
        run = mobseg.train(
            data.train_images,
            data.train_masks,
            model=model,
            epochs=4,
            freeze_encoder_epochs=0,
            learning_rate=3e-3,
            batch_size=16,  # all 16 images: one step per epoch, so the shuffle order cannot matter
            augment=False,
            # no class weights: each replica's loss is its own weighted mean, and the mean of those differs from
            # the weighted mean over the whole batch by ~0.1% here (README "Backends and multi-device training")
            class_weights=None,
            out=os.path.join(out, name),
            verbose=0,
            distribute=distribute,
        )
        losses[name] = [row["loss"] for row in run.history]
        replicas[name] = (run.config.get("distribute") or {}).get("replicas", 1)
    print(json.dumps({"losses": losses, "replicas": replicas}))


if __name__ == "__main__":
    main()
