"""Optimizers against real Keras 3: same initial weights and gradients in, same weights and
slot variables out after a few steps, for each optimizer and option."""
import warnings

import numpy as np
import pytest

import tapeflow as tf
from tapeflow import keras
from tests.parity import assert_same

SHAPES = [(6, 4), (4,), (4, 3), (3,)]  # a small MLP: kernel, bias, kernel, bias

CASES = [
    ("SGD", {}),
    ("SGD", {"momentum": 0.9}),
    ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("SGD", {"learning_rate": 0.1, "weight_decay": 0.01}),
    ("Adam", {}),
    ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
    ("Adam", {"beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-3}),
    ("AdamW", {"learning_rate": 0.01}),
    ("RMSprop", {}),
    ("RMSprop", {"momentum": 0.5, "centered": True}),
    ("RMSprop", {"rho": 0.8, "momentum": 0.9}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Nadam", {}),
    ("Nadam", {"learning_rate": 0.01, "weight_decay": 0.1}),
    ("Adamax", {"learning_rate": 0.01}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Lion", {"learning_rate": 0.01, "weight_decay": 0.1}),
    ("Ftrl", {}),
    ("Ftrl", {"learning_rate": 0.05, "learning_rate_power": -0.7,
              "initial_accumulator_value": 0.5, "l1_regularization_strength": 0.01,
              "l2_regularization_strength": 0.02, "l2_shrinkage_regularization_strength": 0.03,
              "beta": 0.5}),
    ("Adafactor", {}),
    ("Adafactor", {"learning_rate": 0.05, "relative_step": False, "beta_2_decay": -0.5,
                   "epsilon_2": 1e-2, "clip_threshold": 0.5}),
]

CLIP_CASES = [
    ("Adam", {"clipnorm": 0.5}),
    ("SGD", {"global_clipnorm": 0.5}),
    ("RMSprop", {"clipvalue": 0.1}),
    ("Adam", {"loss_scale_factor": 4.0}),
    ("SGD", {"use_ema": True, "ema_momentum": 0.9}),
    ("Adam", {"use_ema": True, "ema_overwrite_frequency": 2}),
]


def _data(seed, steps=4):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(steps)]
    return init, grads


def _run(module, opt, init, grads):
    variables = [module.Variable(w) for w in init]
    for step in grads:
        opt.apply_gradients(zip([module.constant(g) for g in step], variables))
    return variables


def _check(name, kwargs, realtf, make_lr=None):
    init, grads = _data(len(name) + len(kwargs))
    kw_ours, kw_theirs = dict(kwargs), dict(kwargs)
    if make_lr is not None:
        kw_ours["learning_rate"] = make_lr(keras)
        kw_theirs["learning_rate"] = make_lr(realtf.keras)
    ours_opt = getattr(keras.optimizers, name)(**kw_ours)
    theirs_opt = getattr(realtf.keras.optimizers, name)(**kw_theirs)
    ours = _run(tf, ours_opt, init, grads)
    theirs = _run(realtf, theirs_opt, init, grads)
    for a, b in zip(ours, theirs):
        assert_same(a.numpy(), b.numpy(), rtol=2e-6, atol=1e-7)
    assert len(ours_opt.variables) == len(theirs_opt.variables)
    for a, b in zip(ours_opt.variables, theirs_opt.variables):
        assert_same(np.asarray(a.numpy()), np.asarray(b.numpy()), rtol=2e-6, atol=1e-7)
    assert int(ours_opt.iterations.numpy()) == len(grads)


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_updates_match_keras(realtf, name, kwargs):
    _check(name, kwargs, realtf)


@pytest.mark.parametrize("name,kwargs", CLIP_CASES, ids=[f"{n}-{k}" for n, k in CLIP_CASES])
def test_clipping_matches_keras(realtf, name, kwargs):
    _check(name, kwargs, realtf)


SCHEDULES = {
    "exponential": lambda k: k.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5),
    "exponential_staircase": lambda k: k.optimizers.schedules.ExponentialDecay(
        0.1, 2, 0.5, staircase=True),
    "piecewise": lambda k: k.optimizers.schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.05,
                                                                              0.01]),
    "cosine": lambda k: k.optimizers.schedules.CosineDecay(0.1, 3, alpha=0.1),
    "cosine_warmup": lambda k: k.optimizers.schedules.CosineDecay(
        0.0, 3, warmup_target=0.1, warmup_steps=2),
    "inverse_time": lambda k: k.optimizers.schedules.InverseTimeDecay(0.1, 1, 0.5),
    "polynomial": lambda k: k.optimizers.schedules.PolynomialDecay(0.1, 3, 0.01, power=2.0),
    "polynomial_cycle": lambda k: k.optimizers.schedules.PolynomialDecay(0.1, 2, cycle=True),
    "cosine_restarts": lambda k: k.optimizers.schedules.CosineDecayRestarts(0.1, 2,
                                                                            m_mul=0.5),
    "cosine_restarts_t1": lambda k: k.optimizers.schedules.CosineDecayRestarts(
        0.1, 2, t_mul=1.0, alpha=0.1),
}


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_schedules_match_keras(realtf, schedule):
    ours, theirs = SCHEDULES[schedule](keras), SCHEDULES[schedule](realtf.keras)
    for step in range(7):
        assert_same(ours(step), theirs(step))
    assert ours.get_config() == theirs.get_config()
    _check("SGD", {}, realtf, make_lr=SCHEDULES[schedule])


