"""tf.sparse ops against real TF: results (printed, so indices, values, shapes and dtypes are
compared at once), error classes and texts, and gradients w.r.t. values and dense operands."""
import numpy as np
import pytest

import tapeflow as tf
from tests.gradcheck import GradCase
from tests.parity import error_of

_IDX = [[0, 1], [1, 0], [2, 2]]
_V = np.array([1.5, -2.0, 0.5])
_B = np.arange(6.0).reshape(3, 2) / 4 - 0.5


def _sp(values, shape=(3, 3)):
    return tf.SparseTensor(_IDX, values, list(shape))


GRAD_CASES = [
    GradCase("SparseToDense", lambda v: tf.sparse.to_dense(_sp(v)), [_V]),
    GradCase("SparseToDense", lambda v, d: tf.sparse.to_dense(_sp(v), default_value=d),
             [_V, np.array(0.25)]),
    GradCase("SparseTensorDenseMatMul", lambda v, b: tf.sparse.sparse_dense_matmul(_sp(v), b),
             [_V, _B]),
    GradCase("SparseTensorDenseMatMul",
             lambda v, b: tf.sparse.sparse_dense_matmul(_sp(v), b, adjoint_a=True), [_V, _B]),
    GradCase("SparseTensorDenseMatMul",
             lambda v, b: tf.sparse.sparse_dense_matmul(_sp(v), b, adjoint_b=True),
             [_V, _B.T.copy()]),
    GradCase("SparseTensorDenseMatMul",
             lambda v, b: tf.sparse.sparse_dense_matmul(b, _sp(v)), [_V, _B.T.copy()]),
]


def _a(m):
    return m.SparseTensor([[0, 1], [2, 0]], [1.0, -2.0], [3, 3])


def _b(m):
    return m.SparseTensor([[0, 1], [1, 1]], [-1.0, 5.0], [3, 3])


CASES = {
    "add sparse": lambda m: m.sparse.add(_a(m), _b(m)),
    "add threshold": lambda m: m.sparse.add(_a(m), _b(m), threshold=0.5),
    "add dense": lambda m: m.sparse.add(_a(m), m.ones([3, 3])),
    "add dense first": lambda m: m.sparse.add(m.ones([3, 3]), _a(m)),
    "add dtype mismatch": lambda m: m.sparse.add(_a(m), m.SparseTensor([[0, 1]], [1], [3, 3])),
    "add shape mismatch": lambda m: m.sparse.add(_a(m), m.SparseTensor([[0, 1]], [1.0], [3, 4])),
    "add empties": lambda m: m.sparse.add(
        m.SparseTensor(np.zeros((0, 2), np.int64), m.zeros([0]), [2, 2]),
        m.SparseTensor(np.zeros((0, 2), np.int64), m.zeros([0]), [2, 2])),
    "from_dense": lambda m: m.sparse.from_dense(m.constant([[0, 1], [2, 0]])),
    "from_dense strings": lambda m: m.sparse.from_dense(m.constant([["", "a"]])),
    "from_dense scalar": lambda m: m.sparse.from_dense(m.constant(5.0)),
    "to_dense default": lambda m: m.sparse.to_dense(_a(m), default_value=9.0),
    "to_dense int default": lambda m: m.sparse.to_dense(_a(m), default_value=9),
    "to_dense strings": lambda m: m.sparse.to_dense(m.SparseTensor([[0]], ["x"], [2])),
    "to_dense out of bounds": lambda m: m.sparse.to_dense(m.SparseTensor([[5, 0]], [1.0], [3, 3])),
    "to_dense out of order": lambda m: m.sparse.to_dense(
        m.SparseTensor([[1, 0], [0, 0]], [1.0, 2.0], [3, 3])),
    "to_dense repeated": lambda m: m.sparse.to_dense(
        m.SparseTensor([[1, 0], [1, 0]], [1.0, 2.0], [3, 3])),
    "to_dense unvalidated": lambda m: m.sparse.to_dense(
        m.SparseTensor([[1, 0], [0, 0]], [1.0, 2.0], [3, 3]), validate_indices=False),
    "reorder": lambda m: m.sparse.reorder(m.SparseTensor([[2, 0], [0, 1]], [1.0, 2.0], [3, 3])),
    "reshape": lambda m: m.sparse.reshape(_a(m), [9]),
    "reshape -1": lambda m: m.sparse.reshape(_a(m), [-1, 9]),
    "reshape bad": lambda m: m.sparse.reshape(_a(m), [2, 4]),
    "retain": lambda m: m.sparse.retain(_a(m), [True, False]),
    "retain bad": lambda m: m.sparse.retain(_a(m), [True]),
    "reduce_sum": lambda m: m.sparse.reduce_sum(_a(m)),
    "reduce_sum keepdims": lambda m: m.sparse.reduce_sum(_a(m), keepdims=True),
    "reduce_sum axis": lambda m: m.sparse.reduce_sum(_a(m), axis=1),
    "reduce_sum axis -1": lambda m: m.sparse.reduce_sum(_a(m), axis=-1),
    "reduce_sum axis 0 keepdims": lambda m: m.sparse.reduce_sum(_a(m), axis=0, keepdims=True),
    "reduce_sum sparse": lambda m: m.sparse.reduce_sum(_a(m), axis=1, output_is_sparse=True),
    "reduce_sum sparse 3-d": lambda m: m.sparse.reduce_sum(
        m.SparseTensor([[0, 0, 1], [1, 0, 1], [1, 1, 1]], [1, 2, 3], [2, 2, 2]), axis=[0, 2],
        output_is_sparse=True),
    "to_indicator": lambda m: m.sparse.to_indicator(
        m.SparseTensor([[0, 0], [0, 1], [1, 0]], [2, 0, 3], [2, 2]), 4),
    "matmul": lambda m: m.sparse.sparse_dense_matmul(_a(m), m.ones([3, 2])),
    "matmul adjoint_a": lambda m: m.sparse.sparse_dense_matmul(_a(m), m.ones([3, 2]),
                                                               adjoint_a=True),
    "matmul adjoint_b": lambda m: m.sparse.sparse_dense_matmul(_a(m), m.ones([2, 3]),
                                                               adjoint_b=True),
    "matmul dense first": lambda m: m.sparse.sparse_dense_matmul(m.ones([2, 3]), _a(m)),
    "matmul dense first adjoint": lambda m: m.sparse.sparse_dense_matmul(
        m.reshape(m.range(6.0), [3, 2]), _a(m), adjoint_a=True),
    "matmul inner mismatch": lambda m: m.sparse.sparse_dense_matmul(_a(m), m.ones([4, 2])),
    "matmul dtype mismatch": lambda m: m.sparse.sparse_dense_matmul(_a(m), m.ones([3, 2],
                                                                                  m.float64)),
    "matmul out of bounds": lambda m: m.sparse.sparse_dense_matmul(
        m.SparseTensor([[5, 0]], [1.0], [3, 3]), m.ones([3, 2])),
    "operator * dense": lambda m: _a(m) * m.constant([[1.0], [2.0], [3.0]]),
    "operator / scalar": lambda m: _a(m) / 2.0,
    "operator * int": lambda m: _a(m) * 2,
    "transpose": lambda m: m.sparse.transpose(m.SparseTensor([[0, 2], [1, 0]], [1.0, 2.0],
                                                             [2, 3])),
    "map_values": lambda m: m.sparse.map_values(m.math.square, _a(m)),
}


