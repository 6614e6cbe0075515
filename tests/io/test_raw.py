"""decode_raw, base64 and decode_compressed against real TensorFlow."""
import gzip
import zlib

import numpy as np
import pytest

import tapeflow as tf
from tests.io._compare import check

GRAD_CASES = []

CASES = {
    "int16": lambda m: m.io.decode_raw(m.constant([b"abcd", b"efgh"]), m.int16),
    "big_endian": lambda m: m.io.decode_raw(b"abcd", m.int16, little_endian=False),
    "float32": lambda m: m.io.decode_raw(np.float32([1.5, -2]).tobytes(), m.float32),
    "float64_2d": lambda m: m.io.decode_raw([[np.float64([1, 2]).tobytes()]], m.float64),
    "bool": lambda m: m.io.decode_raw(b"\0\2", m.bool),
    "complex64": lambda m: m.io.decode_raw(np.complex64([1 + 2j]).tobytes(), m.complex64),
    "uint8_nuls": lambda m: m.io.decode_raw(b"a\0\0", m.uint8),
    "empty_vector": lambda m: m.io.decode_raw(m.constant([], m.string), m.uint8),
    "empty_string": lambda m: m.io.decode_raw(b"", m.uint8),
    "ragged": lambda m: m.io.decode_raw(m.constant([b"abcd", b"ab"]), m.int16),
    "not_multiple": lambda m: m.io.decode_raw(b"abc", m.int16),
    "string_type": lambda m: m.io.decode_raw(b"ab", m.string),
    "not_strings": lambda m: m.io.decode_raw(1, m.uint8),
    "padded": lambda m: m.io.decode_raw(m.constant([b"ab", b"abcdef"]), m.int16,
                                        fixed_length=4),
    "padded_not_multiple": lambda m: m.io.decode_raw(b"abcde", m.int16, fixed_length=5),
    "padded_negative": lambda m: m.io.decode_raw(b"abcd", m.uint8, fixed_length=-1),
    "b64_encode": lambda m: m.io.encode_base64([b"hello?>", b"", b"\xff\xfe"]),
    "b64_encode_pad": lambda m: m.io.encode_base64(b"hello", pad=True),
    "b64_decode": lambda m: m.io.decode_base64(["aGVsbG8_Pg", "aGVsbG8=", "YQ", ""]),
    "b64_decode_bad_padding": lambda m: m.io.decode_base64("aGVsbG8=="),
    "b64_decode_plus": lambda m: m.io.decode_base64("aGVs+G8"),
    "zlib": lambda m: m.io.decode_compressed(zlib.compress(b"hello" * 5), "ZLIB"),
    "gzip": lambda m: m.io.decode_compressed([gzip.compress(b"a"), gzip.compress(b"")], "GZIP"),
    "none": lambda m: m.io.decode_compressed(b"plain"),
    "bad_data": lambda m: m.io.decode_compressed(b"xx", "ZLIB"),
    "bad_kind": lambda m: m.io.decode_compressed(b"xx", "FOO"),
}
# TF's texts for these are signature dumps (checked for class only)
_CLASS_ONLY = {"string_type"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_tensorflow(name, realtf):
    check(CASES[name], tf, realtf, text=name not in _CLASS_ONLY)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "int32", "int64", "uint16", "int8"])
def test_decode_raw_round_trips_every_width(dtype, realtf):
    values = np.arange(-3, 9).astype(tf.as_dtype(dtype).as_numpy_dtype)
    data = values.tobytes()
    check(lambda m: m.io.decode_raw([data, data], getattr(m, dtype)), tf, realtf)


CSV_CASES = {
    "types": lambda m: m.io.decode_csv(['1,2.5,a', '3,,"b,c"'], [0, 0.0, "x"]),
    "too_many": lambda m: m.io.decode_csv(["1,2.5,a"], [0, 0.0]),
    "bad_int": lambda m: m.io.decode_csv(["x,2.5"], [0, 0.0]),
    "bad_float": lambda m: m.io.decode_csv(["1,x"], [0, 0.0]),
    "required": lambda m: m.io.decode_csv(["1,"], [0, m.constant([], m.float32)]),
    "delimiter": lambda m: m.io.decode_csv(["1;2"], [0, 0], field_delim=";"),
    "na_value": lambda m: m.io.decode_csv(["1,NA"], [0, 7], na_value="NA"),
    "shape_2d": lambda m: m.io.decode_csv([["1,2"], ["3,4"]], [0, m.constant(0, m.int64)]),
    "select_cols": lambda m: m.io.decode_csv("1,2,3", [0, 0], select_cols=[0, 2]),
    "doubled_quote": lambda m: m.io.decode_csv(['"a""b",1'], ["", 0]),
    "no_quoting": lambda m: m.io.decode_csv(['"a""b",1'], ["", 0], use_quote_delim=False),
    "float64_column": lambda m: m.io.decode_csv(["1.5,2"], [0.0, m.constant(0.0, m.float64)]),
    "spaces_and_inf": lambda m: m.io.decode_csv(["1e400, 2"], [0.0, 0.0]),
    "int_overflow": lambda m: m.io.decode_csv(["9999999999,2"], [0, 0]),
}


@pytest.mark.parametrize("name", sorted(CSV_CASES))
def test_decode_csv_matches_tensorflow(name, realtf):
    check(CSV_CASES[name], tf, realtf)
