"""Reductions, argmax/argmin and cumsum/cumprod against real TensorFlow, and their gradient
cases."""
import numpy as np
import pytest

import tapeflow as tf
from tests.gradcheck import GradCase
from tests.parity import assert_same, assert_same_outcome, outcome

R = np.random.default_rng(2)
_NO_TIES = np.array([[0.3, -1.2, 2.5, 0.7], [1.9, 0.1, -0.4, 3.3], [-2.2, 0.8, 1.4, -0.9]])

GRAD_CASES = [
    GradCase("Sum", lambda x: tf.reduce_sum(x, axis=1), [R.random((2, 3))]),
    GradCase("Mean", lambda x: tf.reduce_mean(x, axis=[0, 2], keepdims=True),
             [R.random((2, 3, 2))]),
    GradCase("Mean", tf.reduce_mean, [R.random((3, 2))]),
    GradCase("Max", lambda x: tf.reduce_max(x, axis=-1), [_NO_TIES]),
    GradCase("Max", tf.reduce_max, [_NO_TIES]),
    GradCase("Min", lambda x: tf.reduce_min(x, axis=0, keepdims=True), [_NO_TIES]),
    GradCase("Prod", lambda x: tf.reduce_prod(x, axis=1), [R.random((2, 3)) + 0.5]),
    GradCase("Prod", tf.reduce_prod, [R.random((2, 3)) + 0.5]),
    GradCase("Prod", lambda x: tf.reduce_prod(x, axis=[0, 2], keepdims=True),
             [R.random((2, 2, 3)) + 0.5]),
    GradCase("EuclideanNorm", lambda x: tf.math.reduce_euclidean_norm(x, axis=1),
             [R.random((2, 3)) + 0.1]),
    GradCase("Cumsum", lambda x: tf.math.cumsum(x, axis=1, exclusive=True), [R.random((2, 4))]),
    GradCase("Cumsum", lambda x: tf.math.cumsum(x, reverse=True), [R.random((3, 2))]),
    GradCase("Cumprod", lambda x: tf.math.cumprod(x, axis=-1), [R.random((2, 4)) + 0.5]),
    GradCase("Cumprod", lambda x: tf.math.cumprod(x, exclusive=True, reverse=True),
             [R.random((4, 2)) + 0.5]),
]

REDUCTIONS = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
              "reduce_logsumexp"]
MATH_ONLY = ["reduce_euclidean_norm", "reduce_std", "reduce_variance"]
SHAPES = [(), (0,), (4,), (2, 3), (2, 0, 3), (2, 3, 4)]
AXES = [None, 0, -1, 1, [0, 1], [], (-1, 0), 5, [0, 0]]


def _value(shape, dtype):
    a = R.integers(-4, 6, size=shape) if "int" in dtype else R.standard_normal(shape) * 3
    return a.astype(dtype)


def _fn(module, name):
    return getattr(module.math, name)


def _assert_same_error_text(ours, theirs):
    o, t = outcome(ours), outcome(theirs)
    if o[0] == "error" and t[0] == "error":
        try:
            ours()
        except Exception as e:  # noqa: BLE001
            mine = str(e)
        try:
            theirs()
        except Exception as e:  # noqa: BLE001
            real = str(e)
        if "Op<name=" not in real and "[Op:" in real:  # op errors; not TF's signature dumps
            # TF's trailing " name: " depends on which of its dispatch paths ran.
            assert mine.removesuffix(" name: ") == real.removesuffix(" name: ")


@pytest.mark.parametrize("name", REDUCTIONS + MATH_ONLY)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "float16"])
def test_reductions_match_tf(realtf, name, dtype):
    for shape in SHAPES:
        a = _value(shape, dtype)
        for axis in AXES:
            for keepdims in (False, True):
                ours = lambda: _fn(tf, name)(a, axis=axis, keepdims=keepdims)  # noqa: E731
                theirs = lambda: _fn(realtf, name)(a, axis=axis, keepdims=keepdims)  # noqa: E731
                tol = 2e-3 if dtype == "float16" else 1e-5
                assert_same_outcome(ours, theirs, rtol=tol, atol=tol)
                _assert_same_error_text(ours, theirs)


