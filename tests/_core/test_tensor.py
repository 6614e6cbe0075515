"""Tensor creation, conversion rules and Python protocols, compared with real TensorFlow."""
import copy

import numpy as np
import pytest

import tapeflow as tf
from tests.parity import assert_same, assert_same_outcome

VALUES = [
    3.0, 3, True, "Tennis", b"bytes", [1.0, 2.0], [1, 2], [[1], [2]], [1, 2.5], [1, 2 ** 40],
    [[True, False]], ["a", "bc"], [], [[]], np.float64(3), np.int64(7), np.ones((2, 3)),
    np.arange(6, dtype=np.int16).reshape(2, 3), np.array([1.5], np.float16), 1 + 2j,
    np.zeros((0, 3), np.float32),
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_constant_dtype_shape_and_value(realtf, value):
    assert_same(tf.constant(value), realtf.constant(value))


@pytest.mark.parametrize("value,dtype", [
    (1, "float32"), (1.5, "int32"), ([1, 2], "float64"), ([1.5, 2], "int64"), ("a", "int32"),
    (np.array([1.7, -1.7]), "int32"), (True, "int32"), (1, "bool"), (3, "uint8"),
    (1.0, "bfloat16"), ([1, 2], "string"), (1.5, "complex64"),
])
def test_constant_with_dtype(realtf, value, dtype):
    assert_same_outcome(lambda: tf.constant(value, dtype=getattr(tf, dtype)),
                        lambda: realtf.constant(value, dtype=getattr(realtf, dtype)))


@pytest.mark.parametrize("value,shape", [(0, (2, 3)), ([1, 2, 3, 4], (2, 2)),
                                         ([1, 2, 3], (2, 2)), ("x", (2,)), (1.5, [])])
def test_constant_with_shape(realtf, value, shape):
    assert_same_outcome(lambda: tf.constant(value, shape=shape),
                        lambda: realtf.constant(value, shape=shape))


def test_non_rectangular_lists_raise_value_error(realtf):
    with pytest.raises(ValueError, match="non-rectangular"):
        tf.constant([[1], [2, 3]])
    with pytest.raises(ValueError):
        realtf.constant([[1], [2, 3]])


@pytest.mark.parametrize("value", [["a", 1], [[1], ["a"]], [b"x", 2.5]], ids=repr)
def test_strings_mixed_with_numbers_raise_tfs_error(realtf, value):
    with pytest.raises(ValueError) as theirs:
        realtf.constant(value)
    with pytest.raises(ValueError, match="mixed types") as ours:
        tf.constant(value)
    assert str(ours.value) == str(theirs.value)


def test_constant_copies_numpy_input():
    a = np.ones(3)
    t = tf.constant(a)
    a[0] = 5
    assert t.numpy()[0] == 1


def test_convert_to_tensor_dtype_rules(realtf):
    assert_same_outcome(lambda: tf.convert_to_tensor(tf.constant([1.0]), dtype=tf.int32),
                        lambda: realtf.convert_to_tensor(realtf.constant([1.0]), dtype=realtf.int32))
    assert_same_outcome(lambda: tf.constant(tf.constant([1.0]), dtype=tf.int32),
                        lambda: realtf.constant(realtf.constant([1.0]), dtype=realtf.int32))
    assert tf.convert_to_tensor([1, 2], dtype_hint=tf.float32).dtype == tf.float32
    assert tf.convert_to_tensor([1.5], dtype_hint=tf.int32).dtype == tf.float32


@pytest.mark.parametrize("value", [
    [[1.0], [1.0]], 3.0, [1, 2, 3], "Tennis", ["a", "bc"], True, [[True, False]],
    np.arange(2000.0), np.arange(12, dtype=np.int64).reshape(3, 4), [1.5, -2.25, 1e-8],
    np.array([1.5, 2.0], np.float16), [1 + 2j], np.zeros((2, 0)),
], ids=repr)
def test_print_and_repr_match_tf_byte_for_byte(realtf, value):
    ours, theirs = tf.constant(value), realtf.constant(value)
    assert str(ours) == str(theirs)
    assert repr(ours) == repr(theirs)


def test_bfloat16_print(realtf):
    for v in (1.0, [1.5, 2.0]):
        ours, theirs = tf.constant(v, tf.bfloat16), realtf.constant(v, realtf.bfloat16)
        assert str(ours) == str(theirs) and repr(ours) == repr(theirs)


def test_golden_print_format():
    assert str(tf.ones_like(tf.constant([[0.0], [0.0]]))) == \
        "tf.Tensor(\n[[1.]\n [1.]], shape=(2, 1), dtype=float32)"


def test_properties(realtf):
    ours, theirs = tf.constant([[1, 2, 3]]), realtf.constant([[1, 2, 3]])
    assert ours.shape == theirs.shape.as_list() and str(ours.shape) == str(theirs.shape)
    assert ours.ndim == theirs.ndim and ours.dtype == tf.int32
    assert ours.device == theirs.device
    assert ours.shape.rank == 2 and ours.shape.as_list() == [1, 3]
    assert ours.get_shape() == ours.shape


def test_numpy_interop():
    t = tf.constant([[1.0, 2.0]])
    assert isinstance(t.numpy(), np.ndarray)
    r = np.add(t, 1)
    assert isinstance(r, np.ndarray) and r.tolist() == [[2.0, 3.0]]
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert isinstance(tf.constant(3.0).numpy(), np.float32)
    assert tf.constant("x").numpy() == b"x"


def test_format_for_scalars():
    assert f"{tf.constant(0.123456):.4f}" == "0.1235"
    assert f"{tf.constant(7)}" == "7"  # the value's format, as TF's (more: test_printing.py)


@pytest.mark.parametrize("fn", [
    bool, len, list, float, int, lambda t: t.__index__(),
], ids=["bool", "len", "iter", "float", "int", "index"])
@pytest.mark.parametrize("value", [3.0, [1, 2], [2], 0, [[1.0, 2.0]], []], ids=repr)
def test_python_protocols_match_tf(realtf, fn, value):
    def ours():
        out = fn(tf.constant(value))
        return [x.numpy() for x in out] if isinstance(out, list) else out

    def theirs():
        out = fn(realtf.constant(value))
        return [x.numpy() for x in out] if isinstance(out, list) else out
    o, t = ours_outcome(ours), ours_outcome(theirs)
    assert o[0] == t[0], (o, t)
    if o[0] == "ok":
        np.testing.assert_equal(o[1], t[1])
    else:
        assert o[1] == t[1]


def ours_outcome(fn):
    try:
        return "ok", fn()
    except Exception as e:  # noqa: BLE001
        return "error", type(e).__name__


def test_unhashable_with_ref():
    t = tf.constant(1.0)
    with pytest.raises(TypeError, match=r"Tensor is unhashable. Instead, use tensor.ref\(\)"):
        hash(t)
    d = {t.ref(): "a"}
    assert d[t.ref()] == "a" and t.ref().deref() is t
    assert t.ref() != tf.constant(1.0).ref()


def test_item_assignment_raises_type_error():
    t = tf.constant([1, 2])
    with pytest.raises(TypeError, match="object does not support item assignment"):
        t[0] = 3


def test_copy_returns_same_immutable_tensor():
    t = tf.constant([1.0])
    assert copy.copy(t) is t and copy.deepcopy(t) is t


def test_is_tensor():
    assert tf.is_tensor(tf.constant(1)) and tf.is_tensor(tf.Variable(1.0))
    assert not tf.is_tensor(np.ones(2)) and not tf.is_tensor(1.0)