def test_scheduled_optimizer_serializes(realtf):
    opt = keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5))
    ref = realtf.keras.optimizers.Adam(
        realtf.keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5))
    ours, theirs = keras.optimizers.serialize(opt), realtf.keras.optimizers.serialize(ref)
    theirs["config"]["name"] = ours["config"]["name"]
    assert ours == theirs
    again = keras.optimizers.deserialize(ours)
    assert isinstance(again.learning_rate, tf.Tensor)
    assert isinstance(again._learning_rate, keras.optimizers.schedules.ExponentialDecay)


def test_config_round_trip_and_get(realtf):
    for name, kwargs in CASES:
        ours = getattr(keras.optimizers, name)(**kwargs).get_config()
        theirs = getattr(realtf.keras.optimizers, name)(**kwargs).get_config()
        ours.pop("name"), theirs.pop("name")
        assert ours == theirs
    opt = keras.optimizers.get("rmsprop")
    assert isinstance(opt, keras.optimizers.RMSprop) and opt.name.startswith("rm_sprop")
    assert isinstance(keras.optimizers.get("Adam"), keras.optimizers.Adam)
    sgd = keras.optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.5}})
    assert float(sgd.learning_rate.numpy()) == 0.5
    again = keras.optimizers.SGD.from_config(sgd.get_config())
    assert again.get_config() == sgd.get_config()
    for bad in ("foo", 3):
        with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
            keras.optimizers.get(bad)


def test_missing_gradients_warn_and_none_at_all_raises():
    v, b = tf.Variable([1.0, 2.0]), tf.Variable(1.0, name="b")
    opt = keras.optimizers.SGD(0.1)
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['b:0'\]"):
        opt.apply_gradients([(tf.constant([1.0, 1.0]), v), (None, b)])
    np.testing.assert_allclose(v.numpy(), [0.9, 1.9], rtol=1e-6)
    assert float(b.numpy()) == 1.0 and int(opt.iterations.numpy()) == 1
    with pytest.raises(ValueError, match="No gradients provided for any variable."):
        opt.apply_gradients([(None, v)])


def test_unknown_variable_and_bad_arguments():
    opt = keras.optimizers.Adam()
    opt.apply_gradients([(tf.constant(1.0), tf.Variable(1.0))])
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply_gradients([(tf.constant(1.0), tf.Variable(2.0))])
    with pytest.raises(ValueError, match="Only one of `clipnorm`"):
        keras.optimizers.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="Argument\\(s\\) not recognized"):
        keras.optimizers.SGD(foo=1)
    with pytest.raises(ValueError, match="`momentum` must be a float between"):
        keras.optimizers.SGD(momentum=2.0)
    with pytest.raises(ValueError, match="weight_decay=None"):
        keras.optimizers.AdamW(weight_decay=None)


def test_learning_rate_is_a_settable_variable():
    opt = keras.optimizers.SGD(0.1)
    assert isinstance(opt.learning_rate, tf.Variable)
    opt.learning_rate = 0.5
    v = tf.Variable(1.0)
    opt.apply_gradients([(tf.constant(1.0), v)])
    assert float(v.numpy()) == 0.5
    sched = keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5))
    with pytest.raises(TypeError, match="not settable"):
        sched.learning_rate = 0.1


def test_minimize_with_callable_loss():
    w = tf.Variable(3.0)
    opt = keras.optimizers.SGD(0.1)
    for _ in range(3):
        opt.minimize(lambda: w * w, [w])
    np.testing.assert_allclose(w.numpy(), 3.0 * 0.8 ** 3, rtol=1e-6)
    assert int(opt.iterations.numpy()) == 3