@pytest.mark.parametrize("name", ["reduce_sum", "reduce_mean", "reduce_prod", "reduce_max"])
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "bfloat16", "complex64", "bool",
                                   "complex128"])
def test_reductions_other_dtypes(realtf, name, dtype):
    a = np.array([[1, 2, 3], [4, 100, 100]]).astype(
        dtype if dtype != "bfloat16" else "float32")
    ta, ra = tf.constant(a, dtype=dtype), realtf.constant(a, dtype=dtype)
    for axis in (None, 1):
        assert_same_outcome(lambda: _fn(tf, name)(ta, axis), lambda: _fn(realtf, name)(ra, axis),
                            rtol=1e-2, atol=1e-2)


def test_signatures_match_tf(realtf):
    import inspect
    for module, names in ((tf, ["ones", "zeros", "ones_like", "zeros_like", "fill", "eye",
                                "range", "linspace", "reduce_sum", "reduce_mean", "reduce_max",
                                "reduce_min", "reduce_prod", "reduce_any", "reduce_all",
                                "reduce_logsumexp", "argmax", "argmin", "cumsum", "sort",
                                "argsort", "unique", "unique_with_counts"]),
                          (tf.math, ["reduce_std", "reduce_variance", "reduce_euclidean_norm",
                                     "count_nonzero", "cumprod", "top_k"])):
        real = realtf if module is tf else realtf.math
        for name in names:
            ours, theirs = inspect.signature(getattr(module, name)), \
                inspect.signature(getattr(real, name))
            assert list(ours.parameters) == list(theirs.parameters), name


def test_top_level_names_match_tf(realtf):
    for name in REDUCTIONS + MATH_ONLY + ["count_nonzero", "argmax", "argmin", "cumsum",
                                          "cumprod"]:
        assert hasattr(tf, name) == hasattr(realtf, name), name
        assert hasattr(tf.math, name), name


@pytest.mark.parametrize("axis", [
    lambda m: m.constant([1]), lambda m: m.constant(1, m.int64), lambda m: m.constant(1.0),
    lambda m: np.int64(1), lambda m: np.array([0, 1]), lambda m: 1.0, lambda m: [[0]],
    lambda m: True, lambda m: m.constant([-1, 1]),
])
def test_axis_forms(realtf, axis):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    for name in ("reduce_sum", "reduce_max", "count_nonzero"):
        assert_same_outcome(lambda: _fn(tf, name)(a, axis(tf)),
                            lambda: _fn(realtf, name)(a, axis(realtf)))


def test_integer_mean_truncates_like_tf(realtf):
    for values in ([-1, -2], [-1, -4], [7, 8, 8], [2**31 - 1, 2**31 - 1]):
        assert_same(tf.reduce_mean(values), realtf.reduce_mean(values))
    a = np.array([100, 100], np.int8)
    assert_same(tf.reduce_mean(a), realtf.reduce_mean(a))
    assert_same(tf.reduce_sum(a), realtf.reduce_sum(a))


def test_float16_mean_divides_by_a_float16_count_like_tf(realtf):
    for n in (3, 4097, 70000):
        a = np.ones(n, np.float16)
        assert_same(tf.reduce_mean(a), realtf.reduce_mean(a))
    a = np.random.default_rng(0).random(100000).astype(np.float16)
    assert_same(tf.reduce_mean(a), realtf.reduce_mean(a))


def test_nan_and_inf(realtf):
    for values in ([np.nan, 1.0], [1.0, np.nan], [-np.inf, -np.inf], [np.inf, 1.0]):
        a = np.array(values, np.float32)
        for name in ("reduce_max", "reduce_min", "reduce_logsumexp", "reduce_sum"):
            assert_same(_fn(tf, name)(a), _fn(realtf, name)(a))


