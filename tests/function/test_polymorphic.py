"""One trace for every size of an input signature's `None` dimensions (function/polymorphic.py),
and the per-size traces that replace it when the function used a size in Python."""
import numpy as np
import pytest

import tapeflow as tf


def _counted(fn):
    calls = []

    def traced(*args):
        calls.append(1)
        return fn(*args)
    return traced, calls


def _rows(n, cols=3, seed=0):
    return tf.constant(np.random.default_rng(seed + n).standard_normal((n, cols)),
                       tf.float32)


def test_one_trace_serves_every_batch_size_with_eager_values_and_gradients():
    w = tf.Variable(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))

    def loss(x):
        h = tf.nn.relu(tf.matmul(x, w))
        flat = tf.reshape(h, [tf.shape(x)[0], -1])
        return tf.reduce_mean(tf.square(flat)) + tf.reduce_sum(h) / tf.cast(tf.size(h),
                                                                            tf.float32)

    body, calls = _counted(loss)
    fn = tf.function(body, input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    for n in (4, 1, 7, 4):
        x = _rows(n)
        with tf.GradientTape() as tape:
            tape.watch(x)
            got = fn(x)
        gx, gw = tape.gradient(got, [x, w])
        with tf.GradientTape() as tape:
            tape.watch(x)
            want = loss(x)
        ex, ew = tape.gradient(want, [x, w])
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
        np.testing.assert_allclose(gx.numpy(), ex.numpy(), rtol=1e-6)
        np.testing.assert_allclose(gw.numpy(), ew.numpy(), rtol=1e-6)
        np.testing.assert_allclose(fn(x).numpy(), want.numpy(), rtol=1e-6)  # the plan path
    assert len(calls) == 1 and fn.experimental_get_tracing_count() == 1


def test_training_step_with_an_inner_tape_and_variable_updates_for_any_batch():
    w = tf.Variable(tf.ones((3, 2)))
    w_eager = tf.Variable(tf.ones((3, 2)))

    def step(x, var):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.matmul(x, var)))
        var.assign_sub(0.1 * tape.gradient(loss, var))
        return loss

    body, calls = _counted(lambda x: step(x, w))
    fn = tf.function(body, input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    for n in (5, 2, 9):
        x = _rows(n, seed=1)
        np.testing.assert_allclose(fn(x).numpy(), step(x, w_eager).numpy(), rtol=1e-6)
        np.testing.assert_allclose(w.numpy(), w_eager.numpy(), rtol=1e-6)
    assert len(calls) == 1


def test_inside_the_trace_none_dims_show_as_none_and_len_is_refused():
    seen = []

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.int32)])
    def f(x):
        seen.append(x.shape.as_list())
        return x * 2

    np.testing.assert_array_equal(f(tf.constant([[1, 2]])).numpy(), [[2, 4]])
    assert seen == [[None, 2]]

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def uses_len(x):
        return x * float(len(x))  # TF refuses len(); the per-size traces can do it

    np.testing.assert_allclose(uses_len(tf.constant([1.0, 2.0])).numpy(), [2.0, 4.0])
    np.testing.assert_allclose(uses_len(tf.constant([1.0, 2.0, 3.0])).numpy(), [3.0, 6.0, 9.0])


