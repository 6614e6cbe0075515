"""String ops against real TensorFlow: values, shapes, dtypes, error classes and texts, print."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.ops import strings as string_ops
from tests.parity import assert_same

GRAD_CASES = []  # string ops have no gradient


def _outcome(fn):
    try:
        return "ok", fn()
    except Exception as e:  # noqa: BLE001 - compared with what TF raises
        # TF appends " name: " to some eager errors depending on its call path; not semantics.
        return "error", type(e).__name__, str(e).removesuffix(" name: ")


def check(fn, realtf, text=True):
    """fn(module) under both: same values/dtype/shape, or same error class (and message)."""
    ours, theirs = _outcome(lambda: fn(tf)), _outcome(lambda: fn(realtf))
    assert ours[0] == theirs[0], f"tapeflow: {ours}, TensorFlow: {theirs}"
    if ours[0] == "error":
        assert ours[1] == theirs[1], f"tapeflow raised {ours[1:]}, TensorFlow {theirs[1:]}"
        if text:
            assert ours[2] == theirs[2]
    else:
        assert_same(ours[1], theirs[1])


CASES = {
    "join": lambda m: m.strings.join(["a", "b"]),
    "join_sep_broadcast": lambda m: m.strings.join([["a", "b"], "c"], separator="-"),
    "join_shapes": lambda m: m.strings.join([["a", "b"], ["c", "d", "e"]]),
    "join_empty": lambda m: m.strings.join([]),
    "join_not_list": lambda m: m.strings.join("ab"),
    "join_int": lambda m: m.strings.join(["a", 5]),
    "join_tensor": lambda m: m.strings.join(["a", m.constant(["b", "c"])]),
    "length": lambda m: m.strings.length(["héllo", "ab"]),
    "length_utf8": lambda m: m.strings.length(["héllo", "ab", ""], unit="UTF8_CHAR"),
    "length_bad_unit": lambda m: m.strings.length(["a"], unit="X"),
    "length_int": lambda m: m.strings.length(5),
    "length_int_tensor": lambda m: m.strings.length(m.constant(1)),
    "length_empty": lambda m: m.strings.length([]),
    "length_2d": lambda m: m.strings.length([["a", "bb"], ["ccc", ""]]),
    "upper": lambda m: m.strings.upper(["héllo", "ab"]),
    "lower": lambda m: m.strings.lower(["HÉllo", "AB"]),
    "lower_utf8": lambda m: m.strings.lower(["HÉllo", "AB"], encoding="utf-8"),
    "upper_utf8": lambda m: m.strings.upper("héllo", encoding="utf-8"),
    "upper_int": lambda m: m.strings.upper(m.constant(1)),
    "strip": lambda m: m.strings.strip(["  a b \n", "\tc", ""]),
    "split_ws": lambda m: m.strings.split("  a b  c "),
    "split_sep": lambda m: m.strings.split("a,b,,c", sep=","),
    "split_max": lambda m: m.strings.split("a b c", maxsplit=1),
    "split_empty": lambda m: m.strings.split(""),
    "split_empty_sep": lambda m: m.strings.split("", sep=","),
    "split_sep_empty": lambda m: m.strings.split("a,b", sep=""),
    "split_space": lambda m: m.strings.split("a  b", sep=" "),
    "substr": lambda m: m.strings.substr("hello", 1, 3),
    "substr_vec": lambda m: m.strings.substr(["hello", "ab"], 1, 3),
    "substr_pos_vec": lambda m: m.strings.substr(["hello", "ab"], [1, 0], [3, 1]),
    "substr_neg": lambda m: m.strings.substr("hello", -3, 2),
    "substr_long": lambda m: m.strings.substr("hello", 1, 10),
    "substr_end": lambda m: m.strings.substr("hello", 5, 1),
    "substr_neg_len": lambda m: m.strings.substr("hello", 1, -1),
    "substr_out": lambda m: m.strings.substr("hello", 7, 3),
    "substr_out_neg": lambda m: m.strings.substr("hello", -6, 1),
    "substr_out_vec": lambda m: m.strings.substr(["hello", "hi"], 3, 1),
    "substr_broadcast": lambda m: m.strings.substr(["hello", "world"], [1], [1]),
    "substr_bad_shapes": lambda m: m.strings.substr(["hello", "world"], [1, 2, 3], [1, 1, 1]),
    "substr_utf8": lambda m: m.strings.substr("héllo", 1, 2, unit="UTF8_CHAR"),
    "substr_bad_unit": lambda m: m.strings.substr("hello", 1, 2, unit="X"),
    "regex_replace": lambda m: m.strings.regex_replace(["hello world", "aaa"], "o|a", "0"),
    "regex_replace_once": lambda m: m.strings.regex_replace(["hello world", "aaa"], "o|a", "0",
                                                            replace_global=False),
    "regex_groups": lambda m: m.strings.regex_replace(["hello world"], r"(\w+) (\w+)", r"\2 \1"),
    "regex_whole": lambda m: m.strings.regex_replace("abc", "b", r"\0\0"),
    "regex_utf8_dot": lambda m: m.strings.regex_replace("héllo", ".", "-"),
    "regex_ascii_w": lambda m: m.strings.regex_replace("héllo", r"\w", "-"),
    "regex_tensor_pattern": lambda m: m.strings.regex_replace(["abc"], m.constant("b"), "z"),
    "full_match": lambda m: m.strings.regex_full_match(["hello", "hell"], "hel+o"),
    "full_match_utf8": lambda m: m.strings.regex_full_match("héllo", "h.llo"),
    "full_match_empty": lambda m: m.strings.regex_full_match("abc", ""),
    "to_number": lambda m: m.strings.to_number(["1.5", "2"]),
    "to_number_int32": lambda m: m.strings.to_number(["1", " 12 ", "+3"], m.int32),
    "to_number_int64": lambda m: m.strings.to_number([["1"], ["-2"]], m.int64),
    "to_number_float64": lambda m: m.strings.to_number(["1e3", " 2", "inf", "-INF", ".5", "1."],
                                                       m.float64),
    "to_number_overflow_f32": lambda m: m.strings.to_number("3.4e39"),
    "to_number_bad_int": lambda m: m.strings.to_number(["1.5"], m.int32),
    "to_number_bad": lambda m: m.strings.to_number(["abc"]),
    "to_number_underscore": lambda m: m.strings.to_number("1_000"),
    "to_number_hex": lambda m: m.strings.to_number("0x10", m.int32),
    "to_number_int32_overflow": lambda m: m.strings.to_number("99999999999", m.int32),
    "to_number_empty": lambda m: m.strings.to_number(""),
    "to_number_half": lambda m: m.strings.to_number("1", m.float16),
    "to_number_python_int": lambda m: m.strings.to_number(1),
    "as_string_int": lambda m: m.strings.as_string([1, 2]),
    "as_string_float": lambda m: m.strings.as_string([1.5, 2.0, 1.5e10, 1e-7]),
    "as_string_precision": lambda m: m.strings.as_string([1.5, 2.0], precision=2),
    "as_string_bool": lambda m: m.strings.as_string([True, False]),
    "as_string_fill": lambda m: m.strings.as_string([1, 2], width=4, fill="0"),
    "as_string_width": lambda m: m.strings.as_string(m.constant([1, -2], m.int64), width=5),
    "as_string_left": lambda m: m.strings.as_string(m.constant([1, -2]), width=5, fill="-"),
    "as_string_bad_fill": lambda m: m.strings.as_string([1], width=5, fill="x"),
    "as_string_long_fill": lambda m: m.strings.as_string([1], width=5, fill="ab"),
    "as_string_scientific": lambda m: m.strings.as_string([1.5], scientific=True),
    "as_string_shortest": lambda m: m.strings.as_string([1.23456789e-5, 123456789.0],
                                                        shortest=True),
    "as_string_both": lambda m: m.strings.as_string([1.5], shortest=True, scientific=True),
    "as_string_int_precision": lambda m: m.strings.as_string([1], precision=2),
    "as_string_float64": lambda m: m.strings.as_string(m.constant([1.5], m.float64)),
    "as_string_half": lambda m: m.strings.as_string(m.constant([1.5], m.float16)),
    "as_string_complex": lambda m: m.strings.as_string(m.constant([1. + 2.j])),
    "as_string_strings": lambda m: m.strings.as_string(m.constant(["ab"]), width=4),
    "as_string_nan": lambda m: m.strings.as_string([float("nan"), float("inf")]),
    "as_string_uint8": lambda m: m.strings.as_string(m.constant([3], m.uint8)),
    "reduce_join": lambda m: m.strings.reduce_join(["a", "b", "c"]),
    "reduce_join_axis": lambda m: m.strings.reduce_join([["a", "b"], ["c", "d"]], axis=1,
                                                        separator=","),
    "reduce_join_keepdims": lambda m: m.strings.reduce_join([["a", "b"], ["c", "d"]], axis=0,
                                                            keepdims=True),
    "reduce_join_neg": lambda m: m.strings.reduce_join([["a", "b"], ["c", "d"]], axis=-1),
    "reduce_join_order": lambda m: m.strings.reduce_join([["a", "b"], ["c", "d"]], axis=[0, 1]),
    "reduce_join_order_3d": lambda m: m.strings.reduce_join(
        np.array([str(i) for i in range(8)]).reshape(2, 2, 2), axis=[2, 0], separator=","),
    "reduce_join_all_keep": lambda m: m.strings.reduce_join([["a", "b"], ["c", "d"]],
                                                            keepdims=True),
    "reduce_join_bad_axis": lambda m: m.strings.reduce_join([["a", "b"]], axis=2),
    "reduce_join_floats": lambda m: m.strings.reduce_join([], axis=0),
    "reduce_join_scalar": lambda m: m.strings.reduce_join("a"),
    "unicode_decode": lambda m: m.strings.unicode_decode("héllo", "UTF-8"),
    "unicode_decode_bad_byte": lambda m: m.strings.unicode_decode(b"\xff", "UTF-8"),
    "unicode_decode_ignore": lambda m: m.strings.unicode_decode(b"a\xffb", "UTF-8",
                                                                errors="ignore"),
    "unicode_decode_replacement": lambda m: m.strings.unicode_decode(b"a\xffb", "UTF-8",
                                                                     replacement_char=63),
    "unicode_decode_utf16": lambda m: m.strings.unicode_decode(b"\x00h", "UTF-16-BE"),
    "unicode_decode_bad_encoding": lambda m: m.strings.unicode_decode(m.constant("a"), "FOO"),
    "unicode_split": lambda m: m.strings.unicode_split("héllo", "UTF-8"),
    "unicode_split_empty": lambda m: m.strings.unicode_split("", "UTF-8"),
    "bytes_split": lambda m: m.strings.bytes_split("hé"),
    "unicode_encode": lambda m: m.strings.unicode_encode([104, 233], "UTF-8"),
    "unicode_encode_2d": lambda m: m.strings.unicode_encode([[104, 233], [97, 98]], "UTF-8"),
    "unicode_encode_invalid": lambda m: m.strings.unicode_encode([104, -1, 0x110000], "UTF-8"),
    "unicode_encode_utf16": lambda m: m.strings.unicode_encode([104], "UTF-16-BE"),
    "unicode_encode_empty_rows": lambda m: m.strings.unicode_encode(
        m.constant(np.zeros((2, 0), "int32")), "UTF-8"),
    "unicode_encode_scalar": lambda m: m.strings.unicode_encode(5, "UTF-8"),
    "tf_as_string": lambda m: m.as_string([1, 2]),
    "hash_fast": lambda m: m.strings.to_hash_bucket_fast(
        ["", "a", "Hello", "TensorFlow", "2.x", "x" * 17, "y" * 40, "z" * 200], 1000003),
    "hash_fast_2d": lambda m: m.strings.to_hash_bucket_fast([["a", "b"], ["c", "d"]], 3),
    "hash_fast_zero": lambda m: m.strings.to_hash_bucket_fast(["a"], 0),
    "hash_strong": lambda m: m.strings.to_hash_bucket_strong(["", "a", "x" * 100], 1000, [1, 2]),
    "hash_strong_negative_key": lambda m: m.strings.to_hash_bucket_strong(["a"], 3, [-1, 2]),
    "hash_strong_zero": lambda m: m.strings.to_hash_bucket_strong(["a"], 0, [1, 2]),
    "hash_strong_bad_key": lambda m: m.strings.to_hash_bucket_strong(["a"], 3, [1, 2, 3]),
    "add": lambda m: m.constant("a") + "b",
    "add_vec": lambda m: m.constant(["a", "b"]) + m.constant(["c"]),
    "radd": lambda m: "x" + m.constant(["a", "b"]),
    "add_broadcast": lambda m: m.constant([["a"], ["b"]]) + m.constant(["c", "d"]),
    "add_shapes": lambda m: m.constant(["a", "b"]) + m.constant(["c", "d", "e"]),
    "tf_add": lambda m: m.add(m.constant("a"), "b"),
}

# Texts that differ by design: RE2's parser messages are not Python's.
NO_TEXT = {"join_shapes"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_tf(realtf, name):
    check(CASES[name], realtf, text=name not in NO_TEXT)


def test_bad_regex_is_invalid_argument(realtf):
    with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid pattern: \\("):
        tf.strings.regex_full_match(["hello"], "(")
    with pytest.raises(realtf.errors.InvalidArgumentError, match="Invalid pattern: \\("):
        realtf.strings.regex_full_match(["hello"], "(")


FORMATS = {
    "scalars": lambda m: m.strings.format("x={} y={}", [1, m.constant([1.5, 2.0])]),
    "string": lambda m: m.strings.format("x={}", m.constant("s")),
    "strings": lambda m: m.strings.format("x={}", m.constant(["s", 't"\n'])),
    "python": lambda m: m.strings.format("{} and {}", ["a", 3]),
    "summarized": lambda m: m.strings.format("{}", m.constant(np.arange(10, dtype="int32"))),
    "3d": lambda m: m.strings.format("{}", m.constant(np.arange(24, dtype="int32").reshape(2, 3, 4))),
    "2d_summarized": lambda m: m.strings.format("{}", m.constant(
        np.arange(100, dtype="int32").reshape(10, 10))),
    "floats": lambda m: m.strings.format("{}", m.constant([1 / 3, 1e-7, 123456789.0, 2.5e10])),
    "doubles": lambda m: m.strings.format("{}", m.constant([1 / 3, 0.1, 2.0], m.float64)),
    "bools": lambda m: m.strings.format("{}", m.constant([True, False])),
    "all": lambda m: m.strings.format("{}", m.constant(np.arange(10, dtype="int32")),
                                      summarize=-1),
    "double_scalar": lambda m: m.strings.format("{}", m.constant(1.0, m.float64)),
    "count": lambda m: m.strings.format("{} {}", [1]),
    "placeholder": lambda m: m.strings.format("{x}", [1], placeholder="{x}"),
    "empty": lambda m: m.strings.format("{}", m.constant(np.zeros([0], "float32"))),
    "empty_2d": lambda m: m.strings.format("{}", m.constant(np.zeros([1, 0], "float32"))),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_format_matches_tf(realtf, name):
    check(FORMATS[name], realtf)


EQUALITY = [
    (["a", "b"], "a"),
    (["a", "b"], ["a", "c"]),
    ([["a"], ["b"]], ["a", "b"]),
    ("x", "x"),
    (["a", "b"], ["a", "c", "d"]),
]


@pytest.mark.parametrize("x,y", EQUALITY)
def test_string_equal_matches_tf_equal(realtf, x, y):
    check(lambda m: (string_ops.string_equal if m is tf else m.equal)(m.constant(x), y), realtf)
    check(lambda m: (string_ops.string_not_equal if m is tf else m.not_equal)(m.constant(x), y),
          realtf)


def test_equality_operator_shapes_mismatch_gives_false(realtf):
    ours = string_ops.string_equal(tf.constant(["a", "b"]), ["a", "c", "d"],
                                   incompatible_shape_error=False)
    assert_same(ours, realtf.constant(["a", "b"]) == realtf.constant(["a", "c", "d"]))
    ours = string_ops.string_not_equal(tf.constant(["a", "b"]), ["a", "c", "d"],
                                       incompatible_shape_error=False)
    assert_same(ours, realtf.constant(["a", "b"]) != realtf.constant(["a", "c", "d"]))


def test_string_equal_rejects_other_dtypes(realtf):
    with pytest.raises(tf.errors.InvalidArgumentError) as ours:
        string_ops.string_equal(tf.constant(["a"]), tf.constant(1))
    with pytest.raises(realtf.errors.InvalidArgumentError) as theirs:
        realtf.equal(realtf.constant(["a"]), realtf.constant(1))
    assert str(ours.value) == str(theirs.value)


def test_hashes_are_bit_exact_with_tf(realtf):
    """FarmHash Fingerprint64 and SipHash over every length branch (0..16, 17..32, 33..64,
    the 64-byte loop) and random bytes."""
    from tapeflow.ops.string_hash import fingerprint64, siphash24
    rng = np.random.default_rng(0)
    strings = [rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in range(0, 140)]
    big = 2**62
    fast = realtf.strings.to_hash_bucket_fast(strings, big).numpy()
    strong = realtf.strings.to_hash_bucket_strong(strings, big, [123, 456]).numpy()
    assert [fingerprint64(s) % big for s in strings] == fast.tolist()
    assert [siphash24(123, 456, s) % big for s in strings] == strong.tolist()


@pytest.mark.parametrize("call", [
    lambda: tf.strings.split([["a b"], ["c"]]),
    lambda: tf.strings.unicode_decode([["ab"]], "UTF-8"),
    lambda: tf.strings.unicode_split([["ab"]], "UTF-8"),
    lambda: tf.strings.bytes_split([["ab"]]),
])
def test_results_of_ragged_rank_two_are_not_supported(call):
    with pytest.raises(NotImplementedError, match="RaggedTensor"):
        call()


PRINTED = [["a", "bc"], "Tennis", [["a", "b"], ["c", "d"]], ["héllo"], [b"\x00\xff"], []]


@pytest.mark.parametrize("value", PRINTED, ids=range(len(PRINTED)))
def test_print_and_repr_match_tf(realtf, value):
    ours, theirs = tf.constant(value, tf.string), realtf.constant(value, realtf.string)
    assert str(ours) == str(theirs)
    assert repr(ours) == repr(theirs)


def test_string_tensor_rank_shape_device(realtf):
    x = tf.constant(["a", "b", "c"])
    assert x.dtype == tf.string and x.shape == (3,) and x.ndim == 1
    assert x.device == realtf.constant(["a"]).device


def test_numeric_results_are_cpu_tensors():
    n = tf.strings.length(["ab", "c"])
    assert n.dtype == tf.int32 and n._t.device.type == "cpu"
    assert tf.strings.to_number(["1"]).dtype == tf.float32


def test_strings_are_not_differentiable():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        s = tf.strings.as_string(x)
    assert tape.gradient(s, x) is None
