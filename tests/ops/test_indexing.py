"""`tensor[key]`, sliced variable assignment (eager and traced), slice and strided_slice
against real TensorFlow, and their gradient cases."""
import numpy as np
import pytest

import tapeflow as tf
from tests.gradcheck import GradCase
from tests.parity import assert_same, assert_same_outcome

R = np.random.default_rng(3)


def _inner_gradient(fn):
    """A function whose output is d(sum(fn(x)**2))/dx, so an outer tape records the gradient
    ops of `fn` (the cases for ops that only appear inside gradients)."""
    def run(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
            s = y * y
        return tape.gradient(s, x)
    return run


def _update(x, u):
    from tapeflow.ops.indexing import strided_slice_update
    return strided_slice_update(x, (slice(None, None, -2), None, 1), u)


GRAD_CASES = [
    GradCase("TensorStridedSliceUpdate", _update, [R.random((3, 2)), R.random((1, 1))]),
    GradCase("TensorStridedSliceUpdate", _update, [R.random((3, 2)), R.random((1, 2, 1))]),
    GradCase("StridedSlice", lambda x: x[1:, ::-2, None, 1], [R.random((3, 4, 2))]),
    GradCase("StridedSlice", lambda x: x[..., -1:0:-1], [R.random((2, 4))]),
    GradCase("StridedSliceGrad", _inner_gradient(lambda x: x[::-1, 1:]), [R.random((3, 3))]),
    GradCase("Slice", lambda x: tf.slice(x, [1, 0], [-1, 2]), [R.random((3, 3))]),
]

A = np.arange(24).reshape(2, 3, 4)

# Keys as functions of the module, so tensor keys are built by each library.
KEYS = [
    0, -1, 1, 2, -3, [0, 1], (0, 1), (1, 2, 3), (1, -1, -1), (1, 2, 3, 4), (0, 3),
    slice(None), slice(1, None), slice(None, None, -1), slice(None, None, 2),
    slice(None, None, -2), slice(3, 0, -1), slice(-1, -5, -2), slice(10, -10, -1),
    slice(-10, 10), slice(1, 1), slice(0, 2, -1), slice(None, None, 0),
    (0, slice(None), 2), (slice(None), slice(None, None, -1), slice(1, None, 2)),
    (Ellipsis, 1), (Ellipsis, slice(None, None, -3)), (None,), (None, Ellipsis, None),
    (Ellipsis, None, 0), (0, None, slice(None, None, -1), None), (Ellipsis, Ellipsis),
    (slice(None), None, 1, Ellipsis), Ellipsis, (), (1, Ellipsis, 2, 3),
    True, 1.0, "a", np.int64(1), np.int32(-2), np.array(1), np.array([0, 1]), {1},
    np.array([True, False]),
    lambda m: m.constant(1), lambda m: m.constant(-1, m.int64), lambda m: m.constant(1.0),
    lambda m: m.constant([0, 1]), lambda m: m.constant([True, False]),
    lambda m: (slice(m.constant(1), None), 0),
    lambda m: (slice(None), slice(None, None, m.constant(-1))),
    lambda m: (Ellipsis, m.constant(2)),
    lambda m: m.constant([[True, False, True], [False, False, True]]),
]


@pytest.mark.parametrize("key", range(len(KEYS)))
def test_getitem_matches_tf(realtf, key):
    def run(m):
        k = KEYS[key](m) if callable(KEYS[key]) else KEYS[key]
        return m.constant(A)[k]
    assert_same_outcome(lambda: run(tf), lambda: run(realtf))


def _random_key(rng):
    def bound():
        return None if rng.random() < 0.3 else int(rng.integers(-7, 7))
    entries = []
    for _ in range(rng.integers(1, 5)):
        kind = rng.random()
        if kind < 0.3:
            entries.append(int(rng.integers(-4, 4)))
        elif kind < 0.8:
            step = None if rng.random() < 0.3 else int(rng.choice([-3, -2, -1, 1, 2, 3]))
            entries.append(slice(bound(), bound(), step))
        elif kind < 0.9:
            entries.append(None)
        else:
            entries.append(Ellipsis)
    return tuple(entries)


RANDOM_KEYS = [_random_key(np.random.default_rng(seed)) for seed in range(300)]


def test_random_keys_match_tf(realtf):
    """Many generated keys (ints in and out of range, slices of every sign, newaxis, one or two
    ellipses) on one tensor: same values, shapes and error classes as TF."""
    ours, theirs = tf.constant(A), realtf.constant(A)
    for key in RANDOM_KEYS:
        assert_same_outcome(lambda: ours[key], lambda: theirs[key])


@pytest.mark.parametrize("key", [0, (), Ellipsis, None, (None, None), slice(None), (0, 0)])
def test_getitem_of_scalar_matches_tf(realtf, key):
    assert_same_outcome(lambda: tf.constant(3.0)[key], lambda: realtf.constant(3.0)[key])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64", "int8", "int32",
                                   "int64", "uint8", "uint16", "uint64", "bool", "complex64",
                                   "string"])
