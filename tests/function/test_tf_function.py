"""tf.function: tracing rules, side effects, variables, gradients, signatures, fallbacks."""
import logging

import numpy as np
import pytest

import tapeflow as tf


def test_results_equal_eager_and_trace_once_per_signature():
    trace_log = []

    def f(x, y, scale=2.0):
        trace_log.append(1)
        return {"sum": x * y + x * scale, "diff": x - y}
    g = tf.function(f)
    for a, b in [(2.0, 3.0), (5.0, -1.0)]:
        x, y = tf.constant(a), tf.constant(b)
        got, want = g(x, y), f(x, y)
        for k in want:
            np.testing.assert_allclose(got[k].numpy(), want[k].numpy())
    assert g.experimental_get_tracing_count() == 1
    g(tf.constant([1.0, 2.0]), tf.constant([1.0, 2.0]))        # new shape
    g(tf.constant(1.0, tf.float64), tf.constant(1.0, tf.float64))  # new dtype
    g(tf.constant(1.0), tf.constant(1.0), scale=3.0)            # new Python value
    g(tf.constant(1.0), tf.constant(1.0), scale=3.0)
    assert g.experimental_get_tracing_count() == 4


def test_python_side_effects_run_at_trace_time_only(capfd):
    calls = []

    @tf.function
    def f(x):
        calls.append("traced")
        print("python print")
        tf.print("tf.print", x)
        return x + 1

    for v in (1, 2, 3):
        f(tf.constant(v))
    out, err = capfd.readouterr()
    assert calls == ["traced"]
    assert out.count("python print") == 1
    assert err.splitlines() == ["tf.print 1", "tf.print 2", "tf.print 3"]


def test_bool_of_symbolic_tensor_without_autograph_is_refused():
    @tf.function(autograph=False)
    def f(x):
        if x:
            return x
        return -x
    with pytest.raises(tf.errors.OperatorNotAllowedInGraphError,
                       match="as a Python `bool` is not allowed"):
        f(tf.constant(1.0))


def test_variables_read_and_assigned_in_order():
    v = tf.Variable(1.0)

    @tf.function
    def f(x):
        v.assign(v * x)
        before = v.read_value()
        v.assign_add(1.0)
        return before, v.read_value()
    a, b = f(tf.constant(3.0))
    assert (a.numpy(), b.numpy(), v.numpy()) == (3.0, 4.0, 4.0)
    a, b = f(tf.constant(2.0))
    assert (a.numpy(), b.numpy(), v.numpy()) == (8.0, 9.0, 9.0)
    assert f.experimental_get_tracing_count() == 1


def test_training_step_with_tape_inside_matches_eager():
    def make():
        return tf.Variable([[0.5, -0.25], [1.0, 2.0]]), tf.Variable([0.1, -0.1])
    x = tf.constant([[1.0, 2.0], [3.0, 4.0], [-1.0, 0.5]])

    def step(w, b):
        with tf.GradientTape() as tape:
            y = tf.matmul(x, w) + b
            loss = tf.reduce_sum(y * y)
        gw, gb = tape.gradient(loss, [w, b])
        w.assign_sub(0.01 * gw)
        b.assign_sub(0.01 * gb)
        return loss
    w1, b1 = make()
    w2, b2 = make()
    traced = tf.function(step)
    for _ in range(5):
        np.testing.assert_allclose(traced(w1, b1).numpy(), step(w2, b2).numpy(), rtol=1e-6)
    np.testing.assert_allclose(w1.numpy(), w2.numpy(), rtol=1e-6)
    np.testing.assert_allclose(b1.numpy(), b2.numpy(), rtol=1e-6)


def test_variable_creation_only_on_first_call():
    created = []

    @tf.function
    def f(x):
        if not created:  # the initial value is computed in the trace, from constants only
            created.append(tf.Variable(tf.constant([1.0, 1.0]) * 2.0))
        return created[0] + x
    np.testing.assert_allclose(f(tf.constant([1.0, 2.0])).numpy(), [3.0, 4.0])

    @tf.function
    def g(x):
        return tf.Variable(x * 0.0) + x
    with pytest.raises(ValueError, match="does not depend on the function's arguments"):
        g(tf.constant(1.0))
    calls = [0]

    @tf.function
    def h(x):
        calls[0] += 1
        tf.Variable(1.0)
        return x
    h(tf.constant(1.0))
    with pytest.raises(ValueError, match="singleton tf.Variables created on the first call"):
        h(tf.constant([1.0, 2.0]))


