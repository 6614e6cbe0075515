"""Arithmetic ops against real TensorFlow, and their gradient cases."""
import numpy as np
import pytest

import tapeflow as tf
from tests.gradcheck import GradCase
from tests.parity import assert_same, assert_same_outcome

R = np.random.default_rng(1)
GRAD_CASES = [
    GradCase("AddV2", tf.add, [R.random((2, 3)), R.random((3,))]),
    GradCase("Sub", tf.subtract, [R.random((2, 1)), R.random((1, 3))]),
    GradCase("Mul", tf.multiply, [R.random((2, 3)), R.random((2, 3))]),
    GradCase("RealDiv", tf.divide, [R.random((2, 3)) + 1, R.random((3,)) + 1]),
    GradCase("Neg", tf.negative, [R.random((4,))]),
]

BINARY = ["add", "subtract", "multiply", "divide"]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
def test_binary_matches_tf(realtf, name, dtype):
    a = np.array([[1, 2, 3], [4, 5, 6]]).astype(dtype)
    b = np.array([3, 2, 1]).astype(dtype)
    assert_same(getattr(tf, name)(a, b), getattr(realtf, name)(a, b))


@pytest.mark.parametrize("pair", [
    (lambda m: m.constant(3.0) + m.constant(3)),
    (lambda m: m.constant([1.0, 2.0]) + m.constant([1.0, 2.0, 3.0])),
    (lambda m: m.constant([1, 2]) + 2.5),
    (lambda m: 2.5 + m.constant([1, 2])),
    (lambda m: m.add(2.5, m.constant([1, 2]))),
    (lambda m: m.constant([1.0, 2.0]) * 2),
    (lambda m: 1 - m.constant([1.0, 2.0])),
    (lambda m: m.multiply(np.ones((3, 3)), 42)),
])
def test_operand_rules_match_tf(realtf, pair):
    assert_same_outcome(lambda: pair(tf), lambda: pair(realtf))


def test_error_text_matches_tf(realtf):
    with pytest.raises(tf.errors.InvalidArgumentError) as ours:
        tf.constant(3.0) + tf.constant(3)
    with pytest.raises(realtf.errors.InvalidArgumentError) as theirs:
        realtf.constant(3.0) + realtf.constant(3)
    assert str(ours.value) == str(theirs.value)
