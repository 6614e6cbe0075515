"""keras.utils against real Keras."""
import numpy as np
import pytest

import tapeflow as tf

keras = tf.keras


@pytest.mark.parametrize("labels,num", [([0, 2, 1], None), ([[1], [2]], 3), ([[0, 1], [2, 0]], 4)])
def test_to_categorical_matches_keras(realtf, labels, num):
    ours = keras.utils.to_categorical(labels, num)
    theirs = realtf.keras.utils.to_categorical(labels, num)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def test_normalize_matches_keras(realtf):
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(keras.utils.normalize(x), realtf.keras.utils.normalize(x))


def test_set_random_seed_makes_initialisation_reproducible():
    keras.utils.set_random_seed(7)
    a = keras.layers.Dense(3)
    a.build((None, 2))
    keras.utils.set_random_seed(7)
    b = keras.layers.Dense(3)
    b.build((None, 2))
    np.testing.assert_array_equal(a.kernel.numpy(), b.kernel.numpy())
