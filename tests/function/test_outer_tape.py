"""A GradientTape recording outside a tf.function: the trace runs op by op on the tape, with
the gradients an eager call gives and Python side effects at trace time only (as in TF)."""
import numpy as np

import tapeflow as tf


def _grads(fn, x, variables):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return [y] + tape.gradient(y, [x] + variables)


def test_side_effects_stay_at_trace_time_and_gradients_match_eager():
    w = tf.Variable([3.0, 4.0])
    counter = tf.Variable(0)
    traces = []

    def f(x):
        traces.append(1)
        counter.assign_add(1)
        return tf.reduce_sum(tf.sin(x) * w + tf.square(x))

    traced = tf.function(f)
    x = tf.constant([1.0, 2.0])
    for _ in range(3):
        got = _grads(traced, x, [w])
        want = _grads(f, x, [w])
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert traced.experimental_get_tracing_count() == 1
    assert len(traces) == 1 + 3  # one trace, three eager calls
    assert counter.numpy() == 6  # the assign ran on every traced and eager call


def test_a_variable_read_after_a_write_is_a_read_to_the_tape():
    v = tf.Variable(2.0)

    def f(x):
        v.assign(x * 3.0)
        return v * v  # reads the written value; to a tape, not a function of x (as in TF)

    @tf.function
    def inner_tape(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = f(x)
        return y, tape.gradient(y, x)

    for fn in (f, tf.function(f)):
        x = tf.constant(1.5)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        assert y.numpy() == 20.25 and v.numpy() == 4.5
        assert tape.gradient(y, x) is None
    y, g = inner_tape(tf.constant(1.5))
    assert y.numpy() == 20.25 and g is None


def test_second_order_through_a_function():
    @tf.function
    def f(x):
        return x * x * x

    x = tf.constant(2.0)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = f(x)
        dy = inner.gradient(y, x)
    assert (dy.numpy(), outer.gradient(dy, x).numpy()) == (12.0, 12.0)


def test_custom_gradient_inside_runs_eagerly_to_keep_its_gradient():
    @tf.custom_gradient
    def clip_grad(x):
        return tf.identity(x), lambda g: tf.clip_by_value(g, -0.5, 0.5)

    @tf.function
    def f(x):
        return tf.reduce_sum(clip_grad(x) * 4.0)

    x = tf.constant([1.0, -1.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0.5, 0.5])
    assert f.get_concrete_function(x).graph.opaque_to_tapes == "tf.custom_gradient"


def test_while_loop_inside_runs_eagerly_under_a_tape():
    @tf.function
    def f(x, n):
        return tf.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, y * x),
                             (tf.constant(0), tf.constant(1.0)))[1]

    x = tf.constant(1.5)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x, tf.constant(3))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 3 * 1.5 ** 2)
