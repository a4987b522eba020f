"""Every activation builds, keeps the parameter count (PReLU adds its slopes), and round-trips in safe mode."""

import keras
import numpy as np
import pytest

import mobseg
from mobseg.activations import list_activations, resolve_activation

SIZE = 32
ALPHA = 0.25  # a narrow encoder keeps these 16 builds + saves fast


def build(activation="relu6", **kwargs):
    return mobseg.mobilenet_segnet(2, input_height=SIZE, input_width=SIZE, alpha=ALPHA, activation=activation, **kwargs)


def activation_layers(model):
    return [layer for layer in model.layers if layer.name.endswith("_relu") or "_act_" in layer.name]


@pytest.fixture(scope="module")
def baseline():
    model = build()
    return model.count_params(), non_activation_layers(model)


def non_activation_layers(model):
    acts = {layer.name for layer in activation_layers(model)}
    return [
        (layer.name, layer.__class__.__name__, layer.count_params()) for layer in model.layers if layer.name not in acts
    ]


def test_required_names_are_registered():
    required = {"relu6", "relu", "leaky_relu", "prelu", "elu", "selu", "gelu", "swish", "silu", "hard_swish"}
    required |= {"mish", "tanh", "sigmoid", "softplus", "linear"}
    assert required <= set(list_activations())


@pytest.mark.parametrize("name", list_activations())
def test_activation_builds_and_round_trips(name, baseline, tmp_path):
    base_params, base_others = baseline
    model = build(name)
    acts = activation_layers(model)
    assert len(acts) == 1 + 2 * 11  # stem + (dw, pw) of blocks 1..11
    if name == "prelu":
        # PReLU learns one slope per channel (shared over H and W): one weight per channel of every
        # activated tensor, i.e. the channels of conv1 and of each block's depthwise and pointwise output.
        expected_extra = sum(int(layer.output.shape[-1]) for layer in acts)
        assert all(isinstance(layer, keras.layers.PReLU) for layer in acts)
    else:
        expected_extra = 0
        wanted = resolve_activation(name)("probe").get_config()["activation"]
        assert all(layer.get_config()["activation"] == wanted for layer in acts)
    assert model.count_params() == base_params + expected_extra
    # nothing but the activation layers changed
    assert non_activation_layers(model) == base_others

    x = np.random.default_rng(0).uniform(-1, 1, (2, SIZE, SIZE, 3)).astype("float32")
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # default safe_mode=True
    assert isinstance(loaded, mobseg.SegmentationModel)
    assert loaded.architecture == model.architecture
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)))


def test_decoder_activation_adds_layers_not_parameters():
    plain = build()
    with_act = build(decoder_activation="relu")
    decoder_acts = [layer for layer in with_act.layers if layer.name.startswith("segnet_act_")]
    assert len(decoder_acts) == 4
    assert with_act.count_params() == plain.count_params()
    assert len(with_act.layers) == len(plain.layers) + 4


@pytest.mark.parametrize(
    "spec",
    [
        keras.activations.gelu,
        keras.layers.ReLU,
        keras.layers.LeakyReLU(negative_slope=0.1),
        lambda: keras.layers.ELU(alpha=0.5),
    ],
    ids=["keras-function", "layer-class", "layer-instance", "layer-factory"],
)
def test_other_spec_kinds(spec, tmp_path):
    model = build(spec)
    acts = activation_layers(model)
    assert len({id(layer) for layer in acts}) == len(acts)  # a fresh layer at every position
    assert acts[0].name == "conv1_relu"
    path = tmp_path / "m.keras"
    model.save(path)
    x = np.ones((1, SIZE, SIZE, 3), "float32")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(keras.saving.load_model(path)(x)), keras.ops.convert_to_numpy(model(x))
    )


def test_layer_instance_settings_are_kept():
    model = build(keras.layers.LeakyReLU(negative_slope=0.1))
    assert all(layer.get_config()["negative_slope"] == pytest.approx(0.1) for layer in activation_layers(model))


def test_rebuild_from_record_with_a_layer_instance():
    model = build(keras.layers.LeakyReLU(negative_slope=0.1))
    again = model.rebuild()
    assert again.count_params() == model.count_params()
    assert activation_layers(again)[0].get_config()["negative_slope"] == pytest.approx(0.1)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("reluu", "Unknown activation 'reluu'. Use one of: elu, gelu"),
        (lambda x: x, "needs arguments and is not a Keras activation"),
        (lambda: 3, "returned int, not a Keras layer"),
        (42, "must be a name"),
    ],
)
def test_bad_activation_is_a_clear_error(spec, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build(spec)


def test_unknown_decoder_activation_names_the_argument():
    with pytest.raises(ValueError, match="Unknown decoder_activation 'nope'"):
        build(decoder_activation="nope")
