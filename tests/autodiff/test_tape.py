"""GradientTape against real TensorFlow: each program runs under both, results compared."""
import logging

import numpy as np
import pytest

import tapeflow as tf
from tapeflow._core import logs
from tapeflow.autodiff import tape as tape_module
from tapeflow.ops import _op
from tests.autodiff._same import assert_same_grads
from tests.gradcheck import GradCase
from tests.parity import error_of

R = np.random.default_rng(3)


def _read_variable(x):
    # The op a variable read records, applied to a tensor so the finite-difference check can
    # perturb its input (its gradient is the identity).
    return _op.execute(tape_module.READ_VARIABLE, lambda t: t, (x,))


GRAD_CASES = [
    GradCase("ReadVariableOp", _read_variable, [R.random((2, 3))]),
    GradCase("ReadVariableOp", _read_variable, [R.random(())]),
]


# -- programs: each takes the module (tapeflow or tensorflow) and returns gradients ---------

def var_square(m):
    x = m.Variable(3.0)
    with m.GradientTape() as t:
        y = x * x
    return t.gradient(y, x)


def watch_constant(m):
    x = m.constant([1.0, 2.0])
    with m.GradientTape() as t:
        t.watch(x)
        y = x * x * 3.0
    return t.gradient(y, x)


def watch_nested_structure(m):
    a, b, c = m.constant(1.0), m.constant(2.0), m.constant([3.0, 4.0])
    with m.GradientTape() as t:
        t.watch({"p": [a, (b,)], "q": c})
        y = a * b + b * c
    return t.gradient(y, {"p": [a, (b,)], "q": c})


def sources_single_list_tuple_dict(m):
    w, b = m.Variable([1.0, 2.0]), m.Variable(0.5)
    with m.GradientTape(persistent=True) as t:
        y = w * w + b
    return (t.gradient(y, w), t.gradient(y, [w, b]), t.gradient(y, (w, b)),
            t.gradient(y, {"w": w, "b": b}), t.gradient(y, {"x": [(w,), {"z": b}]}))


def list_targets_summed(m):
    x = m.Variable(2.0)
    with m.GradientTape() as t:
        y1, y2 = x * x, x * 3.0
    return t.gradient([y1, y2], x)


def nested_targets_summed(m):
    x = m.Variable(2.0)
    with m.GradientTape() as t:
        ys = {"a": x * x, "b": [x * 3.0, x * x * x]}
    return t.gradient(ys, x)


def non_scalar_target_summed(m):
    x = m.Variable([[1.0, 2.0], [3.0, 4.0]])
    with m.GradientTape() as t:
        y = x * m.constant([10.0, 100.0])
    return t.gradient(y, x)


def output_gradients(m):
    x = m.Variable([1.0, 2.0])
    with m.GradientTape(persistent=True) as t:
        y = x * x
        z = x * 3.0
    return (t.gradient(y, x, output_gradients=m.constant([1.0, 10.0])),
            t.gradient([y, z], x,
                       output_gradients=[m.constant([2.0, 2.0]), m.constant([1.0, 0.5])]),
            t.gradient(y, x, output_gradients=[m.constant([3.0, 4.0])]))


def intermediate_tensors(m):
    w, b = m.Variable(2.0), m.Variable(1.0)
    with m.GradientTape() as t:
        x1 = w * 3.0
        x2 = x1 * x1 + b
        loss = x2 * 0.5
    return t.gradient(loss, [w, b, x1, x2])


def unconnected(m):
    a, b = m.Variable(1.0), m.Variable([2.0, 3.0])
    with m.GradientTape(persistent=True) as t:
        y = a * 2.0
    return (t.gradient(y, [a, b]),
            t.gradient(y, [a, b], unconnected_gradients=m.UnconnectedGradients.ZERO),
            t.gradient(y, {"b": b}, unconnected_gradients="zero"),
            t.gradient(y, b, unconnected_gradients=m.UnconnectedGradients.NONE))


def integer_source_gives_none(m):
    x = m.constant(3)
    v = m.Variable(3)
    with m.GradientTape() as t:
        t.watch([x, v])
        y = x * x + v
    return t.gradient(y, [x, v])


def integer_target_gives_none(m):
    x = m.constant([3, 4])
    with m.GradientTape() as t:
        t.watch(x)
        y = x * 2
    return t.gradient(y, x, unconnected_gradients="zero")


