"""gather, gather_nd, boolean_mask, one_hot and the scatters against real TensorFlow, and their
gradient cases."""
import numpy as np
import pytest

import tapeflow as tf
from tests.gradcheck import GradCase
from tests.ops.test_indexing import A, _inner_gradient
from tests.parity import assert_same, assert_same_outcome

R = np.random.default_rng(4)
GRAD_CASES = [
    GradCase("GatherV2", lambda x: tf.gather(x, [[2, 0], [2, 2]], axis=1), [R.random((2, 3))]),
    GradCase("GatherV2", lambda x: tf.gather(x, [[1, 0], [1, 1]], axis=1, batch_dims=1),
             [R.random((2, 3, 2))]),
    GradCase("GatherV2Grad", _inner_gradient(lambda x: tf.gather(x, [0, 0, 2])),
             [R.random((3, 2))]),
    GradCase("GatherNd", lambda x: tf.gather_nd(x, [[1, 0], [0, 2], [1, 0]]),
             [R.random((2, 3))]),
    GradCase("GatherNd", lambda x: tf.gather_nd(x, [[[1]], [[0]]], batch_dims=1),
             [R.random((2, 2, 3))]),
    GradCase("ScatterNd", lambda u: tf.scatter_nd([[1], [3], [1]], u, [5, 2]),
             [R.random((3, 2))]),
    GradCase("TensorScatterUpdate",
             lambda t, u: tf.tensor_scatter_nd_update(t, [[0, 1], [1, 2]], u),
             [R.random((2, 3)), R.random((2,))]),
    GradCase("TensorScatterAdd",
             lambda t, u: tf.tensor_scatter_nd_add(t, [[0], [0]], u),
             [R.random((2, 3)), R.random((2, 3))]),
]

X = np.arange(6, dtype=np.int32).reshape(2, 3)
CASES = [
    lambda m: m.gather(X, [1, 0]),
    lambda m: m.gather(X, [[2, 0]], axis=1),
    lambda m: m.gather(X, [2]),
    lambda m: m.gather(X, [-1]),
    lambda m: m.gather(X, [0], axis=2),
    lambda m: m.gather(X, [0], axis=-1),
    lambda m: m.gather(X, [0.0]),
    lambda m: m.gather(X, m.constant([1], m.int64)),
    lambda m: m.gather(X, 1),
    lambda m: m.gather(X, [[0, 1], [1, 2]], axis=1, batch_dims=1),
    lambda m: m.gather(X, [[0, 1], [1, 2]], batch_dims=-1),
    lambda m: m.gather(X, [[0, 1], [1, 2]], axis=1, batch_dims=2),
    lambda m: m.gather(X, [0, 1], axis=1, batch_dims=1),
    lambda m: m.gather(A, [[0, 1], [1, 2]], axis=1, batch_dims=1),
    lambda m: m.gather(A, [[0, 3], [1, 2]], axis=2, batch_dims=1),
    lambda m: m.gather(A, [[[0, 1]], [[1, 0]]], axis=2, batch_dims=1),
    lambda m: m.gather(m.constant(["a", "b"]), [1, 1]),
    lambda m: m.gather(X, [1], axis=m.constant(1)),
    lambda m: m.gather(np.zeros((2, 0)), [1]),
    lambda m: m.gather(X, np.zeros((0, 2), np.int32), axis=1),
    lambda m: m.gather_nd(X, [[1, 2], [0, 0]]),
    lambda m: m.gather_nd(X, [[1], [0]]),
    lambda m: m.gather_nd(X, [1, 2]),
    lambda m: m.gather_nd(X, [[1, 3]]),
    lambda m: m.gather_nd(X, [[1, 2, 0]]),
    lambda m: m.gather_nd(X, [[-1, 0]]),
    lambda m: m.gather_nd(X, [[0.0, 1.0]]),
    lambda m: m.gather_nd(A, [[1], [0]], batch_dims=1),
    lambda m: m.gather_nd(A, [[[1, 0]], [[0, 2]]], batch_dims=1),
    lambda m: m.gather_nd(m.constant([["a", "b"], ["c", "d"]]), [[1, 0], [0, 1]]),
    lambda m: m.boolean_mask(X, [True, False]),
    lambda m: m.boolean_mask(X, [[True, False, True], [False, False, True]]),
    lambda m: m.boolean_mask(X, [True, False, True], axis=1),
    lambda m: m.boolean_mask(X, [True, False, True], axis=-1),
    lambda m: m.boolean_mask(X, [True, False, True]),
    lambda m: m.boolean_mask(X, [1, 0]),
    lambda m: m.boolean_mask(X, True),
    lambda m: m.boolean_mask(A, [[True, False, True], [False, False, True]], axis=0),
    lambda m: m.boolean_mask(m.constant(["a", "b", "c"]), [True, False, True]),
    lambda m: m.boolean_mask(X, [False, False]),
    lambda m: m.one_hot([0, 2, -1, 5], 3),
    lambda m: m.one_hot([0, 2], 3, on_value=5, off_value=-1),
    lambda m: m.one_hot([0, 2], 3, on_value=5.0, off_value=-1),
    lambda m: m.one_hot([0, 2], 3, axis=0),
    lambda m: m.one_hot([[0, 2], [1, 1]], 3, axis=1),
    lambda m: m.one_hot([0, 2], 3, dtype=m.int64),
    lambda m: m.one_hot([0, 2], 3, on_value=2, dtype=m.float32),
    lambda m: m.one_hot([0, 2], 3, on_value=m.constant(2), dtype=m.float32),
    lambda m: m.one_hot([0.0, 2.0], 3),
    lambda m: m.one_hot(m.constant([0, 2], m.uint8), 3),
    lambda m: m.one_hot(m.constant([0, 2], m.int64), 3, off_value=0.5),
    lambda m: m.one_hot([0, 2], 3, axis=3),
    lambda m: m.one_hot([0, 2], 3, axis=-2),
    lambda m: m.one_hot([0, 2], -3),
    lambda m: m.one_hot(2, 3),
    lambda m: m.one_hot([0, 2], m.constant(4)),
    lambda m: m.one_hot([0, 2], 3, on_value=True, off_value=False),
    lambda m: m.scatter_nd([[1], [3]], [9, 10], [5]),
    lambda m: m.scatter_nd([[1], [1]], [9.0, 10.0], [5]),
    lambda m: m.scatter_nd([[1], [7]], [9, 10], [5]),
    lambda m: m.scatter_nd([[1]], [[9, 10]], [3, 2]),
    lambda m: m.scatter_nd([[1]], [[9, 10, 11]], [3, 2]),
    lambda m: m.tensor_scatter_nd_update(X, [[0, 1], [1, 1]], [10, 20]),
    lambda m: m.tensor_scatter_nd_update(X, [[0]], [[7, 8, 9]]),
    lambda m: m.tensor_scatter_nd_update(X, [[0, 5]], [10]),
    lambda m: m.tensor_scatter_nd_update(X, [[0, 1]], [10.0]),
    lambda m: m.tensor_scatter_nd_update(X, [[0, 1]], [10, 11]),
    lambda m: m.tensor_scatter_nd_update(X, [[0, 1]], m.constant([10.0])),
    lambda m: m.tensor_scatter_nd_add(X, [[0, 1], [0, 1]], [10, 11]),
    lambda m: m.tensor_scatter_nd_add(np.ones((2, 3)), [[1]], [[1.0, 2.0, 3.0]]),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_selection_ops_match_tf(realtf, case):
    assert_same_outcome(lambda: CASES[case](tf), lambda: CASES[case](realtf))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "bool", "complex64",
                                   "uint8", "uint16", "uint32", "float16", "bfloat16"])
