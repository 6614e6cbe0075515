"""Special functions, safe products/quotients, log_sigmoid, add_n and scalar_mul
(tapeflow/ops/special.py) against real TensorFlow, and their gradient cases."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.ops.special import polygamma_raw
from tests.gradcheck import GradCase
from tests.parity import assert_same, assert_same_outcome, error_of

R = np.random.default_rng(4)
_POS = R.random((2, 3)) + 0.5

GRAD_CASES = [
    GradCase("Lgamma", tf.math.lgamma, [_POS]),
    GradCase("Digamma", tf.math.digamma, [_POS]),
    GradCase("Polygamma", lambda x: polygamma_raw(1, x), [_POS]),
    GradCase("Erfinv", tf.math.erfinv, [R.random((3,)) * 1.6 - 0.8]),
    GradCase("Ndtri", tf.math.ndtri, [R.random((3,)) * 0.8 + 0.1]),
    # x away from 0, where TF's convention (gradient 0) differs from the one-sided slopes.
    GradCase("Xlogy", tf.math.xlogy, [np.array([[0.3, 0.5, 2.0]]), np.array([[0.7], [1.5]])]),
    GradCase("Xdivy", tf.math.xdivy, [np.array([[0.3, 0.5, 2.0]]), np.array([[0.7], [1.5]])]),
    GradCase("MulNoNan", tf.math.multiply_no_nan, [R.random((2, 3)), R.random((3,))]),
    GradCase("AddN", lambda a, b, c: tf.add_n([a, b, c]),
             [R.random((2, 2)), R.random((2, 2)), R.random((2, 2))]),
]

UNARY = {"lgamma": [-0.5, 0.0, 0.5, 3.0], "digamma": [-0.5, 0.0, 0.5, 3.0],
         "erfinv": [-1.0, 0.0, 0.5, 2.0], "ndtri": [0.0, 0.5, 1.0, 2.0],
         "log_sigmoid": [-100.0, 0.0, 3.0], "reciprocal_no_nan": [0.0, 2.0, -4.0]}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64", "int32",
                                   "complex64"])
def test_unary_matches_tf(realtf, name, dtype):
    v = np.array(UNARY[name])
    if dtype in ("int32",):
        v = np.abs(v).astype(int) + 1
    tol = 1e-2 if dtype in ("float16", "bfloat16") else 1e-5

    def run(m):
        return getattr(m.math, name)(m.constant(v, dtype))
    if dtype == "bfloat16" and name == "log_sigmoid":
        # bfloat16 keeps 8 bits; TF's and torch's softplus round differently inside (a few ulps)
        ours, theirs = run(tf), run(realtf)
        assert ours.dtype.name == theirs.dtype.name
        np.testing.assert_allclose(ours.numpy().astype(np.float32),
                                   theirs.numpy().astype(np.float32), rtol=5e-2)
        return
    assert_same_outcome(lambda: run(tf), lambda: run(realtf), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ["xlogy", "xdivy", "multiply_no_nan"])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "complex64"])
def test_binary_matches_tf(realtf, name, dtype):
    x = np.array([[0.0, 0.0, 1.0, 2.0, np.nan], [3.0, 0.0, -1.0, 2.0, 1.0]])
    y = np.array([0.0, -1.0, 0.0, 3.0, 0.0])
    if dtype == "int32":
        x, y = np.nan_to_num(x).astype(int), y.astype(int)

    def run(m):
        return getattr(m.math, name)(m.constant(x, dtype), m.constant(y, dtype))
    tol = 1e-2 if dtype == "float16" else 1e-6
    assert_same_outcome(lambda: run(tf), lambda: run(realtf), rtol=tol, atol=tol)


@pytest.mark.parametrize("call", [
    lambda m: m.math.lgamma(m.constant([1])),
    lambda m: m.math.xlogy(m.constant([1]), m.constant([1])),
    lambda m: m.math.multiply_no_nan(m.constant([1]), m.constant([1])),
    lambda m: m.math.reciprocal_no_nan(m.constant([1])),
    lambda m: m.add_n([]),
    lambda m: m.add_n([m.constant([1.0, 2.0]), m.constant([1, 2])]),
    lambda m: m.add_n([m.constant([1.0, 2.0]), m.constant([1.0, 2.0, 3.0])]),
    lambda m: m.add_n([m.constant([1.0, 2.0]), m.constant(1.0), m.constant([1.0, 2.0])]),
    lambda m: m.math.scalar_mul(m.constant([2.0, 3.0]), m.constant([1.0, 2.0])),
    lambda m: m.math.scalar_mul(2.5, m.constant([1, 2])),
])
def test_errors_match_tf_exactly(realtf, call):
    assert error_of(lambda: call(tf)) == error_of(lambda: call(realtf))


@pytest.mark.parametrize("call", [
    lambda m: m.add_n([m.constant([1.0, 2.0]), m.constant([3.0, 4.0]), [1.0, 1.0]]),
    lambda m: m.add_n([m.constant([1.0, 2.0])]),
    lambda m: m.add_n(m.constant([1.0, 2.0])),
    lambda m: m.add_n([m.constant([1, 2]), m.constant([1, 2])]),
    lambda m: m.add_n([m.Variable([1.0, 2.0]), m.constant([1.0, 2.0])]),
    lambda m: m.add_n([[1.0, 2.0], [3.0, 4.0]]),
    lambda m: m.add_n([m.constant([True]), m.constant([True])]),
    lambda m: m.math.add_n([m.constant([1.0]), m.constant([2.0])]),
    lambda m: m.math.scalar_mul(2.0, m.constant([1.0, 2.0])),
    lambda m: m.scalar_mul(2, m.constant([1.0, 2.0])),
    lambda m: m.math.scalar_mul(m.constant(2.0), m.constant([1.0, 2.0])),
    lambda m: m.math.reciprocal_no_nan(m.constant([0.0, 2.0])),
    lambda m: m.math.reciprocal_no_nan(m.constant([0j, 2j])),
    lambda m: m.math.multiply_no_nan(m.constant([np.nan, np.inf, 1.0, 2.0]),
                                     m.constant([0.0, 0.0, 0.0, 3.0])),
])
def test_results_match_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


@pytest.mark.parametrize("name, args", [
    ("xlogy", ([0.0, 2.0, 1.5], [0.5, 3.0, 0.0])),
    ("xdivy", ([0.0, 2.0, 1.5], [0.5, 3.0, 2.0])),
    ("multiply_no_nan", ([1.0, 2.0, np.inf], [0.5, 0.0, 0.0])),
    ("lgamma", ([0.5, 3.0],)),
    ("digamma", ([0.5, 3.0],)),
    ("erfinv", ([0.1, -0.7],)),
    ("ndtri", ([0.1, 0.7],)),
    ("log_sigmoid", ([-3.0, 0.0, 4.0],)),
    ("reciprocal_no_nan", ([0.0, 2.0],)),
])
def test_gradients_match_tf(realtf, name, args):
    def grads(m):
        ts = [m.constant(a) for a in args]
        with m.GradientTape() as tape:
            tape.watch(ts)
            y = getattr(m.math, name)(*ts)
        return tape.gradient(y, ts)
    assert_same(grads(tf), grads(realtf))


def test_second_derivative_of_lgamma_matches_tf(realtf):
    def second(m):
        x = m.constant([0.7, 2.5])
        with m.GradientTape() as outer:
            outer.watch(x)
            with m.GradientTape() as inner:
                inner.watch(x)
                y = m.math.lgamma(x)
            g = inner.gradient(y, x)
        return outer.gradient(g, x)
    assert_same(second(tf), second(realtf))
