"""tf.SparseTensor: construction, validation, and how it shows itself, against real TF."""
import numpy as np
import pytest

import tapeflow as tf
from tests.parity import assert_same, error_of


def _both(realtf, fn):
    return fn(tf), fn(realtf)


PARTS = [
    ([[0, 0], [1, 2]], [1.0, 2.0], [3, 4]),
    ([[0, 0]], ["a"], [3, 4]),
    ([[1], [4]], [True, False], [5]),
    (np.zeros((0, 2), np.int64), np.zeros(0, np.int32), [2, 2]),
    ([[0, 1, 2]], np.array([7], np.int64), [1, 2, 3]),
]


@pytest.mark.parametrize("indices,values,dense_shape", PARTS)
def test_parts_shape_and_text(realtf, indices, values, dense_shape):
    ours, theirs = _both(realtf, lambda m: m.SparseTensor(indices, values, dense_shape))
    for part in ("indices", "values", "dense_shape"):
        assert_same(getattr(ours, part), getattr(theirs, part))
    assert ours.shape == theirs.shape and ours.dtype.name == theirs.dtype.name
    assert str(ours) == str(theirs) and repr(ours) == repr(theirs) and f"{ours}" == f"{theirs}"
    assert repr(ours._type_spec) == repr(theirs._type_spec)


@pytest.mark.parametrize("make", [
    lambda m: m.SparseTensor([[0]], [1.0, 2.0], [3]),
    lambda m: m.SparseTensor([0], [1.0], [3]),
    lambda m: m.SparseTensor([[0, 0]], [[1.0]], [3, 4]),
    lambda m: m.SparseTensor([[0, 0]], [1.0], [3]),
    lambda m: m.SparseTensor([[0.5, 0]], [1.0], [3, 4]),
    lambda m: m.SparseTensor([[0, 0]], [1.0], [3.0, 4]),
    lambda m: m.SparseTensor(m.constant([[0, 0]]), [1.0], [3, 4]),
    lambda m: m.convert_to_tensor(m.SparseTensor([[0, 0]], [1.0], [3, 4])),
])
def test_bad_parts_raise_tfs_errors(realtf, make):
    assert error_of(lambda: make(tf)) == error_of(lambda: make(realtf))


def test_with_values_and_spec(realtf):
    ours, theirs = _both(realtf, lambda m: m.SparseTensor([[0, 0], [1, 2]], [1.0, 2.0], [3, 4]))
    assert str(ours.with_values(ours.values * 2)) == str(theirs.with_values(theirs.values * 2))
    assert tf.is_tensor(ours) and not isinstance(ours, tf.Tensor)
    spec = tf.SparseTensorSpec([3, None], tf.float32)
    assert repr(spec) == repr(realtf.SparseTensorSpec([3, None], realtf.float32))
    assert spec.is_compatible_with(ours) and tf.sparse.SparseTensor is tf.SparseTensor
