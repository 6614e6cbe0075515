"""jit_compile=True (function/jit.py): torch.compile of the plan gives the plain plan's numbers,
host checks raise TF's errors from inside the compiled step, and a plan torch.compile cannot
take runs uncompiled after one warning, with its variables as if compiled never started.

Inductor compiles take seconds here, so only two tests use it; the others use torch.compile's
lighter backends, which exercise the same graph breaks and fallbacks."""
import logging
import sys

import numpy as np
import pytest

import tapeflow as tf
from tapeflow import keras
from tapeflow.function import jit


def _seed_fit(jit_compile, x, y):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(512, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=jit_compile)
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
    return history.history, [w.numpy() for w in model.weights]


def test_keras_seed_model_trains_the_same_with_jit_compile():
    # the model of issue 13: its oneDNN products and its label check once broke Inductor
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 784), dtype=np.float32), rng.integers(0, 10, 64)
    plain, plain_weights = _seed_fit(False, x, y)
    jitted, jit_weights = _seed_fit(True, x, y)
    np.testing.assert_allclose(jitted["loss"], plain["loss"], rtol=1e-5)
    assert jitted["accuracy"] == plain["accuracy"]
    for a, b in zip(jit_weights, plain_weights):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_function_with_variables_matches_plain_plan():
    def make():
        w, count = tf.Variable([[1.0, -1.0], [0.5, 2.0]]), tf.Variable(0)

        def step(x):
            count.assign_add(1)
            w.assign_sub(0.1 * tf.matmul(x, w, transpose_a=True))
            return tf.reduce_sum(tf.nn.relu(x @ w)), w.read_value()
        return step, w, count
    (plain, pw, pc), (jitted, jw, jc) = make(), make()
    plain, jitted = tf.function(plain), tf.function(jitted, jit_compile=True)
    for x in (tf.constant([[1.0, 2.0], [3.0, -4.0]]), tf.constant([[0.5, 0.5], [1.0, 0.0]])):
        for a, b in zip(jitted(x), plain(x)):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    np.testing.assert_allclose(jw.numpy(), pw.numpy(), rtol=1e-6)
    assert int(jc) == int(pc) == 2


@pytest.fixture
def light_backend(monkeypatch):
    monkeypatch.setattr(jit, "BACKEND", "aot_eager")


def _error_and_state(jit_compile):
    v = tf.Variable(1.0)

    @tf.function(jit_compile=jit_compile)
    def step(labels, logits):
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
        v.assign_add(tf.debugging.check_numerics(loss, "loss"))
        return v.read_value()
    logits = tf.constant([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]])
    good = float(step(tf.constant([0, 2]), logits))
    try:
        step(tf.constant([0, 3]), logits)
    except Exception as e:  # noqa: BLE001 - compared between the two plans
        error = (type(e).__name__, str(e))
    else:
        error = None
    bad_logits = tf.constant([[np.nan, 2.0, 3.0], [0.5, 0.5, 0.5]])
    try:
        step(tf.constant([0, 2]), bad_logits)
    except Exception as e:  # noqa: BLE001
        nan_error = (type(e).__name__, str(e))
    else:
        nan_error = None
    return good, error, nan_error, float(v)


def test_host_checks_raise_the_plain_plans_errors_and_leave_variables(light_backend):
    plain, jitted = _error_and_state(False), _error_and_state(True)
    assert jitted == plain
    assert "Received a label value of 3 which is outside the valid range of [0, 3)" in plain[1][1]
    assert "loss : Tensor had NaN values" in plain[2][1]


def test_tf_print_in_a_compiled_function_prints_every_call(light_backend, capfd):
    f = tf.function(lambda x: (tf.print("x =", x * 2, output_stream=sys.stdout), x + 1)[1],
                    jit_compile=True)
    assert [int(f(tf.constant(i))) for i in range(3)] == [1, 2, 3]
    assert capfd.readouterr().out == "x = 0\nx = 2\nx = 4\n"


def test_a_plan_torch_compile_cannot_take_runs_plain_after_one_warning(monkeypatch, caplog):
    calls = []

    def backend(graph_module, example_inputs):
        calls.append(1)
        if len(calls) == 2:  # the region after the graph break: the first one has already run
            raise RuntimeError("no code generator for this")
        return graph_module.forward
    monkeypatch.setattr(jit, "BACKEND", backend)
    v = tf.Variable(1.0)

    @tf.function(jit_compile=True)
    def step(x):
        v.assign_add(x)
        tf.print(v, output_stream=sys.stdout)  # a host step: compiled region, break, region
        return v * 2.0
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        results = [float(step(tf.constant(1.0))) for _ in range(3)]
    assert results == [4.0, 6.0, 8.0] and float(v) == 4.0  # each call added once
    warnings = [r.getMessage() for r in caplog.records if "jit_compile" in r.getMessage()]
    assert len(warnings) == 1 and "no code generator for this" in warnings[0]
