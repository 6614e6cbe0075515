"""Core layers against real Keras: same weights in, same outputs out."""
import numpy as np
import pytest

import tapeflow as tf
from tests.parity import assert_same

keras = tf.keras
RNG = np.random.default_rng(0)


def _copy(theirs, ours, x):
    """Builds both layers on x, copies Keras's weights into ours, returns both outputs."""
    t = theirs(x)
    ours(x)
    ours.set_weights(theirs.get_weights())
    return ours(x), t


@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3)])
@pytest.mark.parametrize("activation", [None, "relu", "softmax", "tanh"])
def test_dense_matches_keras(realtf, shape, activation):
    x = RNG.standard_normal(shape).astype("float32")
    ours, theirs = _copy(realtf.keras.layers.Dense(4, activation=activation),
                         keras.layers.Dense(4, activation=activation), x)
    assert_same(ours, theirs, rtol=1e-5, atol=1e-6)


def test_dense_without_bias_has_one_weight():
    layer = keras.layers.Dense(3, use_bias=False)
    layer(np.ones((1, 2), "float32"))
    assert [w.name for w in layer.weights] == ["kernel"]


@pytest.mark.parametrize("name", ["relu", "sigmoid", "softmax", "tanh", "linear"])
def test_activation_layer_matches_keras(realtf, name):
    x = RNG.standard_normal((3, 4)).astype("float32")
    assert_same(keras.layers.Activation(name)(x), realtf.keras.layers.Activation(name)(x))


def test_dropout_is_identity_at_inference_and_scales_in_training():
    x = np.ones((200, 50), "float32")
    layer = keras.layers.Dropout(0.5)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    y = layer(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert 0.4 < (y == 0).mean() < 0.6
    with pytest.raises(ValueError, match="Received: rate=1.5"):
        keras.layers.Dropout(1.5)


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 5), (3, 2, 2, 2)])
def test_flatten_matches_keras(realtf, shape):
    x = RNG.standard_normal(shape).astype("float32")
    assert_same(keras.layers.Flatten()(x), realtf.keras.layers.Flatten()(x))


@pytest.mark.parametrize("target", [(3, 4), (-1, 2), (12,)])
def test_reshape_matches_keras(realtf, target):
    x = RNG.standard_normal((2, 12)).astype("float32")
    assert_same(keras.layers.Reshape(target)(x), realtf.keras.layers.Reshape(target)(x))


def test_lambda_applies_its_function():
    layer = keras.layers.Lambda(lambda t: t * 2.0 + 1.0)
    np.testing.assert_allclose(layer(np.ones((2, 2), "float32")).numpy(), 3.0)


def test_symbolic_shapes_of_core_layers():
    inp = keras.Input((6, 4))
    assert keras.layers.Flatten()(inp).shape == (None, 24)
    assert keras.layers.Reshape((-1, 2))(inp).shape == (None, 12, 2)
    assert keras.layers.Dense(5)(inp).shape == (None, 6, 5)
    assert keras.layers.Dropout(0.1)(inp).shape == (None, 6, 4)


def test_dense_kernel_constraint_is_applied_after_each_update():
    layer = keras.layers.Dense(2, kernel_constraint="non_neg")
    model = keras.Sequential([keras.Input((3,)), layer])
    model.compile(keras.optimizers.SGD(1.0), "mse")
    x = RNG.standard_normal((16, 3)).astype("float32")
    model.fit(x, -10 * np.abs(x[:, :2]), epochs=2, verbose=0)
    assert (layer.kernel.numpy() >= 0).all()
    assert layer.get_config()["kernel_constraint"]["class_name"] == "NonNeg"
