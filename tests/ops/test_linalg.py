"""Linear-algebra ops against real TensorFlow (values, dtypes, errors, first and second
derivatives), and their gradient cases."""
import numpy as np
import pytest

import tapeflow as tf
from tests.gradcheck import GradCase
from tests.parity import assert_same, assert_same_outcome

R = np.random.default_rng(3)

GRAD_CASES = [
    GradCase("MatMul", tf.matmul, [R.random((2, 3)), R.random((3, 4))]),
    GradCase("MatMul", lambda a, b: tf.matmul(a, b, transpose_a=True),
             [R.random((3, 2)), R.random((3, 4))]),
    GradCase("MatMul", lambda a, b: tf.matmul(a, b, transpose_b=True),
             [R.random((2, 3)), R.random((4, 3))]),
    GradCase("MatMul", lambda a, b: tf.matmul(a, b, adjoint_a=True, transpose_b=True),
             [R.random((3, 2)), R.random((4, 3))]),
    GradCase("BatchMatMulV2", tf.matmul, [R.random((2, 2, 3)), R.random((3, 4))]),
    GradCase("BatchMatMulV2", lambda a, b: tf.matmul(a, b, transpose_a=True),
             [R.random((2, 1, 3, 2)), R.random((3, 3, 4))]),
    GradCase("BatchMatMulV2", lambda a, b: tf.matmul(a, b, transpose_b=True),
             [R.random((2, 3)), R.random((2, 4, 3))]),
]

TOL = {"float16": (2e-3, 2e-3), "bfloat16": (2e-2, 2e-2), "float32": (1e-5, 1e-5),
       "float64": (1e-12, 1e-12), "int32": (0, 0), "int64": (0, 0),
       "complex64": (1e-5, 1e-5), "complex128": (1e-12, 1e-12)}


def _values(shape, dtype):
    a = R.integers(-3, 4, size=shape)
    if dtype.startswith("complex"):
        return (a + 1j * R.integers(-3, 4, size=shape)).astype(dtype)
    return a.astype(dtype)


SHAPES = [
    ((2, 3), (3, 4), {}),
    ((3, 2), (3, 4), {"transpose_a": True}),
    ((2, 3), (4, 3), {"transpose_b": True}),
    ((3, 2), (4, 3), {"transpose_a": True, "transpose_b": True}),
    ((3, 2), (3, 4), {"adjoint_a": True}),
    ((2, 3), (4, 3), {"adjoint_b": True}),
    ((5, 2, 3), (5, 3, 4), {}),
    ((5, 2, 3), (3, 4), {}),
    ((2, 3), (5, 3, 4), {}),
    ((2, 1, 2, 3), (3, 3, 4), {}),
    ((2, 1, 3, 2), (1, 4, 4, 3), {"transpose_a": True, "adjoint_b": True}),
    ((2, 0), (0, 3), {}),
]


@pytest.mark.parametrize("sa,sb,kwargs", SHAPES)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "int64",
                                   "complex64", "complex128"])
def test_matmul_matches_tf(realtf, sa, sb, kwargs, dtype):
    a, b = _values(sa, dtype), _values(sb, dtype)
    rtol, atol = TOL[dtype]
    assert_same(tf.matmul(a, b, **kwargs), realtf.matmul(a, b, **kwargs), rtol=rtol, atol=atol)


def test_matmul_operator_matches_tf(realtf):
    a, b = _values((2, 3), "float32"), _values((3, 2), "float32")
    assert_same(tf.constant(a) @ tf.constant(b), realtf.constant(a) @ realtf.constant(b))
    assert_same(tf.constant(a) @ b.astype(np.float64), realtf.constant(a) @ b.astype(np.float64))
    assert_same(a @ tf.constant(b), a @ realtf.constant(b))
    assert_same(tf.Variable(a) @ b, realtf.Variable(a) @ b)
    assert_same(b.tolist() @ tf.Variable(a), b.tolist() @ realtf.Variable(a))


