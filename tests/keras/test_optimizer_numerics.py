"""Every fused optimizer against real Keras 3 at the ulp level, on float32 and float64.

`test_one_step_error_in_ulps`: from the same state (variables and every slot copied from
Keras's optimizer, which also checks that the slot lists line up), one step of each; the
difference is measured in ulps of the largest magnitude of each result tensor. The fused ops
perform Keras's operations in Keras's order, so the basic IEEE operations (+ - * / max sign)
round identically; the differences come from torch's `sqrt` and `pow`, which are within one
ulp but not always correctly rounded (TF's `sqrt` is), and from reductions summing in another
order (Adafactor). Where a result cancels (a difference of square roots in Ftrl, `v - avg^2`
in centered RMSprop, Adadelta's chained roots), those one-ulp differences show as a few ulps
of the result's scale, and as hundreds in Ftrl with small gradients (`test_ftrl_cancellation`
shows Keras's result is as far from the exact one). The bounds below are the measured maxima,
rounded up to whole ulps (to hundreds for Ftrl's small gradients).

The other tests run several steps with weight decay, clipping, EMA and schedules, eagerly
and inside tf.function, where the whole update must be one op of the trace.
"""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow import keras

SHAPES = [(64, 32), (32,), (32, 10), (10,)]

# name, arguments, bound in ulps (of each tensor's largest magnitude) for float32, float64
ONE_STEP = [
    ("SGD", {"momentum": 0.9}, 0, 0),
    ("SGD", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}, 0, 0),
    ("Adam", {}, 1, 0),
    ("Adam", {"amsgrad": True}, 1, 0),
    ("AdamW", {}, 1, 1),
    ("Nadam", {}, 1, 1),
    ("Adamax", {"weight_decay": 0.1}, 0, 0),
    ("Lion", {"weight_decay": 0.1}, 0, 0),
    ("RMSprop", {}, 1, 1),
    ("RMSprop", {"momentum": 0.5, "centered": True}, 2, 2),
    ("Adagrad", {}, 1, 1),
    ("Adadelta", {"learning_rate": 1.0}, 5, 5),
    ("Ftrl", {}, 2, 2),
    ("Ftrl", {"clipnorm": 0.5}, 600, 600),  # small gradients: see test_ftrl_cancellation
    ("Ftrl", {"l1_regularization_strength": 0.01, "l2_regularization_strength": 0.1,
              "l2_shrinkage_regularization_strength": 0.1, "beta": 0.5,
              "learning_rate_power": -0.3}, 3, 2),
    ("Adafactor", {}, 3, 4),
    ("Adafactor", {"relative_step": False, "learning_rate": 0.1, "clip_threshold": 0.5}, 3, 4),
]


def _ordered(a):
    """Float bits as integers that order like the floats (so differences count ulps)."""
    bits, mask = (np.int32, 0x7fffffff) if a.dtype == np.float32 else \
        (np.int64, 0x7fffffffffffffff)
    i = np.ascontiguousarray(a).view(bits).astype(np.int64)
    return np.where(i < 0, -(i & mask), i)


def ulp_stats(ours, theirs):
    """(elements, bit-identical elements, largest difference in ulps of the element, largest
    difference in ulps of the tensor's largest magnitude)."""
    raw = np.abs(_ordered(ours) - _ordered(theirs))
    scale = np.spacing(np.abs(theirs).max()) if theirs.size else 1.0
    scaled = np.abs(ours.astype(np.float64) - theirs.astype(np.float64)).max() / scale \
        if theirs.size else 0.0
    return raw.size, int((raw == 0).sum()), int(raw.max(initial=0)), float(scaled)


def _pair(realtf, name, kwargs, dtype, seed=0):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    ours_vars = [tf.Variable(w) for w in init]
    their_vars = [realtf.Variable(w) for w in init]
    ours = getattr(keras.optimizers, name)(**kwargs)
    theirs = getattr(realtf.keras.optimizers, name)(**kwargs)
    ours.build(ours_vars)
    theirs.build(their_vars)
    return rng, ours, theirs, ours_vars, their_vars


def _values(variables):
    return [np.asarray(v.numpy()) for v in variables]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,kwargs,bound32,bound64", ONE_STEP,
                         ids=[f"{n}-{k}" for n, k, _, _ in ONE_STEP])
def test_one_step_error_in_ulps(realtf, name, kwargs, bound32, bound64, dtype):
    rng, ours, theirs, ours_vars, their_vars = _pair(realtf, name, kwargs, dtype)
    assert [(tuple(a.shape), a.dtype.name) for a in ours.variables] == \
        [(tuple(b.shape), b.dtype) for b in theirs.variables]
    worst = 0.0
    for _ in range(3):
        for a, b in zip(ours_vars + ours.variables, _values(their_vars + theirs.variables)):
            a.assign(b)
        grads = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
        ours.apply_gradients(zip([tf.constant(g) for g in grads], ours_vars))
        theirs.apply_gradients(zip([realtf.constant(g) for g in grads], their_vars))
        for a, b in zip(_values(ours_vars + ours.variables),
                        _values(their_vars + theirs.variables)):
            if a.dtype.kind != "f":
                np.testing.assert_array_equal(a, b)  # the step counter, Adafactor's int32s
                continue
            worst = max(worst, ulp_stats(a, b)[3])
    assert worst <= (bound32 if dtype == np.float32 else bound64)


