"""tf.Variable: creation, repr, assignment rules, and that a failed assign changes nothing."""
import copy

import numpy as np
import pytest

import tapeflow as tf
from tests.parity import assert_same, assert_same_outcome


def test_repr_and_str_match_tf(realtf):
    for value in ([[1.0], [1.0], [1.0]], 2.0, [1, 2]):
        ours, theirs = tf.Variable(value), realtf.Variable(value)
        assert repr(ours) == repr(theirs)
        assert str(ours) == str(theirs)
    assert repr(tf.Variable(3, name="x")) == repr(realtf.Variable(3, name="x"))


def test_properties(realtf):
    ours, theirs = tf.Variable(2.0, trainable=False), realtf.Variable(2.0, trainable=False)
    assert ours.name == theirs.name and ours.trainable is theirs.trainable is False
    assert ours.dtype == tf.float32 and ours.shape == theirs.shape.as_list()
    assert ours.device == theirs.device
    assert float(ours) == 2.0 and f"{ours.numpy():.1f}" == "2.0"
    assert_same(ours.value(), theirs.value())
    assert_same(ours.read_value(), theirs.read_value())
    assert tf.Variable(lambda: tf.constant([1.0, 2.0])).shape == [2]
    assert tf.Variable([1, 2], dtype=tf.float64).dtype == tf.float64


@pytest.mark.parametrize("method,value", [
    ("assign", [4.0, 5.0, 6.0]), ("assign", [1, 2, 3]), ("assign_add", [1.0, 1.0, 1.0]),
    ("assign_sub", 1.0), ("assign_sub", [1.0, 2.0, 3.0]), ("assign", [1.0, 2.0]),
    ("assign", np.array([1, 2, 3], np.int32)), ("assign_add", [1.0]),
])
def test_assign_matches_tf(realtf, method, value):
    def run(m):
        v = m.Variable([1.0, 2.0, 3.0])
        out = getattr(v, method)(value)
        return v.value(), out
    o = _outcome(lambda: run(tf))
    t = _outcome(lambda: run(realtf))
    assert o[0] == t[0], (o, t)
    if o[0] == "ok":
        assert_same(o[1][0], t[1][0])
    else:
        assert o[1] == t[1]


def _outcome(fn):
    try:
        return "ok", fn()
    except Exception as e:  # noqa: BLE001
        return "error", type(e).__name__


@pytest.mark.parametrize("bad", [
    lambda v: v.assign([1.0, 2.0]), lambda v: v.assign(tf.constant([1, 2, 3])),
    lambda v: v.assign_add([[1.0]]), lambda v: v.assign_sub("x"),
])
def test_failed_assign_leaves_variable_unchanged(bad):
    v = tf.Variable([1.0, 2.0, 3.0])
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)):
        bad(v)
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0, 3.0])


def test_assign_returns_a_view_of_the_variable_and_reads_are_snapshots():
    v = tf.Variable([1.0, 2.0])
    snapshot = v.value()
    unread = v.assign([3.0, 4.0])
    assert unread.name == "UnreadVariable" and unread is not v
    unread.assign_add([1.0, 1.0])  # writes through to v, and shows v's current value
    np.testing.assert_array_equal(unread.numpy(), [4.0, 5.0])
    v.assign([3.0, 4.0])
    np.testing.assert_array_equal(snapshot.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(v.numpy(), [3.0, 4.0])


def test_shape_mismatch_message_matches_tf(realtf):
    with pytest.raises(ValueError) as ours:
        tf.Variable([1.0, 2.0, 3.0]).assign([1.0, 2.0])
    with pytest.raises(ValueError) as theirs:
        realtf.Variable([1.0, 2.0, 3.0]).assign([1.0, 2.0])
    assert str(ours.value) == str(theirs.value)


def test_unknown_shape_variable_accepts_new_shapes():
    v = tf.Variable([[1.0, 1.0], [1.0, 1.0]], shape=tf.TensorShape(None))
    v.assign([1.0, 1.0, 1.0])
    assert v.numpy().shape == (3,)


def test_usable_where_a_tensor_is():
    v = tf.Variable([1.0, 2.0])
    assert_same(v + 1, tf.constant([2.0, 3.0]))
    assert_same(tf.multiply(v, v), tf.constant([1.0, 4.0]))
    assert np.add(v, 1).tolist() == [2.0, 3.0]
    assert tf.convert_to_tensor(v).dtype == tf.float32


def test_unhashable_with_ref():
    v = tf.Variable(1.0)
    with pytest.raises(TypeError, match="Variable is unhashable"):
        hash(v)
    assert {v.ref(): 1}[v.ref()] == 1


def test_numpy_is_a_copy():
    v = tf.Variable([1.0, 2.0])
    a = v.numpy()
    a[0] = 9.0
    assert v.numpy()[0] == 1.0


def test_deepcopy_is_independent():
    v = tf.Variable([1.0])
    w = copy.deepcopy(v)
    w.assign([2.0])
    assert v.numpy()[0] == 1.0 and w.numpy()[0] == 2.0


def test_variable_operator_with_float_scalar_matches_tf(realtf):
    assert_same_outcome(lambda: tf.Variable([1.0, 2.0]) * 2.5,
                        lambda: realtf.Variable([1.0, 2.0]) * 2.5)
