"""Pooling layers against real Keras: outputs, input gradients and configs."""
import numpy as np
import pytest

import tapeflow as tf
from tests.keras.layers._parity import check_layer

keras = tf.keras
R = np.random.default_rng(11)


def _both(realtf, cls, **kwargs):
    return getattr(keras.layers, cls)(**kwargs), getattr(realtf.keras.layers, cls)(**kwargs)


@pytest.mark.parametrize("cls", ["MaxPooling2D", "AveragePooling2D"])
@pytest.mark.parametrize("kwargs", [{}, dict(pool_size=3, strides=2, padding="same"),
                                    dict(pool_size=(2, 3), strides=1, padding="valid")])
def test_pooling2d_matches_keras(realtf, cls, kwargs):
    kwargs = {"pool_size": 2, **kwargs}
    check_layer(realtf, *_both(realtf, cls, **kwargs),
                R.permutation(2 * 7 * 6 * 3).reshape(2, 7, 6, 3) / 10)


@pytest.mark.parametrize("cls", ["MaxPooling1D", "AveragePooling1D"])
@pytest.mark.parametrize("kwargs", [{}, dict(pool_size=3, strides=2, padding="same")])
def test_pooling1d_matches_keras(realtf, cls, kwargs):
    kwargs = {"pool_size": 2, **kwargs}
    check_layer(realtf, *_both(realtf, cls, **kwargs),
                R.permutation(2 * 9 * 3).reshape(2, 9, 3) / 10)


@pytest.mark.parametrize("cls", ["GlobalAveragePooling1D", "GlobalMaxPooling1D",
                                 "GlobalAveragePooling2D", "GlobalMaxPooling2D"])
@pytest.mark.parametrize("kwargs", [{}, dict(keepdims=True),
                                    dict(data_format="channels_first")])
def test_global_pooling_matches_keras(realtf, cls, kwargs):
    shape = (2, 5, 3) if cls.endswith("1D") else (2, 4, 5, 3)
    check_layer(realtf, *_both(realtf, cls, **kwargs),
                R.permutation(int(np.prod(shape))).reshape(shape) / 10)


def test_channels_first_pooling():
    x = R.standard_normal((2, 3, 6, 6)).astype("float32")
    ours = keras.layers.MaxPooling2D(data_format="channels_first")(x).numpy()
    ref = keras.layers.MaxPooling2D()(x.transpose(0, 2, 3, 1)).numpy().transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("cls", ["MaxPooling2D", "AveragePooling1D", "GlobalMaxPooling2D"])
def test_config_matches_keras(realtf, cls):
    kwargs = {} if cls.startswith("Max") or cls.startswith("Global") else {"pool_size": 2}
    ours, theirs = _both(realtf, cls, name="pool", **kwargs)
    assert ours.get_config() == theirs.get_config()


def test_pooling_in_functional_model():
    inp = keras.Input((8, 8, 2))
    out = keras.layers.GlobalAveragePooling2D()(keras.layers.MaxPooling2D()(inp))
    assert tuple(out.shape) == (None, 2)