def stop_recording(m):
    w = m.Variable(2.0)
    with m.GradientTape(persistent=True) as t:
        with t.stop_recording():
            y = w * w
        z = w * y
    return t.gradient(y, w), t.gradient(z, w)


def reset_inside(m):
    w = m.Variable(2.0)
    with m.GradientTape(persistent=True) as t:
        y = w * w
        t.reset()
        z = w * 5.0
    return t.gradient(y, w), t.gradient(z, w)


def no_auto_watch(m):
    w, u = m.Variable(2.0), m.Variable(3.0)
    with m.GradientTape(watch_accessed_variables=False, persistent=True) as t:
        t.watch(u)
        y = w * u
    return t.gradient(y, [w, u]), len(t.watched_variables())


def non_trainable_not_watched(m):
    w, n = m.Variable(2.0), m.Variable(3.0, trainable=False)
    with m.GradientTape(persistent=True) as t:
        y = w * n
    with m.GradientTape() as t2:
        t2.watch(n)
        y2 = w * n
    return t.gradient(y, [w, n]), t2.gradient(y2, [w, n])


def target_is_source(m):
    x = m.constant(2.0)
    w = m.Variable([1.0, 2.0])
    with m.GradientTape(persistent=True) as t:
        t.watch(x)
        y = m.constant(5.0) * 2.0
    return t.gradient(x, x), t.gradient(w, w), t.gradient(y, y)


def repeated_source(m):
    a, b = m.Variable(1.0), m.Variable(2.0)
    with m.GradientTape() as t:
        y = a * b
    return t.gradient(y, [a, a, b])


def persistent_twice(m):
    x = m.constant(3.0)
    with m.GradientTape(persistent=True) as g:
        g.watch(x)
        y = x * x
        z = y * y
    return g.gradient(z, x), g.gradient(y, x), g.gradient(z, y)


def broadcasting(m):
    a = m.Variable([[1.0], [2.0]])
    b = m.Variable([3.0, 4.0, 5.0])
    with m.GradientTape() as t:
        y = a * b - b / a
    return t.gradient(y, [a, b])


def float64_and_neg(m):
    c = m.Variable([2.0, -1.0], dtype=m.float64)
    with m.GradientTape() as t:
        y = -(c * c) / 3.0
    return t.gradient(y, c)


def acceleration(m):
    t = m.Variable(3.0)
    with m.GradientTape() as g:
        with m.GradientTape() as gg:
            position = 4.9 * t ** 2
        speed = gg.gradient(position, t)
    return speed, g.gradient(speed, t)


def third_derivative(m):
    x = m.constant(2.0)
    with m.GradientTape() as g3:
        g3.watch(x)
        with m.GradientTape() as g2:
            g2.watch(x)
            with m.GradientTape() as g1:
                g1.watch(x)
                y = x * x * x * x
            d1 = g1.gradient(y, x)
        d2 = g2.gradient(d1, x)
    return d1, d2, g3.gradient(d2, x)


def persistent_gradient_inside_context(m):
    x = m.Variable(3.0)
    with m.GradientTape(persistent=True) as t:
        y = x * x * x
        g = t.gradient(y, x)
    return g, t.gradient(g, x)


def non_persistent_gradient_inside_context_stops_recording(m):
    x = m.Variable(3.0)
    with m.GradientTape() as t:
        y = x * x
        g = t.gradient(y, x)
        z = x * 2.0  # not recorded: the tape popped itself
    return g, [v.name for v in t.watched_variables()]


def reentered_tape_is_fresh(m):
    x = m.Variable(3.0)
    t = m.GradientTape()
    with t:
        y = x * x
    first = t.gradient(y, x)
    with t:
        z = x * 5.0
    return first, t.gradient(z, x)


def stop_gradient(m):
    x = m.Variable([1.0, 2.0])
    with m.GradientTape() as t:
        y = x * m.stop_gradient(x * x) + x
    return t.gradient(y, x), m.stop_gradient(x)


def custom_gradient_program(m):
    @m.custom_gradient
    def clip_grad(x):
        def grad(dy):
            return dy * 0.5
        return x * x, grad
    x = m.constant([1.0, 2.0])
    with m.GradientTape() as t:
        t.watch(x)
        y = clip_grad(x) * 3.0
    return t.gradient(y, x)


def outer_tape_not_watching(m):
    x = m.constant(2.0)
    with m.GradientTape() as outer:
        with m.GradientTape() as inner:
            inner.watch(x)
            y = x * x
        g = inner.gradient(y, x)
    return outer.gradient(g, x)