def test_getitem_over_dtypes(realtf, dtype):
    a = A.astype(object).astype(bytes) if dtype == "string" else A.astype(dtype)
    for key in [1, (slice(None), -1), (Ellipsis, slice(None, None, -2)), (None, 1, 2, 3)]:
        assert_same(tf.constant(a)[key], realtf.constant(a)[key])


def test_getitem_error_text_matches_tf(realtf):
    for key in [5, (0, 0, 0, 0), (Ellipsis, Ellipsis), slice(None, None, 0)]:
        with pytest.raises(tf.errors.InvalidArgumentError) as ours:
            tf.constant(A)[key]
        with pytest.raises(realtf.errors.InvalidArgumentError) as theirs:
            realtf.constant(A)[key]
        assert str(ours.value).split(" name:")[0] == str(theirs.value).split(" name:")[0]
    with pytest.raises(TypeError) as ours:
        tf.constant(A)[1.0]
    with pytest.raises(TypeError) as theirs:
        realtf.constant(A)[1.0]
    assert str(ours.value) == str(theirs.value)


def test_iteration_uses_getitem(realtf):
    assert_same(list(tf.constant(A)), list(realtf.constant(A)))
    assert_same(list(tf.constant([b"a", b"b"])), list(realtf.constant([b"a", b"b"])))


def test_getitem_gradient_matches_tf(realtf):
    def run(m):
        x = m.constant(np.arange(12.0).reshape(3, 4))
        with m.GradientTape() as tape:
            tape.watch(x)
            y = x[::-2, 1:3] * x[0, None, ::-1][:, :2] + x[..., -1][1]
        return tape.gradient(y, x)
    assert_same(run(tf), run(realtf))


def test_second_derivative_of_a_slice():
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = x[::-1][:2] * x[1:] * x[1:]
        g = inner.gradient(y, x)
    # sum(y) = x2*x1^2 + x1*x2^2
    np.testing.assert_allclose(g.numpy(), [0.0, 2 * 2 * 3 + 3 ** 2, 2 ** 2 + 2 * 2 * 3])
    gg = outer.gradient(g, x)
    np.testing.assert_allclose(gg.numpy(), [0.0, 2 * 3 + 2 * 2 + 2 * 3, 2 * 2 + 2 * 3 + 2 * 2])


# -- sliced variable assignment -----------------------------------------------------------------

ASSIGNS = [
    ((0, 0), 3.0),
    ((slice(0, 2), 0), [1.0, 2.0]),
    ((slice(0, 2), 0), 7.0),
    ((slice(0, 2), 0), [1.0, 2.0, 3.0]),
    ((slice(0, 2), 0), [1, 2]),
    ((slice(0, 2), 0), np.array([1, 2])),
    ((slice(0, 2), 0), lambda m: m.constant([1, 2])),
    ((slice(None, None, -1), 1), [10.0, 20.0]),
    ((slice(None), slice(None, None, -2)), [[1.0, 2.0], [3.0, 4.0]]),
    ((5,), 1.0),
    ((0,), [0.0, 0.0, 0.0]),
    ((slice(1, None), None), [[[9.0, 9.0, 9.0]]]),
    ((1, None), lambda m: m.constant(np.ones((1, 3), np.float32))),
    ((Ellipsis, 2), [[5.0], [6.0]]),
    ((Ellipsis, 2), "x"),
]


