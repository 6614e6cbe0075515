"""Regularizers and constraints against real Keras 3: values, configs, lookup by name."""
import numpy as np
import pytest

from tapeflow import keras
from tests.parity import assert_same

W = np.random.default_rng(5).standard_normal((4, 3)).astype(np.float32)

CASES = [("L1", {}), ("L1", {"l1": 0.3}), ("L2", {}), ("L2", {"l2": 0.2}),
         ("L1L2", {"l1": 0.1, "l2": 0.2}), ("L1L2", {}),
         ("OrthogonalRegularizer", {}), ("OrthogonalRegularizer", {"factor": 0.5,
                                                                   "mode": "columns"})]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_regularizer_matches_keras(realtf, name, kwargs):
    import keras as real_keras
    ours = getattr(keras.regularizers, name)(**kwargs)
    theirs = getattr(real_keras.regularizers, name)(**kwargs)
    assert_same(ours(keras.Variable(W) if hasattr(keras, "Variable") else W),
                theirs(realtf.Variable(W)), rtol=1e-5)
    assert ours.get_config() == theirs.get_config()
    again = keras.regularizers.deserialize(keras.regularizers.serialize(ours))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()


def test_get_by_name_and_errors():
    assert isinstance(keras.regularizers.get("l2"), keras.regularizers.L2)
    assert isinstance(keras.regularizers.get("l1"), keras.regularizers.L1)
    assert keras.regularizers.get(None) is None
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier"):
        keras.regularizers.get("l3")
    with pytest.raises(ValueError, match="expected a non-negative float"):
        keras.regularizers.L2(-1.0)
    with pytest.raises(ValueError, match="Inputs to OrthogonalRegularizer must have rank 2"):
        keras.regularizers.OrthogonalRegularizer()(np.ones(3, np.float32))


CONSTRAINTS = [("MaxNorm", {}), ("MaxNorm", {"max_value": 1.0, "axis": 1}), ("NonNeg", {}),
               ("UnitNorm", {}), ("MinMaxNorm", {"min_value": 0.5, "max_value": 1.5,
                                                 "rate": 0.7})]


@pytest.mark.parametrize("name,kwargs", CONSTRAINTS, ids=[f"{n}-{k}" for n, k in CONSTRAINTS])
def test_constraint_matches_keras(realtf, name, kwargs):
    import keras as real_keras
    ours = getattr(keras.constraints, name)(**kwargs)
    theirs = getattr(real_keras.constraints, name)(**kwargs)
    assert_same(ours(W * 3), theirs(realtf.constant(W * 3)), rtol=1e-5, atol=1e-6)
    assert ours.get_config() == theirs.get_config()
    assert type(keras.constraints.get(keras.constraints.serialize(ours))) is type(ours)


def test_constraint_lookup_and_use_in_optimizer():
    import tapeflow as tf
    assert isinstance(keras.constraints.get("non_neg"), keras.constraints.NonNeg)
    with pytest.raises(ValueError, match="Could not interpret constraint identifier"):
        keras.constraints.get("nope")
    v = tf.Variable([1.0, -1.0], constraint=keras.constraints.NonNeg())
    keras.optimizers.SGD(1.0).apply_gradients([(tf.constant([2.0, 0.0]), v)])
    np.testing.assert_array_equal(v.numpy(), [0.0, 0.0])
