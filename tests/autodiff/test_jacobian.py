"""tape.jacobian and tape.batch_jacobian against real TensorFlow."""
import numpy as np
import pytest

import tapeflow as tf
from tests.autodiff._same import assert_same_grads

X = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)


def elementwise(m):
    x = m.constant(X)
    with m.GradientTape() as g:
        g.watch(x)
        y = x * x
    return g.jacobian(y, x)


def list_sources_unconnected(m):
    x, z = m.constant(X), m.constant([1.0, 2.0, 3.0])
    with m.GradientTape(persistent=True) as g:
        g.watch([x, z])
        y = x * 3.0 + x * x
    return (g.jacobian(y, [x, z]),
            g.jacobian(y, [x, z], unconnected_gradients=m.UnconnectedGradients.ZERO))


def dict_sources_and_variables(m):
    v = m.Variable([1.0, 2.0])
    w = m.Variable([[1.0], [2.0], [3.0]])
    with m.GradientTape() as g:
        y = w * v  # (3, 2)
    return g.jacobian(y, {"v": v, "w": w})


def scalar_target(m):
    a, v = m.Variable(3.0), m.Variable([1.0, 2.0, 3.0])
    with m.GradientTape(persistent=True) as g:
        s = a * a * 0.5
    return g.jacobian(s, a), g.jacobian(s, v), g.jacobian(s, [a, v], unconnected_gradients="zero")


def variable_target(m):
    v = m.Variable([1.0, 2.0])
    with m.GradientTape(persistent=True) as g:
        y = v * 2.0
    return g.jacobian(v, v), g.jacobian(v, [v, y])


def scalar_source(m):
    t = m.Variable(2.0)
    with m.GradientTape() as g:
        y = m.constant([1.0, 2.0, 3.0]) * t * t
    return g.jacobian(y, t)


def options_accepted(m):
    x = m.constant([1.0, 2.0])
    with m.GradientTape(persistent=True) as g:
        g.watch(x)
        y = x * x * x
    return (g.jacobian(y, x, parallel_iterations=2),
            g.jacobian(y, x, experimental_use_pfor=False),
            g.jacobian(y, x, unconnected_gradients="zero", parallel_iterations=3,
                       experimental_use_pfor=True))


def hessian_of_gradient(m):
    v = m.Variable([1.0, 2.0])
    with m.GradientTape() as t2:
        with m.GradientTape() as t1:
            y = v * v * v
        g = t1.gradient(y, v)
    return g, t2.jacobian(g, v)


def jacobian_of_jacobian(m):
    v = m.Variable([1.0, 2.0])
    with m.GradientTape(persistent=True) as t2:
        with m.GradientTape() as t1:
            y = v * v * v
        j = t1.jacobian(y, v)
    return j, t2.jacobian(j, v), t2.gradient(j, v)


def batch(m):
    x = m.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with m.GradientTape() as g:
        g.watch(x)
        y = x * x * m.constant([[1.0], [2.0], [3.0]])
    return g.batch_jacobian(y, x)


def batch_3d(m):
    x = m.constant(np.arange(12, dtype=np.float32).reshape(2, 3, 2))
    with m.GradientTape() as g:
        g.watch(x)
        y = x * x
    return g.batch_jacobian(y, x)


def batch_unconnected_is_zeros(m):
    x, z = m.constant(X), m.constant(X)
    with m.GradientTape(persistent=True) as g:
        g.watch([x, z])
        y = x * x
    return g.batch_jacobian(y, z), g.batch_jacobian(y, z, unconnected_gradients="zero")


def batch_without_pfor_persistent(m):
    x = m.constant(X)
    with m.GradientTape(persistent=True) as g:
        g.watch(x)
        y = x * x * x
    return g.batch_jacobian(y, x, experimental_use_pfor=False)


def batch_of_gradient(m):
    x = m.Variable(X)
    with m.GradientTape() as t2:
        with m.GradientTape() as t1:
            y = x * x * x
        g = t1.gradient(y, x)
    return t2.batch_jacobian(g, x)


def inside_tf_function(m):
    @m.function
    def jacobians(x):
        with m.GradientTape(persistent=True) as g:
            g.watch(x)
            y = x * x * 2.0
            rows = m.reshape(y, (2, 2))
        return g.jacobian(y, x), g.batch_jacobian(rows, x), g.jacobian(y, [x, m.constant(1.0)])
    return jacobians(m.constant(X)), jacobians(m.constant(X * 2.0))


PROGRAMS = [elementwise, list_sources_unconnected, dict_sources_and_variables, scalar_target,
            variable_target,
            scalar_source, options_accepted, hessian_of_gradient, jacobian_of_jacobian, batch,
            batch_3d, batch_unconnected_is_zeros, batch_without_pfor_persistent,
            batch_of_gradient, inside_tf_function]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
def test_jacobian_matches_tf(realtf, program):
    assert_same_grads(program(tf), program(realtf))


def test_non_persistent_tape_is_consumed_by_jacobian():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as g:
        g.watch(x)
        y = x * x
    g.jacobian(y, x)
    assert g._nodes == [] and not g._alive
