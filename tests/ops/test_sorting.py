"""sort, argsort, top_k, unique and unique_with_counts against real TensorFlow, and gradient
cases for TopKV2 and the scatter/gather pair its gradient uses."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.ops.sorting import gather_along_axis, scatter_along_axis
from tests.gradcheck import GradCase
from tests.parity import assert_same, assert_same_op_error_text, assert_same_outcome

R = np.random.default_rng(4)
_IDX = np.array([[2, 0], [1, 3]])
_DISTINCT = np.array([[0.3, -1.2, 2.5, 0.7], [1.9, 0.1, -0.4, 3.3], [-2.2, 0.8, 1.4, -0.9]])

GRAD_CASES = [
    GradCase("TopKV2", lambda x: tf.math.top_k(x, 2).values, [_DISTINCT]),
    GradCase("TopKV2", lambda x: tf.sort(x, axis=0, direction="DESCENDING"), [_DISTINCT]),
    GradCase("TopKV2", lambda x: tf.sort(x), [_DISTINCT]),
    GradCase("ScatterAlongAxis",
             lambda v: scatter_along_axis(v, tf.constant(_IDX), 1, (2, 4)), [R.random((2, 2))]),
    GradCase("GatherAlongAxis",
             lambda x: gather_along_axis(x, tf.constant(_IDX), 1), [R.random((2, 4))]),
]


def _same(case, realtf):
    ours, theirs = (lambda: case(tf)), (lambda: case(realtf))
    assert_same_outcome(ours, theirs)
    assert_same_op_error_text(ours, theirs, value_errors=True)


DTYPES = ["float32", "float64", "int32", "int64", "int8", "uint8", "float16", "bool", "string"]


def _values(dtype, shape=(3, 4)):
    a = R.integers(0, 4, size=shape)  # small range: plenty of ties to test stability
    if dtype == "string":
        return a.astype(str)
    if dtype == "bool":
        return a > 1
    return a.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["sort", "argsort"])
def test_sort_and_argsort(realtf, name, dtype):
    for shape in [(5,), (3, 4), (2, 3, 4), (0,), (2, 0)]:
        a = _values(dtype, shape)
        for axis in (-1, 0, 1, 2, -3, -4):
            for direction in ("ASCENDING", "DESCENDING"):
                _same(lambda m: getattr(m, name)(a, axis=axis, direction=direction), realtf)


@pytest.mark.parametrize("case", [
    lambda m: m.sort([3.0, 1.0], direction="UP"),
    lambda m: m.sort(m.constant(3.0)),
    lambda m: m.argsort(m.constant(3.0)),
    lambda m: m.sort([1.0, -np.inf, np.inf, 2.0]),
    lambda m: m.sort([np.nan, 1.0, -np.inf, np.inf], direction="DESCENDING"),
    lambda m: m.sort([[3.0, 1.0], [0.0, 2.0]], axis=m.constant(0)),
    lambda m: m.argsort([2, 1, 2, 1], direction="DESCENDING", stable=True),
    lambda m: m.sort([0.0, -0.0, 0.0, -1.0]),
])
def test_sort_edge_cases(realtf, case):
    _same(case, realtf)


@pytest.mark.parametrize("dtype", DTYPES[:-1])
def test_top_k(realtf, dtype):
    for shape in [(5,), (3, 4), (2, 3, 4), (2, 0)]:
        a = _values(dtype, shape)
        for k in (0, 1, 2, 4, 5, -1):
            _same(lambda m: tuple(m.math.top_k(a, k)), realtf)
            _same(lambda m: tuple(m.math.top_k(a, k, index_type=m.int64)), realtf)


@pytest.mark.parametrize("case", [
    lambda m: m.math.top_k(m.constant(3.0)),
    lambda m: tuple(m.math.top_k([1.0, 1.0, 2.0, 1.0], 3)),
    lambda m: tuple(m.math.top_k([1.0, 2.0], m.constant(1))),
    lambda m: tuple(m.math.top_k([1.0, 2.0], 1, index_type=m.int16)),
    lambda m: m.math.top_k(m.constant([1.0, 2.0]), 1.5),
    lambda m: m.math.top_k([1.0, 2.0], 1, index_type=m.float32),
    lambda m: tuple(m.math.top_k([np.nan, 1.0, 3.0], 2)),
    lambda m: tuple(m.nn.top_k([1.0, 3.0, 2.0], 2)),
])
def test_top_k_edge_cases(realtf, case):
    _same(case, realtf)


def test_top_k_unsorted_holds_the_same_entries(realtf):
    a = _values("int32", (3, 6))
    ours = tf.math.top_k(a, 3, sorted=False)
    theirs = realtf.math.top_k(a, 3, sorted=False)
    assert_same(tf.sort(ours.values), realtf.sort(theirs.values))
    assert type(ours).__name__ == "TopKV2" and ours._fields == ("values", "indices")


_P = np.array([[0.1, 0.5, 0.5, 0.2], [0.3, np.nan, 0.1, 0.2], [0.3, 0.2, 0.1, 0.4],
               [0.3, 0.2, np.inf, 0.4]], np.float32)


@pytest.mark.parametrize("case", [
    lambda m: m.math.in_top_k([1, 0, 3, 3], _P, 1), lambda m: m.math.in_top_k([2, 0, 3, 0], _P, 1),
    lambda m: m.math.in_top_k([2, 0, 5, 3], _P, 2), lambda m: m.math.in_top_k([2, 0, -1, 1], _P, 2),
    lambda m: m.math.in_top_k([1, 0, 0, 2], _P, 0), lambda m: m.math.in_top_k([1, 0, 3, 3], _P, -1),
    lambda m: m.nn.in_top_k(m.constant([1, 0, 3, 2], m.int64), _P, m.constant(3, m.int64)),
    lambda m: m.math.in_top_k([1, 0], _P, 1), lambda m: m.math.in_top_k([1, 0, 3, 1], _P[0], 1),
    lambda m: m.math.in_top_k([1.0, 0, 3, 1], _P, 1),
    lambda m: m.math.in_top_k([1, 0, 3, 1], m.constant(_P, m.float64), 1),
    lambda m: m.math.in_top_k([[1, 0, 3, 1]], _P, 1),
    lambda m: m.math.in_top_k([0, 0], np.zeros((2, 0), np.float32), 1),
])
def test_in_top_k(realtf, case):
    _same(case, realtf)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "int8", "uint8",
                                   "bool", "string", "float16"])
@pytest.mark.parametrize("name", ["unique", "unique_with_counts"])
def test_unique(realtf, name, dtype):
    for shape in [(8,), (0,), (1,), (3, 2), ()]:
        a = _values(dtype, shape)
        for out_idx in ("int32", "int64"):
            _same(lambda m: tuple(getattr(m, name)(a, out_idx=out_idx)), realtf)


@pytest.mark.parametrize("case", [
    lambda m: tuple(m.unique([np.nan, np.nan, 1.0])),
    lambda m: tuple(m.unique([0.0, -0.0, 1.0, -0.0])),
    lambda m: m.unique([1], out_idx=m.float32),
    lambda m: m.unique_with_counts([1], out_idx=m.float32),
    lambda m: tuple(m.unique(m.constant([5, 3, 5, 5, 1, 3], m.int64))),
])
def test_unique_edge_cases(realtf, case):
    _same(case, realtf)


def test_unique_result_types(realtf):
    ours, theirs = tf.unique([3, 1, 3]), realtf.unique([3, 1, 3])
    assert type(ours).__name__ == type(theirs).__name__ and ours._fields == theirs._fields
    ours, theirs = tf.unique_with_counts([3, 1, 3]), realtf.unique_with_counts([3, 1, 3])
    assert type(ours).__name__ == type(theirs).__name__ and ours._fields == theirs._fields


def _grad(m, fn, x):
    x = m.constant(x)
    with m.GradientTape() as tape:
        tape.watch(x)
        y = fn(m, x)
        y = y * m.constant(np.arange(1.0, 1.0 + np.prod(y.shape)).reshape(y.shape))
    return tape.gradient(y, x)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.sort(x),
    lambda m, x: m.sort(x, axis=0, direction="DESCENDING"),
    lambda m, x: m.math.top_k(x, 2).values,
    lambda m, x: m.math.top_k(x, 3, sorted=True)[0],
])
def test_gradients_match_tf(realtf, fn):
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, 0.0], [0.5, 1.0, 2.0, 2.0]])
    assert_same(_grad(tf, fn, x), _grad(realtf, fn, x))


def test_second_derivative_through_top_k(realtf):
    def second(m):
        x = m.constant([1.5, -2.0, 3.0, 0.5])
        with m.GradientTape() as outer:
            outer.watch(x)
            with m.GradientTape() as inner:
                inner.watch(x)
                v = m.math.top_k(x, 2).values
                y = m.reduce_sum(v * v * v)
            g = inner.gradient(y, x)
            s = m.reduce_sum(g * g)
        return outer.gradient(s, x)
    assert_same(second(tf), second(realtf))
