"""Tensor creation (ones, zeros, fill, eye, range, linspace, *_like) against real TensorFlow,
and gradient cases for the differentiable ones (Fill, LinSpace)."""
import numpy as np
import pytest

import tapeflow as tf
from tests.gradcheck import GradCase
from tests.parity import assert_same, assert_same_op_error_text, assert_same_outcome

R = np.random.default_rng(3)
GRAD_CASES = [
    GradCase("Fill", lambda v: tf.fill([2, 3], v), [np.float64(1.5)]),
    GradCase("Fill", lambda v: tf.fill(tf.constant([3]), v), [np.array([0.5])]),
    GradCase("LinSpace", lambda a, b: tf.linspace(a, b, 5), [R.random(2), R.random(2) + 1]),
    GradCase("LinSpace", lambda a, b: tf.linspace(a, b, 4, axis=-1),
             [R.random((2, 1)), R.random(3) + 1]),
    GradCase("LinSpace", lambda a, b: tf.linspace(a, b, 1), [np.float64(0.5), np.float64(2.0)]),
]


def _same(case, rtol=1e-6, atol=1e-6):
    ours, theirs = (lambda: case(tf)), (lambda: case(_same.realtf))
    assert_same_outcome(ours, theirs, rtol, atol)
    assert_same_op_error_text(ours, theirs)


@pytest.fixture(autouse=True)
def _oracle(realtf):
    _same.realtf = realtf


SHAPES = [3, 0, [], [2, 3], (2, 0), lambda m: m.TensorShape([2, 1]),
          lambda m: m.constant([2, 1]), lambda m: m.constant([2, 1], m.int64),
          lambda m: np.array([1, 2]), lambda m: m.constant(3), [-1], [2.5], [None],
          lambda m: m.TensorShape([None]), lambda m: m.constant([2.0]), (2, np.int64(2)),
          [lambda m: m.constant(2), 2]]


def _shape(s, m):
    if callable(s):
        return s(m)
    if isinstance(s, list):
        return [d(m) if callable(d) else d for d in s]
    return s


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ["ones", "zeros"])
def test_ones_zeros(name, shape):
    _same(lambda m: getattr(m, name)(_shape(shape, m)))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "bool", "uint8",
                                   "float16", "bfloat16", "complex64", "string"])
@pytest.mark.parametrize("name", ["ones", "zeros"])
def test_ones_zeros_dtypes(name, dtype):
    _same(lambda m: getattr(m, name)([2, 2], dtype))
    _same(lambda m: getattr(m, name)((3,), getattr(m, dtype)))


@pytest.mark.parametrize("case", [
    lambda m: m.fill([2, 2], 3), lambda m: m.fill([2], 3.0), lambda m: m.fill(3, 1),
    lambda m: m.fill([2], m.constant(3.0, m.float64)), lambda m: m.fill([2], [1]),
    lambda m: m.fill([2], [1, 2]), lambda m: m.fill([2], m.constant([[1]])),
    lambda m: m.fill([-1], 1), lambda m: m.fill(m.constant([-1]), 1), lambda m: m.fill([2], "a"),
    lambda m: m.fill([2], True), lambda m: m.fill(m.constant([2, 1]), 1.5),
    lambda m: m.fill([2.0], 1), lambda m: m.fill([0, 3], 7),
])
def test_fill(case):
    _same(case)


@pytest.mark.parametrize("case", [
    lambda m: m.eye(2), lambda m: m.eye(2, 3, dtype=m.int32), lambda m: m.eye(3, 2),
    lambda m: m.eye(2, batch_shape=[3]), lambda m: m.eye(2, batch_shape=(1, 2), dtype="float64"),
    lambda m: m.eye(0), lambda m: m.eye(-1), lambda m: m.eye(2, dtype=m.bool),
    lambda m: m.eye(m.constant(2)), lambda m: m.eye(2, num_columns=0), lambda m: m.eye(2.0),
    lambda m: m.eye(2, batch_shape=[-1]), lambda m: m.linalg.eye(2),
])
def test_eye(case):
    _same(case)