def test_selection_ops_over_dtypes(realtf, dtype):
    a = A.astype(dtype)
    for fn in [lambda m, x: m.gather(x, [2, 0, 2], axis=-1),
               lambda m, x: m.gather(x, [[1, 0], [2, 2]], axis=1, batch_dims=1),
               lambda m, x: m.gather_nd(x, [[1, 2], [0, 1]]),
               lambda m, x: m.boolean_mask(x, [[True, False, True], [False, True, True]]),
               lambda m, x: m.slice(x, [1, 0, 1], [1, -1, 2]),
               lambda m, x: m.tensor_scatter_nd_update(x, [[1, 2, 3]], x[0, 0, :1])]:
        assert_same(fn(tf, tf.constant(a)), fn(realtf, realtf.constant(a)))


def test_gather_error_text_matches_tf(realtf):
    for fn in [lambda m: m.gather(X, [[0, 1], [1, 2]], axis=0, batch_dims=1),
               lambda m: m.gather_nd(X, [[1, 3]]),
               lambda m: m.scatter_nd([[1], [7]], [9, 10], [5]),
               lambda m: m.one_hot([0, 2], 3, axis=3)]:
        with pytest.raises(tf.errors.InvalidArgumentError) as ours:
            fn(tf)
        with pytest.raises(realtf.errors.InvalidArgumentError) as theirs:
            fn(realtf)
        assert str(ours.value).split(" [Op:")[0] == str(theirs.value).split(" [Op:")[0]


def test_gather_gradient_is_dense_and_sums_duplicates(realtf):
    def run(m):
        x = m.constant(np.arange(6.0).reshape(3, 2))
        with m.GradientTape() as tape:
            tape.watch(x)
            y = m.gather(x, [0, 0, 2]) * 3.0
        return m.convert_to_tensor(tape.gradient(y, x))
    assert_same(run(tf), run(realtf))


def test_boolean_mask_gradient_matches_tf(realtf):
    def run(m):
        x = m.constant(np.arange(6.0).reshape(2, 3))
        with m.GradientTape() as tape:
            tape.watch(x)
            y = m.boolean_mask(x, [[True, False, True], [False, True, True]]) * 2.0
        return tape.gradient(y, x)
    assert_same(run(tf), run(realtf))
