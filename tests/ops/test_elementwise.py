"""Unary math, cast, clip_by_value and complex parts (tapeflow/ops/elementwise.py) against
real TensorFlow, and their gradient cases."""
import numpy as np
import pytest

import tapeflow as tf
from tests.gradcheck import GradCase
from tests.parity import assert_same, assert_same_outcome, error_of, outcome

R = np.random.default_rng(2)
_IN = R.random((2, 3)) * 0.8 + 0.1        # inside (0, 1): every domain below is satisfied
_SIGNED = np.array([[-1.3, 0.4, 2.2], [0.7, -0.6, 1.9]])


def _case(op, fn, x=_IN, **kw):
    return GradCase(op, fn, [x], **kw)


GRAD_CASES = [
    _case("Square", tf.square, _SIGNED),
    _case("Sqrt", tf.sqrt),
    _case("Rsqrt", tf.math.rsqrt),
    _case("Exp", tf.exp, _SIGNED),
    _case("Expm1", tf.math.expm1, _SIGNED),
    _case("Log", tf.math.log),
    _case("Log1p", tf.math.log1p),
    _case("Reciprocal", tf.math.reciprocal, _SIGNED),
    _case("Sin", tf.sin, _SIGNED),
    _case("Cos", tf.cos, _SIGNED),
    _case("Tan", tf.tan),
    _case("Asin", tf.asin),
    _case("Acos", tf.acos),
    _case("Atan", tf.atan, _SIGNED),
    _case("Sinh", tf.sinh, _SIGNED),
    _case("Cosh", tf.cosh, _SIGNED),
    _case("Tanh", tf.tanh, _SIGNED),
    _case("Asinh", tf.asinh, _SIGNED),
    _case("Acosh", tf.acosh, _IN + 1.5),
    _case("Atanh", tf.atanh),
    _case("Sigmoid", tf.sigmoid, _SIGNED),
    _case("Erf", tf.math.erf, _SIGNED),
    _case("Erfc", tf.math.erfc, _SIGNED),
    _case("Abs", tf.abs, _SIGNED),
    _case("ComplexAbs", lambda x: tf.abs(tf.cast(x, tf.complex128)), _SIGNED),
    _case("Sign", tf.sign, _SIGNED),
    # float64 -> complex128 and back: Cast's gradient casts back (complex to real keeps .real).
    _case("Cast", lambda x: tf.math.real(tf.cast(x, tf.complex128))),
    _case("Real", lambda x: tf.math.real(tf.cast(x, tf.complex128) * (2 - 1j))),
    _case("Imag", lambda x: tf.math.imag(tf.cast(x, tf.complex128) * (2 - 1j))),
    GradCase("Complex", lambda x, y: [tf.math.real(tf.complex(x, y) * tf.complex(x, y)),
                                      tf.math.imag(tf.complex(x, y) * tf.complex(x, y))],
             [R.random((2, 3)), R.random((3,))]),
    GradCase("Angle", lambda x, y: tf.math.angle(tf.complex(x, y)),
             [R.random((3,)) + 0.5, R.random((3,)) - 0.5]),
]

