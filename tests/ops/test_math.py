"""Arithmetic ops (tapeflow/ops/math.py) against real TensorFlow, and their gradient cases."""
import numpy as np
import pytest

import tapeflow as tf
from tests.gradcheck import GradCase
from tests.parity import assert_same, assert_same_outcome, outcome

R = np.random.default_rng(1)


def _positive(shape):
    return R.random(shape) + 0.5


GRAD_CASES = [
    GradCase("AddV2", tf.add, [R.random((2, 3)), R.random((3,))]),
    GradCase("Sub", tf.subtract, [R.random((2, 1)), R.random((1, 3))]),
    GradCase("Mul", tf.multiply, [R.random((2, 3)), R.random((2, 3))]),
    GradCase("RealDiv", tf.divide, [R.random((2, 3)) + 1, R.random((3,)) + 1]),
    GradCase("Neg", tf.negative, [R.random((4,))]),
    GradCase("DivNoNan", tf.math.divide_no_nan, [R.random((2, 3)), _positive((3,))]),
    # x / y kept away from integers, where floormod jumps.
    GradCase("FloorMod", tf.math.floormod, [np.array([[2.3, 5.1, -1.7]]),
                                            np.array([[1.1], [2.7]])]),
    GradCase("Pow", tf.pow, [_positive((2, 3)), R.random((3,)) * 2 - 1]),
    GradCase("Maximum", tf.maximum, [R.random((2, 3)), R.random((3,))]),
    GradCase("Minimum", tf.minimum, [R.random((2, 1)), R.random((1, 3))]),
    GradCase("SquaredDifference", tf.math.squared_difference, [R.random((2, 3)), R.random((3,))]),
    GradCase("Atan2", tf.atan2, [R.random((2, 3)) - 0.5, _positive((3,))]),
    # imag(conj((1+2j) x)) = -2x: checks Conj and the complex (conjugating) Mul gradient.
    GradCase("Conj", lambda x: tf.math.imag(tf.math.conj(tf.cast(x, tf.complex128) * (1 + 2j))),
             [R.random((3,))]),
]

BINARY = ["add", "subtract", "multiply", "divide", "truediv", "floordiv", "floormod", "pow",
          "maximum", "minimum", "squared_difference", "atan2", "divide_no_nan"]
