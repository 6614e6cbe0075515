"""Activation layers against real Keras."""
import numpy as np
import pytest

import tapeflow as tf
from tests.parity import assert_same

keras = tf.keras
X = np.linspace(-3, 3, 24, dtype="float32").reshape(4, 6)


@pytest.mark.parametrize("name,kwargs", [
    ("Softmax", {}), ("Softmax", {"axis": 0}), ("ReLU", {}), ("ReLU", {"max_value": 1.5}),
    ("ReLU", {"negative_slope": 0.1, "threshold": 0.5}), ("LeakyReLU", {}),
    ("LeakyReLU", {"negative_slope": 0.05}), ("ELU", {}), ("ELU", {"alpha": 0.5})])
def test_activation_layers_match_keras(realtf, name, kwargs):
    assert_same(getattr(keras.layers, name)(**kwargs)(X),
                getattr(realtf.keras.layers, name)(**kwargs)(X), rtol=1e-5, atol=1e-6)


def test_softmax_mask_matches_keras(realtf):
    mask = np.array([[1, 1, 0, 1, 0, 1]] * 4, dtype=bool)
    assert_same(keras.layers.Softmax()(X, mask=mask),
                realtf.keras.layers.Softmax()(X, mask=mask), rtol=1e-5, atol=1e-6)