# public name -> input values inside its domain
UNARY = {name: [0.2, 0.5, 0.9] for name in [
    "square", "sqrt", "rsqrt", "exp", "expm1", "log", "log1p", "reciprocal", "sin", "cos", "tan",
    "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "atanh", "sigmoid", "erf", "erfc"]}
UNARY.update({name: [-2.5, -0.5, 0.0, 0.5, 1.5, 2.7] for name in [
    "abs", "sign", "round", "floor", "ceil", "rint", "negative"]})
UNARY.update({"acosh": [1.2, 2.0, 3.5], "is_nan": [np.nan, 1.0, np.inf],
              "is_inf": [np.nan, -np.inf, 2.0], "is_finite": [np.nan, np.inf, 0.0]})
DTYPES = ["float16", "bfloat16", "float32", "float64", "int8", "int32", "int64", "uint8", "bool",
          "complex64"]


def _fn(m, name):
    return getattr(m.math, name)


def _values(name, dtype):
    v = np.array(UNARY[name])
    if dtype == "bool":
        return v != 0
    if dtype.startswith(("int", "uint")):
        return (np.abs(np.where(np.isfinite(v), v, 0)) * 3 + 1).astype(dtype)
    return v


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_matches_tf(realtf, name, dtype):
    v = _values(name, dtype)
    tol = 1e-2 if dtype in ("float16", "bfloat16") else 1e-5

    def run(m):
        return _fn(m, name)(m.constant(v, dtype))
    assert_same_outcome(lambda: run(tf), lambda: run(realtf), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_dtype_errors_match_tf_exactly(realtf, name):
    for dtype in ("int32", "bool", "uint8", "complex64"):
        v = _values(name, dtype)
        ours = error_of(lambda: _fn(tf, name)(tf.constant(v, dtype)))
        theirs = error_of(lambda: _fn(realtf, name)(realtf.constant(v, dtype)))
        if theirs is not None and theirs[0] == "NotFoundError":  # the kernel list varies by build
            assert ours is not None and ours[0] == "NotFoundError"
        else:
            assert ours == theirs, dtype


@pytest.mark.parametrize("call", [
    lambda m: m.round(m.constant([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.6])),
    lambda m: m.round(m.constant([-3, 4])),
    lambda m: m.round(m.constant([3], m.uint8)),
    lambda m: m.math.rint(m.constant([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5], m.float64)),
    lambda m: m.sign(m.constant([-2.0, 0.0, np.nan, -0.0])),
    lambda m: m.sign(m.constant([3 + 4j, 0j])),
    lambda m: m.abs(m.constant([3 + 4j, -1j])),
    lambda m: m.abs(m.constant([-2**31])),
    lambda m: m.sqrt(m.constant([-1.0, 4.0])),
    lambda m: m.math.log(m.constant([0.0, -1.0])),
    lambda m: m.exp(m.constant([1 + 1j], m.complex128)),
    lambda m: m.math.sigmoid(m.constant([-100.0, 0.0, 100.0])),
    lambda m: m.sqrt(4.0),
    lambda m: m.sqrt(4),
    lambda m: m.exp([0.0, 1.0]),
    lambda m: m.square(m.Variable([1.5, -2.0])),
    lambda m: abs(m.constant([-1, 2])),
    lambda m: abs(m.Variable([-1.5, 2.0])),
    lambda m: abs(m.constant([-1], m.uint8)),
])
def test_special_values_match_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


@pytest.mark.parametrize("call", [
    lambda m: m.cast(m.constant([-1.7, -0.5, 0.5, 1.5, 2.5, np.nan, np.inf]), m.int32),
    lambda m: m.cast(m.constant([-1.7, -0.5, 0.5, 1.5, np.nan, -np.inf]), m.int64),
    lambda m: m.cast(m.constant([-1.7, 300.0]), m.uint8),
    lambda m: m.cast(m.constant([-1.7, 0.0, np.nan]), m.bool),
    lambda m: m.cast(m.constant([1.7]), "float16"),
    lambda m: m.cast(m.constant([1.7]), np.float64),
    lambda m: m.cast(m.constant([1.7]), m.bfloat16),
    lambda m: m.cast([1, 2], m.float32),
    lambda m: m.cast(1.7, m.int32),
    lambda m: m.cast(m.constant([1 + 2j]), m.float64),
    lambda m: m.cast(m.constant([1.5]), m.complex64),
    lambda m: m.cast(m.constant([True, False]), m.float32),
    lambda m: m.cast(m.constant([2, 0]), m.bool),
    lambda m: m.cast(m.constant([-3, 300]), m.int8),
    lambda m: m.cast(m.Variable([1.5]), m.int32),
    lambda m: m.cast(m.constant([1.0]), m.string),
    lambda m: m.cast(m.constant(["1"]), m.float32),
    lambda m: m.cast(m.constant([1.0]), "foo"),
    lambda m: m.cast(m.constant([1.0]), None),
])
def test_cast_matches_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


def test_cast_error_text_matches_tf(realtf):
    for call in (lambda m: m.cast(m.constant([1.0]), "foo"),
                 lambda m: m.cast(m.constant(["1"]), m.float32)):
        ours, theirs = error_of(lambda: call(tf)), error_of(lambda: call(realtf))
        assert ours[0] == theirs[0]
        prefix = ("{{function_node __wrapped__Cast_device_/job:localhost/replica:0/task:0/"
                  "device:CPU:0}} ")
        assert ours[1] == theirs[1].replace(prefix, "")


def test_cast_to_same_dtype_returns_the_input():
    x = tf.constant([1.0])
    v = tf.Variable([1.0])
    assert tf.cast(x, tf.float32) is x
    assert tf.cast(v, tf.float32) is v


@pytest.mark.parametrize("call", [
    lambda m: m.clip_by_value(m.constant([1.0, 5.0, 9.0]), 2.0, 6.0),
    lambda m: m.clip_by_value(m.constant([1, 5, 9]), 2, 6),
    lambda m: m.clip_by_value(m.constant([1, 5, 9]), 2.0, 6.0),
    lambda m: m.clip_by_value(m.constant([1.0, 5.0, 9.0]), m.constant([2.0, 2.0, 7.0]), 6.0),
    lambda m: m.clip_by_value(m.constant([1.0, 5.0, 9.0]), m.constant([[2.0], [3.0]]), 6.0),
    lambda m: m.clip_by_value(m.constant([1.0, 5.0, 9.0]), 6.0, 2.0),
    lambda m: m.clip_by_value(m.constant([1.0, 5.0, 9.0]), m.constant(2, m.float64), 6.0),
    lambda m: m.clip_by_value(m.constant([True]), False, True),
    lambda m: m.clip_by_value([1.0, 5.0, 9.0], 2, 6),
    lambda m: m.clip_by_value([1, 5, 9], 2, 6.5),
    lambda m: m.clip_by_value(m.constant([[1.0, np.nan]]), -1.0, 0.5),
])
def test_clip_by_value_matches_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


@pytest.mark.parametrize("call", [
    lambda m: m.math.real(m.constant([1 + 2j, 3 - 4j])),
    lambda m: m.math.imag(m.constant([1 + 2j, 3 - 4j], m.complex64)),
    lambda m: m.math.conj(m.constant([1 + 2j, 3 - 4j])),
    lambda m: m.math.real(m.constant([1.5])),
    lambda m: m.math.imag(m.constant([1.5])),
    lambda m: m.math.imag(m.constant([2])),
    lambda m: m.math.conj(m.constant([2])),
    lambda m: m.math.real(m.constant([True])),
    lambda m: m.math.conj(m.constant([True])),
    lambda m: m.complex(m.constant([1.0, 2.0]), m.constant([3.0, 4.0])),
    lambda m: m.complex(m.constant([[1.0], [2.0]], m.float64), m.constant(3.0, m.float64)),
    lambda m: m.complex(1.0, 2.0),
    lambda m: m.complex(m.constant([1.0, 2.0]), m.constant([2.0, 3.0, 4.0])),
    lambda m: m.math.angle(m.constant([1 + 1j, -1 + 0j, -2j])),
    lambda m: m.math.angle(m.constant([1.0, -1.0, 0.0])),
    lambda m: m.math.angle(m.constant([1, -1])),
])
def test_complex_parts_match_tf(realtf, call):
    assert_same_outcome(lambda: call(tf), lambda: call(realtf))


@pytest.mark.parametrize("call", [
    lambda m: m.complex(m.constant([1]), m.constant([2])),
    lambda m: m.complex(m.constant([1.0]), m.constant([2.0], m.float64)),
    lambda m: m.complex(m.constant([1.0], m.float16), m.constant([2.0], m.float16)),
    lambda m: m.math.angle(m.constant([1, -1])),
])
def test_complex_errors_match_tf_exactly(realtf, call):
    assert error_of(lambda: call(tf)) == error_of(lambda: call(realtf))


def test_complex_gradients_match_tf(realtf):
    def grads(m):
        x, y = m.constant([1.0, 2.0]), m.constant([3.0, 4.0])
        z = m.constant([1 + 2j, -1 + 0.5j], m.complex64)
        with m.GradientTape() as tape:
            tape.watch([x, y, z])
            c = m.complex(x, y)
            r = m.reduce_sum(m.math.real(c * c) + m.math.imag(c)) + m.reduce_sum(m.math.angle(z))
        return tape.gradient(r, [x, y, z])
    assert_same(grads(tf), grads(realtf))


@pytest.mark.parametrize("fn, x", [
    (lambda m, x: m.clip_by_value(x, 2.0, 6.0), [1.0, 2.0, 5.0, 6.0, 9.0]),  # bounds pass
    (lambda m, x: m.sign(x), [-1.0, 2.0]),                                   # zeros, not None
    (lambda m, x: m.abs(x), [-1.0, 2.0]),
    (lambda m, x: m.round(x), [1.2, 2.5]),                                   # None
    (lambda m, x: m.math.floor(x), [1.2, 2.5]),
    (lambda m, x: m.cast(x, m.int32), [1.2, 2.5]),                           # None
    (lambda m, x: m.cast(m.cast(x, m.float16), m.float32) * x, [1.25, 2.5]),
    (lambda m, x: m.sqrt(x) + m.math.rsqrt(x) + m.math.reciprocal(x), [0.5, 2.0]),
    (lambda m, x: m.tanh(x) * m.sigmoid(x) + m.math.erf(x), [-0.5, 2.0]),
])
def test_gradients_match_tf(realtf, fn, x):
    def grad(m):
        t = m.constant(x)
        with m.GradientTape() as tape:
            tape.watch(t)
            y = fn(m, t)
        g = tape.gradient(y, t)
        return None if g is None else g.numpy()
    ours, theirs = grad(tf), grad(realtf)
    assert (ours is None) == (theirs is None)
    if ours is not None:
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_second_derivative_of_tanh_matches_tf(realtf):
    def second(m):
        x = m.constant([0.3, -1.2])
        with m.GradientTape() as outer:
            outer.watch(x)
            with m.GradientTape() as inner:
                inner.watch(x)
                y = m.tanh(x)
            g = inner.gradient(y, x)
        return outer.gradient(g, x)
    assert_same(second(tf), second(realtf))


def test_outcome_helper_sees_errors():
    assert outcome(lambda: tf.sqrt(tf.constant([1]))) == ("error", "InvalidArgumentError")
