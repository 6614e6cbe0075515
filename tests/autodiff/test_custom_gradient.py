"""tf.custom_gradient, tf.recompute_grad and tf.stop_gradient against real TensorFlow."""
import numpy as np
import pytest

import tapeflow as tf
from tests.autodiff._same import assert_same_grads
from tests.gradcheck import GradCase
from tests.parity import error_of


@tf.custom_gradient
def _cube(x):
    def grad(dy):
        return dy * 3.0 * x * x
    return x * x * x, grad


@tf.custom_gradient
def _product(x, y):
    def grad(dz):
        return dz * y, dz * x
    return x * y, grad


R = np.random.default_rng(5)
GRAD_CASES = [
    GradCase("CustomGradient", lambda x: _cube(x), [R.random((3,))]),
    GradCase("CustomGradient", lambda x, y: _product(x, y), [R.random((2, 3)), R.random((2, 3))]),
]


def cube_program(m):
    @m.custom_gradient
    def cube(x):
        def grad(dy):
            return dy * 3.0 * x * x
        return x * x * x, grad
    x = m.constant([1.0, 2.0])
    with m.GradientTape() as t2:
        t2.watch(x)
        with m.GradientTape() as t1:
            t1.watch(x)
            y = cube(x)
        g = t1.gradient(y, x)
    return y, g, t2.gradient(g, x)


def two_inputs_two_outputs(m):
    @m.custom_gradient
    def f(x, y):
        def grad(d1, d2):
            return d1 * y + d2, d1 * x * 10.0
        return (x * y, x + y), grad
    a, b = m.constant(2.0), m.constant(3.0)
    with m.GradientTape(persistent=True) as t:
        t.watch([a, b])
        p, s = f(a, b)
        out = p * 5.0 + s
    return t.gradient(out, [a, b]), t.gradient(p, [a, b]), t.gradient(s, [a, b])


def wrong_but_custom(m):
    # The custom gradient wins even when it disagrees with the true derivative.
    @m.custom_gradient
    def clip(x):
        def grad(dy):
            return dy * 0.0 + 1.0
        return x * x, grad
    x = m.Variable([3.0, 4.0])
    with m.GradientTape() as t:
        y = clip(x) * 2.0
    return t.gradient(y, x)


def none_gradient_for_an_input(m):
    @m.custom_gradient
    def f(x, y):
        def grad(dz):
            return dz * 2.0, None
        return x * 2.0 + y, grad
    a, b = m.constant(1.0), m.constant(1.0)
    with m.GradientTape() as t:
        t.watch([a, b])
        z = f(a, b)
    return t.gradient(z, [a, b])


def uses_variables(m):
    w = m.Variable([2.0, 3.0])

    @m.custom_gradient
    def scale(x):
        def grad(dy, variables=None):
            assert len(variables) == 1
            return dy * w, [dy * x * 100.0]
        return x * w, grad
    x = m.constant([1.0, 5.0])
    with m.GradientTape() as t:
        t.watch(x)
        y = scale(x)
    return t.gradient(y, [x, w])


def stop_gradient_blocks(m):
    x = m.Variable(2.0)
    with m.GradientTape() as t:
        y = m.stop_gradient(x * x) * x + m.stop_gradient(x)
    return t.gradient(y, x), m.stop_gradient(m.constant([1, 2]))


def recompute(m):
    w = m.Variable([0.5, -1.0])

    def block(x):
        return x * w * x + w

    f = m.recompute_grad(block)
    x = m.constant([1.0, 2.0])
    with m.GradientTape() as t:
        t.watch(x)
        y = f(x) * 3.0
    return y, t.gradient(y, [x, w])


def method_and_keyword_argument(m):
    class Scaler:
        k = 3.0

        @m.custom_gradient
        def f(self, x):
            def grad(dy):
                return dy * self.k
            return x * 2.0, grad

    @m.custom_gradient
    def g(x, scale=2.0):
        def grad(dy):
            return dy * scale
        return x * scale, grad

    x = m.constant(1.0)
    with m.GradientTape(persistent=True) as t:
        t.watch(x)
        y = Scaler().f(x)
        z = g(x, scale=5.0)
    return t.gradient(y, x), t.gradient(z, x), g.__name__


def inside_tf_function(m):
    w = m.Variable([2.0, 3.0])

    @m.custom_gradient
    def scale(x):
        def grad(dy, variables=None):
            return dy * w, [dy * x * 100.0]
        return x * w, grad
    block = m.recompute_grad(lambda x: x * w * x)

    @m.function
    def f(x):
        with m.GradientTape() as t:
            t.watch(x)
            y = scale(x) + block(x) + m.stop_gradient(x) * x
        return t.gradient(y, [x, w])
    return f(m.constant([1.0, 5.0])), f(m.constant([2.0, 5.0]))


PROGRAMS = [cube_program, two_inputs_two_outputs, wrong_but_custom, none_gradient_for_an_input,
            uses_variables, stop_gradient_blocks, recompute, method_and_keyword_argument,
            inside_tf_function]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
def test_matches_tf(realtf, program):
    assert_same_grads(program(tf), program(realtf))


def grad_fn_without_variables(m):
    w = m.Variable(2.0)

    @m.custom_gradient
    def f(x):
        return x * w, lambda dy: dy * w
    with m.GradientTape():
        f(m.constant(1.0))


def too_many_gradients(m):
    @m.custom_gradient
    def f(x):
        return x * 2.0, lambda dy: (dy, dy)
    x = m.constant(1.0)
    with m.GradientTape() as t:
        t.watch(x)
        y = f(x)
    t.gradient(y, x)


def missing_variable_gradient(m):
    w = m.Variable(2.0)

    @m.custom_gradient
    def f(x):
        def grad(dy, variables=None):
            return dy * w, []
        return x * w, grad
    x = m.constant(1.0)
    with m.GradientTape() as t:
        t.watch(x)
        y = f(x)
    t.gradient(y, x)


@pytest.mark.parametrize("program", [grad_fn_without_variables, too_many_gradients,
                                     missing_variable_gradient], ids=lambda p: p.__name__)
def test_errors_match_tf(realtf, program):
    ours, theirs = error_of(lambda: program(tf)), error_of(lambda: program(realtf))
    assert theirs is not None and ours is not None
    assert ours[0] == theirs[0]
    # The variables' list is printed in TF's message; compare the text before it.
    assert ours[1].split(":")[0] == theirs[1].split(":")[0]


def test_custom_gradient_without_tape_just_runs():
    y = _cube(tf.constant([2.0]))
    assert y.numpy().tolist() == [8.0]


def test_recompute_grad_keeps_the_tape_small():
    def block(x):
        for _ in range(10):
            x = x * 1.01
        return x
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as plain:
        plain.watch(x)
        block(x)
    with tf.GradientTape() as checkpointed:
        checkpointed.watch(x)
        y = tf.recompute_grad(block)(x)
    assert len(checkpointed._nodes) < len(plain._nodes)
    np.testing.assert_allclose(checkpointed.gradient(y, x).numpy(), [1.01 ** 10] * 2, rtol=1e-5)