# Several steps with the base optimizer's options; each optimizer meets each option.
OPTIONS = [
    {"weight_decay": 0.05, "clipnorm": 0.5},
    {"global_clipnorm": 0.7, "use_ema": True, "ema_momentum": 0.9},
    {"clipvalue": 0.2, "use_ema": True, "ema_overwrite_frequency": 2},
]
SCHEDULE = {"schedule": True}  # an ExponentialDecay learning rate
NAMES = [("SGD", {"momentum": 0.9}), ("Adam", {}), ("AdamW", {}), ("Nadam", {}),
         ("Adamax", {}), ("Lion", {}), ("RMSprop", {"centered": True}), ("Adagrad", {}),
         ("Adadelta", {"learning_rate": 1.0}), ("Ftrl", {"l1_regularization_strength": 0.01}),
         ("Adafactor", {})]
MULTI = [(n, {**k, **o}) for n, k in NAMES for o in OPTIONS + [SCHEDULE]]


def _make(module, name, kwargs):
    kwargs = dict(kwargs)
    if kwargs.pop("schedule", False):
        kwargs["learning_rate"] = module.keras.optimizers.schedules.ExponentialDecay(
            0.05, 2, 0.5)
    return getattr(module.keras.optimizers, name)(**kwargs)


def _steps(module, opt, init, grads, traced=False):
    variables = [module.Variable(w) for w in init]

    def step(*gs):
        opt.apply_gradients(zip(gs, variables))
    run = module.function(step) if traced else step
    for gs in grads:
        run(*[module.constant(g) for g in gs])
    return _values(variables), _values(opt.variables), run


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", MULTI, ids=[f"{n}-{k}" for n, k in MULTI])
def test_steps_with_options_match_keras(realtf, name, kwargs, dtype):
    rng = np.random.default_rng(1)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(4)]
    ours = _steps(tf, _make(tf, name, kwargs), init, grads)
    theirs = _steps(realtf, _make(realtf, name, kwargs), init, grads)
    for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        assert a.dtype == b.dtype and a.shape == b.shape
        _close(a, b, name)


def _close(ours, theirs, name):
    """Each element within `tol` of itself or of the tensor's largest magnitude (a few steps
    of one-ulp differences, where a result cancels). Ftrl's small-gradient cancellation makes
    those differences larger (`test_ftrl_cancellation`)."""
    tol = (1e-5 if name != "Ftrl" else 2e-4) if ours.dtype == np.float32 else \
        (1e-13 if name != "Ftrl" else 2e-12)
    np.testing.assert_allclose(ours, theirs, rtol=tol,
                               atol=tol * np.abs(theirs).max(initial=1.0))


@pytest.mark.parametrize("name,kwargs", NAMES, ids=[n for n, _ in NAMES])
def test_traced_step_is_one_fused_op_and_matches_eager(name, kwargs):
    rng = np.random.default_rng(2)
    init = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(3)]
    options = {"weight_decay": 0.01, "clipnorm": 1.0}
    eager = _steps(tf, _make(tf, name, {**kwargs, **options}), init, grads)
    traced = _steps(tf, _make(tf, name, {**kwargs, **options}), init, grads, traced=True)
    for a, b in zip(eager[0] + eager[1], traced[0] + traced[1]):
        np.testing.assert_array_equal(a, b)
    concrete = traced[2].get_concrete_function(*[tf.constant(g) for g in grads[0]])
    ops = [s.op.name for s in concrete.graph.steps if s.op is not None]
    assert sum(op.startswith("FusedApply") for op in ops) == 1, ops


@pytest.mark.parametrize("name", ["Adamax", "Adadelta", "Lion", "Ftrl", "Adafactor"])
def test_mixed_dtypes_update_each_group(realtf, name):
    rng = np.random.default_rng(3)
    init = [rng.standard_normal((5, 4)).astype(np.float32), rng.standard_normal(4),
            rng.standard_normal((2, 3, 4)).astype(np.float32), rng.standard_normal((3, 2))]
    grads = [[rng.standard_normal(w.shape).astype(w.dtype) for w in init] for _ in range(3)]
    ours = _steps(tf, _make(tf, name, {}), init, grads)
    theirs = _steps(realtf, _make(realtf, name, {}), init, grads)
    for a, b in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        assert a.dtype == b.dtype
        _close(a, b, name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_ftrl_cancellation(realtf, dtype):
    """With gradients small next to the accumulator, Ftrl's `sqrt(n + g^2) - sqrt(n)` cancels:
    the powers' one-ulp differences grow to hundreds of ulps of the result. Keras's own result
    is as far from the exact one: ours must be no farther from it than Keras's."""
    rng = np.random.default_rng(4)
    w = rng.standard_normal((64, 32)).astype(dtype)
    g = (rng.standard_normal((64, 32)) * 0.01).astype(dtype)
    ours, theirs = tf.Variable(w), realtf.Variable(w)
    keras.optimizers.Ftrl().apply_gradients([(tf.constant(g), ours)])
    realtf.keras.optimizers.Ftrl().apply_gradients([(realtf.constant(g), theirs)])
    # The same formula in exact-enough arithmetic (float64 for float32, long double where
    # NumPy has more than float64), from the same rounded inputs.
    wide = np.float64 if dtype == np.float32 else np.longdouble
    lr, n, g, w = (np.asarray(x, dtype).astype(wide) for x in (np.float32(0.001),
                                                                np.float32(0.1), g, w))
    n_new = n + g * g
    linear = g - ((np.sqrt(n_new) - np.sqrt(n)) / lr) * w
    exact = -linear / (np.sqrt(n_new) / lr)
    ours_err = np.abs(ours.numpy() - exact).max()
    keras_err = np.abs(theirs.numpy() - exact).max()
    assert ours_err <= 1.5 * keras_err
    assert keras_err > 100 * np.spacing(np.abs(exact).max().astype(dtype))  # it does cancel
