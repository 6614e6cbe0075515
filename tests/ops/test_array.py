"""Array manipulation ops (reshape ... broadcast_to, shape queries, pad) against real TensorFlow,
and their gradient cases."""
import numpy as np
import pytest

import tapeflow as tf
from tests.gradcheck import GradCase
from tests.parity import assert_same, assert_same_outcome

R = np.random.default_rng(2)
GRAD_CASES = [
    GradCase("Reshape", lambda x: tf.reshape(x, [3, -1]), [R.random((2, 3))]),
    GradCase("Transpose", lambda x: tf.transpose(x, [2, 0, 1]), [R.random((2, 3, 2))]),
    GradCase("ConjugateTranspose", lambda x: tf.math.imag(tf.transpose(
        tf.cast(x, tf.complex128) * tf.constant(1 + 2j), conjugate=True)), [R.random((2, 3))]),
    GradCase("ConcatV2", lambda a, b: tf.concat([a, b, a], 1),
             [R.random((2, 1)), R.random((2, 3))]),
    GradCase("Pack", lambda a, b: tf.stack([a, b], axis=1), [R.random((2, 3)), R.random((2, 3))]),
    GradCase("Unpack", lambda x: tf.unstack(x, axis=1), [R.random((2, 3))]),
    GradCase("Split", lambda x: tf.split(x, 2, axis=1), [R.random((2, 4))]),
    GradCase("SplitV", lambda x: tf.split(x, [1, -1], axis=0), [R.random((3, 2))]),
    GradCase("Squeeze", lambda x: tf.squeeze(x, [0]), [R.random((1, 3, 1))]),
    GradCase("ExpandDims", lambda x: tf.expand_dims(x, -1), [R.random((2, 3))]),
    GradCase("Tile", lambda x: tf.tile(x, [2, 3]), [R.random((2, 2))]),
    GradCase("ReverseV2", lambda x: tf.reverse(x, [0, 1]), [R.random((2, 3))]),
    GradCase("BroadcastTo", lambda x: tf.broadcast_to(x, [2, 3, 3]), [R.random((3, 1))]),
    GradCase("Identity", tf.identity, [R.random((2, 2))]),
    GradCase("Pad", lambda x: tf.pad(x, [[1, 0], [2, 1]]), [R.random((2, 3))]),
    GradCase("PadV2", lambda x: tf.pad(x, [[1, 1], [0, 1]], constant_values=2.0),
             [R.random((2, 3))]),
    GradCase("MirrorPad", lambda x: tf.pad(x, [[1, 2], [2, 1]], mode="REFLECT"),
             [R.random((3, 3))]),
    GradCase("MirrorPadGrad", lambda x: _second_mirror(x), [R.random((3, 4))]),
]


