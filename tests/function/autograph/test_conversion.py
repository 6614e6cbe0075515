"""The conversion itself: what gets converted (user code, recursively) and what does not
(do_not_convert, tapeflow's own code, code without source), Python semantics kept for Python
values, trace-time side effects, the public `tf.autograph` API, and the user's line numbers."""
import logging
import traceback

import numpy as np
import pytest

import tapeflow as tf
from tapeflow.function.autograph import conversion


def _nesting(data):  # module level, calling itself from a generator expression
    if isinstance(data, (tuple, list)):
        return "(" + ",".join(_nesting(v) for v in data) + ")"
    return "T"


def test_a_recursive_module_function_called_from_converted_code_finds_itself():
    @tf.function
    def f(x):
        return tf.strings.length(_nesting((x, (x, [x]))))
    assert int(f(tf.constant(1.0))) == len("(T,(T,(T)))")


def test_to_code_shows_the_functional_form():
    def f(x):
        while x > 0:
            x -= 1
            if x == 3:
                break
        return x
    code = tf.autograph.to_code(f)
    assert code.startswith("def tf__f(x):")
    for piece in ("ag__.while_stmt(", "ag__.if_stmt(", "break_", "retval_"):
        assert piece in code
    compile(code, "<to_code>", "exec")  # it is Python


def test_to_graph_runs_eagerly_and_in_a_function():
    def f(x):
        if x > 0:
            y = x * x
        else:
            y = -x
        return y
    g = tf.autograph.to_graph(f)
    assert [int(g(tf.constant(v))) for v in (3, -3)] == [9, 3]
    assert int(tf.function(g)(tf.constant(-4))) == 4


def test_to_graph_of_a_method_takes_self():
    class Scale:
        k = 3

        def apply(self, x):
            for _ in tf.range(2):
                x = x * self.k
            return x
    g = tf.autograph.to_graph(Scale.apply)
    assert int(tf.function(g)(Scale(), tf.constant(2))) == 18


def test_python_values_keep_python_semantics(capsys):
    @tf.function
    def f(x, flag):
        for i in range(3):          # unrolled while tracing
            print("iteration", i)
            x = x + i
        if flag:                    # a Python condition: only one branch is traced
            print("flag branch")
        return x
    assert int(f(tf.constant(1), True)) == 4
    assert int(f(tf.constant(1), True)) == 4
    out = capsys.readouterr().out
    assert out.splitlines() == ["iteration 0", "iteration 1", "iteration 2", "flag branch"]


def test_tensor_branches_are_each_traced_once(capsys):
    @tf.function
    def f(x):
        if x > 0:
            print("true branch")
        else:
            print("false branch")
        while x < 10:
            print("loop body")
            x = x + 1
        return x
    assert [int(f(tf.constant(v))) for v in (1, 20, -3)] == [10, 20, 10]
    assert capsys.readouterr().out.splitlines() == ["true branch", "false branch", "loop body"]


def test_called_functions_are_converted_recursively():
    def inner(a):
        while a < 100:
            a = a * 3
        return a

    def middle(a):
        return inner(a) + (1 if a > 0 else 2)

    @tf.function
    def outer(a):
        return middle(a)
    assert int(outer(tf.constant(2))) == 163


def test_closures_nonlocal_and_globals():
    base = tf.constant(10)

    def make():
        total = tf.constant(0)

        @tf.function
        def add(n):
            nonlocal total
            for i in tf.range(n):
                if i % 2 == 0:
                    total = total + i + base
            return total
        return add
    assert int(make()(tf.constant(5))) == 36


def test_do_not_convert_runs_python_as_is():
    @tf.autograph.experimental.do_not_convert
    def raw(x):
        if x > 0:
            return x
        return -x

    @tf.function
    def f(x):
        return raw(x)
    with pytest.raises(tf.errors.OperatorNotAllowedInGraphError):
        f(tf.constant(1))
    assert int(raw(tf.constant(-2))) == 2  # eagerly it is the plain function