@pytest.mark.parametrize("name", ["reduce_any", "reduce_all"])
def test_logical_reductions(realtf, name):
    a = np.array([[True, False, True], [True, True, True]])
    for shape_a in (a, a[:, :0], np.array(True)):
        for axis in (None, 0, -1, [0, 1], 3):
            for keepdims in (False, True):
                ours = lambda: _fn(tf, name)(shape_a, axis, keepdims)  # noqa: E731
                theirs = lambda: _fn(realtf, name)(shape_a, axis, keepdims)  # noqa: E731
                assert_same_outcome(ours, theirs)
                _assert_same_error_text(ours, theirs)
    ours, theirs = (lambda: _fn(tf, name)([1.0])), (lambda: _fn(realtf, name)([1.0]))
    assert_same_outcome(ours, theirs)
    _assert_same_error_text(ours, theirs)


def test_variance_and_std_of_complex_and_bad_dtypes(realtf):
    for name in ("reduce_variance", "reduce_std"):
        for value in ([1 + 2j, 3j], [1, 2], [True, False]):
            assert_same_outcome(lambda: _fn(tf, name)(value), lambda: _fn(realtf, name)(value))
        with pytest.raises(TypeError, match="Received integer type <dtype: 'int32'>"):
            _fn(tf, name)([1, 2])


@pytest.mark.parametrize("dtype", ["float32", "int32", "bool", "string", "float64"])
def test_count_nonzero(realtf, dtype):
    a = np.array([[0, 1, 2], [3, 0, 0]])
    value = a.astype(str) if dtype == "string" else a.astype(dtype)
    if dtype == "string":
        value = np.where(a == 0, "", value)
    for axis in (None, 0, -1, [0, 1], 2):
        for keepdims in (None, True):
            assert_same_outcome(
                lambda: tf.math.count_nonzero(value, axis, keepdims),
                lambda: realtf.math.count_nonzero(value, axis, keepdims))
    assert_same(tf.math.count_nonzero(value, dtype=tf.int32),
                realtf.math.count_nonzero(value, dtype=realtf.int32))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int8", "bool", "uint8"])
def test_argmax_argmin(realtf, name, dtype):
    a = np.array([[3, 1, 3, 0], [1, 5, 5, 2], [0, 0, 1, 1]]).astype(dtype)
    for axis in (None, 0, 1, -1, -2, 2, -3):
        ours = lambda: getattr(tf, name)(a, axis)  # noqa: E731
        theirs = lambda: getattr(realtf, name)(a, axis)  # noqa: E731
        assert_same_outcome(ours, theirs)
        _assert_same_error_text(ours, theirs)
    for out in ("int32", "int16", "float32"):
        assert_same_outcome(lambda: getattr(tf, name)(a, 1, output_type=out),
                            lambda: getattr(realtf, name)(a, 1, output_type=out))


@pytest.mark.parametrize("case", [
    lambda m: m.argmax(m.constant(1.0)),
    lambda m: m.argmax(np.zeros((0, 3), np.float32), 0),
    lambda m: m.argmin(np.zeros((2, 0), np.float32), -1),
    lambda m: m.argmax([[1.0, 2.0]], [0]),
    lambda m: m.argmax([[1.0, 2.0]], m.constant([1])),
    lambda m: m.argmax([[1.0, 2.0]], m.constant(1)),
    lambda m: m.argmax([[1.0, 2.0]], np.int64(1)),
    lambda m: m.argmax(["a"]),
    lambda m: m.argmax([[np.nan, 1.0, 3.0], [np.nan, np.nan, np.nan]], 1),
    lambda m: m.argmin([[np.nan, -np.inf], [1.0, np.nan]], 1),
    lambda m: m.argmax(np.array([np.nan, -np.inf, np.inf], np.float16)),
])
def test_argmax_edge_cases(realtf, case):
    assert_same_outcome(lambda: case(tf), lambda: case(realtf))
    _assert_same_error_text(lambda: case(tf), lambda: case(realtf))


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8"])
def test_scans(realtf, name, dtype):
    a = np.array([[1, 2, 3, 0], [2, 1, 2, 3], [3, 2, 1, 2]]).astype(dtype)
    for axis in (0, 1, -1, -2, 2, -3):
        for exclusive in (False, True):
            for reverse in (False, True):
                ours = lambda: getattr(tf.math, name)(a, axis, exclusive, reverse)  # noqa: E731
                theirs = lambda: getattr(realtf.math, name)(  # noqa: E731
                    a, axis, exclusive, reverse)
                assert_same_outcome(ours, theirs)
                _assert_same_error_text(ours, theirs)