def test_custom_update_step_is_used():
    class Halve(keras.optimizers.Optimizer):
        def __init__(self):
            super().__init__(learning_rate=0.5)

        def update_step(self, gradient, variable, learning_rate):
            variable.assign_sub(gradient * tf.cast(learning_rate, variable.dtype))

    class MySGD(keras.optimizers.SGD):
        def update_step(self, gradient, variable, learning_rate):
            variable.assign(gradient)

    v = tf.Variable(2.0)
    opt = Halve()
    opt.apply_gradients([(tf.constant(2.0), v)])
    assert float(v.numpy()) == 1.0 and int(opt.iterations.numpy()) == 1
    MySGD().apply_gradients([(tf.constant(7.0), v)])
    assert float(v.numpy()) == 7.0


def test_builtin_update_step_alone_does_not_count_the_step():
    opt = keras.optimizers.Adam(0.1)
    v = tf.Variable([1.0])
    opt.build([v])
    opt.update_step(tf.constant([1.0]), v, 0.1)
    assert int(opt.iterations.numpy()) == 0
    np.testing.assert_allclose(v.numpy(), [0.9], rtol=1e-5)


def test_constraint_applied_after_update():
    v = tf.Variable([1.0, -1.0], constraint=lambda x: x * 0.0 + 5.0)
    keras.optimizers.SGD(0.1).apply_gradients([(tf.constant([1.0, 1.0]), v)])
    np.testing.assert_allclose(v.numpy(), [5.0, 5.0])


def test_float64_variables(realtf):
    init = [np.linspace(-1, 1, 5)]
    grads = [[np.linspace(0.5, -0.5, 5)] for _ in range(3)]
    for name in ("SGD", "Adam", "Nadam", "RMSprop", "Adagrad", "Adamax", "Adadelta", "Lion",
                 "Ftrl", "Adafactor"):
        ours = _run(tf, getattr(keras.optimizers, name)(0.1), init, grads)
        theirs = _run(realtf, getattr(realtf.keras.optimizers, name)(0.1), init, grads)
        assert_same(ours[0].numpy(), theirs[0].numpy(), rtol=1e-6, atol=1e-7)


def test_exclude_from_weight_decay():
    a, b = tf.Variable([1.0], name="kernel"), tf.Variable([1.0], name="bias")
    opt = keras.optimizers.SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.apply_gradients([(tf.constant([0.0]), a), (tf.constant([0.0]), b)])
    np.testing.assert_allclose([a.numpy()[0], b.numpy()[0]], [0.95, 1.0], rtol=1e-6)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Nadam"])
def test_traced_training_step_matches_eager(name, caplog):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((4, 3)).astype(np.float32)
    x = tf.constant(rng.standard_normal((8, 4)).astype(np.float32))
    y = tf.constant(rng.integers(0, 3, 8))

    def make():
        w, b = tf.Variable(w0), tf.Variable(np.zeros(3, np.float32))
        opt = getattr(keras.optimizers, name)(
            keras.optimizers.schedules.ExponentialDecay(0.05, 2, 0.5))
        opt.build([w, b])
        acc = keras.metrics.SparseCategoricalAccuracy()

        def step(x, y):
            with tf.GradientTape() as tape:
                logits = tf.matmul(x, w) + b
                loss = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
                loss = tf.reduce_mean(loss)
            opt.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b]))
            acc.update_state(y, logits)
            return loss
        return w, opt, acc, step

    w1, o1, a1, eager = make()
    w2, o2, a2, step = make()
    traced = tf.function(step)
    with caplog.at_level("WARNING"):
        for _ in range(4):
            assert_same(traced(x, y), eager(x, y))
    assert "cannot be traced" not in caplog.text
    assert_same(w2.numpy(), w1.numpy())
    assert int(o2.iterations.numpy()) == 4
    assert_same(a2.result(), a1.result())


def test_optimizer_variables_have_keras_paths():
    opt = keras.optimizers.Adam(name="adam_x")
    v = keras.Variable(np.ones(2, np.float32), name="kernel", path="dense/kernel")
    opt.build([v])
    assert [x.path for x in opt.variables] == ["adam_x/iteration", "adam_x/learning_rate",
                                               "adam_x/dense_kernel_momentum",
                                               "adam_x/dense_kernel_velocity"]
    assert repr(opt.iterations).startswith("<Variable path=adam_x/iteration, shape=(), "
                                           "dtype=int64, value=0>")
