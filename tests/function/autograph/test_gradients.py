"""Converted control flow under GradientTapes: tapes inside a trace differentiate graph loops
and conds (no eager fallback), tapes outside still see the right gradients, and training
loops give the same numbers eagerly and as tf.functions."""
import io
import logging

import numpy as np
import pytest

import tapeflow as tf
from tapeflow import keras


def _eager_and_traced(fn, *args):
    traced = tf.function(fn)
    return fn(*args), traced(*args)


def _close(a, b):
    for x, y in zip(tf.nest.flatten(a), tf.nest.flatten(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-6)


@pytest.fixture
def no_fallback(caplog):
    with caplog.at_level(logging.WARNING):
        yield
    assert "cannot be traced" not in caplog.text


def _nested_loop_grad(x, n):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.zeros_like(x)
        for i in tf.range(n):
            j = tf.constant(0)
            while j < i:
                y = y + tf.sin(x * tf.cast(j + 1, tf.float32))
                j += 1
    return y, tape.gradient(y, x)


def _cond_with_effect_grad(x):
    sink = io.StringIO()
    with tf.GradientTape() as tape:
        tape.watch(x)
        if tf.reduce_sum(x) > 0:
            tf.print("positive", output_stream=sink)
            y = tf.reduce_sum(tf.exp(x) * x)
        else:
            y = tf.reduce_sum(x ** 3)
    return y, tape.gradient(y, x)


@pytest.mark.parametrize("fn,args", [
    (_nested_loop_grad, (tf.constant([0.3, -1.2]), tf.constant(4))),
    (_cond_with_effect_grad, (tf.constant([0.5, 0.25]),)),
    (_cond_with_effect_grad, (tf.constant([-0.5, 0.25]),)),
], ids=["nested loops", "cond taken", "cond not taken"])
def test_tape_inside_trace_differentiates_graph_control_flow(fn, args, no_fallback):
    eager, traced = _eager_and_traced(fn, *args)
    _close(eager, traced)


def test_variables_read_in_a_loop_body_get_their_gradient(no_fallback):
    w = tf.Variable([[0.5, -0.25], [0.1, 0.3]])
    b = tf.Variable([0.05, -0.1])

    def rnn_loss(inputs):
        with tf.GradientTape() as tape:
            state = tf.zeros([2, 2])
            states = tf.TensorArray(tf.float32, size=inputs.shape[0])
            for t in tf.range(inputs.shape[0]):
                state = tf.tanh(tf.matmul(inputs[t] + state, w) + b)
                states = states.write(t, state)
            loss = tf.reduce_sum(states.stack() ** 2)
        return loss, tape.gradient(loss, [w, b])
    inputs = tf.reshape(tf.range(12, dtype=tf.float32) / 7.0, [3, 2, 2])
    eager, traced = _eager_and_traced(rnn_loss, inputs)
    _close(eager, traced)


def test_dataset_loop_inside_a_tape(no_fallback):
    w = tf.Variable(0.7)
    ds = tf.data.Dataset.from_tensor_slices(np.array([0.5, -1.0, 2.0], np.float32))

    def loss_over(ds):
        with tf.GradientTape() as tape:
            total = tf.constant(0.0)
            for x in ds:
                total += tf.square(x * w - 1.0)
        return total, tape.gradient(total, w)
    eager, traced = _eager_and_traced(loss_over, ds)
    _close(eager, traced)


def test_training_loop_same_numbers_eagerly_and_traced(no_fallback):
    features = tf.constant([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    labels = tf.constant([[1.0], [0.0], [2.0]])
    runs = []
    for wrap in (lambda f: f, tf.function):
        w = tf.Variable([[0.5], [-0.25]])
        opt = keras.optimizers.SGD(0.05)

        def step(n):
            with tf.GradientTape() as tape:
                loss = tf.constant(0.0)
                for i in tf.range(n):
                    pred = tf.matmul(features, w)
                    loss += tf.reduce_mean((pred - labels) ** 2) / tf.cast(i + 1, tf.float32)
                if loss > 100.0:
                    loss = loss / 10.0
            opt.apply_gradients([(tape.gradient(loss, w), w)])
            return loss
        step = wrap(step)
        losses = [float(step(tf.constant(3))) for _ in range(4)]
        runs.append((losses, w.numpy()))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-6)
    np.testing.assert_allclose(runs[0][1], runs[1][1], rtol=1e-6)


def test_tape_outside_a_function_with_a_graph_loop():
    @tf.function
    def power(x, n):
        y = tf.ones_like(x)
        for _ in tf.range(n):
            y = y * x
        return y
    x = tf.constant(1.5)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = power(x, tf.constant(3))
        dy = inner.gradient(y, x)
    np.testing.assert_allclose([dy.numpy(), outer.gradient(dy, x).numpy()],
                               [3 * 1.5 ** 2, 6 * 1.5], rtol=1e-6)


def test_fit_with_a_converted_call_and_train_step():
    class Gate(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 1), initializer="ones")

        def call(self, x):
            y = tf.matmul(x, self.w)
            if tf.reduce_mean(y) > 0:
                y = y * 2.0
            else:
                y = -y
            return y

    class Model(keras.Sequential):
        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean((self(x, training=True) - y) ** 2)
                for _ in tf.range(2):
                    loss = loss * 1.0
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            return {"loss": loss}

    x = np.linspace(-1, 1, 24).reshape(8, 3).astype(np.float32)
    y = np.ones((8, 1), np.float32)
    weights = []
    for eager in (False, True):
        m = Model([keras.Input((3,)), Gate()])
        m.compile(optimizer=keras.optimizers.SGD(0.1), run_eagerly=eager)
        m.fit(x, y, epochs=2, batch_size=4, verbose=0, shuffle=False)
        weights.append(m.layers[0].w.numpy())
    np.testing.assert_allclose(weights[0], weights[1], rtol=1e-6)
    assert not np.allclose(weights[0], 1.0)


def test_second_order_through_a_loop_inside_a_trace_runs_eagerly(caplog):
    def f(x):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = x
                for _ in tf.range(2):
                    y = y * x
            dy = inner.gradient(y, x)
        return dy, outer.gradient(dy, x)
    with caplog.at_level(logging.WARNING):
        dy, d2y = tf.function(f)(tf.constant(1.5))
    np.testing.assert_allclose([dy.numpy(), d2y.numpy()], [3 * 1.5 ** 2, 6 * 1.5], rtol=1e-6)
    assert "higher-order gradient" in caplog.text