DTYPES = ["float16", "bfloat16", "float32", "float64", "int8", "int32", "int64", "uint8", "bool"]
SHAPES = [((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((2, 3), (2, 3))]


def _fn(module, name):
    return getattr(module.math, name)


def _operands(dtype, shapes):
    """Two arrays of `shapes` (nonzero divisors, positive exponents) as NumPy `dtype`."""
    n, m = int(np.prod(shapes[0])), int(np.prod(shapes[1]))
    a = np.array([-3, 2, 5, 4, -5, 6])[:n].reshape(shapes[0])
    b = np.array([2, 3, 4, 1, 2, 3])[:m].reshape(shapes[1])
    if dtype in ("uint8", "bool"):
        a = np.abs(a)
    return a.astype(dtype if dtype != "bfloat16" else "float32"), \
        b.astype(dtype if dtype != "bfloat16" else "float32")


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_matches_tf_over_dtypes(realtf, name, dtype):
    a, b = _operands(dtype, ((2, 3), (3,)))

    def run(m):
        return _fn(m, name)(m.constant(a, dtype), m.constant(b, dtype))
    tol = 1e-2 if dtype in ("float16", "bfloat16") else 1e-6
    assert_same_outcome(lambda: run(tf), lambda: run(realtf), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", SHAPES)
def test_binary_broadcasts_like_tf(realtf, name, shapes):
    a, b = _operands("float32", shapes)
    assert_same(_fn(tf, name)(a, b), _fn(realtf, name)(a, b))


def _same_error(ours_fn, theirs_fn):
    o, t = outcome(ours_fn), outcome(theirs_fn)
    assert o[0] == t[0] == "error", (o, t)
    try:
        ours_fn()
    except Exception as e:  # noqa: BLE001
        ours = e
    try:
        theirs_fn()
    except Exception as e:  # noqa: BLE001
        theirs = e
    assert type(ours).__name__ == type(theirs).__name__
    assert str(ours) == str(theirs)


@pytest.mark.parametrize("call", [
    lambda m: m.constant(3.0) + m.constant(3),
    lambda m: m.math.floordiv(m.constant([True]), m.constant([True])),
    lambda m: m.math.floormod(m.constant([True]), m.constant([True])),
    lambda m: m.pow(m.constant([1], m.uint8), m.constant([1], m.uint8)),
    lambda m: m.maximum(m.constant([True]), m.constant([True])),
    lambda m: m.minimum(m.constant(["a"]), m.constant(["b"])),
    lambda m: m.add(m.constant([True]), m.constant([True])),
    lambda m: m.subtract(m.constant(["a"]), m.constant(["b"])),
    lambda m: m.multiply(m.constant([True]), m.constant([True])),
    lambda m: m.math.squared_difference(m.constant([1], m.int8), m.constant([1], m.int8)),
    lambda m: m.atan2(m.constant([1]), m.constant([1])),
    lambda m: m.negative(m.constant([1], m.uint8)),
    lambda m: m.math.floordiv(m.constant([7, -7]), m.constant([0, 2])),
    lambda m: m.math.floormod(m.constant([7, -7]), m.constant([2, 0])),
    lambda m: m.constant([2, 3]) ** m.constant([-1, 2]),
    lambda m: m.constant([2, 3]) ** -1,
    lambda m: m.constant([1.0, 2.0]) + m.constant([1.0, 2.0, 3.0]),
    lambda m: m.maximum(m.constant([1.0, 2.0]), m.constant([1.0, 2.0, 3.0])),
    lambda m: m.constant([1, 2]) - 2.5,
    lambda m: m.maximum(m.constant([1, 2]), 2.5),
    lambda m: m.pow(2.5, m.constant([1, 2])),
    lambda m: m.pow(m.constant([1, 2]), m.constant([1.0, 2.0])),
    lambda m: m.constant([1, 2]) / 2.5,
    lambda m: m.math.truediv(2, m.constant([1.0])),
    lambda m: m.divide(2.5, m.constant([1, 2])),
    lambda m: m.math.truediv(m.constant([True]), m.constant([True])),
    lambda m: m.math.truediv("a", "b"),
    lambda m: m.math.divide_no_nan(m.constant([1, 2]), 2.5),
    lambda m: m.math.divide_no_nan(2.5, m.constant([1, 2])),
    lambda m: m.math.divide_no_nan(m.constant([True]), m.constant([True])),
    lambda m: 2.5 ** m.constant([1, 2]),
    lambda m: 7.5 // m.constant([1, 2]),
])
def test_errors_match_tf_exactly(realtf, call):
    _same_error(lambda: call(tf), lambda: call(realtf))


@pytest.mark.parametrize("call", [
    lambda m: m.constant([1, 2]) + 2.5,
    lambda m: 2.5 + m.constant([1, 2]),
    lambda m: m.math.floordiv([1, 2], [1.5, 2]),
    lambda m: m.add(2.5, m.constant([1, 2])),
    lambda m: m.constant([1.0, 2.0]) * 2,
    lambda m: 1 - m.constant([1.0, 2.0]),
    lambda m: m.multiply(np.ones((3, 3)), 42),
    lambda m: m.constant([1, 2]) / 2,
    lambda m: 2 / m.constant([1, 2]),
    lambda m: m.divide([1, 2], [2, 2]),
    lambda m: m.divide(1, 2),
    lambda m: m.divide(2, m.constant([1.0, 2.0])),
    lambda m: m.math.truediv(m.constant([1], m.int8), 2),
    lambda m: m.math.truediv(m.constant([1], m.int16), m.constant([4], m.int16)),
    lambda m: m.math.divide_no_nan(m.constant([1, 0, 1]), m.constant([0, 0, 2])),
    lambda m: m.math.divide_no_nan(2, m.constant([1.0, 0.0])),
    lambda m: m.math.divide_no_nan(m.constant([np.nan, np.inf, 1.0]), m.constant([0.0, 0.0, 0.0])),
    lambda m: m.maximum(m.constant([1.0, 2.0]), np.array([1, 3])),
    lambda m: m.maximum(m.constant([1, 2]), np.array([1.5, 2.0])),
    lambda m: m.maximum(np.array([1.5, 2.0]), [1, 2]),
    lambda m: m.maximum(m.constant([1.0, 2.0]), True),
    lambda m: m.maximum(2, m.constant([1.0, 3.0])),
    lambda m: m.maximum(m.Variable([1.0, 2.0]), 1.5),
    lambda m: m.maximum(m.constant([np.nan, 1.0]), m.constant([1.0, np.nan])),
    lambda m: m.minimum(m.constant([np.nan, 1.0]), m.constant([1.0, np.nan])),
    lambda m: m.math.floordiv(m.constant([7.5, -7.5, 1.0, -1.0]), m.constant([2.0, 2.0, 0.0, 0.0])),
    lambda m: m.math.floordiv(m.constant([7, -7, 7, -7]), m.constant([2, 2, -2, -2])),
    lambda m: m.math.floordiv(m.constant([7], m.uint8), m.constant([2], m.uint8)),
    lambda m: m.math.floormod(m.constant([7.5, -7.5, 1.0]), m.constant([2.0, 2.0, -3.0])),
    lambda m: m.math.floormod(m.constant([7, -7, 7, -7]), m.constant([3, 3, -3, -3])),
    lambda m: m.math.mod(m.constant([7, -7]), 3),
    lambda m: m.pow(m.constant([0.0, -2.0, 2.0]), m.constant([0.0, 0.5, -1.0])),
    lambda m: m.pow(m.constant([0, 3, -2]), m.constant([0, 2, 3])),
    lambda m: m.pow(2, m.constant([1.0, 3.0])),
    lambda m: m.atan2(m.constant([1.0, -1.0, 0.0]), m.constant([0.0, -1.0, -1.0])),
    lambda m: m.math.squared_difference(m.constant([1, 5]), m.constant([4, 2])),
    lambda m: m.math.squared_difference(m.constant([1 + 2j]), m.constant([2 - 1j])),
    lambda m: m.constant([7, -7]) // 2,
    lambda m: 7 // m.constant([2, -3]),
    lambda m: m.constant([7.0, -7.0]) % 3,
    lambda m: 7 % m.constant([2, -3]),
    lambda m: m.constant([2, 3]) ** 2,
    lambda m: m.constant([2.0, 3.0]) ** 0.5,
    lambda m: 2 ** m.constant([2.0, 3.0]),
    lambda m: m.Variable([1.0, 5.0]) // 2,
    lambda m: m.Variable([1.0, 5.0]) % 2,
    lambda m: m.Variable([1.0, 5.0]) ** 2,
    lambda m: 2 ** m.Variable([1.0, 5.0]),
    lambda m: 10 / m.Variable([1.0, 5.0]),
    lambda m: -m.Variable([1.0, 5.0]),
])
def test_results_match_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


def test_operators_exist_on_variables():
    v = tf.Variable([4.0, 9.0])
    assert (v // 2).numpy().tolist() == [2.0, 4.0]
    assert (11.0 % v).numpy().tolist() == [3.0, 2.0]


@pytest.mark.parametrize("name, x, y", [
    ("maximum", [1.0, 2.0, 3.0], [1.0, 1.0, 4.0]),   # ties go to x
    ("minimum", [1.0, 2.0, 3.0], [1.0, 1.0, 4.0]),
    ("pow", [0.0, 2.0, -2.0], [2.0, 3.0, 2.0]),       # log(x) guarded where x <= 0
    ("floormod", [5.0, -5.0], [3.0, 3.0]),
    ("divide_no_nan", [1.0, 2.0], [0.0, 4.0]),
    ("squared_difference", [1.0, 2.0], [3.0, 0.0]),
    ("atan2", [1.0, 2.0], [3.0, -1.0]),
    ("floordiv", [5.0, -5.0], [3.0, 3.0]),            # no gradient (None) in TF
])
def test_gradients_match_tf(realtf, name, x, y):
    def grads(m):
        a, b = m.constant(x), m.constant(y)
        with m.GradientTape(persistent=True) as tape:
            tape.watch([a, b])
            out = _fn(m, name)(a, b)
        return [g if g is None else g.numpy() for g in tape.gradient(out, [a, b])]
    ours, theirs = grads(tf), grads(realtf)
    for o, t in zip(ours, theirs):
        assert (o is None) == (t is None)
        if o is not None:
            np.testing.assert_allclose(o, t, rtol=1e-6)


def test_mixed_dtype_error_text_matches_tf(realtf):
    with pytest.raises(tf.errors.InvalidArgumentError) as ours:
        tf.constant(3.0) + tf.constant(3)
    with pytest.raises(realtf.errors.InvalidArgumentError) as theirs:
        realtf.constant(3.0) + realtf.constant(3)
    assert str(ours.value) == str(theirs.value)