def test_autograph_false_turns_conversion_off_for_the_calls_too():
    def helper(x):
        if x > 0:
            return x
        return -x

    @tf.function(autograph=False)
    def f(x):
        return helper(x)
    with pytest.raises(tf.errors.OperatorNotAllowedInGraphError):
        f(tf.constant(1))


def test_what_is_not_converted():
    assert not conversion.convertible(tf.keras.Model.train_step)  # tapeflow's own code
    assert not conversion.convertible(np.mean)                 # NumPy
    namespace = {}
    exec("def f(x):\n    return x\n", namespace)               # no source file
    assert not conversion.convertible(namespace["f"])

    def gen():
        yield 1
    assert not conversion.convertible(gen)

    def user(x):
        return x
    assert conversion.convertible(user)


def test_unconvertible_function_runs_as_is_with_tfs_warning(caplog):
    namespace = {"tf": tf}
    exec("def f(x):\n    return x + 1\n", namespace)

    @tf.function
    def g(x):
        return namespace["f"](x)
    with caplog.at_level(logging.WARNING):
        assert int(g(tf.constant(1))) == 2
    assert "could not transform" not in caplog.text  # dynamic code is left alone silently


def test_errors_point_at_the_users_line():
    @tf.function
    def f(x):
        y = x
        if x > 0:
            y = tf.reshape(x, [5])   # the bad line
        return y
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        f(tf.constant(1.0))
    text = str(info.value)
    assert text.startswith("in user code:")
    assert "y = tf.reshape(x, [5])   # the bad line" in text and ", in f  *" in text
    frames = traceback.extract_tb(info.value.__traceback__)
    assert any(fr.name == "if_body" and fr.line.startswith("y = tf.reshape") for fr in frames)


def test_equality_operators_feature():
    @tf.function(experimental_autograph_options=tf.autograph.experimental.Feature.EQUALITY_OPERATORS)
    def f(i):
        if i == 0:
            return 1
        return 2
    assert [int(f(tf.constant(v))) for v in (0, 5)] == [1, 2]
    assert conversion.features(tf.autograph.experimental.Feature.ALL) == \
        frozenset(tf.autograph.experimental.Feature.all())


def test_set_loop_options_maximum_iterations():
    @tf.function
    def f(n):
        i = tf.constant(0)
        while i < n:
            tf.autograph.experimental.set_loop_options(maximum_iterations=3)
            i += 1
        return i
    assert int(f(tf.constant(100))) == 3


def test_run_functions_eagerly_skips_conversion(capsys):
    @tf.function
    def f(x):
        if x > 0:
            print("eager branch")
        return x
    tf.config.run_functions_eagerly(True)
    try:
        f(tf.constant(1))
        f(tf.constant(-1))
    finally:
        tf.config.run_functions_eagerly(False)
    assert capsys.readouterr().out.splitlines() == ["eager branch"]


def test_conversion_is_cached():
    def f(x):
        return x + 1
    options = conversion.ConversionOptions()
    assert conversion.convert(f, options).__code__ is conversion.convert(f, options).__code__


def test_assert_statements_feature():
    @tf.function(experimental_autograph_options=(
        tf.autograph.experimental.Feature.ASSERT_STATEMENTS,))
    def f(x):
        assert x > 0, "x must be positive"
        return x * 2
    assert int(f(tf.constant(2))) == 4
    with pytest.raises(tf.errors.InvalidArgumentError, match="x must be positive"):
        f(tf.constant(-2))


def test_a_pure_tensor_if_keeps_one_trace_for_every_size():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def f(x):
        if tf.reduce_sum(x) > 0:
            x = x * 2.0
        return x
    assert f(tf.constant([1.0, -2.0, 3.0])).numpy().tolist() == [2.0, -4.0, 6.0]
    assert f(tf.constant([-5.0])).numpy().tolist() == [-5.0]
    assert f.experimental_get_tracing_count() == 1


def test_a_loop_over_a_none_dimension_traces_each_size():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def f(x):
        s = tf.constant(0.0)
        for v in x:
            if v > 0:
                s += v
        return s
    assert [float(f(tf.constant(v))) for v in ([1.0, -2.0, 3.0], [5.0])] == [4.0, 5.0]