@pytest.mark.parametrize("call", [
    lambda m: m.matmul([1.0, 2.0], [[1.0], [2.0]]),
    lambda m: m.matmul([1.0, 2.0], [1.0, 2.0]),
    lambda m: m.matmul([1.0, 2.0], np.ones((3, 2, 2), np.float32)),
    lambda m: m.matmul(np.ones((3, 2, 2), np.float32), [1.0, 2.0]),
    lambda m: m.matmul(3.0, np.ones((3, 2, 2), np.float32)),
    lambda m: m.matmul(np.ones((2, 3)), np.ones((2, 3))),
    lambda m: m.matmul(np.ones((4, 2, 3)), np.ones((4, 2, 3))),
    lambda m: m.matmul(np.ones((4, 2, 3)), np.ones((3, 3, 2))),
    lambda m: m.matmul(np.ones((2, 3), np.float32), np.ones((3, 2))),
    lambda m: m.matmul(np.ones((2, 3), np.int8), np.ones((3, 2), np.int8)),
    lambda m: m.matmul(np.ones((2, 3), np.bool_), np.ones((3, 2), np.bool_)),
    lambda m: m.matmul(np.ones((2, 3)), np.ones((3, 2)), transpose_a=True, adjoint_a=True),
    lambda m: m.matmul(np.ones((2, 3)), [[1.0, 2.0]]),
])
def test_matmul_errors_match_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


@pytest.mark.parametrize("call", [
    lambda m: m.matmul([1.0, 2.0], [[1.0], [2.0]]),
    lambda m: m.matmul([1.0, 2.0], [1.0, 2.0]),
    lambda m: m.matmul([1.0, 2.0], np.ones((3, 2, 2), np.float32)),
    lambda m: m.matmul(np.ones((3, 2, 2), np.float32), [1.0, 2.0]),
    lambda m: m.matmul(np.ones((2, 3)), np.ones((2, 3))),
    lambda m: m.matmul(np.ones((4, 2, 3)), np.ones((4, 2, 3))),
    lambda m: m.matmul(np.ones((4, 2, 3)), np.ones((3, 3, 2))),
    lambda m: m.matmul(m.constant(np.ones((2, 3), np.float32)), m.constant(np.ones((3, 2)))),
])
def test_matmul_error_text_matches_tf(realtf, call):
    with pytest.raises(Exception) as ours:
        call(tf)
    with pytest.raises(Exception) as theirs:
        call(realtf)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("sa,sb,kwargs", SHAPES[:-1])
def test_matmul_gradients_match_tf(realtf, sa, sb, kwargs):
    a, b = R.random(sa), R.random(sb)

    def grads(m):
        x, y = m.constant(a), m.constant(b)
        with m.GradientTape() as tape:
            tape.watch([x, y])
            out = m.matmul(x, y, **kwargs)
            out = out * m.constant(np.arange(out.shape.num_elements(), dtype=np.float64)
                                   .reshape(tuple(out.shape)))
        return tape.gradient(out, [x, y])

    assert_same(grads(tf), grads(realtf), rtol=1e-12, atol=1e-12)


def test_complex_matmul_gradient_matches_tf(realtf):
    a, b = _values((2, 3), "complex128"), _values((2, 3), "complex128")

    def grads(m):
        x, y = m.constant(a), m.constant(b)
        with m.GradientTape() as tape:
            tape.watch([x, y])
            out = m.matmul(x, y, adjoint_b=True)
        return tape.gradient(out, [x, y])

    assert_same(grads(tf), grads(realtf), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sa,sb,kwargs", [SHAPES[0], SHAPES[3], SHAPES[7], SHAPES[10]])
def test_matmul_second_derivatives_match_tf(realtf, sa, sb, kwargs):
    a, b = R.random(sa), R.random(sb)

    def second(m):
        x, y = m.constant(a), m.constant(b)
        with m.GradientTape(persistent=True) as outer:
            outer.watch([x, y])
            with m.GradientTape() as inner:
                inner.watch([x, y])
                out = m.matmul(x, y, **kwargs)
                out = m.matmul(out, out, transpose_b=True)  # quadratic in x and y
            gx, gy = inner.gradient(out, [x, y])
            gx = gx * m.constant(np.linspace(-1, 1, gx.shape.num_elements()).reshape(
                tuple(gx.shape)))
        return outer.gradient(gx, [x, y])

    assert_same(second(tf), second(realtf), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("sa,sb,kwargs", [
    ((2, 3), (3,), {}), ((4, 2, 3), (3,), {}), ((2, 3), (4, 3), {}),
    ((3, 2), (3,), {"transpose_a": True}),
])
def test_matvec_matches_tf(realtf, sa, sb, kwargs):
    a, b = R.random(sa), R.random(sb)
    assert_same(tf.linalg.matvec(a, b, **kwargs), realtf.linalg.matvec(a, b, **kwargs))