def same_target_twice(m):
    x = m.Variable(2.0)
    with m.GradientTape() as t:
        y = x * 3.0
    return t.gradient([y, y], x)


def assign_inside_tape(m):
    x, y = m.Variable(2.0), m.Variable(5.0)
    with m.GradientTape() as t:
        x.assign(y * 2.0)
        z = x * x
    return t.gradient(z, [x, y])


def read_value_and_slices(m):
    x = m.Variable([[1.0, 2.0], [3.0, 4.0]])
    with m.GradientTape() as t:
        r = x.read_value()
        z = r * x[0] * x[1, 1]
    return t.gradient(z, [x, r])


def casts(m):
    x = m.constant([1.5, 2.5])
    with m.GradientTape() as t:
        t.watch(x)
        through_int = m.cast(m.cast(x, m.int32), m.float32) * x
        through_f64 = m.cast(x, m.float64) * 2.0
    return t.gradient([through_int, m.cast(through_f64, m.float32)], x)


def nothing_recorded(m):
    x = m.Variable(1.0)
    with m.GradientTape() as t:
        y = m.constant(2.0) * 3.0
    return t.gradient(y, x), t.watched_variables()


def half_and_complex(m):
    h = m.Variable(1.5, dtype=m.float16)
    c = m.Variable([1.0 + 2.0j], dtype=m.complex64)
    with m.GradientTape() as t:
        y = h * h
        z = c * c
    return t.gradient([y, z], [h, c])


PROGRAMS = [var_square, watch_constant, watch_nested_structure, sources_single_list_tuple_dict,
            list_targets_summed, nested_targets_summed, non_scalar_target_summed,
            output_gradients, intermediate_tensors, unconnected, integer_source_gives_none,
            integer_target_gives_none, stop_recording, reset_inside, no_auto_watch,
            non_trainable_not_watched, target_is_source, repeated_source, persistent_twice,
            broadcasting, float64_and_neg, acceleration, third_derivative,
            persistent_gradient_inside_context,
            non_persistent_gradient_inside_context_stops_recording, reentered_tape_is_fresh,
            stop_gradient, custom_gradient_program, outer_tape_not_watching,
            same_target_twice, assign_inside_tape, read_value_and_slices, casts,
            nothing_recorded, half_and_complex]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
def test_program_matches_tf(realtf, program):
    assert_same_grads(program(tf), program(realtf))


def test_acceleration_is_9_8():
    speed, accel = acceleration(tf)
    assert float(accel) == pytest.approx(9.8)
    assert float(speed) == pytest.approx(29.4)


def test_watched_variables_in_construction_order(realtf):
    def prog(m):
        a, b, c = m.Variable(1.0, name="a"), m.Variable(2.0, name="b"), m.Variable(3.0, name="c")
        with m.GradientTape() as t:
            t.watch({"x": [c, a]})
            y = b * a
        with m.GradientTape() as t2:
            pass
        return [v.name for v in t.watched_variables()], t2.watched_variables()
    assert prog(tf) == prog(realtf)


# -- errors, with TF's classes and messages --------------------------------------------------

def second_call(m):
    x = m.Variable(1.0)
    with m.GradientTape() as t:
        y = x * x
    t.gradient(y, x)
    t.gradient(y, x)


def reenter(m):
    t = m.GradientTape()
    with t:
        with t:
            pass


def stop_recording_unused(m):
    with m.GradientTape().stop_recording():
        pass


def stop_recording_outside(m):
    t = m.GradientTape()
    with t:
        pass
    with t.stop_recording():
        pass


def reset_outside(m):
    t = m.GradientTape()
    with t:
        pass
    t.reset()


def watch_python_float(m):
    with m.GradientTape() as t:
        t.watch(3.0)


def watch_string_in_list(m):
    with m.GradientTape() as t:
        t.watch([m.constant(1.0), "a"])


def unknown_unconnected(m):
    x = m.Variable(1.0)
    with m.GradientTape() as t:
        y = x * 2.0
    t.gradient(y, x, unconnected_gradients="foo")


def none_in_output_gradients(m):
    x = m.Variable(1.0)
    with m.GradientTape() as t:
        y, z = x * 2.0, x * 3.0
    t.gradient([y, z], x, output_gradients=[1.0, None])


