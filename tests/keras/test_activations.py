"""Activations against real Keras 3: values over a range of inputs and dtypes, options,
lookup by name, serialization."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow import keras
from tests.parity import assert_same

X = np.linspace(-8, 8, 41).reshape(1, 41)

NAMES = ["relu", "sigmoid", "softmax", "tanh", "elu", "selu", "gelu", "softplus", "softsign",
         "swish", "silu", "linear", "leaky_relu", "relu6", "exponential", "hard_sigmoid",
         "hard_silu", "mish", "log_softmax"]


@pytest.fixture(scope="module")
def rk(realtf):
    import keras as real_keras
    return real_keras


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activation_matches_keras(rk, name, dtype):
    x = X.astype(dtype)
    ours = keras.activations.get(name)(tf.constant(x))
    theirs = rk.activations.get(name)(rk.ops.convert_to_tensor(x))
    assert_same(ours, theirs, rtol=2e-5 if dtype == "float32" else 1e-10, atol=1e-6)


@pytest.mark.parametrize("kwargs", [
    {"negative_slope": 0.1}, {"max_value": 6.0}, {"max_value": 2.5}, {"threshold": 1.0},
    {"negative_slope": 0.1, "max_value": 3.0, "threshold": -1.0}])
def test_relu_options(rk, kwargs):
    x = X.astype("float32")
    assert_same(keras.activations.relu(tf.constant(x), **kwargs),
                rk.activations.relu(rk.ops.convert_to_tensor(x), **kwargs))


def test_other_options(rk):
    x = X.astype("float32")
    for fn, kwargs in (("elu", {"alpha": 0.5}), ("gelu", {"approximate": True}),
                       ("leaky_relu", {"negative_slope": 0.3}), ("softmax", {"axis": 0})):
        v = x.T if fn == "softmax" else x
        assert_same(getattr(keras.activations, fn)(tf.constant(v), **kwargs),
                    getattr(rk.activations, fn)(rk.ops.convert_to_tensor(v), **kwargs),
                    rtol=2e-5, atol=1e-6)


def test_get_serialize_deserialize(rk):
    assert keras.activations.get(None) is keras.activations.linear
    assert keras.activations.get("swish") is keras.activations.silu
    fn = lambda x: x * 2  # noqa: E731
    assert keras.activations.get(fn) is fn
    for name in ("relu", "softmax", "gelu"):
        assert keras.activations.serialize(keras.activations.get(name)) == \
            rk.activations.serialize(rk.activations.get(name))
        assert keras.activations.deserialize(name) is keras.activations.get(name)
    with pytest.raises(ValueError, match="Could not interpret activation function identifier"):
        keras.activations.get("nope")


def test_activation_gradients_flow():
    x = tf.constant(X.astype("float32"))
    for name in ("relu", "sigmoid", "tanh", "softmax", "gelu", "swish", "elu"):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(keras.activations.get(name)(x) * tf.constant(X.astype("float32")))
        g = tape.gradient(y, x)
        assert g is not None and g.shape == x.shape, name
