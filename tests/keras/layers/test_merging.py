"""Merging layers against real Keras."""
import numpy as np
import pytest

import tapeflow as tf
from tests.parity import assert_same

keras = tf.keras
RNG = np.random.default_rng(1)


@pytest.mark.parametrize("name", ["Add", "Multiply", "Subtract", "Average", "Maximum",
                                  "Minimum"])
def test_elementwise_merges_match_keras(realtf, name):
    a = RNG.standard_normal((3, 4)).astype("float32")
    b = RNG.standard_normal((3, 4)).astype("float32")
    assert_same(getattr(keras.layers, name)()([a, b]),
                getattr(realtf.keras.layers, name)()([a, b]))


@pytest.mark.parametrize("axis", [-1, 1, 0])
def test_concatenate_matches_keras(realtf, axis):
    a = RNG.standard_normal((2, 3, 2)).astype("float32")
    b = RNG.standard_normal((2, 3, 2)).astype("float32")
    assert_same(keras.layers.Concatenate(axis=axis)([a, b]),
                realtf.keras.layers.Concatenate(axis=axis)([a, b]))


def test_three_inputs_and_functional_forms():
    xs = [np.full((1, 2), float(i), "float32") for i in range(1, 4)]
    np.testing.assert_allclose(keras.layers.Add()(xs).numpy(), 6.0)
    np.testing.assert_allclose(keras.layers.multiply(xs).numpy(), 6.0)
    assert keras.layers.concatenate(xs).shape == (1, 6)


def test_merge_needs_a_list():
    with pytest.raises(ValueError, match="list"):
        keras.layers.Add()(np.ones((2, 2), "float32"))


def test_concatenate_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="matching shapes"):
        keras.layers.Concatenate()([np.ones((2, 2), "float32"), np.ones((3, 2), "float32")])
