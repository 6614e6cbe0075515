"""serialize_tensor / parse_tensor: the same TensorProto bytes as TensorFlow, both ways."""
import numpy as np
import pytest

import tapeflow as tf
from tests.io._compare import check, same

GRAD_CASES = []

VALUES = {
    "float32_2d": lambda m: m.constant([[1.0, 2.0], [3.0, -4.5]]),
    "float64": lambda m: m.constant([1e300, -0.0], m.float64),
    "int32_scalar": lambda m: m.constant(3),
    "int64": lambda m: m.constant([2**40, -1], m.int64),
    "uint8": lambda m: m.constant([0, 255], m.uint8),
    "int8": lambda m: m.constant([-1, 2], m.int8),
    "uint64": lambda m: m.constant(np.array([2**63 + 5], np.uint64)),
    "bool": lambda m: m.constant([True, False, True]),
    "float16": lambda m: m.constant([1.5, 2.0], m.float16),
    "bfloat16": lambda m: m.constant([1.5, -2.0], m.bfloat16),
    "complex64": lambda m: m.constant([1 + 2j, -3j], m.complex64),
    "complex128": lambda m: m.constant([1 + 2j], m.complex128),
    "strings": lambda m: m.constant([[b"a", b"bc\0"], [b"", b"\xff"]]),
    "string_scalar": lambda m: m.constant(b""),
    "empty": lambda m: m.zeros([0, 2]),
    "empty_scalar_shape": lambda m: m.zeros([3, 0, 1], m.int32),
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_serialized_bytes_are_tensorflows(name, realtf):
    ours = tf.io.serialize_tensor(VALUES[name](tf))
    theirs = realtf.io.serialize_tensor(VALUES[name](realtf))
    assert ours.dtype == tf.string and ours.shape == ()
    assert ours.numpy() == theirs.numpy()


@pytest.mark.parametrize("name", sorted(VALUES))
def test_parses_what_tensorflow_serialized_and_back(name, realtf):
    value = VALUES[name](realtf)
    data = realtf.io.serialize_tensor(value).numpy()
    dtype = tf.as_dtype(value.dtype.name)
    same(tf.io.parse_tensor(data, dtype), value)
    ours = tf.io.serialize_tensor(VALUES[name](tf)).numpy()
    same(tf.io.parse_tensor(ours, dtype), realtf.io.parse_tensor(ours, value.dtype))


PROTOS = {  # TensorProtos with *_val fields, as TF's make_tensor_proto writes them
    "scalar_float": lambda rtf: rtf.make_tensor_proto(2.5),
    "fill": lambda rtf: rtf.make_tensor_proto(0.5, shape=[2, 3]),
    "int_fill": lambda rtf: rtf.make_tensor_proto(7, shape=[4]),
    "strings_fill": lambda rtf: rtf.make_tensor_proto(["a"], shape=[3]),
    "half": lambda rtf: rtf.make_tensor_proto(np.float16(1.5), shape=[2]),
    "complex": lambda rtf: rtf.make_tensor_proto([1 + 2j, 3j], dtype=rtf.complex64),
    "bool": lambda rtf: rtf.make_tensor_proto(True, shape=[2]),
    "int64_scalar": lambda rtf: rtf.make_tensor_proto(np.int64(-5)),
}


@pytest.mark.parametrize("name", sorted(PROTOS))
def test_parses_value_fields(name, realtf):
    proto = PROTOS[name](realtf)
    data = proto.SerializeToString()
    theirs = realtf.io.parse_tensor(data, proto.dtype)
    same(tf.io.parse_tensor(data, tf.as_dtype(theirs.dtype.name)), theirs)


ERRORS = {
    "type_mismatch": lambda m: m.io.parse_tensor(m.io.serialize_tensor([1.0]), m.int32),
    "not_scalar": lambda m: m.io.parse_tensor([b"a"], m.int32),
    "garbage": lambda m: m.io.parse_tensor(b"\x08\x01\x12", m.float32),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_tensorflow(name, realtf):
    check(ERRORS[name], tf, realtf, text=name != "garbage")