def test_input_signature_checks_and_concrete_function():
    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    def f(x):
        return tf.reduce_sum(x, axis=1)
    np.testing.assert_allclose(f(tf.constant([[1.0, 2.0]])).numpy(), [3.0])
    np.testing.assert_allclose(f(np.ones((3, 2), np.float32)).numpy(), [2.0, 2.0, 2.0])
    with pytest.raises(TypeError):
        f(tf.constant([[1, 2]]))
    with pytest.raises(TypeError):
        f(tf.constant([1.0, 2.0]))
    concrete = f.get_concrete_function()
    np.testing.assert_allclose(concrete(tf.constant([[1.0, 1.0]])).numpy(), [2.0])


def test_retracing_warning(caplog):
    @tf.function
    def f(x):
        return x * 2
    with caplog.at_level(logging.WARNING):
        for n in range(1, 7):
            f(tf.constant(np.ones(n, np.float32)))
    assert any("triggered tf.function retracing" in r.getMessage() for r in caplog.records)


def test_run_functions_eagerly_switch():
    calls = []

    @tf.function
    def f(x):
        calls.append(1)
        return x + 1
    tf.config.run_functions_eagerly(True)
    try:
        f(tf.constant(1))
        f(tf.constant(1))
        assert tf.config.functions_run_eagerly()
    finally:
        tf.config.run_functions_eagerly(False)
    assert len(calls) == 2 and f.experimental_get_tracing_count() == 0


def test_methods_and_nested_outputs():
    class Model:
        def __init__(self):
            self.w = tf.Variable(2.0)

        @tf.function
        def __call__(self, x):
            return [x * self.w, (x, None, "tag")]
    m1, m2 = Model(), Model()
    m2.w.assign(3.0)
    out1, out2 = m1(tf.constant(1.0)), m2(tf.constant(1.0))
    assert out1[0].numpy() == 2.0 and out2[0].numpy() == 3.0
    assert out1[1][1] is None and out1[1][2] == "tag"


def test_graph_passes_fold_merge_and_prune():
    @tf.function
    def f(x):
        c = tf.constant(2.0) * tf.constant(3.0)   # folded
        a = x * c
        b = x * c                                  # merged with a
        unused = x * 100.0                         # dropped  # noqa: F841
        return a + b
    np.testing.assert_allclose(f(tf.constant(1.0)).numpy(), 12.0)
    concrete = f.get_concrete_function(tf.constant(1.0))
    assert concrete._plan.n_steps == 2


def test_outer_tape_sees_ops_of_a_function():
    w = tf.Variable(3.0)

    @tf.function
    def f(x):
        return w * x * x
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    gx, gw = tape.gradient(y, [x, w])
    assert (gx.numpy(), gw.numpy()) == (12.0, 4.0)


def test_cond_eager_and_traced_with_gradient():
    def f(x):
        return tf.cond(x > 0.0, lambda: x * x, lambda: -x * 3.0)
    traced = tf.function(f)

    def grad(fn, v):
        x = tf.constant(v)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        return y, tape.gradient(y, x)

    @tf.function
    def traced_grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = f(x)
        return y, tape.gradient(y, x)
    for v in (2.0, -2.0):
        ey, eg = grad(f, v)
        ty, tg = traced_grad(tf.constant(v))
        assert traced(tf.constant(v)).numpy() == ey.numpy() == ty.numpy()
        assert eg.numpy() == tg.numpy()


def test_cond_with_side_effects_runs_only_taken_branch():
    v = tf.Variable(0)

    @tf.function
    def f(x):
        return tf.cond(x > 0, lambda: v.assign_add(1).read_value(),
                       lambda: v.assign_sub(1).read_value())
    f(tf.constant(1))
    f(tf.constant(1))
    f(tf.constant(-1))
    assert v.numpy() == 1


