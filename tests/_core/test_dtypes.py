"""tf.DType objects against TensorFlow's."""
import numpy as np
import pytest

import tapeflow as tf

NAMES = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
         "uint8", "bool", "complex64", "complex128", "string"]


@pytest.mark.parametrize("name", NAMES)
def test_dtype_properties_match_tf(realtf, name):
    ours, theirs = getattr(tf, name), getattr(realtf, name)
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    for prop in ("name", "is_floating", "is_integer", "is_complex", "is_bool", "is_unsigned",
                 "as_datatype_enum"):
        assert getattr(ours, prop) == getattr(theirs, prop), prop
    assert ours.as_numpy_dtype == theirs.as_numpy_dtype
    assert ours.size == theirs.size if name != "string" else True
    if name in ("bool", "string", "complex64", "complex128"):
        with pytest.raises(TypeError):
            ours.min
    else:
        assert ours.min == theirs.min and ours.max == theirs.max


@pytest.mark.parametrize("value", ["float32", np.float64, np.dtype("int16"), float, int, bool,
                                   "double", "half", np.bytes_, complex, str, object])
def test_as_dtype(realtf, value):
    try:
        expected = realtf.as_dtype(value).name
    except TypeError:
        with pytest.raises(TypeError):
            tf.as_dtype(value)
    else:
        assert tf.as_dtype(value).name == expected


def test_as_dtype_rejects_junk():
    with pytest.raises(TypeError):
        tf.as_dtype("floaty")


def test_equality_and_hash():
    assert tf.float32 == "float32" and tf.float32 == np.float32 and tf.float32 != tf.float64
    assert tf.float32 != None  # noqa: E711
    assert len({tf.float32, tf.as_dtype("float32")}) == 1
    assert tf.dtypes.float32 is tf.float32
