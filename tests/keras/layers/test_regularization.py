"""SpatialDropout and GaussianNoise: identity at inference, Keras's statistics in training."""
import numpy as np
import pytest

import tapeflow as tf

keras = tf.keras


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_spatial_dropout2d_drops_whole_channels(data_format):
    layer = keras.layers.SpatialDropout2D(0.5, data_format=data_format)
    shape = (64, 3, 3, 16) if data_format == "channels_last" else (64, 16, 3, 3)
    x = np.ones(shape, "float32")
    np.testing.assert_array_equal(layer(x).numpy(), x)
    y = layer(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    per_map = y.transpose(0, 3, 1, 2) if data_format == "channels_last" else y
    per_map = per_map.reshape(64, 16, 9)
    assert (per_map.min(-1) == per_map.max(-1)).all()  # one decision per feature map
    assert 0.35 < (per_map[..., 0] == 0).mean() < 0.65


def test_spatial_dropout_config_and_errors(realtf):
    ours = keras.layers.SpatialDropout2D(0.2, name="sd")
    assert ours.get_config() == realtf.keras.layers.SpatialDropout2D(0.2, name="sd").get_config()
    with pytest.raises(ValueError, match="rate"):
        keras.layers.SpatialDropout2D(1.5)


def test_gaussian_noise_only_in_training(realtf):
    layer = keras.layers.GaussianNoise(0.5)
    x = np.zeros((200, 100), "float32")
    np.testing.assert_array_equal(layer(x).numpy(), x)
    y = layer(x, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 0.5) < 0.02
    assert layer.get_config() == {**realtf.keras.layers.GaussianNoise(0.5).get_config(),
                                  "name": layer.name}


def test_gaussian_noise_gradient_is_identity():
    layer = keras.layers.GaussianNoise(0.1)
    x = tf.ones((3, 4))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(layer(x, training=True))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), np.ones((3, 4)))


def test_gaussian_dropout_mean_is_kept():
    y = keras.layers.GaussianDropout(0.2)(np.ones((200, 100), "float32"), training=True)
    assert abs(y.numpy().mean() - 1) < 0.02