@pytest.mark.parametrize("case", [
    lambda m: m.math.cumsum(m.constant(3.0)),
    lambda m: m.math.cumsum(np.zeros((0,), np.float32)),
    lambda m: m.math.cumsum([[1.0, 2.0]], m.constant(1)),
    lambda m: m.math.cumsum([[1.0, 2.0]], m.constant([1])),
    lambda m: m.math.cumsum([[1.0, 2.0]], [0]),
    lambda m: m.math.cumsum([[1.0, 2.0]], 1.0),
    lambda m: m.math.cumsum([True]),
    lambda m: m.math.cumsum([1.0], exclusive=1),
    lambda m: m.cumsum(np.zeros((2, 0), np.float32), 1, exclusive=True),
])
def test_scan_edge_cases(realtf, case):
    assert_same_outcome(lambda: case(tf), lambda: case(realtf))
    _assert_same_error_text(lambda: case(tf), lambda: case(realtf))


def _grads(m, fn, x):
    x = m.constant(x)
    with m.GradientTape() as tape:
        tape.watch(x)
        y = fn(m, x)
    return tape.gradient(y, x)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.reduce_max(x, axis=1),          # ties split evenly
    lambda m, x: m.reduce_min(x),
    lambda m, x: m.reduce_max(x, axis=0, keepdims=True),
    lambda m, x: m.reduce_prod(x, axis=1),         # zeros: exact through cumprods
    lambda m, x: m.reduce_prod(x),
    lambda m, x: m.reduce_logsumexp(x, axis=1),
    lambda m, x: m.math.reduce_std(x, axis=0),
    lambda m, x: m.math.reduce_variance(x),
    lambda m, x: m.reduce_mean(x, axis=[0, 1]),
    lambda m, x: m.math.cumprod(x, axis=1),        # zeros: div_no_nan as in TF
    lambda m, x: m.math.cumprod(x, exclusive=True, reverse=True),
    lambda m, x: m.math.cumsum(x, axis=1, reverse=True),
    lambda m, x: m.math.reduce_euclidean_norm(x, axis=0),
])
def test_gradients_match_tf(realtf, fn):
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, 0.0], [0.5, 1.0, 2.0, 2.0]])
    assert_same(_grads(tf, fn, x), _grads(realtf, fn, x))


def test_complex_prod_gradient_matches_tf(realtf):
    x = np.array([[1 + 2j, 0.5 - 1j], [2j, 3 + 0j]])
    for axis in (None, 0):
        assert_same(_grads(tf, lambda m, t: m.reduce_prod(t, axis), x),
                    _grads(realtf, lambda m, t: m.reduce_prod(t, axis), x))


def test_second_derivative_of_prod(realtf):
    def second(m):
        x = m.constant([1.5, 2.0, 3.0])
        with m.GradientTape() as outer:
            outer.watch(x)
            with m.GradientTape() as inner:
                inner.watch(x)
                y = m.reduce_prod(x)
            g = inner.gradient(y, x)
            s = m.reduce_sum(g * g)
        return outer.gradient(s, x)
    assert_same(second(tf), second(realtf))
