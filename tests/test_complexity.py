"""FLOP counts match a hand count on small layers and the published figure for the article's model."""

import keras

import mobseg


def test_hand_counted_layers():
    x = keras.Input((8, 10, 3))
    y = keras.layers.Conv2D(4, 3, padding="same", name="conv")(x)  # 3*3*3*4 MACs at 8x10
    y = keras.layers.DepthwiseConv2D(3, strides=2, padding="same", name="dw")(y)  # 3*3*4 at 4x5
    y = keras.layers.BatchNormalization(name="bn")(y)  # not counted
    y = keras.layers.Dense(6, name="dense")(y)  # 4*6 at 4x5
    count = mobseg.flops(keras.Model(x, y))
    assert count.per_layer == {"conv": 108 * 80, "dw": 36 * 20, "dense": 24 * 20}
    assert count.macs == 108 * 80 + 36 * 20 + 24 * 20
    assert count.flops == 2 * count.macs


def test_article_model_cost():
    count = mobseg.flops(mobseg.mobilenet_segnet(2, input_height=224, input_width=224))
    assert round(count.gflops, 2) == 7.48  # PERFORMANCE.md: 7.48 GFLOP per 224x224 image
    decoder = sum(v for k, v in count.per_layer.items() if k.startswith("segnet"))
    assert 0.85 < decoder / count.macs < 0.89  # the decoder is ~87% of the cost