def test_sizes_used_as_python_values_get_one_trace_per_shape_with_right_values():
    body, calls = _counted(lambda x: x[: int(tf.shape(x)[0]) // 2] * 3.0)
    fn = tf.function(body, input_signature=[tf.TensorSpec([None], tf.float32)])
    for n in (4, 6, 4):
        x = tf.range(float(n))
        np.testing.assert_allclose(fn(x).numpy(), np.arange(n // 2) * 3.0)
    # the dropped all-sizes trace, then one trace per shape
    assert len(calls) == 3


def test_values_computed_from_sizes_run_with_the_actual_sizes():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def f(x):
        n = tf.shape(x)[0]
        return (tf.reduce_sum(x) / tf.cast(n - 1, tf.float32), tf.cast(n > 2, tf.int32),
                tf.minimum(n, 3), tf.random.uniform(tf.shape(x)) * 0.0 + 1.0)

    for n in (2, 5):
        s, big, m, ones = f(tf.ones(n))
        assert (s.numpy(), big.numpy(), m.numpy()) == (n / (n - 1), int(n > 2), min(n, 3))
        np.testing.assert_array_equal(ones.numpy(), np.ones(n))
    assert f.experimental_get_tracing_count() == 1


def test_get_concrete_function_with_a_none_spec_serves_every_size():
    @tf.function
    def double(x):
        return x + x

    conc = double.get_concrete_function(tf.TensorSpec([None], tf.float32))
    for n in (1, 3):
        np.testing.assert_array_equal(conc(tf.ones(n)).numpy(), np.full(n, 2.0))
    assert double.experimental_get_tracing_count() == 1


def test_sizes_that_do_not_fit_the_trace_fall_back_to_their_own_trace():
    body, calls = _counted(lambda x: x + tf.constant([1.0, 2.0, 3.0]))
    fn = tf.function(body, input_signature=[tf.TensorSpec([None], tf.float32)])
    np.testing.assert_array_equal(fn(tf.ones(3)).numpy(), [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(fn(tf.ones(1)).numpy(), [2.0, 3.0, 4.0])  # broadcasts
    with pytest.raises(tf.errors.InvalidArgumentError):
        fn(tf.ones(2))


@pytest.mark.parametrize("layers, shape, traces", [
    (lambda L: [L.Dense(16, "relu"), L.Dropout(0.3), L.BatchNormalization(), L.Dense(3)],
     (8,), 1),
    (lambda L: [L.LSTM(6, return_sequences=True), L.GRU(5), L.Dense(2)], (None, 4), 1),
    (lambda L: [L.Conv2D(4, 3), L.MaxPooling2D(), L.Flatten(), L.Dense(2)], (10, 10, 1), 1),
    # SimpleRNN steps through time in Python: it needs the length, so one trace per shape
    (lambda L: [L.SimpleRNN(3), L.Dense(2)], (None, 4), 3),
])
def test_keras_models_under_a_none_batch_signature(layers, shape, traces):
    from tapeflow import keras
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape)] + layers(keras.layers))
    calls = []

    def forward(x):
        calls.append(1)
        return model(x, training=False)

    fn = tf.function(forward, input_signature=[tf.TensorSpec((None,) + shape, tf.float32)])
    rng = np.random.default_rng(0)
    for n, t in ((3, 5), (6, 2)):
        x = tf.constant(rng.standard_normal((n,) + tuple(t if d is None else d
                                                           for d in shape)), tf.float32)
        np.testing.assert_allclose(fn(x).numpy(), model(x, training=False).numpy(),
                                   rtol=1e-5, atol=1e-6)
    assert len(calls) == traces


def test_reduce_retracing_relaxes_the_dimensions_that_changed():
    traced_shapes = []

    @tf.function(reduce_retracing=True)
    def f(x, k):
        traced_shapes.append(x.shape.as_list())
        return tf.reduce_sum(x, axis=0) * k

    for shape in ((2, 3), (4, 3), (7, 3), (5, 3)):
        x = tf.ones(shape)
        np.testing.assert_array_equal(f(x, 2.0).numpy(), np.full(3, 2.0 * shape[0]))
    assert traced_shapes == [[2, 3], [None, 3]]   # TF: the first exact, then relaxed
    f(tf.ones((2, 5)), 2.0)                       # a second dimension changes too
    f(tf.ones((9, 1)), 2.0)
    assert traced_shapes[2:] == [[None, None]]
    f(tf.ones((2, 3)), 3.0)                       # a new Python value: a new trace
    assert f.experimental_get_tracing_count() == 4


def test_a_dropped_all_sizes_trace_leaves_variable_creation_to_the_trace_replacing_it():
    made = []

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def f(x):
        v = tf.Variable(2.0)             # created unconditionally: fine for one trace in TF
        made.append(v)
        return x[: int(tf.shape(x)[0])] * v   # a Python int from the size drops the trace

    np.testing.assert_array_equal(f(tf.ones(3)).numpy(), [2.0, 2.0, 2.0])
    assert len(made) == 2                # the dropped trace's, then the one in use
