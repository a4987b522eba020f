"""The article's published summary() is the contract: compare row by row.

``tests/data/mobilenet_segnet_2cls_416x416.summary.txt`` is a copy of the Keras 2 print-out
published with the article. Keras 2 truncates type names to 29 characters
("BatchNormaliza"), so types are compared by prefix. Layer names are compared exactly for the
encoder (they are what ImageNet weight files are loaded by). The input layer and the decoder's
layers carry auto-generated names in Keras 2 (``input_1``, ``conv2d_1``, ...); mobseg names them
deterministically (``image``, ``segnet_conv_1``, ...), so only their types, shapes and parameter
counts are compared.
"""

import re
from pathlib import Path

import pytest

import mobseg

REFERENCE = Path(__file__).parent / "data" / "mobilenet_segnet_2cls_416x416.summary.txt"
ROW = re.compile(r"^(\S+)\s+\((\w+)\)?\s*(\(None[^)]*\))\s+(\d+)\s*$")


def parse_reference(text: str):
    rows, totals = [], {}
    for line in text.splitlines():
        match = ROW.match(line)
        if match:
            name, layer_type, shape, params = match.groups()
            shape = tuple(None if d.strip() == "None" else int(d) for d in shape.strip("()").split(","))
            rows.append((name, layer_type, shape, int(params)))
        for key in ("Total", "Trainable", "Non-trainable"):
            if line.startswith(f"{key} params:"):
                totals[key] = int(line.split(":")[1].replace(",", ""))
    return rows, totals


@pytest.fixture(scope="module")
def reference():
    return parse_reference(REFERENCE.read_text())


@pytest.fixture(scope="module")
def model():
    return mobseg.mobilenet_segnet(2, input_height=416, input_width=416)


def test_reference_parses_completely(reference):
    rows, totals = reference
    # 1 input + 4 stem + 11 blocks x 7 + 4 x (pad, conv, bn) + 3 up + classifier + reshape + softmax
    assert len(rows) == 1 + 4 + 77 + 12 + 3 + 3
    assert sum(r[3] for r in rows) == totals["Total"] == 5_541_378


def test_rows_match_reference(reference, model):
    rows, _ = reference
    layers = model.layers
    assert len(layers) == len(rows)
    for layer, (name, layer_type, shape, params) in zip(layers, rows, strict=True):
        where = f"reference row {name} vs layer {layer.name}"
        assert layer.__class__.__name__.startswith(layer_type), where
        assert tuple(layer.output.shape) == shape, where
        assert layer.count_params() == params, where


def test_encoder_layer_names_match(reference, model):
    rows, _ = reference
    encoder = re.compile(r"^conv(1|_)")
    ref_names = [r[0] for r in rows if encoder.match(r[0])]
    ours = [layer.name for layer in model.layers if encoder.match(layer.name)]
    assert ours == ref_names
    assert len(ref_names) == 4 + 77


def test_totals_match(reference, model):
    _, totals = reference
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    non_trainable = sum(int(w.numpy().size) for w in model.non_trainable_weights)
    assert model.count_params() == totals["Total"] == 5_541_378
    assert trainable == totals["Trainable"] == 5_524_738
    assert non_trainable == totals["Non-trainable"] == 16_640


def test_model_identity(model):
    assert model.name == "mobilenet_segnet"
    assert model.output_shape == (None, 208 * 208, 2)
    assert model.architecture["name"] == "mobilenet_segnet"
    assert model.architecture["kwargs"]["input_height"] == 416