def python_output_gradient_is_float32(m):
    x = m.Variable([1.0, 2.0], dtype=m.float64)
    with m.GradientTape() as t:
        y = x * x
    t.gradient(y, x, output_gradients=[[1.0, 2.0]])


def target_none(m):
    x = m.Variable(1.0)
    with m.GradientTape() as t:
        x * 2.0
    t.gradient(None, x)


def jacobian_without_pfor(m):
    x = m.constant([1.0, 2.0])
    with m.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.jacobian(y, x, experimental_use_pfor=False)


def jacobian_twice(m):
    x = m.constant([1.0, 2.0])
    with m.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.jacobian(y, x)
    t.jacobian(y, x)


def batch_jacobian_rank(m):
    x = m.constant([1.0, 2.0])
    with m.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.batch_jacobian(y, x)


def batch_jacobian_batch_mismatch(m):
    x = m.constant([[1.0, 2.0]])
    with m.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.batch_jacobian(y, m.zeros_like(m.constant([[1.0], [2.0], [3.0]])))


ERRORS = [second_call, reenter, stop_recording_unused, stop_recording_outside, reset_outside,
          watch_python_float, watch_string_in_list, unknown_unconnected, target_none,
          none_in_output_gradients,
          python_output_gradient_is_float32,
          jacobian_without_pfor, jacobian_twice, batch_jacobian_rank,
          batch_jacobian_batch_mismatch]


@pytest.mark.parametrize("program", ERRORS, ids=lambda p: p.__name__)
def test_error_matches_tf(realtf, program):
    theirs = error_of(lambda: program(realtf))
    assert theirs is not None
    assert error_of(lambda: program(tf)) == theirs


# -- warnings, through the `tensorflow` logger as TF prints them -----------------------------

@pytest.fixture
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(logs, "_warned", {})


def test_integer_watch_warns_like_tf(caplog, fresh_warnings):
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        with tf.GradientTape() as t:
            t.watch(tf.constant(3))
    assert [r.getMessage() for r in caplog.records] == [
        "The dtype of the watched tensor must be floating (e.g. tf.float32), got tf.int32"]


def test_persistent_gradient_inside_context_warns_once(caplog, fresh_warnings):
    x = tf.Variable(1.0)
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        with tf.GradientTape(persistent=True) as t:
            y = x * x
            t.gradient(y, x)
            t.gradient(y, x)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1
    assert messages[0].startswith("Calling GradientTape.gradient on a persistent tape inside "
                                  "its context is significantly less efficient")


# -- what is recorded ------------------------------------------------------------------------

def test_unwatched_ops_are_not_recorded():
    a = tf.constant([1.0, 2.0])
    with tf.GradientTape() as t:
        b = a * a + 1.0
        n_before = len(t._nodes)
        t.watch(b)
        c = b * 2.0
    assert n_before == 0
    assert len(t._nodes) == 1
    assert t.gradient(c, a) is None


def test_ops_record_only_under_an_active_tape(monkeypatch):
    from tapeflow._core import dispatch
    calls = []
    real_record = tf.GradientTape.record_op
    monkeypatch.setattr(tf.GradientTape, "record_op",
                        lambda self, op, *a: (calls.append(op.name), real_record(self, op, *a)))
    x = tf.Variable([1.0, 2.0])
    y = x * 2.0 + 1.0
    assert calls == [] and dispatch.state.interpreter is dispatch.EAGER
    with tf.GradientTape() as t:
        y = x * 2.0
    assert calls == ["Mul"]
    assert dispatch.state.interpreter is dispatch.EAGER and dispatch.recorders() == []
    assert t.gradient(y, x).numpy().tolist() == [2.0, 2.0]


def test_gradient_skips_ops_off_the_path():
    # An op with no gradient function that the sources do not feed must not be differentiated.
    orphan = _op.Op("NoGradientForTest")
    x, z = tf.constant(2.0), tf.constant(5.0)
    with tf.GradientTape() as t:
        t.watch([x, z])
        _op.execute(orphan, lambda u: u * 2, (z,))
        y = x * x
    assert float(t.gradient(y, x)) == 4.0


def test_namespaces(realtf):
    assert tf.autodiff.GradientTape is tf.GradientTape
    assert tf.UnconnectedGradients.ZERO.value == realtf.UnconnectedGradients.ZERO.value
    assert [e.value for e in tf.UnconnectedGradients] == \
        [e.value for e in realtf.UnconnectedGradients]