def test_while_loop_eager_and_traced():
    def f(n):
        i, s = tf.while_loop(lambda i, s: i < n, lambda i, s: (i + 1, s + i),
                             [tf.constant(0), tf.constant(0)])
        return s
    traced = tf.function(f)
    for n in (10, 5, 0):
        assert traced(tf.constant(n)).numpy() == f(tf.constant(n)).numpy() == sum(range(n))
    assert traced.experimental_get_tracing_count() == 1
    out = tf.while_loop(lambda i: i < 10, lambda i: i + 1, [0], maximum_iterations=4)
    assert out[0].numpy() == 4


def test_while_loop_shape_change_is_an_error():
    @tf.function
    def f(x):
        return tf.while_loop(lambda v: tf.reduce_sum(v) < 10.0,
                             lambda v: tf.concat([v, v], 0), [x])
    with pytest.raises(ValueError, match="shape_invariants"):
        f(tf.constant([1.0]))


def test_untraceable_function_falls_back_to_eager(caplog):
    @tf.function
    def f(x):
        return tf.boolean_mask(x, x > 0.0)
    with caplog.at_level(logging.WARNING):
        out = f(tf.constant([1.0, -1.0, 2.0]))
    np.testing.assert_allclose(out.numpy(), [1.0, 2.0])
    assert any("cannot be traced" in r.getMessage() for r in caplog.records)


def test_symbolic_tensor_leaking_out_of_a_trace_is_refused():
    leaked = []

    @tf.function
    def f(x):
        leaked.append(x * 2.0)
        return x

    @tf.function
    def g(x):
        return x + leaked[0]
    f(tf.constant(1.0))
    with pytest.raises(tf.errors.InvalidArgumentError, match="another tf.function trace"):
        g(tf.constant(1.0))


def test_returning_an_assigned_variable_gives_its_new_value():
    v = tf.Variable(1.0)

    @tf.function
    def f():
        v.assign_add(2.0)
        return v
    assert f().numpy() == 3.0 and f().numpy() == 5.0


def test_shape_arithmetic_stays_traced():
    @tf.function
    def f(x):
        return tf.reshape(x, [tf.shape(x)[0], -1]) * 2.0
    assert f(tf.ones((2, 3, 2))).shape == (2, 6)
    assert f._eager_only is None and f.experimental_get_tracing_count() == 1


def test_random_draws_inside_a_function_are_new_on_every_call():
    from tapeflow import keras
    dropout = keras.layers.Dropout(0.5)
    draws = {
        "uniform": lambda: tf.random.uniform([64]) * 1.0,
        "uniform_int": lambda: tf.random.uniform([64], maxval=1000, dtype=tf.int32) + 0,
        "normal": lambda: tf.random.normal([64]) + 0.0,
        "truncated": lambda: tf.random.truncated_normal([64]) + 0.0,
        "shuffle": lambda: tf.random.shuffle(tf.range(64)) + 0,
        "categorical": lambda: tf.random.categorical(tf.zeros((1, 1000)), 64) + 0,
        "dropout": lambda: dropout(tf.ones(64), training=True) + 0.0,
    }
    for name, draw in draws.items():
        fn = tf.function(draw)
        first, second = fn().numpy(), fn().numpy()
        assert first.shape == second.shape and not np.array_equal(first, second), name
        assert fn.experimental_get_tracing_count() == 1


def test_gradient_of_a_scalar_step_folds_to_a_few_kernels_and_matches_eager():
    x_eager, x_graph = tf.Variable(0.0), tf.Variable(0.0)

    def step(x):
        with tf.GradientTape() as tape:
            y = x * x - 4.0 * x + 4.0
        x.assign_sub(0.01 * tape.gradient(y, x))

    fn = tf.function(lambda: step(x_graph))
    for _ in range(50):
        step(x_eager)
        fn()
    assert x_graph.numpy() == x_eager.numpy()
    # ones_like of the static-shaped seed gradient folds with what follows from it: a read,
    # five kernels and the write (it was 14 steps)
    assert fn.get_concrete_function()._plan.n_steps <= 7


def test_retracing_warning_goes_to_the_tensorflow_logger(caplog):
    import logging
    fn = tf.function(lambda x: x + 1)
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for n in range(1, 7):
            fn(tf.ones(n))
    messages = [r.getMessage() for r in caplog.records if r.name == "tensorflow"]
    assert len(messages) == 1 and messages[0].startswith("5 out of the last 5 calls to ")
