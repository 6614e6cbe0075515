"""Rescaling and Normalization (with adapt) against real Keras."""
import numpy as np
import pytest

import tapeflow as tf
from tests.parity import assert_same

keras = tf.keras
RNG = np.random.default_rng(2)


def test_rescaling_matches_keras(realtf):
    x = RNG.integers(0, 255, (2, 4, 4, 1)).astype("uint8")
    assert_same(keras.layers.Rescaling(1.0 / 255, offset=-0.5)(x),
                realtf.keras.layers.Rescaling(1.0 / 255, offset=-0.5)(x))


@pytest.mark.parametrize("axis", [-1, None, (1, 2)])
def test_normalization_adapt_matches_keras(realtf, axis):
    data = (RNG.standard_normal((50, 3, 4)) * 3 + 1).astype("float32")
    ours, theirs = keras.layers.Normalization(axis=axis), \
        realtf.keras.layers.Normalization(axis=axis)
    ours.adapt(data)
    theirs.adapt(data)
    assert_same(ours(data[:5]), theirs(data[:5]), rtol=1e-4, atol=1e-5)
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()


def test_normalization_with_given_mean_and_variance():
    layer = keras.layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 1.0])
    out = layer(np.array([[3.0, 2.0]], "float32")).numpy()
    np.testing.assert_allclose(out, [[1.0, 0.0]])
    inverse = keras.layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 1.0], invert=True)
    np.testing.assert_allclose(inverse(out).numpy(), [[3.0, 2.0]])


def test_normalization_adapts_from_batches():
    data = np.arange(20, dtype="float32").reshape(10, 2)
    layer = keras.layers.Normalization()
    layer.adapt([data[:5], data[5:]])
    np.testing.assert_allclose(layer.adapt_mean.numpy(), data.mean(0), rtol=1e-6)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), data.var(0), rtol=1e-6)
