"""Freezing: the frozen-encoder phase leaves encoder weights and BatchNorm statistics unchanged."""

import keras
import numpy as np
import pytest

import mobseg
from mobseg.datasets import make_shapes
from mobseg.training import encoder_layer_names, set_encoder_trainable, train


class Snapshot(keras.callbacks.Callback):
    """Copy every layer's weights at the end of epoch 0 (the end of the frozen phase)."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            self.weights = {layer.name: [w.numpy().copy() for w in layer.weights] for layer in self.model.layers}


def _weights(model):
    return {layer.name: [w.numpy().copy() for w in layer.weights] for layer in model.layers}


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_encoder_layers_of_mobilenet_segnet():
    model = mobseg.mobilenet_segnet(3, input_height=32, input_width=32)
    names = encoder_layer_names(model)
    expected = [layer.name for layer in model.layers if layer.name.startswith(("conv1", "conv_"))]
    assert names == expected and names[-1] == "conv_pw_11_relu"
    assert model.architecture["encoder_layers"] == names == model.encoder_layers  # recorded when built
    assert names[0] == "conv1_pad"
    assert not any(name.startswith(("segnet", "output")) for name in names)
    deeper = mobseg.mobilenet_segnet(3, input_height=32, input_width=32, encoder_level=4)
    assert encoder_layer_names(deeper)[-1] == "conv_pw_13_relu"


def _train_frozen_then_unfrozen(model, data, tmp_path) -> Snapshot:
    """Two epochs of ``train``, the first with the encoder frozen; the snapshot holds the weights after epoch 1."""
    snapshot = Snapshot()
    train(data.train_images, data.train_masks, model=model, epochs=2, freeze_encoder_epochs=1, batch_size=4,
          out=tmp_path / "run", verbose=0, callbacks=[snapshot])  # fmt: skip
    return snapshot


def test_frozen_phase_keeps_encoder_and_bn_statistics_then_unfreezes(tmp_path):
    data = make_shapes(tmp_path / "data", n_train=8, n_val=0, size=(32, 32))
    keras.utils.set_random_seed(0)
    model = mobseg.mobilenet_segnet(4, input_height=32, input_width=32)
    before = _weights(model)
    encoder = set(encoder_layer_names(model))
    snapshot = _train_frozen_then_unfrozen(model, data, tmp_path)
    frozen = snapshot.weights
    bn_layers = [n for n in encoder if isinstance(model.get_layer(n), keras.layers.BatchNormalization)]
    assert len(bn_layers) == 23
    for name in encoder:
        assert _same(before[name], frozen[name]), f"{name} changed while frozen"
    decoder = ["segnet_conv_1", "segnet_bn_1", "segnet_bn_4", "segnet_classifier"]
    for name in decoder:
        assert not _same(before[name], frozen[name]), f"{name} did not train"
    bn = model.get_layer("segnet_bn_1")  # decoder BN statistics move (index 2, 3: moving mean, variance)
    assert not np.array_equal(before["segnet_bn_1"][2], frozen["segnet_bn_1"][2])
    assert bn.trainable
    after = _weights(model)
    assert not _same(before["conv1"], after["conv1"]), "the unfrozen phase must train the encoder"
    assert not _same(before["conv1_bn"], after["conv1_bn"])
    assert all(model.get_layer(n).trainable for n in encoder)


def test_unet_mini_records_its_encoder_and_is_freezable(tmp_path):
    data = make_shapes(tmp_path / "data", n_train=8, n_val=0, size=(32, 32))
    keras.utils.set_random_seed(0)
    model = mobseg.unet_mini(4, input_height=32, input_width=32)
    names = encoder_layer_names(model)
    assert names == model.architecture["encoder_layers"]
    levels = sorted({name.split("_")[2][:5] for name in names})  # conv1.., drop1.., pool1..
    assert levels == ["conv1", "conv2", "conv3", "drop1", "drop2", "drop3", "pool1", "pool2"]
    assert names[0] == "unet_mini_conv1_1" and names[-1] == "unet_mini_conv3_2_act"
    before = _weights(model)
    snapshot = _train_frozen_then_unfrozen(model, data, tmp_path)
    for name in names:
        assert _same(before[name], snapshot.weights[name]), f"{name} changed while frozen"
    for name in ("unet_mini_conv4_1", "unet_mini_conv5_2", "unet_mini_classifier"):
        assert not _same(before[name], snapshot.weights[name]), f"{name} did not train"
    assert not _same(before["unet_mini_conv1_1"], _weights(model)["unet_mini_conv1_1"])
    assert set_encoder_trainable(model, False) == names and not model.get_layer("unet_mini_conv3_2").trainable


def test_freezing_needs_to_know_the_encoder():
    inputs = keras.Input((8, 8, 3))
    model = mobseg.SegmentationModel.from_logits(inputs, keras.layers.Conv2D(2, 1)(inputs), name="tiny")
    with pytest.raises(ValueError, match="encoder"):
        encoder_layer_names(model)