@pytest.mark.parametrize("case", [
    lambda m: m.range(5), lambda m: m.range(1, 5, 2), lambda m: m.range(5.0),
    lambda m: m.range(1, 5.5), lambda m: m.range(5, dtype=m.float32),
    lambda m: m.range(5, dtype=m.int64), lambda m: m.range(0, 1, 0.3),
    lambda m: m.range(5, 1), lambda m: m.range(1, 5, 0), lambda m: m.range(5, 1, -2),
    lambda m: m.range(m.constant(5)), lambda m: m.range(m.constant(5, m.int64)),
    lambda m: m.range(np.int64(5)), lambda m: m.range(np.float64(2.0)),
    lambda m: m.range(m.constant(3.0), dtype=m.int32), lambda m: m.range(2, dtype=m.uint8),
    lambda m: m.range(2, dtype=m.float16), lambda m: m.range(1, m.constant(3.0)),
    lambda m: m.range(3, delta=-1), lambda m: m.range(2.5, dtype=m.int32),
    lambda m: m.range(0.5, 2.2, -1.0), lambda m: m.range(0), lambda m: m.range(-3),
    lambda m: m.range(10, 0, -3), lambda m: m.range(0.0, 1.0, 0.1),
    lambda m: m.range(m.constant(1, m.int64), 4),
])
def test_range(case):
    _same(case)


@pytest.mark.parametrize("case", [
    lambda m: m.linspace(0.0, 1.0, 5), lambda m: m.linspace(0, 1, 3),
    lambda m: m.linspace(0.0, 1.0, 1), lambda m: m.linspace(0.0, 1.0, 0),
    lambda m: m.linspace(m.constant([0.0, 1.0]), m.constant([1.0, 3.0]), 3),
    lambda m: m.linspace(m.constant([0.0, 1.0]), 5.0, 3, axis=1),
    lambda m: m.linspace(m.constant(0.0, m.float64), 1.0, 3),
    lambda m: m.linspace(0.0, 1.0, -1), lambda m: m.linspace(0.0, 1.0, 3.0),
    lambda m: m.linspace(0.0, 1.0, m.constant(3)), lambda m: m.linspace(0.0, 1.0, 2),
    lambda m: m.linspace(m.constant([0.0, 1.0]), m.constant([1.0, 2.0, 3.0]), 3),
    lambda m: m.linspace(0.0, 1.0, 3, axis=1), lambda m: m.linspace(0.0, 1.0, 3, axis=-1),
    lambda m: m.linspace(m.constant([[0.0]]), 1.0, 3, axis=-1),
    lambda m: m.linspace(m.constant(0.0, m.float16), 1.0, 3),
    lambda m: m.linspace(m.constant(0.0, m.float64), m.constant(1.0), 3),
    lambda m: m.linspace(-3.0, 7.0, 11), lambda m: m.linspace(1, 5, 3),
    lambda m: m.linspace(m.constant([[0.0], [2.0]]), m.constant([1.0, 4.0, 9.0]), 4, axis=1),
])
def test_linspace(case):
    _same(case)


@pytest.mark.parametrize("case", [
    lambda m: m.ones_like(m.constant([1, 2])), lambda m: m.ones_like([1.0, 2.0], dtype=m.int32),
    lambda m: m.zeros_like(m.constant(["a"])), lambda m: m.ones_like(m.constant(["a"])),
    lambda m: m.zeros_like([[1, 2]]), lambda m: m.ones_like(m.constant([True])),
    lambda m: m.zeros_like(m.Variable([1.0, 2.0])), lambda m: m.ones_like(np.zeros((2, 0))),
    lambda m: m.zeros_like(m.constant(3.0), dtype="float64"),
    lambda m: m.ones_like(m.constant([1.0]), dtype=m.string),
])
def test_like(case):
    _same(case)


def test_created_on_current_device():
    with tf.device("/CPU:0"):
        for t in (tf.ones([2]), tf.zeros([2]), tf.fill([2], 1.0), tf.eye(2), tf.range(3),
                  tf.linspace(0.0, 1.0, 3)):
            assert t.device.endswith("CPU:0")


def test_fill_gradient_matches_tf(realtf):
    def grad(m):
        v = m.constant(2.0)
        with m.GradientTape() as tape:
            tape.watch(v)
            y = m.fill([2, 3], v) * m.constant([[1.0, 2.0, 3.0]])
        return tape.gradient(y, v)
    assert_same(grad(tf), grad(realtf))


def test_linspace_gradient_matches_tf(realtf):
    def grads(m):
        a, b = m.constant([0.0, 1.0]), m.constant(4.0)
        with m.GradientTape() as tape:
            tape.watch([a, b])
            y = m.linspace(a, b, 5, axis=-1) * m.constant([1.0, 2.0, 3.0, 4.0, 5.0])
        return tape.gradient(y, [a, b])
    assert_same(grads(tf), grads(realtf), rtol=1e-5)
