"""tf.debugging.check_numerics / assert_all_finite against real TF: values, error texts, the
checked gradient, and inside tf.function."""
import numpy as np
import pytest

import tapeflow as tf
from tests.gradcheck import GradCase
from tests.parity import assert_same, error_of

GRAD_CASES = [
    GradCase("CheckNumerics", lambda x: tf.debugging.check_numerics(x * x, "m"),
             [np.array([0.5, -1.5, 2.0])]),
]


@pytest.mark.parametrize("value,dtype", [
    ([1.0, 2.0], "float32"), ([1.0, np.nan], "float32"), ([np.inf, 1.0], "float64"),
    ([-np.inf, np.nan], "float32"), ([1.5, np.nan], "float16"), ([np.nan], "bfloat16"),
    ([1, 2], "int32"),
])
def test_check_numerics_matches_tf(realtf, value, dtype):
    def run(m):
        return m.debugging.check_numerics(m.constant(value, getattr(m, dtype)), "bad x")
    assert error_of(lambda: run(tf)) == error_of(lambda: run(realtf))
    if error_of(lambda: run(realtf)) is None:
        assert_same(run(tf), run(realtf))


def test_check_numerics_in_function_and_gradient(realtf):
    f = tf.function(lambda x: tf.debugging.assert_all_finite(x * 2.0, "in f"))
    assert_same(f(tf.constant([1.0])), tf.constant([2.0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="in f : Tensor had NaN values"):
        f(tf.constant([np.nan]))

    def grad_error(m):
        x = m.constant([0.0])
        with m.GradientTape() as tape:
            tape.watch(x)
            y = m.debugging.check_numerics(m.sqrt(x), "root")
        return error_of(lambda: tape.gradient(y, x))
    assert grad_error(tf) == grad_error(realtf)


@pytest.mark.parametrize("data,summarize", [
    (["x is", [1, 2]], None), (["many", np.arange(8)], None), (["all", np.arange(5)], -1),
    ([np.float32(2.5), "scalar"], None), (["none", 7], 0),
])
def test_assert_eager_matches_tf(realtf, data, summarize):
    def run(m):
        return m.debugging.Assert(m.constant(False), data, summarize=summarize)
    assert error_of(lambda: run(tf)) == error_of(lambda: run(realtf))
    assert tf.debugging.Assert(tf.constant(True), data) is None
    assert tf.Assert is tf.debugging.Assert


def test_assert_in_function_checks_each_run(realtf):
    @tf.function
    def f(x):
        tf.debugging.Assert(x > 0, ["x is", x])
        return x * 2
    assert int(f(tf.constant(3))) == 6
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"assertion failed: \[x is\] \[-1\]"):
        f(tf.constant(-1))
    with pytest.raises(TypeError):
        tf.debugging.Assert(tf.constant(1), ["not a bool"])