@pytest.mark.parametrize("case", range(len(ASSIGNS)))
def test_sliced_assign_matches_tf(realtf, case):
    key, value = ASSIGNS[case]

    def run(m):
        v = m.Variable([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        val = value(m) if callable(value) else value
        try:
            v[key].assign(val)
        except Exception as e:  # noqa: BLE001 - compared below
            return v.numpy(), type(e).__name__
        return v.numpy(), None
    (ours, ours_error), (theirs, theirs_error) = run(tf), run(realtf)
    assert ours_error == theirs_error
    np.testing.assert_array_equal(ours, theirs)  # a failed assign leaves the variable as it was


def test_sliced_assign_returns_the_variable_and_error_text(realtf):
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    assert v[0, 0].assign(5.0).name == "UnreadVariable"  # as TF's
    np.testing.assert_array_equal(v.numpy(), [[5.0, 2.0], [3.0, 4.0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Cannot broadcast input shape "
                       r"\[3\] into final shape \[2\] \[Op:ResourceStridedSliceAssign\]"):
        v[:, 0].assign([1.0, 2.0, 3.0])


def test_variable_slice_is_differentiable(realtf):
    def run(m):
        v = m.Variable([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        with m.GradientTape() as tape:
            y = v[0, 1] * 2.0 + v[:, ::-1][1] * [1.0, 2.0, 3.0]
        return tape.gradient(y, v)
    assert_same(run(tf), run(realtf))


# -- slice, strided_slice, gather, gather_nd, boolean_mask, one_hot, scatters --------------------

X = np.arange(6, dtype=np.int32).reshape(2, 3)
SLICE_CASES = [
    lambda m: m.slice(X, [0, 1], [2, -1]),
    lambda m: m.slice(X, [0, 1], [3, -1]),
    lambda m: m.slice(X, [3, 0], [0, -1]),
    lambda m: m.slice(X, [0], [1]),
    lambda m: m.strided_slice(X, [0, 2], [2, 0], [1, -1]),
    lambda m: m.strided_slice(X, [1, 0], [0, 3], [1, 1], begin_mask=1, shrink_axis_mask=2),
    lambda m: m.strided_slice(A, [0, 0], [0, 1], new_axis_mask=1, ellipsis_mask=2),
    lambda m: m.slice(m.constant(["a", "b", "c"]), [1], [2]),
]


@pytest.mark.parametrize("case", range(len(SLICE_CASES)))
def test_slice_and_strided_slice_match_tf(realtf, case):
    assert_same_outcome(lambda: SLICE_CASES[case](tf), lambda: SLICE_CASES[case](realtf))


def test_variable_slices_in_a_traced_function(realtf):
    """Two slices of one variable inside tf.function: one graph read, each slice counted once."""
    def run(m):
        v = m.Variable([[1.0, 2.0], [3.0, 4.0]])

        @m.function
        def step():
            with m.GradientTape() as tape:
                y = v[0, 1] * 3.0 + m.gather(v, [1])[0, 0] + v[::-1, :1][0, 0]
            return tape.gradient(y, v)
        return step()
    assert_same(run(tf), run(realtf))


@pytest.mark.parametrize("i", [0, 2, -1, -3])
def test_symbolic_index_in_a_traced_function(realtf, i):
    """Inside tf.function a tensor index has no value at trace time: it is an op input."""
    a = np.arange(24.0).reshape(2, 3, 4)

    def run(m):
        @m.function
        def step(x, i):
            with m.GradientTape() as tape:
                tape.watch(x)
                y = x[1, i] * x[None, ..., ::-1][0, 1, i] + x[1, i, i]
            return y, tape.gradient(y, x)
        return step(m.constant(a), m.constant(i))
    assert_same(run(tf), run(realtf))


def test_symbolic_index_in_a_while_loop(realtf):
    a = np.arange(12.0).reshape(3, 4)

    def run(m):
        x = m.constant(a)

        @m.function
        def total():
            def body(i, acc):
                return i + 1, acc + x[i, ::-1] * x[-1 - i, i]
            start = (m.constant(0), m.constant(np.zeros(4)))
            return m.while_loop(lambda i, acc: i < 3, body, start)[1]
        return total()
    assert_same(run(tf), run(realtf))


def test_sliced_assign_in_a_traced_function(realtf):
    def run(m):
        v = m.Variable([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])

        @m.function
        def step(x):
            v[0, ::-2].assign(x)
            v[1].assign(v[0] * 2.0)
            return v.read_value()
        first = step(m.constant([10.0, 20.0]))
        return first, step(m.constant([1.0, 2.0]))
    assert_same(run(tf), run(realtf))


def test_sliced_assign_of_strings(realtf):
    def run(m):
        v = m.Variable(["a", "b", "c"])
        v[::-2].assign(["x", "y"])
        v[1].assign("q")
        try:
            v[1].assign(["q", "r"])
        except Exception as e:  # noqa: BLE001 - compared below
            return v.numpy(), type(e).__name__
        return v.numpy(), None
    (ours, ours_error), (theirs, theirs_error) = run(tf), run(realtf)
    assert ours_error == theirs_error
    np.testing.assert_array_equal(ours, theirs)
