"""Second derivatives against real TensorFlow: nested tapes through pow, exp, log, tanh,
sigmoid, softmax and matmul (first derivative, its gradient, and the full Hessian)."""
import numpy as np
import pytest

import tapeflow as tf
from tests.autodiff._same import assert_same_grads

X = np.array([0.3, 1.2, 2.0], dtype=np.float64)
W = np.array([0.5, -1.5, 2.0], dtype=np.float64)


def _resolve(m, path):
    obj = m
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


UNARY = {
    "exp": "exp", "log": "math.log", "tanh": "tanh", "sigmoid": "sigmoid",
    "softmax": "nn.softmax", "cube": "pow", "square_root_pow": "pow",
}


def _unary_fn(m, name):
    if name == "cube":
        return lambda x: m.pow(x, 3.0)
    if name == "square_root_pow":
        return lambda x: m.pow(x, 0.5)
    fn = _resolve(m, UNARY[name])
    return lambda x: fn(x) * W  # weights make softmax's sum depend on x


def _second_derivatives(m, name):
    f = _unary_fn(m, name)
    x = m.constant(X)
    with m.GradientTape(persistent=True) as outer:
        outer.watch(x)
        with m.GradientTape() as inner:
            inner.watch(x)
            y = f(x)
        g = inner.gradient(y, x)
    return y, g, outer.gradient(g, x), outer.jacobian(g, x)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_second_derivative_matches_tf(realtf, name):
    assert_same_grads(_second_derivatives(tf, name), _second_derivatives(realtf, name),
                      rtol=1e-6, atol=1e-8)


def _pow_mixed(m):
    x, p = m.constant([1.5, 2.5]), m.constant([2.0, 3.0])
    with m.GradientTape(persistent=True) as outer:
        outer.watch([x, p])
        with m.GradientTape() as inner:
            inner.watch([x, p])
            y = m.pow(x, p)
        gx, gp = inner.gradient(y, [x, p])
    return (gx, gp, outer.gradient(gx, [x, p]), outer.gradient(gp, [x, p]))


def test_pow_mixed_second_derivatives_match_tf(realtf):
    assert_same_grads(_pow_mixed(tf), _pow_mixed(realtf), rtol=1e-5, atol=1e-5)


def _matmul(m):
    a = m.constant(np.array([[1.0, 2.0], [3.0, -1.0]]))
    b = m.constant(np.array([[0.5, -2.0, 1.0], [1.5, 1.0, 0.0]]))
    w = m.constant(np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]]))
    with m.GradientTape(persistent=True) as outer:
        outer.watch([a, b])
        with m.GradientTape() as inner:
            inner.watch([a, b])
            c = m.matmul(a, b)
            loss = c * c * w
        ga, gb = inner.gradient(loss, [a, b])
    return ga, gb, outer.gradient(ga, [a, b]), outer.jacobian(ga, a), outer.jacobian(gb, a)


def test_matmul_second_derivatives_match_tf(realtf):
    assert_same_grads(_matmul(tf), _matmul(realtf), rtol=1e-6, atol=1e-8)


def _variable_hessian(m):
    v = m.Variable(np.array([0.2, -0.4, 0.9]))
    with m.GradientTape() as outer:
        with m.GradientTape() as inner:
            y = m.tanh(v) * m.exp(v) * W
        g = inner.gradient(y, v)
    return g, outer.jacobian(g, v)


def test_variable_hessian_matches_tf(realtf):
    assert_same_grads(_variable_hessian(tf), _variable_hessian(realtf), rtol=1e-6, atol=1e-8)
