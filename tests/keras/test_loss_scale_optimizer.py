"""keras.optimizers.LossScaleOptimizer against real Keras 3: skipped steps on non-finite
gradients, the scale's halving and doubling, eagerly, in tf.function and in `fit`; its
arguments, errors and config."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow import keras
from tests.parity import error_of


def _grads():
    rng = np.random.default_rng(0)
    steps = []
    for i in range(7):
        g1 = rng.standard_normal((3, 2)).astype(np.float32)
        g2 = rng.standard_normal(2).astype(np.float32)
        if i == 2:
            g1[0, 0] = np.inf
        if i == 4:
            g2[1] = np.nan
        steps.append((g1, g2))
    return steps


def _run(module, traced):
    k = module.keras
    v = module.Variable(np.ones((3, 2), np.float32))
    b = module.Variable(np.zeros(2, np.float32))
    opt = k.optimizers.LossScaleOptimizer(k.optimizers.Adam(0.1), initial_scale=4.0,
                                          dynamic_growth_steps=2)

    def step(g1, g2):
        opt.apply_gradients([(g1, v), (g2, b)])
    run = module.function(step) if traced else step
    scales = []
    for g1, g2 in _grads():
        run(module.constant(g1), module.constant(g2))
        scales.append(float(opt.dynamic_scale.numpy()))
    return [np.asarray(x.numpy()) for x in [v, b] + opt.variables], scales, opt


@pytest.mark.parametrize("traced", [False, True], ids=["eager", "function"])
def test_steps_match_keras(realtf, traced):
    ours, our_scales, opt = _run(tf, traced)
    theirs, their_scales, ref = _run(realtf, True)
    assert our_scales == their_scales == [4.0, 8.0, 4.0, 4.0, 2.0, 2.0, 4.0]
    assert [v.path for v in opt.variables[:4]] == [v.path for v in ref.variables[:4]]
    assert opt.variables[4:] == opt.inner_optimizer.variables
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert int(opt.iterations.numpy()) == 5  # the inner optimizer's: two steps were skipped


@pytest.mark.parametrize("inner", ["sgd", "adafactor"])
def test_fit_matches_keras(realtf, inner):
    """A scale so large that the first scaled losses overflow: those steps are skipped."""
    def fit(k):
        model = k.Sequential([k.Input((4,)), k.layers.Dense(3)])
        model.set_weights([np.full((4, 3), 0.1, np.float32), np.zeros(3, np.float32)])
        opt = k.optimizers.LossScaleOptimizer(k.optimizers.get(inner), initial_scale=2.0 ** 127,
                                              dynamic_growth_steps=3)
        model.compile(opt, "mse")
        x = np.linspace(0, 1, 32, dtype=np.float32).reshape(8, 4)
        h = model.fit(x, np.full((8, 3), 100.0, np.float32), batch_size=2, epochs=2,
                      shuffle=False, verbose=0)
        return h.history["loss"], model.get_weights(), opt
    ours, theirs = fit(keras), fit(realtf.keras)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert float(ours[2].dynamic_scale.numpy()) == float(theirs[2].dynamic_scale.numpy()) < \
        2.0 ** 127
    assert 0 < int(ours[2].iterations.numpy()) == int(theirs[2].iterations.numpy()) < 8


def test_loss_scale_factor_in_fit_matches_keras(realtf):
    def fit(k):
        model = k.Sequential([k.Input((2,)), k.layers.Dense(1)])
        model.set_weights([np.full((2, 1), 0.5, np.float32), np.zeros(1, np.float32)])
        model.compile(k.optimizers.SGD(0.1, loss_scale_factor=1024.0), "mse")
        model.fit(np.eye(2, dtype=np.float32), np.ones((2, 1), np.float32), epochs=3,
                  verbose=0)
        return model.get_weights()
    for a, b in zip(fit(keras), fit(realtf.keras)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_scale_loss_and_what_it_forwards():
    inner = keras.optimizers.SGD(0.5, loss_scale_factor=3.0)
    opt = keras.optimizers.LossScaleOptimizer(inner, initial_scale=8.0)
    assert inner.loss_scale_factor is None  # the wrapper owns the scaling
    assert float(opt.scale_loss(tf.constant(2.0))) == 16.0
    v = tf.Variable([1.0, 2.0])
    opt.apply_gradients([(tf.constant([8.0, 8.0]), v)])
    np.testing.assert_array_equal(v.numpy(), [0.5, 1.5])
    assert float(opt.scale_loss(tf.constant(2.0))) == 16.0
    assert opt.learning_rate is inner.learning_rate
    opt.learning_rate = 0.25
    assert float(inner.learning_rate.numpy()) == 0.25
    assert opt.iterations is inner.iterations and int(opt.iterations.numpy()) == 1
    assert opt.check_finite([tf.constant([1.0]), None]).numpy()
    assert not opt.check_finite([tf.constant([1.0, np.nan])]).numpy()


def test_config_matches_keras(realtf):
    ours = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.01), initial_scale=8.0,
                                               dynamic_growth_steps=10, name="lso")
    theirs = realtf.keras.optimizers.LossScaleOptimizer(
        realtf.keras.optimizers.Adam(0.01), initial_scale=8.0, dynamic_growth_steps=10,
        name="lso")
    a, b = keras.optimizers.serialize(ours), realtf.keras.optimizers.serialize(theirs)
    a["config"]["inner_optimizer"]["config"].pop("name")
    b["config"]["inner_optimizer"]["config"].pop("name")
    assert a == b
    again = keras.optimizers.deserialize(keras.optimizers.serialize(ours))
    assert isinstance(again, keras.optimizers.LossScaleOptimizer)
    assert isinstance(again.inner_optimizer, keras.optimizers.Adam)
    assert again.get_config() == ours.get_config()


@pytest.mark.parametrize("kwargs", [{"dynamic": False}, {"clipnorm": 1.0},
                                    {"use_ema": True}, {"foo": 1, "bar": 2}])
def test_argument_errors_match_keras(realtf, kwargs):
    ours = error_of(lambda: keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(),
                                                                **kwargs))
    theirs = error_of(lambda: realtf.keras.optimizers.LossScaleOptimizer(
        realtf.keras.optimizers.SGD(), **kwargs))
    assert ours == theirs and ours[0] == "ValueError"
    # The base optimizer's arguments at their defaults are accepted, as in Keras.
    keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(), clipnorm=None, use_ema=False)