def _second_mirror(x):
    """A MirrorPadGrad node recorded by an outer tape: the gradient of a symmetric pad."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.pad(x, [[1, 1], [0, 2]], mode="SYMMETRIC")
        s = y * y
    return tape.gradient(s, x)


DTYPES = ["float32", "float64", "float16", "bfloat16", "int8", "int32", "int64", "uint8", "uint32",
          "bool", "complex64"]


def _value(dtype, shape):
    a = np.arange(int(np.prod(shape))).reshape(shape)
    if dtype == "bool":
        return a % 2 == 0
    if dtype == "complex64":
        return (a + 1j * a[::-1].reshape(shape)).astype(dtype)
    return a.astype(dtype)


def _str_value(shape):
    return np.array([f"s{i}".encode() for i in range(int(np.prod(shape)))],
                    dtype=object).reshape(shape)


# -- values over dtypes: the same calls under tapeflow and TensorFlow ----------------------------

MANIPULATIONS = {
    "reshape": lambda m, x: m.reshape(x, [3, -1]),
    "reshape_tensor_shape": lambda m, x: m.reshape(x, m.constant([4, 2, 3], m.int64)),
    "transpose": lambda m, x: m.transpose(x),
    "transpose_perm": lambda m, x: m.transpose(x, [1, 0, 2]),
    "transpose_conj": lambda m, x: m.transpose(x, [0, 2, 1], conjugate=True),
    "concat": lambda m, x: m.concat([x, x], axis=-1),
    "concat0": lambda m, x: m.concat([x, x[:1]], 0),
    "stack": lambda m, x: m.stack([x, x], axis=1),
    "stack_neg": lambda m, x: m.stack([x, x, x], axis=-1),
    "unstack": lambda m, x: m.unstack(x, axis=1),
    "split": lambda m, x: m.split(x, 2, axis=2),
    "split_sizes": lambda m, x: m.split(x, [1, -1, 1], axis=2),
    "squeeze": lambda m, x: m.squeeze(m.expand_dims(x, 1)),
    "squeeze_axis": lambda m, x: m.squeeze(m.expand_dims(x, 0), [0]),
    "expand_dims": lambda m, x: m.expand_dims(x, -2),
    "tile": lambda m, x: m.tile(x, [1, 2, 3]),
    "reverse": lambda m, x: m.reverse(x, [0, -1]),
    "broadcast_to": lambda m, x: m.broadcast_to(x[:1], [3, 2, 3, 4]),
    "pad": lambda m, x: m.pad(x, [[1, 0], [0, 2], [1, 1]]),
    "pad_reflect": lambda m, x: m.pad(x, [[1, 1], [2, 0], [3, 1]], mode="REFLECT"),
    "pad_symmetric": lambda m, x: m.pad(x, [[2, 1], [0, 3], [1, 4]], mode="symmetric"),
    "shape": lambda m, x: m.shape(x),
    "shape_int64": lambda m, x: m.shape(x, out_type=m.int64),
    "rank": lambda m, x: m.rank(x),
    "size": lambda m, x: m.size(x),
    "size_int64": lambda m, x: m.size(x, out_type=m.int64),
    "shape_n": lambda m, x: m.shape_n([x, x[0]]),
    "identity": lambda m, x: m.identity(x),
    "matrix_transpose": lambda m, x: m.linalg.matrix_transpose(x),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(MANIPULATIONS))
def test_manipulation_matches_tf(realtf, name, dtype):
    a = _value(dtype, (2, 3, 4))
    fn = MANIPULATIONS[name]
    assert_same(fn(tf, tf.constant(a)), fn(realtf, realtf.constant(a)))


@pytest.mark.parametrize("name", sorted(set(MANIPULATIONS) - {"transpose_conj"}))
def test_manipulation_of_strings_matches_tf(realtf, name):
    a = _str_value((2, 3, 4))
    fn = MANIPULATIONS[name]
    assert_same(fn(tf, tf.constant(a)), fn(realtf, realtf.constant(a)))


@pytest.mark.parametrize("dtype", ["float32", "complex64", "int32"])
def test_adjoint_matches_tf(realtf, dtype):
    a = _value(dtype, (2, 3, 4))
    assert_same(tf.linalg.adjoint(a), realtf.linalg.adjoint(a))
    assert_same_outcome(lambda: tf.linalg.matrix_transpose(a[0, 0]),
                        lambda: realtf.linalg.matrix_transpose(a[0, 0]))


@pytest.mark.parametrize("shape", [(), (0,), (5,), (1, 1), (0, 3), (2, 1, 3)])
def test_shape_queries_match_tf(realtf, shape):
    a = np.ones(shape, np.float32)
    for name in ("shape", "rank", "size"):
        assert_same(getattr(tf, name)(a), getattr(realtf, name)(a))
    assert_same(tf.reshape(a, [-1]), realtf.reshape(a, [-1]))
    assert_same(tf.transpose(a), realtf.transpose(a))


# -- argument handling and errors ----------------------------------------------------------------

X = np.arange(6, dtype=np.int32).reshape(2, 3)
Z = np.zeros((1, 2, 1, 3), np.float32)
CASES = [
    lambda m: m.reshape(X, [4]),
    lambda m: m.reshape(X, [-1, 4]),
    lambda m: m.reshape(X, [-1, -1]),
    lambda m: m.reshape(X, [-2, 3]),
    lambda m: m.reshape(X, [[2, 3]]),
    lambda m: m.reshape(X, [2.0, 3]),
    lambda m: m.reshape(X, ()),
    lambda m: m.reshape(X, [-1, 0]),
    lambda m: m.reshape(np.zeros(0), [-1, 0, 2]),
    lambda m: m.reshape(X, [m.constant(2), -1]),
    lambda m: m.reshape(X, [np.int64(3), -1]),
    lambda m: m.reshape(X, m.TensorShape([3, 2])),
    lambda m: m.reshape(X, 6),
    lambda m: m.reshape(5, []),
    lambda m: m.transpose(X, [0, 1, 2]),
    lambda m: m.transpose(X, [0, 0]),
    lambda m: m.transpose(X, [0, 2]),
    lambda m: m.transpose(X, [-1, 0]),
    lambda m: m.transpose(X, m.constant([1, 0])),
    lambda m: m.transpose(X, [1.0, 0]),
    lambda m: m.concat([X, np.zeros((2, 4), np.int32)], 0),
    lambda m: m.concat([X, np.zeros((2, 4), np.int32)], 1),
    lambda m: m.concat([X, np.zeros((2, 3), np.float32)], 0),
    lambda m: m.concat([X, X], 2),
    lambda m: m.concat([X, X], -3),
    lambda m: m.concat([X], 0),
    lambda m: m.concat([X, np.zeros(3, np.int32)], 0),
    lambda m: m.concat([m.constant(1), m.constant(2)], 0),
    lambda m: m.concat([[1, 2], [3]], 0),
    lambda m: m.concat([[1, 2], [3.0]], 0),
    lambda m: m.concat([np.zeros(2), [3.0]], 0),
    lambda m: m.concat([[3.0], np.zeros(2)], 0),
    lambda m: m.concat([m.constant([1.0]), [1]], 0),
    lambda m: m.concat([X, X], m.constant(0)),
    lambda m: m.concat([X, X], 0.0),
    lambda m: m.stack([np.zeros(2), np.zeros(3)]),
    lambda m: m.stack([np.zeros(2), np.zeros(2)], axis=2),
    lambda m: m.stack([np.zeros(2), np.zeros(2)], axis=-3),
    lambda m: m.stack([m.constant([1.0, 2.0]), m.constant([1, 2])]),
    lambda m: m.stack([1, 2.0]),
    lambda m: m.stack([[1, 2], [3.0, 4]]),
    lambda m: m.stack([m.constant([0.0, 1.0]), [1, 2]], axis=1),
    lambda m: m.stack([]),
    lambda m: m.unstack(X, num=3),
    lambda m: m.unstack(X, axis=2),
    lambda m: m.unstack(m.constant(1)),
    lambda m: m.unstack(np.zeros((0, 2))),
    lambda m: m.split(np.zeros((6, 4)), 4),
    lambda m: m.split(np.zeros((6, 4)), [1, 2, 2]),
    lambda m: m.split(np.zeros((6, 4)), [1, -1, -1]),
    lambda m: m.split(np.zeros((6, 4)), 2, axis=2),
    lambda m: m.split(np.zeros((6, 4)), 0),
    lambda m: m.split(np.zeros((6, 4)), [7, -1]),
    lambda m: m.split(np.zeros((6, 4)), m.constant([2, 4])),
    lambda m: m.split(np.zeros((6, 4)), [6]),
    lambda m: m.split(np.zeros((6, 4)), [0, 6]),
    lambda m: m.split(np.zeros((6, 4)), 1.0),
    lambda m: m.split(np.zeros((6, 4)), []),
    lambda m: m.split(m.constant(3.0), 1),
    lambda m: m.squeeze(Z, 1),
    lambda m: m.squeeze(Z, 4),
    lambda m: m.squeeze(Z, [0, -2]),
    lambda m: m.squeeze(Z, [0, 0]),
    lambda m: m.squeeze(Z, axis=(0,)),
    lambda m: m.expand_dims(X, 3),
    lambda m: m.expand_dims(X, -4),
    lambda m: m.expand_dims(X, [1]),
    lambda m: m.expand_dims(X, [1, 2]),
    lambda m: m.expand_dims(X, 1.0),
    lambda m: m.expand_dims(X, m.constant(2)),
    lambda m: m.tile(X, [2]),
    lambda m: m.tile(X, [-1, 1]),
    lambda m: m.tile(X, [0, 1]),
    lambda m: m.tile(X, [1.0, 2]),
    lambda m: m.tile(X, [[1, 2]]),
    lambda m: m.tile(X, m.constant([1, 2], m.int64)),
    lambda m: m.pad(X, [[1, 0], [0, 2]], constant_values=9),
    lambda m: m.pad(X, [[2, 0], [0, 2]], mode="REFLECT"),
    lambda m: m.pad(X, [[3, 0], [0, 2]], mode="SYMMETRIC"),
    lambda m: m.pad(X, [[2, 0], [0, 2]], mode="SYMMETRIC"),
    lambda m: m.pad(X, [[1, 0]]),
    lambda m: m.pad(X, [[1, 0], [0, -1]]),
    lambda m: m.pad(X, [[1, 0], [0, 1]], mode="foo"),
    lambda m: m.pad(X, [[1, 0], [0, 1]], constant_values=1.5),
    lambda m: m.pad(X, [[1, 0], [0, 2]], constant_values=m.constant(3)),
    lambda m: m.pad(X, [[1, 0], [0, 2]], constant_values=m.constant(3.0)),
    lambda m: m.pad(X, [1, 0]),
    lambda m: m.pad(np.array([True]), [[1, 0]]),
    lambda m: m.pad(m.constant(["a"]), [[1, 1]], constant_values="z"),
    lambda m: m.reverse(X, [2]),
    lambda m: m.reverse(X, [1, 1]),
    lambda m: m.reverse(X, 1),
    lambda m: m.reverse(X, []),
    lambda m: m.reverse(X, [1.0]),
    lambda m: m.broadcast_to(X, [3, 3]),
    lambda m: m.broadcast_to(X, [3]),
    lambda m: m.broadcast_to(X, [2, -1]),
    lambda m: m.broadcast_to(1.0, [2]),
    lambda m: m.broadcast_to(np.zeros((0, 3)), [2, 0, 3]),
    lambda m: m.shape(X, out_type="float32"),
    lambda m: m.shape([[1, 2]]),
    lambda m: m.size(X, out_type=m.float32),
    lambda m: m.shape_n([X, np.zeros(3, np.float32)]),
    lambda m: m.identity([1.0, 2.0]),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_arguments_and_errors_match_tf(realtf, case):
    assert_same_outcome(lambda: CASES[case](tf), lambda: CASES[case](realtf))


def _message(e):
    """An error's text without TF's device prefix and op-name suffix."""
    text = str(e)
    if text.startswith("{{function_node"):
        text = text[text.index("}}") + 3:]
    return text.split(" [Op:")[0]


MESSAGES = [
    lambda m: m.reshape(X, [4]),
    lambda m: m.reshape(X, [-1, 4]),
    lambda m: m.reshape(X, [-1, -1]),
    lambda m: m.transpose(X, [0, 0]),
    lambda m: m.concat([X, np.zeros((2, 4), np.int32)], 0),
    lambda m: m.concat([X, X], 2),
    lambda m: m.stack([np.zeros(2), np.zeros(3)]),
    lambda m: m.split(np.zeros((6, 4)), 4),
    lambda m: m.split(np.zeros((6, 4)), [1, 2, 2]),
    lambda m: m.squeeze(Z, 1),
    lambda m: m.expand_dims(X, 3),
    lambda m: m.tile(X, [2]),
    lambda m: m.pad(X, [[2, 0], [0, 2]], mode="REFLECT"),
    lambda m: m.pad(X, [[1, 0]]),
    lambda m: m.reverse(X, [1, 1]),
    lambda m: m.broadcast_to(X, [3, 3]),
    lambda m: m.unstack(X, num=3),
]


@pytest.mark.parametrize("case", range(len(MESSAGES)))
def test_error_text_matches_tf(realtf, case):
    with pytest.raises(tf.errors.InvalidArgumentError) as ours:
        MESSAGES[case](tf)
    with pytest.raises(realtf.errors.InvalidArgumentError) as theirs:
        MESSAGES[case](realtf)
    assert _message(ours.value) == _message(theirs.value)


def test_reshape_error_text_is_tfs():
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Input to reshape is a tensor with 6 values, but the requested "
                             r"shape has 4 \[Op:Reshape\]"):
        tf.reshape(tf.constant(X), [4])


# -- gradients beyond the registry walk -----------------------------------------------------------

def test_second_derivative_through_tile_and_transpose():
    x = tf.constant([[1.0, 2.0]])
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.transpose(tf.tile(x, [2, 1])) * tf.transpose(tf.tile(x, [2, 1]))
            y = y * tf.transpose(tf.tile(x, [2, 1]))
        g = inner.gradient(y, x)
    gg = outer.gradient(g, x)
    np.testing.assert_allclose(g.numpy(), 6 * np.array([[1.0, 4.0]]))
    np.testing.assert_allclose(gg.numpy(), 12 * np.array([[1.0, 2.0]]))


def test_unstack_gradient_fills_unused_outputs(realtf):
    a = np.arange(6.0).reshape(2, 3)

    def run(m):
        x = m.constant(a)
        with m.GradientTape() as tape:
            tape.watch(x)
            parts = m.unstack(x, axis=1)
            y = parts[0] * parts[2]
        return tape.gradient(y, x)
    assert_same(run(tf), run(realtf))


LISTS_OF_TENSORS = {
    "reduce_sum of scalars": lambda tf, a, b: tf.reduce_sum([a * 2.0, b]),
    "nested with numbers": lambda tf, a, b: tf.reduce_sum(tf.convert_to_tensor(
        [[a, 1.0], [b, a * b]])),
    "variables": lambda tf, a, b: tf.reduce_prod(tf.convert_to_tensor([a, b, a])),
}


@pytest.mark.parametrize("case", list(LISTS_OF_TENSORS))
def test_lists_holding_tensors_pack_for_tapes_and_traces(realtf, case):
    """A list of tensors converts as TF's Pack: a tape differentiates through it and a
    tf.function traces it (a NumPy detour lost both)."""
    fn = LISTS_OF_TENSORS[case]
    results = []
    for lib in (tf, realtf):
        a, b = lib.Variable(1.5), lib.Variable(-0.5)
        with lib.GradientTape() as tape:
            value = fn(lib, a, b)
        grads = tape.gradient(value, [a, b])
        traced = lib.function(lambda: fn(lib, a, b))()
        results.append([float(value), float(traced)] + [float(g) for g in grads])
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)
