"""jit_compile=True (torch.compile of the plan) and tf.print's formatting against TF's."""
import sys

import numpy as np
import pytest

import tapeflow as tf


def test_jit_compile_matches_plain_plan():
    def f(x, y):
        return tf.nn.relu(x * y + x) * 2.0 - tf.reduce_sum(y)
    x = tf.constant([[1.0, -2.0], [3.0, 4.0]])
    y = tf.constant([[0.5, 1.0], [-1.0, 2.0]])
    jitted = tf.function(f, jit_compile=True)
    np.testing.assert_allclose(jitted(x, y).numpy(), f(x, y).numpy(), rtol=1e-6)
    np.testing.assert_allclose(jitted(y, x).numpy(), f(y, x).numpy(), rtol=1e-6)


PRINTS = [
    lambda m: m.print(m.constant([1.5, 2.0, 3.25]), "hello", m.constant(3), output_stream=sys.stdout),
    lambda m: m.print(m.range(10), output_stream=sys.stdout),
    lambda m: m.print(m.reshape(m.range(12.0), (3, 4)), output_stream=sys.stdout),
    lambda m: m.print(m.reshape(m.range(60), (3, 4, 5)), output_stream=sys.stdout),
    lambda m: m.print(m.constant(True), m.constant(["a", "b"]), [1, m.constant(2)],
                      {"a": m.constant(1.0)}, output_stream=sys.stdout),
    lambda m: m.print(m.constant(0.1), m.constant(1e-8), m.constant(123456789.0),
                      output_stream=sys.stdout),
    lambda m: m.print(m.constant(1.0, m.float64) / 3, sep=",", end="!\n",
                      output_stream=sys.stdout),
    lambda m: m.print(m.range(100), summarize=2, output_stream=sys.stdout),
]


@pytest.mark.parametrize("call", PRINTS)
def test_print_format_matches_tf(realtf, capfd, call):
    call(realtf)
    theirs = capfd.readouterr().out
    call(tf)
    assert capfd.readouterr().out == theirs


def test_print_inside_function_goes_to_stderr_every_call(capfd):
    @tf.function
    def f(x):
        tf.print("x =", x)
        return x
    f(tf.constant(1))
    f(tf.constant(2))
    assert capfd.readouterr().err == "x = 1\nx = 2\n"