def _shown(fn, m):
    try:
        return str(fn(m))
    except Exception as e:  # noqa: BLE001 - compared with what TF raises
        return f"!{type(e).__name__}: {e}"


@pytest.mark.parametrize("case", CASES)
def test_sparse_op_matches_tf(realtf, case):
    assert _shown(CASES[case], tf) == _shown(CASES[case], realtf)


@pytest.mark.parametrize("adjoint_a,adjoint_b", [(False, False), (True, False), (False, True),
                                                 (True, True)])
def test_sparse_dense_matmul_gradients_match_tf(realtf, adjoint_a, adjoint_b):
    def grads(m):
        values, b = m.constant(_V), m.constant(_B if not adjoint_b else _B.T.copy())
        with m.GradientTape() as tape:
            tape.watch([values, b])
            sp = m.SparseTensor(_IDX, values, [3, 3])
            y = m.reduce_sum(m.sparse.sparse_dense_matmul(sp, b, adjoint_a, adjoint_b) ** 2)
        return [g.numpy() for g in tape.gradient(y, [values, b])]
    for ours, theirs in zip(grads(tf), grads(realtf)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_gradients_flow_through_compositions(realtf):
    # (TF's own gradients fail through tf.sparse.reduce_sum without axis and `sp * scalar`)
    def grads(m):
        values = m.constant(_V)
        with m.GradientTape() as tape:
            tape.watch(values)
            sp = m.SparseTensor(_IDX, values, [3, 3])
            total = m.sparse.add(sp, sp * m.fill([3, 3], np.float64(3.0)))
            kept = m.sparse.reorder(m.sparse.retain(total, [True, False, True]))
            y = m.reduce_sum(m.sparse.to_dense(kept) ** 2) + \
                m.reduce_sum(m.sparse.add(sp, m.ones([3, 3], m.float64)) ** 2)
        return tape.gradient(y, values).numpy()
    np.testing.assert_allclose(grads(tf), grads(realtf), rtol=1e-12)


def test_bad_arguments_name_what_they_got():
    assert "Input must be a SparseTensor" in error_of(lambda: tf.sparse.reorder([1]))[1]
    assert error_of(lambda: tf.sparse.add(tf.ones([2]), tf.ones([2])))[0] == "TypeError"


def test_sparse_tensor_passes_through_tf_function(realtf):
    """As a composite: its three tensors become the trace's inputs (one trace serves other
    values of the same shapes) and a returned SparseTensor comes back whole."""
    def run(m):
        w, lines = m.Variable([[1.0], [2.0], [3.0]]), []

        @m.function
        def f(sp, x):
            lines.append(f"traced {sp.shape} {sp.dtype}")
            return {"product": m.sparse.sparse_dense_matmul(sp, w),
                    "dense": m.sparse.to_dense(sp) + x, "scaled": sp * m.fill([2, 3], 2.0)}
        for indices, values in (([[0, 1], [1, 2]], [1.0, 2.0]), ([[0, 0], [1, 1]], [3.0, 4.0])):
            lines.append(str(f(m.SparseTensor(indices, values, [2, 3]), 1.0)))
        with m.GradientTape() as tape:
            y = m.reduce_sum(f(m.SparseTensor([[1, 0]], [5.0], [2, 3]), 0.0)["product"])
        lines.append(str(tape.gradient(y, w)))
        sp = m.SparseTensor([[1, 0]], [5.0], [2, 3])
        lines.append(str([len(m.nest.flatten(sp)), len(m.nest.flatten(sp, expand_composites=True))]))
        return lines + [str(f.experimental_get_tracing_count())]
    assert run(tf) == run(realtf)
